import { describe, expect, it } from "vitest";
import { DEMO_SENTENCES, runCli } from "../../src/cli/main.js";
import { io } from "./io.js";

describe("simdformer CLI", () => {
  it("translates the given text as one JSON line with stats and the build", async () => {
    const t = io();
    expect(await runCli(["--json", "--threads", "1", "I like deep learning"], t)).toBe(0);
    const lines = t.out.join("").trim().split("\n");
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]);
    expect(r).toMatchObject({ source: "I like deep learning", translation: "我喜欢深度学习", unknownWords: [], threads: 1 });
    expect(r.ids.length).toBe(7);
    expect(r.stats.generatedTokens).toBe(7);
    expect(r.stats.stopReason).toBe("eos");
    expect(r.build).toMatch(/^(relaxed|simd)/);
  });

  it("streams the demo sentences with speed figures, no colors off a TTY", async () => {
    const t = io();
    expect(await runCli(["--threads", "1", "--simd", "strict"], t)).toBe(0);
    const text = t.out.join("");
    for (const s of DEMO_SENTENCES) expect(text).toContain(s);
    expect(text).toContain("我喜欢深度学习");
    // The header and the speed figures go to stderr: stdout is only the translations.
    expect(t.err.join("")).toContain("build simd ·");
    expect(text).not.toContain("build simd");
    expect(text).not.toMatch(/tok\/s/);
    expect(t.err.join("").match(/decode [\d,]+ tok\/s/g)).toHaveLength(DEMO_SENTENCES.length);
    expect(text + t.err.join("")).not.toContain("\x1b[");
  });

  it("translates and generates nothing for an empty text", async () => {
    const t = io();
    expect(await runCli(["--json", "--threads", "1", ""], t)).toBe(0);
    expect(JSON.parse(t.out.join(""))).toMatchObject({ source: "", translation: "", ids: [], stats: { generatedTokens: 0, stopReason: "empty" } });
    const g = io();
    expect(await runCli(["generate", "--json", "--threads", "1", ""], g)).toBe(0);
    expect(JSON.parse(g.out.join(""))).toMatchObject({ prompt: "", text: "", stats: { generatedTokens: 0, stopReason: "empty" } });
    const s = io();
    expect(await runCli(["--threads", "1", ""], s)).toBe(0);
    expect(s.out.join("")).toMatch(/→ \n$/);
  });

  it("says which words it did not know", async () => {
    const t = io();
    expect(await runCli(["--threads", "1", "I like xylophones"], t)).toBe(0);
    expect(t.err.join("")).toMatch(/unknown word \(read as <unk>\): xylophones/);
    expect(t.out.join("")).not.toMatch(/unknown word/);
  });

  it("beam search gives the same translation on an easy sentence", async () => {
    const t = io();
    expect(await runCli(["--json", "--threads", "1", "--beam", "3", "we ate apples yesterday"], t)).toBe(0);
    expect(JSON.parse(t.out.join("")).translation).toBe("我们昨天吃了苹果");
  });

  it.each([
    [["--bogus"], 2, /Unknown option/],
    [["--threads", "x"], 2, /--threads/],
    [["--model", "/nonexistent/model.safetensors", "hi"], 1, /expected a readable file, found ENOENT/],
    [["generate"], 2, /expected a prompt/],
  ])("exits non-zero with a message for %j", async (argv, code, msg) => {
    const t = io();
    expect(await runCli(argv as string[], t)).toBe(code);
    expect(t.err.join("")).toMatch(msg);
  });

  it("a closed stdout (EPIPE) ends the run quietly with status 0; other write errors still fail", async () => {
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    for (const [argv, fine] of [[["--threads", "1", "I like deep learning"], 1], [["info", "--threads", "1"], 1], [["--help"], 0]] as const) {
      const t = io();
      let writes = 0;
      t.stdout.write = () => {
        if (++writes > fine) throw epipe; // the reader went away after `fine` writes
        return true;
      };
      expect(await runCli([...argv], t), argv.join(" ")).toBe(0);
      expect(t.err.join("")).not.toMatch(/EPIPE|error/);
    }
    const t = io();
    t.stdout.write = () => {
      throw Object.assign(new Error("write ENOSPC"), { code: "ENOSPC" });
    };
    expect(await runCli(["--threads", "1", "I like deep learning"], t)).toBe(1);
    expect(t.err.join("")).toMatch(/ENOSPC/);
  });

  it("prints usage for --help and the version for --version", async () => {
    const t = io();
    expect(await runCli(["--help"], t)).toBe(0);
    expect(t.out.join("")).toContain("Usage: simdformer");
    const v = io();
    expect(await runCli(["--version"], v)).toBe(0);
    expect(v.out.join("")).toBe("0.0.0-test\n");
  });

  it("info --json reports the features and the model config", async () => {
    const t = io();
    expect(await runCli(["info", "--json", "--threads", "1"], t)).toBe(0);
    const r = JSON.parse(t.out.join(""));
    expect(r.features.threads).toBe(1);
    expect(r.model).toMatchObject({ arch: "encoder-decoder", d_model: 128 });
  });

  it("bench --json times the kernels matching the filter", async () => {
    const t = io();
    expect(await runCli(["bench", "--json", "f32_add n=1"], t)).toBe(0);
    const rows = t.out.join("").trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const r of rows) expect(r).toMatchObject({ kernel: "f32_add", shape: "n=1" });
    expect(rows[0].stats.medianUs).toBeGreaterThan(0);
  });
});

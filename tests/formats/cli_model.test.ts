// The CLI's --model takes any format by path: a Hugging Face directory, a .gguf, a llama2.c .bin
// (with tokenizer.bin beside it); the same model gives the same text in each.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { createRuntime } from "../../src/index.js";
import { io } from "../cli/io.js";
import { FORMATS_DIR } from "./fixtures.js";

describe("simdformer generate --model <path>", () => {
  it("HF directory, GGUF file and llama2.c file give the same continuation", async () => {
    const texts: string[] = [];
    for (const p of ["llama", "llama.gguf", "llama2c/model.bin"]) {
      const t = io();
      // --stop 2: the formats' own stops differ (llama2.c also stops at BOS, see stop_ids.test.ts).
      const code = await runCli(["generate", "--json", "--threads", "1", "--model", new URL(p, FORMATS_DIR).pathname, "--max-tokens", "8", "--stop", "2", "the cat sat on"], t);
      expect(code, t.err.join("")).toBe(0);
      const r = JSON.parse(t.out.join("").trim());
      expect(r.prompt).toBe("the cat sat on");
      texts.push(r.text);
    }
    expect(texts[0].length).toBeGreaterThan(0);
    expect(texts[1]).toBe(texts[0]);
    expect(texts[2]).toBe(texts[0]);
  });

  it("stdout is exactly prompt + continuation, the first piece's space kept; the stats line goes to stderr", async () => {
    const model = new URL("llama2c/model.bin", FORMATS_DIR).pathname;
    const j = io();
    expect(await runCli(["generate", "--json", "--threads", "1", "--model", model, "--max-tokens", "6", "the cat sat on"], j)).toBe(0);
    const r = JSON.parse(j.out.join(""));
    const t = io();
    expect(await runCli(["generate", "--threads", "1", "--model", model, "--max-tokens", "6", "the cat sat on"], t)).toBe(0);
    expect(t.out.join("")).toBe(`the cat sat on${r.text}\n`);
    expect(t.err.join("")).toMatch(/prefill [\d,]+ tok\/s · decode [\d,-]+ tok\/s · first token/);
    // The continuation's text is the tokenizer's decode of prompt + generated minus the prompt's.
    const rt = await createRuntime({ threads: 1 });
    const tm = await rt.loadModel(model);
    const prompt = tm.tokenizer.encode("the cat sat on").ids;
    const full = (await tm.translate("the cat sat on", { maxNewTokens: 6 })).ids;
    const whole = tm.tokenizer.decode([1, ...prompt, ...full]);
    expect(r.text).toBe(whole.slice(tm.tokenizer.decode([1, ...prompt]).length));
    expect(r.text.length).toBeGreaterThan(0);
    tm.dispose();
    rt.dispose();
  });

  it("--max-positions counts the prompt (bos included), --max-tokens only new tokens; default stop ends at llama2.c's BOS", async () => {
    const model = new URL("llama2c/model.bin", FORMATS_DIR).pathname;
    const run = async (...flags: string[]) => {
      const t = io();
      expect(await runCli(["generate", "--json", "--threads", "1", "--model", model, ...flags, "the cat sat on"], t), t.err.join("")).toBe(0);
      return JSON.parse(t.out.join("")).stats;
    };
    // The prompt is bos + 6 tokens (ref.meta.llama.prompt): 9 positions leave 2 new tokens.
    expect(await run("--max-positions", "9", "--stop", "2")).toMatchObject({ generatedTokens: 2, stopReason: "max_tokens" });
    expect(await run("--max-positions", "20", "--max-tokens", "3", "--stop", "2")).toMatchObject({ generatedTokens: 3 });
    expect(await run("--max-tokens", "12")).toMatchObject({ generatedTokens: 4, stopReason: "stop" });
    const t = io();
    expect(await runCli(["generate", "--threads", "1", "--model", model, "--max-positions", "7", "the cat sat on"], t)).toBe(1);
    expect(t.err.join("")).toMatch(/maxPositions: expected more than the prompt's 7 tokens/);
  });

  it("--tokenizer PATH names a tokenizer file of any name; without it the error says to use it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "simdformer-tok-"));
    try {
      copyFileSync(new URL("llama2c/model.bin", FORMATS_DIR), join(dir, "stories.bin"));
      copyFileSync(new URL("llama2c/tokenizer.bin", FORMATS_DIR), join(dir, "tok351.bin"));
      const args = ["generate", "--json", "--threads", "1", "--model", join(dir, "stories.bin"), "--max-tokens", "4", "the cat sat on"];
      const missing = io();
      expect(await runCli(args, missing)).toBe(1);
      expect(missing.err.join("")).toMatch(/ModelFormatError: .*stories\.bin: tokenizer: expected .*--tokenizer PATH in the CLI/);
      const named = io();
      expect(await runCli([...args, "--tokenizer", join(dir, "tok351.bin")], named), named.err.join("")).toBe(0);
      const beside = io();
      expect(await runCli(["generate", "--json", "--threads", "1", "--model", new URL("llama2c/model.bin", FORMATS_DIR).pathname, "--max-tokens", "4", "the cat sat on"], beside)).toBe(0);
      expect(JSON.parse(named.out.join("")).text).toBe(JSON.parse(beside.out.join("")).text);
      // A tokenizer.json works the same way, found to be JSON by its contents.
      const hf = join(dir, "hf");
      mkdirSync(hf);
      for (const f of ["config.json", "model.safetensors"]) copyFileSync(new URL(`llama/${f}`, FORMATS_DIR), join(hf, f));
      copyFileSync(new URL("llama/tokenizer.json", FORMATS_DIR), join(dir, "spm.json"));
      const json = io();
      expect(await runCli(["generate", "--json", "--threads", "1", "--model", hf, "--tokenizer", join(dir, "spm.json"), "--max-tokens", "4", "--stop", "2", "the cat sat on"], json), json.err.join("")).toBe(0);
      expect(JSON.parse(json.out.join("")).text).toBe(JSON.parse(beside.out.join("")).text);
      // A broken tokenizer is reported under the path given, not the name it is read as.
      const badJson = join(dir, "vocab-v2.json");
      writeFileSync(badJson, JSON.stringify({ model: 7 }));
      const badJ = io();
      expect(await runCli(["generate", "--threads", "1", "--model", hf, "--tokenizer", badJson, "hi"], badJ)).toBe(1);
      expect(badJ.err.join("")).toMatch(/ModelFormatError: .*vocab-v2\.json: model: expected an object/);
      const badBin = join(dir, "vocab-v2.bin");
      writeFileSync(badBin, new Uint8Array([1, 2, 3]));
      const badB = io();
      expect(await runCli([...args, "--tokenizer", badBin], badB)).toBe(1);
      expect(badB.err.join("")).toMatch(/ModelFormatError: .*vocab-v2\.bin/);
      expect(badB.err.join("")).not.toMatch(/tokenizer\.bin/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a damaged or unknown file is reported as a ModelFormatError, exit code 1", async () => {
    const t = io();
    expect(await runCli(["generate", "--threads", "1", "--model", new URL("llama2c/tokenizer.bin", FORMATS_DIR).pathname, "hi"], t)).toBe(1);
    expect(t.err.join("")).toMatch(/ModelFormatError: tokenizer\.bin: format: expected GGUF/);
  });
});

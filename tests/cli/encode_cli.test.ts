// `simdformer embed | rerank | classify` on the encoder fixtures, with the fake io.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { parseCli } from "../../src/cli/args.js";
import { encoderPath } from "../encode/fixtures.js";
import { io } from "./io.js";

const bert = encoderPath("bert");
const base = ["--threads", "1", "--model"];
const withStdin = (t: ReturnType<typeof io>, text: string) => Object.assign(t, { stdin: { isTTY: false, text: async () => text } });

describe("simdformer embed / rerank / classify", () => {
  it("embed --jsonl: one object per text, unit vectors by the folder's Normalize module", async () => {
    const t = io();
    expect(await runCli(["embed", ...base, bert, "--jsonl", "the cat sat", "the dog"], t)).toBe(0);
    const rows = t.out.join("").trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.map((r) => r.text)).toEqual(["the cat sat", "the dog"]);
    expect(rows[0].embedding).toHaveLength(32);
    expect(Math.hypot(...rows[0].embedding)).toBeCloseTo(1, 5);
    expect(rows[0].tokens).toBe(5);
  });

  it("embed --json reads stdin lines; one document with the settings; equal to the arguments' run", async () => {
    const t = withStdin(io(), "the cat sat\n\nthe dog\r\n");
    expect(await runCli(["embed", ...base, bert, "--json", "--pooling", "cls", "--no-normalize"], t)).toBe(0);
    const doc = JSON.parse(t.out.join(""));
    expect(doc).toMatchObject({ kind: "embedding", dims: 32, pooling: "cls", normalize: false });
    expect(doc.embeddings.map((e: { text: string }) => e.text)).toEqual(["the cat sat", "the dog"]);
    const u = io();
    expect(await runCli(["embed", ...base, bert, "--json", "--pooling", "cls", "--no-normalize", "the cat sat", "the dog"], u)).toBe(0);
    expect(JSON.parse(u.out.join("")).embeddings).toEqual(doc.embeddings);
  });

  it("embed --file on a TTY draws a progress bar on stderr; batches change no number", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-embed-"));
    const file = join(dir, "texts.txt");
    writeFileSync(file, Array.from({ length: 7 }, (_, i) => `the cat sat ${"on the mat ".repeat(i)}`).join("\n"));
    const t = io(true);
    expect(await runCli(["embed", ...base, bert, "--file", file, "--batch-size", "2", "--jsonl"], t)).toBe(0);
    expect(t.err.join("")).toMatch(/embedding .*100%/);
    const u = io();
    expect(await runCli(["embed", ...base, bert, "--file", file, "--jsonl"], u)).toBe(0);
    expect(u.out.join("")).toBe(t.out.join(""));
    expect(u.err.join("")).toBe("");
    expect(u.out.join("").trim().split("\n")).toHaveLength(7);
  });

  it("human output; a too long text fails with the ShapeError unless --truncate", async () => {
    const t = io();
    expect(await runCli(["embed", ...base, bert, "the cat"], t)).toBe(0);
    expect(t.out.join("")).toMatch(/the cat \(4 tokens\) \[-?\d\.\d{4}, .*, …\] 32 dims/);
    const long = Array.from({ length: 40 }, () => "cat").join(" ");
    const u = io();
    expect(await runCli(["embed", ...base, bert, long], u)).toBe(1);
    expect(u.err.join("")).toMatch(/ShapeError: .*at most 32 tokens/);
    expect(await runCli(["embed", ...base, bert, "--truncate", long], io())).toBe(0);
  });

  it("rerank orders passages by the cross-encoder, best first", async () => {
    const t = io();
    expect(await runCli(["rerank", ...base, encoderPath("cross"), "--json", "the cat", "the dog walks", "the cat sat on the mat.", "a river"], t)).toBe(0);
    const doc = JSON.parse(t.out.join(""));
    expect(doc.query).toBe("the cat");
    expect(doc.results.map((r: { index: number }) => r.index).sort()).toEqual([0, 1, 2]);
    const scores = doc.results.map((r: { score: number }) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("classify prints the best label with its score; rerank on a classifier is an error", async () => {
    const t = io();
    expect(await runCli(["classify", ...base, encoderPath("classifier"), "--jsonl", "the cat sat", "the dog"], t)).toBe(0);
    const rows = t.out.join("").trim().split("\n").map((l) => JSON.parse(l));
    for (const r of rows) {
      expect(["negative", "neutral", "positive"]).toContain(r.label);
      expect(r.labels).toHaveLength(3);
      expect(r.score).toBe(r.labels[0].score);
    }
    const u = io();
    expect(await runCli(["rerank", ...base, encoderPath("classifier"), "q", "p"], u)).toBe(1);
    expect(u.err.join("")).toMatch(/UnsupportedFeatureError: rerank: expected a cross-encoder/);
  });

  it("usage errors: no --model, no query, no texts, conflicting flags", async () => {
    expect(() => parseCli(["embed", "x"])).toThrow(/expected --model/);
    expect(() => parseCli(["rerank", "--model", "m"])).toThrow(/expected a query/);
    expect(() => parseCli(["embed", "--model", "m", "--json", "--jsonl"])).toThrow(/one of them/);
    expect(() => parseCli(["embed", "--model", "m", "--pooling", "max"])).toThrow(/mean\|cls\|last/);
    const t = io();
    expect(await runCli(["embed", ...base, bert], t)).toBe(1);
    expect(t.err.join("")).toMatch(/expected texts as arguments, --file or lines on stdin/);
  });
});

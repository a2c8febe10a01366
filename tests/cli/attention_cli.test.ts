// `simdformer --attention FILE`: the decoder's cross-attention of the translation as an SVG file.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { io } from "./io.js";
import { parseXml } from "../viz/xml.js";

const dir = mkdtempSync(join(tmpdir(), "simdformer-attn-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cells = (svg: string) => parseXml(svg).filter((e) => e.name === "rect" && e.attrs.class === "cell").length;

describe("CLI --attention", () => {
  it("writes the cross-attention heatmap: 4 heads + mean, generated chars x source words", async () => {
    const file = join(dir, "attn.svg");
    const t = io();
    expect(await runCli(["--threads", "1", "--attention", file, "I like deep learning"], t)).toBe(0);
    expect(t.out.join("")).toContain("我喜欢深度学习");
    expect(t.err.join("")).toContain(`attention heatmap written to ${file}`);
    const svg = readFileSync(file, "utf8");
    const els = parseXml(svg);
    // 7 characters + <eos> rows, "i like deep learning <eos>" columns, 5 panels.
    expect(cells(svg)).toBe(5 * 8 * 5);
    const rows = els.filter((e) => e.attrs.class === "row-label").slice(0, 8).map((e) => e.text);
    expect(rows).toEqual(["我", "喜", "欢", "深", "度", "学", "习", "&lt;eos&gt;"]);
    expect(els.filter((e) => e.attrs.class === "col-label").slice(0, 5).map((e) => e.text)).toEqual(["i", "like", "deep", "learning", "&lt;eos&gt;"]);
    expect(els.find((e) => e.attrs.class === "title")!.text).toContain("mean of 2 layers");
  });

  it("--attention-layer and --attention-head pick one panel", async () => {
    const file = join(dir, "one.svg");
    expect(await runCli(["--threads", "1", "--attention", file, "--attention-layer", "1", "--attention-head", "2", "I like deep learning"], io())).toBe(0);
    const svg = readFileSync(file, "utf8");
    expect(cells(svg)).toBe(8 * 5);
    const els = parseXml(svg);
    expect(els.find((e) => e.attrs.class === "panel-title")!.text).toBe("head 2");
    expect(els.find((e) => e.attrs.class === "title")!.text).toContain("layer 1");
  });

  it.each([
    [["--attention-layer", "2"], /--attention-layer: expected a decoder layer 0\.\.1, found 2/],
    [["--attention-head", "4"], /--attention-head: expected a head 0\.\.3, found 4/],
  ])("rejects %j for the default model with exit code 1", async (flags, msg) => {
    const file = join(dir, "bad.svg");
    const t = io();
    expect(await runCli(["--threads", "1", "--attention", file, ...flags, "I like deep learning"], t)).toBe(1);
    expect(t.err.join("")).toMatch(msg);
    expect(t.err.join("")).toContain("ArgumentError");
    expect(t.out.join("")).not.toContain("我喜欢");
    expect(() => readFileSync(file)).toThrow();
  });
});

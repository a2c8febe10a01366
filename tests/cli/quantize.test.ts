// `simdformer quantize in out --type q8_0|q4_0` on the default translator, into a temp dir.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { io } from "./io.js";
import { parseSafetensors } from "../../src/formats/safetensors.js";

const model = new URL("../../models/default/translator.safetensors", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "simdformer-quantize-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("simdformer quantize", () => {
  it.each(["q8_0", "q4_0"] as const)("stores the linear weights as %s and nothing else, and the result translates", async (type) => {
    const out = join(dir, `t.${type}.safetensors`);
    const t = io();
    expect(await runCli(["quantize", model, out, "--type", type, "--json"], t)).toBe(0);
    const report = JSON.parse(t.out.join(""));
    expect(report.outputBytes).toBe(statSync(out).size);
    const src = parseSafetensors(new Uint8Array(readFileSync(model)));
    const dst = parseSafetensors(new Uint8Array(readFileSync(out)));
    expect([...dst.tensors.keys()]).toEqual([...src.tensors.keys()]);
    for (const [name, info] of dst.tensors) {
      const linear = /(in_proj_weight|out_proj\.weight|linear[12]\.weight|generator\.weight)$/.test(name);
      expect(info.dtype, name).toBe(linear ? type.toUpperCase() : src.info(name).dtype);
      expect(info.shape, name).toEqual(src.info(name).shape);
    }
    expect(report.quantized.length).toBe([...dst.tensors.values()].filter((i) => i.dtype === type.toUpperCase()).length);
    // F16 in, and q8_0 is 34/64 of F16 per weight: the file shrinks, q4_0 more.
    expect(report.outputBytes).toBeLessThan(report.inputBytes * (type === "q8_0" ? 0.8 : 0.6));
    const tr = io();
    expect(await runCli(["--threads", "1", "--model", out, "--json", "I like deep learning"], tr)).toBe(0);
    expect(JSON.parse(tr.out.join("")).translation.length).toBeGreaterThan(0);
  });

  it("prints sizes in text mode", async () => {
    const t = io();
    expect(await runCli(["quantize", model, join(dir, "t.safetensors")], t)).toBe(0);
    expect(t.out.join("")).toMatch(/linear weights as q8_0, [\d.]+ (KiB|MiB) -> [\d.]+ (KiB|MiB) \(\d+\.\d%\)/);
  });

  it("refuses bad arguments with exit code 2 and a missing input with 1", async () => {
    expect(await runCli(["quantize", model], io())).toBe(2);
    expect(await runCli(["quantize", model, join(dir, "x.safetensors"), "--type", "q5_1"], io())).toBe(2);
    const t = io();
    expect(await runCli(["quantize", join(dir, "missing.safetensors"), join(dir, "y.safetensors")], t)).toBe(1);
    expect(t.err.join("")).toMatch(/expected a readable input file, found ENOENT/);
  });
});

// The default translator with its linear weights quantized (simdformer quantize): how many
// held-out sentences still translate to the very tokens of the float model, and how far the
// first-step logits move. Figures are printed; the bounds below are what the run must keep.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quantizeFile } from "../../src/cli/quantize.js";
import { greedy } from "../../src/generate/greedy.js";
import { createRuntime, type Runtime } from "../../src/index.js";
import { Model } from "../../src/model/model.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";

const modelPath = new URL("../../models/default/translator.safetensors", import.meta.url).pathname;
const fixtureUrl = new URL("../fixtures/translator/heldout.json", import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "simdformer-quant-model-"));
const silent = { stdout: { write: () => true }, stderr: { write: () => true, isTTY: false } };

interface Case { src_ids: number[] }

/** Largest |a - b| over the largest |b|, over every row. */
function logitError(a: Float32Array[], b: Float32Array[]): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < a[i].length; j++) {
      err = Math.max(err, Math.abs(a[i][j] - b[i][j]));
      scale = Math.max(scale, Math.abs(b[i][j]));
    }
  }
  return err / scale;
}

describe.each([
  // Measured: q8_0 300/300 identical, logit error 2.3e-2; q4_0 299/300, 7.5e-2 (relaxed build).
  { type: "q8_0" as const, minSame: 0.97, maxLogitErr: 0.04 },
  { type: "q4_0" as const, minSame: 0.9, maxLogitErr: 0.12 },
])("default translator quantized to $type", ({ type, minSame, maxLogitErr }) => {
  let rt: Runtime;
  let f32: Model;
  let quant: Model;
  let srcs: number[][];
  beforeAll(async () => {
    rt = await createRuntime({ build: "relaxed", threads: 1 });
    const out = join(dir, `translator.${type}.safetensors`);
    const report = await quantizeFile(modelPath, out, type, silent);
    expect(report.quantized.length).toBeGreaterThan(0);
    f32 = await loadSafetensors(rt, new Uint8Array(readFileSync(modelPath)), { file: "translator.safetensors" });
    quant = await loadSafetensors(rt, new Uint8Array(readFileSync(out)), { file: out });
    const cases: Case[] = JSON.parse(readFileSync(fixtureUrl, "utf8")).cases;
    srcs = cases.map((c) => [...c.src_ids, ...(f32.config.src_append_eos ? [f32.config.eos_id] : [])]);
  });
  afterAll(() => {
    quant?.dispose();
    f32?.dispose();
    rt?.dispose();
  });

  it("first-step logits stay close to the float model's", async () => {
    const step = async (m: Model) => {
      const state = await m.startDecoding({ src: srcs });
      const logits = await m.decodeStep(state, srcs.map(() => [m.config.bos_id]));
      state.dispose();
      const v = m.vocabSize;
      return srcs.map((_, i) => logits.subarray(i * v, (i + 1) * v));
    };
    const err = logitError(await step(quant), await step(f32));
    console.log(`${type}: first-step logit error ${err.toExponential(2)} of max |logit| over ${srcs.length} sentences`);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(maxLogitErr);
  });

  it("greedy translations mostly equal the float model's", async () => {
    const [a, b] = [await greedy(f32, { src: srcs }), await greedy(quant, { src: srcs })];
    const same = a.filter((ids, i) => JSON.stringify(ids) === JSON.stringify(b[i])).length;
    console.log(`${type}: ${same}/${srcs.length} held-out sentences translate identically to f32`);
    expect(same / srcs.length).toBeGreaterThanOrEqual(minSame);
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The default translator (tools/translator/train.py) against PyTorch: greedy translations of the
// held-out test set must be the very ids torch produced, and accurate.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { greedy } from "../../src/generate/greedy.js";
import { Model } from "../../src/model/model.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { relError } from "./helpers.js";

const modelUrl = new URL("../../models/default/translator.safetensors", import.meta.url);
const fixtureUrl = new URL("../fixtures/translator/heldout.json", import.meta.url);

interface Case {
  src: string;
  src_ids: number[];
  ref_ids: number[];
  pred_ids: number[];
  debug?: { encoder_out_pos0_first8: number[]; step0_logits_first8: number[]; step0_argmax: number };
}

describe.each(["simd", "relaxed"] as const)("default translator on the %s build", (build) => {
  let rt: Runtime;
  let model: Model;
  let cases: Case[];
  beforeAll(async () => {
    rt = await createRuntime({ build, threads: 1 });
    model = await loadSafetensors(rt, new Uint8Array(readFileSync(modelUrl)), { file: "translator.safetensors" });
    cases = JSON.parse(readFileSync(fixtureUrl, "utf8")).cases;
  });
  afterAll(() => {
    model.dispose();
    rt.dispose();
  });

  // The encoder input is the tokenizer ids plus <eos> (config src_append_eos).
  const srcOf = (c: Case) => [...c.src_ids, ...(model.config.src_append_eos ? [model.config.eos_id] : [])];

  it("reproduces torch's encoder output and first-step logits", async () => {
    const probes = cases.filter((c) => c.debug);
    expect(probes.length).toBeGreaterThan(0);
    for (const c of probes) {
      const [enc] = await model.encode([srcOf(c)]);
      expect(relError(enc.subarray(0, 8), c.debug!.encoder_out_pos0_first8)).toBeLessThan(1e-4);
      const state = await model.startDecoding({ src: [srcOf(c)] });
      const logits = await model.decodeStep(state, [[model.config.bos_id]]);
      state.dispose();
      expect(relError(logits.subarray(0, 8), c.debug!.step0_logits_first8)).toBeLessThan(1e-4);
    }
  });

  let got: number[][];
  it("greedy ids equal PyTorch's on every held-out sentence", async () => {
    got = await greedy(model, { src: cases.map(srcOf) });
    const mismatches = cases.filter((c, i) => JSON.stringify(got[i]) !== JSON.stringify(c.pred_ids)).map((c) => c.src);
    expect(mismatches).toEqual([]);
  });

  it("translates at least 98% of the held-out sentences exactly", () => {
    const hits = cases.filter((c, i) => JSON.stringify(got[i]) === JSON.stringify(c.ref_ids)).length;
    console.log(`${build}: ${hits}/${cases.length} exact translations`);
    expect(hits / cases.length).toBeGreaterThanOrEqual(0.98);
  });
});

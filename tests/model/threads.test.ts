// Work is split by rows, panels and heads, never along a reduction: any thread count
// gives bit-identical model outputs.
import { describe, expect, it } from "vitest";
import { createRuntime } from "../../src/index.js";
import { writeSafetensors } from "../../src/formats/safetensors.js";
import { greedy } from "../../src/generate/greedy.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { Rng } from "../../src/util/rng.js";
import { randomSeq2Seq } from "./helpers.js";

// minParallelWork 0 splits every op, however small, so the splits are exercised.
const dims = { d: 256, ff: 1024, layers: 2, srcVocab: 500, tgtVocab: 700 };
const config = {
  arch: "encoder-decoder", d_model: dims.d, n_heads: 8, d_ff: dims.ff, encoder_layers: dims.layers,
  decoder_layers: dims.layers, src_vocab_size: dims.srcVocab, tgt_vocab_size: dims.tgtVocab, embed_scale: true,
  max_positions: 128, max_target_length: 12,
};
const bytes = writeSafetensors(randomSeq2Seq(new Rng(42), dims), { "simdformer.config": JSON.stringify(config) });
const rng = new Rng(7);
const ids = (n: number, v: number) => Array.from({ length: n }, () => 4 + Math.floor(rng.next() * (v - 4)));
const src = [ids(40, dims.srcVocab), ids(23, dims.srcVocab), ids(31, dims.srcVocab)];
const tgt = [ids(30, dims.tgtVocab), ids(12, dims.tgtVocab), ids(25, dims.tgtVocab)];

describe("thread counts", () => {
  it("1, 2 and 3 threads give bit-identical logits, decode steps and greedy ids", async () => {
    const results: Array<{ logits: Float32Array[]; step: Float32Array; ids: number[][]; threads: number }> = [];
    const split = new Map<string, number>();
    for (const threads of [1, 2, 3]) {
      const rt = await createRuntime({ simd: "strict", threads, minParallelWork: 0, planThreads: threads });
      try {
        const model = await loadSafetensors(rt, bytes);
        const run = rt.engine.runTasks.bind(rt.engine);
        rt.engine.runTasks = (kernel, tasks) => {
          split.set(kernel, Math.max(split.get(kernel) ?? 0, tasks.length));
          return run(kernel, tasks);
        };
        const { logits } = await model.forward({ src, tokens: tgt });
        const state = await model.startDecoding({ src });
        const step = await model.decodeStep(state, tgt);
        state.dispose();
        // The batch, then one sequence alone (one-row steps take the GEMV path).
        const out = [...(await greedy(model, { src })), ...(await greedy(model, { src: [src[0]] }))];
        results.push({ logits: logits!, step, ids: out, threads: rt.features.threads });
        model.dispose();
      } finally {
        rt.dispose();
      }
    }
    expect(results.map((r) => r.threads)).toEqual([1, 2, 3]);
    for (const r of results.slice(1)) {
      expect(r.logits).toEqual(results[0].logits);
      expect(r.step).toEqual(results[0].step);
      expect(r.ids).toEqual(results[0].ids);
    }
    expect(results[0].ids.every((s) => s.length > 0)).toBe(true);
    // The splits did happen: GEMM, GEMV, attention and norms ran as several tasks.
    for (const k of ["f32_gemm", "f32_gemv", "f32_attention", "f32_layernorm"]) expect(split.get(k)).toBeGreaterThan(1);
  });
});

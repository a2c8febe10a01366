// The model layer against PyTorch (fixtures from tools/torch_fixtures.py): hidden states and
// logits within TOLERANCE of torch float32, greedy ids identical.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { readF32, writeF32 } from "../../src/kernels/bindings.js";
import { Attention } from "../../src/ops/attention.js";
import { packSegments } from "../../src/ops/segments.js";
import { WeightBlocks } from "../../src/ops/weight_blocks.js";
import { greedy } from "../../src/generate/greedy.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { loadFixture, relError, TEST_BUILDS, TOLERANCE } from "./helpers.js";

/** Worst relative error seen per build and case, printed at the end (the documented numbers). */
const measured: Record<string, number> = {};
const record = (key: string, e: number) => (measured[key] = Math.max(measured[key] ?? 0, e));

afterAll(() => {
  console.log("max relative error vs torch:", JSON.stringify(measured, (_, v) => (typeof v === "number" ? Number(v.toPrecision(3)) : v)));
});

describe.each(TEST_BUILDS)("PyTorch parity on the %s build", (build) => {
  let rt: Runtime;
  const tol = TOLERANCE[build];
  beforeAll(async () => {
    rt = await createRuntime({ build, threads: 1 });
  });
  afterAll(() => rt.dispose());

  it("nn.MultiheadAttention with causal and key-padding masks, per-head probabilities", async () => {
    const fx = loadFixture("mha");
    const d = 16;
    const H = 4;
    const T = 5;
    const w = fx.file.read("in_proj_weight");
    const b = fx.file.read("in_proj_bias");
    const lin = (r0: number, r1: number) => ({ weight: w.subarray(r0 * d, r1 * d), bias: b.subarray(r0, r1), inFeatures: d, outFeatures: r1 - r0 });
    const engine = rt.engine;
    const blocks = new WeightBlocks(engine);
    const attn = Attention.create(engine, blocks, {
      heads: H, kvHeads: H, headDim: d / H, q: lin(0, d), k: lin(d, 2 * d), v: lin(2 * d, 3 * d),
      o: { weight: fx.file.read("out_proj.weight"), bias: fx.file.read("out_proj.bias"), inFeatures: d, outFeatures: d },
    });
    engine.scratch.reset();
    const x = engine.scratch.alloc(2 * T * d * 4);
    writeF32(engine, x, fx.expected("x"));
    const out = engine.scratch.alloc(2 * T * d * 4);
    writeF32(engine, out, new Float32Array(2 * T * d));
    const pad = fx.meta.key_padding as number[][];
    const masks = pad.map((row) => {
      const p = engine.scratch.alloc(T * 4);
      writeF32(engine, p, row.map((m) => (m ? -Infinity : 0)));
      return p;
    });
    const probs = new Float32Array(2 * H * T * T);
    await attn.runSelf({
      segs: packSegments([T, T]), x, ldx: d, residual: out, ldr: d, causal: true, keyMask: masks,
      probs: (seq, head, p, nq, nk) => probs.set(p, ((seq * H + head) * nq) * nk),
    });
    const e1 = relError(readF32(engine, out, 2 * T * d), fx.expected("out"));
    const e2 = relError(probs, fx.expected("probs"));
    record(`${build}:mha`, Math.max(e1, e2));
    expect(e1).toBeLessThan(tol);
    expect(e2).toBeLessThan(tol);
    blocks.dispose();
  });

  it.each(["encoder_post", "encoder_pre", "bert"])("%s: hidden states of a ragged batch", async (name) => {
    const fx = loadFixture(name);
    const model = await loadSafetensors(rt, fx.file);
    const seqs = fx.meta.seqs as number[][];
    const { hidden } = await model.forward({ tokens: seqs });
    const want = fx.expected("hidden");
    const d = model.config.d_model;
    const T = Math.max(...seqs.map((s) => s.length));
    seqs.forEach((s, i) => {
      const e = relError(hidden![i], want.subarray(i * T * d, (i * T + s.length) * d));
      record(`${build}:${name}`, e);
      expect(e).toBeLessThan(tol);
    });
    model.dispose();
  });

  it.each(["transformer", "transformer_pre"])("%s: logits and greedy ids", async (name) => {
    const fx = loadFixture(name);
    const model = await loadSafetensors(rt, fx.file);
    const src = fx.meta.src as number[][];
    const tgt = fx.meta.tgt as number[][];
    const { logits } = await model.forward({ src, tokens: tgt });
    tgt.forEach((_, i) => {
      const e = relError(logits![i], fx.expected(`logits${i}`));
      record(`${build}:${name}`, e);
      expect(e).toBeLessThan(tol);
    });
    expect(await greedy(model, { src })).toEqual(fx.meta.greedy);
    model.dispose();
  });

  it.each(["gpt2", "llama", "llama_mqa"])("%s-style decoder: logits and greedy ids", async (name) => {
    const fx = loadFixture(name);
    const model = await loadSafetensors(rt, fx.file);
    const prompts = fx.meta.prompts as number[][];
    const { logits } = await model.forward({ tokens: prompts });
    prompts.forEach((_, i) => {
      const e = relError(logits![i], fx.expected(`logits${i}`));
      record(`${build}:${name}`, e);
      expect(e).toBeLessThan(tol);
    });
    expect(await greedy(model, { prompts, maxNewTokens: 10 })).toEqual(fx.meta.greedy);
    model.dispose();
  });
});

// Attention scoring functions (scaled dot, dot, general, additive) and attention capture against
// PyTorch (fixtures from tools/attention_fixtures.py, float64 references): outputs and per-head
// probabilities within TOLERANCE, masked positions exactly 0, rows summing to 1.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, ModelFormatError, type Runtime } from "../../src/index.js";
import { readF32, writeF32 } from "../../src/kernels/bindings.js";
import { Attention, type AttentionScore, type ScoreWeights } from "../../src/ops/attention.js";
import { packSegments } from "../../src/ops/segments.js";
import { WeightBlocks } from "../../src/ops/weight_blocks.js";
import { greedy } from "../../src/generate/greedy.js";
import { parseSafetensors, type SafetensorsFile } from "../../src/formats/safetensors.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { parseConfig } from "../../src/config/config.js";
import type { AttentionMaps } from "../../src/model/attention_maps.js";
import { loadFixture, relError, TEST_BUILDS, TOLERANCE } from "./helpers.js";

interface Fixture {
  file: SafetensorsFile;
  meta: Record<string, unknown>;
  expected(name: string): Float32Array;
}

function load(name: string): Fixture {
  const bytes = new Uint8Array(readFileSync(new URL(`../fixtures/attention/${name}.safetensors`, import.meta.url)));
  const file = parseSafetensors(bytes, `${name}.safetensors`);
  return { file, meta: JSON.parse(file.metadata.fixture), expected: (n) => file.read(`fixture.${n}`) };
}

/** Rows [r0, r1) x columns [0, cols) of each head of a (B, H, Q, K) tensor's batch row b, packed. */
function probsOf(t: Float32Array, dims: [number, number, number, number], b: number, rows: number, cols: number): Float32Array {
  const [, H, Q, K] = dims;
  const out = new Float32Array(H * rows * cols);
  for (let h = 0; h < H; h++) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[(h * rows + i) * cols + j] = t[((b * H + h) * Q + i) * K + j];
  return out;
}

/** Each row of a heads x rows x cols map sums to 1 (within f32 rounding) and is 0 where `masked(i, j)`. */
function checkRows(p: Float32Array, heads: number, rows: number, cols: number, masked: (i: number, j: number) => boolean): void {
  expect(p.length).toBe(heads * rows * cols);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const v = p[(h * rows + i) * cols + j];
        if (masked(i, j)) expect(v, `head ${h} row ${i} col ${j} is masked`).toBe(0);
        else expect(v).toBeGreaterThanOrEqual(0);
        s += v;
      }
      expect(Math.abs(s - 1), `head ${h} row ${i} sums to ${s}`).toBeLessThan(1e-5);
    }
  }
}

const measured: Record<string, number> = {};
const record = (key: string, e: number) => (measured[key] = Math.max(measured[key] ?? 0, e));
afterAll(() => {
  console.log("attention scores: max relative error vs torch float64:", JSON.stringify(measured, (_, v) => (typeof v === "number" ? Number(v.toPrecision(3)) : v)));
});

const KINDS: AttentionScore[] = ["scaled_dot", "dot", "general", "additive"];

describe.each(TEST_BUILDS)("attention scoring on the %s build", (build) => {
  let rt: Runtime;
  const tol = TOLERANCE[build];
  beforeAll(async () => {
    rt = await createRuntime({ build, threads: 1 });
  });
  afterAll(() => rt.dispose());

  it.each(KINDS)("%s: self-attention (causal + key padding) and cross-attention (ragged queries, memory padding), 3 heads", async (kind) => {
    const fx = load(`scores_${kind}`);
    const { d, heads: H, dim } = fx.meta as { d: number; heads: number; dim: number };
    const hd = d / H;
    const w = fx.file.read("in_proj_weight");
    const b = fx.file.read("in_proj_bias");
    const lin = (r0: number, r1: number) => ({ weight: w.subarray(r0 * d, r1 * d), bias: b.subarray(r0, r1), inFeatures: d, outFeatures: r1 - r0 });
    const score: ScoreWeights = { kind };
    if (kind === "general") score.w = fx.file.read("score.w");
    if (kind === "additive") Object.assign(score, { dim, wq: fx.file.read("score.w_q"), wk: fx.file.read("score.w_k"), v: fx.file.read("score.v") });
    const weights = {
      heads: H, kvHeads: H, headDim: hd, q: lin(0, d), k: lin(d, 2 * d), v: lin(2 * d, 3 * d),
      o: { weight: fx.file.read("out_proj.weight"), bias: fx.file.read("out_proj.bias"), inFeatures: d, outFeatures: d }, score,
    };
    const engine = rt.engine;
    const blocks = new WeightBlocks(engine);
    const self = Attention.create(engine, blocks, weights);
    const cross = Attention.create(engine, blocks, weights, true);
    expect(self.scoreKind).toBe(kind);
    engine.scratch.reset();
    const scratchF32 = (values: ArrayLike<number>) => {
      const p = engine.scratch.alloc(values.length * 4);
      writeF32(engine, p, values);
      return p;
    };

    // Self: both sequences padded to T, the padding given as additive key masks.
    const T = 7;
    const lens = fx.meta.self_lengths as number[];
    const x = scratchF32(fx.expected("x"));
    const out = scratchF32(new Float32Array(2 * T * d));
    const masks = lens.map((L) => scratchF32(Array.from({ length: T }, (_, j) => (j < L ? 0 : -Infinity))));
    const selfProbs = new Float32Array(2 * H * T * T);
    await self.runSelf({
      segs: packSegments([T, T]), x, ldx: d, residual: out, ldr: d, causal: true, keyMask: masks,
      probs: (seq, head, p, nq, nk) => selfProbs.set(p, (seq * H + head) * nq * nk),
    });
    const e1 = relError(readF32(engine, out, 2 * T * d), fx.expected("self_out"));
    const e2 = relError(selfProbs, fx.expected("self_probs"));
    for (let s = 0; s < 2; s++) checkRows(probsOf(selfProbs, [2, H, T, T], s, T, T), H, T, T, (i, j) => j > i || j >= lens[s]);

    // Cross: queries packed without padding (4 and 3 rows), memory padded to 6 rows with key masks.
    const qlens = fx.meta.query_lengths as number[];
    const mlens = fx.meta.memory_lengths as number[];
    const Q = 4;
    const M = 6;
    const xqAll = fx.expected("xq");
    const xq = scratchF32(Float32Array.from([...xqAll.subarray(0, qlens[0] * d), ...xqAll.subarray(Q * d, (Q + qlens[1]) * d)]));
    const memRows = scratchF32(fx.expected("memory"));
    const kv = engine.scratch.alloc(2 * M * 2 * d * 4);
    await cross.projectMemory(2 * M, memRows, d, kv);
    const qsegs = packSegments(qlens);
    const cout = scratchF32(new Float32Array((qlens[0] + qlens[1]) * d));
    const crossProbs = new Float32Array(2 * H * Q * M);
    await cross.runCross({
      segs: qsegs, x: xq, ldx: d, residual: cout, ldr: d,
      memory: { ptr: kv, segs: packSegments([M, M]) },
      keyMask: mlens.map((L) => scratchF32(Array.from({ length: M }, (_, j) => (j < L ? 0 : -Infinity)))),
      probs: (seq, head, p, nq, nk) => {
        for (let i = 0; i < nq; i++) crossProbs.set(p.subarray(i * nk, (i + 1) * nk), ((seq * H + head) * Q + i) * M);
      },
    });
    const got = readF32(engine, cout, (qlens[0] + qlens[1]) * d);
    const wantOut = fx.expected("cross_out");
    const want = Float32Array.from([...wantOut.subarray(0, qlens[0] * d), ...wantOut.subarray(Q * d, (Q + qlens[1]) * d)]);
    const e3 = relError(got, want);
    const wantP = fx.expected("cross_probs");
    let e4 = 0;
    for (let s = 0; s < 2; s++) {
      const g = probsOf(crossProbs, [2, H, Q, M], s, qlens[s], M);
      e4 = Math.max(e4, relError(g, probsOf(wantP, [2, H, Q, M], s, qlens[s], M)));
      checkRows(g, H, qlens[s], M, (_, j) => j >= mlens[s]);
    }
    record(`${build}:scores_${kind}`, Math.max(e1, e2, e3, e4));
    for (const e of [e1, e2, e3, e4]) expect(e).toBeLessThan(tol);
    blocks.dispose();
  });

  it.each(["additive", "general"])("model with attention_score %s: logits, every attention map, greedy ids through the KV cache", async (kind) => {
    const fx = load(`model_${kind}`);
    const model = await loadSafetensors(rt, fx.file);
    expect(model.config.attention_score).toBe(kind);
    const src = fx.meta.src as number[][];
    const tgt = fx.meta.tgt as number[][];
    const { logits, attention } = await model.forward({ src, tokens: tgt, attention: true });
    const H = model.config.n_heads;
    const S = Math.max(...src.map((s) => s.length));
    const T = Math.max(...tgt.map((s) => s.length));
    let err = 0;
    tgt.forEach((t, i) => {
      err = Math.max(err, relError(logits![i], fx.expected(`logits${i}`)));
      err = Math.max(err, compareMaps(attention![i], fx, H, S, T, src[i].length, t.length));
    });
    record(`${build}:model_${kind}`, err);
    expect(err).toBeLessThan(tol);
    // Batched greedy decoding: the additive path re-projects the cached keys every step.
    expect(await greedy(model, { src, maxNewTokens: 10 })).toEqual(fx.meta.greedy);
    model.dispose();
  });

  it("capture: nn.Transformer's per-head probabilities (need_weights, average_attn_weights=False) for self, causal and cross attention", async () => {
    const fx = load("capture");
    const model = await loadSafetensors(rt, fx.file);
    const src = fx.meta.src as number[][];
    const tgt = fx.meta.tgt as number[][];
    const H = model.config.n_heads;
    const S = Math.max(...src.map((s) => s.length));
    const T = Math.max(...tgt.map((s) => s.length));
    const { logits, attention } = await model.forward({ src, tokens: tgt, attention: true });
    let err = 0;
    tgt.forEach((t, i) => {
      const a = attention![i];
      expect(a.src).toEqual(src[i]);
      expect(a.tgt).toEqual(t);
      expect([a.encoder.length, a.decoder.length, a.cross.length]).toEqual([2, 2, 2]);
      err = Math.max(err, relError(logits![i], fx.expected(`logits${i}`)));
      err = Math.max(err, compareMaps(a, fx, H, S, T, src[i].length, t.length));
    });
    record(`${build}:capture`, err);
    expect(err).toBeLessThan(tol);
    model.dispose();
  });

  it("capture of a padded batch: padded keys get exactly 0, rows still sum to 1, same maps as the ragged batch", async () => {
    const fx = load("capture");
    const model = await loadSafetensors(rt, fx.file);
    const src = fx.meta.src as number[][];
    const tgt = fx.meta.tgt as number[][];
    const S = Math.max(...src.map((s) => s.length));
    const T = Math.max(...tgt.map((s) => s.length));
    const padTo = (s: number[], n: number) => [...s, ...Array(n - s.length).fill(0)];
    const padded = await model.forward({
      src: src.map((s) => padTo(s, S)), tokens: tgt.map((t) => padTo(t, T)), attention: true,
      srcPadding: src.map((s) => Array.from({ length: S }, (_, j) => j >= s.length)),
      padding: tgt.map((t) => Array.from({ length: T }, (_, j) => j >= t.length)),
    });
    const ragged = await model.forward({ src, tokens: tgt, attention: true });
    const H = model.config.n_heads;
    for (let b = 0; b < src.length; b++) {
      const p = padded.attention![b];
      const ls = src[b].length;
      const lt = tgt[b].length;
      for (let l = 0; l < 2; l++) {
        checkRows(p.encoder[l], H, S, S, (_, j) => j >= ls);
        checkRows(p.decoder[l], H, T, T, (i, j) => j > i || j >= lt);
        checkRows(p.cross[l], H, T, S, (_, j) => j >= ls);
        // The valid corner of the padded maps is the ragged batch's map (masked and unmasked softmax rows round differently).
        const corner = (m: Float32Array, rows: number, cols: number, r: number, c: number) => {
          const out = new Float32Array(H * r * c);
          for (let h = 0; h < H; h++) for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[(h * r + i) * c + j] = m[(h * rows + i) * cols + j];
          return out;
        };
        expect(relError(corner(p.encoder[l], S, S, ls, ls), ragged.attention![b].encoder[l])).toBeLessThan(tol);
        expect(relError(corner(p.cross[l], T, S, lt, ls), ragged.attention![b].cross[l])).toBeLessThan(tol);
        expect(relError(corner(p.decoder[l], T, T, lt, lt), ragged.attention![b].decoder[l])).toBeLessThan(tol);
      }
    }
    model.dispose();
  });
});

/** Max relative error of a sequence's maps against the fixture's (B, H, Q, K) tensors enc_self{l}, dec_self{l}, cross{l}. */
function compareMaps(a: AttentionMaps, fx: Fixture, H: number, S: number, T: number, ls: number, lt: number): number {
  const b = (fx.meta.src as number[][]).findIndex((s) => s.length === ls && s.every((x, i) => x === a.src[i]));
  let err = 0;
  for (let l = 0; l < a.encoder.length; l++) {
    err = Math.max(err, relError(a.encoder[l], probsOf(fx.expected(`enc_self${l}`), [2, H, S, S], b, ls, ls)));
    err = Math.max(err, relError(a.decoder[l], probsOf(fx.expected(`dec_self${l}`), [2, H, T, T], b, lt, lt)));
    err = Math.max(err, relError(a.cross[l], probsOf(fx.expected(`cross${l}`), [2, H, T, S], b, lt, ls)));
    checkRows(a.encoder[l], H, ls, ls, () => false);
    checkRows(a.decoder[l], H, lt, lt, (i, j) => j > i);
    checkRows(a.cross[l], H, lt, ls, () => false);
  }
  return err;
}

describe("attention_score in the config and the weight file", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ build: "simd", threads: 1 });
  });
  afterAll(() => rt.dispose());

  const base = () => JSON.parse(load("capture").file.metadata["simdformer.config"]);

  it("defaults to scaled_dot and rejects unknown names with a typed error", () => {
    expect(parseConfig(base()).attention_score).toBe("scaled_dot");
    expect(() => parseConfig({ ...base(), attention_score: "cosine" })).toThrow(ModelFormatError);
    expect(() => parseConfig({ ...base(), attention_score: "cosine" })).toThrow(/attention_score.*"scaled_dot" \| "dot" \| "general" \| "additive".*"cosine"/);
    expect(() => parseConfig({ ...base(), attention_score: "additive", attention_score_dim: 0 })).toThrow(/attention_score_dim/);
    expect(parseConfig({ ...base(), attention_score: "additive" }).attention_score_dim).toBe(parseConfig(base()).head_dim);
  });

  it.each([
    ["general", "encoder.layers.0.self_attn.score.w"],
    ["additive", "encoder.layers.0.self_attn.score.w_q"],
  ])("%s without its weights: ModelFormatError naming %s", async (kind, tensor) => {
    const fx = load("capture");
    const p = loadSafetensors(rt, fx.file, { config: { ...base(), attention_score: kind } });
    await expect(p).rejects.toThrow(ModelFormatError);
    await expect(loadSafetensors(rt, fx.file, { config: { ...base(), attention_score: kind } })).rejects.toThrow(new RegExp(`tensor "${tensor.replace(/\./g, "\\.")}".*missing`));
  });

  it("dot needs no weights and differs from scaled_dot only in the scale", async () => {
    const fx = load("capture");
    const scaled = await loadSafetensors(rt, fx.file);
    const dot = await loadSafetensors(rt, fx.file, { config: { ...base(), attention_score: "dot" } });
    const src = fx.meta.src as number[][];
    const tgt = fx.meta.tgt as number[][];
    const a = (await scaled.forward({ src, tokens: tgt, attention: true })).attention![0];
    const b = (await dot.forward({ src, tokens: tgt, attention: true })).attention![0];
    // Unscaled scores are sharper: the same argmax per row, a larger maximum.
    expect(relError(a.encoder[0], b.encoder[0])).toBeGreaterThan(1e-2);
    checkRows(b.decoder[1], b.heads, tgt[0].length, tgt[0].length, (i, j) => j > i);
    scaled.dispose();
    dot.dispose();
  });

  it("attention capture is off by default and the scaled_dot path runs only the fused kernel", async () => {
    const fx = load("capture");
    const model = await loadSafetensors(rt, fx.file);
    const calls: string[] = [];
    const engine = rt.engine;
    const orig = engine.runTasks.bind(engine);
    engine.runTasks = (k, t) => {
      calls.push(k);
      return orig(k, t);
    };
    try {
      const r = await model.forward({ src: fx.meta.src as number[][], tokens: fx.meta.tgt as number[][] });
      expect(r.attention).toBeUndefined();
    } finally {
      engine.runTasks = orig;
    }
    expect(calls).toContain("f32_attention");
    for (const k of ["f32_additive_scores", "f32_softmax", "f32_gemm_nn", "f32_gemm_nt"]) expect(calls).not.toContain(k);
    model.dispose();
  });
});

describe("attention: true on every architecture", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ build: "simd", threads: 1 });
  });
  afterAll(() => rt.dispose());

  it("decoder-only with grouped kv heads (llama fixture): causal self-attention maps per query head", async () => {
    const fx = loadFixture("llama");
    const model = await loadSafetensors(rt, fx.file);
    const prompts = fx.meta.prompts as number[][];
    const r = await model.forward({ tokens: prompts, attention: true });
    const c = model.config;
    expect(c.n_kv_heads).toBeLessThan(c.n_heads);
    prompts.forEach((p, i) => {
      const a = r.attention![i];
      expect([a.encoder.length, a.cross.length, a.decoder.length]).toEqual([0, 0, c.decoder_layers]);
      expect(a.tgt).toEqual(p);
      for (const m of a.decoder) checkRows(m, c.n_heads, p.length, p.length, (q, k) => k > q);
    });
    model.dispose();
  });

  it("encoder-only (bert fixture) with key padding: bidirectional maps, padded keys exactly 0", async () => {
    const fx = loadFixture("bert");
    const model = await loadSafetensors(rt, fx.file);
    const seqs = fx.meta.seqs as number[][];
    const T = Math.max(...seqs.map((s) => s.length));
    const tokens = seqs.map((s) => [...s, ...Array(T - s.length).fill(0)]);
    const padding = seqs.map((s) => Array.from({ length: T }, (_, j) => j >= s.length));
    const r = await model.forward({ tokens, padding, attention: true });
    seqs.forEach((s, i) => {
      const a = r.attention![i];
      expect([a.encoder.length, a.decoder.length]).toEqual([model.config.encoder_layers, 0]);
      expect(a.src).toEqual(tokens[i]);
      for (const m of a.encoder) checkRows(m, model.config.n_heads, T, T, (_, k) => k >= s.length);
    });
    model.dispose();
  });

  it("additive and general scoring give the same bits on 1 and 2 threads", async () => {
    const maps = async (threads: number, kind: string) => {
      const rt2 = await createRuntime({ build: "simd-shared", threads });
      try {
        expect(rt2.features.threads).toBe(threads);
        const fx = load(`model_${kind}`);
        const model = await loadSafetensors(rt2, fx.file);
        const r = await model.forward({ src: fx.meta.src as number[][], tokens: fx.meta.tgt as number[][], attention: true });
        model.dispose();
        return r;
      } finally {
        rt2.dispose();
      }
    };
    for (const kind of ["additive", "general"]) {
      const [one, two] = [await maps(1, kind), await maps(2, kind)];
      expect(two.logits).toEqual(one.logits);
      expect(two.attention).toEqual(one.attention);
    }
  });
});

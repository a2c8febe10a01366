// Incremental decoding, batching and input validation of the Model API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, createRuntime, DisposedError, ModelFormatError, OutOfMemoryError, ShapeError, type Runtime } from "../../src/index.js";
import { greedy } from "../../src/generate/greedy.js";
import { KvCache } from "../../src/model/kv_cache.js";
import { Model } from "../../src/model/model.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { parseConfig } from "../../src/config/config.js";
import { loadFixture, relError } from "./helpers.js";

/** KV-cache and batching change the summation order nowhere: results agree to float rounding. */
const TOL = 1e-5;

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ build: "simd", threads: 1 });
});
afterAll(() => rt.dispose());

const row = (a: Float32Array, r: number, w: number) => a.subarray(r * w, (r + 1) * w);

describe.each(["gpt2", "llama", "llama_mqa", "transformer", "transformer_pre"])("%s", (name) => {
  let model: Model;
  let srcs: number[][] | undefined;
  let seqs: number[][];
  beforeAll(async () => {
    const fx = loadFixture(name);
    model = await loadSafetensors(rt, fx.file);
    srcs = fx.meta.src as number[][] | undefined;
    seqs = (fx.meta.prompts ?? fx.meta.tgt) as number[][];
  });
  afterAll(() => model.dispose());

  it("KV-cache decoding one token at a time equals the full forward", async () => {
    const V = model.vocabSize;
    const { logits } = await model.forward({ src: srcs, tokens: seqs });
    for (let i = 0; i < seqs.length; i++) {
      const state = await model.startDecoding({ src: srcs && [srcs[i]], capacity: 2 });
      for (let t = 0; t < seqs[i].length; t++) {
        const step = await model.decodeStep(state, [[seqs[i][t]]]);
        expect(relError(step, row(logits![i], t, V))).toBeLessThan(TOL);
      }
      expect(state.lengths).toEqual([seqs[i].length]);
      expect(state.cache.capacity(0)).toBeGreaterThanOrEqual(seqs[i].length);
      state.dispose();
    }
  });

  it("batched prefill of ragged prompts, then batched steps, equal singles", async () => {
    const V = model.vocabSize;
    const state = await model.startDecoding({ src: srcs, batch: seqs.length });
    const prefill = await model.decodeStep(state, seqs);
    const next = await model.decodeStep(state, seqs.map(() => [4]));
    for (let i = 0; i < seqs.length; i++) {
      const { logits } = await model.forward({ src: srcs && [srcs[i]], tokens: [[...seqs[i], 4]] });
      const L = seqs[i].length;
      expect(relError(row(prefill, i, V), row(logits![0], L - 1, V))).toBeLessThan(TOL);
      expect(relError(row(next, i, V), row(logits![0], L, V))).toBeLessThan(TOL);
    }
    state.dispose();
  });

  it("select() reorders and duplicates sequences with their sources", async () => {
    const V = model.vocabSize;
    const state = await model.startDecoding({ src: srcs, batch: seqs.length });
    await model.decodeStep(state, seqs);
    state.select([1, 0, 1]);
    const next = await model.decodeStep(state, [[4], [5], [6]]);
    for (const [r, from, tok] of [[0, 1, 4], [1, 0, 5], [2, 1, 6]]) {
      const { logits } = await model.forward({ src: srcs && [srcs[from]], tokens: [[...seqs[from], tok]] });
      expect(relError(row(next, r, V), row(logits![0], seqs[from].length, V))).toBeLessThan(TOL);
    }
    state.dispose();
  });

  it("a padded batch with key-padding masks equals singles on the real positions", async () => {
    const T = Math.max(...seqs.map((s) => s.length));
    const padded = seqs.map((s) => [...s, ...Array(T - s.length).fill(5)]);
    const padding = seqs.map((s) => Array.from({ length: T }, (_, j) => j >= s.length));
    const S = srcs ? Math.max(...srcs.map((s) => s.length)) : 0;
    const srcPadded = srcs?.map((s) => [...s, ...Array(S - s.length).fill(0)]);
    const srcPadding = srcs?.map((s) => Array.from({ length: S }, (_, j) => j >= s.length));
    const { hidden } = await model.forward({ src: srcPadded, srcPadding, tokens: padded, padding, outputs: ["hidden"] });
    const d = model.config.d_model;
    for (let i = 0; i < seqs.length; i++) {
      const single = await model.forward({ src: srcs && [srcs[i]], tokens: [seqs[i]], outputs: ["hidden"] });
      expect(relError(hidden![i].subarray(0, seqs[i].length * d), single.hidden![0])).toBeLessThan(TOL);
    }
  });

  it("greedy over a batch equals greedy one sequence at a time", async () => {
    const opts = srcs ? { src: srcs } : { prompts: seqs, maxNewTokens: 6 };
    const batch = await greedy(model, opts);
    for (let i = 0; i < seqs.length; i++) {
      const one = await greedy(model, srcs ? { src: [srcs[i]] } : { prompts: [seqs[i]], maxNewTokens: 6 });
      expect(one[0]).toEqual(batch[i]);
    }
  });
});

describe("KvCache", () => {
  const opts = { layers: 2, kvHeads: 2, headDim: 4, batch: 2, capacity: 2, maxCapacity: 8 };
  const fill = (cache: KvCache, seq: number, n: number, base: number) => {
    cache.reserve(seq, cache.length(seq) + n);
    const ld = 2 * 4;
    const k = rt.engine.scratch.alloc(n * ld * 4);
    const v = rt.engine.scratch.alloc(n * ld * 4);
    const f32 = rt.engine.mem.f32;
    for (let i = 0; i < n * ld; i++) {
      f32[(k >>> 2) + i] = base + i;
      f32[(v >>> 2) + i] = -(base + i);
    }
    for (let l = 0; l < 2; l++) {
      for (const t of cache.writeTasks(seq, l, cache.length(seq), n, k, v, ld)) rt.kernels.f32_copy_rows(t[0], t[1], t[2], t[3], t[4], t[5]);
    }
    cache.advance(seq, n);
  };
  const keysOf = (cache: KvCache, seq: number, layer: number, head: number) =>
    Array.from(rt.engine.mem.f32.subarray(cache.keys(seq, layer, head) >>> 2, (cache.keys(seq, layer, head) >>> 2) + cache.length(seq) * 4));

  it("grows by reallocating and keeps what it held", () => {
    const cache = new KvCache(rt.engine, opts);
    fill(cache, 0, 2, 100);
    const before = keysOf(cache, 0, 1, 1);
    fill(cache, 0, 3, 200);
    expect(cache.capacity(0)).toBeGreaterThanOrEqual(5);
    expect(keysOf(cache, 0, 1, 1).slice(0, 8)).toEqual(before);
    expect(keysOf(cache, 0, 1, 1).slice(8, 12)).toEqual([204, 205, 206, 207]);
    cache.dispose();
  });

  it("is full at maxCapacity with a typed error", () => {
    const cache = new KvCache(rt.engine, opts);
    fill(cache, 1, 8, 0);
    expect(() => cache.reserve(1, 9)).toThrow(ShapeError);
    expect(() => cache.reserve(1, 9)).toThrow(/at most 8 positions, found 9/);
    cache.dispose();
  });

  it("snapshot and restore round-trip, and restore validates", () => {
    const a = new KvCache(rt.engine, opts);
    fill(a, 0, 3, 10);
    fill(a, 1, 5, 50);
    const snap = a.snapshot();
    const b = new KvCache(rt.engine, { ...opts, batch: 1 });
    b.restore(snap);
    expect(b.lengths).toEqual([3, 5]);
    for (const [s, l, h] of [[0, 0, 0], [1, 1, 1], [1, 0, 1]]) expect(keysOf(b, s, l, h)).toEqual(keysOf(a, s, l, h));
    expect(b.snapshot()).toEqual(snap);
    const other = new KvCache(rt.engine, { ...opts, headDim: 8 });
    expect(() => other.restore(snap)).toThrow(ModelFormatError);
    expect(() => other.restore(snap)).toThrow(/headDim: expected 8, found 4/);
    expect(() => b.restore(snap.subarray(0, snap.length - 4))).toThrow(/length: expected/);
    const bad = snap.slice();
    bad[0] ^= 1;
    expect(() => b.restore(bad)).toThrow(/magic/);
    expect(b.lengths).toEqual([3, 5]);
    for (const c of [a, b, other]) c.dispose();
  });

  it("select reorders, drops and duplicates sequences", () => {
    const c = new KvCache(rt.engine, opts);
    fill(c, 0, 2, 10);
    fill(c, 1, 3, 70);
    const k1 = keysOf(c, 1, 1, 0);
    c.select([1, 1]);
    expect(c.lengths).toEqual([3, 3]);
    expect(keysOf(c, 0, 1, 0)).toEqual(k1);
    expect(keysOf(c, 1, 1, 0)).toEqual(k1);
    c.dispose();
  });

  it("running out of the kv region is an OutOfMemoryError naming it", async () => {
    const small = await createRuntime({ build: "simd", threads: 1, limits: { kv: 10 * 1024 } });
    const model = await loadSafetensors(small, loadFixture("llama").file);
    // 2 layers x 2 kv heads x 8 dims x K,V x 4 bytes = 256 bytes per position: 16 positions take
    // 4 KiB; the 17th doubles the block, 8 KiB more while the old one is still held.
    const state = await model.startDecoding({ capacity: 16 });
    await model.decodeStep(state, [Array(16).fill(3)]);
    const err = await model.decodeStep(state, [[4]]).catch((e) => e);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err).toMatchObject({ region: "kv", requestedBytes: 8192 });
    state.dispose();
    model.dispose();
    small.dispose();
  });

  it("a decode state survives snapshot/restore of its cache", async () => {
    const fx = loadFixture("llama");
    const model = await loadSafetensors(rt, fx.file);
    const s1 = await model.startDecoding();
    await model.decodeStep(s1, [[3, 14, 15]]);
    const snap = s1.cache.snapshot();
    const want = await model.decodeStep(s1, [[9]]);
    const s2 = await model.startDecoding();
    s2.cache.restore(snap);
    expect(await model.decodeStep(s2, [[9]])).toEqual(want);
    s1.dispose();
    s2.dispose();
    model.dispose();
  });
});

describe("typed errors on bad input", () => {
  let model: Model;
  let seq2seq: Model;
  beforeAll(async () => {
    model = await loadSafetensors(rt, loadFixture("gpt2").file);
    seq2seq = await loadSafetensors(rt, loadFixture("transformer").file);
  });
  afterAll(() => {
    model.dispose();
    seq2seq.dispose();
  });

  it("token ids outside the vocabulary", async () => {
    await expect(model.forward({ tokens: [[1, 48]] })).rejects.toThrow(ShapeError);
    await expect(model.forward({ tokens: [[1, 48]] })).rejects.toThrow("tokens[0][1]: expected a token id in 0..47, found 48");
    await expect(model.forward({ tokens: [[-1]] })).rejects.toThrow(/found -1/);
    await expect(model.forward({ tokens: [[1.5]] })).rejects.toThrow(/found 1.5/);
    await expect(seq2seq.forward({ src: [[30]], tokens: [[1]] })).rejects.toThrow("src[0][0]: expected a token id in 0..29, found 30");
    // One token per sequence takes the planned path, which must report bad ids the same way.
    const state = await model.startDecoding({ batch: 2 });
    await expect(model.decodeStep(state, [[1], [48]])).rejects.toThrow("tokens[1][0]: expected a token id in 0..47, found 48");
    await expect(model.decodeStep(state, [[0.5], [1]])).rejects.toThrow("tokens[0][0]: expected a token id in 0..47, found 0.5");
    expect(state.lengths).toEqual([0, 0]);
    state.dispose();
  });

  it("sequences longer than max_positions, empty sequences and batches", async () => {
    await expect(model.forward({ tokens: [Array(33).fill(1)] })).rejects.toThrow("expected at most 32 positions (max_positions), found 33");
    await expect(model.forward({ tokens: [[]] })).rejects.toThrow(/at least 1 token/);
    await expect(model.forward({ tokens: [] })).rejects.toThrow(/non-empty/);
    const state = await model.startDecoding();
    await model.decodeStep(state, [Array(30).fill(1)]);
    await expect(model.decodeStep(state, [[1, 2, 3]])).rejects.toThrow(/at most 32 positions.*found 33/);
    await expect(model.decodeStep(state, [[1], [2]])).rejects.toThrow("decodeStep: expected 1 token sequences (the batch), found 2");
    await model.decodeStep(state, [[1]]);
    await model.decodeStep(state, [[1]]);
    await expect(model.decodeStep(state, [[1]])).rejects.toThrow("tokens[0]: expected at most 32 positions (max_positions), found 33");
    state.dispose();
  });

  it("decodeStep writes into `out` when given one, with the same values", async () => {
    const V = model.vocabSize;
    const a = await model.startDecoding({ batch: 2 });
    const b = await model.startDecoding({ batch: 2 });
    const out = new Float32Array(2 * V + 3).fill(7);
    for (const feed of [[[1, 2], [3]], [[4], [5]], [[6], [7]]]) {
      const want = await model.decodeStep(a, feed);
      const got = await model.decodeStep(b, feed, { out });
      expect(got.buffer).toBe(out.buffer);
      expect(got).toEqual(want);
    }
    expect(Array.from(out.subarray(2 * V))).toEqual([7, 7, 7]);
    await expect(model.decodeStep(b, [[1], [2]], { out: new Float32Array(2 * V - 1) })).rejects.toThrow(
      `decodeStep: out: expected a Float32Array of at least ${2 * V} floats (batch x width), found ${2 * V - 1} floats`,
    );
    await expect(model.decodeStep(b, [[1], [2]], { out: [] as unknown as Float32Array })).rejects.toThrow(ArgumentError);
    a.dispose();
    b.dispose();
  });

  it("mask shapes and missing inputs", async () => {
    await expect(model.forward({ tokens: [[1, 2, 3]], padding: [[0, 0]] })).rejects.toThrow("padding[0]: expected 3 entries (the sequence length), found 2");
    await expect(model.forward({ tokens: [[1]], padding: [[0], [0]] })).rejects.toThrow(/expected 1 masks/);
    await expect(seq2seq.forward({ tokens: [[1]] })).rejects.toThrow(/needs src/);
    await expect(seq2seq.forward({ src: [[4], [5]], tokens: [[1]] })).rejects.toThrow(/src has 2 sequences, expected 1/);
    await expect(model.forward({ src: [[1]], tokens: [[1]] })).rejects.toThrow(/no cross-attention/);
  });

  it("a state belongs to the model that started it", async () => {
    const other = await loadSafetensors(rt, loadFixture("gpt2").file);
    const state = await other.startDecoding();
    await expect(model.decodeStep(state, [[1]])).rejects.toThrow(ArgumentError);
    state.dispose();
    other.dispose();
  });

  it("dispose() gives the weights and kv regions back", async () => {
    const { weights, kv } = rt.engine.regions;
    const w0 = weights.usedBytes;
    const k0 = kv.usedBytes;
    const m = await loadSafetensors(rt, loadFixture("transformer").file);
    expect(weights.usedBytes).toBeGreaterThan(w0);
    const state = await m.startDecoding({ src: [[4, 5, 2], [6, 2]], srcPadding: [[0, 0, 0], [0, 0]] });
    await m.decodeStep(state, [[1], [1, 7]]);
    state.select([1, 1, 0]);
    expect(kv.usedBytes).toBeGreaterThan(k0);
    state.dispose();
    expect(kv.usedBytes).toBe(k0);
    m.dispose();
    expect(weights.usedBytes).toBe(w0);
  });

  it("disposed models and states", async () => {
    const m = await loadSafetensors(rt, loadFixture("gpt2").file);
    const state = await m.startDecoding();
    state.dispose();
    await expect(m.decodeStep(state, [[1]])).rejects.toThrow(DisposedError);
    m.dispose();
    await expect(m.forward({ tokens: [[1]] })).rejects.toThrow(DisposedError);
  });

  it("missing tensors, wrong shapes and bad configs name what they expected", async () => {
    const fx = loadFixture("gpt2");
    const config = JSON.parse(fx.file.metadata["simdformer.config"]);
    const drop = { ...fx.file, file: "gpt2", has: (n: string) => n !== "transformer.h.1.ln_2.bias" && fx.file.has(n), shape: (n: string) => fx.file.shape(n), read: (n: string) => fx.file.read(n) };
    expect(() => Model.fromTensors(rt, parseConfig(config), drop)).toThrow('gpt2: tensor "transformer.h.1.ln_2.bias": expected present, shape [32], found missing');
    expect(() => Model.fromTensors(rt, parseConfig({ ...config, d_ff: 64 }), fx.file)).toThrow('tensor "transformer.h.0.mlp.c_fc.weight" shape: expected [32,64], found [32,128]');
    await expect(loadSafetensors(rt, fx.file, { config: { ...config, n_heads: 5 } })).rejects.toThrow(/n_heads: expected a divisor of d_model 32, found 5/);
  });
});

describe("encoder-only batches", () => {
  it("a padded batch with key-padding masks equals singles; without masks it does not", async () => {
    const fx = loadFixture("encoder_post");
    const model = await loadSafetensors(rt, fx.file);
    const seqs = fx.meta.seqs as number[][];
    const T = Math.max(...seqs.map((s) => s.length));
    const padded = seqs.map((s) => [...s, ...Array(T - s.length).fill(0)]);
    const padding = seqs.map((s) => Array.from({ length: T }, (_, j) => j >= s.length));
    const masked = await model.forward({ tokens: padded, padding });
    const unmasked = await model.forward({ tokens: padded });
    const d = model.config.d_model;
    const short = seqs.findIndex((s) => s.length < T);
    for (let i = 0; i < seqs.length; i++) {
      const single = await model.forward({ tokens: [seqs[i]] });
      expect(relError(masked.hidden![i].subarray(0, seqs[i].length * d), single.hidden![0])).toBeLessThan(TOL);
      if (i === short) expect(relError(unmasked.hidden![i].subarray(0, seqs[i].length * d), single.hidden![0])).toBeGreaterThan(1e-3);
    }
    model.dispose();
  });
});

describe("attention capture", () => {
  it("hands over every head's probabilities: rows sum to 1, causal rows see no future", async () => {
    const fx = loadFixture("transformer");
    const model = await loadSafetensors(rt, fx.file);
    const src = fx.meta.src as number[][];
    const tgt = fx.meta.tgt as number[][];
    const events: import("../../src/index.js").AttentionEvent[] = [];
    const plain = await model.forward({ src, tokens: tgt });
    const captured = await model.forward({ src, tokens: tgt, capture: (e) => events.push(e) });
    expect(captured.logits).toEqual(plain.logits);
    const c = model.config;
    const count = (stack: string, kind: string) => events.filter((e) => e.stack === stack && e.kind === kind).length;
    expect(count("encoder", "self")).toBe(c.encoder_layers * c.n_heads * src.length);
    expect(count("decoder", "self")).toBe(c.decoder_layers * c.n_heads * tgt.length);
    expect(count("decoder", "cross")).toBe(c.decoder_layers * c.n_heads * tgt.length);
    for (const e of events) {
      const n = e.stack === "encoder" ? src[e.sequence].length : tgt[e.sequence].length;
      expect(e.queries).toBe(n);
      expect(e.keys).toBe(e.kind === "cross" || e.stack === "encoder" ? src[e.sequence].length : n);
      for (let q = 0; q < e.queries; q++) {
        const r = e.probs.subarray(q * e.keys, (q + 1) * e.keys);
        expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        if (e.stack === "decoder" && e.kind === "self") expect(r.subarray(q + 1).every((p) => p === 0)).toBe(true);
      }
    }
    // A decode step captures the new token's row against every cached key.
    const state = await model.startDecoding({ src: [src[0]] });
    await model.decodeStep(state, [[1, 7]]);
    const step: typeof events = [];
    await model.decodeStep(state, [[9]], { capture: (e) => step.push(e) });
    const self = step.find((e) => e.kind === "self")!;
    expect([self.queries, self.keys]).toEqual([1, 3]);
    state.dispose();
    model.dispose();
  });
});

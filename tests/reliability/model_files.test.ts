// Untrusted model files through the whole load into wasm: byte mutations of valid safetensors
// models (truncation, bit flips in the header and the data, numbers in the header replaced by
// huge, negative or fractional values, header length rewritten) and fast-check-generated
// headers. Every outcome is a working model or a typed SimdformerError; a failed load leaves
// the regions as they were (no half-loaded model); canary blocks placed in every region before
// the loads are intact afterwards (nothing wrote outside its own blocks).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, Model, type Runtime, SimdformerError } from "../../src/index.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { parseSafetensors, writeSafetensors } from "../../src/formats/safetensors.js";
import { quantizeMatrix } from "../../src/tensor/quant_blocks.js";
import { parseConfig } from "../../src/config/config.js";
import { linearWeightNames } from "../../src/model/weights.js";
import { Rng } from "../../src/util/rng.js";
import { randomSeq2Seq } from "../model/helpers.js";
import { Canaries } from "../engine/canaries.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A small decoder-only, a small encoder-decoder and a quantized encoder-decoder model, each a few KB. */
function tinyModels(): Array<{ name: string; bytes: Uint8Array }> {
  const rng = new Rng(11);
  const gpt: Record<string, { shape: number[]; data: Float32Array }> = {};
  const add = (n: string, shape: number[]) => (gpt[n] = { shape, data: rng.f32(shape.reduce((a, b) => a * b, 1), -0.5, 0.5) });
  const d = 16;
  add("wte.weight", [20, d]);
  add("wpe.weight", [12, d]);
  for (const l of ["ln_1", "ln_2", "ln_f"].flatMap((n) => (n === "ln_f" ? [n] : [`h.0.${n}`]))) {
    add(`${l}.weight`, [d]);
    add(`${l}.bias`, [d]);
  }
  add("h.0.attn.c_attn.weight", [d, 3 * d]);
  add("h.0.attn.c_attn.bias", [3 * d]);
  add("h.0.attn.c_proj.weight", [d, d]);
  add("h.0.attn.c_proj.bias", [d]);
  add("h.0.mlp.c_fc.weight", [d, 32]);
  add("h.0.mlp.c_fc.bias", [32]);
  add("h.0.mlp.c_proj.weight", [32, d]);
  add("h.0.mlp.c_proj.bias", [d]);
  const gptConfig = { arch: "decoder", naming: "hf-gpt2", d_model: d, n_heads: 2, d_ff: 32, decoder_layers: 1, vocab_size: 20, max_positions: 12, positions: "learned", tied_output: true, norm_position: "pre", activation: "gelu_tanh" };
  const s2s = randomSeq2Seq(new Rng(12), { d: 8, ff: 16, layers: 1, srcVocab: 10, tgtVocab: 9 });
  const s2sConfig = { arch: "encoder-decoder", d_model: 8, n_heads: 2, d_ff: 16, encoder_layers: 1, decoder_layers: 1, src_vocab_size: 10, tgt_vocab_size: 9, max_positions: 16 };
  // Linear weights as q8_0 / q4_0 blocks (in features a multiple of 32): the quantized kernels get hostile scales too.
  const qTensors = randomSeq2Seq(new Rng(13), { d: 32, ff: 64, layers: 1, srcVocab: 10, tgtVocab: 9 });
  const qConfig = { ...s2sConfig, d_model: 32, d_ff: 64, n_heads: 4 };
  const stored: Parameters<typeof writeSafetensors>[0] = { ...qTensors };
  linearWeightNames(parseConfig(qConfig), parseSafetensors(writeSafetensors(qTensors))).forEach((n, i) => {
    const [rows, cols] = qTensors[n].shape;
    stored[n] = { shape: [rows, cols], quantized: quantizeMatrix(i % 2 ? "q4_0" : "q8_0", qTensors[n].data, rows, cols) };
  });
  return [
    { name: "gpt2-tiny", bytes: writeSafetensors(gpt, { "simdformer.config": JSON.stringify(gptConfig) }) },
    { name: "seq2seq-tiny", bytes: writeSafetensors(s2s, { "simdformer.config": JSON.stringify(s2sConfig) }) },
    { name: "seq2seq-quantized", bytes: writeSafetensors(stored, { "simdformer.config": JSON.stringify(qConfig) }) },
  ];
}

/** Numbers in a header, replaced by one of these (sizes, offsets and config values alike). */
const NASTY = ["-1", "0", "1.5", "4294967296", "9007199254740993", "1e308", "-0", "65535", "2147483647", "null", '"7"'];

/** One mutation of a valid file: the kind and the bytes. */
function mutate(bytes: Uint8Array, rng: Rng): { kind: string; bytes: Uint8Array } {
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const r = Math.floor(rng.next() * 6);
  const out = bytes.slice();
  const at = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo));
  switch (r) {
    case 0:
      return { kind: "truncated", bytes: bytes.slice(0, at(0, bytes.length)) };
    case 1: {
      for (let i = 0, n = 1 + at(0, 4); i < n; i++) out[at(8, 8 + headerLen)] ^= 1 << at(0, 8);
      return { kind: "header bit flips", bytes: out };
    }
    case 2: {
      for (let i = 0, n = 1 + at(0, 16); i < n; i++) out[at(8 + headerLen, bytes.length)] ^= 1 << at(0, 8);
      return { kind: "data bit flips", bytes: out };
    }
    case 3: {
      // Replace one number of the header JSON (shape, offsets, or one inside the config string).
      const text = dec.decode(bytes.subarray(8, 8 + headerLen));
      const nums = [...text.matchAll(/-?\d+(\.\d+)?/g)];
      const m = nums[at(0, nums.length)];
      const header = text.slice(0, m.index) + NASTY[at(0, NASTY.length)] + text.slice(m.index! + m[0].length);
      return { kind: "header number", bytes: withHeader(header, bytes.subarray(8 + headerLen)) };
    }
    case 4: {
      const dv = new DataView(out.buffer);
      const choices = [0n, BigInt(headerLen - 1), BigInt(headerLen + 1), BigInt(bytes.length), 2n ** 63n, 2n ** 64n - 1n, BigInt(at(0, 1 << 20))];
      dv.setBigUint64(0, choices[at(0, choices.length)], true);
      return { kind: "header length", bytes: out };
    }
    default: {
      // Swap a dtype or drop a tensor's bytes at the end.
      const text = dec.decode(bytes.subarray(8, 8 + headerLen));
      const swapped = text.replace(/"(F32|Q8_0|Q4_0)"/, ['"F16"', '"BF16"', '"I8"', '"F64"', '"f32"', '"Q8_0"', '"Q4_0"', '"F32"'][at(0, 8)]);
      return { kind: "dtype", bytes: withHeader(swapped, bytes.subarray(8 + headerLen)) };
    }
  }
}

function withHeader(json: string, data: Uint8Array): Uint8Array {
  const head = enc.encode(json);
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

describe("untrusted model files loaded into wasm", () => {
  let rt: Runtime;
  let canaries: Canaries;
  const models = tinyModels();
  const stats = { cases: 0, loaded: 0, rejected: 0, byKind: {} as Record<string, { loaded: number; rejected: number }> };

  beforeAll(async () => {
    rt = await createRuntime({ build: "simd", threads: 1, maxMemory: 64 << 20 });
    canaries = new Canaries(rt.engine, 99);
  });
  afterAll(() => {
    canaries.release();
    rt.dispose();
    console.log(`model-file fuzz: ${stats.cases} cases, ${stats.loaded} loaded and ran, ${stats.rejected} typed errors; by kind ${JSON.stringify(stats.byKind)}`);
  });

  /** Loads, runs and disposes; returns "loaded" or "rejected". Fails the test on anything untyped or leaked. */
  async function attempt(bytes: Uint8Array, kind: string): Promise<void> {
    const { weights, kv } = rt.engine.regions;
    const w0 = weights.usedBytes;
    const k0 = kv.usedBytes;
    stats.cases++;
    const tally = (stats.byKind[kind] ??= { loaded: 0, rejected: 0 });
    let model: Model | undefined;
    try {
      model = await loadSafetensors(rt, bytes, { file: kind });
    } catch (e) {
      if (!(e instanceof SimdformerError)) throw new Error(`${kind}: untyped ${(e as Error).stack}`);
      expect(weights.usedBytes, `${kind}: half-loaded model`).toBe(w0);
      stats.rejected++;
      tally.rejected++;
      return;
    }
    try {
      const c = model.config;
      const v = c.arch === "encoder-decoder" ? c.src_vocab_size : c.vocab_size;
      const ids = [0, 1 % v, 2 % v];
      const out = await model.forward({ tokens: [ids], src: c.arch === "encoder-decoder" ? [ids] : undefined });
      expect(out.logits![0].length).toBe(3 * model.vocabSize);
      const state = await model.startDecoding({ src: c.arch === "encoder-decoder" ? [ids] : undefined });
      await model.decodeStep(state, [[0]]);
      state.dispose();
    } catch (e) {
      // A mutated config may still make shapes a step cannot use (e.g. max_positions 1): typed only.
      if (!(e instanceof SimdformerError)) throw new Error(`${kind}: untyped while running ${(e as Error).stack}`);
    } finally {
      model.dispose();
    }
    expect(weights.usedBytes).toBe(w0);
    expect(kv.usedBytes).toBe(k0);
    stats.loaded++;
    tally.loaded++;
  }

  it("the unmutated files load and run", async () => {
    for (const m of models) await attempt(m.bytes, "valid");
    expect(stats.byKind.valid).toEqual({ loaded: 3, rejected: 0 });
  });

  it("byte mutations: a working model or a typed error, never a leak or a stray write", async () => {
    const rng = new Rng(2024);
    const t0 = performance.now();
    let n = 0;
    // Bounded in count and time (5000 cases in about 5 s on the reference machine).
    while (n < 5000 && performance.now() - t0 < 20_000) {
      const m = models[n % models.length];
      const { kind, bytes } = mutate(m.bytes, rng);
      await attempt(bytes, kind);
      n++;
      if (n % 250 === 0) canaries.expectIntact();
    }
    canaries.expectIntact();
    expect(n).toBeGreaterThan(500);
    // Each kind produced both outcomes somewhere, or the mutations are not reaching the parser.
    expect(stats.rejected).toBeGreaterThan(n / 4);
    expect(stats.byKind["data bit flips"].loaded).toBeGreaterThan(0);
  }, 60_000);

  it("dtype names that are Object.prototype keys are refused as dtypes", async () => {
    const base = models[0].bytes;
    const headerLen = Number(new DataView(base.buffer).getBigUint64(0, true));
    const text = dec.decode(base.subarray(8, 8 + headerLen));
    for (const name of ["constructor", "toString", "hasOwnProperty"]) {
      const bytes = withHeader(text.replace('"F32"', JSON.stringify(name)), base.subarray(8 + headerLen));
      await expect(loadSafetensors(rt, bytes)).rejects.toThrow(`dtype: expected F32, F16, BF16, Q8_0 or Q4_0, found "${name}"`);
    }
  });

  it("fast-check headers: arbitrary tensor entries over the data of a valid model", async () => {
    const base = models[0];
    const headerLen = Number(new DataView(base.bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(dec.decode(base.bytes.subarray(8, 8 + headerLen))) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
    const data = base.bytes.subarray(8 + headerLen);
    const names = Object.keys(header).filter((k) => k !== "__metadata__");
    const dim = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(-1, 2 ** 31, 2 ** 53, 1.5));
    const entry = fc.record({
      dtype: fc.constantFrom("F32", "F16", "BF16", "Q8_0", "Q4_0", "I32", "F8", "", "constructor", "toString", "__proto__"),
      shape: fc.array(dim, { maxLength: 4 }),
      data_offsets: fc.tuple(fc.oneof(fc.integer({ min: 0, max: data.length + 8 }), fc.constantFrom(-8, 2 ** 40)), fc.oneof(fc.integer({ min: 0, max: data.length + 8 }), fc.constantFrom(-8, 2 ** 40))),
    });
    await fc.assert(
      fc.asyncProperty(fc.subarray(names, { minLength: 1 }), fc.array(entry, { minLength: 1, maxLength: 4 }), async (picked, entries) => {
        const h: Record<string, unknown> = { ...header };
        picked.forEach((name, i) => (h[name] = entries[i % entries.length]));
        await attempt(withHeader(JSON.stringify(h), data), "fast-check header");
      }),
      { numRuns: 300, seed: 7 },
    );
    canaries.expectIntact();
  }, 60_000);
});

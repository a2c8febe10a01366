// Memory limits: maxMemory and region limits honoured everywhere, including a 128 MiB edge
// budget. A model or a KV cache that cannot fit is an OutOfMemoryError naming the region and
// the bytes needed, raised before any work (no tensor read, no block allocated, no memory
// growth, no encoder pass); the runtime stays usable.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { beamSearch, createRuntime, generateTokens, Model, OutOfMemoryError, type Runtime } from "../../src/index.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { parseSafetensors, writeSafetensors } from "../../src/formats/safetensors.js";
import { kvBytes, kvCapacity, weightBytes } from "../../src/model/budget.js";
import { parseConfig } from "../../src/config/config.js";
import { linearWeightNames } from "../../src/model/weights.js";
import { quantizeMatrix } from "../../src/tensor/quant_blocks.js";
import { Rng } from "../../src/util/rng.js";
import type { TensorSource } from "../../src/config/tensor_source.js";
import { loadFixture, randomSeq2Seq } from "../model/helpers.js";

const MiB = 1 << 20;
const translatorBytes = new Uint8Array(readFileSync(new URL("../../models/default/translator.safetensors", import.meta.url)));

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

/** Weights, kv, scratch usage and the memory size: nothing of it may move on a refusal. */
const footprint = (rt: Runtime) => ({
  weights: rt.engine.regions.weights.usedBytes,
  kv: rt.engine.regions.kv.usedBytes,
  scratch: rt.engine.regions.scratch.usedBytes,
  pages: rt.engine.mem.byteLength,
});

describe("budgets computed from the config", () => {
  it("weightBytes is the f32 size of exactly the tensors a fixture model needs", () => {
    for (const name of ["gpt2", "llama", "llama_mqa", "transformer", "transformer_pre", "bert", "encoder_pre"]) {
      const fx = loadFixture(name);
      const config = parseConfig(JSON.parse(fx.file.metadata["simdformer.config"]));
      // The fixture files hold the weights plus fixture.* tensors (inputs and expected outputs).
      let weights = 0;
      for (const [n, t] of fx.file.tensors) if (!n.startsWith("fixture.")) weights += t.size * 4;
      // Tensors a config does not read (e.g. BERT's token types, a spare bias) only make the file bigger.
      expect(weightBytes(config), name).toBeLessThanOrEqual(weights);
      expect(weightBytes(config), name).toBeGreaterThan(0.9 * weights);
    }
  });

  it("kvCapacity follows KvCache's doubling and kvBytes adds the cached sources", () => {
    expect(kvCapacity(64, 10, 1024)).toBe(64);
    expect(kvCapacity(64, 65, 1024)).toBe(128);
    expect(kvCapacity(64, 300, 1024)).toBe(300); // one reserve of 300 (a prefill) jumps straight there
    expect(kvCapacity(64, 300, 200)).toBe(200);
    expect(kvCapacity(4, 4, 8)).toBe(4);
    const c = parseConfig(JSON.parse(loadFixture("transformer").file.metadata["simdformer.config"]));
    const perPosition = 2 * c.decoder_layers * c.n_kv_heads * c.head_dim * 4;
    expect(kvBytes(c, { positions: [3, 70], srcLengths: [5, 6] })).toBe(perPosition * (Math.min(64, c.max_positions) + kvCapacity(64, 70, c.max_positions)) + c.decoder_layers * 11 * 2 * c.n_kv_heads * c.head_dim * 4);
  });
});

describe("a 128 MiB edge-isolate budget", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ threads: 1, maxMemory: 128 * MiB });
  });
  afterAll(() => rt.dispose());

  it("runs the default translator within it", async () => {
    const tm = await rt.loadModel(translatorBytes, { file: "translator.safetensors" });
    const r = await tm.translate("i like deep learning");
    expect(r.text.length).toBeGreaterThan(0);
    expect(rt.engine.mem.byteLength).toBeLessThanOrEqual(128 * MiB);
    tm.dispose();
  });

  it("refuses a 300 MB model before reading a tensor or growing the memory, with the bytes needed", async () => {
    // A GPT-2-small-sized config: its own header is enough to know it cannot fit.
    const config = { arch: "decoder", naming: "hf-gpt2", d_model: 768, n_heads: 12, d_ff: 3072, decoder_layers: 12, vocab_size: 50257, max_positions: 1024, positions: "learned", tied_output: true };
    const bytes = writeSafetensors({ "wte.weight": { shape: [1, 1], data: [0] } }, { "simdformer.config": JSON.stringify(config) });
    const file = parseSafetensors(bytes, "gpt2-small.safetensors");
    const read = vi.spyOn(file, "read");
    const before = footprint(rt);
    const err = await rejection(loadSafetensors(rt, file));
    expect(err).toBeInstanceOf(OutOfMemoryError);
    const need = weightBytes(parseConfig(config));
    expect(need).toBeGreaterThan(400e6); // ~124M parameters
    expect(err).toMatchObject({ region: "weights", requestedBytes: need });
    expect((err as Error).message).toMatch(new RegExp(`requested ${need} bytes, \\d+ available`));
    expect((err as OutOfMemoryError).availableBytes).toBeLessThanOrEqual(128 * MiB);
    expect(read).not.toHaveBeenCalled();
    expect(footprint(rt)).toEqual(before);
  });
});

describe("region limits", () => {
  let rt: Runtime;
  let small: Runtime;
  const gpt2 = loadFixture("gpt2");
  const seq2seq = loadFixture("transformer");
  beforeAll(async () => {
    rt = await createRuntime({ build: "simd", threads: 1 });
    // Room for the fixtures' weights, but a kv region of 16 KiB: 64 positions of the gpt2 fixture
    // (2 layers x 32 wide x K,V x 4 bytes = 512 bytes each) take 32 KiB.
    small = await createRuntime({ build: "simd", threads: 1, limits: { kv: 16 * 1024 } });
  });
  afterAll(() => {
    rt.dispose();
    small.dispose();
  });

  it("a model too big for the weights region: refused before any tensor is read", async () => {
    const tight = await createRuntime({ build: "simd", threads: 1, limits: { weights: 16 * 1024 } });
    const read = vi.spyOn(gpt2.file, "read");
    const before = footprint(tight);
    const err = await rejection(loadSafetensors(tight, gpt2.file));
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err).toMatchObject({ region: "weights", availableBytes: 16 * 1024 });
    expect((err as OutOfMemoryError).requestedBytes).toBeGreaterThan(16 * 1024);
    expect(read).not.toHaveBeenCalled();
    read.mockRestore();
    expect(footprint(tight)).toEqual(before);
    tight.dispose();
  });

  it("a file with q4_0 linear weights is budgeted at its stored size, not as float32", async () => {
    const dims = { d: 64, ff: 256, layers: 2, srcVocab: 16, tgtVocab: 16 };
    const tensors = randomSeq2Seq(new Rng(4), dims);
    const config = parseConfig({ arch: "encoder-decoder", d_model: 64, n_heads: 4, d_ff: 256, encoder_layers: 2, decoder_layers: 2, src_vocab_size: 16, tgt_vocab_size: 16, max_positions: 32 });
    const names = linearWeightNames(config, parseSafetensors(writeSafetensors(tensors)));
    expect(names.length).toBeGreaterThan(8);
    const stored: Parameters<typeof writeSafetensors>[0] = { ...tensors };
    for (const n of names) {
      const [rows, cols] = tensors[n].shape;
      stored[n] = { shape: [rows, cols], quantized: quantizeMatrix("q4_0", tensors[n].data, rows, cols) };
    }
    const bytes = writeSafetensors(stored, { "simdformer.config": JSON.stringify(config) });
    const probe = await loadSafetensors(rt, bytes);
    const held = rt.engine.regions.weights.usedBytes;
    probe.dispose();
    const held0 = rt.engine.regions.weights.usedBytes;
    // Room for what the quantized model holds plus its staging, well below its float32 size.
    const limit = Math.ceil(1.25 * (held - held0));
    expect(limit).toBeLessThan(weightBytes(config));
    const tight = await createRuntime({ build: "simd", threads: 1, limits: { weights: limit } });
    const model = await loadSafetensors(tight, bytes);
    expect((await model.forward({ src: [[4, 5]], tokens: [[1]] })).logits![0]).toHaveLength(16);
    model.dispose();
    tight.dispose();
  });

  it("any tensor source (not only safetensors): refused after reading, before the first wasm block", async () => {
    const tight = await createRuntime({ build: "simd", threads: 1, limits: { weights: 16 * 1024 } });
    const f = gpt2.file;
    const source: TensorSource = { file: "custom", has: (n) => f.has(n), shape: (n) => f.shape(n), read: (n) => f.read(n) };
    const config = parseConfig(JSON.parse(f.metadata["simdformer.config"]));
    const before = footprint(tight);
    const err = await rejection(() => Model.fromTensors(tight, config, source));
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as OutOfMemoryError).requestedBytes).toBeGreaterThanOrEqual(weightBytes(config));
    expect(footprint(tight)).toEqual(before);
    tight.dispose();
  });

  it("startDecoding whose first blocks cannot fit: refused before the encoder runs", async () => {
    const model = await loadSafetensors(small, seq2seq.file);
    const capture = vi.fn();
    const before = footprint(small);
    const err = await rejection(model.startDecoding({ src: [[4, 5, 2], [6, 2]], capacity: 32, capture }));
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err).toMatchObject({ region: "kv", requestedBytes: kvBytes(model.config, { positions: [0, 0], capacity: 32, srcLengths: [3, 2] }) });
    expect(capture).not.toHaveBeenCalled();
    expect(footprint(small)).toEqual(before);
    // A smaller start fits and decodes.
    const state = await model.startDecoding({ src: [[4, 5, 2]], capacity: 4 });
    expect(await model.decodeStep(state, [[1]])).toHaveLength(model.vocabSize);
    state.dispose();
    model.dispose();
  });

  it("a generation whose KV cache would overflow on its longest run: refused before the first step", async () => {
    const model = await loadSafetensors(small, gpt2.file);
    const capture = vi.fn();
    const before = footprint(small);
    // 8 prompts x up to 32 positions x 512 bytes: 128 KiB, in a 16 KiB region.
    const batch = Array.from({ length: 8 }, () => ({ prompt: [1, 2, 3] }));
    const err = await rejection(generateTokens(model, batch, { maxNewTokens: 20, capture }).next());
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err).toMatchObject({ region: "kv", requestedBytes: kvBytes(model.config, { positions: new Array(8).fill(22) }) });
    expect(capture).not.toHaveBeenCalled();
    const beamErr = await rejection(beamSearch(model, { prompt: [1, 2, 3] }, { beams: 8, maxNewTokens: 20, capture }));
    expect(beamErr).toBeInstanceOf(OutOfMemoryError);
    expect(capture).not.toHaveBeenCalled();
    expect(footprint(small)).toEqual(before);
    // What fits runs: one sequence of 23 positions takes 32 x 512 = 16 KiB.
    const ids: number[] = [];
    for await (const t of generateTokens(model, { prompt: [1, 2, 3] }, { maxNewTokens: 20, stop: [] })) ids.push(t.id);
    expect(ids).toHaveLength(20);
    expect(small.engine.regions.kv.usedBytes).toBe(before.kv);
    model.dispose();
  });

  it("a full scratch region is a typed error and the next pass works", async () => {
    const tight = await createRuntime({ build: "simd", threads: 1, limits: { scratch: 1 << 20 } });
    const model = await loadSafetensors(tight, gpt2.file);
    const big = Array.from({ length: 64 }, () => Array.from({ length: 32 }, (_, i) => i));
    const err = await rejection(model.forward({ tokens: big }));
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err).toMatchObject({ region: "scratch" });
    const want = await (await loadSafetensors(rt, gpt2.file)).forward({ tokens: [[1, 2, 3]] });
    expect(await model.forward({ tokens: [[1, 2, 3]] })).toEqual(want);
    model.dispose();
    tight.dispose();
  });

  it("the KV cache is full at max_positions: decodeStep is a ShapeError, generation stops with \"length\"", async () => {
    const model = await loadSafetensors(rt, gpt2.file);
    const state = await model.startDecoding();
    await model.decodeStep(state, [Array(32).fill(1)]);
    await expect(model.decodeStep(state, [[1]])).rejects.toThrow("tokens[0]: expected at most 32 positions (max_positions), found 33");
    state.dispose();
    const gen = generateTokens(model, { prompt: Array(30).fill(1) }, { maxNewTokens: 10, stop: [] });
    let r = await gen.next();
    let n = 0;
    for (; !r.done; r = await gen.next()) n++;
    expect(n).toBe(3); // positions 30, 31, 32: the last token is never fed back
    expect(r.value.stopReason).toBe("length");
    model.dispose();
  });
});

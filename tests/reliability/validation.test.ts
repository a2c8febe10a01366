// Every public entry called with bad arguments: each call must fail with the documented
// error class and a message that says what was expected and what came, and leave the
// runtime usable (checked after the table by a normal call).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArgumentError, beamSearch, createRuntime, type DecodeState, generateTokens, KvCache, loadSafetensors, type Model, ModelFormatError, OutOfMemoryError,
  type Runtime, ShapeError, type StartOptions, type TextModel,
} from "../../src/index.js";
import { writeSafetensors } from "../../src/formats/safetensors.js";
import { Rng } from "../../src/util/rng.js";
import { loadFixture, randomSeq2Seq } from "../model/helpers.js";

type ErrorClass = new (...args: never[]) => Error;
interface Case {
  entry: string;
  what: string;
  call: () => unknown;
  error: ErrorClass;
  message: string | RegExp;
}

let rt: Runtime;
let gpt2: Model; // decoder-only, vocab 48, max_positions 32
let seq2seq: Model; // encoder-decoder, src vocab 30
let tm: TextModel; // the tiny text model below, max_positions 32

const SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"];
const srcVocab = [...SPECIALS, "i", "like", "deep", "learning"];
const tgtVocab = [...SPECIALS, ..."我喜欢深度学习"];
const textModelBytes = writeSafetensors(randomSeq2Seq(new Rng(5), { d: 16, ff: 32, layers: 1, srcVocab: srcVocab.length, tgtVocab: tgtVocab.length }), {
  "simdformer.config": JSON.stringify({
    arch: "encoder-decoder", d_model: 16, n_heads: 2, d_ff: 32, encoder_layers: 1, decoder_layers: 1,
    src_vocab_size: srcVocab.length, tgt_vocab_size: tgtVocab.length, max_positions: 32, max_target_length: 8, src_append_eos: true,
  }),
  "simdformer.src_vocab": JSON.stringify(srcVocab),
  "simdformer.tgt_vocab": JSON.stringify(tgtVocab),
  "simdformer.tokenizer": JSON.stringify({ src: { type: "word", lowercase: true, pattern: "[a-z]+|[^a-z ]" }, tgt: { type: "char" } }),
});

beforeAll(async () => {
  rt = await createRuntime({ build: "simd", threads: 1 });
  gpt2 = await loadSafetensors(rt, loadFixture("gpt2").file);
  seq2seq = await loadSafetensors(rt, loadFixture("transformer").file);
  tm = await rt.loadModel(textModelBytes, { file: "tiny.safetensors" });
});
afterAll(() => {
  tm.dispose();
  gpt2.dispose();
  seq2seq.dispose();
  rt.dispose();
});

/** Pulls the first item of a generator: argument errors surface there. */
const first = (g: AsyncGenerator<unknown, unknown>) => g.next();
const kvOpts = { layers: 1, kvHeads: 1, headDim: 4, batch: 1, maxCapacity: 8 };
const bad = <T>(v: unknown) => v as T;

const CASES: Case[] = [
  // createRuntime
  { entry: "createRuntime", what: "options not an object", call: () => createRuntime(bad(5)), error: ArgumentError, message: "createRuntime: options: expected an object, found number" },
  { entry: "createRuntime", what: "unknown option", call: () => createRuntime(bad({ thread: 2 })), error: ArgumentError, message: /createRuntime: options: expected keys among .*threads.*, found "thread"/ },
  { entry: "createRuntime", what: "threads 0", call: () => createRuntime({ threads: 0 }), error: ArgumentError, message: 'threads: expected "auto" or an integer 1..256, found 0' },
  { entry: "createRuntime", what: "threads as a string", call: () => createRuntime(bad({ threads: "2" })), error: ArgumentError, message: 'threads: expected "auto" or an integer 1..256, found 2' },
  { entry: "createRuntime", what: "threads 1.5", call: () => createRuntime({ threads: 1.5 }), error: ArgumentError, message: /found 1.5/ },
  { entry: "createRuntime", what: "unknown simd", call: () => createRuntime(bad({ simd: "fast" })), error: ArgumentError, message: 'createRuntime: simd: expected "auto" | "relaxed" | "strict" | "scalar", found "fast"' },
  { entry: "createRuntime", what: "unknown build", call: () => createRuntime(bad({ build: "avx2" })), error: ArgumentError, message: /createRuntime: build: expected "relaxed-shared" \| .* \| "scalar", found "avx2"/ },
  { entry: "createRuntime", what: "negative maxMemory", call: () => createRuntime({ maxMemory: -1 }), error: ArgumentError, message: /maxMemory: expected .*, found -1/ },
  { entry: "createRuntime", what: "maxMemory over 4 GiB", call: () => createRuntime({ maxMemory: 2 ** 33 }), error: ArgumentError, message: /maxMemory: expected .*4 GiB.*, found 8589934592/ },
  { entry: "createRuntime", what: "maxMemory below the module's own reserve", call: () => createRuntime({ maxMemory: 1000 }), error: ArgumentError, message: "maxMemory: expected an integer number of bytes in 131072..4294967296 (4 GiB), found 1000" },
  { entry: "createRuntime", what: "NaN initialMemory", call: () => createRuntime({ initialMemory: NaN }), error: ArgumentError, message: "createRuntime: initialMemory: expected a number of bytes >= 0, found NaN" },
  { entry: "createRuntime", what: "negative region limit", call: () => createRuntime({ limits: { weights: -1 } }), error: ArgumentError, message: "createRuntime: limits.weights: expected a number of bytes >= 0, found -1" },
  { entry: "createRuntime", what: "unknown region", call: () => createRuntime({ limits: bad({ weight: 5 }) }), error: ArgumentError, message: 'createRuntime: limits: expected keys among "weights", "kv", "scratch", found "weight"' },
  { entry: "createRuntime", what: "workerUrl a number", call: () => createRuntime(bad({ workerUrl: 7 })), error: ArgumentError, message: "createRuntime: workerUrl: expected a string or URL, found number" },

  // Runtime.loadModel
  { entry: "Runtime.loadModel", what: "a number", call: () => rt.loadModel(bad(123)), error: ArgumentError, message: /^loadModel: expected bytes, .*a path or a URL, found \[object Number\]$/ },
  { entry: "Runtime.loadModel", what: "4 bytes", call: () => rt.loadModel(new Uint8Array(4)), error: ModelFormatError, message: /^<bytes>: .*expected .*found .*4 bytes/ },
  { entry: "Runtime.loadModel", what: "options not an object", call: () => rt.loadModel(textModelBytes, bad("x")), error: ArgumentError, message: "loadModel: options: expected an object, found string" },
  { entry: "Runtime.loadModel", what: "a missing file", call: () => rt.loadModel("/nonexistent/model.safetensors"), error: ArgumentError, message: /nonexistent\/model.safetensors: expected .*, found ENOENT/ },

  // Model.forward
  { entry: "Model.forward", what: "input null", call: () => gpt2.forward(bad(null)), error: ArgumentError, message: "forward: input: expected an object, found null" },
  { entry: "Model.forward", what: "tokens a string", call: () => gpt2.forward(bad({ tokens: "abc" })), error: ShapeError, message: "tokens: expected a non-empty array of sequences, found string" },
  { entry: "Model.forward", what: "id past the vocabulary", call: () => gpt2.forward({ tokens: [[1, 48]] }), error: ShapeError, message: "tokens[0][1]: expected a token id in 0..47, found 48" },
  { entry: "Model.forward", what: "NaN id", call: () => gpt2.forward({ tokens: [[NaN]] }), error: ShapeError, message: "tokens[0][0]: expected a token id in 0..47, found NaN" },
  { entry: "Model.forward", what: "longer than the context", call: () => gpt2.forward({ tokens: [Array(33).fill(1)] }), error: ShapeError, message: "tokens[0]: expected at most 32 positions (max_positions), found 33" },
  { entry: "Model.forward", what: "unknown output", call: () => gpt2.forward(bad({ tokens: [[1]], outputs: ["probs"] })), error: ArgumentError, message: 'forward: outputs: expected an array of "hidden" | "logits", found ["probs"]' },
  { entry: "Model.forward", what: "capture not a function", call: () => gpt2.forward(bad({ tokens: [[1]], capture: 3 })), error: ArgumentError, message: "forward: capture: expected a function, found number" },
  { entry: "Model.forward", what: "padding not an array", call: () => gpt2.forward(bad({ tokens: [[1]], padding: 5 })), error: ShapeError, message: /padding: expected 1 masks \(one per sequence\), found/ },
  { entry: "Model.forward", what: "src on a decoder-only model", call: () => gpt2.forward({ src: [[1]], tokens: [[1]] }), error: ShapeError, message: 'forward: src given, but arch "decoder" has no cross-attention' },

  { entry: "Model.encode", what: "a decoder-only model", call: () => gpt2.encode([[1]]), error: ShapeError, message: 'encode: expected a model with an encoder, found arch "decoder"' },
  { entry: "Model.encode", what: "options a number", call: () => seq2seq.encode([[1]], bad(3)), error: ArgumentError, message: "encode: options: expected an object, found number" },
  { entry: "Model.encode", what: "src id out of range", call: () => seq2seq.encode([[1, 31]]), error: ShapeError, message: "src[0][1]: expected a token id in 0..29, found 31" },

  // Model.startDecoding / decodeStep
  { entry: "Model.startDecoding", what: "options null", call: () => gpt2.startDecoding(bad(null)), error: ArgumentError, message: "startDecoding: options: expected an object, found null" },
  { entry: "Model.startDecoding", what: "capacity 0", call: () => gpt2.startDecoding({ capacity: 0 }), error: ArgumentError, message: "startDecoding: capacity: expected an integer >= 1, found 0" },
  { entry: "Model.startDecoding", what: "capacity 2.5", call: () => gpt2.startDecoding({ capacity: 2.5 }), error: ArgumentError, message: "startDecoding: capacity: expected an integer >= 1, found 2.5" },
  { entry: "Model.startDecoding", what: "batch 0", call: () => gpt2.startDecoding({ batch: 0 }), error: ShapeError, message: "startDecoding: batch expected an integer >= 1, found 0" },
  { entry: "Model.startDecoding", what: "src id out of range", call: () => seq2seq.startDecoding({ src: [[30]] }), error: ShapeError, message: "src[0][0]: expected a token id in 0..29, found 30" },
  { entry: "Model.startDecoding", what: "no src for an encoder-decoder", call: () => seq2seq.startDecoding(), error: ShapeError, message: "startDecoding: an encoder-decoder model needs src sequences, found none" },
  { entry: "Model.decodeStep", what: "state not a DecodeState", call: () => gpt2.decodeStep(bad({}), [[1]]), error: ArgumentError, message: "decodeStep: state: expected a DecodeState from startDecoding(), found object" },
  { entry: "Model.decodeStep", what: "state from another model", call: () => withState(seq2seq, (s) => gpt2.decodeStep(s, [[1]]), { src: [[4]] }), error: ArgumentError, message: "decodeStep: the state was started by another model" },
  { entry: "Model.decodeStep", what: "unknown output", call: () => withState(gpt2, (s) => gpt2.decodeStep(s, [[1]], bad({ output: "probs" }))), error: ArgumentError, message: 'decodeStep: output: expected "logits" | "hidden", found "probs"' },
  { entry: "Model.decodeStep", what: "wrong batch", call: () => withState(gpt2, (s) => gpt2.decodeStep(s, [[1], [2]])), error: ShapeError, message: "decodeStep: expected 1 token sequences (the batch), found 2" },
  { entry: "Model.decodeStep", what: "negative id", call: () => withState(gpt2, (s) => gpt2.decodeStep(s, [[-3]])), error: ShapeError, message: "tokens[0][0]: expected a token id in 0..47, found -3" },

  // TextModel
  { entry: "TextModel.translate", what: "text a number", call: () => tm.translate(bad(5)), error: ArgumentError, message: "TextModel: text: expected a string, found number" },
  { entry: "TextModel.translate", what: "options null", call: () => tm.translate("i like", bad(null)), error: ArgumentError, message: "TextModel: options: expected an object, found null" },
  { entry: "TextModel.translate", what: "beams 0", call: () => tm.translate("i like", { beams: 0 }), error: ArgumentError, message: "TextModel: beams: expected an integer >= 1, found 0" },
  { entry: "TextModel.translate", what: "beams with sampling", call: () => tm.translate("i like", { beams: 2, temperature: 0.5 }), error: ArgumentError, message: "TextModel: beams 2 is beam search: expected no sampling options, found temperature" },
  { entry: "TextModel.translate", what: "maxNewTokens a string", call: () => tm.translate("i like", bad({ maxNewTokens: "5" })), error: ArgumentError, message: "generateTokens: maxNewTokens: expected an integer >= 0, found 5" },
  { entry: "TextModel.translate", what: "negative temperature", call: () => tm.translate("i like", { temperature: -1 }), error: ArgumentError, message: "generateTokens: temperature: expected a finite number >= 0, found -1" },
  { entry: "TextModel.translate", what: "a source longer than the context", call: () => tm.translate("i ".repeat(40)), error: ShapeError, message: "src[0]: expected at most 32 positions (max_positions), found 41" },
  { entry: "TextModel.stream", what: "attention on a stream", call: () => first(tm.stream("i like", { attention: true })), error: ArgumentError, message: /attention: true is a translate\(\) option/ },
  { entry: "TextModel.stream", what: "options a string", call: () => first(tm.stream("i like", bad("fast"))), error: ArgumentError, message: "TextModel: options: expected an object, found string" },
  { entry: "TextModel.generate", what: "topP 0", call: () => first(tm.generate("i like", { temperature: 1, topP: 0 })), error: ArgumentError, message: "generateTokens: topP: expected a number in (0, 1], found 0" },
  { entry: "TextModel.generate", what: "timeoutMs NaN", call: () => first(tm.generate("i like", { timeoutMs: NaN })), error: ArgumentError, message: "generateTokens: timeoutMs: expected a number >= 0, found NaN" },

  // generateTokens / beamSearch
  { entry: "generateTokens", what: "model not a Model", call: () => first(generateTokens(bad({}), { prompt: [1] })), error: ArgumentError, message: "generateTokens: model: expected a Model, found object" },
  { entry: "generateTokens", what: "options null", call: () => first(generateTokens(gpt2, { prompt: [1] }, bad(null))), error: ArgumentError, message: "generateTokens: options: expected an object, found null" },
  { entry: "generateTokens", what: "prompt id past the vocabulary", call: () => first(generateTokens(gpt2, { prompt: [1, 99] })), error: ShapeError, message: "tokens[0][1]: expected a token id in 0..47, found 99" },
  { entry: "generateTokens", what: "prompt longer than the context", call: () => first(generateTokens(gpt2, { prompt: Array(40).fill(1) })), error: ShapeError, message: "tokens[0]: expected at most 32 positions (max_positions), found 40" },
  { entry: "generateTokens", what: "stop not an array", call: () => first(generateTokens(gpt2, { prompt: [1] }, bad({ stop: 3 }))), error: ArgumentError, message: "generateTokens: stop: expected an array of token ids in 0..47, found 3" },
  { entry: "generateTokens", what: "onStats not a function", call: () => first(generateTokens(gpt2, { prompt: [1] }, bad({ onStats: "log" }))), error: ArgumentError, message: "generateTokens: onStats: expected a function, found string" },
  { entry: "beamSearch", what: "beams 1.5", call: () => beamSearch(gpt2, { prompt: [1] }, { beams: 1.5 }), error: ArgumentError, message: "beamSearch: beams: expected an integer >= 1, found 1.5" },
  { entry: "beamSearch", what: "negative lengthPenalty", call: () => beamSearch(gpt2, { prompt: [1] }, { lengthPenalty: -1 }), error: ArgumentError, message: "beamSearch: lengthPenalty: expected a finite number >= 0, found -1" },
  { entry: "beamSearch", what: "an array of inputs", call: () => beamSearch(gpt2, bad([{ prompt: [1] }])), error: ArgumentError, message: "beamSearch: expected one input, found an array of 1 (search them one by one)" },
  { entry: "beamSearch", what: "options null", call: () => beamSearch(gpt2, { prompt: [1] }, bad(null)), error: ArgumentError, message: "beamSearch: options: expected an object, found null" },

  // KvCache
  { entry: "KvCache", what: "layers 0", call: () => new KvCache(rt.engine, { ...kvOpts, layers: 0 }), error: ArgumentError, message: "KvCache layers: expected an integer >= 1, found 0" },
  { entry: "KvCache", what: "capacity -4", call: () => new KvCache(rt.engine, { ...kvOpts, capacity: -4 }), error: ArgumentError, message: "KvCache capacity: expected an integer >= 1, found -4" },
  { entry: "KvCache", what: "capacity NaN", call: () => new KvCache(rt.engine, { ...kvOpts, capacity: NaN }), error: ArgumentError, message: "KvCache capacity: expected an integer >= 1, found NaN" },
  { entry: "KvCache", what: "batch 1.5", call: () => new KvCache(rt.engine, { ...kvOpts, batch: 1.5 }), error: ArgumentError, message: "KvCache batch: expected an integer >= 1, found 1.5" },
  { entry: "KvCache", what: "too big for the kv region", call: () => new KvCache(rt.engine, { ...kvOpts, headDim: 2 ** 20, capacity: 1024, maxCapacity: 1024, batch: 2 }), error: OutOfMemoryError, message: /out of memory in region 'kv': requested 17179869184 bytes/ },
  { entry: "KvCache.reserve", what: "past maxCapacity", call: () => withCache((c) => c.reserve(0, 9)), error: ShapeError, message: "KvCache full: sequence 0 expected at most 8 positions, found 9" },
  { entry: "KvCache.reserve", what: "sequence out of range", call: () => withCache((c) => c.reserve(3, 1)), error: ShapeError, message: "KvCache: sequence index expected 0..0, found 3" },
  { entry: "KvCache.truncate", what: "negative length", call: () => withCache((c) => c.truncate(0, -1)), error: ShapeError, message: "KvCache.truncate: length expected 0..0, found -1" },
  { entry: "KvCache.select", what: "row out of range", call: () => withCache((c) => c.select([0, 2])), error: ShapeError, message: "KvCache: sequence index expected 0..0, found 2" },
  { entry: "KvCache.select", what: "no rows", call: () => withCache((c) => c.select([])), error: ShapeError, message: "KvCache.select: expected at least one row, found []" },
  { entry: "KvCache.restore", what: "garbage bytes", call: () => withCache((c) => c.restore(new Uint8Array(40).fill(7))), error: ModelFormatError, message: "kv snapshot: magic: expected SFKV, found 0x7070707" },
];

/** Runs `fn` on a fresh small cache and frees it whatever happens. */
function withCache(fn: (c: KvCache) => unknown): unknown {
  const c = new KvCache(rt.engine, kvOpts);
  try {
    return fn(c);
  } finally {
    c.dispose();
  }
}

/** Runs `fn` on a fresh decode state of `model` and frees the state whatever happens. */
async function withState(model: Model, fn: (s: DecodeState) => Promise<unknown>, opts: StartOptions = {}): Promise<unknown> {
  const s = await model.startDecoding(opts);
  try {
    return await fn(s);
  } finally {
    s.dispose();
  }
}

async function outcome(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("argument validation at every public entry", () => {
  it.each(CASES.map((c) => [`${c.entry}: ${c.what}`, c] as const))("%s", async (_name, c) => {
    const kv = rt.engine.regions.kv.usedBytes;
    const err = await outcome(c.call);
    expect(err, "expected a throw").toBeInstanceOf(c.error);
    if (typeof c.message === "string") expect((err as Error).message).toBe(c.message);
    else expect((err as Error).message).toMatch(c.message);
    // A refused call holds no kv memory afterwards.
    expect(rt.engine.regions.kv.usedBytes).toBe(kv);
  });

  it("covers every entry the issue names", () => {
    const entries = new Set(CASES.map((c) => c.entry.split(".")[0]));
    for (const e of ["createRuntime", "Runtime", "Model", "TextModel", "generateTokens", "beamSearch", "KvCache"]) expect(entries.has(e), e).toBe(true);
    expect(CASES.length).toBeGreaterThanOrEqual(70);
  });

  it("the runtime and models still work after the table", async () => {
    const r = await tm.translate("i like deep learning");
    expect(r.ids.length).toBeGreaterThan(0);
    const { logits } = await gpt2.forward({ tokens: [[1, 2, 3]] });
    expect(logits![0]).toHaveLength(3 * 48);
  });
});

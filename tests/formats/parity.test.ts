// Models in the formats users bring load and match PyTorch: Hugging Face safetensors +
// config.json (Llama, sharded GPT-2, BERT), GGUF (F32 and Q8_0/Q4_0/F16), llama2.c; the same
// Llama in three formats gives identical greedy tokens.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { type ModelFiles, openModel } from "../../src/formats/detect.js";
import { greedy } from "../../src/generate/greedy.js";
import { Model } from "../../src/model/model.js";
import { relError, TEST_BUILDS } from "../model/helpers.js";
import { fixtureBytes, fixtureDir, FORMATS_DIR, ref } from "./fixtures.js";

const TOL = 1e-4;

const LLAMAS: Array<[string, () => Uint8Array | ModelFiles, string]> = [
  ["Hugging Face safetensors", () => fixtureDir("llama"), "hf"],
  ["GGUF F32", () => fixtureBytes("llama.gguf"), "gguf"],
  ["llama2.c", () => fixtureDir("llama2c"), "llama2c"],
];

describe.each(TEST_BUILDS)("formats on the %s build", (build) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ build, threads: 1 });
  });
  afterAll(() => rt.dispose());

  const load = (src: Uint8Array | ModelFiles, file?: string) => {
    const o = openModel(src, file);
    return { opened: o, model: Model.fromTensors(rt, o.config, o.tensors) };
  };

  it.each(LLAMAS)("Llama as %s: logits and greedy ids match torch", async (_, src, format) => {
    const { opened, model } = load(src());
    expect(opened.format).toBe(format);
    const { prompt, greedy: want } = ref.meta.llama;
    const { logits } = await model.forward({ tokens: [prompt] });
    expect(relError(logits![0], ref.tensor("llama.logits"))).toBeLessThan(TOL);
    expect((await greedy(model, { prompts: [prompt], maxNewTokens: want.length, eosId: -1 }))[0]).toEqual(want);
    model.dispose();
  });

  it("model_type \"mistral\" (Llama names, sliding window): same logits, positions capped at the window", async () => {
    const { files } = fixtureDir("llama");
    const cfg = { ...JSON.parse(new TextDecoder().decode(files["config.json"])), model_type: "mistral", sliding_window: 16 };
    const { opened, model } = load({ files: { ...files, "config.json": new TextEncoder().encode(JSON.stringify(cfg)) } });
    expect(opened.config.max_positions).toBe(16);
    const { logits } = await model.forward({ tokens: [ref.meta.llama.prompt] });
    expect(relError(logits![0], ref.tensor("llama.logits"))).toBeLessThan(TOL);
    model.dispose();
  });

  it("llama2.c version 1 (\"ak42\" header, norms first, no rotary tables): same logits", async () => {
    const v0 = fixtureDir("llama2c").files["model.bin"];
    const { model } = load({ files: { "model.bin": toLlama2cV1(v0), "tokenizer.bin": fixtureDir("llama2c").files["tokenizer.bin"] } });
    expect(model.config).toMatchObject({ tied_output: false, rope_interleaved: true });
    const { logits } = await model.forward({ tokens: [ref.meta.llama.prompt] });
    expect(relError(logits![0], ref.tensor("llama.logits"))).toBeLessThan(TOL);
    model.dispose();
  });

  it("the same Llama in three formats: identical greedy tokens over the whole context", async () => {
    const outs: number[][] = [];
    for (const [, src] of LLAMAS) {
      const { model } = load(src());
      const n = model.config.max_positions - ref.meta.llama.prompt.length;
      outs.push((await greedy(model, { prompts: [ref.meta.llama.prompt], maxNewTokens: n, eosId: -1 }))[0]);
      model.dispose();
    }
    expect(outs[0].length).toBeGreaterThan(15);
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[2]).toEqual(outs[0]);
  });

  it("GGUF with F16 embedding, Q8_0 attention/output, Q4_0 feed-forward, dequantized at load: logits match torch on the dequantized weights", async () => {
    const o = openModel(fixtureBytes("llama_q.gguf"), "llama_q.gguf");
    // Hiding quantized() makes the model read every tensor as float32 (the dequantized values).
    const floats = { file: o.tensors.file, has: (n: string) => o.tensors.has(n), shape: (n: string) => o.tensors.shape(n), read: (n: string) => o.tensors.read(n) };
    const model = Model.fromTensors(rt, o.config, floats);
    const { logits } = await model.forward({ tokens: [ref.meta.llama_q.prompt] });
    expect(relError(logits![0], ref.tensor("llama_q.logits"))).toBeLessThan(TOL);
    // The weights really are the quantized ones: the logits moved from the f32 model's (measured 0.32
    // of the largest logit: Q4_0 on a 2-layer random model), but stayed of the same scale.
    const drift = relError(logits![0], ref.tensor("llama.logits"));
    expect(drift).toBeGreaterThan(1e-2);
    expect(drift).toBeLessThan(0.5);
    model.dispose();
  });

  it("GGUF Q8_0 / Q4_0 linear weights go to the quantized kernels as stored (blocks, not floats)", async () => {
    const o = openModel(fixtureBytes("llama_q.gguf"), "llama_q.gguf");
    expect(o.tensors.quantized!("model.layers.0.self_attn.q_proj.weight")).toMatchObject({ type: "q8_0", rows: 32, cols: 32 });
    expect(o.tensors.quantized!("model.layers.1.mlp.down_proj.weight")).toMatchObject({ type: "q4_0", rows: 32, cols: 64 });
    expect(o.tensors.quantized!("model.embed_tokens.weight")).toBeUndefined(); // F16: read as float32
    const model = Model.fromTensors(rt, o.config, o.tensors);
    const { logits } = await model.forward({ tokens: [ref.meta.llama_q.prompt] });
    // Activations are quantized per block of 32 on the fly (q8), so this is looser than float parity.
    const e = relError(logits![0], ref.tensor("llama_q.logits"));
    console.log(`llama_q.gguf on the quantized kernels (${build}): max error ${e.toPrecision(3)} of the largest logit`);
    expect(e).toBeLessThan(0.05);
    model.dispose();
  });

  it("GPT-2 from two shards + index (Conv1D weights, tied embeddings): logits and greedy ids", async () => {
    const { opened, model } = load(fixtureDir("gpt2"));
    expect(opened.config).toMatchObject({ naming: "hf-gpt2", activation: "gelu_tanh", tied_output: true, positions: "learned" });
    const { prompt, greedy: want } = ref.meta.gpt2;
    const { logits } = await model.forward({ tokens: [prompt] });
    expect(relError(logits![0], ref.tensor("gpt2.logits"))).toBeLessThan(TOL);
    expect((await greedy(model, { prompts: [prompt], maxNewTokens: want.length, eosId: -1 }))[0]).toEqual(want);
    model.dispose();
  });

  it("BERT (bert.* names, WordPiece tokenizer.json): hidden states", async () => {
    const { opened, model } = load(fixtureDir("bert"));
    expect(opened.config).toMatchObject({ arch: "encoder", naming: "hf-bert", norm_eps: 1e-12, embed_norm: true });
    const { hidden } = await model.forward({ tokens: [ref.meta.bert.ids] });
    expect(relError(hidden![0], ref.tensor("bert.hidden"))).toBeLessThan(TOL);
    expect(opened.tokenizer!.encode("The cat sat on the mat.").tokens).toEqual(["the", "cat", "sat", "on", "the", "mat", "."]);
    model.dispose();
  });
});

describe("Runtime.loadModel in every format", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ threads: 1 });
  });
  afterAll(() => rt.dispose());

  it("paths (directory, file with its tokenizer beside it), bytes and { files } give the same text", async () => {
    const dir = (p: string) => new URL(p, FORMATS_DIR).pathname;
    const sources = [dir("llama"), dir("llama.gguf"), dir("llama2c/model.bin"), fixtureBytes("llama.gguf"), fixtureDir("llama2c")];
    const texts: string[] = [];
    const ids: number[][] = [];
    for (const s of sources) {
      const tm = await rt.loadModel(s);
      const t = await tm.translate("the cat sat on", { maxNewTokens: 12, stop: [2] });
      texts.push(t.text);
      ids.push(t.ids);
      tm.dispose();
    }
    // The prompt is the fixture's (bos + "the cat sat on"), so the ids are torch's greedy continuation up to eos (2).
    const want = ref.meta.llama.greedy;
    const stop = want.indexOf(2);
    expect(ids[0]).toEqual(stop >= 0 ? want.slice(0, stop) : want);
    for (let i = 1; i < sources.length; i++) {
      expect(ids[i]).toEqual(ids[0]);
      expect(texts[i]).toEqual(texts[0]);
    }
  });

  it("a sharded GPT-2 directory by path: shards read through the index, tokenizer.json used", async () => {
    const tm = await rt.loadModel(new URL("gpt2", FORMATS_DIR).pathname);
    expect(tm.config).toMatchObject({ naming: "hf-gpt2", bos_id: -1, eos_id: 296 });
    const t = await tm.translate("the dog sat on the", { maxNewTokens: 6 });
    // Greedy on the model loaded from the same files in memory gives the same ids.
    const o = openModel(fixtureDir("gpt2"));
    const model = Model.fromTensors(rt, o.config, o.tensors);
    const prompt = o.tokenizer!.encode("the dog sat on the").ids;
    const want = (await greedy(model, { prompts: [prompt], maxNewTokens: 6 }))[0];
    expect(t.ids).toEqual(want);
    expect(t.text).toBe(o.tokenizer!.decode(want));
    model.dispose();
    tm.dispose();
  });

  it("a model without a tokenizer is a ModelFormatError naming what is missing; a given tokenizer is used", async () => {
    await expect(rt.loadModel(fixtureBytes("llama2c/model.bin"))).rejects.toThrow(/tokenizer: expected tokenizer.json, tokenizer.bin or GGUF/);
    const tok = openModel(fixtureDir("llama2c")).tokenizer!;
    const tm = await rt.loadModel(fixtureBytes("llama2c/model.bin"), { tokenizer: tok });
    expect((await tm.translate("the cat sat on", { maxNewTokens: 3 })).ids.length).toBeGreaterThan(0);
    tm.dispose();
  });

  it("a GGUF whose tokenizer cannot be built: loadModel says why, and loads with a tokenizer given", async () => {
    const bytes = new Uint8Array(fixtureBytes("llama.gguf"));
    const key = new TextEncoder().encode("tokenizer.ggml.scores");
    for (let i = 0; i < bytes.length; i++) {
      if (key.every((x, j) => bytes[i + j] === x)) {
        bytes[i + key.length - 1] = 0x7a; // "...scorez": the llama tokenizer has no scores
        break;
      }
    }
    await expect(rt.loadModel(bytes)).rejects.toThrow(/metadata "tokenizer.ggml.scores": expected an array of numbers \(llama tokenizer\), found missing/);
    const tm = await rt.loadModel(bytes, { tokenizer: openModel(fixtureBytes("llama.gguf")).tokenizer });
    expect((await tm.translate("the cat sat on", { maxNewTokens: 4 })).ids).toEqual(ref.meta.llama.greedy.slice(0, 4));
    tm.dispose();
  });

  it("the default translator still loads through the same entry", async () => {
    const tm = await rt.loadModel(new URL("../../models/default/translator.safetensors", import.meta.url).pathname);
    expect(tm.config.arch).toBe("encoder-decoder");
    tm.dispose();
  });
});

/**
 * Rewrites a version-0 llama2.c checkpoint as export.py's version 1: 256-byte header ("ak42", 1,
 * the 7 ints with a positive vocab_size, shared flag), then attention norms, ffn norms, final norm,
 * embedding, wq, wk, wv, wo, w1, w2, w3 (each over all layers), classifier; no rotary tables.
 */
function toLlama2cV1(v0: Uint8Array): Uint8Array {
  const dv = new DataView(v0.buffer, v0.byteOffset, v0.byteLength);
  const [dim, hidden, L, H, KV, vocab, seq] = Array.from({ length: 7 }, (_, i) => dv.getInt32(4 * i, true));
  const V = Math.abs(vocab);
  const kv = (KV * dim) / H;
  const sizes: Array<[string, number]> = [
    ["emb", V * dim], ["att", L * dim], ["wq", L * dim * dim], ["wk", L * kv * dim], ["wv", L * kv * dim], ["wo", L * dim * dim],
    ["ffn", L * dim], ["w1", L * hidden * dim], ["w2", L * dim * hidden], ["w3", L * hidden * dim], ["final", dim], ["freq", (seq * dim) / H],
  ];
  if (vocab < 0) sizes.push(["cls", V * dim]);
  const part: Record<string, Uint8Array> = {};
  let at = 28;
  for (const [name, n] of sizes) {
    part[name] = v0.subarray(at, at + 4 * n);
    at += 4 * n;
  }
  const order = ["att", "ffn", "final", "emb", "wq", "wk", "wv", "wo", "w1", "w2", "w3", ...(vocab < 0 ? ["cls"] : [])];
  const out = new Uint8Array(256 + order.reduce((a, k) => a + part[k].length, 0));
  const ov = new DataView(out.buffer);
  ov.setUint32(0, 0x616b3432, true);
  ov.setInt32(4, 1, true);
  [dim, hidden, L, H, KV, V, seq].forEach((x, i) => ov.setInt32(8 + 4 * i, x, true));
  out[36] = vocab > 0 ? 1 : 0;
  let o = 256;
  for (const k of order) {
    out.set(part[k], o);
    o += part[k].length;
  }
  return out;
}

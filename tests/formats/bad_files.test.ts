// Damaged model files: each defect is a ModelFormatError naming the file, the field, and the
// expected vs found value; a bounded byte-mutation fuzz over every fixture shows that any
// outcome is a correct load or that typed error (never a RangeError, a hang or a wrong read).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ModelFormatError, SimdformerError, UnsupportedFeatureError } from "../../src/errors.js";
import { type ModelFiles, openModel } from "../../src/formats/detect.js";
import { parseGguf } from "../../src/formats/gguf.js";
import { ggufConfig } from "../../src/formats/gguf_model.js";
import { parseLlama2cTokenizer } from "../../src/formats/llama2c.js";
import { loadWeights } from "../../src/model/weights.js";
import { Rng } from "../../src/util/rng.js";
import { fixtureBytes, fixtureDir, type GgufKv, metadataGguf } from "./fixtures.js";

/** A tests/fixtures/gguf/ file (tools/gguf_models.py). */
const fixtureBytesGguf = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/gguf/${name}`, import.meta.url)));

const enc = new TextEncoder();

/** Opens and reads everything a load reads (config, every tensor, the tokenizer), without wasm. */
function fullLoad(src: Uint8Array | ModelFiles, file?: string): void {
  const o = openModel(src, file);
  if (o.tokenizerError) throw o.tokenizerError;
  loadWeights(o.config, o.tensors);
  if (o.tokenizer) o.tokenizer.decode(o.tokenizer.encode("the cat sat 🍕").ids);
}

/** The ModelFormatError `fn` throws (fails the test when it throws anything else or nothing). */
function formatError(fn: () => unknown): ModelFormatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ModelFormatError) return e;
    throw new Error(`expected a ModelFormatError, got ${(e as Error).stack}`);
  }
  throw new Error("expected a ModelFormatError, nothing was thrown");
}

const copy = (b: Uint8Array) => new Uint8Array(b);
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Byte offset of a GGUF tensor info's fields (after its name). */
function tensorInfoAt(b: Uint8Array, name: string): { nDims: number; dims: number; type: number; offset: number } {
  const needle = enc.encode(name);
  for (let i = 0; i + needle.length <= b.length; i++) {
    if (needle.every((x, j) => b[i + j] === x) && dv(b).getBigUint64(i - 8, true) === BigInt(needle.length)) {
      const at = i + needle.length;
      const n = dv(b).getUint32(at, true);
      return { nDims: at, dims: at + 4, type: at + 4 + 8 * n, offset: at + 8 + 8 * n };
    }
  }
  throw new Error(`no tensor info ${name}`);
}

function replaceBytes(b: Uint8Array, from: string, to: string): Uint8Array {
  const f = enc.encode(from);
  const t = enc.encode(to);
  const out = copy(b);
  for (let i = 0; i + f.length <= out.length; i++) {
    if (f.every((x, j) => out[i + j] === x)) {
      out.set(t, i);
      return out;
    }
  }
  throw new Error(`"${from}" not found`);
}

describe("GGUF defects", () => {
  const good = fixtureBytes("llama.gguf");
  const F = "llama.gguf";

  it("truncated anywhere", () => {
    for (const n of [0, 3, 10, 23, 100, 5000, 9000, good.length - 1]) {
      const e = formatError(() => fullLoad(good.subarray(0, n), F));
      expect(e.file).toBe(F);
      expect(e.message).toMatch(/expected .+, found .+/);
    }
    expect(formatError(() => parseGguf(good.subarray(0, 10), F))).toMatchObject({ field: "tensor_count", expected: "8 bytes at offset 8", found: "2 bytes left (file of 10 bytes)" });
    const cut = good.length - 100;
    expect(formatError(() => parseGguf(good.subarray(0, cut), F)).field).toBe('tensor "output.weight" data');
  });

  it("wrong magic, unknown version", () => {
    expect(formatError(() => parseGguf(replaceBytes(good, "GGUF", "GGUX"), F))).toMatchObject({ field: "magic", expected: '"GGUF"', found: '"GGUX"' });
    expect(formatError(() => openModel(replaceBytes(good, "GGUF", "GGUX"), F))).toMatchObject({ field: "format" });
    const v = copy(good);
    dv(v).setUint32(4, 7, true);
    expect(formatError(() => parseGguf(v, F))).toMatchObject({ field: "version", expected: "2 or 3", found: "7" });
  });

  it("counts and lengths beyond the file", () => {
    const t = copy(good);
    dv(t).setBigUint64(8, 1n << 40n, true);
    expect(formatError(() => parseGguf(t, F))).toMatchObject({ field: "tensor_count", found: String(2 ** 40) });
    const k = copy(good);
    dv(k).setBigUint64(24, 1_000_000_000n, true); // length of the first metadata key
    expect(formatError(() => parseGguf(k, F))).toMatchObject({ field: "metadata[0].key length", found: "1000000000" });
    const u = copy(good);
    dv(u).setBigUint64(8, 0xffffffffffffffffn, true);
    expect(formatError(() => parseGguf(u, F)).field).toBe("tensor_count");
  });

  it("unknown and unsupported tensor types, misaligned or overlapping offsets", () => {
    const at = tensorInfoAt(good, "blk.0.attn_q.weight");
    const t99 = copy(good);
    dv(t99).setUint32(at.type, 99, true);
    expect(formatError(() => openModel(t99, F))).toMatchObject({ field: 'tensor "blk.0.attn_q.weight" type', expected: "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K", found: "unknown ggml type 99" });
    const k4 = copy(good);
    dv(k4).setUint32(at.type, 11, true);
    expect(() => openModel(k4, F)).toThrow(UnsupportedFeatureError);
    expect(() => openModel(k4, F)).toThrow('tensor "blk.0.attn_q.weight" type: Q3_K (ggml type 11) is not supported');
    const mis = copy(good);
    dv(mis).setBigUint64(at.offset, dv(good).getBigUint64(at.offset, true) + 4n, true);
    expect(formatError(() => openModel(mis, F))).toMatchObject({ field: 'tensor "blk.0.attn_q.weight" offset', expected: "a multiple of 64 (general.alignment)" });
    const ovl = copy(good);
    dv(ovl).setBigUint64(at.offset, dv(good).getBigUint64(tensorInfoAt(good, "blk.0.attn_norm.weight").offset, true), true);
    expect(formatError(() => openModel(ovl, F)).field).toMatch(/offset$/);
  });

  it("tensor shapes that disagree with the config, missing tensors, bad metadata", () => {
    const at = tensorInfoAt(good, "blk.0.attn_q.weight");
    const shape = copy(good);
    dv(shape).setBigUint64(at.dims + 8, 16n, true); // ne[1] = rows (out) 32 -> 16
    expect(formatError(() => openModel(shape, F))).toMatchObject({ file: F, field: 'tensor "blk.0.attn_q.weight" shape', expected: "[32,32]", found: "[16,32]" });
    expect(formatError(() => openModel(replaceBytes(good, "blk.1.ffn_up.weight", "blk.1.ffn_uq.weight"), F)))
      .toMatchObject({ field: 'tensor "blk.1.ffn_up.weight"', expected: "present, shape [64,32]", found: "missing" });
    expect(formatError(() => openModel(replaceBytes(good, "llama.embedding_length", "llama.embedding_lengtx"), F)))
      .toMatchObject({ field: 'metadata "llama.embedding_lengtx"', expected: "absent (not a llama setting this loader implements)", found: "32" });
    expect(formatError(() => openModel(replaceBytes(good, "\u0005\u0000\u0000\u0000\u0000\u0000\u0000\u0000llama", "\u0005\u0000\u0000\u0000\u0000\u0000\u0000\u0000mamba"), F)))
      .toMatchObject({ field: 'metadata "general.architecture"', expected: '"llama" | "qwen2" | "qwen3" | "gemma" | "gemma2" | "phi3" | "gpt2"', found: '"mamba"' });
    // A broken tokenizer leaves the weights loadable: the error is kept for when a tokenizer is needed.
    const noScores = openModel(replaceBytes(good, "tokenizer.ggml.scores", "tokenizer.ggml.scorez"), F);
    expect(noScores.tokenizer).toBeUndefined();
    expect(noScores.tokenizerError).toMatchObject({ field: 'metadata "tokenizer.ggml.scores"', found: "missing" });
  });

  it("llama metadata: scaled rotary, partial rotary and head counts that do not fit are refused by name", () => {
    const base: Array<[string, GgufKv]> = [
      ["general.architecture", { str: "llama" }], ["llama.embedding_length", { u32: 64 }], ["llama.attention.head_count", { u32: 4 }],
      ["llama.feed_forward_length", { u32: 128 }], ["llama.block_count", { u32: 2 }], ["llama.context_length", { u32: 64 }],
      ["llama.vocab_size", { u32: 100 }], ["llama.attention.layer_norm_rms_epsilon", { f32: 1e-5 }],
    ];
    const config = (extra: Array<[string, GgufKv]>) => ggufConfig(parseGguf(metadataGguf([...new Map([...base, ...extra])]), "m.gguf"));
    expect(config([])).toMatchObject({ d_model: 64, n_heads: 4, n_kv_heads: 4, head_dim: 16, rope_interleaved: true, tied_output: true, bos_id: -1 });
    expect(formatError(() => config([["llama.rope.scaling.type", { str: "yarn" }]]))).toMatchObject({ file: "m.gguf", field: 'metadata "llama.rope.scaling.type"', found: '"yarn"' });
    expect(formatError(() => config([["llama.rope.dimension_count", { u32: 8 }]]))).toMatchObject({ field: 'metadata "llama.rope.dimension_count"', found: "8" });
    expect(formatError(() => config([["llama.attention.head_count_kv", { u32: 3 }]]))).toMatchObject({ field: "n_kv_heads", expected: "a divisor of n_heads 4", found: "3" });
    expect(formatError(() => config([["llama.attention.head_count", { u32: 5 }]]))).toMatchObject({ field: 'metadata "llama.attention.head_count"', found: "5" });
    // The same key twice is refused by the parser.
    expect(formatError(() => parseGguf(metadataGguf([...base, ["llama.block_count", { u32: 3 }]]), "m.gguf"))).toMatchObject({ field: 'metadata "llama.block_count"', found: "a duplicate" });
  });

  it("architectures beyond llama: their keys map, unknown keys and missing arch tensors are refused by name", () => {
    const base = (arch: string): Array<[string, GgufKv]> => [
      ["general.architecture", { str: arch }], [`${arch}.embedding_length`, { u32: 64 }], [`${arch}.attention.head_count`, { u32: 4 }],
      [`${arch}.feed_forward_length`, { u32: 128 }], [`${arch}.block_count`, { u32: 2 }], [`${arch}.context_length`, { u32: 64 }],
      [`${arch}.vocab_size`, { u32: 100 }],
    ];
    const config = (arch: string, extra: Array<[string, GgufKv]> = []) => ggufConfig(parseGguf(metadataGguf([...base(arch), ...extra]), "m.gguf"));
    // llama.cpp's defaults when a key is absent: gemma2's soft-caps 50 / 30 and window 4096 on even layers.
    expect(config("gemma2")).toMatchObject({ activation: "geglu", embed_scale: true, post_norms: true, attention_softcap: 50, final_softcap: 30, sliding_window: 4096, sliding_window_global_every: 2, rope_interleaved: false });
    expect(config("qwen2")).toMatchObject({ attention_bias: true, attention_out_bias: false, rope_interleaved: false });
    expect(config("qwen3")).toMatchObject({ qk_norm: true, attention_bias: false });
    expect(config("gpt2", [["gpt2.attention.layer_norm_epsilon", { f32: 1e-5 }]])).toMatchObject({ norm: "layernorm", norm_bias: true, positions: "learned", activation: "gelu_tanh", ffn_bias: true });
    // A mixture of experts would load as a dense model without a word: refused by its key.
    expect(formatError(() => config("llama", [["llama.expert_count", { u32: 8 }]]))).toMatchObject({ field: 'metadata "llama.expert_count"', expected: "absent (not a llama setting this loader implements)", found: "8" });
    expect(formatError(() => config("gemma2", [["gemma2.attn_logit_softcapping", { f32: -1 }]]))).toMatchObject({ field: 'metadata "gemma2.attn_logit_softcapping"', expected: "a number > 0" });
    const qwen3 = fixtureBytesGguf("qwen3_f32.gguf");
    expect(formatError(() => openModel(replaceBytes(qwen3, "blk.1.attn_k_norm.weight", "blk.1.attn_k_morm.weight"), "qwen3_f32.gguf")))
      .toMatchObject({ field: 'tensor "blk.1.attn_k_norm.weight"', expected: "present, shape [16]", found: "missing" });
    const phi3 = fixtureBytesGguf("phi3_f32.gguf");
    expect(formatError(() => openModel(replaceBytes(phi3, "blk.0.ffn_up.weight", "blk.0.ffn_uq.weight"), "phi3_f32.gguf")))
      .toMatchObject({ field: 'tensor "blk.0.ffn_up.weight"', expected: "present, shape [256,64]", found: "missing" });
  });

  it("metadata of every value type is read (u8 .. f64, bool, strings, nested arrays)", () => {
    const g = parseGguf(good, F);
    expect(g.version).toBe(3);
    expect(g.alignment).toBe(64);
    const m = Object.fromEntries([...g.metadata].filter(([k]) => k.startsWith("simdformer.test.")));
    expect(m).toEqual({
      "simdformer.test.u8": 200, "simdformer.test.i8": -100, "simdformer.test.u16": 60000, "simdformer.test.i16": -30000,
      "simdformer.test.i32": -2000000000, "simdformer.test.u64": 2n ** 53n + 2n, "simdformer.test.i64": -(2 ** 40),
      "simdformer.test.f64": 0.1, "simdformer.test.nested": [[1, 2], [], [3]],
    });
    expect(g.get("tokenizer.ggml.add_bos_token")).toBe(true);
    expect(g.get("general.name")).toBe("simdformer format fixture");
    expect((g.get("tokenizer.ggml.scores") as number[]).length).toBe(351);
  });
});

describe("llama2.c defects", () => {
  const { files } = fixtureDir("llama2c");
  const bin = files["model.bin"];

  it("truncated or padded: the size the header implies", () => {
    const e = formatError(() => openModel({ files: { "model.bin": bin.subarray(0, bin.length - 4) } }));
    expect(e).toMatchObject({ file: "model.bin", field: "format" });
    const withHeader = formatError(() => openModel({ files: { "m.bin": bin.subarray(0, 27) }, main: "m.bin" }));
    expect(withHeader.found).toMatch(/27 bytes/);
  });

  it("a llama2.c export of another version (\"ak42\" magic, version 2: int8) is named as such", () => {
    const v1 = new Uint8Array(256);
    new DataView(v1.buffer).setUint32(0, 0x616b3432, true);
    new DataView(v1.buffer).setInt32(4, 2, true);
    expect(formatError(() => openModel(v1, "q80.bin"))).toMatchObject({ file: "q80.bin", field: "llama2.c version", found: expect.stringMatching(/^2 \(re-export with export.py --version 1\)/) });
  });

  it("header fields out of range name the field", async () => {
    const { parseLlama2cHeader } = await import("../../src/formats/llama2c.js");
    const h = copy(bin);
    dv(h).setInt32(12, 3, true); // n_heads
    expect(formatError(() => parseLlama2cHeader(h, "model.bin"))).toMatchObject({ field: "n_heads", expected: "a divisor of dim 32", found: "3" });
    const kv = copy(bin);
    dv(kv).setInt32(16, 0, true);
    expect(formatError(() => parseLlama2cHeader(kv, "model.bin"))).toMatchObject({ field: "n_kv_heads", found: "0" });
    expect(formatError(() => parseLlama2cHeader(bin.subarray(0, bin.length - 4), "model.bin"))).toMatchObject({ field: "file size", found: `${bin.length - 4} bytes` });
  });

  it("tokenizer.bin truncated, or a token longer than max_token_length", () => {
    const tok = files["tokenizer.bin"];
    expect(formatError(() => parseLlama2cTokenizer(tok.subarray(0, 100), 351)).field).toMatch(/^token \d+/);
    expect(formatError(() => parseLlama2cTokenizer(tok, 352))).toMatchObject({ field: "token 351" });
    expect(formatError(() => parseLlama2cTokenizer(tok, 350))).toMatchObject({ field: "file size" });
    const long = copy(tok);
    dv(long).setInt32(4 + 4, 1000, true); // length of token 0
    expect(formatError(() => parseLlama2cTokenizer(long, 351))).toMatchObject({ file: "tokenizer.bin", field: "token 0 length" });
  });
});

describe("Hugging Face defects", () => {
  const llama = fixtureDir("llama").files;
  const gpt2 = fixtureDir("gpt2").files;
  const withConfig = (patch: Record<string, unknown>) => ({
    files: { ...llama, "config.json": enc.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(llama["config.json"])), ...patch })) },
  });

  it("safetensors header length beyond the file, unknown dtype", () => {
    const st = copy(llama["model.safetensors"]);
    dv(st).setBigUint64(0, 1n << 40n, true);
    expect(formatError(() => openModel({ files: { ...llama, "model.safetensors": st } })).file).toBe("model.safetensors");
    const dt = replaceBytes(llama["model.safetensors"], '"dtype":"F32"', '"dtype":"I32"');
    expect(formatError(() => openModel({ files: { ...llama, "model.safetensors": dt } }))).toMatchObject({ file: "model.safetensors", found: '"I32"' });
  });

  it("config.json that disagrees with the tensors: shapes, missing layers; unsupported configs", () => {
    expect(formatError(() => fullLoad(withConfig({ hidden_size: 48 })))).toMatchObject({ file: "model.safetensors", field: expect.stringMatching(/^tensor ".+" shape$/), expected: "[48]", found: "[32]" });
    expect(formatError(() => fullLoad(withConfig({ num_hidden_layers: 3 })))).toMatchObject({ field: 'tensor "model.layers.2.input_layernorm.weight"', found: "missing" });
    expect(formatError(() => fullLoad(withConfig({ tie_word_embeddings: true, vocab_size: 300 })))).toMatchObject({ expected: "[300,32]" });
    expect(formatError(() => openModel(withConfig({ rope_scaling: { type: "linear", factor: 2 } })))).toMatchObject({ file: "config.json", field: "rope_scaling" });
    expect(formatError(() => openModel(withConfig({ model_type: "t5" })))).toMatchObject({ field: "model_type", found: '"t5"' });
    expect(formatError(() => openModel(withConfig({ num_attention_heads: "four" })))).toMatchObject({ field: "num_attention_heads", found: '"four"' });
    expect(formatError(() => openModel({ files: { ...llama, "config.json": enc.encode("{ nope") } }))).toMatchObject({ file: "config.json", field: "contents" });
    const { "config.json": _, ...noConfig } = llama;
    expect(formatError(() => openModel({ files: noConfig }))).toMatchObject({ file: "model.safetensors", field: "config", found: "neither" });
  });

  it("sharded: a shard missing from the files, a tensor missing from its shard", () => {
    const { "model-00002-of-00002.safetensors": _, ...oneShard } = gpt2;
    expect(formatError(() => openModel({ files: oneShard }))).toMatchObject({ file: "model.safetensors.index.json", expected: 'the shard "model-00002-of-00002.safetensors" among the files' });
    const index = JSON.parse(new TextDecoder().decode(gpt2["model.safetensors.index.json"]));
    index.weight_map["transformer.extra.weight"] = "model-00001-of-00002.safetensors";
    expect(formatError(() => openModel({ files: { ...gpt2, "model.safetensors.index.json": enc.encode(JSON.stringify(index)) } })))
      .toMatchObject({ file: "model-00001-of-00002.safetensors", field: 'tensor "transformer.extra.weight"', found: "missing" });
  });
});

describe("byte-mutation fuzz: a correct load or a ModelFormatError, nothing else", () => {
  const cases: Array<[string, () => ModelFiles, string]> = [
    ["llama.gguf", () => ({ files: { "llama.gguf": fixtureBytes("llama.gguf") } }), "llama.gguf"],
    ["llama_q.gguf", () => ({ files: { "llama_q.gguf": fixtureBytes("llama_q.gguf") } }), "llama_q.gguf"],
    ["kquant_llama.gguf (Q4_K / Q5_K / Q6_K)", () => ({ files: { "kquant_llama.gguf": fixtureBytes("kquant_llama.gguf") } }), "kquant_llama.gguf"],
    ["llama2.c model.bin", () => fixtureDir("llama2c"), "model.bin"],
    ["llama2.c tokenizer.bin", () => fixtureDir("llama2c"), "tokenizer.bin"],
    ["HF model.safetensors", () => fixtureDir("llama"), "model.safetensors"],
    ["HF config.json", () => fixtureDir("gpt2"), "config.json"],
    ["HF tokenizer.json", () => fixtureDir("llama"), "tokenizer.json"],
    ["HF model.safetensors.index.json", () => fixtureDir("gpt2"), "model.safetensors.index.json"],
  ];
  const N = 400;

  it.each(cases)(`%s: ${N} mutations`, (_, files, target) => {
    const base = files();
    const orig = base.files[target];
    const rng = new Rng(0x5eed + orig.length);
    const int = (n: number) => Math.floor(rng.next() * n);
    const nasty = [0, 1, 0x7f, 0x80, 0xff];
    let loaded = 0;
    let rejected = 0;
    const t0 = performance.now();
    for (let c = 0; c < N; c++) {
      let b = copy(orig);
      const op = int(4);
      // Most of a file is tensor data, where any bytes are a valid load: aim at the first 8 KiB more often.
      const span = op === 0 ? b.length : Math.min(b.length, 8192);
      if (op === 3) b = b.subarray(0, int(b.length));
      else for (let k = 1 + int(4); k > 0; k--) b[int(span)] = rng.next() < 0.5 ? nasty[int(nasty.length)] : int(256);
      try {
        fullLoad({ files: { ...base.files, [target]: b }, main: ["tokenizer.bin", "config.json", "tokenizer.json"].includes(target) ? undefined : target });
        loaded++;
      } catch (e) {
        if (!(e instanceof ModelFormatError)) {
          // Tokenizers may refuse to encode with a typed error after a mutated (but loadable) vocabulary.
          if (e instanceof SimdformerError && /encode/.test(e.message)) {
            rejected++;
            continue;
          }
          throw new Error(`case ${c} (op ${op}, ${b.length} bytes): ${(e as Error).stack}`);
        }
        expect(e.file.length).toBeGreaterThan(0);
        rejected++;
      }
    }
    const ms = performance.now() - t0;
    console.log(`${target}: ${N} mutations, ${loaded} loaded, ${rejected} rejected, ${ms.toFixed(0)} ms`);
    expect(loaded + rejected).toBe(N);
    expect(rejected).toBeGreaterThan(0);
  });
});

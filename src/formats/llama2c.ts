// llama2.c checkpoints (Karpathy's run.c). The legacy "version 0" export: a header of 7 int32
// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size
// means the classifier is not shared with the embedding), then float32 weights in run.c's
// order, each stacked over layers. "Version 1" (export.py --version 1): a 256-byte header
// ("ak42" magic, version, the 7 int32, a shared-classifier byte), then the weights norms first,
// no rotary tables. And its tokenizer.bin: max_token_length, then per token a score f32, a
// length i32 and the bytes.
import { ModelFormatError } from "../errors.js";
import { type ModelConfig, parseConfig } from "../config/config.js";
import type { TensorSource } from "../config/tensor_source.js";
import type { OpenedModel } from "./source.js";
import { SentencePieceTokenizer } from "./tokenizers/bpe.js";

/** The header of a llama2.c checkpoint. */
export interface Llama2cHeader {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** The classifier is the embedding (vocab_size positive in version 0, the flag byte in version 1). */
  shared: boolean;
  /** Export version: 0 (legacy) or 1 ("ak42" header, float32). */
  version: 0 | 1;
}

const HEADER_BYTES = 28;
const V1_HEADER_BYTES = 256;
const V1_MAGIC = 0x616b3432; // "ak42"
const FIELDS = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"] as const;

/** Tensors in file order: name, whether stacked over layers, shape of one. */
function layout(h: Llama2cHeader): Array<{ name: string; perLayer: boolean; shape: number[] }> {
  const hs = h.dim / h.nHeads;
  const kv = h.nKvHeads * hs;
  const t = (name: string, perLayer: boolean, shape: number[]) => ({ name, perLayer, shape });
  const embed = t("token_embedding_table", false, [h.vocabSize, h.dim]);
  const attNorm = t("rms_att_weight", true, [h.dim]);
  const ffnNorm = t("rms_ffn_weight", true, [h.dim]);
  const finalNorm = t("rms_final_weight", false, [h.dim]);
  const attn = [t("wq", true, [h.dim, h.dim]), t("wk", true, [kv, h.dim]), t("wv", true, [kv, h.dim]), t("wo", true, [h.dim, h.dim])];
  const ffn = [t("w1", true, [h.hiddenDim, h.dim]), t("w2", true, [h.dim, h.hiddenDim]), t("w3", true, [h.hiddenDim, h.dim])];
  const out = h.version === 0
    // run.c skips the precomputed rotary tables (freq_cis_real, freq_cis_imag).
    ? [embed, attNorm, ...attn, ffnNorm, ...ffn, finalNorm, t("freq_cis", false, [h.seqLen, hs])]
    : [attNorm, ffnNorm, finalNorm, embed, ...attn, ...ffn];
  if (!h.shared) out.push(t("wcls", false, [h.vocabSize, h.dim]));
  return out;
}

/** Our "hf-llama" name for llama2.c tensor `name` of layer `i`. */
const HF: Record<string, string> = {
  token_embedding_table: "model.embed_tokens.weight", rms_att_weight: "input_layernorm.weight",
  wq: "self_attn.q_proj.weight", wk: "self_attn.k_proj.weight", wv: "self_attn.v_proj.weight", wo: "self_attn.o_proj.weight",
  rms_ffn_weight: "post_attention_layernorm.weight", w1: "mlp.gate_proj.weight", w2: "mlp.down_proj.weight", w3: "mlp.up_proj.weight",
  rms_final_weight: "model.norm.weight", wcls: "lm_head.weight",
};

/**
 * Reads and checks the header: every field in range, heads dividing dim, kv heads dividing
 * heads, an even head size, and a file exactly as long as the weights the header implies.
 * `bytes` may be the file's first bytes only (256 are enough), with the file's size given
 * (null for a stream of unknown length: its end is checked as it is read).
 */
export function parseLlama2cHeader(bytes: Uint8Array, file = "<bytes>", fileSize: number | null = bytes.byteLength): Llama2cHeader {
  const fail = (field: string, expected: string, found: string): never => {
    throw new ModelFormatError(file, field, expected, found);
  };
  if (bytes.byteLength < HEADER_BYTES) fail("header", `${HEADER_BYTES} bytes (7 int32)`, `a file of ${bytes.byteLength} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let version: 0 | 1 = 0;
  let at = 0;
  if (dv.getUint32(0, true) === V1_MAGIC) {
    const v = dv.getInt32(4, true);
    if (v !== 1) fail("llama2.c version", '0 (legacy, 7 int32 header) or 1 ("ak42", float32)', `${v} (re-export with export.py --version 1)`);
    if (bytes.byteLength < V1_HEADER_BYTES) fail("header", `${V1_HEADER_BYTES} bytes (version 1)`, `a file of ${bytes.byteLength} bytes`);
    version = 1;
    at = 8;
  }
  const v = FIELDS.map((_, i) => dv.getInt32(at + 4 * i, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocab, seqLen] = v;
  const limit = 1 << 24;
  FIELDS.forEach((f, i) => {
    const x = f === "vocab_size" && version === 0 ? Math.abs(v[i]) : v[i];
    if (x < 1 || x > limit) fail(f, `1..${limit}${f === "vocab_size" && version === 0 ? " in magnitude" : ""}`, String(v[i]));
  });
  if (dim % nHeads !== 0) fail("n_heads", `a divisor of dim ${dim}`, String(nHeads));
  if (nKvHeads > nHeads || nHeads % nKvHeads !== 0) fail("n_kv_heads", `a divisor of n_heads ${nHeads}`, String(nKvHeads));
  if ((dim / nHeads) % 2 !== 0) fail("dim / n_heads", "an even head size (rotary pairs)", String(dim / nHeads));
  let shared = vocab > 0;
  if (version === 1) {
    const flag = bytes[at + 28];
    if (flag > 1) fail("shared_classifier", "0 or 1", String(flag));
    shared = flag === 1;
  }
  const h: Llama2cHeader = { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize: Math.abs(vocab), seqLen, shared, version };
  const want = llama2cFileSize(h);
  if (fileSize !== null && fileSize !== want) fail("file size", `${want} bytes (header + weights of ${JSON.stringify(FIELDS.map((f, i) => [f, v[i]]))})`, `${fileSize} bytes`);
  return h;
}

/** Bytes of a checkpoint with this header. */
export function llama2cFileSize(h: Llama2cHeader): number {
  const floats = layout(h).reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1) * (t.perLayer ? h.nLayers : 1), 0);
  return (h.version === 0 ? HEADER_BYTES : V1_HEADER_BYTES) + 4 * floats;
}

/** A tensor of a llama2.c file under its "hf-llama" name: where its float32 values are. */
export interface Llama2cSpan {
  name: string;
  begin: number;
  shape: number[];
  size: number;
}

/** The tensors a model reads, in file order (the rotary tables run.c skips are left out). */
export function llama2cSpans(h: Llama2cHeader): Llama2cSpan[] {
  const out: Llama2cSpan[] = [];
  let at = h.version === 0 ? HEADER_BYTES : V1_HEADER_BYTES;
  for (const t of layout(h)) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    const hf = HF[t.name];
    for (let i = 0; i < (t.perLayer ? h.nLayers : 1); i++) {
      if (hf) out.push({ name: t.perLayer ? `model.layers.${i}.${hf}` : hf, begin: at, shape: t.shape, size });
      at += 4 * size;
    }
  }
  return out;
}

/** The config of a llama2.c model (run.c: RMSNorm eps 1e-5, rotary base 10000 on adjacent pairs, SwiGLU, no biases). */
export function llama2cConfig(h: Llama2cHeader, file = "<bytes>"): ModelConfig {
  return parseConfig({
    arch: "decoder", naming: "hf-llama", d_model: h.dim, n_heads: h.nHeads, n_kv_heads: h.nKvHeads, d_ff: h.hiddenDim,
    decoder_layers: h.nLayers, activation: "swiglu", norm: "rmsnorm", norm_eps: 1e-5, norm_position: "pre", decoder_final_norm: true,
    positions: "rotary", rope_theta: 10000, rope_interleaved: true, max_positions: h.seqLen,
    tied_output: h.shared, output_bias: false, attention_bias: false, ffn_bias: false,
    vocab_size: h.vocabSize, bos_id: 1, eos_id: 2, unk_id: 0,
  }, `${file} header`);
}

/** The weights of a llama2.c checkpoint as "hf-llama" tensors (slices of the file, read as float32). */
class Llama2cTensors implements TensorSource {
  private readonly spans: ReadonlyMap<string, Llama2cSpan>;

  constructor(readonly file: string, private readonly bytes: Uint8Array, h: Llama2cHeader) {
    this.spans = new Map(llama2cSpans(h).map((s) => [s.name, s]));
  }

  has(name: string): boolean {
    return this.spans.has(name);
  }

  shape(name: string): readonly number[] {
    return this.span(name).shape;
  }

  read(name: string): Float32Array {
    const s = this.span(name);
    const out = new Float32Array(s.size);
    const dv = new DataView(this.bytes.buffer, this.bytes.byteOffset + s.begin, 4 * s.size);
    for (let i = 0; i < s.size; i++) out[i] = dv.getFloat32(4 * i, true);
    return out;
  }

  private span(name: string) {
    const s = this.spans.get(name);
    if (!s) throw new ModelFormatError(this.file, `tensor "${name}"`, "present", "missing");
    return s;
  }
}

/**
 * Parses llama2.c's tokenizer.bin for a vocabulary of `vocabSize` tokens: ids 0..2 are
 * <unk>, <s>, </s>; pieces carry their spaces as " " (the exporter replaced "▁").
 */
export function parseLlama2cTokenizer(bytes: Uint8Array, vocabSize: number, file = "tokenizer.bin"): SentencePieceTokenizer {
  const fail = (field: string, expected: string, found: string): never => {
    throw new ModelFormatError(file, field, expected, found);
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder("utf-8", { fatal: true });
  if (bytes.byteLength < 4) fail("max_token_length", "4 bytes", `a file of ${bytes.byteLength} bytes`);
  const maxLen = dv.getInt32(0, true);
  if (maxLen < 1 || maxLen > 1 << 16) fail("max_token_length", "1..65536", String(maxLen));
  let at = 4;
  const tokens: string[] = [];
  const scores = new Float32Array(vocabSize);
  for (let i = 0; i < vocabSize; i++) {
    if (at + 8 > bytes.byteLength) fail(`token ${i}`, `a score and a length at offset ${at}`, `${bytes.byteLength - at} bytes left (a vocabulary of ${vocabSize} tokens expected)`);
    scores[i] = dv.getFloat32(at, true);
    const len = dv.getInt32(at + 4, true);
    at += 8;
    if (Number.isNaN(scores[i])) fail(`token ${i} score`, "a number", "NaN");
    if (len < 0 || len > maxLen) fail(`token ${i} length`, `0..${maxLen} (max_token_length)`, String(len));
    if (at + len > bytes.byteLength) fail(`token ${i} bytes`, `${len} bytes at offset ${at}`, `${bytes.byteLength - at} left`);
    try {
      tokens.push(dec.decode(bytes.subarray(at, at + len)));
    } catch {
      fail(`token ${i}`, "UTF-8 text", `invalid bytes at offset ${at}`);
    }
    at += len;
  }
  if (at !== bytes.byteLength) fail("file size", `${at} bytes (${vocabSize} tokens)`, `${bytes.byteLength} bytes`);
  return new SentencePieceTokenizer({ tokens, scores, special: { unk: 0, bos: 1, eos: 2 }, space: " ", addPrefixSpace: true }, file);
}

/** True when the bytes look like a llama2.c checkpoint (a sane header and the exact implied size, or the "ak42" magic). */
export function isLlama2c(bytes: Uint8Array, fileSize: number | null = bytes.byteLength): boolean {
  if (bytes.byteLength >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === V1_MAGIC) return true;
  try {
    parseLlama2cHeader(bytes, "<bytes>", fileSize);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a llama2.c sample ends: training data separates stories with BOS (1), and run.c stops
 * when the model produces it; EOS (2) ends a text too.
 */
export const LLAMA2C_STOP_IDS: readonly number[] = [1, 2];

/** Opens a llama2.c checkpoint, with its tokenizer.bin when given. */
export function openLlama2c(bytes: Uint8Array, file = "<bytes>", tokenizer?: { bytes: Uint8Array; file: string }): OpenedModel {
  const h = parseLlama2cHeader(bytes, file);
  const config = llama2cConfig(h, file);
  return {
    format: "llama2c", file, config, tensors: new Llama2cTensors(file, bytes, h), metadata: {}, stopIds: LLAMA2C_STOP_IDS,
    tokenizer: tokenizer ? parseLlama2cTokenizer(tokenizer.bytes, h.vocabSize, tokenizer.file) : undefined,
  };
}

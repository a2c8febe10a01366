// A GGUF file as a model: llama.* metadata -> ModelConfig, llama.cpp tensor names -> our
// "hf-llama" names, tokenizer.ggml.* -> a BPE tokenizer.
import { ModelFormatError } from "../errors.js";
import { type ModelConfig, parseConfig } from "../model/config.js";
import { type GgufFile, type GgufValue, ggufTypeOf, parseGguf } from "./gguf.js";
import { checkShapes, type FormatTokenizer, llamaTensors, type OpenedModel, RenamedSource } from "./source.js";
import { Gpt2BpeTokenizer, PRE_TOKENIZER_PATTERNS, SentencePieceTokenizer } from "./tokenizers/bpe.js";

/** Our "hf-llama" name -> llama.cpp's GGUF name. */
export function ggufName(hf: string): string | undefined {
  const fixed: Record<string, string> = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
  };
  if (fixed[hf]) return fixed[hf];
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hf);
  if (!m) return undefined;
  const parts: Record<string, string> = {
    input_layernorm: "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", post_attention_layernorm: "ffn_norm", "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
  };
  const p = parts[m[2]];
  return p && `blk.${m[1]}.${p}.weight`;
}

/** Typed metadata getters that fail with the key, expected and found. */
function meta(g: GgufFile) {
  const fail = (key: string, expected: string, v: GgufValue | undefined): never => {
    throw new ModelFormatError(g.file, `metadata "${key}"`, expected, ggufTypeOf(v));
  };
  return {
    fail,
    int(key: string, min: number, dflt?: number): number {
      const v = g.get(key) ?? dflt;
      if (typeof v !== "number" || !Number.isInteger(v) || v < min) return fail(key, `an integer >= ${min}`, g.get(key));
      return v;
    },
    num(key: string, dflt: number): number {
      const v = g.get(key) ?? dflt;
      if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) return fail(key, "a number > 0", g.get(key));
      return v;
    },
    bool(key: string, dflt: boolean): boolean {
      const v = g.get(key) ?? dflt;
      if (typeof v !== "boolean") return fail(key, "a bool", g.get(key));
      return v;
    },
    str(key: string): string | undefined {
      const v = g.get(key);
      if (v !== undefined && typeof v !== "string") return fail(key, "a string", v);
      return v;
    },
    array<T>(key: string, what: string, ok: (x: GgufValue) => boolean): T[] | undefined {
      const v = g.get(key);
      if (v === undefined) return undefined;
      if (!Array.isArray(v)) return fail(key, `an array of ${what}`, v);
      const bad = v.findIndex((x) => !ok(x));
      if (bad >= 0) return fail(`${key}[${bad}]`, what, v[bad]);
      return v as T[];
    },
  };
}

/** The config a llama-architecture GGUF describes. */
export function ggufConfig(g: GgufFile): ModelConfig {
  const m = meta(g);
  const arch = m.str("general.architecture");
  if (arch !== "llama") m.fail("general.architecture", '"llama"', arch);
  const a = `${arch}.`;
  const d = m.int(`${a}embedding_length`, 1);
  const heads = m.int(`${a}attention.head_count`, 1);
  const kvHeads = m.int(`${a}attention.head_count_kv`, 1, heads);
  if (d % heads !== 0 && g.get(`${a}attention.key_length`) === undefined) m.fail(`${a}attention.head_count`, `a divisor of embedding_length ${d}`, heads);
  const headDim = m.int(`${a}attention.key_length`, 1, d / heads);
  const rotDim = m.int(`${a}rope.dimension_count`, 1, headDim);
  if (rotDim !== headDim) m.fail(`${a}rope.dimension_count`, `${headDim} (rotary over the whole head; partial rotary is not supported)`, rotDim);
  // Scaled rotary positions (Llama 3.1's per-dimension factors, linear / YaRN scaling) are refused with a
  // typed error: loading such a model as plain rotary would give wrong outputs without a word.
  if (g.has("rope_freqs.weight")) throw new ModelFormatError(g.file, 'tensor "rope_freqs.weight"', "absent (per-dimension rotary scaling is not supported)", "present");
  const scaling = m.str(`${a}rope.scaling.type`);
  if (scaling !== undefined && scaling !== "none") m.fail(`${a}rope.scaling.type`, '"none" (scaled rotary positions are not supported)', scaling);
  const tokens = g.get("tokenizer.ggml.tokens");
  const embed = g.tensors.get("token_embd.weight");
  const vocab = m.int(`${a}vocab_size`, 1, Array.isArray(tokens) ? tokens.length : embed?.shape[0]);
  const addBos = m.bool("tokenizer.ggml.add_bos_token", true);
  const id = (key: string) => {
    const v = g.get(key);
    if (v === undefined) return -1;
    return m.int(key, 0);
  };
  return parseConfig({
    arch: "decoder", naming: "hf-llama",
    d_model: d, n_heads: heads, n_kv_heads: kvHeads, head_dim: headDim,
    d_ff: m.int(`${a}feed_forward_length`, 1), decoder_layers: m.int(`${a}block_count`, 1),
    activation: "swiglu", norm: "rmsnorm", norm_eps: m.num(`${a}attention.layer_norm_rms_epsilon`, 1e-5), norm_position: "pre",
    decoder_final_norm: true, positions: "rotary", rope_theta: m.num(`${a}rope.freq_base`, 10000),
    // llama.cpp's converter permutes q/k rows so that rotary pairs are adjacent (2i, 2i+1).
    rope_interleaved: true,
    max_positions: m.int(`${a}context_length`, 1),
    tied_output: !g.has("output.weight"), output_bias: false, attention_bias: false, ffn_bias: false,
    vocab_size: vocab,
    bos_id: addBos ? id("tokenizer.ggml.bos_token_id") : -1,
    eos_id: id("tokenizer.ggml.eos_token_id"),
    unk_id: id("tokenizer.ggml.unknown_token_id"),
    pad_id: id("tokenizer.ggml.padding_token_id"),
  }, `${g.file} metadata`);
}

/** The tokenizer stored in GGUF metadata ("llama": SentencePiece-style; "gpt2": byte-level BPE), or undefined. */
export function ggufTokenizer(g: GgufFile, config?: ModelConfig): FormatTokenizer | undefined {
  const m = meta(g);
  const model = m.str("tokenizer.ggml.model");
  if (model === undefined) return undefined;
  const source = `${g.file}: tokenizer.ggml`;
  const tokens = m.array<string>("tokenizer.ggml.tokens", "strings", (x) => typeof x === "string");
  if (!tokens) return m.fail("tokenizer.ggml.tokens", "an array of strings", undefined);
  if (config && tokens.length !== config.vocab_size) m.fail("tokenizer.ggml.tokens", `${config.vocab_size} tokens (the vocabulary size)`, tokens);
  const special = {
    bos: g.get("tokenizer.ggml.bos_token_id") as number | undefined,
    eos: g.get("tokenizer.ggml.eos_token_id") as number | undefined,
    unk: g.get("tokenizer.ggml.unknown_token_id") as number | undefined,
    pad: g.get("tokenizer.ggml.padding_token_id") as number | undefined,
  };
  for (const [k, v] of Object.entries(special)) {
    if (v !== undefined && (typeof v !== "number" || !Number.isInteger(v))) m.fail(`tokenizer.ggml.${k}_token_id`, "an integer", v);
  }
  const types = m.array<number>("tokenizer.ggml.token_type", "integers", (x) => typeof x === "number" && Number.isInteger(x));
  if (model === "llama") {
    const scores = m.array<number>("tokenizer.ggml.scores", "numbers", (x) => typeof x === "number");
    if (!scores) return m.fail("tokenizer.ggml.scores", "an array of numbers (llama tokenizer)", undefined);
    return new SentencePieceTokenizer({
      tokens, scores, types, special, space: "\u2581", addPrefixSpace: m.bool("tokenizer.ggml.add_space_prefix", true),
    }, source);
  }
  if (model === "gpt2") {
    const merges = m.array<string>("tokenizer.ggml.merges", "strings", (x) => typeof x === "string");
    if (!merges) return m.fail("tokenizer.ggml.merges", "an array of strings (gpt2 tokenizer)", undefined);
    const pre = m.str("tokenizer.ggml.pre") ?? "default";
    const pattern = PRE_TOKENIZER_PATTERNS[pre];
    if (!pattern) m.fail("tokenizer.ggml.pre", Object.keys(PRE_TOKENIZER_PATTERNS).map((k) => `"${k}"`).join(" | "), pre);
    return new Gpt2BpeTokenizer({ tokens, merges, special, pattern }, source);
  }
  return m.fail("tokenizer.ggml.model", '"llama" or "gpt2"', model);
}

/** Opens a GGUF model: config, tensors (as "hf-llama"), tokenizer; every tensor shape checked. */
export function openGguf(bytes: Uint8Array, file = "<bytes>"): OpenedModel {
  const g = parseGguf(bytes, file);
  const config = ggufConfig(g);
  const expected = llamaTensors(config);
  const names = new Map<string, string>();
  for (const [hf] of expected) names.set(hf, ggufName(hf)!);
  checkShapes(file, g, expected.map(([hf, shape]) => [names.get(hf)!, shape] as const));
  const opened = { format: "gguf" as const, file, config, tensors: new RenamedSource(file, g, names), metadata: {} };
  // A tokenizer we cannot build (e.g. an unknown pre-tokenizer) does not stop the weights from loading.
  try {
    return { ...opened, tokenizer: ggufTokenizer(g, config) };
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw e;
    return { ...opened, tokenizerError: e };
  }
}

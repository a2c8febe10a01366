// A GGUF file as a model: <arch>.* metadata -> ModelConfig (llama, qwen2, qwen3, gemma, gemma2,
// phi3, gpt2), llama.cpp tensor names -> our "hf-llama" names, tokenizer.ggml.* -> a BPE tokenizer.
import { ModelFormatError } from "../errors.js";
import { type ModelConfig, parseConfig } from "../config/config.js";
import { type GgufFile, type GgufValue, ggufTypeOf, parseGguf } from "./gguf.js";
import { checkShapes, type FormatTokenizer, llamaTensors, type OpenedModel, RenamedSource } from "./source.js";
import { Gpt2BpeTokenizer, PRE_TOKENIZER_PATTERNS, SentencePieceTokenizer } from "./tokenizers/bpe.js";

/** The architectures (general.architecture) this loader maps. */
export const GGUF_ARCHITECTURES = ["llama", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "gpt2"] as const;
type GgufArch = (typeof GGUF_ARCHITECTURES)[number];

/** `<arch>.` keys each architecture may carry; any other is refused by name (it would change the math). */
const COMMON_KEYS = [
  "context_length", "embedding_length", "block_count", "feed_forward_length", "attention.head_count", "attention.head_count_kv",
  "attention.key_length", "attention.value_length", "vocab_size",
];
const ROPE_KEYS = ["rope.freq_base", "rope.dimension_count", "rope.scaling.type", "attention.layer_norm_rms_epsilon"];
const ARCH_KEYS: Record<GgufArch, readonly string[]> = {
  llama: [...COMMON_KEYS, ...ROPE_KEYS],
  qwen2: [...COMMON_KEYS, ...ROPE_KEYS],
  qwen3: [...COMMON_KEYS, ...ROPE_KEYS],
  gemma: [...COMMON_KEYS, ...ROPE_KEYS],
  gemma2: [...COMMON_KEYS, ...ROPE_KEYS, "attn_logit_softcapping", "final_logit_softcapping", "attention.sliding_window"],
  phi3: [...COMMON_KEYS, ...ROPE_KEYS, "attention.sliding_window"],
  gpt2: [...COMMON_KEYS, "attention.layer_norm_epsilon"],
};

/** Our "hf-llama" layer part -> llama.cpp's (gemma2's sandwich norms differ, see ggufName). */
const LAYER_PARTS: Record<string, string> = {
  input_layernorm: "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
  "self_attn.qkv_proj": "attn_qkv", "self_attn.o_proj": "attn_output", "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm",
  post_attention_layernorm: "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.gate_up_proj": "ffn_up",
  "mlp.down_proj": "ffn_down",
};
const SANDWICH_PARTS: Record<string, string> = {
  post_attention_layernorm: "post_attention_norm", pre_feedforward_layernorm: "ffn_norm", post_feedforward_layernorm: "post_ffw_norm",
};

/** Our "hf-llama" name -> llama.cpp's GGUF name. */
export function ggufName(hf: string, config: ModelConfig): string | undefined {
  const fixed: Record<string, string> = {
    "model.embed_tokens.weight": "token_embd.weight", "model.embed_positions.weight": "position_embd.weight",
    "model.norm.weight": "output_norm.weight", "model.norm.bias": "output_norm.bias",
    "lm_head.weight": "output.weight", "lm_head.bias": "output.bias",
  };
  if (fixed[hf]) return fixed[hf];
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hf);
  if (!m) return undefined;
  const p = (config.post_norms ? SANDWICH_PARTS[m[2]] : undefined) ?? LAYER_PARTS[m[2]];
  return p && `blk.${m[1]}.${p}.${m[3]}`;
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

/**
 * The config a GGUF of one of {@link GGUF_ARCHITECTURES} describes, following llama.cpp's
 * reading of the same keys (defaults included: gemma2's soft-caps 50 / 30 and window 4096).
 */
export function ggufConfig(g: GgufFile): ModelConfig {
  const m = meta(g);
  const arch = m.str("general.architecture") as GgufArch | undefined;
  if (!arch || !GGUF_ARCHITECTURES.includes(arch)) m.fail("general.architecture", GGUF_ARCHITECTURES.map((a) => `"${a}"`).join(" | "), arch);
  const a = `${arch}.`;
  const known = new Set(ARCH_KEYS[arch!].map((k) => a + k));
  for (const key of g.metadata.keys()) {
    if (key.startsWith(a) && !known.has(key)) m.fail(key, `absent (not a ${arch} setting this loader implements)`, g.get(key));
  }
  const d = m.int(`${a}embedding_length`, 1);
  const heads = m.int(`${a}attention.head_count`, 1);
  const kvHeads = m.int(`${a}attention.head_count_kv`, 1, heads);
  if (d % heads !== 0 && g.get(`${a}attention.key_length`) === undefined) m.fail(`${a}attention.head_count`, `a divisor of embedding_length ${d}`, heads);
  const headDim = m.int(`${a}attention.key_length`, 1, d / heads);
  const valueDim = m.int(`${a}attention.value_length`, 1, headDim);
  if (valueDim !== headDim) m.fail(`${a}attention.value_length`, `${headDim} (= attention.key_length)`, valueDim);
  const gpt2 = arch === "gpt2";
  if (!gpt2) {
    const rotDim = m.int(`${a}rope.dimension_count`, 1, headDim);
    if (rotDim !== headDim) m.fail(`${a}rope.dimension_count`, `${headDim} (rotary over the whole head; partial rotary is not supported)`, rotDim);
  }
  // Scaled rotary positions (Llama 3.1's per-dimension factors, linear / YaRN scaling) are refused with a
  // typed error: loading such a model as plain rotary would give wrong outputs without a word.
  if (g.has("rope_freqs.weight")) throw new ModelFormatError(g.file, 'tensor "rope_freqs.weight"', "absent (per-dimension rotary scaling is not supported)", "present");
  for (const t of ["rope_factors_long.weight", "rope_factors_short.weight"]) {
    if (g.has(t)) throw new ModelFormatError(g.file, `tensor "${t}"`, "absent (Phi-3's long-context rotary factors are not supported)", "present");
  }
  const scaling = m.str(`${a}rope.scaling.type`);
  if (scaling !== undefined && scaling !== "none") m.fail(`${a}rope.scaling.type`, '"none" (scaled rotary positions are not supported)', scaling);
  const tokens = g.get("tokenizer.ggml.tokens");
  const embed = g.tensors.get("token_embd.weight");
  const vocab = m.int(`${a}vocab_size`, 1, Array.isArray(tokens) ? tokens.length : embed?.shape[0]);
  const addBos = m.bool("tokenizer.ggml.add_bos_token", !gpt2);
  const id = (key: string) => {
    const v = g.get(key);
    if (v === undefined) return -1;
    return m.int(key, 0);
  };
  const gemma = arch === "gemma" || arch === "gemma2";
  const window = arch === "gemma2" ? m.int(`${a}attention.sliding_window`, 1, 4096) : arch === "phi3" ? m.int(`${a}attention.sliding_window`, 0, 0) : 0;
  const biases = gpt2;
  return parseConfig({
    arch: "decoder", naming: "hf-llama",
    d_model: d, n_heads: heads, n_kv_heads: kvHeads, head_dim: headDim,
    d_ff: m.int(`${a}feed_forward_length`, 1), decoder_layers: m.int(`${a}block_count`, 1),
    activation: gpt2 ? "gelu_tanh" : gemma ? "geglu" : "swiglu",
    norm: gpt2 ? "layernorm" : "rmsnorm", norm_bias: gpt2,
    norm_eps: gpt2 ? m.num(`${a}attention.layer_norm_epsilon`, 1e-5) : m.num(`${a}attention.layer_norm_rms_epsilon`, 1e-5),
    norm_position: "pre", decoder_final_norm: true,
    positions: gpt2 ? "learned" : "rotary", rope_theta: gpt2 ? 10000 : m.num(`${a}rope.freq_base`, 10000),
    // llama.cpp's converter permutes llama's q/k rows so that rotary pairs are adjacent (2i, 2i+1);
    // the others rotate (i, i + head_dim/2) as Hugging Face does (llama.cpp's "neox" rope).
    rope_interleaved: arch === "llama",
    max_positions: m.int(`${a}context_length`, 1),
    embed_scale: gemma,
    qk_norm: arch === "qwen3",
    post_norms: arch === "gemma2",
    attention_softcap: arch === "gemma2" ? m.num(`${a}attn_logit_softcapping`, 50) : 0,
    final_softcap: arch === "gemma2" ? m.num(`${a}final_logit_softcapping`, 30) : 0,
    gelu_f16: true,
    sliding_window: window,
    sliding_window_global_every: arch === "gemma2" ? 2 : 0,
    tied_output: !g.has("output.weight"), output_bias: g.has("output.bias"),
    attention_bias: biases || arch === "qwen2", attention_out_bias: biases, ffn_bias: biases,
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

/** Keys of the ids that end a text, as llama.cpp reads them: end of sequence, of turn, of message. */
const STOP_KEYS = ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"];

/** The ids that end a generation: tokenizer.ggml.eos_token_id and, where present, the eot and eom ids (each < vocab_size). */
export function ggufStopIds(g: GgufFile, config: ModelConfig): number[] {
  const m = meta(g);
  const ids: number[] = [];
  for (const key of STOP_KEYS) {
    if (g.get(key) === undefined) continue;
    const id = m.int(key, 0);
    if (id >= config.vocab_size) throw new ModelFormatError(g.file, `metadata "${key}"`, `a token id < ${config.vocab_size} (the vocabulary size)`, String(id));
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** Opens a GGUF model: config, tensors (as "hf-llama"), tokenizer; every tensor shape checked. */
export function openGguf(bytes: Uint8Array, file = "<bytes>"): OpenedModel {
  const g = parseGguf(bytes, file);
  const config = ggufConfig(g);
  const expected = llamaTensors(config, { qkv: g.has("blk.0.attn_qkv.weight"), gateUp: !g.has("blk.0.ffn_gate.weight") && config.activation !== "gelu_tanh" });
  const names = new Map<string, string>();
  for (const [hf] of expected) names.set(hf, ggufName(hf, config)!);
  checkShapes(file, g, expected.map(([hf, shape]) => [names.get(hf)!, shape] as const));
  const opened = { format: "gguf" as const, file, config, tensors: new RenamedSource(file, g, names), metadata: {}, stopIds: ggufStopIds(g, config) };
  // A tokenizer we cannot build (e.g. an unknown pre-tokenizer) does not stop the weights from loading.
  try {
    return { ...opened, tokenizer: ggufTokenizer(g, config) };
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw e;
    return { ...opened, tokenizerError: e };
  }
}

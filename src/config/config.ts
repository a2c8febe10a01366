// The model config: one JSON object (in the safetensors __metadata__ under "config", or a
// config.json beside it) that says which transformer the tensors make.
import { ModelFormatError } from "../errors.js";

/** Which stacks the model has. */
export type Arch = "encoder-decoder" | "encoder" | "decoder";
/** How the checkpoint names its tensors (see src/model/weights.ts). */
export type Naming = "torch-transformer" | "hf-gpt2" | "hf-llama" | "hf-bert";
export type Activation = "relu" | "gelu" | "gelu_tanh" | "swiglu" | "geglu";
export type NormKind = "layernorm" | "rmsnorm";
export type NormPosition = "post" | "pre";
export type Positions = "sinusoidal" | "learned" | "rotary" | "none";
/** Scoring function of every attention block (see AttentionScore in src/ops/attention.ts). */
export type AttentionScoreName = "scaled_dot" | "dot" | "general" | "additive";

/**
 * A validated model config, every key present (defaults filled in). The JSON form uses
 * the same snake_case keys; only the keys marked required must be given.
 */
export interface ModelConfig {
  /** Always "simdformer". */
  format: "simdformer";
  /** Schema version, 1. */
  version: 1;
  /** Required. "encoder-decoder" (translation), "encoder" (BERT-style) or "decoder" (GPT-style). */
  arch: Arch;
  /**
   * Tensor names of the checkpoint (see src/model/weights.ts); default "torch-transformer":
   * torch nn.Transformer / TransformerEncoderLayer / TransformerDecoderLayer state_dict names.
   * "hf-gpt2", "hf-llama" and "hf-bert" are the Hugging Face GPT-2, Llama and BERT names.
   */
  naming: Naming;
  /**
   * Overrides of individual tensor names or stack prefixes of the naming scheme, e.g.
   * {"encoder": "transformer.encoder", "src_embed": "src_tok.weight"}; see weights.ts for the keys.
   */
  tensor_names: Record<string, string>;
  /** Required. Width of the residual stream. */
  d_model: number;
  /** Required. Attention heads; must divide d_model unless head_dim is given. */
  n_heads: number;
  /** Key/value heads (GQA/MQA); must divide n_heads. Default n_heads. */
  n_kv_heads: number;
  /** Width of one head; default d_model / n_heads. */
  head_dim: number;
  /** Required. Hidden width of the feed-forward block. */
  d_ff: number;
  /** Encoder blocks (required when the arch has an encoder, else 0). */
  encoder_layers: number;
  /** Decoder blocks (required when the arch has a decoder, else 0). */
  decoder_layers: number;
  /**
   * Feed-forward activation; default "relu" (torch nn.Transformer). "swiglu" = silu(gate) * up,
   * "geglu" = gelu_tanh(gate) * up (Gemma).
   */
  activation: Activation;
  /** Normalization; default "layernorm". */
  norm: NormKind;
  /** "post" (x = norm(x + f(x)), torch default) or "pre" (x = x + f(norm(x)), norm_first). Default "post". */
  norm_position: NormPosition;
  /** Epsilon of every norm; default 1e-5. */
  norm_eps: number;
  /** LayerNorm with a bias (beta); default true for layernorm. Ignored for rmsnorm. */
  norm_bias: boolean;
  /** Added to every stored norm weight (Hugging Face Gemma stores w of a (1 + w) scale: 1). Default 0. */
  norm_weight_offset: number;
  /**
   * Norms after the attention and FFN outputs too, before they join the residual stream
   * (Gemma 2's x = x + post(f(pre(x)))). Default false.
   */
  post_norms: boolean;
  /** Per-head RMSNorm of q and k (weights of head_dim) before the rotary positions (Qwen3). Default false. */
  qk_norm: boolean;
  /** A norm after the last encoder block (torch nn.Transformer has one); default true for pre-LN, false for post-LN. */
  encoder_final_norm: boolean;
  /** A norm after the last decoder block; default true for pre-LN or when encoder_final_norm is set. */
  decoder_final_norm: boolean;
  /** Position information; default "sinusoidal". "rotary" rotates q and k in every self-attention. */
  positions: Positions;
  /** Rotary base; default 10000. */
  rope_theta: number;
  /** Rotary pairs: true (2i, 2i+1), false (i, i + head_dim/2, HF Llama). Default false. */
  rope_interleaved: boolean;
  /** Longest sequence the model accepts (rows of the learned position table). Default 1024. */
  max_positions: number;
  /** A norm (of kind `norm`) over the summed embeddings before the first block (BERT). Default false. */
  embed_norm: boolean;
  /** Multiply token embeddings by sqrt(d_model) (the "Attention is all you need" recipe). Default false. */
  embed_scale: boolean;
  /** The output projection is the (target) token embedding transposed. Default false. */
  tied_output: boolean;
  /** The encoder-decoder shares one embedding table for source and target. Default false. */
  shared_embeddings: boolean;
  /** q/k/v/out projections have biases; default true. */
  attention_bias: boolean;
  /** The attention output projection has a bias; default attention_bias (Qwen2: q/k/v only). */
  attention_out_bias: boolean;
  /** Attention scores soft-capped, s = cap tanh(s / cap) before the softmax (Gemma 2); 0 = none (default). */
  attention_softcap: number;
  /** Logits soft-capped the same way (Gemma 2); 0 = none (default). */
  final_softcap: number;
  /**
   * GELU (gelu_tanh, geglu) as ggml's CPU backend computes it: the tanh form at f16(x), rounded to
   * f16 (a table of halves). Set for GGUF files, whose reference is llama.cpp; default false.
   */
  gelu_f16: boolean;
  /**
   * Causal self-attention sees at most this many keys (itself and the window - 1 before it);
   * 0 = the whole context (default).
   */
  sliding_window: number;
  /**
   * With a sliding window: every this many layers the last one attends to the whole context
   * (Gemma 2: 2, so the even layers slide); 0 = every layer slides (default).
   */
  sliding_window_global_every: number;
  /**
   * How every attention block scores a query against a key; default "scaled_dot" (q.k/sqrt(head_dim)).
   * "dot": q.k. "general": q^T W k, tensor `<attention>.score.w` [n_heads, head_dim, head_dim].
   * "additive": v^T tanh(W_q q + W_k k), tensors `<attention>.score.w_q` and `.score.w_k`
   * [n_heads, attention_score_dim, head_dim] and `.score.v` [n_heads, attention_score_dim].
   * `<attention>` is the block's prefix in the naming scheme (e.g. "encoder.layers.0.self_attn").
   */
  attention_score: AttentionScoreName;
  /** Hidden width of the additive score; default head_dim. Ignored by the other scores. */
  attention_score_dim: number;
  /** Feed-forward linears have biases; default true. */
  ffn_bias: boolean;
  /** The output projection has a bias; default true when not tied. */
  output_bias: boolean;
  /** The model ends in a vocabulary projection (logits); default true except for "encoder". */
  lm_head: boolean;
  /** Source vocabulary (encoder-decoder), required there. */
  src_vocab_size: number;
  /** Target vocabulary (encoder-decoder), required there. */
  tgt_vocab_size: number;
  /** Vocabulary of a single-stack model, required there; for encoder-decoder = tgt_vocab_size. */
  vocab_size: number;
  /** Padding token id, -1 when none; default 0 for encoder-decoder, else -1. */
  pad_id: number;
  /** Begin-of-sequence id (decoder start), -1 when none; default 1 for encoder-decoder, else -1. */
  bos_id: number;
  /** End-of-sequence id (greedy stops there), -1 when none; default 2 for encoder-decoder, else -1. */
  eos_id: number;
  /** Unknown-token id, -1 when none; default 3 for encoder-decoder, else -1. */
  unk_id: number;
  /** Default limit on generated tokens; default max_positions. */
  max_target_length: number;
  /** The source tokenizer's ids are followed by eos_id before encoding (the translator's recipe). Default false. */
  src_append_eos: boolean;
}

type Json = Record<string, unknown>;

/**
 * Validates a parsed config object and fills defaults. `file` names the source in errors.
 * Throws ModelFormatError(file, field, expected, found) on a missing or wrong key.
 */
export function parseConfig(json: unknown, file = "config"): ModelConfig {
  const fail = (field: string, expected: string, found: unknown): never => {
    throw new ModelFormatError(file, field, expected, found === undefined ? "missing" : JSON.stringify(found));
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail("config", "a JSON object", json);
  const j = json as Json;
  if (j.format !== undefined && j.format !== "simdformer") fail("format", '"simdformer"', j.format);
  if (j.version !== undefined && j.version !== 1) fail("version", "1", j.version);

  const oneOf = <T extends string>(key: string, options: readonly T[], dflt?: T): T => {
    const v = j[key] ?? dflt;
    if (!options.includes(v as T)) fail(key, options.map((o) => `"${o}"`).join(" | "), j[key]);
    return v as T;
  };
  const int = (key: string, min: number, dflt?: number): number => {
    const v = j[key] ?? dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) fail(key, `an integer >= ${min}`, j[key]);
    return v as number;
  };
  const nonNegative = (key: string): number => {
    const v = j[key] ?? 0;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) fail(key, "a number >= 0", j[key]);
    return v as number;
  };
  const num = (key: string, dflt: number, positive = true): number => {
    const v = j[key] ?? dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || (positive && v <= 0)) fail(key, positive ? "a number > 0" : "a number", j[key]);
    return v as number;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = j[key] ?? dflt;
    if (typeof v !== "boolean") fail(key, "true or false", j[key]);
    return v as boolean;
  };

  const names = (): Record<string, string> => {
    const v = j.tensor_names ?? {};
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === "string")) {
      fail("tensor_names", "an object of strings", j.tensor_names);
    }
    return { ...(v as Record<string, string>) };
  };

  const arch = oneOf("arch", ["encoder-decoder", "encoder", "decoder"] as const);
  const hasEnc = arch !== "decoder";
  const hasDec = arch !== "encoder";
  const d_model = int("d_model", 1);
  const n_heads = int("n_heads", 1);
  const n_kv_heads = int("n_kv_heads", 1, n_heads);
  if (j.head_dim === undefined && d_model % n_heads !== 0) fail("n_heads", `a divisor of d_model ${d_model}`, n_heads);
  const head_dim = int("head_dim", 1, d_model / n_heads);
  if (n_heads % n_kv_heads !== 0) fail("n_kv_heads", `a divisor of n_heads ${n_heads}`, n_kv_heads);
  const d_ff = int("d_ff", 1);
  const encoder_layers = int("encoder_layers", hasEnc ? 1 : 0, hasEnc ? undefined : 0);
  const decoder_layers = int("decoder_layers", hasDec ? 1 : 0, hasDec ? undefined : 0);
  if (!hasEnc && encoder_layers !== 0) fail("encoder_layers", `0 for arch "${arch}"`, encoder_layers);
  if (!hasDec && decoder_layers !== 0) fail("decoder_layers", `0 for arch "${arch}"`, decoder_layers);
  const norm = oneOf("norm", ["layernorm", "rmsnorm"] as const, "layernorm");
  const norm_position = oneOf("norm_position", ["post", "pre"] as const, "post");
  const positions = oneOf("positions", ["sinusoidal", "learned", "rotary", "none"] as const, "sinusoidal");
  if (positions === "rotary" && head_dim % 2 !== 0) fail("head_dim", "an even number for rotary positions", head_dim);
  const tied_output = bool("tied_output", false);

  let src_vocab_size = 0;
  let tgt_vocab_size = 0;
  let vocab_size: number;
  if (arch === "encoder-decoder") {
    src_vocab_size = int("src_vocab_size", 1);
    tgt_vocab_size = int("tgt_vocab_size", 1);
    vocab_size = tgt_vocab_size;
  } else {
    vocab_size = int("vocab_size", 1);
  }
  const shared_embeddings = bool("shared_embeddings", false);
  if (shared_embeddings && src_vocab_size !== tgt_vocab_size) {
    fail("src_vocab_size", `= tgt_vocab_size ${tgt_vocab_size} with shared_embeddings`, src_vocab_size);
  }
  const ed = arch === "encoder-decoder";
  const max_positions = int("max_positions", 1, 1024);
  const tokenId = (key: string, dflt: number): number => {
    const v = int(key, -1, dflt);
    if (v >= Math.max(vocab_size, src_vocab_size)) fail(key, `-1 or an id < ${Math.max(vocab_size, src_vocab_size)}`, v);
    return v;
  };
  const finalDefault = norm_position === "pre";
  if (j.post_norms === true && norm_position !== "pre") fail("post_norms", 'false with norm_position "post"', j.post_norms);
  const encoder_final_norm = bool("encoder_final_norm", finalDefault);
  return {
    format: "simdformer",
    version: 1,
    arch,
    tensor_names: names(),
    naming: oneOf("naming", ["torch-transformer", "hf-gpt2", "hf-llama", "hf-bert"] as const, "torch-transformer"),
    d_model,
    n_heads,
    n_kv_heads,
    head_dim,
    d_ff,
    encoder_layers,
    decoder_layers,
    activation: oneOf("activation", ["relu", "gelu", "gelu_tanh", "swiglu", "geglu"] as const, "relu"),
    norm,
    norm_position,
    norm_eps: num("norm_eps", 1e-5),
    norm_bias: bool("norm_bias", norm === "layernorm") && norm === "layernorm",
    norm_weight_offset: num("norm_weight_offset", 0, false),
    post_norms: bool("post_norms", false),
    qk_norm: bool("qk_norm", false),
    encoder_final_norm,
    decoder_final_norm: bool("decoder_final_norm", encoder_final_norm || finalDefault),
    positions,
    rope_theta: num("rope_theta", 10000),
    rope_interleaved: bool("rope_interleaved", false),
    max_positions,
    embed_norm: bool("embed_norm", false),
    embed_scale: bool("embed_scale", false),
    tied_output,
    shared_embeddings,
    attention_bias: bool("attention_bias", true),
    attention_out_bias: bool("attention_out_bias", bool("attention_bias", true)),
    attention_softcap: nonNegative("attention_softcap"),
    final_softcap: nonNegative("final_softcap"),
    gelu_f16: bool("gelu_f16", false),
    sliding_window: int("sliding_window", 0, 0),
    sliding_window_global_every: int("sliding_window_global_every", 0, 0),
    attention_score: oneOf("attention_score", ["scaled_dot", "dot", "general", "additive"] as const, "scaled_dot"),
    attention_score_dim: int("attention_score_dim", 1, head_dim),
    ffn_bias: bool("ffn_bias", true),
    output_bias: bool("output_bias", !tied_output),
    lm_head: bool("lm_head", arch !== "encoder"),
    src_vocab_size,
    tgt_vocab_size,
    vocab_size,
    pad_id: tokenId("pad_id", ed ? 0 : -1),
    bos_id: tokenId("bos_id", ed ? 1 : -1),
    eos_id: tokenId("eos_id", ed ? 2 : -1),
    unk_id: tokenId("unk_id", ed ? 3 : -1),
    max_target_length: int("max_target_length", 1, max_positions),
    src_append_eos: bool("src_append_eos", false),
  };
}

/** Width of the key/value projections (n_kv_heads x head_dim). */
export const kvDim = (c: ModelConfig): number => c.n_kv_heads * c.head_dim;
/** Width of the query projection (n_heads x head_dim). */
export const qDim = (c: ModelConfig): number => c.n_heads * c.head_dim;

/** True when decoder layer `layer` attends through the sliding window. */
export const slidesWindow = (c: ModelConfig, layer: number): boolean =>
  c.sliding_window > 0 && (c.sliding_window_global_every === 0 || (layer + 1) % c.sliding_window_global_every !== 0);

// Hugging Face checkpoints: config.json + model.safetensors (or shards listed by
// model.safetensors.index.json) + tokenizer.json, for the GPT-2, Llama (with Mistral, Qwen2/3,
// Gemma/Gemma 2, Phi-3) and BERT families.
// config.json fields map to our ModelConfig; tensor names are our "hf-gpt2" / "hf-llama" /
// "hf-bert" schemes (src/model/weights.ts).
import { Tokenizer as HfTokenizerImpl } from "@huggingface/tokenizers";
import { ModelFormatError } from "../errors.js";
import { type Activation, type ModelConfig, parseConfig } from "../config/config.js";
import type { TensorSource } from "../config/tensor_source.js";
import type { QuantizedMatrix } from "../tensor/quant_blocks.js";
import { encoderTensors, positionOffset, ROBERTA_TYPES } from "./hf_encoders.js";
import { parseSafetensors, type SafetensorsFile } from "./safetensors.js";
import type { FormatTokenizer, OpenedModel } from "./source.js";
import type { DecodeOptions, Encoding } from "./tokenizers/vocab.js";

type Json = Record<string, unknown>;

/** HF hidden_act / activation_function -> ours. */
const ACTIVATIONS: Record<string, Activation> = {
  gelu: "gelu", gelu_new: "gelu_tanh", gelu_pytorch_tanh: "gelu_tanh", gelu_fast: "gelu_tanh", relu: "relu", silu: "swiglu", swish: "swiglu",
};

/** model_type values read as Llama-style decoders (the "hf-llama" names with their variants). */
const LLAMA_FAMILY = ["llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3"];

/**
 * Maps a Hugging Face config.json (model_type "gpt2", "llama", "mistral", "qwen2", "qwen3",
 * "gemma", "gemma2", "phi3", "bert", "roberta",
 * "xlm-roberta", "camembert" or "distilbert") to our config. The encoders all take our "hf-bert"
 * names; openHf presents RoBERTa's and DistilBERT's tensors under them (src/formats/hf_encoders.ts).
 * `file` names config.json in errors.
 */
export function hfConfig(json: unknown, file = "config.json"): ModelConfig {
  const fail = (field: string, expected: string, found: unknown): never => {
    throw new ModelFormatError(file, field, expected, found === undefined ? "missing" : JSON.stringify(found));
  };
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail("config", "a JSON object", json);
  const j = json as Json;
  const int = (key: string, dflt?: number): number => {
    const v = j[key] ?? dflt;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) fail(key, "an integer >= 1", j[key]);
    return v as number;
  };
  const num = (key: string, dflt: number): number => {
    const v = j[key] ?? dflt;
    if (typeof v !== "number" || !(v > 0)) fail(key, "a number > 0", j[key]);
    return v as number;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = j[key] ?? dflt;
    if (typeof v !== "boolean") fail(key, "true or false", j[key]);
    return v as boolean;
  };
  const act = (key: string, dflt: string, allowed: Activation[]): Activation => {
    const v = j[key] ?? dflt;
    const a = typeof v === "string" ? ACTIVATIONS[v] : undefined;
    if (!a || !allowed.includes(a)) {
      fail(key, Object.keys(ACTIVATIONS).filter((k) => allowed.includes(ACTIVATIONS[k])).map((k) => `"${k}"`).join(" | "), j[key]);
    }
    return a!;
  };
  /** A token id (eos_token_id may be a list: eos_id is its first, and hfStopIds takes them all). */
  const tokenId = (key: string): number => {
    let v = j[key];
    if (Array.isArray(v)) v = v[0];
    if (v === undefined || v === null) return -1;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) fail(key, "a token id", j[key]);
    return v as number;
  };
  const type = j.model_type;
  const where = `${file} (model_type ${JSON.stringify(type)})`;
  if (type === "gpt2") {
    const d = int("n_embd");
    const tied = bool("tie_word_embeddings", true);
    return parseConfig({
      arch: "decoder", naming: "hf-gpt2", d_model: d, n_heads: int("n_head"), d_ff: j.n_inner == null ? 4 * d : int("n_inner"),
      decoder_layers: int("n_layer"), activation: act("activation_function", "gelu_new", ["gelu", "gelu_tanh", "relu"]),
      norm: "layernorm", norm_eps: num("layer_norm_epsilon", 1e-5), norm_position: "pre", decoder_final_norm: true,
      positions: "learned", max_positions: int("n_positions", typeof j.n_ctx === "number" ? j.n_ctx : undefined),
      tied_output: tied, output_bias: false, vocab_size: int("vocab_size"),
      // GPT-2 prompts start without a special token; <|endoftext|> ends the text.
      bos_id: -1, eos_id: tokenId("eos_token_id"),
    }, where);
  }
  if (typeof type === "string" && LLAMA_FAMILY.includes(type)) {
    if (j.rope_scaling != null) fail("rope_scaling", "null (scaled rotary positions are not supported)", j.rope_scaling);
    if (j.partial_rotary_factor != null && j.partial_rotary_factor !== 1) fail("partial_rotary_factor", "1 (partial rotary is not supported)", j.partial_rotary_factor);
    const gemma = type === "gemma" || type === "gemma2";
    // Mistral's sliding window equals full attention up to the window: positions are capped there.
    const window = type === "mistral" && j.sliding_window != null ? int("sliding_window") : Infinity;
    const heads = int("num_attention_heads");
    const headDim = j.head_dim != null ? int("head_dim") : int("hidden_size") / heads;
    // Qwen2 always has q/k/v biases (and none on o_proj); the others say so in attention_bias.
    const bias = type === "qwen2" || bool("attention_bias", false);
    if (bool("mlp_bias", false)) fail("mlp_bias", "false", true);
    let activation: Activation = "swiglu";
    if (gemma) {
      // Gemma's gated GELU is the tanh form whatever hidden_act says (transformers overrides "gelu").
      const key = j.hidden_activation != null ? "hidden_activation" : "hidden_act";
      if (!["gelu", "gelu_pytorch_tanh"].includes(j[key] as string)) fail(key, '"gelu_pytorch_tanh" | "gelu"', j[key]);
      activation = "geglu";
    } else activation = act("hidden_act", "silu", ["swiglu"]);
    const variant = type === "gemma2" ? {
      post_norms: true,
      attention_softcap: j.attn_logit_softcapping == null ? 0 : num("attn_logit_softcapping", 50),
      final_softcap: j.final_logit_softcapping == null ? 0 : num("final_logit_softcapping", 30),
      sliding_window: j.sliding_window == null ? 0 : int("sliding_window"),
      sliding_window_global_every: 2,
    } : type === "phi3" && j.sliding_window != null ? { sliding_window: int("sliding_window") } : {};
    if (type === "gemma2" && j.query_pre_attn_scalar != null && j.query_pre_attn_scalar !== headDim) {
      fail("query_pre_attn_scalar", `${headDim} (head_dim: scores are scaled by 1/sqrt(head_dim))`, j.query_pre_attn_scalar);
    }
    return parseConfig({
      arch: "decoder", naming: "hf-llama", d_model: int("hidden_size"), n_heads: heads, n_kv_heads: int("num_key_value_heads", heads),
      ...(j.head_dim != null ? { head_dim: headDim } : {}),
      d_ff: int("intermediate_size"), decoder_layers: int("num_hidden_layers"), activation,
      norm: "rmsnorm", norm_eps: num("rms_norm_eps", 1e-6), norm_position: "pre", decoder_final_norm: true,
      // Gemma stores w of its (1 + w) norm scale and multiplies the embeddings by sqrt(hidden_size).
      norm_weight_offset: gemma ? 1 : 0, embed_scale: gemma, qk_norm: type === "qwen3",
      positions: "rotary", rope_theta: num("rope_theta", 10000), rope_interleaved: false,
      max_positions: Math.min(int("max_position_embeddings", 2048), window), tied_output: bool("tie_word_embeddings", gemma), output_bias: false,
      attention_bias: bias, attention_out_bias: type === "qwen2" ? false : bias, ffn_bias: false, vocab_size: int("vocab_size"),
      ...variant,
      bos_id: tokenId("bos_token_id"), eos_id: tokenId("eos_token_id"), pad_id: tokenId("pad_token_id"),
    }, where);
  }
  if (type === "bert" || ROBERTA_TYPES.includes(type as string)) {
    const pe = j.position_embedding_type ?? "absolute";
    if (pe !== "absolute") fail("position_embedding_type", '"absolute"', pe);
    // RoBERTa counts positions from padding_idx + 1: those first rows of the table are never used.
    const skipped = type === "bert" ? 0 : positionOffset(j, fail);
    const max = int("max_position_embeddings", 512);
    if (max <= skipped) fail("max_position_embeddings", `more than padding_idx + 1 = ${skipped}`, max);
    return parseConfig({
      arch: "encoder", naming: "hf-bert", d_model: int("hidden_size"), n_heads: int("num_attention_heads"), d_ff: int("intermediate_size"),
      encoder_layers: int("num_hidden_layers"), activation: act("hidden_act", "gelu", ["gelu", "gelu_tanh", "relu"]),
      norm: "layernorm", norm_eps: num("layer_norm_eps", 1e-12), norm_position: "post", encoder_final_norm: false,
      embed_norm: true, positions: "learned", max_positions: max - skipped, lm_head: false,
      vocab_size: int("vocab_size"), pad_id: tokenId("pad_token_id"),
    }, where);
  }
  if (type === "distilbert") {
    return parseConfig({
      arch: "encoder", naming: "hf-bert", d_model: int("dim"), n_heads: int("n_heads"), d_ff: int("hidden_dim"),
      encoder_layers: int("n_layers"), activation: act("activation", "gelu", ["gelu", "gelu_tanh", "relu"]),
      norm: "layernorm", norm_eps: 1e-12, norm_position: "post", encoder_final_norm: false,
      embed_norm: true, positions: "learned", max_positions: int("max_position_embeddings", 512), lm_head: false,
      vocab_size: int("vocab_size"), pad_id: tokenId("pad_token_id"),
    }, where);
  }
  return fail("model_type", ["gpt2", ...LLAMA_FAMILY, "bert", ...ROBERTA_TYPES, "distilbert"].map((t) => `"${t}"`).join(" | "), type);
}

/**
 * The ids that end a generation: generation_config.json's eos_token_id when the file has one,
 * else config.json's; either may be one id or a list. Every id must be < the vocabulary size.
 */
export function hfStopIds(config: unknown, generationConfig: unknown, vocabSize: number): number[] {
  const fromGeneration = (generationConfig as Json | undefined)?.eos_token_id;
  const [file, v] = fromGeneration != null ? ["generation_config.json", fromGeneration] : ["config.json", (config as Json).eos_token_id];
  if (v == null) return [];
  const ids = Array.isArray(v) ? v : [v];
  if (!ids.every((id) => Number.isInteger(id) && id >= 0 && id < vocabSize)) {
    throw new ModelFormatError(file, "eos_token_id", `a token id or a list of them, each in 0..${vocabSize - 1}`, JSON.stringify(v));
  }
  return [...new Set(ids as number[])];
}

/** Tensors spread over several safetensors shards, found through the index's weight_map. */
class ShardedSource implements TensorSource {
  constructor(readonly file: string, private readonly where: ReadonlyMap<string, SafetensorsFile>) {}

  has(name: string): boolean {
    return this.where.has(name);
  }

  shape(name: string): readonly number[] {
    return this.shard(name).shape(name);
  }

  read(name: string): Float32Array {
    return this.shard(name).read(name);
  }

  quantized(name: string): QuantizedMatrix | undefined {
    return this.shard(name).quantized(name);
  }

  private shard(name: string): SafetensorsFile {
    const s = this.where.get(name);
    if (!s) throw new ModelFormatError(this.file, `weight_map "${name}"`, "present", "missing");
    return s;
  }
}

/**
 * Parses model.safetensors.index.json and its shards. Every shard the weight_map names must
 * be among `files`, and every tensor it lists must be in that shard.
 */
export function openShards(indexJson: Uint8Array, files: Readonly<Record<string, Uint8Array>>, file = "model.safetensors.index.json"): TensorSource {
  const index = parseJson(indexJson, file) as { weight_map?: unknown };
  const map = index?.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new ModelFormatError(file, "weight_map", "an object {tensor name: shard file}", JSON.stringify(map) ?? "missing");
  }
  const shards = new Map<string, SafetensorsFile>();
  const where = new Map<string, SafetensorsFile>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== "string") throw new ModelFormatError(file, `weight_map "${name}"`, "a shard file name", JSON.stringify(shard));
    let st = shards.get(shard);
    if (!st) {
      const bytes = files[shard];
      if (!bytes) throw new ModelFormatError(file, `weight_map "${name}"`, `the shard "${shard}" among the files`, `files ${JSON.stringify(Object.keys(files))}`);
      st = parseSafetensors(bytes, shard);
      shards.set(shard, st);
    }
    if (!st.has(name)) throw new ModelFormatError(shard, `tensor "${name}"`, `present (listed in ${file})`, "missing");
    where.set(name, st);
  }
  return new ShardedSource(file, where);
}

/** JSON bytes -> value, or a ModelFormatError naming the file. */
export function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ModelFormatError(file, "contents", "UTF-8 JSON", (e as Error).message);
  }
}

/**
 * A Hugging Face tokenizer.json (BPE, WordPiece, Unigram; normalizers, pre-tokenizers and
 * decoders as the file says) through @huggingface/tokenizers, the pure-JS port that runs in
 * every host we target. Special tokens are not added: the model config's bos_id is.
 */
export class HfTokenizer implements FormatTokenizer {
  private readonly impl: HfTokenizerImpl;

  /** @param json tokenizer.json parsed; @param config tokenizer_config.json parsed (optional). */
  constructor(json: unknown, config: unknown = {}, file = "tokenizer.json") {
    if (typeof json !== "object" || json === null || typeof (json as Json).model !== "object") {
      throw new ModelFormatError(file, "model", "an object (a tokenizer.json)", JSON.stringify((json as Json | null)?.model) ?? typeof json);
    }
    try {
      this.impl = new HfTokenizerImpl(json, config ?? {});
    } catch (e) {
      throw new ModelFormatError(file, "tokenizer", "a tokenizer.json that @huggingface/tokenizers accepts", (e as Error).message);
    }
  }

  encode(text: string): Encoding {
    const e = this.impl.encode(text, { add_special_tokens: false });
    return { ids: e.ids, tokens: e.tokens, unknown: [] };
  }

  /**
   * Ids and token types of a text (or a pair) with the special tokens the file's post-processor
   * adds: "[CLS] a [SEP] b [SEP]" for BERT, "<s> a </s></s> b </s>" for RoBERTa. Types are all 0
   * when the template gives none.
   */
  encodeWithSpecials(text: string, pair?: string): { ids: number[]; types: number[] } {
    const e = this.impl.encode(text, { text_pair: pair ?? null, add_special_tokens: true, return_token_type_ids: true });
    return { ids: e.ids, types: e.token_type_ids ?? e.ids.map(() => 0) };
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (ids.length === 0) return ""; // the library refuses an empty list
    return this.impl.decode(Array.from(ids), { skip_special_tokens: options.skipSpecial ?? true, clean_up_tokenization_spaces: false });
  }
}

/**
 * Opens a Hugging Face checkpoint from its files (names as in the model directory):
 * config.json, model.safetensors or model.safetensors.index.json + shards, and optionally
 * tokenizer.json (+ tokenizer_config.json) and generation_config.json (the stop ids).
 */
export function openHf(files: Readonly<Record<string, Uint8Array>>, main?: string, labels?: Readonly<Record<string, string>>): OpenedModel {
  const configBytes = files["config.json"];
  if (!configBytes) throw new ModelFormatError(main ?? "model", "config.json", "a Hugging Face config.json beside the safetensors", "none");
  const json = parseJson(configBytes, "config.json") as Json;
  const config = hfConfig(json);
  const generation = files["generation_config.json"] ? parseJson(files["generation_config.json"], "generation_config.json") : undefined;
  if (generation !== undefined && (typeof generation !== "object" || generation === null || Array.isArray(generation))) {
    throw new ModelFormatError("generation_config.json", "contents", "a JSON object", JSON.stringify(generation));
  }
  let tensors: TensorSource;
  let file: string;
  if (files["model.safetensors.index.json"]) {
    file = "model.safetensors.index.json";
    tensors = openShards(files[file], files, file);
  } else {
    const names = Object.keys(files).filter((n) => n.endsWith(".safetensors"));
    file = main && main.endsWith(".safetensors") ? main : names.includes("model.safetensors") ? "model.safetensors" : names[0];
    if (!file || !files[file]) throw new ModelFormatError(main ?? "model", "model.safetensors", "a safetensors file (or model.safetensors.index.json)", `files ${JSON.stringify(Object.keys(files))}`);
    tensors = parseSafetensors(files[file], file);
  }
  let tokenizer: FormatTokenizer | undefined;
  if (files["tokenizer.json"]) {
    const tc = files["tokenizer_config.json"] ? parseJson(files["tokenizer_config.json"], "tokenizer_config.json") : {};
    const name = labels?.["tokenizer.json"] ?? "tokenizer.json";
    tokenizer = new HfTokenizer(parseJson(files["tokenizer.json"], name), tc, name);
  }
  if (config.arch === "encoder") tensors = encoderTensors(json, tensors);
  return { format: "hf", file, config, tensors, metadata: {}, tokenizer, hfConfig: json, stopIds: hfStopIds(json, generation, config.vocab_size) };
}

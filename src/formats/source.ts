// What every format module hands to the model layer, and the helpers they share: tensors under
// the names of one of our naming schemes (src/model/weights.ts), checked against the config with
// the file's own names so errors point at what is in the file.
import { ModelFormatError } from "../errors.js";
import { type ModelConfig, parseConfig } from "../config/config.js";
import type { TensorSource } from "../config/tensor_source.js";
import type { QuantizedMatrix } from "../tensor/quant_blocks.js";
import type { DecodeOptions, Encoding } from "./tokenizers/vocab.js";

/** A tokenizer as the text layer uses it (structurally the TextTokenizer of src/generate/text.ts). */
export interface FormatTokenizer {
  encode(text: string): Encoding;
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
}

/** A model file (or file set) turned into what Model.fromTensors takes, plus its tokenizer. */
export interface OpenedModel {
  /** Which format it was. */
  readonly format: "simdformer" | "hf" | "gguf" | "llama2c";
  /** The main file's name (for errors). */
  readonly file: string;
  readonly config: ModelConfig;
  readonly tensors: TensorSource;
  /**
   * The ids that end a text in this format, generation's default `stop` (docs/formats.md):
   * llama2.c BOS and EOS, GGUF's eos/eot/eom ids, a Hugging Face generation_config.json's
   * eos_token_id (one or a list; else config.json's). Absent: the config's eos_id.
   */
  readonly stopIds?: readonly number[];
  /** String metadata (the simdformer safetensors header; empty for the others). */
  readonly metadata: Record<string, string>;
  /** The tokenizer the files carry, if any. */
  readonly tokenizer?: FormatTokenizer;
  /** Why the files' tokenizer could not be built (the model itself loads; pass a tokenizer of your own). */
  readonly tokenizerError?: ModelFormatError;
  /** A Hugging Face folder's config.json as parsed (heads and labels beyond the transformer: id2label, architectures). */
  readonly hfConfig?: Readonly<Record<string, unknown>>;
}

/** The read side of a file: anything with has/shape/read under its own names. */
interface NamedTensors {
  has(name: string): boolean;
  shape(name: string): readonly number[];
  read(name: string): Float32Array;
  quantized?(name: string): QuantizedMatrix | undefined;
}

/**
 * Presents a file's tensors under our scheme's names: `names` maps each of our names to the
 * file's. Names without an entry are absent.
 */
export class RenamedSource implements TensorSource {
  constructor(
    readonly file: string,
    private readonly inner: NamedTensors,
    private readonly names: ReadonlyMap<string, string>,
  ) {}

  has(name: string): boolean {
    const n = this.names.get(name);
    return n !== undefined && this.inner.has(n);
  }

  shape(name: string): readonly number[] {
    return this.inner.shape(this.fileName(name));
  }

  read(name: string): Float32Array {
    return this.inner.read(this.fileName(name));
  }

  quantized(name: string): QuantizedMatrix | undefined {
    return this.inner.quantized?.(this.fileName(name));
  }

  private fileName(name: string): string {
    const n = this.names.get(name);
    if (n === undefined || !this.inner.has(n)) throw new ModelFormatError(this.file, `tensor "${n ?? name}"`, "present", "missing");
    return n;
  }
}

/**
 * Checks, in the file's own names, that every tensor the config needs is there with the shape
 * it implies (ModelFormatError naming the tensor, the expected and the found shape).
 */
export function checkShapes(file: string, src: NamedTensors, expected: ReadonlyArray<readonly [string, readonly number[]]>): void {
  for (const [name, shape] of expected) {
    if (!src.has(name)) throw new ModelFormatError(file, `tensor "${name}"`, `present, shape [${shape}]`, "missing");
    const found = src.shape(name);
    if (found.length !== shape.length || found.some((d, i) => d !== shape[i])) {
      throw new ModelFormatError(file, `tensor "${name}" shape`, `[${shape}]`, `[${found}]`);
    }
  }
}

/**
 * The tensors of a Llama-style decoder (and its relatives, see hfLlama in src/model/weights.ts)
 * in HF names with their shapes, for a map built by `fileName(hfName)` (GGUF presents its
 * tensors as "hf-llama"). `fused`: q/k/v in one self_attn.qkv_proj, gate/up in one mlp.gate_up_proj.
 */
export function llamaTensors(c: ModelConfig, fused: { qkv?: boolean; gateUp?: boolean } = {}): Array<[string, number[]]> {
  const d = c.d_model;
  const q = c.n_heads * c.head_dim;
  const kv = c.n_kv_heads * c.head_dim;
  const out: Array<[string, number[]]> = [["model.embed_tokens.weight", [c.vocab_size, d]]];
  const norm = (name: string, n: number) => {
    out.push([`${name}.weight`, [n]]);
    if (c.norm_bias) out.push([`${name}.bias`, [n]]);
  };
  const linear = (name: string, rows: number, cols: number, bias: boolean) => {
    out.push([`${name}.weight`, [rows, cols]]);
    if (bias) out.push([`${name}.bias`, [rows]]);
  };
  if (c.positions === "learned") out.push(["model.embed_positions.weight", [c.max_positions, d]]);
  const gated = c.activation === "swiglu" || c.activation === "geglu";
  for (let i = 0; i < c.decoder_layers; i++) {
    const l = `model.layers.${i}.`;
    norm(`${l}input_layernorm`, d);
    if (fused.qkv) linear(`${l}self_attn.qkv_proj`, q + 2 * kv, d, c.attention_bias);
    else for (const [p, n] of [["q_proj", q], ["k_proj", kv], ["v_proj", kv]] as const) linear(`${l}self_attn.${p}`, n, d, c.attention_bias);
    linear(`${l}self_attn.o_proj`, d, q, c.attention_out_bias);
    if (c.qk_norm) {
      norm(`${l}self_attn.q_norm`, c.head_dim);
      norm(`${l}self_attn.k_norm`, c.head_dim);
    }
    norm(`${l}post_attention_layernorm`, d);
    if (c.post_norms) {
      norm(`${l}pre_feedforward_layernorm`, d);
      norm(`${l}post_feedforward_layernorm`, d);
    }
    if (gated && fused.gateUp) linear(`${l}mlp.gate_up_proj`, 2 * c.d_ff, d, c.ffn_bias);
    else {
      if (gated) linear(`${l}mlp.gate_proj`, c.d_ff, d, c.ffn_bias);
      linear(`${l}mlp.up_proj`, c.d_ff, d, c.ffn_bias);
    }
    linear(`${l}mlp.down_proj`, d, c.d_ff, c.ffn_bias);
  }
  norm("model.norm", d);
  if (!c.tied_output) linear("lm_head", c.vocab_size, d, c.output_bias);
  return out;
}

/**
 * The config of a simdformer safetensors file: `given` when set, else the JSON string in its
 * `__metadata__["simdformer.config"]` (or "config"); undefined when the metadata has neither
 * (a Hugging Face file). Bad JSON or a bad config is a ModelFormatError.
 */
export function simdformerConfig(file: string, metadata: Readonly<Record<string, string>>, given?: unknown): ModelConfig | undefined {
  if (given !== undefined) return parseConfig(given, `${file} config`);
  const key = metadata["simdformer.config"] !== undefined ? "simdformer.config" : "config";
  const text = metadata[key];
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(file, `__metadata__["${key}"]`, "valid JSON", (e as Error).message);
  }
  return parseConfig(json, `${file} config`);
}

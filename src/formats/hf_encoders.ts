// The Hugging Face encoder families beyond BERT, seen as BERT: RoBERTa / XLM-RoBERTa / CamemBERT
// (a "roberta." prefix, positions counted from padding_idx + 1) and DistilBERT (its own names, no
// token types) are presented under the "hf-bert" names; plus what a sentence encoder adds on top of
// the transformer: a sequence-classification head with its labels, and sentence-transformers pooling.
import { ModelFormatError, UnsupportedFeatureError } from "../errors.js";
import type { TensorSource } from "../config/tensor_source.js";
import type { QuantizedMatrix } from "../tensor/quant_blocks.js";

type Json = Record<string, unknown>;

/** model_type values with RoBERTa's layout. */
export const ROBERTA_TYPES: readonly string[] = ["roberta", "xlm-roberta", "camembert"];

/** Rows of a RoBERTa position table before the first real position: padding_idx + 1. */
export function positionOffset(j: Json, fail: (field: string, expected: string, found: unknown) => never): number {
  const pad = j.pad_token_id ?? 1;
  if (typeof pad !== "number" || !Number.isInteger(pad) || pad < 0) fail("pad_token_id", "a token id", pad);
  return (pad as number) + 1;
}

/** DistilBERT's layer names under BERT's (our name suffix -> the file's). */
const DISTILBERT_LAYER: ReadonlyArray<readonly [string, string]> = [
  ["attention.self.query", "attention.q_lin"],
  ["attention.self.key", "attention.k_lin"],
  ["attention.self.value", "attention.v_lin"],
  ["attention.output.dense", "attention.out_lin"],
  ["attention.output.LayerNorm", "sa_layer_norm"],
  ["intermediate.dense", "ffn.lin1"],
  ["output.dense", "ffn.lin2"],
  ["output.LayerNorm", "output_layer_norm"],
];

/**
 * A checkpoint's tensors under "hf-bert" names. Names the mapping does not cover (heads) pass
 * through as the file has them. `skipRows` rows are dropped from the front of the position table.
 */
class BertView implements TensorSource {
  constructor(
    private readonly inner: TensorSource,
    private readonly rename: (name: string) => string,
    private readonly positionsName: string,
    private readonly skipRows: number,
  ) {}

  get file(): string {
    return this.inner.file;
  }

  has(name: string): boolean {
    return this.inner.has(this.fileName(name));
  }

  shape(name: string): readonly number[] {
    const n = this.fileName(name);
    const s = this.inner.shape(n);
    return n === this.positionsName ? [s[0] - this.skipRows, ...s.slice(1)] : s;
  }

  read(name: string): Float32Array {
    const n = this.fileName(name);
    const t = this.inner.read(n);
    if (n !== this.positionsName || this.skipRows === 0) return t;
    const s = this.inner.shape(n);
    return t.slice(this.skipRows * s[1]);
  }

  quantized(name: string): QuantizedMatrix | undefined {
    return this.inner.quantized?.(this.fileName(name));
  }

  private fileName(name: string): string {
    const n = this.rename(name);
    return this.inner.has(n) ? n : name;
  }
}

/** The checkpoint's tensors as "hf-bert" reads them (BERT's own pass unchanged). */
export function encoderTensors(json: Json, tensors: TensorSource): TensorSource {
  const type = json.model_type;
  if (ROBERTA_TYPES.includes(type as string)) {
    const p = tensors.has("roberta.embeddings.word_embeddings.weight") ? "roberta." : "";
    const skip = positionOffset(json, (field, expected, found) => {
      throw new ModelFormatError("config.json", field, expected, JSON.stringify(found));
    });
    return new BertView(tensors, (n) => p + n, `${p}embeddings.position_embeddings.weight`, skip);
  }
  if (type === "distilbert") {
    const p = tensors.has("distilbert.embeddings.word_embeddings.weight") ? "distilbert." : "";
    const rename = (n: string): string => {
      const m = /^encoder\.layer\.(\d+)\.(.*)$/.exec(n);
      if (!m) return p + n;
      const [, i, rest] = m;
      for (const [ours, theirs] of DISTILBERT_LAYER) {
        if (rest.startsWith(`${ours}.`)) return `${p}transformer.layer.${i}.${theirs}${rest.slice(ours.length)}`;
      }
      return n;
    };
    return new BertView(tensors, rename, `${p}embeddings.position_embeddings.weight`, 0);
  }
  return tensors;
}

/** A dense layer of a head: weight [rows, cols] (torch layout) and bias [rows]. */
export interface HeadLinear {
  weight: Float32Array;
  bias: Float32Array;
  rows: number;
  cols: number;
}

/**
 * A sequence-classification head over the first token's final hidden state:
 * logits = out(activation(dense(h[0]))). BERT: pooler.dense + tanh + classifier;
 * RoBERTa: classifier.dense + tanh + classifier.out_proj; DistilBERT: pre_classifier + ReLU + classifier.
 */
export interface ClassifierHead {
  dense: HeadLinear;
  activation: "tanh" | "relu";
  out: HeadLinear;
  /** config.json's id2label by class index; undefined when the config has none. */
  labels?: string[];
}

/** The checkpoint's sequence-classification head, or undefined when it has none (a bare encoder). */
export function classifierHead(json: Json, tensors: TensorSource, d: number): ClassifierHead | undefined {
  const type = json.model_type;
  const [dense, activation, out]: [string, "tanh" | "relu", string] = ROBERTA_TYPES.includes(type as string)
    ? ["classifier.dense", "tanh", "classifier.out_proj"]
    : type === "distilbert"
      ? ["pre_classifier", "relu", "classifier"]
      : [tensors.has("bert.pooler.dense.weight") ? "bert.pooler.dense" : "pooler.dense", "tanh", "classifier"];
  if (!tensors.has(`${out}.weight`)) return undefined;
  const linear = (name: string, rows?: number): HeadLinear => {
    const w = `${name}.weight`;
    if (!tensors.has(w)) throw new ModelFormatError(tensors.file, `tensor "${w}"`, "present (the classification head)", "missing");
    const s = tensors.shape(w);
    if (s.length !== 2 || s[1] !== d || (rows !== undefined && s[0] !== rows)) {
      throw new ModelFormatError(tensors.file, `tensor "${w}" shape`, `[${rows ?? "labels"}, ${d}]`, `[${s}]`);
    }
    const b = `${name}.bias`;
    if (!tensors.has(b) || tensors.shape(b).join() !== String(s[0])) throw new ModelFormatError(tensors.file, `tensor "${b}"`, `present, shape [${s[0]}]`, tensors.has(b) ? `[${tensors.shape(b)}]` : "missing");
    return { weight: tensors.read(w), bias: tensors.read(b), rows: s[0], cols: d };
  };
  const head: ClassifierHead = { dense: linear(dense, d), activation, out: linear(out) };
  const id2label = json.id2label;
  if (id2label !== undefined) {
    const n = head.out.rows;
    const labels = Array.from({ length: n }, (_, i) => (id2label as Json)?.[String(i)]);
    if (typeof id2label !== "object" || id2label === null || Object.keys(id2label).length !== n || !labels.every((l) => typeof l === "string")) {
      throw new ModelFormatError("config.json", "id2label", `{"0": label, ..., "${n - 1}": label} (one per classifier row)`, JSON.stringify(id2label));
    }
    head.labels = labels as string[];
  }
  return head;
}

/** How a sentence vector is made of the token states. */
export type PoolingMode = "mean" | "cls" | "last";

/** What a sentence-transformers folder says about pooling. */
export interface SentencePooling {
  /** From the Pooling module's config.json; undefined when the folder has none. */
  pooling?: PoolingMode;
  /** modules.json lists a Normalize module. */
  normalize: boolean;
}

/** The Pooling module's config path, from modules.json (undefined when the folder has none). */
export function poolingConfigPath(modulesJson: unknown): string | undefined {
  if (!Array.isArray(modulesJson)) return undefined;
  const m = modulesJson.find((e) => typeof e?.type === "string" && e.type.endsWith(".Pooling") && typeof e.path === "string");
  return m ? `${m.path}/config.json` : undefined;
}

/**
 * Pooling of a sentence-transformers folder: modules.json and its Pooling module's config.json
 * (`files` by path). Pooling modes we do not implement (max, weighted mean, mean/sqrt(len)) are an
 * UnsupportedFeatureError; several modes at once (concatenated) too.
 */
export function sentencePooling(files: Readonly<Record<string, Uint8Array>>, parse: (bytes: Uint8Array, file: string) => unknown): SentencePooling {
  if (!files["modules.json"]) return { normalize: false };
  const modules = parse(files["modules.json"], "modules.json");
  if (!Array.isArray(modules)) throw new ModelFormatError("modules.json", "contents", "an array of modules", JSON.stringify(modules));
  const normalize = modules.some((m) => typeof m?.type === "string" && m.type.endsWith(".Normalize"));
  const path = poolingConfigPath(modules);
  if (!path || !files[path]) return { normalize };
  const cfg = parse(files[path], path) as Json;
  const on = Object.entries(cfg ?? {}).filter(([k, v]) => k.startsWith("pooling_mode_") && v === true).map(([k]) => k);
  const ours: Record<string, PoolingMode> = { pooling_mode_mean_tokens: "mean", pooling_mode_cls_token: "cls", pooling_mode_lasttoken: "last" };
  if (on.length !== 1 || !ours[on[0]]) {
    throw new UnsupportedFeatureError(`${path}: expected exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token, pooling_mode_lasttoken, found ${JSON.stringify(on)}`);
  }
  return { pooling: ours[on[0]], normalize };
}

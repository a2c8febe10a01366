// Sentence encoders: text in, vectors / scores / labels out. An encoder-only Model with its
// tokenizer, the folder's pooling, and (for cross-encoders and classifiers) a classification head.
import { AbortError, ArgumentError, ShapeError, UnsupportedFeatureError } from "../errors.js";
import type { ClassifierHead, HeadLinear, PoolingMode, SentencePooling } from "../formats/hf_encoders.js";
import type { Model } from "../model/model.js";
import { kindOf, optionsObject } from "../util/options.js";
import { cosineSimilarity, normalizeInPlace, pool } from "./pooling.js";

/** What an encoder needs of a tokenizer (HfTokenizer is one). */
export interface PairTokenizer {
  /** Ids and token types with the model's special tokens, of a text or a text pair. */
  encodeWithSpecials(text: string, pair?: string): { ids: number[]; types: number[] };
}

/** Options shared by every call: how long inputs may be, how many run together, cancellation. */
export interface EncodeOptions {
  /**
   * Cut inputs longer than `maxLength` tokens (keeping the closing special token; of a pair the
   * second text is cut). Default false: a longer input is a ShapeError.
   */
  truncate?: boolean;
  /** Longest input in tokens, special tokens included; default and at most the model's max_positions. */
  maxLength?: number;
  /** Texts per forward pass (sorted by length, so a pass holds texts of similar lengths); default 32. */
  batchSize?: number;
  /** Checked before every forward pass: once aborted, the call throws AbortError. */
  signal?: AbortSignal;
}

/** Options of {@link Encoder.embed}. */
export interface EmbedOptions extends EncodeOptions {
  /** Default: the folder's sentence-transformers pooling (1_Pooling/config.json), else "mean". */
  pooling?: PoolingMode;
  /** Scale each vector to unit length; default true when modules.json lists a Normalize module, else false. */
  normalize?: boolean;
}

/** Result of {@link Encoder.embed}: one vector per text, in the order given. */
export interface Embeddings {
  /** Width of every vector (the model's d_model). */
  dims: number;
  vectors: Float32Array[];
  /** Tokens each text took (special tokens included, after truncation). */
  tokens: number[];
}

/** One passage of {@link Encoder.rerank}'s result. */
export interface RankedPassage {
  /** Index of the passage in the input. */
  index: number;
  /** The cross-encoder's logit: higher is more relevant. */
  score: number;
  text: string;
}

/** One label of {@link Encoder.classify}'s result. */
export interface LabelScore {
  label: string;
  /** Softmax probability over the labels (sigmoid of the logit for a one-label head). */
  score: number;
}

/** What a loaded encoder can do: embed always; rerank with a one-logit head; classify with labelled heads. */
export type EncoderKind = "embedding" | "cross-encoder" | "classifier";

const EMBED_KEYS = ["pooling", "normalize", "truncate", "maxLength", "batchSize", "signal"];
const ENCODE_KEYS = ["truncate", "maxLength", "batchSize", "signal"];

interface Tokenized {
  ids: number[];
  types: number[];
}

/**
 * A sentence encoder. Texts are tokenized with the model's special tokens, sorted by length
 * and run in batches of `batchSize` packed back to back without padding (attention stays inside
 * each text), so a text's vector is bit-identical alone, in any batch, and on any thread count.
 * Create with `rt.loadEncoder(source)`.
 *
 * @example
 * const enc = await rt.loadEncoder("all-MiniLM-L6-v2/");
 * const { vectors } = await enc.embed(["a cat", "a dog"]);
 * enc.similarity(vectors[0], vectors[1]);
 */
export class Encoder {
  /** @internal */
  constructor(
    /** The encoder-only model underneath. */
    readonly model: Model,
    private readonly tokenizer: PairTokenizer,
    private readonly folderPooling: SentencePooling,
    private readonly head: ClassifierHead | undefined,
    /** Name of the source, for messages. */
    readonly file: string,
  ) {
    const empty = tokenizer.encodeWithSpecials("").ids;
    const one = tokenizer.encodeWithSpecials("a").ids;
    let k = 0;
    while (k < empty.length && k < one.length && empty[empty.length - 1 - k] === one[one.length - 1 - k]) k++;
    this.suffix = Math.min(k, Math.max(empty.length - 1, 0));
  }

  /** Special tokens closing every input (kept when truncating). */
  private readonly suffix: number;

  /** "cross-encoder" with a one-logit head, "classifier" with a head of several, else "embedding". */
  get kind(): EncoderKind {
    if (!this.head) return "embedding";
    return this.head.out.rows === 1 ? "cross-encoder" : "classifier";
  }

  /** Width of the vectors. */
  get dims(): number {
    return this.model.config.d_model;
  }

  /** The classifier's labels by class index (config.json id2label), or undefined. */
  get labels(): readonly string[] | undefined {
    return this.head?.labels;
  }

  /** Pooling and normalization embed() uses by default (from the folder, else mean, not normalized). */
  get defaults(): { pooling: PoolingMode; normalize: boolean } {
    return { pooling: this.folderPooling.pooling ?? "mean", normalize: this.folderPooling.normalize };
  }

  /**
   * Sentence vectors of one text or many. An empty list gives no vectors; an empty string gives
   * the vector of the special tokens alone.
   */
  async embed(texts: string | readonly string[], options?: EmbedOptions): Promise<Embeddings> {
    const o = optionsObject("embed", options, EMBED_KEYS);
    if (o.pooling !== undefined && o.pooling !== "mean" && o.pooling !== "cls" && o.pooling !== "last") {
      throw new ArgumentError(`embed: pooling: expected "mean" | "cls" | "last", found ${JSON.stringify(o.pooling)}`);
    }
    if (o.normalize !== undefined && typeof o.normalize !== "boolean") throw new ArgumentError(`embed: normalize: expected true or false, found ${kindOf(o.normalize)}`);
    const pooling = o.pooling ?? this.defaults.pooling;
    const normalize = o.normalize ?? this.defaults.normalize;
    const list = this.texts("embed", texts);
    const inputs = list.map((t, i) => this.fit(this.tokenizer.encodeWithSpecials(t), o, `embed: texts[${i}]`));
    const d = this.dims;
    const vectors = await this.run("embed", inputs, o, (h, n) => {
      const v = pool(h, n, d, pooling);
      return normalize ? normalizeInPlace(v) : v;
    });
    return { dims: d, vectors, tokens: inputs.map((x) => x.ids.length) };
  }

  /**
   * Cosine similarity of two texts or vectors (a text is embedded with the default options).
   * @throws ShapeError when two vectors differ in length.
   */
  async similarity(a: string | ArrayLike<number>, b: string | ArrayLike<number>): Promise<number> {
    const vec = async (x: string | ArrayLike<number>, what: string) => {
      if (typeof x === "string") return (await this.embed(x)).vectors[0];
      if (x === null || typeof x !== "object" || typeof x.length !== "number") throw new ArgumentError(`similarity: ${what}: expected a string or a vector, found ${kindOf(x)}`);
      return x;
    };
    return cosineSimilarity(await vec(a, "a"), await vec(b, "b"));
  }

  /**
   * Scores every passage against the query with a cross-encoder (a one-logit sequence
   * classifier run on "[CLS] query [SEP] passage [SEP]") and returns them best first.
   * @throws UnsupportedFeatureError when the model has no one-logit head.
   */
  async rerank(query: string, passages: readonly string[], options?: EncodeOptions & { topK?: number }): Promise<RankedPassage[]> {
    const o = optionsObject("rerank", options, [...ENCODE_KEYS, "topK"]);
    const head = this.head;
    if (!head || head.out.rows !== 1) {
      throw new UnsupportedFeatureError(`rerank: expected a cross-encoder (a sequence classifier with one logit), found ${head ? `a head of ${head.out.rows} labels` : "an encoder without a classification head"} in ${this.file}`);
    }
    if (typeof query !== "string") throw new ArgumentError(`rerank: query: expected a string, found ${kindOf(query)}`);
    const list = this.texts("rerank", passages);
    const topK = o.topK ?? list.length;
    if (!Number.isInteger(topK) || topK < 0) throw new ArgumentError(`rerank: topK: expected an integer >= 0, found ${JSON.stringify(o.topK)}`);
    const inputs = list.map((p, i) => this.fit(this.tokenizer.encodeWithSpecials(query, p), o, `rerank: passages[${i}]`));
    const scores = await this.run("rerank", inputs, o, (h) => headLogits(head, h));
    return scores.map((s, index) => ({ index, score: s[0], text: list[index] }))
      .sort((x, y) => y.score - x.score || x.index - y.index).slice(0, topK);
  }

  /**
   * Labels of each text, best first, with softmax scores over the head's logits.
   * @throws UnsupportedFeatureError when the model has no classification head or no id2label.
   */
  async classify(texts: string | readonly string[], options?: EncodeOptions & { topK?: number }): Promise<LabelScore[][]> {
    const o = optionsObject("classify", options, [...ENCODE_KEYS, "topK"]);
    const head = this.head;
    if (!head?.labels) {
      throw new UnsupportedFeatureError(`classify: expected a sequence classifier with labels (config.json id2label), found ${head ? "a head without id2label" : "an encoder without a classification head"} in ${this.file}`);
    }
    const labels = head.labels;
    const topK = o.topK ?? labels.length;
    if (!Number.isInteger(topK) || topK < 1) throw new ArgumentError(`classify: topK: expected an integer >= 1, found ${JSON.stringify(o.topK)}`);
    const list = this.texts("classify", texts);
    const inputs = list.map((t, i) => this.fit(this.tokenizer.encodeWithSpecials(t), o, `classify: texts[${i}]`));
    const logits = await this.run("classify", inputs, o, (h) => headLogits(head, h));
    return logits.map((z) => probabilities(z).map((score, i) => ({ label: labels[i], score })).sort((a, b) => b.score - a.score).slice(0, topK));
  }

  /** Raw logits of the classification head, per text (or per pair). */
  async logits(texts: readonly string[], options?: EncodeOptions & { pairs?: readonly string[] }): Promise<Float32Array[]> {
    const o = optionsObject("logits", options, [...ENCODE_KEYS, "pairs"]);
    const head = this.head;
    if (!head) throw new UnsupportedFeatureError(`logits: expected a sequence classifier, found an encoder without a classification head in ${this.file}`);
    const list = this.texts("logits", texts);
    if (o.pairs !== undefined && (!Array.isArray(o.pairs) || o.pairs.length !== list.length)) throw new ArgumentError(`logits: pairs: expected ${list.length} second texts, found ${kindOf(o.pairs)}`);
    const inputs = list.map((t, i) => this.fit(this.tokenizer.encodeWithSpecials(t, o.pairs?.[i]), o, `logits: texts[${i}]`));
    return this.run("logits", inputs, o, (h) => headLogits(head, h));
  }

  /** Releases the model's weights. */
  dispose(): void {
    this.model.dispose();
  }

  /** One text or a list of texts, checked. */
  private texts(where: string, texts: string | readonly string[]): string[] {
    if (typeof texts === "string") return [texts];
    if (!Array.isArray(texts)) throw new ArgumentError(`${where}: expected a string or an array of strings, found ${kindOf(texts)}`);
    texts.forEach((t, i) => {
      if (typeof t !== "string") throw new ArgumentError(`${where}: texts[${i}]: expected a string, found ${kindOf(t)}`);
    });
    return texts as string[];
  }

  /** The input within maxLength: cut before the closing special tokens, or a ShapeError. */
  private fit(x: Tokenized, o: EncodeOptions, what: string): Tokenized {
    const max = this.maxLength(o);
    if (x.ids.length === 0) throw new ArgumentError(`${what}: expected at least 1 token, found none (the tokenizer adds no special tokens to an empty text)`);
    if (x.ids.length <= max) return x;
    if (!o.truncate) {
      throw new ShapeError(`${what}: expected at most ${max} tokens (${o.maxLength !== undefined ? "maxLength" : "the model's max_position_embeddings"}), found ${x.ids.length}; pass truncate: true to cut it`);
    }
    const keep = Math.max(max - this.suffix, 1);
    const cut = (a: number[]) => [...a.slice(0, keep), ...a.slice(a.length - (max - keep))];
    return { ids: cut(x.ids), types: cut(x.types) };
  }

  private maxLength(o: EncodeOptions): number {
    const cap = this.model.config.max_positions;
    if (o.maxLength === undefined) return cap;
    if (!Number.isInteger(o.maxLength) || o.maxLength < 1 || o.maxLength > cap) {
      throw new ArgumentError(`maxLength: expected an integer in 1..${cap} (max_position_embeddings), found ${JSON.stringify(o.maxLength)}`);
    }
    return o.maxLength;
  }

  /**
   * Runs the inputs through the model in batches of similar lengths and maps each input's final
   * hidden states (length x d) with `f`, returning the results in input order.
   */
  private async run<T>(where: string, inputs: Tokenized[], o: EncodeOptions, f: (hidden: Float32Array, length: number) => T): Promise<T[]> {
    const batch = o.batchSize ?? 32;
    if (!Number.isInteger(batch) || batch < 1) throw new ArgumentError(`${where}: batchSize: expected an integer >= 1, found ${JSON.stringify(o.batchSize)}`);
    if (o.signal !== undefined && (o.signal === null || typeof o.signal.aborted !== "boolean")) {
      throw new ArgumentError(`${where}: signal: expected an AbortSignal, found ${kindOf(o.signal)}`);
    }
    const order = inputs.map((_, i) => i).sort((a, b) => inputs[a].ids.length - inputs[b].ids.length || a - b);
    const out = new Array<T>(inputs.length);
    for (let at = 0; at < order.length; at += batch) {
      if (o.signal?.aborted) throw new AbortError(`${where}: aborted by the signal after ${at} of ${inputs.length} inputs`);
      const part = order.slice(at, at + batch);
      const { hidden } = await this.model.forward({
        tokens: part.map((i) => inputs[i].ids),
        tokenTypes: part.map((i) => inputs[i].types),
        outputs: ["hidden"],
      });
      part.forEach((i, k) => (out[i] = f(hidden![k], inputs[i].ids.length)));
    }
    return out;
  }
}

/** y = W x + b over a head's layer, float64 sums in a fixed order. */
function dense(l: HeadLinear, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(l.rows);
  for (let r = 0; r < l.rows; r++) {
    let s = l.bias[r];
    for (let c = 0; c < l.cols; c++) s += l.weight[r * l.cols + c] * x[c];
    y[r] = s;
  }
  return y;
}

/** The head's logits of a text's hidden states: out(activation(dense(first row))). */
function headLogits(head: ClassifierHead, hidden: Float32Array): Float32Array {
  const h = dense(head.dense, hidden.subarray(0, head.dense.cols));
  for (let i = 0; i < h.length; i++) h[i] = head.activation === "tanh" ? Math.tanh(h[i]) : Math.max(h[i], 0);
  return Float32Array.from(dense(head.out, h));
}

/** Softmax of the logits (a sigmoid for one logit). */
function probabilities(z: Float32Array): number[] {
  if (z.length === 1) return [1 / (1 + Math.exp(-z[0]))];
  const m = Math.max(...z);
  const e = Array.from(z, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

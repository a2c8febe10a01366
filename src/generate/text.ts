// Text in, text out: a Model with its tokenizers, for translation and prompt continuation.
import { ArgumentError, ModelFormatError } from "../errors.js";
import type { SafetensorsFile } from "../formats/safetensors.js";
import { CharTokenizer, type CharTokenizerSpec } from "../formats/tokenizers/char.js";
import type { DecodeOptions, Encoding } from "../formats/tokenizers/vocab.js";
import { WordTokenizer, type WordTokenizerSpec } from "../formats/tokenizers/word.js";
import type { ModelConfig } from "../config/config.js";
import { type LoadOptions, loadSafetensors } from "../load/safetensors_load.js";
import type { AttentionMaps, HasEngine, Model } from "../model/model.js";
import { beamSearch } from "./beam.js";
import { IncrementalDecoder } from "./incremental_decode.js";
import { type DecodeControl, type GenerationInput, type GenerationStats, generateTokens } from "./generate.js";
import type { SamplingOptions } from "./sampler.js";
import { optionsObject } from "../util/options.js";

/** What TextModel needs of a tokenizer; WordTokenizer and CharTokenizer are ones. */
export interface TextTokenizer {
  /** Text to ids, the token strings, and the distinct tokens missing from the vocabulary. */
  encode(text: string): Encoding;
  /** Ids to text; special tokens (pad/bos/eos) dropped by default. */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
}

/** Options of {@link TextModel.load}. */
export interface TextModelOptions extends LoadOptions {
  /** Tokenizer of the source text (encoder-decoder) instead of the one the metadata describes. */
  srcTokenizer?: TextTokenizer;
  /** Tokenizer of the output (and of a decoder-only prompt) instead of the metadata's. */
  tokenizer?: TextTokenizer;
}

/**
 * Options of translate/stream/generate: sampling (default greedy), limits, cancellation,
 * and beam search. `capture` receives the attention probabilities of every step (decoder
 * queries are the fed tokens: bos, then each output token but the last; beams make the
 * batch rows the current hypotheses).
 */
export interface TextOptions extends SamplingOptions, DecodeControl {
  /** Beam width; > 1 runs beam search (sampling options must then be left unset). Default 1. */
  beams?: number;
  /** GNMT length penalty of beam search (see BeamOptions); default 1. */
  lengthPenalty?: number;
  /**
   * Ids that end the text (not handed out). Default {@link TextModel.stop}, from the model's
   * format: llama2.c BOS (1) and EOS (2); GGUF tokenizer.ggml.eos_token_id plus eot/eom ids;
   * Hugging Face generation_config.json's eos_token_id (one or a list, else config.json's);
   * simdformer safetensors the config's eos_id (docs/formats.md).
   */
  stop?: readonly number[];
  /**
   * translate() only: also return the attention probabilities behind the output
   * (`Translation.attention`). Default false; when set, one extra teacher-forced forward pass
   * over the chosen tokens computes them after decoding (the same numbers the decoding steps
   * saw, up to float rounding, and for beams the winning hypothesis's).
   */
  attention?: boolean;
}

/** A piece of streamed output. */
export interface TextPiece {
  /** The token id; -1 for a last piece carrying bytes that never formed a character (U+FFFD). */
  id: number;
  /**
   * The text this token adds (may be "" for special tokens, or while a character's bytes are
   * still coming). Pieces concatenate to decode(prompt + generated ids) minus decode(prompt):
   * the first piece keeps its leading space.
   */
  text: string;
}

/** Result of {@link TextModel.translate}. */
export interface Translation {
  /** The translation (decoder-only: the continuation, leading space included); the stream's pieces joined. */
  text: string;
  /** Its token ids (without bos/eos). */
  ids: number[];
  /** Its token strings, one per id (labels for attention rows). */
  tokens: string[];
  /** The source as the encoder saw it, one string per position, "<eos>" included when the model appends it (attention columns). */
  srcTokens: string[];
  /** Distinct source words missing from the vocabulary (encoded as <unk>). */
  unknownWords: string[];
  stats: GenerationStats;
  /**
   * With `attention: true`: every layer's and head's attention probabilities, with token
   * labels (srcTokens, tgtTokens as fed, outputTokens as produced). Absent when nothing was generated.
   */
  attention?: AttentionMaps;
}

/**
 * A model with its tokenizers: text in, text out. Built from a safetensors file whose
 * metadata carries the config ("simdformer.config"), the vocabularies
 * ("simdformer.src_vocab", "simdformer.tgt_vocab", JSON arrays, index = id) and the
 * tokenizer specs ("simdformer.tokenizer": {"src": {"type": "word", ...}, "tgt": {"type": "char"}}).
 * A decoder-only model uses "simdformer.tgt_vocab" (or "simdformer.vocab") and the "tgt" spec.
 *
 * @example
 * const tm = await TextModel.load(rt, bytes);
 * const { text } = await tm.translate("i like deep learning");   // "我喜欢深度学习"
 * for await (const p of tm.stream("i like deep learning")) process.stdout.write(p.text);
 * tm.dispose();
 */
export class TextModel {
  private constructor(
    /** The underlying model. */
    readonly model: Model,
    /** Source-side tokenizer (the output tokenizer for a decoder-only model). */
    readonly srcTokenizer: TextTokenizer,
    /** Output tokenizer. */
    readonly tokenizer: TextTokenizer,
    /**
     * The ids that end a generation when the call gives no `stop`: what the model's format
     * says ends a text (llama2.c: BOS and EOS; GGUF: eos, eot, eom; Hugging Face:
     * generation_config.json's eos_token_id list; see docs/formats.md), else [eos_id].
     */
    readonly stop: readonly number[],
  ) {}

  /**
   * Loads the model and its tokenizers from safetensors bytes (see the class doc for the
   * metadata). Tokenizers given in `opts` replace the metadata's. Vocabulary sizes and
   * special ids are checked against the config (ModelFormatError on a mismatch).
   */
  static async load(runtime: HasEngine, bytes: Uint8Array | SafetensorsFile, opts: TextModelOptions = {}): Promise<TextModel> {
    const model = await loadSafetensors(runtime, bytes, opts);
    try {
      return TextModel.fromModel(model, { src: opts.srcTokenizer, tgt: opts.tokenizer }, opts.file ?? "<bytes>");
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /**
   * Wraps a loaded model. Missing tokenizers are built from the model's metadata; `stop`
   * (default [eos_id]) becomes {@link TextModel.stop}. The TextModel owns the model from then
   * on: dispose() frees it.
   */
  static fromModel(model: Model, parts: { src?: TextTokenizer; tgt?: TextTokenizer; stop?: readonly number[] } = {}, file = "<model>"): TextModel {
    const c = model.config;
    const ed = c.arch === "encoder-decoder";
    if (c.arch === "encoder") throw new ArgumentError('TextModel: expected a model with a decoder, found arch "encoder"');
    const stop = parts.stop ?? (c.eos_id >= 0 ? [c.eos_id] : []);
    const bad = stop.find((id) => !(Number.isInteger(id) && id >= 0 && id < model.vocabSize));
    if (bad !== undefined) throw new ArgumentError(`TextModel: stop: expected token ids in 0..${model.vocabSize - 1}, found ${bad}`);
    const tgt = parts.tgt ?? tokenizerFromMetadata(model, "tgt", file);
    const src = ed ? (parts.src ?? tokenizerFromMetadata(model, "src", file)) : tgt;
    return new TextModel(model, src, tgt, [...stop]);
  }

  /** The model's config. */
  get config(): ModelConfig {
    return this.model.config;
  }

  /**
   * Source ids of a text as the encoder takes them (eos appended to a non-empty source when the
   * config says src_append_eos), with its token strings and unknown words. A text without
   * tokens ("", or only what the tokenizer skips, such as spaces) gives an empty source.
   */
  encodeSource(text: string): { ids: number[]; tokens: string[]; unknown: string[] } {
    if (typeof text !== "string") throw new ArgumentError(`TextModel: text: expected a string, found ${typeof text}`);
    const c = this.model.config;
    const enc = this.srcTokenizer.encode(text);
    const ids = [...enc.ids];
    const tokens = [...enc.tokens];
    if (c.arch === "encoder-decoder" && c.src_append_eos && c.eos_id >= 0 && ids.length > 0) {
      ids.push(c.eos_id);
      tokens.push("<eos>");
    }
    return { ids, tokens, unknown: [...enc.unknown] };
  }

  /**
   * Translates (encoder-decoder) or continues (decoder-only) a text; greedy unless sampling or
   * beams are asked for. An empty source (see {@link encodeSource}) translates to "" without
   * running the model: no ids, stop reason "empty". A decoder-only model continues an empty
   * prompt from its bos_id (unconditional generation); without a bos_id that is an ArgumentError.
   */
  async translate(text: string, options?: TextOptions): Promise<Translation> {
    const opts = optionsObject("TextModel", options);
    const { input, srcTokens, unknown } = this.input(text);
    let ids: number[];
    let stats: GenerationStats;
    if ((opts.beams ?? 1) > 1) {
      const r = await beamSearch(this.model, input, this.beamOptions(opts));
      ids = r.ids;
      stats = r.stats;
    } else {
      ids = [];
      const gen = generateTokens(this.model, input, this.sampleOptions(opts));
      let r = await gen.next();
      for (; !r.done; r = await gen.next()) ids.push(r.value.id);
      stats = r.value;
    }
    const tokens = ids.map((id) => this.tokenizer.decode([id], { skipSpecial: false }));
    const decoder = this.textDecoder(input);
    const pieces = ids.map((id) => decoder.push(id));
    const out: Translation = { text: pieces.join("") + decoder.flush(), ids, tokens, srcTokens, unknownWords: unknown, stats };
    if (opts.attention) {
      const maps = await this.attentionOf(input, ids, stats, srcTokens);
      if (maps) out.attention = maps;
    }
    return out;
  }

  /**
   * The attention maps behind an output: one forward pass with the decoder fed what it was
   * fed while generating (prompt, then every output token that was followed by another step).
   */
  private async attentionOf(input: GenerationInput, ids: number[], stats: GenerationStats, srcTokens: string[]): Promise<AttentionMaps | undefined> {
    const c = this.model.config;
    const prompt = input.prompt ? Array.from(input.prompt) : [c.bos_id];
    const reason = stats.stopReasons?.[0] ?? stats.stopReason;
    // The step that chose eos (or another stop id) had a query too; its row is labeled with the stop.
    const stopped = reason === "eos" || reason === "stop";
    const full = [...prompt, ...ids];
    const fed = stopped ? full : full.slice(0, -1);
    if (fed.length === 0 || (!stopped && ids.length === 0)) return undefined;
    const label = (id: number) => this.tokenizer.decode([id], { skipSpecial: false });
    const r = await this.model.forward({
      tokens: [fed], src: input.src ? [input.src] : undefined, outputs: ["hidden"], attention: true, // hidden: skips the vocabulary GEMM
    });
    const maps = r.attention![0];
    maps.srcTokens = c.arch === "encoder-decoder" ? srcTokens : [];
    maps.tgtTokens = fed.map(label);
    maps.outputTokens = [...full.slice(1).map(label), ...(stopped ? [reason === "eos" ? label(c.eos_id) : "<stop>"] : [])];
    return maps;
  }

  /**
   * Streams the translation of `text` piece by piece, each piece as soon as its token is
   * chosen (with beams > 1: after the search, since the best hypothesis is only known then).
   * The generator's return value is the stats. Empty input as in {@link translate}: an empty
   * source yields no pieces (stop reason "empty").
   */
  stream(text: string, opts: TextOptions = {}): AsyncGenerator<TextPiece, GenerationStats, undefined> {
    return this.pieces(text, opts);
  }

  /**
   * Streams the continuation of a prompt (decoder-only model; prompt tokenized with the
   * output tokenizer, bos_id prepended when the config has one; an empty prompt then
   * generates from bos_id alone, and without one is an ArgumentError). On an encoder-decoder
   * model the text is the source, as in {@link stream} (an empty one yields no pieces).
   */
  generate(text: string, opts: TextOptions = {}): AsyncGenerator<TextPiece, GenerationStats, undefined> {
    return this.pieces(text, opts);
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }

  private async *pieces(text: string, options: TextOptions): AsyncGenerator<TextPiece, GenerationStats, undefined> {
    const opts = optionsObject("TextModel", options);
    if (opts.attention) throw new ArgumentError("TextModel: attention: true is a translate() option (it returns the maps with the result), found it on stream/generate");
    const { input } = this.input(text);
    const decoder = this.textDecoder(input);
    const piece = (id: number): TextPiece => ({ id, text: decoder.push(id) });
    // Bytes still undecodable at the end are real U+FFFDs: one last piece (id -1) carries them.
    const rest = (): TextPiece | undefined => {
      const tail = decoder.flush();
      return tail ? { id: -1, text: tail } : undefined;
    };
    if ((opts.beams ?? 1) > 1) {
      const r = await beamSearch(this.model, input, this.beamOptions(opts));
      for (const id of r.ids) yield piece(id);
      const last = rest();
      if (last) yield last;
      return r.stats;
    }
    const gen = generateTokens(this.model, input, this.sampleOptions(opts));
    try {
      let r = await gen.next();
      for (; !r.done; r = await gen.next()) yield piece(r.value.id);
      const last = rest();
      if (last) yield last;
      return r.value;
    } finally {
      await gen.return(undefined as never); // the consumer stopped early: free the decode state now
    }
  }

  /** Pieces of the output text, each what its token adds to the decoder's input (prompt, or bos) before it. */
  private textDecoder(input: GenerationInput): IncrementalDecoder {
    const bos = this.model.config.bos_id;
    return new IncrementalDecoder(this.tokenizer, input.prompt ?? (bos >= 0 ? [bos] : []));
  }

  private input(text: string): { input: GenerationInput; srcTokens: string[]; unknown: string[] } {
    const c = this.model.config;
    const src = this.encodeSource(text);
    if (c.arch === "encoder-decoder") return { input: { src: src.ids }, srcTokens: src.tokens, unknown: src.unknown };
    const prompt = c.bos_id >= 0 ? [c.bos_id, ...src.ids] : src.ids;
    if (prompt.length === 0) throw new ArgumentError("TextModel: expected a non-empty prompt (the model has no bos_id to start from), found \"\"");
    return { input: { prompt }, srcTokens: src.tokens, unknown: src.unknown };
  }

  private beamOptions(opts: TextOptions) {
    const sampled = (["temperature", "topK", "topP", "repetitionPenalty", "seed"] as const).filter((k) => opts[k] !== undefined && !(k === "temperature" && opts[k] === 0));
    if (sampled.length > 0) throw new ArgumentError(`TextModel: beams ${opts.beams} is beam search: expected no sampling options, found ${sampled.join(", ")}`);
    const { attention: _a, ...rest } = opts;
    return { ...rest, stop: opts.stop ?? this.stop };
  }

  private sampleOptions(opts: TextOptions) {
    if (opts.beams !== undefined && !(Number.isInteger(opts.beams) && opts.beams >= 1)) {
      throw new ArgumentError(`TextModel: beams: expected an integer >= 1, found ${opts.beams}`);
    }
    const { beams: _b, lengthPenalty: _l, attention: _a, ...rest } = opts;
    return { ...rest, stop: opts.stop ?? this.stop };
  }
}

/** Builds the "src" or "tgt" tokenizer the model's metadata describes, checked against the config. */
function tokenizerFromMetadata(model: Model, side: "src" | "tgt", file: string): TextTokenizer {
  const meta = model.metadata;
  const c = model.config;
  const json = (key: string): unknown => {
    const text = meta[key];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ModelFormatError(file, `__metadata__["${key}"]`, "valid JSON", (e as Error).message);
    }
  };
  const vocabKey = side === "src" ? "simdformer.src_vocab" : meta["simdformer.tgt_vocab"] !== undefined || c.arch === "encoder-decoder" ? "simdformer.tgt_vocab" : "simdformer.vocab";
  const vocab = json(vocabKey);
  if (vocab === undefined) throw new ModelFormatError(file, `__metadata__["${vocabKey}"]`, "a JSON array of token strings (or a tokenizer in the load options)", "missing");
  const specs = json("simdformer.tokenizer");
  if (specs === undefined) throw new ModelFormatError(file, '__metadata__["simdformer.tokenizer"]', `a JSON object with a "${side}" tokenizer`, "missing");
  const all = specs as Record<string, unknown>;
  const spec = (typeof all === "object" && all !== null && !Array.isArray(all) ? ("type" in all ? all : all[side]) : undefined) as { type?: unknown } | undefined;
  const where = `${file}: simdformer.tokenizer.${side}`;
  if (typeof spec !== "object" || spec === null) throw new ModelFormatError(where, "spec", 'an object {"type": "word" | "char", ...}', JSON.stringify(spec));
  const source = `${file}: ${vocabKey}`;
  let tok: WordTokenizer | CharTokenizer;
  if (spec.type === "word") tok = new WordTokenizer(vocab as string[], spec as Partial<WordTokenizerSpec>, source);
  else if (spec.type === "char") tok = new CharTokenizer(vocab as string[], spec as Partial<CharTokenizerSpec>, source);
  else throw new ModelFormatError(where, "type", '"word" | "char"', JSON.stringify(spec.type));
  const size = side === "src" ? model.srcVocabSize : model.vocabSize;
  if (tok.vocab.size !== size) throw new ModelFormatError(source, "length", `${size} tokens (the config's ${side === "src" ? "src_vocab_size" : "vocabulary"})`, `${tok.vocab.size}`);
  const special = side === "src" ? [["pad_id", c.pad_id, tok.vocab.padId], ["eos_id", c.eos_id, tok.vocab.eosId]] as const
    : [["pad_id", c.pad_id, tok.vocab.padId], ["bos_id", c.bos_id, tok.vocab.bosId], ["eos_id", c.eos_id, tok.vocab.eosId]] as const;
  for (const [name, want, got] of special) {
    if (want >= 0 && got !== want) throw new ModelFormatError(source, name, `the config's ${name} ${want} to be the vocabulary's special token`, got < 0 ? "no such token" : `id ${got}`);
  }
  return tok;
}

// The public Model: built from a config and its tensors (fromTensors), forward (hidden states / logits), encode + decodeStep with a KV cache.
import { ArgumentError, DisposedError, ShapeError } from "../errors.js";
import { readF32 } from "../kernels/bindings.js";
import { packSegments, type Segment, totalRows } from "../ops/segments.js";
import type { Engine } from "../engine/engine.js";
import { PlanRefused, StepPlan } from "../engine/plan.js";
import type { Region } from "../engine/memory.js";
import type { ModelConfig } from "../config/config.js";
import { KvCache } from "./kv_cache.js";
import { type AttentionCapture, Transformer } from "./transformer.js";
import { AttentionCollector, type AttentionMaps, bothCaptures } from "./attention_maps.js";
import type { TensorSource } from "../config/tensor_source.js";
import { loadWeights } from "./weights.js";
import { assertFits, kvBytes, loadedBytes, weightBytes } from "./budget.js";
import { kindOf, optionsObject } from "../util/options.js";

export type { AttentionCapture, AttentionEvent } from "./transformer.js";
export type { AttentionMaps } from "./attention_maps.js";

/** Token ids of one sequence (integers in 0..vocab-1). */
export type TokenSequence = ArrayLike<number>;
/** Key padding of one sequence: true (or 1) marks a position no query may attend to (torch key_padding_mask). */
export type PaddingMask = ArrayLike<boolean | number>;

/** Anything holding an engine: a Runtime from createRuntime(), or an Engine's holder. */
export interface HasEngine {
  readonly engine: Engine;
}

/** Input of {@link Model.forward}: a batch of sequences of any lengths (no padding needed). */
export interface ForwardInput {
  /** Encoder-decoder only: source token ids, one sequence per batch row. */
  src?: TokenSequence[];
  /** Decoder input (encoder-decoder: target prefix; decoder-only and encoder-only: the tokens). */
  tokens: TokenSequence[];
  /** Key padding of `tokens` (same lengths), for torch-style padded batches. */
  padding?: PaddingMask[];
  /** Key padding of `src` (encoder self-attention and cross-attention). */
  srcPadding?: PaddingMask[];
  /**
   * Encoder-only: the token type (segment) of every token of `tokens`, same lengths; default all 0.
   * BERT's pairs: 0 for the first text, 1 for the second.
   */
  tokenTypes?: TokenSequence[];
  /** What to return; default ["logits"] when the model has an output head, else ["hidden"]. */
  outputs?: Array<"hidden" | "logits">;
  /** Called with every head's attention probabilities; costs nothing when absent. */
  capture?: AttentionCapture;
  /** Also return every layer's and head's attention probabilities (`attention` of the result). Default false. */
  attention?: boolean;
}

/** Output of {@link Model.forward}: per sequence, row-major (length x width). */
export interface ForwardResult {
  /** Final hidden states (after the final norm), length x d_model. */
  hidden?: Float32Array[];
  /** Vocabulary logits, length x vocab. */
  logits?: Float32Array[];
  /** With `attention: true`: per sequence, the attention probabilities of every layer and head. */
  attention?: AttentionMaps[];
}

/** Options of {@link Model.startDecoding}. */
export interface StartOptions {
  /** Sequences decoded side by side; default src.length or 1. */
  batch?: number;
  /** Encoder-decoder: the source sequences (encoded once, cross-attention keys/values cached). */
  src?: TokenSequence[];
  srcPadding?: PaddingMask[];
  /** Positions allocated per sequence up front (the cache grows by doubling); default 64. */
  capacity?: number;
  capture?: AttentionCapture;
}

/** Options of {@link Model.decodeStep}. */
export interface StepOptions {
  capture?: AttentionCapture;
  /** "logits" (default with an output head) or "hidden" (final hidden state of the last position). */
  output?: "logits" | "hidden";
  /**
   * Where to write the result instead of a new array: at least batch x width floats, overwritten
   * each call; the result is (a view of) its first batch x width floats. A loop that reads each
   * step's logits before the next step saves allocating a vocabulary-sized array per token.
   */
  out?: Float32Array;
}

/** The decode step a DecodeState has compiled, and the layout it was compiled for. @internal */
export interface CompiledStep {
  output: "logits" | "hidden";
  threads: number;
  /** KvCache.layout at compile time. */
  layout: string;
  /** DecodeState.memoryLayout at compile time. */
  memory: string;
  /** The plan, or null where the step cannot be one (then `refused` says why). */
  step: StepPlan | null;
  refused?: string;
}

/** Sources and masks of a batch's rows as a string: a plan is compiled for one. */
const memoryLayoutOf = (segs: readonly Segment[], masks: readonly number[]): string =>
  `${segs.map((s) => `${s.row}:${s.length}:${s.past}`).join(",")}/${masks.join(",")}`;

/**
 * The decoding state of a batch: the KV cache of every sequence and, for encoder-decoder
 * models, the cross-attention keys/values of each source (computed once). Create with
 * {@link Model.startDecoding}; free with dispose().
 */
export class DecodeState {
  private disposed = false;

  /** @internal */
  constructor(
    /** @internal The model that created this state. */
    readonly owner: object,
    private readonly engine: Engine,
    /** Self-attention keys and values of every position decoded so far. */
    readonly cache: KvCache,
    /** @internal Per decoder layer: projected source rows (kv region). */
    readonly memoryPtrs: readonly number[],
    /** @internal Per sequence: its source rows in those buffers. */
    public memorySegs: Segment[],
    /** @internal Per sequence: additive source key mask (kv region) or 0. */
    public memoryMasks: number[],
    private readonly owned: number[],
  ) {
    this.memoryLayout = memoryLayoutOf(memorySegs, memoryMasks);
  }

  /** @internal The compiled decode step (null until the first planned step). */
  plan: CompiledStep | null = null;

  /** @internal memorySegs and memoryMasks as a string, kept up to date by select(). */
  memoryLayout: string;

  /** Sequences in the batch. */
  get batch(): number {
    return this.cache.batch;
  }

  /** Tokens each sequence has consumed (its next position). */
  get lengths(): number[] {
    return this.cache.lengths;
  }

  /**
   * Reorders the batch: new sequence i continues old sequence rows[i] (beam search keeps,
   * drops and duplicates hypotheses; greedy drops finished ones). Sources follow their rows.
   */
  select(rows: readonly number[]): void {
    this.assertLive();
    this.cache.select(rows);
    if (this.memorySegs.length > 0) {
      this.memorySegs = rows.map((r) => this.memorySegs[r]);
      this.memoryMasks = rows.map((r) => this.memoryMasks[r]);
      this.memoryLayout = memoryLayoutOf(this.memorySegs, this.memoryMasks);
    }
  }

  /** @internal */
  assertLive(): void {
    if (this.disposed) throw new DisposedError("DecodeState used after dispose()");
  }

  /** Frees the cache and the cached source keys/values. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.plan?.step?.dispose();
    this.plan = null;
    this.cache.dispose();
    for (const p of this.owned) this.engine.regions.kv.release(p);
  }
}

/**
 * Batches up to this size decode through a plan: a plan is recorded 2 B + 2 times when the
 * cache layout changes (greedy drops finished rows, beams reorder), which larger batches,
 * whose steps are GEMMs that amortize their dispatches anyway, do not win back.
 */
const PLAN_MAX_BATCH = 4;

/** One queue per engine: a pass owns the scratch arena until it ends. */
const queues = new WeakMap<Engine, Promise<unknown>>();

/**
 * A transformer loaded into a runtime: encoder-only, decoder-only or encoder-decoder.
 * Weights are uploaded and packed once; every call runs on the runtime's kernels and
 * threads. Calls on one runtime are serialized.
 *
 * @example
 * const model = await loadSafetensors(rt, bytes);   // or Model.fromTensors(rt, config, tensors)
 * const { logits } = await model.forward({ tokens: [[5, 6, 7]] });
 * const state = await model.startDecoding({ src: [[4, 9, 2]] });
 * const next = await model.decodeStep(state, [[model.config.bos_id]]);  // 1 x vocab
 */
export class Model {
  private disposed = false;

  private constructor(
    private readonly engine: Engine,
    /** The validated config. */
    readonly config: ModelConfig,
    /** The file's metadata (config JSON, vocabularies, ...). */
    readonly metadata: Readonly<Record<string, string>>,
    private readonly net: Transformer,
    /** Bytes of the model's weights as loaded (about what a decode step reads). */
    private readonly weightBytes: number,
  ) {}

  /**
   * Builds a model from a validated config and any tensor source under the config's names (a
   * format reader's output: openModel, openSafetensors; a SafetensorsFile is one).
   */
  static fromTensors(runtime: HasEngine, config: ModelConfig, tensors: TensorSource, metadata: Record<string, string> = {}): Model {
    runtime.engine.assertLive();
    // Refuse a model that cannot fit before reading a tensor (the config and the file's dtypes
    // give a lower bound), then before the first block with the real sizes.
    const region = runtime.engine.regions.weights;
    const rate = tensors.linearBytesPerValue?.();
    if (rate !== undefined) assertFits(region, weightBytes(config, rate));
    const weights = loadWeights(config, tensors);
    assertFits(region, loadedBytes(weights, runtime.engine.mem.memory.buffer));
    const net = Transformer.create(runtime.engine, config, weights);
    return new Model(runtime.engine, config, metadata, net, loadedBytes(weights));
  }

  /** Output vocabulary (target vocabulary of an encoder-decoder). */
  get vocabSize(): number {
    return this.config.vocab_size;
  }

  /** Vocabulary of the encoder input. */
  get srcVocabSize(): number {
    return this.config.arch === "encoder-decoder" ? this.config.src_vocab_size : this.config.vocab_size;
  }

  /** @internal The kv region decode states of this model live in (for up-front budget checks). */
  get kvRegion(): Region {
    return this.engine.regions.kv;
  }

  /** True when the model ends in a vocabulary projection. */
  get hasLogits(): boolean {
    return this.net.hasOutput;
  }

  /**
   * Full forward pass over a batch. Encoder-decoder: `src` is encoded and `tokens` decoded
   * causally against it; decoder-only: causal over `tokens`; encoder-only: bidirectional.
   * Returns per sequence hidden states and/or logits for every position.
   */
  async forward(input: ForwardInput): Promise<ForwardResult> {
    if (typeof input !== "object" || input === null || Array.isArray(input)) throw new ArgumentError(`forward: input: expected an object, found ${kindOf(input)}`);
    if (input.outputs !== undefined && (!Array.isArray(input.outputs) || !input.outputs.every((o) => o === "hidden" || o === "logits"))) {
      throw new ArgumentError(`forward: outputs: expected an array of "hidden" | "logits", found ${JSON.stringify(input.outputs)}`);
    }
    if (input.capture !== undefined && typeof input.capture !== "function") throw new ArgumentError(`forward: capture: expected a function, found ${kindOf(input.capture)}`);
    const c = this.config;
    const ed = c.arch === "encoder-decoder";
    const outputs = input.outputs ?? [this.net.hasOutput ? "logits" : "hidden"];
    if (outputs.includes("logits") && !this.net.hasOutput) throw new ShapeError(`forward: logits asked, but this model has no output head (lm_head false)`);
    const tok = this.checkBatch("tokens", input.tokens, c.arch === "encoder" ? this.srcVocabSize : c.vocab_size, 0);
    let source: { seqs: TokenSequence[]; ids: Int32Array } | undefined;
    if (ed) {
      if (!input.src) throw new ShapeError("forward: an encoder-decoder model needs src sequences, found none");
      if (input.src.length !== input.tokens.length) throw new ShapeError(`forward: src has ${input.src.length} sequences, expected ${input.tokens.length} (one per tokens sequence)`);
      source = { seqs: input.src, ids: this.checkBatch("src", input.src, c.src_vocab_size, 0) };
    } else if (input.src) {
      throw new ShapeError(`forward: src given, but arch "${c.arch}" has no cross-attention`);
    }
    let types: Int32Array | undefined;
    if (input.tokenTypes !== undefined) {
      if (c.arch !== "encoder") throw new ShapeError(`forward: tokenTypes given, but arch "${c.arch}" is not an encoder`);
      if (!Array.isArray(input.tokenTypes) || input.tokenTypes.length !== input.tokens.length) {
        throw new ShapeError(`forward: tokenTypes: expected ${input.tokens.length} sequences (one per tokens sequence), found ${Array.isArray(input.tokenTypes) ? input.tokenTypes.length : kindOf(input.tokenTypes)}`);
      }
      input.tokenTypes.forEach((t, i) => {
        if (t?.length !== input.tokens[i].length) throw new ShapeError(`forward: tokenTypes[${i}]: expected ${input.tokens[i].length} types (the sequence length), found ${t?.length ?? kindOf(t)}`);
      });
      types = this.checkBatch("tokenTypes", input.tokenTypes, this.net.tokenTypeCount, 0);
    }
    const collector = input.attention ? this.collector(input) : undefined;
    const capture = bothCaptures(input.capture, collector?.capture);
    return this.exclusive(async () => {
      const segs = packSegments(input.tokens.map((t) => t.length));
      const keyMask = this.masks("padding", input.padding, input.tokens, "scratch");
      const src = source && {
        segs: packSegments(source.seqs.map((t) => t.length)), ids: source.ids, keyMask: this.masks("srcPadding", input.srcPadding, source.seqs, "scratch"),
      };
      const y = await this.net.forward({ segs, ids: tok, types, keyMask, src, capture, logits: outputs.includes("logits") });
      const out: ForwardResult = {};
      const rowsOf = (ptr: number, width: number) => segs.map((s) => readF32(this.engine, ptr + s.row * width * 4, s.length * width));
      if (outputs.includes("hidden")) out.hidden = rowsOf(y.hidden, c.d_model);
      if (y.logits !== undefined) out.logits = rowsOf(y.logits, this.net.outputWidth);
      if (collector) out.attention = collector.maps;
      return out;
    });
  }

  /** Encoder hidden states (after the encoder's final norm), per sequence length x d_model. */
  async encode(src: TokenSequence[], options?: { padding?: PaddingMask[]; capture?: AttentionCapture }): Promise<Float32Array[]> {
    const opts = optionsObject("encode", options);
    if (this.config.arch === "decoder") throw new ShapeError('encode: expected a model with an encoder, found arch "decoder"');
    const ids = this.checkBatch("src", src, this.srcVocabSize, 0);
    return this.exclusive(async () => {
      const segs = packSegments(src.map((s) => s.length));
      const x = await this.net.encode(segs, ids, this.masks("padding", opts.padding, src, "scratch"), opts.capture);
      const d = this.config.d_model;
      return segs.map((s) => readF32(this.engine, x + s.row * d * 4, s.length * d));
    });
  }

  /**
   * Starts incremental decoding of a batch: an empty KV cache per sequence and, for an
   * encoder-decoder, the source encoded once with its cross-attention keys/values cached.
   * Feed tokens with {@link decodeStep}; dispose() the state when done.
   */
  async startDecoding(options?: StartOptions): Promise<DecodeState> {
    const opts = optionsObject("startDecoding", options);
    const c = this.config;
    if (c.arch === "encoder") throw new ShapeError('startDecoding: expected a model with a decoder, found arch "encoder"');
    const ed = c.arch === "encoder-decoder";
    if (ed && !opts.src) throw new ShapeError("startDecoding: an encoder-decoder model needs src sequences, found none");
    if (!ed && opts.src) throw new ShapeError(`startDecoding: src given, but arch "${c.arch}" has no encoder`);
    const batch = opts.batch ?? opts.src?.length ?? 1;
    if (!Number.isInteger(batch) || batch < 1) throw new ShapeError(`startDecoding: batch expected an integer >= 1, found ${batch}`);
    if (opts.src && opts.src.length !== batch) throw new ShapeError(`startDecoding: batch ${batch} but ${opts.src.length} src sequences`);
    if (opts.capacity !== undefined && !(Number.isInteger(opts.capacity) && opts.capacity >= 1)) {
      throw new ArgumentError(`startDecoding: capacity: expected an integer >= 1, found ${opts.capacity}`);
    }
    if (opts.capture !== undefined && typeof opts.capture !== "function") throw new ArgumentError(`startDecoding: capture: expected a function, found ${kindOf(opts.capture)}`);
    const source = opts.src && { seqs: opts.src, ids: this.checkBatch("src", opts.src, c.src_vocab_size, 0) };
    // The cache's first blocks and the cached source keys/values, refused before encoding.
    assertFits(this.engine.regions.kv, kvBytes(c, { positions: new Array<number>(batch).fill(0), capacity: opts.capacity, srcLengths: opts.src?.map((s) => s.length) }));
    return this.exclusive(async () => {
      const kv = this.engine.regions.kv;
      const cache = new KvCache(this.engine, {
        layers: c.decoder_layers, kvHeads: c.n_kv_heads, headDim: c.head_dim, batch, capacity: opts.capacity, maxCapacity: c.max_positions,
      });
      const owned: number[] = [];
      try {
        if (!source) return new DecodeState(this, this.engine, cache, [], [], [], owned);
        const srcSegs = packSegments(source.seqs.map((s) => s.length));
        const rows = totalRows(srcSegs);
        const scratchMasks = this.masks("srcPadding", opts.srcPadding, source.seqs, "scratch");
        const mem = await this.net.encode(srcSegs, source.ids, scratchMasks, opts.capture);
        const ptrs = this.net.decoder.map(() => kv.alloc(rows * this.net.memoryRowBytes));
        owned.push(...ptrs);
        await this.net.projectMemory(rows, mem, ptrs);
        const masks = this.masks("srcPadding", opts.srcPadding, source.seqs, "kv") ?? srcSegs.map(() => 0);
        owned.push(...masks.filter((p) => p !== 0));
        return new DecodeState(this, this.engine, cache, ptrs, srcSegs, masks, owned);
      } catch (e) {
        cache.dispose();
        for (const p of owned) kv.release(p);
        throw e;
      }
    });
  }

  /**
   * Feeds tokens[i] (one or more; a prompt prefills in one call) to sequence i of the state
   * and returns, for each sequence, the logits (or hidden state) of its last new token:
   * batch x vocab, row-major.
   */
  async decodeStep(state: DecodeState, tokens: TokenSequence[], options?: StepOptions): Promise<Float32Array> {
    if (!(state instanceof DecodeState)) throw new ArgumentError(`decodeStep: state: expected a DecodeState from startDecoding(), found ${kindOf(state)}`);
    const opts = optionsObject("decodeStep", options);
    if (opts.output !== undefined && opts.output !== "logits" && opts.output !== "hidden") {
      throw new ArgumentError(`decodeStep: output: expected "logits" | "hidden", found ${JSON.stringify(opts.output)}`);
    }
    if (opts.capture !== undefined && typeof opts.capture !== "function") throw new ArgumentError(`decodeStep: capture: expected a function, found ${kindOf(opts.capture)}`);
    state.assertLive();
    const c = this.config;
    if (state.owner !== this) throw new ArgumentError("decodeStep: the state was started by another model");
    if (state.memoryPtrs.length > 0 && state.memorySegs.length !== state.batch) {
      throw new ShapeError(`decodeStep: the state has ${state.memorySegs.length} sources for ${state.batch} sequences (a cache restored with another batch size?)`);
    }
    if (tokens.length !== state.batch) throw new ShapeError(`decodeStep: expected ${state.batch} token sequences (the batch), found ${tokens.length}`);
    const output = opts.output ?? (this.net.hasOutput ? "logits" : "hidden");
    if (output === "logits" && !this.net.hasOutput) throw new ShapeError("decodeStep: logits asked, but this model has no output head");
    const n = tokens.length * (output === "hidden" ? c.d_model : this.net.outputWidth);
    if (opts.out !== undefined && !(opts.out instanceof Float32Array && opts.out.length >= n)) {
      throw new ArgumentError(`decodeStep: out: expected a Float32Array of at least ${n} floats (batch x width), found ${opts.out instanceof Float32Array ? `${opts.out.length} floats` : kindOf(opts.out)}`);
    }
    return this.exclusive(async () => {
      // Lengths are read here: an earlier queued step on the same state may have advanced them.
      const values = opts.capture === undefined && tokens.length <= PLAN_MAX_BATCH ? this.stepValues(state, tokens) : null;
      let out: number;
      if (values) {
        tokens.forEach((_, i) => state.cache.reserve(i, values[i] + 1));
        out = await this.plannedStep(state, values, output);
        tokens.forEach((_, i) => state.cache.advance(i, 1));
      } else {
        const past = state.lengths;
        const ids = this.checkBatch("tokens", tokens, c.vocab_size, 1, past);
        tokens.forEach((t, i) => state.cache.reserve(i, past[i] + t.length));
        const segs = packSegments(tokens.map((t) => t.length), past);
        out = await this.stepOps(state, segs, ids, output, opts.capture);
        segs.forEach((s, i) => state.cache.advance(i, s.length));
      }
      if (opts.out === undefined) return readF32(this.engine, out, n);
      opts.out.set(this.engine.mem.f32.subarray(out >>> 2, (out >>> 2) + n));
      return opts.out.length === n ? opts.out : opts.out.subarray(0, n);
    });
  }

  /**
   * The step values of a plan (each sequence's position, then its token id) when every sequence
   * gets one valid token; null otherwise, and the op-by-op path's checkBatch reports what is wrong.
   */
  private stepValues(state: DecodeState, tokens: TokenSequence[]): number[] | null {
    this.assertLive();
    if (!Array.isArray(tokens)) return null;
    const B = tokens.length;
    const { vocab_size: vocab, max_positions: maxPositions } = this.config;
    const values = new Array<number>(2 * B);
    for (let i = 0; i < B; i++) {
      const t = tokens[i];
      if (t === null || typeof t !== "object" || t.length !== 1) return null;
      const id = t[0];
      const past = state.cache.length(i);
      if (!Number.isInteger(id) || id < 0 || id >= vocab || past + 1 > maxPositions) return null;
      values[i] = past;
      values[B + i] = id;
    }
    return values;
  }

  /**
   * One decode step op by op: the decoder, then the final norm and head on the last new position
   * of each sequence. Returns the byte offset of the output (batch x width). It is also what
   * decode plans are recorded from (plannedStep), so it must not touch memory but through ops.
   */
  private async stepOps(state: DecodeState, segs: Segment[], ids: Int32Array, output: "logits" | "hidden", capture?: AttentionCapture): Promise<number> {
    const memory = state.memoryPtrs.map((ptr) => ({ ptr, segs: state.memorySegs }));
    const hasMask = state.memoryMasks.some((m) => m !== 0);
    const y = await this.net.decode({
      segs, ids, cache: { store: state.cache, seqs: segs.map((_, i) => i) }, memory: memory.length ? memory : undefined,
      memoryKeyMask: hasMask ? state.memoryMasks : undefined, capture, rows: "last", logits: output === "logits",
    });
    return y.logits ?? y.hidden;
  }

  /**
   * A step of one token per sequence as a plan (engine/plan.ts), compiled from stepOps the
   * first time and again when the cache layout or the sources change; its step `values` are
   * each sequence's position, then each token id. A step that cannot be a plan runs op by op.
   */
  private async plannedStep(state: DecodeState, values: readonly number[], output: "logits" | "hidden"): Promise<number> {
    const threads = this.engine.planThreadsFor(this.weightBytes);
    const layout = state.cache.layout;
    const memory = state.memoryLayout;
    let p = state.plan;
    if (p?.output !== output || p.threads !== threads || p.layout !== layout || p.memory !== memory) {
      p?.step?.dispose();
      p = state.plan = { output, threads, layout, memory, step: null };
      const B = values.length / 2;
      // Positions move down where they can (a cache holds no room past what was reserved).
      const deltas = values.map((v, i) => (i < B && v >= 1 ? -1 : 1));
      const check = values.map((v, i) => (i < B && v >= 2 ? v - 2 : v + 2));
      try {
        p.step = await StepPlan.compile(this.engine, threads, values, deltas, check, (v) => this.stepAt(state, v, output));
      } catch (e) {
        if (!(e instanceof PlanRefused) && !(e instanceof ShapeError)) throw e;
        p.refused = e.message;
      }
    }
    return p.step ? p.step.run(values) : this.stepAt(state, values, output);
  }

  /** stepOps at plan step values (positions, then token ids; one token per sequence). */
  private stepAt(state: DecodeState, values: readonly number[], output: "logits" | "hidden"): Promise<number> {
    const B = values.length / 2;
    return this.stepOps(state, packSegments(new Array<number>(B).fill(1), values.slice(0, B)), Int32Array.from(values.slice(B)), output);
  }
  /** Releases the weights. Further calls throw DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.net.dispose();
  }

  /** Empty attention maps shaped for a forward input (ids already checked). */
  private collector(input: ForwardInput): AttentionCollector {
    const c = this.config;
    const ids = (s: TokenSequence) => Array.from(s);
    const seqs = input.tokens.map((t, i) => (c.arch === "encoder" ? { src: ids(t), tgt: [] } : { src: input.src ? ids(input.src[i]) : [], tgt: ids(t) }));
    const ed = c.arch === "encoder-decoder";
    return new AttentionCollector(c.n_heads, { encoder: c.encoder_layers, decoder: c.decoder_layers, cross: ed ? c.decoder_layers : 0 }, seqs);
  }

  /** Checks a batch of id sequences and packs them as int32. */
  private checkBatch(what: string, seqs: TokenSequence[], vocab: number, minLength: number, past?: readonly number[]): Int32Array {
    this.assertLive();
    if (!Array.isArray(seqs) || seqs.length === 0) throw new ShapeError(`${what}: expected a non-empty array of sequences, found ${Array.isArray(seqs) ? "[]" : typeof seqs}`);
    let n = 0;
    seqs.forEach((s, i) => {
      if (s === null || typeof s !== "object" || typeof s.length !== "number") throw new ShapeError(`${what}[${i}]: expected an array of token ids, found ${typeof s}`);
      if (s.length < Math.max(minLength, 1)) throw new ShapeError(`${what}[${i}]: expected at least 1 token, found 0`);
      const end = (past?.[i] ?? 0) + s.length;
      if (end > this.config.max_positions) {
        throw new ShapeError(`${what}[${i}]: expected at most ${this.config.max_positions} positions (max_positions), found ${end}`);
      }
      n += s.length;
    });
    const ids = new Int32Array(n);
    let at = 0;
    seqs.forEach((s, i) => {
      for (let j = 0; j < s.length; j++) {
        const id = s[j];
        if (!Number.isInteger(id) || id < 0 || id >= vocab) {
          throw new ShapeError(`${what}[${i}][${j}]: expected a token id in 0..${vocab - 1}, found ${id}`);
        }
        ids[at++] = id;
      }
    });
    return ids;
  }

  /** Additive key masks (0 / -inf) of padding masks, in scratch or the kv region; undefined when none given. */
  private masks(what: string, padding: PaddingMask[] | undefined, seqs: TokenSequence[], where: "scratch" | "kv"): number[] | undefined {
    if (!padding) return undefined;
    if (padding.length !== seqs.length) throw new ShapeError(`${what}: expected ${seqs.length} masks (one per sequence), found ${padding.length}`);
    return padding.map((m, i) => {
      if (m.length !== seqs[i].length) throw new ShapeError(`${what}[${i}]: expected ${seqs[i].length} entries (the sequence length), found ${m.length}`);
      const p = where === "kv" ? this.engine.regions.kv.alloc(m.length * 4) : this.engine.scratch.alloc(m.length * 4);
      const f32 = this.engine.mem.f32;
      for (let j = 0; j < m.length; j++) f32[(p >>> 2) + j] = m[j] ? -Infinity : 0;
      return p;
    });
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError("the model was disposed");
    this.engine.assertLive();
  }

  /** Runs `fn` alone on this engine, with a fresh scratch arena. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const prev = queues.get(this.engine) ?? Promise.resolve();
    const run = prev.then(() => {
      this.assertLive();
      this.engine.scratch.reset();
      return fn();
    });
    queues.set(this.engine, run.catch(() => undefined));
    return run;
  }
}

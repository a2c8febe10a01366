// The decoding loop of greedy and sampled generation: batches, streaming, stop ids, limits,
// cancellation and timing. greedy() and TextModel are thin layers over generateTokens().
import { AbortError, ArgumentError } from "../errors.js";
import { assertFits, kvBytes } from "../model/budget.js";
import { type AttentionCapture, type DecodeState, Model, type TokenSequence } from "../model/model.js";
import { kindOf } from "../util/options.js";
import { resolveSampling, Sampler, type SamplingOptions } from "./sampler.js";

/** One sequence to continue. */
export interface GenerationInput {
  /**
   * Decoder tokens to start from: the prompt of a decoder-only model (required there);
   * for an encoder-decoder the target prefix, default [bos_id].
   */
  prompt?: TokenSequence;
  /**
   * Encoder-decoder only: the source ids, as the encoder takes them (append eos yourself if the
   * model wants it). An empty source has nothing to translate: it gets no tokens, stop reason "empty".
   */
  src?: TokenSequence;
}

/** Why a sequence stopped. */
export type StopReason =
  /** The model produced eos_id. */
  | "eos"
  /** The model produced another id of `stop`. */
  | "stop"
  /** maxNewTokens tokens were generated. */
  | "max_tokens"
  /** The context is full: prompt + generated tokens reached max_positions. */
  | "length"
  /** The AbortSignal fired, the timeout passed, or the consumer stopped iterating. */
  | "aborted"
  /** The encoder-decoder source was empty: nothing to translate, the model did not run. */
  | "empty";

/** Timing and counts of one generation call. Times in milliseconds from performance.now(). */
export interface GenerationStats {
  /** Tokens the model read before generating: prompts plus (encoder-decoder) sources. */
  promptTokens: number;
  /** Tokens handed out (stop tokens excluded), all sequences together. */
  generatedTokens: number;
  /** Encoding the source, reading the prompt and choosing the first token. */
  prefillMs: number;
  /** Every later step: feeding the last token and choosing the next. Time spent by the consumer between tokens is not counted. */
  decodeMs: number;
  /** From the start of the call (the generator's first next()) to the first chosen token. */
  timeToFirstTokenMs: number;
  /** promptTokens per second of prefillMs. */
  prefillTokensPerSecond: number;
  /** Tokens fed through the decoder after the prefill (one per sequence and step) per second of decodeMs. */
  decodeTokensPerSecond: number;
  /** Why generation ended: "aborted" if it was cancelled, else the reason of the sequence that stopped last. */
  stopReason: StopReason;
  /** Per sequence of the batch, why it stopped. */
  stopReasons: StopReason[];
}

/** Limits, cancellation and hooks shared by {@link generateTokens} and beam search. */
export interface DecodeControl {
  /** Generated tokens per sequence at most (integer >= 0); default config.max_target_length. */
  maxNewTokens?: number;
  /**
   * Tokens per sequence at most, prompt (bos included) plus generated: llama2.c's `-n steps`.
   * Applies with maxNewTokens (the smaller limit wins); must exceed the prompt's length.
   */
  maxPositions?: number;
  /** A sequence ends when it produces one of these ids (not handed out); default [eos_id] ([] without eos). */
  stop?: readonly number[];
  /**
   * Checked before every model step: once aborted, the call throws AbortError. The running
   * step finishes first (kernels are not interrupted), the decode state is freed, and the
   * model stays usable.
   */
  signal?: AbortSignal;
  /** Like `signal`, after this many milliseconds from the start of the call. */
  timeoutMs?: number;
  /** Called once when the call ends, however it ends (also on abort), with the stats. */
  onStats?: (stats: GenerationStats) => void;
  /** Passed to startDecoding and every decodeStep: attention probabilities of every head (see Model). */
  capture?: AttentionCapture;
}

/** Options of {@link generateTokens}. */
export interface GenerateOptions extends SamplingOptions, DecodeControl {}

/** One generated token. */
export interface GeneratedToken {
  /** The token id. */
  id: number;
  /** Its position among the sequence's generated tokens (0 = first). */
  index: number;
  /** Which input of the batch it continues (0 for a single input). */
  sequence: number;
}

const now = (): number => performance.now();

/** Inputs checked and copied: decoder prompts and (encoder-decoder) sources. @internal */
export interface PreparedInputs {
  prompts: number[][];
  srcs?: number[][];
  /** Per input: an encoder-decoder source without tokens, which ends at once with no output. */
  empty: boolean[];
}

/** @internal Validates inputs against the model's architecture; ids themselves are checked by the model. */
export function prepareInputs(model: Model, input: GenerationInput | readonly GenerationInput[], where: string): PreparedInputs {
  if (!(model instanceof Model)) throw new ArgumentError(`${where}: model: expected a Model, found ${kindOf(model)}`);
  const c = model.config;
  const list = Array.isArray(input) ? (input as readonly GenerationInput[]) : [input as GenerationInput];
  if (list.length === 0) throw new ArgumentError(`${where}: expected at least one input, found []`);
  const ed = c.arch === "encoder-decoder";
  if (c.arch === "encoder") throw new ArgumentError(`${where}: expected a model with a decoder, found arch "encoder"`);
  const ids = (s: unknown, what: string): number[] => {
    if (s === null || typeof s !== "object" || typeof (s as ArrayLike<number>).length !== "number") {
      throw new ArgumentError(`${where}: ${what}: expected an array of token ids, found ${s === null ? "null" : typeof s}`);
    }
    return Array.from(s as ArrayLike<number>);
  };
  const prompts = list.map((inp, i) => {
    if (inp === null || typeof inp !== "object") throw new ArgumentError(`${where}: input ${i}: expected { prompt, src }, found ${inp === null ? "null" : typeof inp}`);
    if (inp.prompt !== undefined) return ids(inp.prompt, `input ${i} prompt`);
    if (!ed) throw new ArgumentError(`${where}: input ${i}: a decoder-only model needs a prompt, found none`);
    if (c.bos_id < 0) throw new ArgumentError(`${where}: input ${i}: no prompt given and the config has no bos_id`);
    return [c.bos_id];
  });
  if (!ed) {
    const i = list.findIndex((inp) => inp.src !== undefined);
    if (i >= 0) throw new ArgumentError(`${where}: input ${i}: src given, but arch "${c.arch}" has no encoder`);
    return { prompts, empty: prompts.map(() => false) };
  }
  const srcs = list.map((inp, i) => {
    if (inp.src === undefined) throw new ArgumentError(`${where}: input ${i}: an encoder-decoder model needs src ids, found none`);
    return ids(inp.src, `input ${i} src`);
  });
  return { prompts, srcs, empty: srcs.map((s) => s.length === 0) };
}

/** DecodeControl validated. @internal */
export interface ResolvedControl {
  maxNewTokens: number;
  /** Infinity when not given. */
  maxPositions: number;
  /** The API call, for messages. */
  where: string;
  stop: ReadonlySet<number>;
  deadline: number;
}

/** @internal */
export function resolveControl(model: Model, o: DecodeControl, where: string): ResolvedControl {
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new ArgumentError(`${where}: options: expected an object, found ${kindOf(o)}`);
  const c = model.config;
  const maxNewTokens = o.maxNewTokens ?? c.max_target_length;
  if (typeof maxNewTokens !== "number" || !Number.isInteger(maxNewTokens) || maxNewTokens < 0) {
    throw new ArgumentError(`${where}: maxNewTokens: expected an integer >= 0, found ${o.maxNewTokens}`);
  }
  if (o.maxPositions !== undefined && (typeof o.maxPositions !== "number" || !Number.isInteger(o.maxPositions) || o.maxPositions < 1)) {
    throw new ArgumentError(`${where}: maxPositions: expected an integer >= 1, found ${o.maxPositions}`);
  }
  const stopIds = o.stop ?? (c.eos_id >= 0 ? [c.eos_id] : []);
  if (!Array.isArray(stopIds) || !stopIds.every((id) => Number.isInteger(id) && id >= 0 && id < model.vocabSize)) {
    throw new ArgumentError(`${where}: stop: expected an array of token ids in 0..${model.vocabSize - 1}, found ${JSON.stringify(o.stop)}`);
  }
  if (o.timeoutMs !== undefined && (typeof o.timeoutMs !== "number" || !(o.timeoutMs >= 0))) {
    throw new ArgumentError(`${where}: timeoutMs: expected a number >= 0, found ${o.timeoutMs}`);
  }
  if (o.signal !== undefined && (o.signal === null || typeof o.signal.aborted !== "boolean")) {
    throw new ArgumentError(`${where}: signal: expected an AbortSignal, found ${o.signal === null ? "null" : typeof o.signal}`);
  }
  if (o.onStats !== undefined && typeof o.onStats !== "function") throw new ArgumentError(`${where}: onStats: expected a function, found ${typeof o.onStats}`);
  if (o.capture !== undefined && typeof o.capture !== "function") throw new ArgumentError(`${where}: capture: expected a function, found ${typeof o.capture}`);
  return { maxNewTokens, maxPositions: o.maxPositions ?? Infinity, where, stop: new Set(stopIds), deadline: o.timeoutMs === undefined ? Infinity : now() + o.timeoutMs };
}

/**
 * @internal Bookkeeping of one call: stop reasons, timing, cancellation. Shared by the
 * sampling loop and beam search so both report the same stats.
 */
export class DecodeRun {
  readonly reasons: Array<StopReason | undefined>;
  private readonly t0 = now();
  private prefillMs = 0;
  private decodeMs = 0;
  private firstTokenMs = 0;
  private decodeTokens = 0;
  private generated = 0;
  private prefilled = false;
  private last: StopReason = "max_tokens";
  private reported = false;

  constructor(
    private readonly where: string,
    private readonly opts: DecodeControl,
    private readonly ctl: ResolvedControl,
    readonly sequences: number,
    private readonly promptTokens: number,
  ) {
    this.reasons = new Array(sequences).fill(undefined);
  }

  /** Throws AbortError when the signal fired or the deadline passed. */
  check(): void {
    if (this.opts.signal?.aborted) throw new AbortError(`${this.where}: aborted by the signal after ${this.generated} generated tokens`);
    if (now() > this.ctl.deadline) {
      throw new AbortError(`${this.where}: timed out: expected to finish within ${this.opts.timeoutMs} ms, ${this.generated} tokens generated by then`);
    }
  }

  /** Start of a model step (plus the token choice that follows it); the first step is the prefill. */
  startStep(): number {
    return now();
  }

  /** End of the step begun at `t`, which fed `rowsFed` sequences. */
  endStep(t: number, rowsFed: number): void {
    const end = now();
    if (!this.prefilled) {
      this.prefilled = true;
      this.prefillMs = end - this.t0;
      this.firstTokenMs = end - this.t0;
    } else {
      this.decodeMs += end - t;
      this.decodeTokens += rowsFed;
    }
  }

  /** Counts a token handed out. */
  emitted(): void {
    this.generated++;
  }

  stop(seq: number, reason: StopReason): void {
    if (this.reasons[seq] !== undefined) return;
    this.reasons[seq] = reason;
    this.last = reason;
  }

  get stats(): GenerationStats {
    const reasons = this.reasons.map((r) => r ?? "aborted");
    const rate = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : 0);
    return {
      promptTokens: this.promptTokens,
      generatedTokens: this.generated,
      prefillMs: this.prefillMs,
      decodeMs: this.decodeMs,
      timeToFirstTokenMs: this.firstTokenMs,
      prefillTokensPerSecond: rate(this.promptTokens, this.prefillMs),
      decodeTokensPerSecond: rate(this.decodeTokens, this.decodeMs),
      stopReason: reasons.includes("aborted") ? "aborted" : this.last,
      stopReasons: reasons,
    };
  }

  /** Ends the call: sequences without a reason were cut off ("aborted"); onStats gets the stats once. */
  finish(): GenerationStats {
    const s = this.stats;
    if (!this.reported) {
      this.reported = true;
      this.opts.onStats?.(s);
    }
    return s;
  }
}

/** Positions a sequence may still generate: maxNewTokens, or fewer when the context fills up first. @internal */
export function tokenLimit(model: Model, ctl: ResolvedControl, promptLength: number): { limit: number; reason: StopReason } {
  if (ctl.maxPositions <= promptLength) {
    throw new ArgumentError(`${ctl.where}: maxPositions: expected more than the prompt's ${promptLength} tokens (prompt included), found ${ctl.maxPositions}`);
  }
  const wanted = Math.min(ctl.maxNewTokens, ctl.maxPositions - promptLength);
  // The last generated token is never fed back, so prompt + generated may reach max_positions + 1.
  const room = model.config.max_positions - promptLength + 1;
  return room < wanted ? { limit: Math.max(room, 1), reason: "length" } : { limit: wanted, reason: "max_tokens" };
}

/**
 * Generates tokens for one input or a batch, streaming each token as soon as it is chosen.
 * Greedy by default; sampling with {@link SamplingOptions}. Finished sequences leave the
 * batch (DecodeState.select), and every sequence gets exactly the tokens it would get alone
 * (sampling: sequence i of a batch draws with seed + i). The generator's return value is the
 * {@link GenerationStats}; `onStats` receives them too, also when the call is aborted.
 * Throws AbortError when `signal` fires or `timeoutMs` passes (checked between steps).
 * An input with an empty source (encoder-decoder) yields no tokens and stops with "empty";
 * the model runs only for the others.
 *
 * @example
 * for await (const t of generateTokens(model, { prompt: [5, 9, 2] }, { maxNewTokens: 16, temperature: 0.8, seed: 1 })) {
 *   console.log(t.index, t.id);
 * }
 */
export async function* generateTokens(
  model: Model,
  input: GenerationInput | readonly GenerationInput[],
  options: GenerateOptions = {},
): AsyncGenerator<GeneratedToken, GenerationStats, undefined> {
  const where = "generateTokens";
  const { prompts, srcs, empty } = prepareInputs(model, input, where);
  const ctl = resolveControl(model, options, where);
  resolveSampling(options, where); // validated here, with this call's name in the message
  const n = prompts.length;
  /** The inputs the model runs on: all but those with an empty source. */
  const live = prompts.map((_, i) => i).filter((i) => !empty[i]);
  const promptTokens = live.reduce((a, i) => a + prompts[i].length + (srcs?.[i].length ?? 0), 0);
  const run = new DecodeRun(where, options, ctl, n, promptTokens);
  const samplers = prompts.map((_, i) => new Sampler(options, i));
  const limits = prompts.map((p) => tokenLimit(model, ctl, p.length));
  // The KV cache at its longest (prompt plus every generated token but the last fed back): refused before any work.
  if (ctl.maxNewTokens > 0 && live.length > 0) {
    assertFits(model.kvRegion, kvBytes(model.config, { positions: live.map((i) => prompts[i].length + limits[i].limit - 1), srcLengths: srcs && live.map((i) => srcs[i].length) }));
  }
  const V = model.vocabSize;
  const eos = model.config.eos_id;
  let state: DecodeState | undefined;
  try {
    run.check();
    for (let i = 0; i < n; i++) if (empty[i]) run.stop(i, "empty");
    if (ctl.maxNewTokens === 0 || live.length === 0) {
      for (let i = 0; i < n; i++) run.stop(i, "max_tokens");
      return run.finish();
    }
    // Repetition-penalty history of each sequence: its prompt, then what it generated.
    const history = prompts.map((p) => p.slice());
    const counts = new Array<number>(n).fill(0);
    let active = live;
    let feed: number[][] = live.map((i) => prompts[i]);
    state = await model.startDecoding({ src: srcs && live.map((i) => srcs[i]), batch: live.length, capture: options.capture });
    // Each step's logits are read before the next step: one buffer serves them all.
    const step = { capture: options.capture, out: new Float32Array(live.length * V) };
    while (active.length > 0) {
      run.check();
      const t = run.startStep();
      const logits = await model.decodeStep(state, feed, step);
      const picks = active.map((seq, row) => samplers[seq].pick(logits, row, V, history[seq]));
      run.endStep(t, feed.length);
      const keep: number[] = [];
      const next: number[][] = [];
      for (let row = 0; row < active.length; row++) {
        const seq = active[row];
        const id = picks[row];
        if (ctl.stop.has(id)) {
          run.stop(seq, id === eos ? "eos" : "stop");
          continue;
        }
        history[seq].push(id);
        run.emitted();
        yield { id, index: counts[seq]++, sequence: seq };
        if (counts[seq] >= limits[seq].limit) {
          run.stop(seq, limits[seq].reason);
          continue;
        }
        keep.push(row);
        next.push([id]);
      }
      if (keep.length === 0) break;
      if (keep.length !== active.length) state.select(keep);
      active = keep.map((row) => active[row]);
      feed = next;
    }
  } finally {
    state?.dispose();
    run.finish();
  }
  return run.stats;
}

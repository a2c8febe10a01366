// Beam search over the KV cache: hypotheses are cache rows, reordered and duplicated with
// DecodeState.select after every step.
import { ArgumentError } from "../errors.js";
import { assertFits, kvBytes } from "../model/budget.js";
import type { DecodeState, Model } from "../model/model.js";
import { kindOf } from "../util/options.js";
import { expDet, logDet } from "./detmath.js";
import {
  type DecodeControl, DecodeRun, type GenerationInput, type GenerationStats, prepareInputs, resolveControl,
  type StopReason, tokenLimit,
} from "./generate.js";

/** Options of {@link beamSearch}. */
export interface BeamOptions extends DecodeControl {
  /** Beam width (hypotheses kept per step), integer >= 1; default 4. Width 1 is greedy decoding. */
  beams?: number;
  /**
   * GNMT length penalty exponent alpha >= 0; default 1. Finished hypotheses are ranked by
   * logProb / ((5 + length) / 6)^alpha, length counting the stop token; 0 ranks by raw
   * log-probability (favours short outputs), larger values favour longer ones.
   */
  lengthPenalty?: number;
}

/** One finished hypothesis. */
export interface BeamHypothesis {
  /** Generated ids, without the prompt and without the stop token. */
  ids: number[];
  /** Sum of the log-probabilities of the generated tokens, the stop token included. */
  logProb: number;
  /** logProb divided by the length penalty: what the hypotheses are ranked by. */
  score: number;
  /** "eos"/"stop" when it ended with a stop id, else "max_tokens" or "length" ("empty" for an empty source). */
  stopReason: StopReason;
}

/** Result of {@link beamSearch}. */
export interface BeamResult {
  /** The best hypothesis' ids (hypotheses[0].ids). */
  ids: number[];
  /** Finished hypotheses, best score first (at most `beams`). */
  hypotheses: BeamHypothesis[];
  stats: GenerationStats;
}

interface Beam {
  ids: number[];
  logProb: number;
}

interface Candidate {
  beam: number;
  token: number;
  logProb: number;
}

/**
 * Beam search for one input (encoder-decoder source or decoder-only prompt).
 *
 * Each step extends every live hypothesis by every token, keeps the 2·width best extensions
 * (by summed log-probability; ties: lower hypothesis row, then lower id), and walks them
 * best first: an extension ending in a stop id finishes a hypothesis if it ranks within the
 * first `width`, others become the next live hypotheses until `width` of them. The search
 * ends when `width` hypotheses have finished (fairseq's rule), when no live hypothesis
 * remains, or at maxNewTokens / a full context (live hypotheses then finish as they are).
 * Finished hypotheses are ranked with the GNMT length penalty ({@link BeamOptions.lengthPenalty}).
 * With width 1 this is exactly greedy decoding. Log-softmax uses {@link expDet}/{@link logDet},
 * so every runtime ranks the same way.
 *
 * The KV cache rows follow the hypotheses through DecodeState.select, which copies a row
 * that several hypotheses continue. Stats, abort and timeout work as in generateTokens, and so
 * does an empty source: one empty hypothesis, stop reason "empty", no model step.
 */
export async function beamSearch(model: Model, input: GenerationInput, opts: BeamOptions = {}): Promise<BeamResult> {
  const where = "beamSearch";
  if (Array.isArray(input)) throw new ArgumentError(`${where}: expected one input, found an array of ${input.length} (search them one by one)`);
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) throw new ArgumentError(`${where}: options: expected an object, found ${kindOf(opts)}`);
  const width = opts.beams ?? 4;
  if (!Number.isInteger(width) || width < 1) throw new ArgumentError(`${where}: beams: expected an integer >= 1, found ${opts.beams}`);
  const alpha = opts.lengthPenalty ?? 1;
  if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha < 0) {
    throw new ArgumentError(`${where}: lengthPenalty: expected a finite number >= 0, found ${opts.lengthPenalty}`);
  }
  const { prompts, srcs, empty } = prepareInputs(model, input, where);
  const ctl = resolveControl(model, opts, where);
  const prompt = prompts[0];
  const run = new DecodeRun(where, opts, ctl, 1, empty[0] ? 0 : prompt.length + (srcs?.[0].length ?? 0));
  const { limit, reason: limitReason } = tokenLimit(model, ctl, prompt.length);
  // Every hypothesis holds its own cache row at the longest: refused before any work.
  if (ctl.maxNewTokens > 0 && !empty[0]) {
    assertFits(model.kvRegion, kvBytes(model.config, { positions: new Array<number>(width).fill(prompt.length + limit - 1), srcLengths: srcs?.map((s) => s.length) }));
  }
  const eos = model.config.eos_id;
  const V = model.vocabSize;
  const score = (logProb: number, length: number) => (alpha === 0 ? logProb : logProb / expDet(alpha * logDet((5 + length) / 6)));
  const finished: BeamHypothesis[] = [];
  const finish = (ids: number[], logProb: number, stopReason: StopReason, length: number) =>
    finished.push({ ids, logProb, score: score(logProb, length), stopReason });
  let state: DecodeState | undefined;
  let beams: Beam[] = [{ ids: [], logProb: 0 }];
  try {
    run.check();
    if (empty[0]) {
      finish([], 0, "empty", 0);
    } else if (ctl.maxNewTokens === 0) {
      finish([], 0, "max_tokens", 0);
    } else {
      state = await model.startDecoding({ src: srcs, batch: 1, capture: opts.capture });
      let feed: number[][] = [prompt];
      // Each step's logits are ranked before the next step: one buffer of `width` rows serves them all.
      const stepOptions = { capture: opts.capture, out: new Float32Array(width * V) };
      for (let step = 0; ; step++) {
        run.check();
        const t = run.startStep();
        const logits = await model.decodeStep(state, feed, stepOptions);
        const best = topCandidates(logits, V, beams, 2 * width);
        run.endStep(t, feed.length);
        const next: Candidate[] = [];
        for (let rank = 0; rank < best.length && next.length < width; rank++) {
          const c = best[rank];
          if (ctl.stop.has(c.token)) {
            if (rank < width) finish(beams[c.beam].ids, c.logProb, c.token === eos ? "eos" : "stop", step + 1);
          } else {
            next.push(c);
          }
        }
        const done = finished.length >= width || next.length === 0;
        if (done || step + 1 >= limit) {
          if (!done) for (const c of next) finish([...beams[c.beam].ids, c.token], c.logProb, limitReason, step + 1);
          break;
        }
        state.select(next.map((c) => c.beam));
        beams = next.map((c) => ({ ids: [...beams[c.beam].ids, c.token], logProb: c.logProb }));
        feed = next.map((c) => [c.token]);
      }
    }
    // Every row without a usable distribution (all -inf / NaN logits): keep the best live hypothesis.
    if (finished.length === 0) finish(beams[0].ids, beams[0].logProb, limitReason, beams[0].ids.length);
    // Best score first; equal scores keep the order they finished in (sort is stable since ES2019).
    finished.sort((a, b) => (a.score > b.score ? -1 : a.score < b.score ? 1 : 0));
    const hypotheses = finished.slice(0, width);
    for (const _ of hypotheses[0].ids) run.emitted();
    run.stop(0, hypotheses[0].stopReason);
    return { ids: hypotheses[0].ids, hypotheses, stats: run.stats };
  } finally {
    state?.dispose();
    run.finish();
  }
}

/**
 * The `m` best (beam, token) extensions by summed log-probability, best first; ties go to
 * the lower beam row, then the lower token id (insertion keeps the earlier on equal scores).
 */
function topCandidates(logits: Float32Array, V: number, beams: readonly Beam[], m: number): Candidate[] {
  const out: Candidate[] = [];
  for (let b = 0; b < beams.length; b++) {
    const o = b * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (logits[o + j] > max) max = logits[o + j];
    if (!(max > -Infinity) || max === Infinity) continue; // no usable distribution in this row
    let sum = 0;
    for (let j = 0; j < V; j++) sum += expDet(logits[o + j] - max);
    const base = beams[b].logProb - max - logDet(sum);
    for (let j = 0; j < V; j++) {
      const lp = base + logits[o + j];
      if (!(lp > -Infinity)) continue;
      if (out.length === m && !(lp > out[m - 1].logProb)) continue;
      let at = out.length < m ? out.length : m - 1;
      if (out.length < m) out.push({ beam: b, token: j, logProb: lp });
      while (at > 0 && lp > out[at - 1].logProb) {
        out[at] = out[at - 1];
        at--;
      }
      out[at] = { beam: b, token: j, logProb: lp };
    }
  }
  return out;
}

// Next-token choice from a row of logits: repetition penalty, temperature, top-k, top-p, seeded draw.
import { ArgumentError } from "../errors.js";
import { Rng } from "../util/rng.js";
import { expDet } from "./detmath.js";

/**
 * How the next token is chosen. Applied in this order: repetition penalty, temperature,
 * top-k, top-p, then one seeded draw. Every field is optional; `{}` is greedy decoding.
 */
export interface SamplingOptions {
  /**
   * Softmax temperature; 0 (default) = greedy: the argmax, lowest id on ties, no draw.
   * top-k and top-p only matter when temperature > 0.
   */
  temperature?: number;
  /** Keep only the k highest-scoring tokens (integer >= 1); default: all. */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of best tokens whose probability reaches p, 0 < p <= 1; default 1. */
  topP?: number;
  /**
   * CTRL-style penalty (> 0; default 1 = off) on every id already in the history (prompt and
   * generated tokens): positive logits are divided by it, negative ones multiplied.
   */
  repetitionPenalty?: number;
  /**
   * Seed of the draw (an integer; default 0). Sequence i of a batch draws from the stream of
   * seed + i, so it gets exactly the tokens it would get alone with seed + i.
   */
  seed?: number;
}

/** Buckets of the top-p pre-selection (see Sampler.nucleus): width 1/8 in (max - score) / T, the last one open. */
const NUCLEUS_BUCKETS = 256;

/** {@link SamplingOptions} validated, every field set (topK 0 = no limit). */
export interface ResolvedSampling {
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
}

/** Validates sampling options; throws ArgumentError naming the option, the expected and the found value. */
export function resolveSampling(o: SamplingOptions = {}, where = "sampling"): ResolvedSampling {
  const bad = (key: string, expected: string, found: unknown): never => {
    throw new ArgumentError(`${where}: ${key}: expected ${expected}, found ${typeof found === "number" ? found : JSON.stringify(found) ?? String(found)}`);
  };
  const t = o.temperature ?? 0;
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0) bad("temperature", "a finite number >= 0", o.temperature);
  const k = o.topK ?? 0;
  if (o.topK !== undefined && (typeof k !== "number" || !Number.isInteger(k) || k < 1)) bad("topK", "an integer >= 1", o.topK);
  const p = o.topP ?? 1;
  if (typeof p !== "number" || !(p > 0 && p <= 1)) bad("topP", "a number in (0, 1]", o.topP);
  const r = o.repetitionPenalty ?? 1;
  if (typeof r !== "number" || !Number.isFinite(r) || r <= 0) bad("repetitionPenalty", "a finite number > 0", o.repetitionPenalty);
  const s = o.seed ?? 0;
  if (typeof s !== "number" || !Number.isSafeInteger(s)) bad("seed", "an integer", o.seed);
  return { temperature: t, topK: k, topP: p, repetitionPenalty: r, seed: s };
}

/** Index of the largest value of row `r` (first one on ties, like torch.argmax). */
export function argmaxRow(logits: Float32Array, r: number, width: number): number {
  let best = 0;
  let bv = -Infinity;
  for (let j = 0, o = r * width; j < width; j++) {
    const v = logits[o + j];
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/**
 * Picks next tokens for one sequence. Holds its own seeded Rng, so a sequence's tokens depend
 * only on its seed, its logits and its history, never on the batch around it. The order of
 * candidates is a total order (score, then id), so no step depends on a host's sort algorithm,
 * and probabilities use {@link expDet}: the same seed gives the same tokens in every runtime.
 *
 * @example
 * const s = new Sampler({ temperature: 0.8, topK: 40, seed: 7 });
 * const id = s.pick(logits, 0, vocab, history);
 */
export class Sampler {
  /** The validated options. */
  readonly options: ResolvedSampling;
  private readonly rng: Rng;
  private penalized: Float32Array = new Float32Array(0);
  private ids: Int32Array = new Int32Array(0);
  private weights: Float64Array = new Float64Array(0);
  private bucketOf: Uint8Array = new Uint8Array(0);

  /** `stream` offsets the seed: sequence i of a batch uses stream i. */
  constructor(options: SamplingOptions = {}, stream = 0) {
    this.options = resolveSampling(options);
    this.rng = new Rng(this.options.seed + stream);
  }

  /** True when picks are argmaxes (temperature 0): no draw is made. */
  get greedy(): boolean {
    return this.options.temperature === 0;
  }

  /**
   * The next id from row `row` of `logits` (rows of `width` scores). `history`: the ids the
   * repetition penalty applies to. Scores that are -Infinity or NaN are never drawn; when no
   * finite score is left the argmax rule picks.
   */
  pick(logits: Float32Array, row: number, width: number, history: ArrayLike<number> = []): number {
    let scores = logits;
    let r = row;
    const { repetitionPenalty: rp, temperature: T } = this.options;
    if (rp !== 1 && history.length > 0) {
      scores = this.penalize(logits, row, width, history, rp);
      r = 0;
    }
    if (T === 0) return argmaxRow(scores, r, width);
    return this.draw(scores, r * width, width, T);
  }

  /** A copy of the row with the CTRL penalty applied once to every distinct id of `history`. */
  private penalize(logits: Float32Array, row: number, width: number, history: ArrayLike<number>, rp: number): Float32Array {
    if (this.penalized.length !== width) this.penalized = new Float32Array(width);
    const out = this.penalized;
    out.set(logits.subarray(row * width, (row + 1) * width));
    const done = new Set<number>();
    for (let i = 0; i < history.length; i++) {
      const id = history[i];
      if (id < 0 || id >= width || done.has(id)) continue;
      done.add(id);
      const v = out[id];
      out[id] = v > 0 ? v / rp : v * rp;
    }
    return out;
  }

  /** Temperature, top-k, top-p and one draw over scores[o .. o+width). */
  private draw(scores: Float32Array, o: number, width: number, T: number): number {
    const { topK, topP } = this.options;
    if (this.ids.length < width) {
      this.ids = new Int32Array(width);
      this.weights = new Float64Array(width);
    }
    const ids = this.ids;
    const w = this.weights;
    // Candidates: scores above -inf (NaN fails the test too), in id order.
    let n = 0;
    let max = -Infinity;
    for (let j = 0; j < width; j++) {
      const v = scores[o + j];
      if (v > -Infinity) {
        ids[n++] = j;
        if (v > max) max = v;
      }
    }
    if (n === 0 || max === Infinity) return argmaxRow(scores, o / width, width);
    const ranked = topK > 0 && topK < n;
    if (ranked) n = this.selectTop(scores, o, n, topK);
    let total = 0;
    for (let i = 0; i < n; i++) {
      w[i] = expDet((scores[o + ids[i]] - max) / T);
      total += w[i];
    }
    if (topP < 1) {
      if (ranked) {
        // Best first already: the smallest prefix whose probability reaches topP (at least one token).
        let cum = 0;
        let keep = 0;
        while (keep < n) {
          cum += w[keep++];
          if (cum >= topP * total) break;
        }
        n = keep;
        total = cum;
      } else {
        [n, total] = this.nucleus(scores, o, n, T, max, total, topP);
      }
    }
    const u = this.rng.next() * total;
    let cum = 0;
    for (let i = 0; i < n; i++) {
      cum += w[i];
      if (u < cum) return ids[i];
    }
    return ids[n - 1];
  }

  /**
   * Moves the k best of ids[0..n) (ascending ids) to ids[0..k), best first, by insertion into
   * a sorted prefix; returns k. Ids arrive in ascending order, so on equal scores the one
   * already kept (lower id) stays ahead: strict comparisons give the (score, id) order.
   */
  private selectTop(scores: Float32Array, o: number, n: number, k: number): number {
    const ids = this.ids;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      const v = scores[o + id];
      if (size === k && !(v > scores[o + ids[k - 1]])) continue;
      let at = size < k ? size++ : k - 1;
      while (at > 0 && v > scores[o + ids[at - 1]]) {
        ids[at] = ids[at - 1];
        at--;
      }
      ids[at] = id;
    }
    return k;
  }

  /**
   * Top-p over ids[0..n) in id order with weights w[0..n) summing to `total`, without sorting
   * the whole vocabulary: candidates go to buckets of width 1/8 in (max - score) / T, buckets
   * are summed best first up to the one where the probability reaches topP, and only that
   * bucket is sorted (score desc, id asc) to find where the prefix ends. Rewrites ids/w to
   * the kept set (better buckets in id order, then the boundary bucket's prefix); returns its
   * size and weight.
   */
  private nucleus(scores: Float32Array, o: number, n: number, T: number, max: number, total: number, topP: number): [number, number] {
    const ids = this.ids;
    const w = this.weights;
    if (this.bucketOf.length < ids.length) this.bucketOf = new Uint8Array(ids.length);
    const bucketOf = this.bucketOf;
    const sums = new Float64Array(NUCLEUS_BUCKETS);
    for (let i = 0; i < n; i++) {
      const x = ((max - scores[o + ids[i]]) / T) * 8;
      const b = x < NUCLEUS_BUCKETS - 1 ? Math.floor(x) : NUCLEUS_BUCKETS - 1;
      bucketOf[i] = b;
      sums[b] += w[i];
    }
    const target = topP * total;
    let cum = 0;
    let edge = 0;
    while (edge < NUCLEUS_BUCKETS - 1 && cum + sums[edge] < target) cum += sums[edge++];
    // The boundary bucket's members, best first.
    const members: number[] = [];
    for (let i = 0; i < n; i++) if (bucketOf[i] === edge) members.push(i);
    const ms = members.map((i) => ({ id: ids[i], s: scores[o + ids[i]], w: w[i] }));
    ms.sort((a, b) => (a.s > b.s ? -1 : a.s < b.s ? 1 : a.id - b.id));
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (bucketOf[i] < edge) {
        ids[m] = ids[i];
        w[m++] = w[i];
      }
    }
    for (const c of ms) {
      if (m > 0 && cum >= target) break;
      ids[m] = c.id;
      w[m++] = c.w;
      cum += c.w;
    }
    return [m, cum];
  }
}

// From token states to one sentence vector, and comparing vectors. Sums run in float64 over the
// rows in order, so a text's vector does not depend on the batch it came in.
import { ShapeError } from "../errors.js";
import type { PoolingMode } from "../formats/hf_encoders.js";

/**
 * One vector of a text's final hidden states (length x d, row-major): the mean of the rows, the first
 * row ("cls") or the last ("last"). Only the text's own rows are given, so nothing padded is counted.
 */
export function pool(hidden: Float32Array, length: number, d: number, mode: PoolingMode): Float32Array {
  if (mode === "cls") return hidden.slice(0, d);
  if (mode === "last") return hidden.slice((length - 1) * d, length * d);
  const sum = new Float64Array(d);
  for (let r = 0; r < length; r++) for (let j = 0; j < d; j++) sum[j] += hidden[r * d + j];
  const out = new Float32Array(d);
  for (let j = 0; j < d; j++) out[j] = sum[j] / length;
  return out;
}

/** v / max(|v|, 1e-12) in place (torch.nn.functional.normalize): a zero vector stays zero. */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let ss = 0;
  for (let j = 0; j < v.length; j++) ss += v[j] * v[j];
  const n = Math.max(Math.sqrt(ss), 1e-12);
  for (let j = 0; j < v.length; j++) v[j] /= n;
  return v;
}

/**
 * Cosine similarity of two vectors of one length, in float64: a.b / (|a| |b|), 0 when either is zero.
 * @throws ShapeError when the lengths differ or are 0.
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) throw new ShapeError(`cosineSimilarity: expected two vectors of one non-zero length, found ${a.length} and ${b.length}`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let j = 0; j < a.length; j++) {
    ab += a[j] * b[j];
    aa += a[j] * a[j];
    bb += b[j] * b[j];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

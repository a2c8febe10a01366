import type { Rng } from "../../util/rng.js";

/**
 * A rows x cols matrix with row stride ld >= cols, uniform in [lo, hi); the padding holds NaN
 * so a kernel that reads past a row's end shows up as NaN in its output.
 */
export function padded(rng: Rng, rows: number, cols: number, ld: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(Math.max(1, rows * ld)).fill(NaN);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) a[r * ld + c] = rng.uniform(lo, hi);
  return a;
}

/** The rows x cols part of a matrix with row stride ld, packed densely. */
export function unpad(a: ArrayLike<number>, rows: number, cols: number, ld: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = a[r * ld + c];
  return out;
}

/** Columns row r keeps under the kernels' causal convention (causal < 0: all). */
export function causalLimit(r: number, n: number, causal: number): number {
  return causal < 0 ? n : Math.min(n, r + causal + 1);
}

/**
 * Float64 softmax of one row: t[c] for c < lim (t = -inf is masked), 0 past lim. A row with
 * nothing kept is all zeros; +inf entries share the mass; NaN makes the kept columns NaN.
 */
export function softmaxRef(t: ArrayLike<number>, lim: number, n: number): Float64Array {
  const out = new Float64Array(n);
  let m = -Infinity;
  let nan = false;
  for (let c = 0; c < lim; c++) {
    if (Number.isNaN(t[c])) nan = true;
    m = Math.max(m, t[c]);
  }
  if (nan) {
    out.fill(NaN, 0, lim);
    return out;
  }
  if (m === -Infinity) return out;
  let sum = 0;
  for (let c = 0; c < lim; c++) {
    out[c] = m === Infinity ? (t[c] === Infinity ? 1 : 0) : Math.exp(t[c] - m);
    sum += out[c];
  }
  for (let c = 0; c < lim; c++) out[c] /= sum;
  return out;
}

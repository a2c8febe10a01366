// Scalar twins of ../f32_softmax.ts: same ABI and the same inf / NaN / fully-masked semantics.
import { exp_f32 } from "../math";

/** Scalar twin of the SIMD softmaxRow: exp(t - max t) / sum for c < lim, 0 past lim. */
export function softmaxRow(n: i32, lim: i32, x: usize, out: usize, scale: f32, mask: usize): void {
  let mt: f32 = -Infinity;
  for (let c = 0; c < lim; c++) {
    const o = <usize>c << 2;
    mt = max<f32>(mt, scale * load<f32>(x + o) + (mask != 0 ? load<f32>(mask + o) : <f32>0));
  }
  if (mt == -Infinity) {
    for (let c = 0; c < n; c++) store<f32>(out + (<usize>c << 2), 0);
    return;
  }
  // f64 sum: one f32 accumulator over a long row would cost ~1e-6.
  let sum: f64 = 0;
  for (let c = 0; c < lim; c++) {
    const o = <usize>c << 2;
    const t = scale * load<f32>(x + o) + (mask != 0 ? load<f32>(mask + o) : <f32>0);
    // A +inf maximum: the +inf columns share the mass (exp(t - max) would be NaN).
    const e: f32 = mt == Infinity ? (t == Infinity ? <f32>1 : <f32>0) : exp_f32(t - mt);
    store<f32>(out + o, e);
    sum += <f64>e;
  }
  const w = <f32>(1.0 / sum);
  for (let c = 0; c < lim; c++) {
    const o = <usize>c << 2;
    store<f32>(out + o, load<f32>(out + o) * w);
  }
  for (let c = max(lim, 0); c < n; c++) store<f32>(out + (<usize>c << 2), 0);
}

/** Columns row r keeps: c < r + causal + 1 when causal >= 0, all n otherwise. */
export function causalLimit(r: i32, n: i32, causal: i32): i32 {
  return causal < 0 ? n : <i32>min<i64>(<i64>n, <i64>r + <i64>causal + 1);
}

/** Scalar twin of f32_softmax. */
export function f32_softmax(rows: i32, n: i32, x: usize, ldx: i32, out: usize, ldo: i32, scale: f32, mask: usize, ldm: i32, causal: i32): void {
  for (let r = 0; r < rows; r++) {
    const m = mask != 0 ? mask + ((<usize>r * <usize>ldm) << 2) : 0;
    softmaxRow(n, causalLimit(r, n, causal), x + ((<usize>r * <usize>ldx) << 2), out + ((<usize>r * <usize>ldo) << 2), scale, m);
  }
}

/** Scalar twin of f32_log_softmax. */
export function f32_log_softmax(rows: i32, n: i32, x: usize, ldx: i32, out: usize, ldo: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const or = out + ((<usize>r * <usize>ldo) << 2);
    let m: f32 = -Infinity;
    for (let c = 0; c < n; c++) m = max<f32>(m, load<f32>(xr + (<usize>c << 2)));
    if (m == -Infinity || m == Infinity) {
      let count = 0;
      for (let c = 0; c < n; c++) count += i32(load<f32>(xr + (<usize>c << 2)) == Infinity);
      const v: f32 = m == Infinity ? <f32>-Math.log(<f64>count) : <f32>-Infinity;
      for (let c = 0; c < n; c++) {
        const o = <usize>c << 2;
        store<f32>(or + o, load<f32>(xr + o) == Infinity ? v : <f32>-Infinity);
      }
      continue;
    }
    let sum: f64 = 0;
    for (let c = 0; c < n; c++) sum += <f64>exp_f32(load<f32>(xr + (<usize>c << 2)) - m);
    const lse = <f32>Math.log(sum);
    for (let c = 0; c < n; c++) {
      const o = <usize>c << 2;
      store<f32>(or + o, load<f32>(xr + o) - m - lse);
    }
  }
}

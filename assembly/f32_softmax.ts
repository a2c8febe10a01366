// Row softmax and log-softmax, f32x4. Pointers are byte offsets, strides in elements;
// rows need no alignment (v128 loads and stores are unaligned-safe).
//
// Semantics shared with the scalar twin (ref/f32_softmax.ts), per row, t = scale*x + mask:
//  - numerically stable: exp(t - max t), so any finite input is safe (no overflow);
//  - columns past the causal limit and columns whose t is -inf get exactly 0;
//  - a row with no column left (every t is -inf or masked) is all zeros, not NaN;
//  - +inf entries share the mass equally (the limit of softmax as they grow): [inf, 1] -> [1, 0];
//  - a NaN anywhere in the kept columns makes the kept columns NaN.
//
// exp: the arguments here are t - max t <= 0 only, so instead of the general exp_f32x4 this
// file uses math.ts's exp2_core_f32x4 (2^y, y = (t - max) log2 e clamped at -127: results
// below ~2^-126 flush to 0 and -inf gives exactly 0; the core is <= 1.8e-7 relative).
// Rounding y adds |t - max| 6e-8 relative: softmax values are within ~2e-7 + 6e-8 |t - max|
// of exact (relative), i.e. <= 1e-6 of the row's largest output. Its constants are loaded
// from math.ts's data segment once per row and kept in registers across the loops.
// f32x4.pmax/pmin (one instruction, NaN-ignoring) find the max; a NaN still reaches every
// output through the sum.
import { hmax, hsum, madd } from "./common";
import {
  EXP2_K, EXP2_K_C1, EXP2_K_C2, EXP2_K_C3, EXP2_K_C4, EXP2_K_C5, EXP2_K_LO, EXP2_K_MAGIC, EXP2_K_ONE,
  exp2_core_f32, exp2_core_f32x4,
} from "./math";

const LOG2E: f32 = 1.44269504;

/** 2^y for y <= 0 (see the header); NaN stays NaN. */
// @ts-ignore: decorator
@inline function exp2Core(y: v128, lo: v128, magic: v128, c5: v128, c4: v128, c3: v128, c2: v128, c1: v128, c0: v128): v128 {
  return exp2_core_f32x4(f32x4.pmax(y, lo), magic, c5, c4, c3, c2, c1, c0); // y < -127 ? -127 : y, NaN kept
}

/** Scalar form of exp2Core for the row tails. */
// @ts-ignore: decorator
@inline function exp2Scalar(y: f32): f32 {
  return exp2_core_f32(y < <f32>-127 ? <f32>-127 : y);
}

/** max over c < lim of x[c], ignoring NaN (-inf for an empty or all-NaN range). */
// @ts-ignore: decorator
@inline function rowMax(lim: i32, x: usize): f32 {
  let m0 = f32x4.splat(-Infinity);
  let m1 = m0;
  let c = 0;
  for (; c + 8 <= lim; c += 8) {
    const p = x + (<usize>c << 2);
    m0 = f32x4.pmax(m0, v128.load(p));
    m1 = f32x4.pmax(m1, v128.load(p, 16));
  }
  if (c + 4 <= lim) {
    m0 = f32x4.pmax(m0, v128.load(x + (<usize>c << 2)));
    c += 4;
  }
  let m = hmax(f32x4.pmax(m0, m1));
  for (; c < lim; c++) {
    const v = load<f32>(x + (<usize>c << 2));
    m = m < v ? v : m;
  }
  return m;
}

/** min over c < lim of x[c], ignoring NaN (+inf for an empty or all-NaN range). */
// @ts-ignore: decorator
@inline function rowMin(lim: i32, x: usize): f32 {
  let m0 = f32x4.splat(Infinity);
  let m1 = m0;
  let c = 0;
  for (; c + 8 <= lim; c += 8) {
    const p = x + (<usize>c << 2);
    m0 = f32x4.pmin(m0, v128.load(p));
    m1 = f32x4.pmin(m1, v128.load(p, 16));
  }
  if (c + 4 <= lim) {
    m0 = f32x4.pmin(m0, v128.load(x + (<usize>c << 2)));
    c += 4;
  }
  m0 = f32x4.pmin(m0, m1);
  let m = min<f32>(min<f32>(f32x4.extract_lane(m0, 0), f32x4.extract_lane(m0, 1)), min<f32>(f32x4.extract_lane(m0, 2), f32x4.extract_lane(m0, 3)));
  for (; c < lim; c++) {
    const v = load<f32>(x + (<usize>c << 2));
    m = v < m ? v : m;
  }
  return m;
}

/** t = scale*x + mask for one lane-group, the same expression in the lanes and the tails. */
// @ts-ignore: decorator
@inline function masked(x: usize, mask: usize, o: usize, s: v128): v128 {
  return madd(v128.load(x + o), s, v128.load(mask + o));
}

/** t for one column (a splat through the vector expression, so fused exactly as the lanes). */
// @ts-ignore: decorator
@inline function maskedScalar(x: usize, mask: usize, o: usize, s: v128): f32 {
  return f32x4.extract_lane(madd(f32x4.splat(load<f32>(x + o)), s, f32x4.splat(load<f32>(mask + o))), 0);
}

/** max over c < lim of scale*x[c] + mask[c], ignoring NaN. */
// @ts-ignore: decorator
@inline function maskedMax(lim: i32, x: usize, scale: f32, mask: usize): f32 {
  const s = f32x4.splat(scale);
  let m0 = f32x4.splat(-Infinity);
  let m1 = m0;
  let c = 0;
  for (; c + 8 <= lim; c += 8) {
    const o = <usize>c << 2;
    m0 = f32x4.pmax(m0, masked(x, mask, o, s));
    m1 = f32x4.pmax(m1, masked(x, mask, o + 16, s));
  }
  if (c + 4 <= lim) {
    m0 = f32x4.pmax(m0, masked(x, mask, <usize>c << 2, s));
    c += 4;
  }
  let m = hmax(f32x4.pmax(m0, m1));
  for (; c < lim; c++) {
    const v = maskedScalar(x, mask, <usize>c << 2, s);
    m = m < v ? v : m;
  }
  return m;
}

/** out[c] = 0 for c in [from, n). */
// @ts-ignore: decorator
@inline export function zeroTail(from: i32, n: i32, out: usize): void {
  let c = from;
  for (; c + 4 <= n; c += 4) v128.store(out + (<usize>c << 2), f32x4.splat(0));
  for (; c < n; c++) store<f32>(out + (<usize>c << 2), 0);
}

/**
 * Rows whose max is +-inf (or that are all NaN): the +inf columns share the mass, all other
 * kept columns get 0; any NaN makes the kept columns NaN. Rare, so plainly scalar.
 */
function degenerateRow(n: i32, lim: i32, x: usize, out: usize, scale: f32, mask: usize): void {
  let count = 0;
  let nan = false;
  for (let c = 0; c < lim; c++) {
    const o = <usize>c << 2;
    const t = scale * load<f32>(x + o) + (mask != 0 ? load<f32>(mask + o) : <f32>0);
    count += i32(t == Infinity);
    nan = nan || isNaN<f32>(t);
  }
  const w: f32 = nan ? NaN : <f32>1 / <f32>count;
  for (let c = 0; c < lim; c++) {
    const o = <usize>c << 2;
    const t = scale * load<f32>(x + o) + (mask != 0 ? load<f32>(mask + o) : <f32>0);
    store<f32>(out + o, nan ? NaN : t == Infinity ? w : <f32>0);
  }
  zeroTail(max(lim, 0), n, out);
}

/**
 * One softmax row: out[c] = exp(t[c] - max t) / sum for c < lim and 0 for lim <= c < n,
 * with t[c] = scale*x[c] + mask[c] (mask 0 = none). Columns at or past lim are never read,
 * so they may hold anything. out may alias x. Shared by f32_softmax and f32_attention.
 */
// @ts-ignore: decorator
@inline export function softmaxRow(n: i32, lim: i32, x: usize, out: usize, scale: f32, mask: usize): void {
  // Without a mask, t - max t = scale (x - max x) (min x when scale < 0): no multiply in pass 1.
  let xm: f32 = 0;
  let mt: f32;
  if (mask != 0) mt = maskedMax(lim, x, scale, mask);
  else {
    xm = scale >= 0 ? rowMax(lim, x) : rowMin(lim, x);
    mt = scale * xm;
  }
  if (mt == Infinity || mt == -Infinity || isNaN<f32>(mt)) {
    if (lim <= 0) zeroTail(0, n, out);
    else degenerateRow(n, lim, x, out, scale, mask);
    return;
  }
  const lo = v128.load32_splat(EXP2_K, EXP2_K_LO);
  const magic = v128.load32_splat(EXP2_K, EXP2_K_MAGIC);
  const c5 = v128.load32_splat(EXP2_K, EXP2_K_C5);
  const c4 = v128.load32_splat(EXP2_K, EXP2_K_C4);
  const c3 = v128.load32_splat(EXP2_K, EXP2_K_C3);
  const c2 = v128.load32_splat(EXP2_K, EXP2_K_C2);
  const c1 = v128.load32_splat(EXP2_K, EXP2_K_C1);
  const c0 = v128.load32_splat(EXP2_K, EXP2_K_ONE);
  let acc0 = f32x4.splat(0);
  let acc1 = acc0;
  let sum: f32 = 0;
  let c = 0;
  if (mask != 0) {
    const s = f32x4.splat(scale);
    const mv = f32x4.splat(mt);
    const l2 = f32x4.splat(LOG2E);
    for (; c + 8 <= lim; c += 8) {
      const o = <usize>c << 2;
      const e0 = exp2Core(f32x4.mul(f32x4.sub(masked(x, mask, o, s), mv), l2), lo, magic, c5, c4, c3, c2, c1, c0);
      const e1 = exp2Core(f32x4.mul(f32x4.sub(masked(x, mask, o + 16, s), mv), l2), lo, magic, c5, c4, c3, c2, c1, c0);
      v128.store(out + o, e0);
      v128.store(out + o, e1, 16);
      acc0 = f32x4.add(acc0, e0);
      acc1 = f32x4.add(acc1, e1);
    }
    for (; c + 4 <= lim; c += 4) {
      const o = <usize>c << 2;
      const e0 = exp2Core(f32x4.mul(f32x4.sub(masked(x, mask, o, s), mv), l2), lo, magic, c5, c4, c3, c2, c1, c0);
      v128.store(out + o, e0);
      acc0 = f32x4.add(acc0, e0);
    }
    for (; c < lim; c++) {
      const o = <usize>c << 2;
      const e = exp2Scalar((maskedScalar(x, mask, o, s) - mt) * LOG2E);
      store<f32>(out + o, e);
      sum += e;
    }
  } else {
    const k: f32 = scale * LOG2E;
    const kv = f32x4.splat(k);
    const xv = f32x4.splat(xm);
    for (; c + 8 <= lim; c += 8) {
      const o = <usize>c << 2;
      const e0 = exp2Core(f32x4.mul(f32x4.sub(v128.load(x + o), xv), kv), lo, magic, c5, c4, c3, c2, c1, c0);
      const e1 = exp2Core(f32x4.mul(f32x4.sub(v128.load(x + o, 16), xv), kv), lo, magic, c5, c4, c3, c2, c1, c0);
      v128.store(out + o, e0);
      v128.store(out + o, e1, 16);
      acc0 = f32x4.add(acc0, e0);
      acc1 = f32x4.add(acc1, e1);
    }
    for (; c + 4 <= lim; c += 4) {
      const o = <usize>c << 2;
      const e0 = exp2Core(f32x4.mul(f32x4.sub(v128.load(x + o), xv), kv), lo, magic, c5, c4, c3, c2, c1, c0);
      v128.store(out + o, e0);
      acc0 = f32x4.add(acc0, e0);
    }
    for (; c < lim; c++) {
      const o = <usize>c << 2;
      const e = exp2Scalar((load<f32>(x + o) - xm) * k);
      store<f32>(out + o, e);
      sum += e;
    }
  }
  sum += hsum(f32x4.add(acc0, acc1));
  // sum >= 1 (the maximum contributes 2^0) unless it is NaN.
  const w: f32 = <f32>1 / sum;
  const wv = f32x4.splat(w);
  c = 0;
  for (; c + 8 <= lim; c += 8) {
    const o = <usize>c << 2;
    v128.store(out + o, f32x4.mul(v128.load(out + o), wv));
    v128.store(out + o, f32x4.mul(v128.load(out + o, 16), wv), 16);
  }
  for (; c + 4 <= lim; c += 4) {
    const o = <usize>c << 2;
    v128.store(out + o, f32x4.mul(v128.load(out + o), wv));
  }
  for (; c < lim; c++) {
    const o = <usize>c << 2;
    store<f32>(out + o, load<f32>(out + o) * w);
  }
  zeroTail(lim, n, out);
}

/** Columns row r keeps: c < r + causal + 1 when causal >= 0, all n otherwise. */
// @ts-ignore: decorator
@inline export function causalLimit(r: i32, n: i32, causal: i32): i32 {
  if (causal < 0) return n;
  return <i32>min<i64>(<i64>n, <i64>r + <i64>causal + 1);
}

/**
 * Row softmax of scale*x + mask (see the file header for inf/NaN/fully-masked rows).
 * mask: additive (0 / -inf), rows x n, stride ldm (0 broadcasts one row), 0 = none.
 * causal >= 0: row r keeps columns c <= r + causal (a caller splitting rows adds its first
 * row index to causal). out may alias x.
 */
export function f32_softmax(rows: i32, n: i32, x: usize, ldx: i32, out: usize, ldo: i32, scale: f32, mask: usize, ldm: i32, causal: i32): void {
  for (let r = 0; r < rows; r++) {
    const m = mask != 0 ? mask + ((<usize>r * <usize>ldm) << 2) : 0;
    softmaxRow(n, causalLimit(r, n, causal), x + ((<usize>r * <usize>ldx) << 2), out + ((<usize>r * <usize>ldo) << 2), scale, m);
  }
}

/** Log-softmax row whose max is +-inf or that is all NaN: see f32_log_softmax. */
function degenerateLogRow(n: i32, x: usize, out: usize): void {
  let count = 0;
  let nan = false;
  for (let c = 0; c < n; c++) {
    const v = load<f32>(x + (<usize>c << 2));
    count += i32(v == Infinity);
    nan = nan || isNaN<f32>(v);
  }
  const top: f32 = nan ? NaN : <f32>-Math.log(<f64>count);
  for (let c = 0; c < n; c++) {
    const o = <usize>c << 2;
    store<f32>(out + o, nan ? NaN : load<f32>(x + o) == Infinity ? top : <f32>-Infinity);
  }
}

/**
 * Row log-softmax: out = (x - max) - log(sum exp(x - max)). A row of all -inf gives all -inf
 * (the log of the zeros softmax gives); +inf entries give -log(count of +inf), the rest -inf;
 * NaN propagates to the row. Error ~ 1e-6 absolute near 0 (log of the exp sum). out may
 * alias x.
 */
export function f32_log_softmax(rows: i32, n: i32, x: usize, ldx: i32, out: usize, ldo: i32): void {
  const lo = v128.load32_splat(EXP2_K, EXP2_K_LO);
  const magic = v128.load32_splat(EXP2_K, EXP2_K_MAGIC);
  const c5 = v128.load32_splat(EXP2_K, EXP2_K_C5);
  const c4 = v128.load32_splat(EXP2_K, EXP2_K_C4);
  const c3 = v128.load32_splat(EXP2_K, EXP2_K_C3);
  const c2 = v128.load32_splat(EXP2_K, EXP2_K_C2);
  const c1 = v128.load32_splat(EXP2_K, EXP2_K_C1);
  const c0 = v128.load32_splat(EXP2_K, EXP2_K_ONE);
  const l2 = f32x4.splat(LOG2E);
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const or = out + ((<usize>r * <usize>ldo) << 2);
    const m = rowMax(n, xr);
    if (m == -Infinity || m == Infinity) {
      degenerateLogRow(n, xr, or);
      continue;
    }
    const mv = f32x4.splat(m);
    let acc0 = f32x4.splat(0);
    let acc1 = acc0;
    let c = 0;
    for (; c + 8 <= n; c += 8) {
      const o = <usize>c << 2;
      acc0 = f32x4.add(acc0, exp2Core(f32x4.mul(f32x4.sub(v128.load(xr + o), mv), l2), lo, magic, c5, c4, c3, c2, c1, c0));
      acc1 = f32x4.add(acc1, exp2Core(f32x4.mul(f32x4.sub(v128.load(xr + o, 16), mv), l2), lo, magic, c5, c4, c3, c2, c1, c0));
    }
    for (; c + 4 <= n; c += 4) {
      acc0 = f32x4.add(acc0, exp2Core(f32x4.mul(f32x4.sub(v128.load(xr + (<usize>c << 2)), mv), l2), lo, magic, c5, c4, c3, c2, c1, c0));
    }
    let sum = hsum(f32x4.add(acc0, acc1));
    for (; c < n; c++) sum += exp2Scalar((load<f32>(xr + (<usize>c << 2)) - m) * LOG2E);
    // (x - m) - lse rather than x - (m + lse): x - m is exact near the max, where it matters.
    const lse: f32 = <f32>Math.log(<f64>sum);
    const lv = f32x4.splat(lse);
    c = 0;
    for (; c + 4 <= n; c += 4) {
      const o = <usize>c << 2;
      v128.store(or + o, f32x4.sub(f32x4.sub(v128.load(xr + o), mv), lv));
    }
    for (; c < n; c++) {
      const o = <usize>c << 2;
      store<f32>(or + o, load<f32>(xr + o) - m - lse);
    }
  }
}

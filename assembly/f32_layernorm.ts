// LayerNorm over rows, f32x4. Rows need no alignment.
//
// Variance: corrected two-pass (Bjorck): pass 1 gives an approximate mean m and max |x|;
// pass 2 sums d = (x - m) s and d^2, and var = (sum d^2 - (sum d)^2 / n) / n cancels the
// error of m. s is a power of two chosen from max |x| so that d is O(1): rows of 1e30 or
// 1e-30 neither overflow nor underflow (the products are exact, so s costs no accuracy).
// Error: a few ulp of the output scale (tolerance 1e-6 relative, strict and relaxed).
// A constant row is detected (min == max) and gives exactly beta. A NaN or +-inf in the
// row makes the row NaN. eps must be > 0 for constant rows (0/0 otherwise).
import { hsum, madd } from "./common";

/**
 * A power of two s with |m| s in [1, 2) (exponent clamped to +-126 so s stays normal):
 * scaling by s is exact and brings a row's largest magnitude to O(1).
 */
// @ts-ignore: decorator
@inline export function pow2Scale(m: f32): f32 {
  const e = min<i32>(max<i32>(<i32>((reinterpret<u32>(m) >> 23) & 0xff) - 127, -126), 126);
  return reinterpret<f32>(<u32>(127 - e) << 23);
}

/**
 * out = (x - mean) / sqrt(var + eps) * gamma + beta per row (biased variance, as torch).
 * gamma: n floats; beta: n floats or 0 = none. out may alias x.
 */
export function f32_layernorm(rows: i32, n: i32, x: usize, ldx: i32, gamma: usize, beta: usize, out: usize, ldo: i32, eps: f32): void {
  if (n <= 0) return;
  const invN: f32 = <f32>1 / <f32>n;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const or = out + ((<usize>r * <usize>ldo) << 2);
    // Pass 1: mean as sum(x / n) (no overflow for any finite row), min and max.
    const iv = f32x4.splat(invN);
    let a0 = f32x4.splat(0);
    let a1 = a0;
    let lo0 = f32x4.splat(Infinity);
    let lo1 = lo0;
    let hi0 = f32x4.splat(-Infinity);
    let hi1 = hi0;
    let c = 0;
    for (; c + 8 <= n; c += 8) {
      const o = <usize>c << 2;
      const v0 = v128.load(xr + o);
      const v1 = v128.load(xr + o, 16);
      a0 = madd(v0, iv, a0);
      a1 = madd(v1, iv, a1);
      lo0 = f32x4.pmin(lo0, v0);
      lo1 = f32x4.pmin(lo1, v1);
      hi0 = f32x4.pmax(hi0, v0);
      hi1 = f32x4.pmax(hi1, v1);
    }
    for (; c + 4 <= n; c += 4) {
      const v0 = v128.load(xr + (<usize>c << 2));
      a0 = madd(v0, iv, a0);
      lo0 = f32x4.pmin(lo0, v0);
      hi0 = f32x4.pmax(hi0, v0);
    }
    let m = hsum(f32x4.add(a0, a1));
    const lo = f32x4.pmin(lo0, lo1);
    const hi = f32x4.pmax(hi0, hi1);
    let mn = min<f32>(min<f32>(f32x4.extract_lane(lo, 0), f32x4.extract_lane(lo, 1)), min<f32>(f32x4.extract_lane(lo, 2), f32x4.extract_lane(lo, 3)));
    let mx = max<f32>(max<f32>(f32x4.extract_lane(hi, 0), f32x4.extract_lane(hi, 1)), max<f32>(f32x4.extract_lane(hi, 2), f32x4.extract_lane(hi, 3)));
    for (; c < n; c++) {
      const v = load<f32>(xr + (<usize>c << 2));
      m += v * invN;
      mn = min<f32>(mn, v);
      mx = max<f32>(mx, v);
    }
    const s = pow2Scale(max<f32>(abs<f32>(mn), abs<f32>(mx)));
    // ms: the mean times s; k: 1 / (s sqrt(var + eps)).
    let ms: f32;
    let k: f32;
    // m is NaN when the row holds a NaN (pmin/pmax, one instruction each, skip NaN).
    if (mn == mx && !isNaN<f32>(m)) {
      // x s - ms is exactly 0; k = 0 keeps it 0 (1/sqrt(eps s^2) may overflow f32 here).
      ms = mn * s;
      k = 0;
    } else {
      // Pass 2: sums of d = (x - m) s and d^2.
      const mv = f32x4.splat(m);
      const sv = f32x4.splat(s);
      let d0 = f32x4.splat(0);
      let d1 = d0;
      let q0 = d0;
      let q1 = d0;
      c = 0;
      for (; c + 8 <= n; c += 8) {
        const o = <usize>c << 2;
        const e0 = f32x4.mul(f32x4.sub(v128.load(xr + o), mv), sv);
        const e1 = f32x4.mul(f32x4.sub(v128.load(xr + o, 16), mv), sv);
        d0 = f32x4.add(d0, e0);
        d1 = f32x4.add(d1, e1);
        q0 = madd(e0, e0, q0);
        q1 = madd(e1, e1, q1);
      }
      for (; c + 4 <= n; c += 4) {
        const e0 = f32x4.mul(f32x4.sub(v128.load(xr + (<usize>c << 2)), mv), sv);
        d0 = f32x4.add(d0, e0);
        q0 = madd(e0, e0, q0);
      }
      let sd = hsum(f32x4.add(d0, d1));
      let sq = hsum(f32x4.add(q0, q1));
      for (; c < n; c++) {
        const e = (load<f32>(xr + (<usize>c << 2)) - m) * s;
        sd += e;
        sq += e * e;
      }
      const mean = <f64>sd / <f64>n;
      const varS = max<f64>(<f64>sq / <f64>n - mean * mean, 0);
      ms = <f32>(<f64>m * <f64>s + mean);
      // Applied to x s - ms = (x - mean) s. varS >= ~1e-14 / n (the row is not constant and
      // max |x s| is in [1, 2)), so k stays finite.
      k = <f32>(1.0 / Math.sqrt(varS + <f64>eps * <f64>s * <f64>s));
    }
    // Pass 3: out = ((x s - ms) k) gamma + beta.
    const sv = f32x4.splat(s);
    const nms = f32x4.splat(-ms);
    const kv = f32x4.splat(k);
    c = 0;
    if (beta != 0) {
      for (; c + 4 <= n; c += 4) {
        const o = <usize>c << 2;
        const y = f32x4.mul(madd(v128.load(xr + o), sv, nms), kv);
        v128.store(or + o, madd(y, v128.load(gamma + o), v128.load(beta + o)));
      }
      for (; c < n; c++) {
        const o = <usize>c << 2;
        store<f32>(or + o, (load<f32>(xr + o) * s - ms) * k * load<f32>(gamma + o) + load<f32>(beta + o));
      }
    } else {
      for (; c + 4 <= n; c += 4) {
        const o = <usize>c << 2;
        const y = f32x4.mul(madd(v128.load(xr + o), sv, nms), kv);
        v128.store(or + o, f32x4.mul(y, v128.load(gamma + o)));
      }
      for (; c < n; c++) {
        const o = <usize>c << 2;
        store<f32>(or + o, (load<f32>(xr + o) * s - ms) * k * load<f32>(gamma + o));
      }
    }
  }
}

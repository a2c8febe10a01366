// RMSNorm over rows, f32x4. Rows need no alignment.
//
// One pass gives sum x^2 and max |x|. When max |x| is outside [2^-48, 2^48] the sum could
// have overflowed or lost its small terms, so it is redone on x s with s a power of two
// (exact) from max |x|: rows of 1e30 or 1e-30 stay finite and accurate. Error: a few ulp
// of the output scale (tolerance 1e-6 relative, strict and relaxed). NaN or +-inf in a
// row makes the row NaN (inf / inf); an all-zero row gives zeros.
import { hmax, hsum, madd } from "./common";
import { pow2Scale } from "./f32_layernorm";

// @ts-ignore: decorator
@inline function sumSquares(n: i32, x: usize, s: f32): f32 {
  const sv = f32x4.splat(s);
  let q0 = f32x4.splat(0);
  let q1 = q0;
  let c = 0;
  for (; c + 8 <= n; c += 8) {
    const o = <usize>c << 2;
    const v0 = f32x4.mul(v128.load(x + o), sv);
    const v1 = f32x4.mul(v128.load(x + o, 16), sv);
    q0 = madd(v0, v0, q0);
    q1 = madd(v1, v1, q1);
  }
  for (; c + 4 <= n; c += 4) {
    const v0 = f32x4.mul(v128.load(x + (<usize>c << 2)), sv);
    q0 = madd(v0, v0, q0);
  }
  let q = hsum(f32x4.add(q0, q1));
  for (; c < n; c++) {
    const v = load<f32>(x + (<usize>c << 2)) * s;
    q += v * v;
  }
  return q;
}

/** out = x / sqrt(mean(x^2) + eps) * gamma per row; gamma: n floats. out may alias x. */
export function f32_rmsnorm(rows: i32, n: i32, x: usize, ldx: i32, gamma: usize, out: usize, ldo: i32, eps: f32): void {
  if (n <= 0) return;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const or = out + ((<usize>r * <usize>ldo) << 2);
    let q0 = f32x4.splat(0);
    let q1 = q0;
    let m0 = q0;
    let m1 = q0;
    let c = 0;
    for (; c + 8 <= n; c += 8) {
      const o = <usize>c << 2;
      const v0 = v128.load(xr + o);
      const v1 = v128.load(xr + o, 16);
      q0 = madd(v0, v0, q0);
      q1 = madd(v1, v1, q1);
      m0 = f32x4.pmax(m0, f32x4.abs(v0));
      m1 = f32x4.pmax(m1, f32x4.abs(v1));
    }
    for (; c + 4 <= n; c += 4) {
      const v0 = v128.load(xr + (<usize>c << 2));
      q0 = madd(v0, v0, q0);
      m0 = f32x4.pmax(m0, f32x4.abs(v0));
    }
    let q = hsum(f32x4.add(q0, q1));
    let mx = hmax(f32x4.pmax(m0, m1));
    for (; c < n; c++) {
      const v = load<f32>(xr + (<usize>c << 2));
      q += v * v;
      mx = max<f32>(mx, abs<f32>(v));
    }
    let s: f32 = 1;
    // pmax skips NaN, but a NaN makes q NaN and with it the whole row.
    if (!(mx >= <f32>3.5527137e-15 && mx <= <f32>2.81474977e14)) {
      s = pow2Scale(mx);
      q = sumSquares(n, xr, s);
    }
    // k = 1 / (s sqrt(mean x^2 + eps)), applied to x s.
    const k = <f32>(1.0 / Math.sqrt(<f64>q / <f64>n + <f64>eps * <f64>s * <f64>s));
    const kv = f32x4.splat(k);
    const sv = f32x4.splat(s);
    c = 0;
    for (; c + 4 <= n; c += 4) {
      const o = <usize>c << 2;
      v128.store(or + o, f32x4.mul(f32x4.mul(f32x4.mul(v128.load(xr + o), sv), kv), v128.load(gamma + o)));
    }
    for (; c < n; c++) {
      const o = <usize>c << 2;
      store<f32>(or + o, load<f32>(xr + o) * s * k * load<f32>(gamma + o));
    }
  }
}

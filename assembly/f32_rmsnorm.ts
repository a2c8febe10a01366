// RMSNorm over rows, f32x4. Rows need no alignment.
//
// One pass gives sum x^2. When it overflowed or is too small to trust (below 2^-80), it is
// redone on x s with s a power of two (exact) from max |x|: rows of 1e30 or 1e-30 stay
// finite and accurate. Error: a few ulp of the output scale (tolerance 1e-6 relative,
// strict and relaxed). A NaN makes the row NaN; +-inf gives NaN there and 0 elsewhere
// (x / inf); an all-zero row gives zeros (eps > 0).
import { hsum, madd } from "./common";
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

/** max |x[c]| over the row, NaN-propagating (the rare rescaling path only). */
function maxAbs(n: i32, x: usize): f32 {
  let m: f32 = 0;
  for (let c = 0; c < n; c++) m = max<f32>(m, abs<f32>(load<f32>(x + (<usize>c << 2))));
  return m;
}

/** out = x / sqrt(mean(x^2) + eps) * gamma per row; gamma: n floats. out may alias x. */
export function f32_rmsnorm(rows: i32, n: i32, x: usize, ldx: i32, gamma: usize, out: usize, ldo: i32, eps: f32): void {
  if (n <= 0) return;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const or = out + ((<usize>r * <usize>ldo) << 2);
    let q = sumSquares(n, xr, 1);
    let s: f32 = 1;
    // Squares that underflowed are < 2^-126 each, negligible against q >= 2^-80 for any n
    // below 2^20; one that overflowed makes q inf. Both (and NaN) take the rescaled path.
    if (!(q >= <f32>8.27180613e-25 && q <= <f32>3.40282347e38)) {
      s = pow2Scale(maxAbs(n, xr));
      q = sumSquares(n, xr, s);
    }
    // k = 1 / (s sqrt(mean x^2 + eps)), applied to x s.
    const k = <f32>(1.0 / Math.sqrt(<f64>q / <f64>n + <f64>eps * <f64>s * <f64>s));
    const kv = f32x4.splat(k);
    let c = 0;
    if (s == 1) {
      for (; c + 8 <= n; c += 8) {
        const o = <usize>c << 2;
        const a = f32x4.mul(f32x4.mul(v128.load(xr + o), kv), v128.load(gamma + o));
        const b = f32x4.mul(f32x4.mul(v128.load(xr + o, 16), kv), v128.load(gamma + o, 16));
        v128.store(or + o, a);
        v128.store(or + o, b, 16);
      }
    } else {
      const sv = f32x4.splat(s);
      for (; c + 4 <= n; c += 4) {
        const o = <usize>c << 2;
        v128.store(or + o, f32x4.mul(f32x4.mul(f32x4.mul(v128.load(xr + o), sv), kv), v128.load(gamma + o)));
      }
    }
    for (; c + 4 <= n; c += 4) {
      const o = <usize>c << 2;
      v128.store(or + o, f32x4.mul(f32x4.mul(v128.load(xr + o), kv), v128.load(gamma + o)));
    }
    for (; c < n; c++) {
      const o = <usize>c << 2;
      store<f32>(or + o, load<f32>(xr + o) * s * k * load<f32>(gamma + o));
    }
  }
}

// Position encodings: rotary embedding (in place) and the classic sinusoidal table.
//
// Angles are formed in f64: pos * theta^(-2i/d), the frequency by a per-row recurrence that
// does not depend on the row (any split of rows gives identical bits). sin/cos of four angles
// at a time: the f64 angle is reduced to r in [-pi/4, pi/4] and a quadrant (Cody-Waite with a
// 33-bit pi/2, exact for angles below 2^20 pi/2, i.e. any position), then r goes to f32 and
// lanes of minimax polynomials (fitted for this file, Lawson's algorithm) give sin and cos:
// |error| <= 1.2e-7 (the f32 rounding of r included), about one ulp of the result. The
// one-pair tails use the same formulas.
import { rotatePair } from "./ref/f32_rope";

const TWO_OVER_PI: f64 = 0.63661977236758134308;
/** pi/2 = PIO2_HI + PIO2_LO; PIO2_HI has 33 bits, so k PIO2_HI is exact for |k| < 2^20. */
const PIO2_HI: f64 = 1.57079632673412561417;
const PIO2_LO: f64 = 6.07710050650619224932e-11;
// sin r = r + r^3 (S1 + S2 r^2 + S3 r^4), cos r = 1 - r^2/2 + r^4 (K1 + K2 r^2 + K3 r^4).
const S1: f32 = -0.166666508;
const S2: f32 = 0.00833197869;
const S3: f32 = -0.000194956359;
const K1: f32 = 0.0416666456;
const K2: f32 = -0.00138873677;
const K3: f32 = 0.0000244384501;

/** [a, b, c, d] from run-time values (the f32x4() literal takes constants only). */
// @ts-ignore: decorator
@inline function lanes(a: f32, b: f32, c: f32, d: f32): v128 {
  return f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(a), 1, b), 2, c), 3, d);
}

// @ts-ignore: decorator
@inline function lanesI(a: i32, b: i32, c: i32, d: i32): v128 {
  return i32x4.replace_lane(i32x4.replace_lane(i32x4.replace_lane(i32x4.splat(a), 1, b), 2, c), 3, d);
}

/** The quadrant count k of angle a (a = k pi/2 + r). */
// @ts-ignore: decorator
@inline function quadrant(a: f64): f64 {
  return nearest<f64>(a * TWO_OVER_PI);
}

/** r = a - k pi/2 in [-pi/4, pi/4], rounded to f32 at the end. */
// @ts-ignore: decorator
@inline function reduced(a: f64, k: f64): f32 {
  return <f32>((a - k * PIO2_HI) - k * PIO2_LO);
}

// @ts-ignore: decorator
@inline function sinPoly(r: v128, r2: v128): v128 {
  const p = f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.splat(S3), r2), f32x4.splat(S2)), r2), f32x4.splat(S1));
  return f32x4.add(r, f32x4.mul(f32x4.mul(r, r2), p));
}

// @ts-ignore: decorator
@inline function cosPoly(r2: v128): v128 {
  const p = f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(f32x4.splat(K3), r2), f32x4.splat(K2)), r2), f32x4.splat(K1));
  return f32x4.add(f32x4.sub(f32x4.splat(1), f32x4.mul(f32x4.splat(0.5), r2)), f32x4.mul(f32x4.mul(r2, r2), p));
}

/** sin of k pi/2 + r from the polynomials: quadrants 1, 3 swap to cos, 2, 3 flip the sign. */
// @ts-ignore: decorator
@inline function pickSin(s: v128, c: v128, q: v128): v128 {
  const odd = i32x4.ne(v128.and(q, i32x4.splat(1)), i32x4.splat(0));
  return v128.xor(v128.bitselect(c, s, odd), i32x4.shl(v128.and(q, i32x4.splat(2)), 30));
}

/** cos of k pi/2 + r: quadrants 1, 3 swap to sin, 1, 2 flip the sign. */
// @ts-ignore: decorator
@inline function pickCos(s: v128, c: v128, q: v128): v128 {
  const odd = i32x4.ne(v128.and(q, i32x4.splat(1)), i32x4.splat(0));
  return v128.xor(v128.bitselect(s, c, odd), i32x4.shl(v128.and(i32x4.add(q, i32x4.splat(1)), i32x4.splat(2)), 30));
}

/**
 * sin (cosine false) or cos of the four angles pos freq ratio^j, j = 0..3, the powers taken by
 * the same running products as the callers' recurrence. A sin and a cos call with the same
 * arguments share all but the last step (the optimizer keeps one copy of the rest).
 */
// @ts-ignore: decorator
@inline function sinCos4(pos: f64, freq: f64, ratio: f64, cosine: bool): v128 {
  const f1 = freq * ratio, f2 = f1 * ratio, f3 = f2 * ratio;
  const a0 = pos * freq, a1 = pos * f1, a2 = pos * f2, a3 = pos * f3;
  const k0 = quadrant(a0), k1 = quadrant(a1), k2 = quadrant(a2), k3 = quadrant(a3);
  const rv = lanes(reduced(a0, k0), reduced(a1, k1), reduced(a2, k2), reduced(a3, k3));
  const q = lanesI(<i32>k0, <i32>k1, <i32>k2, <i32>k3);
  const r2 = f32x4.mul(rv, rv);
  const sp = sinPoly(rv, r2);
  const cp = cosPoly(r2);
  return cosine ? pickCos(sp, cp, q) : pickSin(sp, cp, q);
}

/** sin of one f64 angle, the same formulas as the lanes (for the tails). */
function sin1(a: f64): f32 {
  const k = quadrant(a);
  const r = f32x4.splat(reduced(a, k));
  const r2 = f32x4.mul(r, r);
  return f32x4.extract_lane(pickSin(sinPoly(r, r2), cosPoly(r2), i32x4.splat(<i32>k)), 0);
}

/** cos of one f64 angle, the same formulas as the lanes (for the tails). */
function cos1(a: f64): f32 {
  const k = quadrant(a);
  const r = f32x4.splat(reduced(a, k));
  const r2 = f32x4.mul(r, r);
  return f32x4.extract_lane(pickCos(sinPoly(r, r2), cosPoly(r2), i32x4.splat(<i32>k)), 0);
}

/**
 * Rotary embedding in place over `heads` heads of headDim (even) floats per row; row r is at
 * position pos0 + r. Pair i (i < headDim/2) turns by angle pos * theta^(-2i/headDim).
 * interleaved 1: pairs (2i, 2i+1) (GPT-J, llama.cpp); 0: (i, i + headDim/2) (HF Llama).
 */
export function f32_rope(rows: i32, heads: i32, headDim: i32, x: usize, ldx: i32, pos0: i32, theta: f32, interleaved: i32): void {
  const half = headDim >> 1;
  const ratio = Math.pow(<f64>theta, -2.0 / <f64>headDim);
  const negEven = lanesI(<i32>0x80000000, 0, <i32>0x80000000, 0);
  for (let r = 0; r < rows; r++) {
    const pos = <f64>pos0 + <f64>r;
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    let freq: f64 = 1;
    let i = 0;
    for (; i + 4 <= half; i += 4) {
      const sv = sinCos4(pos, freq, ratio, false);
      const cv = sinCos4(pos, freq, ratio, true);
      freq = freq * ratio * ratio * ratio * ratio;
      if (interleaved != 0) {
        // (x0, x1) -> (x0 c - x1 s, x1 c + x0 s): v * [c, c] + swap(v) * [-s, s].
        const cA = v128.shuffle<f32>(cv, cv, 0, 0, 1, 1);
        const cB = v128.shuffle<f32>(cv, cv, 2, 2, 3, 3);
        const sA = v128.xor(v128.shuffle<f32>(sv, sv, 0, 0, 1, 1), negEven);
        const sB = v128.xor(v128.shuffle<f32>(sv, sv, 2, 2, 3, 3), negEven);
        for (let h = 0; h < heads; h++) {
          const p = xr + ((<usize>h * <usize>headDim + (<usize>i << 1)) << 2);
          const v0 = v128.load(p);
          const v1 = v128.load(p, 16);
          const w0 = v128.shuffle<f32>(v0, v0, 1, 0, 3, 2);
          const w1 = v128.shuffle<f32>(v1, v1, 1, 0, 3, 2);
          v128.store(p, f32x4.add(f32x4.mul(v0, cA), f32x4.mul(w0, sA)));
          v128.store(p, f32x4.add(f32x4.mul(v1, cB), f32x4.mul(w1, sB)), 16);
        }
      } else {
        for (let h = 0; h < heads; h++) {
          const p = xr + ((<usize>h * <usize>headDim + <usize>i) << 2);
          const q2 = p + (<usize>half << 2);
          const lo = v128.load(p);
          const hi = v128.load(q2);
          v128.store(p, f32x4.sub(f32x4.mul(lo, cv), f32x4.mul(hi, sv)));
          v128.store(q2, f32x4.add(f32x4.mul(lo, sv), f32x4.mul(hi, cv)));
        }
      }
    }
    for (; i < half; i++) {
      const a = pos * freq;
      freq *= ratio;
      rotatePair(xr, heads, headDim, i, cos1(a), sin1(a), interleaved);
    }
  }
}

/**
 * out[r] (d floats, stride ldo) = the encoding of position pos0 + r:
 * out[2i] = sin(pos / 10000^(2i/d)), out[2i+1] = cos(pos / 10000^(2i/d)).
 */
export function f32_sinusoidal(rows: i32, d: i32, pos0: i32, out: usize, ldo: i32): void {
  const ratio = Math.pow(10000.0, -2.0 / <f64>d);
  for (let r = 0; r < rows; r++) {
    const pos = <f64>pos0 + <f64>r;
    const or = out + ((<usize>r * <usize>ldo) << 2);
    let freq: f64 = 1;
    let c = 0;
    for (; c + 8 <= d; c += 8) {
      const sv = sinCos4(pos, freq, ratio, false);
      const cv = sinCos4(pos, freq, ratio, true);
      freq = freq * ratio * ratio * ratio * ratio;
      const o = or + (<usize>c << 2);
      v128.store(o, v128.shuffle<f32>(sv, cv, 0, 4, 1, 5));
      v128.store(o, v128.shuffle<f32>(sv, cv, 2, 6, 3, 7), 16);
    }
    for (; c + 2 <= d; c += 2) {
      const a = pos * freq;
      freq *= ratio;
      store<f32>(or + (<usize>c << 2), sin1(a));
      store<f32>(or + (<usize>c << 2), cos1(a), 4);
    }
    if (c < d) store<f32>(or + (<usize>c << 2), sin1(pos * freq));
  }
}

// Transcendental approximations shared by the activation kernels (f32_act.ts) and the
// GEMM/GEMV fused epilogue. Every function has a scalar form (`*_f32`, used by the
// scalar build and for loop tails) and a SIMD form (`*_f32x4`) computing the same
// formula with the same constants, so all builds agree to a few ulp.
//
// The polynomial coefficients were fitted for this file (weighted minimax, Lawson's
// algorithm, in float64) and then rounded to f32. Measured against mpmath on a dense grid,
// evaluated in f32 (so rounding is included), both forms, strict and relaxed builds:
//   exp_f32      relative <= 8e-8; +inf above 88.72, gradual underflow below -87.3, 0 below -104
//   tanh_f32     relative <= 1.5e-7 everywhere (odd polynomial below 0.55, exp form above)
//   sigmoid_f32  relative <= 1.4e-7 where the result is a normal f32
//   silu_f32     relative <= 1.7e-7
//   erf_f32      relative <= 1.7e-7 (odd polynomial below 0.9, exp(-x^2) tail above)
//   erfc_f32     relative <= 1e-6 for x < 4; the tail is computed directly, not as 1 - erf,
//                so it stays relative, but the rounding of x^2 inside exp(-x^2) grows the error
//                like 6e-8 x^2 (3.8e-6 at x = 8, where erfc is 1e-30)
//   gelu_f32 / gelu_tanh_f32: relative <= 1e-6 for x > -3 (2e-7 for x >= 0); the negative side is formed without
//                cancellation (erfc / sigmoid forms), its error grows as in erfc (1e-5 near
//                x = -10, where |gelu| < 1e-20).
// NaN propagates through every function.
import { madd } from "./common";

/** Activation codes (low byte of the GEMM `flags`), as in src/kernels/exports.ts. */
export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_GELU: i32 = 2;
export const ACT_GELU_TANH: i32 = 3;
export const ACT_SILU: i32 = 4;

const LOG2E: f32 = 1.44269504;
// ln 2 split so that n * LN2_HI is exact for |n| < 2^15 (LN2_HI has 9 significant bits).
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// exp(x) overflows above ~88.72 and is below the smallest denormal under ~-103.97.
const EXP_MAX: f32 = 89.0;
const EXP_MIN: f32 = -104.0;
// e^r = 1 + r + r^2 (E0 + E1 r + E2 r^2 + E3 r^3 + E4 r^4) on |r| <= ln2/2.
const E0: f32 = 0.49999994;
const E1: f32 = 0.166665211;
const E2: f32 = 0.041668389;
const E3: f32 = 0.00836871006;
const E4: f32 = 0.00138146128;
// tanh x = x + x^3 (T0 + T1 x^2 + ... + T4 x^8) on |x| < TANH_SMALL.
const TANH_SMALL: f32 = 0.55;
const T0: f32 = -0.333333164;
const T1: f32 = 0.13332586;
const T2: f32 = -0.0538523085;
const T3: f32 = 0.0210716799;
const T4: f32 = -0.00627424009;
// erf x = x (P0 + P1 x^2 + ... + P5 x^10) on |x| < ERF_SMALL.
const ERF_SMALL: f32 = 0.9;
const P0: f32 = 1.12837911;
const P1: f32 = -0.376125246;
const P2: f32 = 0.112821408;
const P3: f32 = -0.0267789159;
const P4: f32 = 0.00501197157;
const P5: f32 = -0.000609039795;
// erfc z = exp(-z^2) R(t), t = 1 / (1 + z/2), R(t) = Q0 + Q1 t + ... + Q8 t^8, for z >= ERF_SMALL.
const Q0: f32 = -5.64745096e-6;
const Q1: f32 = 0.282238871;
const Q2: f32 = 0.280564189;
const Q3: f32 = 0.255515426;
const Q4: f32 = 0.148841918;
const Q5: f32 = 0.125915021;
const Q6: f32 = -0.00280039757;
const Q7: f32 = -0.16411832;
const Q8: f32 = 0.0742096081;
const SQRT1_2: f32 = 0.707106781;
// GELU tanh form: tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3); 0.5 (1 + tanh u) = sigmoid(2u).
const GELU_TANH_2C: f32 = 1.59576912; // 2 sqrt(2/pi)
const GELU_TANH_A: f32 = 0.044715;

// ---------------------------------------------------------------- scalar

/** e^x (see the accuracy table at the top of the file). */
// @ts-ignore: decorator
@inline export function exp_f32(x: f32): f32 {
  if (isNaN<f32>(x)) return x;
  x = min<f32>(max<f32>(x, EXP_MIN), EXP_MAX);
  const n = nearest<f32>(x * LOG2E);
  const r = (x - n * LN2_HI) - n * LN2_LO;
  const q = E0 + r * (E1 + r * (E2 + r * (E3 + r * E4)));
  const p: f32 = 1.0 + (r + r * r * q);
  // 2^n in two halves so that n = 128 overflows to +inf and n < -126 underflows gradually.
  const ni = <i32>n;
  const n1 = ni >> 1;
  const n2 = ni - n1;
  return p * reinterpret<f32>((n1 + 127) << 23) * reinterpret<f32>((n2 + 127) << 23);
}

/** 1 / (1 + e^-x). */
// @ts-ignore: decorator
@inline export function sigmoid_f32(x: f32): f32 {
  return <f32>1.0 / (<f32>1.0 + exp_f32(-x));
}

/** tanh x. */
// @ts-ignore: decorator
@inline export function tanh_f32(x: f32): f32 {
  const ax = abs<f32>(x);
  if (ax < TANH_SMALL) {
    const x2 = x * x;
    return x + x * x2 * (T0 + x2 * (T1 + x2 * (T2 + x2 * (T3 + x2 * T4))));
  }
  const t: f32 = <f32>1.0 - <f32>2.0 / (exp_f32(ax + ax) + <f32>1.0);
  return copysign<f32>(t, x);
}

/** exp(-z^2) R(t(z)) = erfc z for z >= ERF_SMALL (z = +inf gives 0). */
// @ts-ignore: decorator
@inline function erfc_tail_f32(z: f32): f32 {
  const t: f32 = <f32>1.0 / (<f32>1.0 + <f32>0.5 * z);
  const r = Q0 + t * (Q1 + t * (Q2 + t * (Q3 + t * (Q4 + t * (Q5 + t * (Q6 + t * (Q7 + t * Q8)))))));
  return exp_f32(-(z * z)) * r;
}

/** x (P0 + P1 x^2 + ...) = erf x for |x| < ERF_SMALL. */
// @ts-ignore: decorator
@inline function erf_small_f32(x: f32): f32 {
  const x2 = x * x;
  return x * (P0 + x2 * (P1 + x2 * (P2 + x2 * (P3 + x2 * (P4 + x2 * P5)))));
}

/** erf x. */
// @ts-ignore: decorator
@inline export function erf_f32(x: f32): f32 {
  const ax = abs<f32>(x);
  if (ax < ERF_SMALL) return erf_small_f32(x);
  return copysign<f32>(<f32>1.0 - erfc_tail_f32(ax), x);
}

/** erfc x = 1 - erf x, accurate in relative terms for large positive x. */
// @ts-ignore: decorator
@inline export function erfc_f32(x: f32): f32 {
  const ax = abs<f32>(x);
  if (ax < ERF_SMALL) return <f32>1.0 - erf_small_f32(x);
  const t = erfc_tail_f32(ax);
  return x < 0 ? <f32>2.0 - t : t;
}

/** ReLU; max(x, 0) keeps NaN. */
// @ts-ignore: decorator
@inline export function relu_f32(x: f32): f32 {
  return x < 0 ? <f32>0.0 : x;
}

/** GELU, erf form: x Phi(x) = x/2 erfc(-x / sqrt 2). */
// @ts-ignore: decorator
@inline export function gelu_f32(x: f32): f32 {
  return <f32>0.5 * x * erfc_f32(-x * SQRT1_2);
}

/** GELU, tanh form: x/2 (1 + tanh u) = x sigmoid(2u), u = sqrt(2/pi)(x + 0.044715 x^3). */
// @ts-ignore: decorator
@inline export function gelu_tanh_f32(x: f32): f32 {
  const x3 = x * x * x;
  const u2 = GELU_TANH_2C * (GELU_TANH_A * x3 + x);
  return x / (<f32>1.0 + exp_f32(-u2));
}

/** SiLU (swish): x sigmoid(x). */
// @ts-ignore: decorator
@inline export function silu_f32(x: f32): f32 {
  return x / (<f32>1.0 + exp_f32(-x));
}

/** The activation `code` (ACT_*) applied to x; unknown codes act as ACT_NONE. */
// @ts-ignore: decorator
@inline export function act_f32(x: f32, code: i32): f32 {
  if (code == ACT_RELU) return relu_f32(x);
  if (code == ACT_GELU) return gelu_f32(x);
  if (code == ACT_GELU_TANH) return gelu_tanh_f32(x);
  if (code == ACT_SILU) return silu_f32(x);
  return x;
}

// ---------------------------------------------------------------- SIMD (same formulas)

/** e^x per lane. */
// @ts-ignore: decorator
@inline export function exp_f32x4(x: v128): v128 {
  // f32x4.min/max propagate NaN, and a NaN lane stays NaN through the polynomial.
  x = f32x4.min(f32x4.max(x, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let q = madd(r, f32x4.splat(E4), f32x4.splat(E3));
  q = madd(r, q, f32x4.splat(E2));
  q = madd(r, q, f32x4.splat(E1));
  q = madd(r, q, f32x4.splat(E0));
  const p = f32x4.add(f32x4.splat(1.0), madd(f32x4.mul(r, r), q, r));
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const bias = i32x4.splat(127);
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/** 1 / (1 + e^-x) per lane. */
// @ts-ignore: decorator
@inline export function sigmoid_f32x4(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, exp_f32x4(f32x4.neg(x))));
}

/** tanh x per lane. */
// @ts-ignore: decorator
@inline export function tanh_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const x2 = f32x4.mul(x, x);
  let p = madd(x2, f32x4.splat(T4), f32x4.splat(T3));
  p = madd(x2, p, f32x4.splat(T2));
  p = madd(x2, p, f32x4.splat(T1));
  p = madd(x2, p, f32x4.splat(T0));
  const small = madd(f32x4.mul(x, x2), p, x);
  const one = f32x4.splat(1.0);
  const t = f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(exp_f32x4(f32x4.add(ax, ax)), one)));
  const sign = i32x4.splat(0x80000000);
  const large = v128.or(t, v128.and(x, sign));
  return v128.bitselect(small, large, f32x4.lt(ax, f32x4.splat(TANH_SMALL)));
}

// @ts-ignore: decorator
@inline function erfc_tail_f32x4(z: v128): v128 {
  const one = f32x4.splat(1.0);
  const t = f32x4.div(one, madd(f32x4.splat(0.5), z, one));
  let r = madd(t, f32x4.splat(Q8), f32x4.splat(Q7));
  r = madd(t, r, f32x4.splat(Q6));
  r = madd(t, r, f32x4.splat(Q5));
  r = madd(t, r, f32x4.splat(Q4));
  r = madd(t, r, f32x4.splat(Q3));
  r = madd(t, r, f32x4.splat(Q2));
  r = madd(t, r, f32x4.splat(Q1));
  r = madd(t, r, f32x4.splat(Q0));
  return f32x4.mul(exp_f32x4(f32x4.neg(f32x4.mul(z, z))), r);
}

// @ts-ignore: decorator
@inline function erf_small_f32x4(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  let p = madd(x2, f32x4.splat(P5), f32x4.splat(P4));
  p = madd(x2, p, f32x4.splat(P3));
  p = madd(x2, p, f32x4.splat(P2));
  p = madd(x2, p, f32x4.splat(P1));
  p = madd(x2, p, f32x4.splat(P0));
  return f32x4.mul(x, p);
}

/** erf x per lane. */
// @ts-ignore: decorator
@inline export function erf_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const large = v128.or(f32x4.sub(f32x4.splat(1.0), erfc_tail_f32x4(ax)), v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(erf_small_f32x4(x), large, f32x4.lt(ax, f32x4.splat(ERF_SMALL)));
}

/** erfc x per lane (relative accuracy kept for large x). */
// @ts-ignore: decorator
@inline export function erfc_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const tail = erfc_tail_f32x4(ax);
  const large = v128.bitselect(f32x4.sub(f32x4.splat(2.0), tail), tail, f32x4.lt(x, f32x4.splat(0.0)));
  const small = f32x4.sub(f32x4.splat(1.0), erf_small_f32x4(x));
  return v128.bitselect(small, large, f32x4.lt(ax, f32x4.splat(ERF_SMALL)));
}

/** ReLU per lane; NaN lanes stay NaN. */
// @ts-ignore: decorator
@inline export function relu_f32x4(x: v128): v128 {
  return v128.andnot(x, f32x4.lt(x, f32x4.splat(0.0)));
}

/** GELU (erf form) per lane. */
// @ts-ignore: decorator
@inline export function gelu_f32x4(x: v128): v128 {
  const e = erfc_f32x4(f32x4.mul(x, f32x4.splat(-SQRT1_2)));
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), e);
}

/** GELU (tanh form) per lane. */
// @ts-ignore: decorator
@inline export function gelu_tanh_f32x4(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const u2 = f32x4.mul(f32x4.splat(GELU_TANH_2C), madd(f32x4.splat(GELU_TANH_A), x3, x));
  return f32x4.div(x, f32x4.add(f32x4.splat(1.0), exp_f32x4(f32x4.neg(u2))));
}

/** SiLU per lane. */
// @ts-ignore: decorator
@inline export function silu_f32x4(x: v128): v128 {
  return f32x4.div(x, f32x4.add(f32x4.splat(1.0), exp_f32x4(f32x4.neg(x))));
}

/** The activation `code` (ACT_*) per lane; unknown codes act as ACT_NONE. */
// @ts-ignore: decorator
@inline export function act_f32x4(x: v128, code: i32): v128 {
  if (code == ACT_RELU) return relu_f32x4(x);
  if (code == ACT_GELU) return gelu_f32x4(x);
  if (code == ACT_GELU_TANH) return gelu_tanh_f32x4(x);
  if (code == ACT_SILU) return silu_f32x4(x);
  return x;
}

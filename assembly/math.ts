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
import { f16_round } from "./q_pack";
import { madd } from "./common";

/** Activation codes (low byte of the GEMM `flags`), as in src/kernels/exports.ts. */
export const ACT_NONE: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_GELU: i32 = 2;
export const ACT_GELU_TANH: i32 = 3;
export const ACT_SILU: i32 = 4;
/** GELU as ggml's CPU backend evaluates it (gelu_f16_f32): for GGUF models, to match llama.cpp. */
export const ACT_GELU_F16: i32 = 5;

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

/**
 * GELU as ggml's CPU backend computes it, by a table of halves: the tanh form at f16(x), rounded
 * to f16; x from 10 up, 0 from -10 down. Rounding a half-ulp apart from glibc's tanhf is rare.
 */
// @ts-ignore: decorator
@inline export function gelu_f16_f32(x: f32): f32 {
  if (x <= -10) return 0;
  if (x >= 10) return x;
  return f16_round(gelu_tanh_f32(f16_round(x)));
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
  if (code == ACT_GELU_F16) return gelu_f16_f32(x);
  return x;
}

// ---------------------------------------------------------------- SIMD (same formulas)
//
// Lowering costs under V8 (x64) that shape the code below: f32x4.min/max take ~7 instructions
// each (NaN and -0 rules) while pmin/pmax are one, and pmax(x, lo) = x < lo ? lo : x keeps a
// NaN x, so clamps are written with the NaN lane first; i32x4.trunc_sat_f32x4_s is a long
// sequence, so n = round(y) comes from the magic-number add (y + 1.5 2^23 rounds to nearest
// even, as f32.nearest does, for |y| < 2^22) and its integer bits are n plus a constant; and
// V8 rebuilds every v128.const at each use (3 instructions), so the constants are splat-loaded
// from the data segment MATH_K (one load each). The values are those of the scalar forms, so
// the strict build stays bit-identical to them. Measured per element in f32_act's loops (65536
// floats, Node 20, CPU time, strict / relaxed): gelu 5.2 / 4.7 ns -> 2.7 / 2.2 ns, silu
// 2.9 / 2.6 -> 1.07 / 0.88; the GEMM GELU epilogue 5.7-6.6 / 5.1-5.5 -> 2.8-3.1 / 1.8-2.3.

// 1.5 * 2^23: y + ROUND_MAGIC - ROUND_MAGIC = nearest(y), and the bits of y + ROUND_MAGIC are
// 0x4b400000 + nearest(y); those of ROUND_MAGIC - 254 are 0x4b400000 - 254.
const ROUND_MAGIC: f32 = 12582912.0;

/** Every SIMD constant, splat-loaded by `k(index)`. */
const MATH_K = memory.data<f32>([
  EXP_MIN, EXP_MAX, LOG2E, ROUND_MAGIC, -LN2_HI, -LN2_LO, E0, E1, //  0..7
  E2, E3, E4, 1.0, 2.0, 0.5, 0.0, TANH_SMALL, //                    8..15
  T0, T1, T2, T3, T4, ERF_SMALL, -SQRT1_2, GELU_TANH_2C, //        16..23
  GELU_TANH_A, P0, P1, P2, P3, P4, P5, Q0, //                      24..31
  Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8, //                               32..39
  -0.0, ROUND_MAGIC - 254.0, //                                     40 (sign bit), 41 (bits 0x4b400000 - 254)
], 16);
const K_EXP_MIN = 0, K_EXP_MAX = 1, K_LOG2E = 2, K_MAGIC = 3, K_NEG_LN2_HI = 4, K_NEG_LN2_LO = 5;
const K_E0 = 6, K_E1 = 7, K_E2 = 8, K_E3 = 9, K_E4 = 10, K_ONE = 11, K_TWO = 12, K_HALF = 13, K_ZERO = 14;
const K_TANH_SMALL = 15, K_T0 = 16, K_T1 = 17, K_T2 = 18, K_T3 = 19, K_T4 = 20;
const K_ERF_SMALL = 21, K_NEG_SQRT1_2 = 22, K_GELU_TANH_2C = 23, K_GELU_TANH_A = 24;
const K_P0 = 25, K_P1 = 26, K_P2 = 27, K_P3 = 28, K_P4 = 29, K_P5 = 30;
const K_Q0 = 31, K_Q1 = 32, K_Q2 = 33, K_Q3 = 34, K_Q4 = 35, K_Q5 = 36, K_Q6 = 37, K_Q7 = 38, K_Q8 = 39;
const K_SIGN = 40, K_EXP_BIAS = 41;

/** Constant `i` of MATH_K in every lane. */
// @ts-ignore: decorator
@inline function k(i: i32): v128 {
  return v128.load32_splat(MATH_K + (<usize>i << 2));
}

/** e^x per lane. */
// @ts-ignore: decorator
@inline export function exp_f32x4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, k(K_EXP_MIN)), k(K_EXP_MAX)); // NaN stays NaN
  const magic = k(K_MAGIC);
  const b = f32x4.add(f32x4.mul(x, k(K_LOG2E)), magic);
  const n = f32x4.sub(b, magic);
  // x + n (-LN2_HI) is x - n LN2_HI exactly (strict build); relaxed fuses it (more accurate).
  const r = madd(n, k(K_NEG_LN2_LO), madd(n, k(K_NEG_LN2_HI), x));
  let q = madd(r, k(K_E4), k(K_E3));
  q = madd(r, q, k(K_E2));
  q = madd(r, q, k(K_E1));
  q = madd(r, q, k(K_E0));
  const p = f32x4.add(k(K_ONE), madd(f32x4.mul(r, r), q, r));
  // m = n + 254 (even), so m >> 1 = n1 + 127 and m - (m >> 1) = n2 + 127 (n1 = n >> 1, n2 = n - n1).
  const m = i32x4.sub(b, k(K_EXP_BIAS));
  const e1 = i32x4.shr_s(m, 1);
  const e2 = i32x4.sub(m, e1);
  return f32x4.mul(f32x4.mul(p, i32x4.shl(e1, 23)), i32x4.shl(e2, 23));
}

/** 1 / (1 + e^-x) per lane. */
// @ts-ignore: decorator
@inline export function sigmoid_f32x4(x: v128): v128 {
  const one = k(K_ONE);
  return f32x4.div(one, f32x4.add(one, exp_f32x4(f32x4.neg(x))));
}

/** tanh x per lane. */
// @ts-ignore: decorator
@inline export function tanh_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const x2 = f32x4.mul(x, x);
  let p = madd(x2, k(K_T4), k(K_T3));
  p = madd(x2, p, k(K_T2));
  p = madd(x2, p, k(K_T1));
  p = madd(x2, p, k(K_T0));
  const small = madd(f32x4.mul(x, x2), p, x);
  const one = k(K_ONE);
  const t = f32x4.sub(one, f32x4.div(k(K_TWO), f32x4.add(exp_f32x4(f32x4.add(ax, ax)), one)));
  const large = v128.or(t, v128.and(x, k(K_SIGN)));
  return v128.bitselect(small, large, f32x4.lt(ax, k(K_TANH_SMALL)));
}

// @ts-ignore: decorator
@inline function erfc_tail_f32x4(z: v128): v128 {
  const one = k(K_ONE);
  const t = f32x4.div(one, madd(k(K_HALF), z, one));
  let r = madd(t, k(K_Q8), k(K_Q7));
  r = madd(t, r, k(K_Q6));
  r = madd(t, r, k(K_Q5));
  r = madd(t, r, k(K_Q4));
  r = madd(t, r, k(K_Q3));
  r = madd(t, r, k(K_Q2));
  r = madd(t, r, k(K_Q1));
  r = madd(t, r, k(K_Q0));
  return f32x4.mul(exp_f32x4(f32x4.neg(f32x4.mul(z, z))), r);
}

// @ts-ignore: decorator
@inline function erf_small_f32x4(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  let p = madd(x2, k(K_P5), k(K_P4));
  p = madd(x2, p, k(K_P3));
  p = madd(x2, p, k(K_P2));
  p = madd(x2, p, k(K_P1));
  p = madd(x2, p, k(K_P0));
  return f32x4.mul(x, p);
}

/** erf x per lane. */
// @ts-ignore: decorator
@inline export function erf_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const large = v128.or(f32x4.sub(k(K_ONE), erfc_tail_f32x4(ax)), v128.and(x, k(K_SIGN)));
  return v128.bitselect(erf_small_f32x4(x), large, f32x4.lt(ax, k(K_ERF_SMALL)));
}

/** erfc x per lane (relative accuracy kept for large x). */
// @ts-ignore: decorator
@inline export function erfc_f32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const tail = erfc_tail_f32x4(ax);
  const large = v128.bitselect(f32x4.sub(k(K_TWO), tail), tail, f32x4.lt(x, k(K_ZERO)));
  const small = f32x4.sub(k(K_ONE), erf_small_f32x4(x));
  return v128.bitselect(small, large, f32x4.lt(ax, k(K_ERF_SMALL)));
}

// ---------------------------------------------------------------- 2^y core (no range handling)
//
// For callers that know their argument's range and need speed more than exp_f32x4's full
// range: softmax's exp(t - max t) (y <= 0, clamped below at -127 by the caller) and the
// additive attention's tanh (0 <= y, clamped above at 40). 2^y = 2^n 2^f, n = round(y),
// |f| <= 1/2, 2^f by a degree-5 minimax polynomial (fitted for this file, Lawson's algorithm;
// f32 evaluation <= 1.8e-7 relative, exactly 1 at f = 0). Valid for y in [-127, 127]; y = -127
// gives exactly 0 (the 2^n factor is the bit pattern 0), so results below ~2^-126 flush to 0.
// A NaN y stays NaN. The caller forms y = x log2 e, whose rounding adds |y| 4e-8 relative.
// Constants are loaded from EXP2_K once per call and passed in, so V8 keeps them in registers
// across the caller's loop (a v128.const would be rebuilt at every use).

// 1.5 * 2^23 + 127: y + EXP2_MAGIC rounds y to an integer and holds n + 127 in the low mantissa
// bits, so shifting its bits left by 23 gives the f32 2^n directly.
const EXP2_MAGIC: f32 = 12583039.0;
// 2^f = 1 + f (X1 + X2 f + ... + X5 f^4) on |f| <= 1/2.
const X1: f32 = 0.693147004;
const X2: f32 = 0.240222424;
const X3: f32 = 0.0555073358;
const X4: f32 = 0.00967151206;
const X5: f32 = 0.00132647157;
/**
 * [EXP2_MAGIC, X5, X4, X3, X2, X1, 1, -127]: the exp2_core_f32x4 arguments magic, c5..c1, one,
 * and the lowest y, at byte offsets EXP2_K_MAGIC, EXP2_K_C5 ... EXP2_K_LO (for v128.load32_splat).
 */
export const EXP2_K = memory.data<f32>([EXP2_MAGIC, X5, X4, X3, X2, X1, 1.0, -127.0], 16);
export const EXP2_K_MAGIC = 0;
export const EXP2_K_C5 = 4;
export const EXP2_K_C4 = 8;
export const EXP2_K_C3 = 12;
export const EXP2_K_C2 = 16;
export const EXP2_K_C1 = 20;
export const EXP2_K_ONE = 24;
export const EXP2_K_LO = 28;

/** 2^y per lane for y in [-127, 127] (see above); constants as loaded from EXP2_K. */
// @ts-ignore: decorator
@inline export function exp2_core_f32x4(y: v128, magic: v128, c5: v128, c4: v128, c3: v128, c2: v128, c1: v128, one: v128): v128 {
  const b = f32x4.add(y, magic);
  const f = f32x4.sub(y, f32x4.sub(b, magic));
  let p = madd(f, c5, c4);
  p = madd(f, p, c3);
  p = madd(f, p, c2);
  p = madd(f, p, c1);
  p = madd(f, p, one);
  // (n + 127) << 23 = 2^n: the shift drops EXP2_MAGIC's upper bits; n = -127 gives exactly 0.0.
  return f32x4.mul(p, i32x4.shl(b, 23));
}

/** Scalar form of exp2_core_f32x4, the same formula (for loop tails). */
// @ts-ignore: decorator
@inline export function exp2_core_f32(y: f32): f32 {
  const b = y + EXP2_MAGIC;
  const f = y - (b - EXP2_MAGIC);
  const p: f32 = <f32>1.0 + f * (X1 + f * (X2 + f * (X3 + f * (X4 + f * X5))));
  return p * reinterpret<f32>(reinterpret<i32>(b) << 23);
}

/** ReLU per lane; NaN lanes stay NaN. */
// @ts-ignore: decorator
@inline export function relu_f32x4(x: v128): v128 {
  return v128.andnot(x, f32x4.lt(x, k(K_ZERO)));
}

/** GELU (erf form) per lane. */
// @ts-ignore: decorator
@inline export function gelu_f32x4(x: v128): v128 {
  const e = erfc_f32x4(f32x4.mul(x, k(K_NEG_SQRT1_2)));
  return f32x4.mul(f32x4.mul(k(K_HALF), x), e);
}

/** GELU (tanh form) per lane. */
// @ts-ignore: decorator
@inline export function gelu_tanh_f32x4(x: v128): v128 {
  const x3 = f32x4.mul(f32x4.mul(x, x), x);
  const u2 = f32x4.mul(k(K_GELU_TANH_2C), madd(k(K_GELU_TANH_A), x3, x));
  return f32x4.div(x, f32x4.add(k(K_ONE), exp_f32x4(f32x4.neg(u2))));
}

/** f16_round per lane, for |v| < 65504 (no overflow to infinity: gelu_f16_f32x4 discards those lanes). */
// @ts-ignore: decorator
@inline function f16_round_f32x4(v: v128): v128 {
  const tiny = f32x4.lt(f32x4.abs(v), f32x4.splat(6.103515625e-5));
  const sub = f32x4.div(f32x4.nearest(f32x4.mul(v, f32x4.splat(16777216))), f32x4.splat(16777216));
  const odd = v128.and(i32x4.shr_u(v, 13), i32x4.splat(1));
  const normal = v128.and(i32x4.add(i32x4.add(v, i32x4.splat(0xfff)), odd), i32x4.splat(0xffffe000));
  return v128.bitselect(sub, normal, tiny);
}

/** gelu_f16_f32 per lane. */
// @ts-ignore: decorator
@inline export function gelu_f16_f32x4(x: v128): v128 {
  const r = f16_round_f32x4(gelu_tanh_f32x4(f16_round_f32x4(x)));
  return v128.andnot(v128.bitselect(x, r, f32x4.ge(x, f32x4.splat(10))), f32x4.le(x, f32x4.splat(-10)));
}

/** SiLU per lane. */
// @ts-ignore: decorator
@inline export function silu_f32x4(x: v128): v128 {
  return f32x4.div(x, f32x4.add(k(K_ONE), exp_f32x4(f32x4.neg(x))));
}

/** The activation `code` (ACT_*) per lane; unknown codes act as ACT_NONE. */
// @ts-ignore: decorator
@inline export function act_f32x4(x: v128, code: i32): v128 {
  if (code == ACT_RELU) return relu_f32x4(x);
  if (code == ACT_GELU) return gelu_f32x4(x);
  if (code == ACT_GELU_TANH) return gelu_tanh_f32x4(x);
  if (code == ACT_SILU) return silu_f32x4(x);
  if (code == ACT_GELU_F16) return gelu_f16_f32x4(x);
  return x;
}

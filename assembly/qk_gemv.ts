// K-quant GEMV / GEMM: y = act(x . W^T + bias) [+ y] with W in Q4_K, Q5_K or Q6_K exactly as the
// GGUF file stores it (qk_blocks.ts; no repack, no requantization), and x quantized by
// q8k_quantize_rows (q_gemv.ts; records of XQ_BYTES per 32 values, see q_pack.ts).
//
// Activations: llama.cpp's Q8_K rounding (one scale per 256, ggml's quantize_row_q8_K_ref) in the
// q8_0 kernels' records, the scale repeated in the 8 records of a super-block: every integer dot
// is the one llama.cpp computes, so GGUF k-quant models follow its greedy path
// (tests/formats/gguf_llamacpp.test.ts), and the record's sum of quants gives Q4_K / Q5_K their
// min term (dmin m sum x).
//
// Rows of W four at a time (any row range is a weight, so threads split N anywhere). Per row and
// super-block the sums are exact integers: I = sum_j sc_j sum(q x_j) with each sub-block scale
// folded into the widening dot (relaxed: as its i16 operand; strict: one i32 multiply), and for
// Q4_K / Q5_K M = sum_j m_j sum(x_j), one i16 dot of the 8 mins with the 8 records' sums. The 4
// rows' I (and M) are transposed into one vector and take one f32 step per super-block:
// acc += I d dx, macc += M dmin dx (the 4 rows' f16 d / dmin widened together), acc - macc at the end.
//   strict SIMD: quants widened to i16 against x's i16 copy, i32x4.dot_i16x8_s.
//   relaxed SIMD: i16x8.relaxed_dot_i8x16_i7x16_s with the unsigned quants (0..15, 0..31, 0..63:
//                 the 7-bit operand, so the result is exact) and x signed; pair sums added in i16
//                 (at most 4 x 128 x 31 for Q5_K), then the widening dot with the scale.
//   Q6_K's quants stay unsigned too: its offset, 32 sum_g sc_g sum(x_g) over the 16 groups, is two
//   i16 dots of the scales with x's per-16 sums (stored in the records by the quantizer).
//   The scalar twin computes the same integers and the strict build's f32 steps in its order, so
//   the two agree to the bit; relaxed differs by its fused madd only.
// What made it fast on V8 (bench/results/quant.md, relaxed 768x768 q4_k 58 -> 35 us CPU time,
// 0.85-1.95x q8_0's speed where it was 0.36-0.51x; that run at load 12-15): one f32 step per
// super-block instead of per sub-block; SIMD constants loaded from a data segment (KC) instead of
// v128.const, which V8 rebuilds at every use; each row, and each half of a super-block, behind its
// own always-taken branch: within one basic block V8 issues every load first and spills (seen in
// --print-wasm-code; the strict build gained the most). Before: one or two rows per pass and an
// f32 step per sub-block.
import { madd } from "./common";
import { act_f32 } from "./math";
import { GEMM_ACCUMULATE } from "./pack";
import { QK, XQ_BYTES } from "./q_pack";
import { Q4_K_BYTES, Q5_K_BYTES, Q6_K_BYTES, QK_K } from "./qk_blocks";

const Q4K: i32 = 4;
const Q5K: i32 = 5;
const Q6K: i32 = 6;

// SIMD constants, loaded from this data segment (one load each, often folded into the operation):
// V8 materializes every v128.const at each use (3-4 instructions), which cost more than the arithmetic.
const KC = memory.data<u32>([
  0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f, // 0: scales_mins, low bits
  0, 0x30303030, 0, 0x30303030, //                  16: scales_mins, top 2 bits
  0x0f0f0f0f, 0x10101010, 0x30303030, 0x20202020, // 32..44: nibble mask, Q5_K bit 4, Q6_K bits 4-5, Q6_K's 32
  0x7fff, 0x7c00, 0x3ff, 0x8000, //                 48..60: f16x4 masks
  0x38000000, 0x33800000, //                        64: exponent rebias 112 << 23, 68: 2^-24
], 16);
const KC_NIBBLE: usize = 32, KC_BIT4: usize = 36, KC_TOP2: usize = 40, KC_32: usize = 44;
const KC_F16_MAG: usize = 48, KC_F16_EXP: usize = 52, KC_F16_MANT: usize = 56, KC_F16_SIGN: usize = 60, KC_REBIAS: usize = 64, KC_2M24: usize = 68;

/** The u32 at byte off of KC in every lane. */
// @ts-ignore: decorator
@inline function kc(off: usize): v128 {
  return v128.load32_splat(KC + off);
}

/** Strict: 32 unsigned quants (v0: values 0..15, v1: 16..31) against one record's i16 x, as partial sums. */
// @ts-ignore: decorator
@inline function sdot_u(v0: v128, v1: v128, xr: usize): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(v0), v128.load(xr)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(v0), v128.load(xr, 16))),
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(v1), v128.load(xr, 32)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(v1), v128.load(xr, 48))),
  );
}

/**
 * The integer dot of 32 unsigned quants (<= 31) with one record of x, times the sub-block's scale,
 * as partial sums: relaxed takes the scale in every i16 lane (s16, the widening dot's second
 * operand), strict in every i32 lane (s32). The unused one is dead code to the optimizer.
 */
// @ts-ignore: decorator
@inline function udot_scaled(v0: v128, v1: v128, xr: usize, s16: v128, s32: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    // Pair sums at most 4 x 31 x 127: both halves add in i16 before the widening dot.
    const s = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xr, 64), v0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xr, 80), v1));
    return i32x4.dot_i16x8_s(s, s16);
  }
  return i32x4.mul(sdot_u(v0, v1, xr), s32);
}

/**
 * Q4_K / Q5_K: the 8 6-bit scales (lanes 0..7) and 8 mins (lanes 8..15) of the 12 bytes at s,
 * unpacked at once: j < 4 from the low 6 bits of bytes j / j + 4; j >= 4 from the nibbles of byte
 * j + 4 and the top 2 bits of bytes j - 4 / j (ggml's get_scale_min_k4).
 */
// @ts-ignore: decorator
@inline function scales_mins(s: usize): v128 {
  // As u32 words A, B, C (bytes 0-3, 4-7, 8-11): (A, C, B, C >> 4) masked to 6 / 4 bits, or'd with
  // (-, A >> 2, -, B >> 2) masked to bits 4-5 of each byte (a byte's top 2 bits moved down by 2).
  const v = v128.load(s);
  const lo = v128.and(v128.shuffle<i32>(v, i32x4.shr_u(v, 4), 0, 2, 1, 6), v128.load(KC));
  const hi = v128.and(i32x4.shr_u(v128.shuffle<i32>(v, v, 0, 0, 0, 1), 2), v128.load(KC, 16));
  return v128.or(lo, hi);
}

/** Q5_K: the fifth bit of sub-block j (bit j of each qh byte) as 16 (bit 4), else 0. */
// @ts-ignore: decorator
@inline function bit5(h: v128, j: i32): v128 {
  // i16 shifts: the bits that cross into the other byte land below or above bit 4, masked off.
  return v128.and(j <= 4 ? i16x8.shl(h, <u32>(4 - j)) : i16x8.shr_u(h, <u32>(j - 4)), kc(KC_BIT4));
}

/**
 * Q4_K / Q5_K: sub-blocks 2c (low nibbles of the 32 bytes at q) and 2c + 1 (high) of one
 * super-block against records xr and xr + 1, each times its scale (s16a / s32a, s16b / s32b),
 * added to the partial sums iacc.
 */
// @ts-ignore: decorator
@inline function pair45(iacc: v128, hi5: bool, q: usize, h0: v128, h1: v128, c: i32, xr: usize, s16a: v128, s32a: v128, s16b: v128, s32b: v128): v128 {
  const low = kc(KC_NIBBLE);
  const u0 = v128.load(q), u1 = v128.load(q, 16);
  let a0 = v128.and(u0, low), a1 = v128.and(u1, low);
  // High nibbles by an i16 shift and the same mask (i8x16.shr_u is a shift and a mask on x64).
  let b0 = v128.and(i16x8.shr_u(u0, 4), low), b1 = v128.and(i16x8.shr_u(u1, 4), low);
  if (hi5) {
    a0 = v128.or(a0, bit5(h0, 2 * c));
    a1 = v128.or(a1, bit5(h1, 2 * c));
    b0 = v128.or(b0, bit5(h0, 2 * c + 1));
    b1 = v128.or(b1, bit5(h1, 2 * c + 1));
  }
  iacc = i32x4.add(iacc, udot_scaled(a0, a1, xr, s16a, s32a));
  return i32x4.add(iacc, udot_scaled(b0, b1, xr + XQ_BYTES, s16b, s32b));
}

/** Lane j of 8 i16 lanes in every i16 lane. */
// @ts-ignore: decorator
@inline function lane16(v: v128, j: i32): v128 {
  return j == 0 ? v128.shuffle<i16>(v, v, 0, 0, 0, 0, 0, 0, 0, 0)
    : j == 1 ? v128.shuffle<i16>(v, v, 1, 1, 1, 1, 1, 1, 1, 1)
    : j == 2 ? v128.shuffle<i16>(v, v, 2, 2, 2, 2, 2, 2, 2, 2)
    : j == 3 ? v128.shuffle<i16>(v, v, 3, 3, 3, 3, 3, 3, 3, 3)
    : j == 4 ? v128.shuffle<i16>(v, v, 4, 4, 4, 4, 4, 4, 4, 4)
    : j == 5 ? v128.shuffle<i16>(v, v, 5, 5, 5, 5, 5, 5, 5, 5)
    : j == 6 ? v128.shuffle<i16>(v, v, 6, 6, 6, 6, 6, 6, 6, 6)
    : v128.shuffle<i16>(v, v, 7, 7, 7, 7, 7, 7, 7, 7);
}

/** Lane j of 4 i32 lanes in every lane. */
// @ts-ignore: decorator
@inline function lane32(v: v128, j: i32): v128 {
  return j == 0 ? v128.shuffle<i32>(v, v, 0, 0, 0, 0) : j == 1 ? v128.shuffle<i32>(v, v, 1, 1, 1, 1) : j == 2 ? v128.shuffle<i32>(v, v, 2, 2, 2, 2) : v128.shuffle<i32>(v, v, 3, 3, 3, 3);
}

/**
 * Q4_K (hi5 false) or Q5_K: one super-block at w against the 8 records from xr, bsum the 8
 * records' sums of quants (i16 lanes). Returns (I, I, M, M) half reduced: lanes 0 + 1 sum to
 * I = sum_j sc_j sum(q x), lanes 2 + 3 to M = sum_j m_j sum(x), both exact.
 */
// @ts-ignore: decorator
@inline function sb45(hi5: bool, w: usize, xr: usize, bsum: v128): v128 {
  const sm = scales_mins(w + 4);
  const sc = i16x8.extend_low_i8x16_u(sm);
  const scA = i32x4.extend_low_i16x8_u(sc), scB = i32x4.extend_high_i16x8_u(sc);
  const q = w + (hi5 ? 48 : 16);
  const h0 = hi5 ? v128.load(w, 16) : i8x16.splat(0);
  const h1 = hi5 ? v128.load(w, 32) : i8x16.splat(0);
  let iacc = i32x4.splat(0);
  iacc = pair45(iacc, hi5, q, h0, h1, 0, xr, lane16(sc, 0), lane32(scA, 0), lane16(sc, 1), lane32(scA, 1));
  if (q) iacc = pair45(iacc, hi5, q + 32, h0, h1, 1, xr + 2 * XQ_BYTES, lane16(sc, 2), lane32(scA, 2), lane16(sc, 3), lane32(scA, 3));
  if (q) iacc = pair45(iacc, hi5, q + 64, h0, h1, 2, xr + 4 * XQ_BYTES, lane16(sc, 4), lane32(scB, 0), lane16(sc, 5), lane32(scB, 1));
  if (q) iacc = pair45(iacc, hi5, q + 96, h0, h1, 3, xr + 6 * XQ_BYTES, lane16(sc, 6), lane32(scB, 2), lane16(sc, 7), lane32(scB, 3));
  const macc = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(sm), bsum);
  return i32x4.add(v128.shuffle<i32>(iacc, macc, 0, 1, 4, 5), v128.shuffle<i32>(iacc, macc, 2, 3, 6, 7));
}

/** Q6_K: 32 unsigned quants (0..63; v0 values 0..15, v1 16..31) with int8 scales sc0, sc1 against one record: sum sc q x, partial sums. */
// @ts-ignore: decorator
@inline function dot6(v0: v128, v1: v128, sc0: i32, sc1: i32, xr: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    // Pair sums within 2 x 63 x 127: exact in i16.
    const s0 = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xr, 64), v0);
    const s1 = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xr, 80), v1);
    return i32x4.add(i32x4.dot_i16x8_s(s0, i16x8.splat(<i16>sc0)), i32x4.dot_i16x8_s(s1, i16x8.splat(<i16>sc1)));
  }
  const p0 = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(v0), v128.load(xr)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(v0), v128.load(xr, 16)));
  const p1 = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(v1), v128.load(xr, 32)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(v1), v128.load(xr, 48)));
  return i32x4.add(i32x4.mul(p0, i32x4.splat(sc0)), i32x4.mul(p1, i32x4.splat(sc1)));
}

/**
 * The 16 per-16 sums of x of the 8 records from xr (group g: record g / 2, half g % 2, as Q6_K
 * numbers its scales), as i16 lanes: groups 0..7 in lo, 8..15 in hi. Each |sum| <= 16 x 127.
 */
// @ts-ignore: decorator
@inline function xsums16(xr: usize, hi: bool): v128 {
  const r = xr + (hi ? 4 * XQ_BYTES : 0);
  let v = v128.load32_zero(r, 104);
  v = v128.load32_lane(r, v, 1, 104 + XQ_BYTES);
  v = v128.load32_lane(r, v, 2, 104 + 2 * XQ_BYTES);
  return v128.load32_lane(r, v, 3, 104 + 3 * XQ_BYTES);
}

/**
 * Q6_K: the offset term of the super-block at w, 32 sum_g sc_g sum(x_g) over its 16 groups, as
 * partial sums: two i16 dots of the 16 scales with x's per-16 sums xs0 / xs1 (xsums16).
 */
// @ts-ignore: decorator
@inline function off6(w: usize, xs0: v128, xs1: v128): v128 {
  const scv = v128.load(w, 192);
  return i32x4.shl(i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(scv), xs0), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(scv), xs1)), 5);
}

/**
 * Q6_K: one super-block at w against the 8 records from xr: sum over its 16 groups of sc sum(q x)
 * with the quants unsigned, exact, as partial sums (off6 takes the offset 32 off).
 */
// @ts-ignore: decorator
@inline function sb6(w: usize, xr: usize): v128 {
  const low = kc(KC_NIBBLE);
  const top = kc(KC_TOP2);
  let iacc = i32x4.splat(0);
  for (let h = 0; h < 2; h++) {
    const ql = w + <usize>(64 * h);
    const qh = w + <usize>(128 + 32 * h);
    const sc = w + <usize>(192 + 8 * h);
    const x = xr + <usize>(4 * h) * XQ_BYTES;
    // Sub-blocks 0..3: low nibbles of ql[0..31], of ql[32..63], high nibbles of each; qh bits 2s, 2s+1 -> bits 4, 5
    // (i16 shifts: bits crossing into the other byte are masked off). Sub-blocks 2, 3 behind a branch
    // (always taken) that keeps V8 from loading everything first and spilling.
    const h0 = v128.load(qh), h1 = v128.load(qh, 16);
    const q00 = v128.or(v128.and(v128.load(ql), low), v128.and(i16x8.shl(h0, 4), top));
    const q01 = v128.or(v128.and(v128.load(ql, 16), low), v128.and(i16x8.shl(h1, 4), top));
    const q10 = v128.or(v128.and(v128.load(ql, 32), low), v128.and(i16x8.shl(h0, 2), top));
    const q11 = v128.or(v128.and(v128.load(ql, 48), low), v128.and(i16x8.shl(h1, 2), top));
    iacc = i32x4.add(iacc, dot6(q00, q01, <i32>load<i8>(sc), <i32>load<i8>(sc, 1), x));
    iacc = i32x4.add(iacc, dot6(q10, q11, <i32>load<i8>(sc, 2), <i32>load<i8>(sc, 3), x + XQ_BYTES));
    if (ql) {
      const g0 = v128.load(qh), g1 = v128.load(qh, 16);
      const q20 = v128.or(v128.and(i16x8.shr_u(v128.load(ql), 4), low), v128.and(g0, top));
      const q21 = v128.or(v128.and(i16x8.shr_u(v128.load(ql, 16), 4), low), v128.and(g1, top));
      const q30 = v128.or(v128.and(i16x8.shr_u(v128.load(ql, 32), 4), low), v128.and(i16x8.shr_u(g0, 2), top));
      const q31 = v128.or(v128.and(i16x8.shr_u(v128.load(ql, 48), 4), low), v128.and(i16x8.shr_u(g1, 2), top));
      iacc = i32x4.add(iacc, dot6(q20, q21, <i32>load<i8>(sc, 4), <i32>load<i8>(sc, 5), x + 2 * XQ_BYTES));
      iacc = i32x4.add(iacc, dot6(q30, q31, <i32>load<i8>(sc, 6), <i32>load<i8>(sc, 7), x + 3 * XQ_BYTES));
    }
  }
  return iacc;
}

/**
 * 4 IEEE halves (the low 16 bits of each i32 lane; higher bits ignored) as f32x4, exactly as
 * f16_to_f32, in integer steps: normals and exponent 31 (infinities, NaN payloads kept) by
 * rebiasing the bits (15 magnitude bits under f32's exponent, plus 112 once, or twice for 31),
 * subnormals as m 2^-24 from the integer m. Never an f32 subnormal operand (some x64 cores
 * take a microcode assist on each; the d / dmin of small weights are often f16 subnormals).
 */
// @ts-ignore: decorator
@inline function f16x4(h: v128): v128 {
  const e = v128.and(h, kc(KC_F16_EXP));
  let bits = i32x4.add(i32x4.shl(v128.and(h, kc(KC_F16_MAG)), 13), kc(KC_REBIAS));
  bits = i32x4.add(bits, v128.and(i32x4.eq(e, kc(KC_F16_EXP)), kc(KC_REBIAS)));
  const sub = f32x4.mul(f32x4.convert_i32x4_s(v128.and(h, kc(KC_F16_MANT))), kc(KC_2M24));
  const v = v128.bitselect(sub, bits, i32x4.eq(e, i32x4.splat(0)));
  return v128.or(v, i32x4.shl(v128.and(h, kc(KC_F16_SIGN)), 16));
}

/** The 8 records' sums of quants from xr on, as i16 lanes (each |sum| <= 32 x 127). */
// @ts-ignore: decorator
@inline function bsums(xr: usize): v128 {
  let v = i16x8.splat(0);
  v = v128.load16_lane(xr, v, 0, 100);
  v = v128.load16_lane(xr, v, 1, 100 + XQ_BYTES);
  v = v128.load16_lane(xr, v, 2, 100 + 2 * XQ_BYTES);
  v = v128.load16_lane(xr, v, 3, 100 + 3 * XQ_BYTES);
  v = v128.load16_lane(xr, v, 4, 100 + 4 * XQ_BYTES);
  v = v128.load16_lane(xr, v, 5, 100 + 5 * XQ_BYTES);
  v = v128.load16_lane(xr, v, 6, 100 + 6 * XQ_BYTES);
  return v128.load16_lane(xr, v, 7, 100 + 7 * XQ_BYTES);
}

/**
 * 4 rows of W (w0..w3; repeats allowed) of nsb super-blocks against one row of x records at xq:
 * the 4 dots, lane r for row r. Per super-block each row's integer sums are exact (sb45 / sb6),
 * the 4 rows' are transposed into one vector and take one f32 step: acc += I d dx (and, Q4_K /
 * Q5_K, macc += M dmin dx, the min term, subtracted at the end), the 4 rows' d and dmin read and
 * widened from f16 together.
 */
// @ts-ignore: decorator
@inline function rows4(type: i32, nsb: i32, xq: usize, w0: usize, w1: usize, w2: usize, w3: usize): v128 {
  const bsz: usize = type == Q4K ? Q4_K_BYTES : type == Q5K ? Q5_K_BYTES : Q6_K_BYTES;
  let acc = f32x4.splat(0), macc = f32x4.splat(0);
  let xr = xq;
  const xend = xq + <usize>nsb * 8 * XQ_BYTES;
  while (xr < xend) {
    const dx = v128.load32_splat(xr, 96);
    if (type == Q6K) {
      // Each row behind its own branch (V8 otherwise hoists all four rows' loads and spills; the
      // last group's repeated rows skip their work).
      let s0 = sb6(w0, xr);
      let s1 = s0, s2 = s0, s3 = s0;
      if (w1 != w0) s1 = sb6(w1, xr);
      if (w2 != w1) s2 = sb6(w2, xr);
      else s2 = s1;
      if (w3 != w2) s3 = sb6(w3, xr);
      else s3 = s2;
      // The offsets after the rows' dots: x's sums are not live across them (fewer spills).
      const xs0 = xsums16(xr, false), xs1 = xsums16(xr, true);
      s0 = i32x4.sub(s0, off6(w0, xs0, xs1));
      s1 = i32x4.sub(s1, off6(w1, xs0, xs1));
      s2 = i32x4.sub(s2, off6(w2, xs0, xs1));
      s3 = i32x4.sub(s3, off6(w3, xs0, xs1));
      const t0 = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 4, 1, 5), v128.shuffle<i32>(s0, s1, 2, 6, 3, 7));
      const t1 = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 4, 1, 5), v128.shuffle<i32>(s2, s3, 2, 6, 3, 7));
      const isum = i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
      let dh = i32x4.splat(0);
      dh = v128.load16_lane(w0, dh, 0, 208);
      dh = v128.load16_lane(w1, dh, 2, 208);
      dh = v128.load16_lane(w2, dh, 4, 208);
      dh = v128.load16_lane(w3, dh, 6, 208);
      acc = madd(f32x4.convert_i32x4_s(isum), f32x4.mul(f16x4(dh), dx), acc);
    } else {
      const bs = bsums(xr);
      // One row per branch, as for Q6_K.
      const r0 = sb45(type == Q5K, w0, xr, bs);
      let r1 = r0, r2 = r0, r3 = r0;
      if (w1 != w0) r1 = sb45(type == Q5K, w1, xr, bs);
      if (w2 != w1) r2 = sb45(type == Q5K, w2, xr, bs);
      else r2 = r1;
      if (w3 != w2) r3 = sb45(type == Q5K, w3, xr, bs);
      else r3 = r2;
      // (I0, I1, M0, M1) and (I2, I3, M2, M3), then I and M of the 4 rows.
      const p01 = i32x4.add(v128.shuffle<i32>(r0, r1, 0, 4, 2, 6), v128.shuffle<i32>(r0, r1, 1, 5, 3, 7));
      const p23 = i32x4.add(v128.shuffle<i32>(r2, r3, 0, 4, 2, 6), v128.shuffle<i32>(r2, r3, 1, 5, 3, 7));
      let dd = v128.load32_splat(w0);
      dd = v128.load32_lane(w1, dd, 1);
      dd = v128.load32_lane(w2, dd, 2);
      dd = v128.load32_lane(w3, dd, 3);
      acc = madd(f32x4.convert_i32x4_s(v128.shuffle<i32>(p01, p23, 0, 1, 4, 5)), f32x4.mul(f16x4(dd), dx), acc);
      macc = madd(f32x4.convert_i32x4_s(v128.shuffle<i32>(p01, p23, 2, 3, 6, 7)), f32x4.mul(f16x4(i32x4.shr_u(dd, 16)), dx), macc);
    }
    xr += 8 * XQ_BYTES;
    w0 += bsz;
    w1 += bsz;
    w2 += bsz;
    w3 += bsz;
  }
  return f32x4.sub(acc, macc);
}

/**
 * C (M x N, row stride ldc) = act(X . W^T + bias) [+ C]: M records rows of x at xq (q8_xq_bytes(K)
 * each) against W's N rows of K / 256 super-blocks at w.
 */
// @ts-ignore: decorator
@inline function qk_gemm(type: i32, m: i32, n: i32, k: i32, xq: usize, w: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  const nsb = k / QK_K;
  const bsz: usize = type == Q4K ? Q4_K_BYTES : type == Q5K ? Q5_K_BYTES : Q6_K_BYTES;
  const wrow = <usize>nsb * bsz;
  const xrow = <usize>(k / QK) * XQ_BYTES;
  const code = flags & 0xff;
  // Rows of W four at a time; the last group repeats its last row (only the rows that exist are stored).
  for (let j = 0; j < n; j += 4) {
    const cols = min(4, n - j);
    const w0 = w + <usize>j * wrow;
    const w1 = w + <usize>min(j + 1, n - 1) * wrow;
    const w2 = w + <usize>min(j + 2, n - 1) * wrow;
    const w3 = w + <usize>min(j + 3, n - 1) * wrow;
    let x = xq;
    let cp = c + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      const s = rows4(type, nsb, x, w0, w1, w2, w3);
      epilogue(f32x4.extract_lane(s, 0), cp, bias, j, code, flags);
      if (cols > 1) epilogue(f32x4.extract_lane(s, 1), cp + 4, bias, j + 1, code, flags);
      if (cols > 2) epilogue(f32x4.extract_lane(s, 2), cp + 8, bias, j + 2, code, flags);
      if (cols > 3) epilogue(f32x4.extract_lane(s, 3), cp + 12, bias, j + 3, code, flags);
      x += xrow;
      cp += <usize>ldc << 2;
    }
  }
}

/** Stores act(s + bias[j]) [+ *cp] at cp. */
// @ts-ignore: decorator
@inline function epilogue(s: f32, cp: usize, bias: usize, j: i32, code: i32, flags: i32): void {
  if (bias) s += load<f32>(bias + (<usize>j << 2));
  s = act_f32(s, code);
  if (flags & GEMM_ACCUMULATE) s += load<f32>(cp);
  store<f32>(cp, s);
}

/**
 * y (N) = act(W (N x K, Q4_K as stored) . x + bias) [+ y if GEMM_ACCUMULATE], x as q8_quantize_rows
 * made it. K a multiple of 256; bias 0 = none; y must not overlap the inputs. Any alignment of w.
 */
export function q4_k_gemv(n: i32, k: i32, xq: usize, w: usize, y: usize, bias: usize, flags: i32): void {
  qk_gemm(Q4K, 1, n, k, xq, w, y, 0, bias, flags);
}

/** q4_k_gemv for W in Q5_K. */
export function q5_k_gemv(n: i32, k: i32, xq: usize, w: usize, y: usize, bias: usize, flags: i32): void {
  qk_gemm(Q5K, 1, n, k, xq, w, y, 0, bias, flags);
}

/** q4_k_gemv for W in Q6_K. */
export function q6_k_gemv(n: i32, k: i32, xq: usize, w: usize, y: usize, bias: usize, flags: i32): void {
  qk_gemm(Q6K, 1, n, k, xq, w, y, 0, bias, flags);
}

/** C (M x N, stride ldc) = act(X . W^T + bias) [+ C], X as M records rows at xq; W Q4_K as stored. */
export function q4_k_gemm(m: i32, n: i32, k: i32, xq: usize, w: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qk_gemm(Q4K, m, n, k, xq, w, c, ldc, bias, flags);
}

/** q4_k_gemm for W in Q5_K. */
export function q5_k_gemm(m: i32, n: i32, k: i32, xq: usize, w: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qk_gemm(Q5K, m, n, k, xq, w, c, ldc, bias, flags);
}

/** q4_k_gemm for W in Q6_K. */
export function q6_k_gemm(m: i32, n: i32, k: i32, xq: usize, w: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qk_gemm(Q6K, m, n, k, xq, w, c, ldc, bias, flags);
}

// K-quant GEMV / GEMM: y = act(x . W^T + bias) [+ y] with W in Q4_K, Q5_K or Q6_K exactly as the
// GGUF file stores it (qk_blocks.ts; no repack, no requantization), and x quantized per block of 32
// by q8_quantize_rows (q_gemv.ts; records of XQ_BYTES, see q_pack.ts).
//
// Activations: the q8_0 kernels' records, not llama.cpp's Q8_K (one scale per 256). A scale per 32
// is finer (the activation error is at most max|x| / 254 of its own block of 32, not of 256), one
// quantization of x serves every weight type of a mixed file, and the record's sum of quants gives
// Q4_K / Q5_K their min term (dmin m sum x) for free. The price: one f32 multiply-add per 32 values
// and row, where Q8_K folds the 8 integer sub-block scales first and scales once per 256.
// Tried and dropped (2026-12-07): Q8_K-style records (i8 per 256, sums of 16, one f32 step per
// super-block) measured the same on relaxed (768x768 q4_k ~39 vs ~39 us), 20% slower on strict
// (widening x in the loop), and the Q4_K_M fixture's logit error went 0.017 -> 0.043.
// Where its time went (relaxed, 768x768 q4_k, by removing parts): the integer dots ~60%, the
// per-super-block scale/min unpacking and min term ~40%. Either way one row per pass reloads x for
// every row; q8_0 (4 rows per pass, one transposed f32 step per 4 rows) stays ~2x faster on
// cache-resident shapes. Next step: 4 rows with q8_0's transposed sums.
//
// Rows of W two at a time for Q4_K / Q5_K (each x vector loaded once for both: 768x768 q4_k relaxed
// 56 -> 48 us measured), one at a time for Q6_K and an odd last row; every row of X against them
// (GEMM: the rows stay in L1 while X sweeps past; GEMV: the weight is one sequential stream). Per sub-block of 32 values: an exact integer dot in an
// i32x4 of partial sums, converted and scaled by d sc dx into an f32x4 accumulator; one horizontal
// sum per output.
//   strict SIMD: quants widened to i16 against x's i16 copy, i32x4.dot_i16x8_s. Q6_K subtracts 32
//                in i8 first and multiplies its two int8 sub-block scales in i32.
//   relaxed SIMD: i16x8.relaxed_dot_i8x16_i7x16_s with the unsigned quants (0..15, 0..31, 0..63:
//                 the 7-bit operand, so the result is exact) and x signed; pair sums added in i16
//                 (at most 4 x 128 x 31 for Q5_K), then one widening dot with ones (Q6_K: with its
//                 scale, after taking off 32 x the pair sums of x).
//   Integer sums are exact in every build; the scalar twin keeps the strict build's four lanes
//   (value t of a sub-block goes to lane (t & 7) >> 1) and its order of f32 steps, so the two agree
//   to the bit. Relaxed differs by its fused madd only.
import { hsum, madd } from "./common";
import { act_f32 } from "./math";
import { GEMM_ACCUMULATE } from "./pack";
import { f16_to_f32, QK, XQ_BYTES } from "./q_pack";
import { k_min, k_scale, Q4_K_BYTES, Q5_K_BYTES, Q6_K_BYTES, QK_K } from "./qk_blocks";

const Q4K: i32 = 4;
const Q5K: i32 = 5;
const Q6K: i32 = 6;

/** Strict: 32 unsigned quants (v0: values 0..15, v1: 16..31) against one record's i16 x. */
// @ts-ignore: decorator
@inline function sdot_u(v0: v128, v1: v128, xr: usize): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(v0), v128.load(xr)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(v0), v128.load(xr, 16))),
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(v1), v128.load(xr, 32)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(v1), v128.load(xr, 48))),
  );
}

/** The integer dot of 32 unsigned quants (<= 31) with one record of x, as partial sums. */
// @ts-ignore: decorator
@inline function udot(v0: v128, v1: v128, xr: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const s = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xr, 64), v0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(xr, 80), v1));
    return i32x4.dot_i16x8_s(s, i16x8.splat(1));
  }
  return sdot_u(v0, v1, xr);
}

/**
 * Q4_K / Q5_K: the 8 6-bit scales (lanes 0..7) and 8 mins (lanes 8..15) of the 12 bytes at s,
 * unpacked at once: j < 4 from the low 6 bits of bytes j / j + 4; j >= 4 from the nibbles of byte
 * j + 4 and the top 2 bits of bytes j - 4 / j (ggml's get_scale_min_k4).
 */
// @ts-ignore: decorator
@inline function scales_mins(s: usize): v128 {
  const v = v128.load(s);
  const a = i8x16.swizzle(v, i8x16(0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11));
  const b = i8x16.swizzle(v, i8x16(16, 16, 16, 16, 0, 1, 2, 3, 16, 16, 16, 16, 4, 5, 6, 7));
  const low = v128.and(a, i8x16(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0));
  const high = v128.and(i8x16.shr_u(a, 4), i8x16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1));
  return v128.or(v128.or(low, high), i8x16.shl(i8x16.shr_u(b, 6), 4));
}

/** Lanes 0..3 (lo) or 4..7 (hi) of 8 u8 lanes at the bottom of v, as f32 times f. */
// @ts-ignore: decorator
@inline function u8_quarter(v: v128, hi: bool, f: f32): v128 {
  const h = i16x8.extend_low_i8x16_u(v);
  return f32x4.mul(f32x4.convert_i32x4_u(hi ? i32x4.extend_high_i16x8_u(h) : i32x4.extend_low_i16x8_u(h)), f32x4.splat(f));
}

/** The dx of 4 records from xr on (f32 at 96 of each). */
// @ts-ignore: decorator
@inline function dx4(xr: usize): v128 {
  let v = f32x4.splat(load<f32>(xr, 96));
  v = f32x4.replace_lane(v, 1, load<f32>(xr, 96 + XQ_BYTES));
  v = f32x4.replace_lane(v, 2, load<f32>(xr, 96 + 2 * XQ_BYTES));
  return f32x4.replace_lane(v, 3, load<f32>(xr, 96 + 3 * XQ_BYTES));
}

/** dx * (sum of quants) of 4 records from xr on: the x side of the min term. */
// @ts-ignore: decorator
@inline function xsum4(xr: usize, dx: v128): v128 {
  let v = i32x4.splat(load<i32>(xr, 100));
  v = i32x4.replace_lane(v, 1, load<i32>(xr, 100 + XQ_BYTES));
  v = i32x4.replace_lane(v, 2, load<i32>(xr, 100 + 2 * XQ_BYTES));
  v = i32x4.replace_lane(v, 3, load<i32>(xr, 100 + 3 * XQ_BYTES));
  return f32x4.mul(dx, f32x4.convert_i32x4_s(v));
}

/** Q5_K: the fifth bit of sub-block j (bit j of each qh byte) as 16 (bit 4), else 0. */
// @ts-ignore: decorator
@inline function bit5(h: v128, j: i32): v128 {
  return v128.and(j <= 4 ? i8x16.shl(h, <u32>(4 - j)) : i8x16.shr_u(h, <u32>(j - 4)), i8x16.splat(16));
}

/**
 * Q4_K / Q5_K: sub-blocks 2c (low nibbles) and 2c + 1 (high) of one super-block, the 32 bytes
 * at q, against records xr and xr + 1, scaled by sa / sb (d sc dx, in every lane) into acc.
 */
// @ts-ignore: decorator
@inline function pair45(acc: v128, hi5: bool, q: usize, h0: v128, h1: v128, c: i32, xr: usize, sa: v128, sb: v128): v128 {
  const low = i8x16.splat(0x0f);
  const v0 = v128.load(q);
  const v1 = v128.load(q, 16);
  let a0 = v128.and(v0, low), a1 = v128.and(v1, low);
  let b0 = i8x16.shr_u(v0, 4), b1 = i8x16.shr_u(v1, 4);
  if (hi5) {
    a0 = v128.or(a0, bit5(h0, 2 * c));
    a1 = v128.or(a1, bit5(h1, 2 * c));
    b0 = v128.or(b0, bit5(h0, 2 * c + 1));
    b1 = v128.or(b1, bit5(h1, 2 * c + 1));
  }
  acc = madd(f32x4.convert_i32x4_s(udot(a0, a1, xr)), sa, acc);
  return madd(f32x4.convert_i32x4_s(udot(b0, b1, xr + XQ_BYTES)), sb, acc);
}

/**
 * Q4_K (hi5 false) or Q5_K: one row of nsb super-blocks at w against x. Per super-block the 16
 * scales and mins are unpacked in SIMD and turned into f32x4s of d sc dx (4 sub-blocks each) and
 * dmin m; the min term sum_j dmin m_j dx_j sum(q x_j) is a vector madd per 4 sub-blocks.
 */
// @ts-ignore: decorator
@inline function row_q45(hi5: bool, nsb: i32, xq: usize, w: usize): f32 {
  let acc = f32x4.splat(0);
  let mins = f32x4.splat(0);
  let xr = xq;
  const bsz: usize = hi5 ? Q5_K_BYTES : Q4_K_BYTES;
  const wend = w + <usize>nsb * bsz;
  while (w < wend) {
    const d = f16_to_f32(<u32>load<u16>(w));
    const dmin = f16_to_f32(<u32>load<u16>(w, 2));
    const sm = scales_mins(w + 4);
    const mn = i8x16.shuffle(sm, sm, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    const dxA = dx4(xr), dxB = dx4(xr + 4 * XQ_BYTES);
    const svA = f32x4.mul(u8_quarter(sm, false, d), dxA);
    const svB = f32x4.mul(u8_quarter(sm, true, d), dxB);
    const q = w + (hi5 ? 48 : 16);
    const h0 = hi5 ? v128.load(w, 16) : i8x16.splat(0);
    const h1 = hi5 ? v128.load(w, 32) : i8x16.splat(0);
    acc = pair45(acc, hi5, q, h0, h1, 0, xr, i32x4.shuffle(svA, svA, 0, 0, 0, 0), i32x4.shuffle(svA, svA, 1, 1, 1, 1));
    acc = pair45(acc, hi5, q + 32, h0, h1, 1, xr + 2 * XQ_BYTES, i32x4.shuffle(svA, svA, 2, 2, 2, 2), i32x4.shuffle(svA, svA, 3, 3, 3, 3));
    acc = pair45(acc, hi5, q + 64, h0, h1, 2, xr + 4 * XQ_BYTES, i32x4.shuffle(svB, svB, 0, 0, 0, 0), i32x4.shuffle(svB, svB, 1, 1, 1, 1));
    acc = pair45(acc, hi5, q + 96, h0, h1, 3, xr + 6 * XQ_BYTES, i32x4.shuffle(svB, svB, 2, 2, 2, 2), i32x4.shuffle(svB, svB, 3, 3, 3, 3));
    mins = madd(u8_quarter(mn, false, dmin), xsum4(xr, dxA), mins);
    mins = madd(u8_quarter(mn, true, dmin), xsum4(xr + 4 * XQ_BYTES, dxB), mins);
    xr += 8 * XQ_BYTES;
    w += bsz;
  }
  return hsum(acc) - hsum(mins);
}

/** The 4 x vectors a dot of 32 values reads from record xr: relaxed i8 (first two used), strict i16. */
// @ts-ignore: decorator
@inline function xload(xr: usize, i: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i == 0 ? v128.load(xr, 64) : v128.load(xr, 80);
  return i == 0 ? v128.load(xr) : i == 1 ? v128.load(xr, 16) : i == 2 ? v128.load(xr, 32) : v128.load(xr, 48);
}

/** udot against x already loaded (relaxed: the 32 i8 in xa, xb; strict: the 32 i16 in xa..xd). */
// @ts-ignore: decorator
@inline function udot_x(v0: v128, v1: v128, xa: v128, xb: v128, xc: v128, xd: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return i32x4.dot_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xa, v0), i16x8.relaxed_dot_i8x16_i7x16_s(xb, v1)), i16x8.splat(1));
  }
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(v0), xa), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(v0), xb)),
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(v1), xc), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(v1), xd)),
  );
}

/** Sub-block 2c (high false) or 2c + 1 of a Q4_K / Q5_K super-block at w: its 32 quants as v0 (values 0..15) and v1. */
// @ts-ignore: decorator
@inline function idot45(hi5: bool, w: usize, c: i32, high: bool, xa: v128, xb: v128, xc: v128, xd: v128): v128 {
  const q = w + <usize>((hi5 ? 48 : 16) + 32 * c);
  const u0 = v128.load(q), u1 = v128.load(q, 16);
  let v0 = high ? i8x16.shr_u(u0, 4) : v128.and(u0, i8x16.splat(0x0f));
  let v1 = high ? i8x16.shr_u(u1, 4) : v128.and(u1, i8x16.splat(0x0f));
  if (hi5) {
    v0 = v128.or(v0, bit5(v128.load(w, 16), 2 * c + (high ? 1 : 0)));
    v1 = v128.or(v1, bit5(v128.load(w, 32), 2 * c + (high ? 1 : 0)));
  }
  return udot_x(v0, v1, xa, xb, xc, xd);
}

/**
 * Q4_K / Q5_K: two rows (w0, w1) of nsb super-blocks against one row of x, each x vector loaded
 * once for both; lanes 0 and 1 of the result are the two rows' dots, each in row_q45's f32 order.
 */
// @ts-ignore: decorator
@inline function row2_q45(hi5: bool, nsb: i32, xq: usize, w0: usize, w1: usize): v128 {
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
  let mins0 = f32x4.splat(0), mins1 = f32x4.splat(0);
  let xr = xq;
  const bsz: usize = hi5 ? Q5_K_BYTES : Q4_K_BYTES;
  const wend = w0 + <usize>nsb * bsz;
  while (w0 < wend) {
    const dxA = dx4(xr), dxB = dx4(xr + 4 * XQ_BYTES);
    const sm0 = scales_mins(w0 + 4), sm1 = scales_mins(w1 + 4);
    const d0 = f16_to_f32(<u32>load<u16>(w0)), d1 = f16_to_f32(<u32>load<u16>(w1));
    const svA0 = f32x4.mul(u8_quarter(sm0, false, d0), dxA), svB0 = f32x4.mul(u8_quarter(sm0, true, d0), dxB);
    const svA1 = f32x4.mul(u8_quarter(sm1, false, d1), dxA), svB1 = f32x4.mul(u8_quarter(sm1, true, d1), dxB);
    let x: usize, xa: v128, xb: v128, xc: v128, xd: v128;
    x = xr + 0 * XQ_BYTES;
    xa = xload(x, 0); xb = xload(x, 1); xc = xload(x, 2); xd = xload(x, 3);
    acc0 = madd(f32x4.convert_i32x4_s(idot45(hi5, w0, 0, false, xa, xb, xc, xd)), i32x4.shuffle(svA0, svA0, 0, 0, 0, 0), acc0);
    acc1 = madd(f32x4.convert_i32x4_s(idot45(hi5, w1, 0, false, xa, xb, xc, xd)), i32x4.shuffle(svA1, svA1, 0, 0, 0, 0), acc1);
    x = xr + 1 * XQ_BYTES;
    xa = xload(x, 0); xb = xload(x, 1); xc = xload(x, 2); xd = xload(x, 3);
    acc0 = madd(f32x4.convert_i32x4_s(idot45(hi5, w0, 0, true, xa, xb, xc, xd)), i32x4.shuffle(svA0, svA0, 1, 1, 1, 1), acc0);
    acc1 = madd(f32x4.convert_i32x4_s(idot45(hi5, w1, 0, true, xa, xb, xc, xd)), i32x4.shuffle(svA1, svA1, 1, 1, 1, 1), acc1);
    x = xr + 2 * XQ_BYTES;
    xa = xload(x, 0); xb = xload(x, 1); xc = xload(x, 2); xd = xload(x, 3);
    acc0 = madd(f32x4.convert_i32x4_s(idot45(hi5, w0, 1, false, xa, xb, xc, xd)), i32x4.shuffle(svA0, svA0, 2, 2, 2, 2), acc0);
    acc1 = madd(f32x4.convert_i32x4_s(idot45(hi5, w1, 1, false, xa, xb, xc, xd)), i32x4.shuffle(svA1, svA1, 2, 2, 2, 2), acc1);
    x = xr + 3 * XQ_BYTES;
    xa = xload(x, 0); xb = xload(x, 1); xc = xload(x, 2); xd = xload(x, 3);
    acc0 = madd(f32x4.convert_i32x4_s(idot45(hi5, w0, 1, true, xa, xb, xc, xd)), i32x4.shuffle(svA0, svA0, 3, 3, 3, 3), acc0);
    acc1 = madd(f32x4.convert_i32x4_s(idot45(hi5, w1, 1, true, xa, xb, xc, xd)), i32x4.shuffle(svA1, svA1, 3, 3, 3, 3), acc1);
    x = xr + 4 * XQ_BYTES;
    xa = xload(x, 0); xb = xload(x, 1); xc = xload(x, 2); xd = xload(x, 3);
    acc0 = madd(f32x4.convert_i32x4_s(idot45(hi5, w0, 2, false, xa, xb, xc, xd)), i32x4.shuffle(svB0, svB0, 0, 0, 0, 0), acc0);
    acc1 = madd(f32x4.convert_i32x4_s(idot45(hi5, w1, 2, false, xa, xb, xc, xd)), i32x4.shuffle(svB1, svB1, 0, 0, 0, 0), acc1);
    x = xr + 5 * XQ_BYTES;
    xa = xload(x, 0); xb = xload(x, 1); xc = xload(x, 2); xd = xload(x, 3);
    acc0 = madd(f32x4.convert_i32x4_s(idot45(hi5, w0, 2, true, xa, xb, xc, xd)), i32x4.shuffle(svB0, svB0, 1, 1, 1, 1), acc0);
    acc1 = madd(f32x4.convert_i32x4_s(idot45(hi5, w1, 2, true, xa, xb, xc, xd)), i32x4.shuffle(svB1, svB1, 1, 1, 1, 1), acc1);
    x = xr + 6 * XQ_BYTES;
    xa = xload(x, 0); xb = xload(x, 1); xc = xload(x, 2); xd = xload(x, 3);
    acc0 = madd(f32x4.convert_i32x4_s(idot45(hi5, w0, 3, false, xa, xb, xc, xd)), i32x4.shuffle(svB0, svB0, 2, 2, 2, 2), acc0);
    acc1 = madd(f32x4.convert_i32x4_s(idot45(hi5, w1, 3, false, xa, xb, xc, xd)), i32x4.shuffle(svB1, svB1, 2, 2, 2, 2), acc1);
    x = xr + 7 * XQ_BYTES;
    xa = xload(x, 0); xb = xload(x, 1); xc = xload(x, 2); xd = xload(x, 3);
    acc0 = madd(f32x4.convert_i32x4_s(idot45(hi5, w0, 3, true, xa, xb, xc, xd)), i32x4.shuffle(svB0, svB0, 3, 3, 3, 3), acc0);
    acc1 = madd(f32x4.convert_i32x4_s(idot45(hi5, w1, 3, true, xa, xb, xc, xd)), i32x4.shuffle(svB1, svB1, 3, 3, 3, 3), acc1);
    const xsA = xsum4(xr, dxA), xsB = xsum4(xr + 4 * XQ_BYTES, dxB);
    const mn0 = i8x16.shuffle(sm0, sm0, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    const mn1 = i8x16.shuffle(sm1, sm1, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    const dmin0 = f16_to_f32(<u32>load<u16>(w0, 2)), dmin1 = f16_to_f32(<u32>load<u16>(w1, 2));
    mins0 = madd(u8_quarter(mn0, false, dmin0), xsA, mins0);
    mins0 = madd(u8_quarter(mn0, true, dmin0), xsB, mins0);
    mins1 = madd(u8_quarter(mn1, false, dmin1), xsA, mins1);
    mins1 = madd(u8_quarter(mn1, true, dmin1), xsB, mins1);
    xr += 8 * XQ_BYTES;
    w0 += bsz;
    w1 += bsz;
  }
  return f32x4.replace_lane(f32x4.splat(hsum(acc0) - hsum(mins0)), 1, hsum(acc1) - hsum(mins1));
}

/** Q6_K: 32 quants (0..63; v0 values 0..15, v1 16..31) with scales sc0, sc1 against one record. */
// @ts-ignore: decorator
@inline function dot6(v0: v128, v1: v128, sc0: i32, sc1: i32, xr: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const x0 = v128.load(xr, 64), x1 = v128.load(xr, 80);
    // sum (q - 32) x per pair, within +-2 x 32 x 128: exact in i16.
    const k32 = i8x16.splat(32);
    const s0 = i16x8.sub(i16x8.relaxed_dot_i8x16_i7x16_s(x0, v0), i16x8.relaxed_dot_i8x16_i7x16_s(x0, k32));
    const s1 = i16x8.sub(i16x8.relaxed_dot_i8x16_i7x16_s(x1, v1), i16x8.relaxed_dot_i8x16_i7x16_s(x1, k32));
    return i32x4.add(i32x4.dot_i16x8_s(s0, i16x8.splat(<i16>sc0)), i32x4.dot_i16x8_s(s1, i16x8.splat(<i16>sc1)));
  }
  const k32 = i8x16.splat(32);
  const w0 = i8x16.sub(v0, k32), w1 = i8x16.sub(v1, k32);
  const p0 = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w0), v128.load(xr)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w0), v128.load(xr, 16)));
  const p1 = i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w1), v128.load(xr, 32)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w1), v128.load(xr, 48)));
  return i32x4.add(i32x4.mul(p0, i32x4.splat(sc0)), i32x4.mul(p1, i32x4.splat(sc1)));
}

/** Q6_K: one row of nsb super-blocks at w against x. */
// @ts-ignore: decorator
@inline function row_q6(nsb: i32, xq: usize, w: usize): f32 {
  let acc = f32x4.splat(0);
  let xr = xq;
  const low = i8x16.splat(0x0f);
  const top = i8x16.splat(0x30);
  const wend = w + <usize>nsb * Q6_K_BYTES;
  while (w < wend) {
    const d = f16_to_f32(<u32>load<u16>(w, 208));
    for (let h = 0; h < 2; h++) {
      const ql = w + <usize>(64 * h);
      const qh = w + <usize>(128 + 32 * h);
      const sc = w + <usize>(192 + 8 * h);
      const la0 = v128.load(ql), la1 = v128.load(ql, 16), lb0 = v128.load(ql, 32), lb1 = v128.load(ql, 48);
      const h0 = v128.load(qh), h1 = v128.load(qh, 16);
      // Sub-blocks 0..3: low nibbles of ql[0..31], of ql[32..63], high nibbles of each; qh bits 2s, 2s+1 -> bits 4, 5.
      const q00 = v128.or(v128.and(la0, low), v128.and(i8x16.shl(h0, 4), top));
      const q01 = v128.or(v128.and(la1, low), v128.and(i8x16.shl(h1, 4), top));
      const q10 = v128.or(v128.and(lb0, low), v128.and(i8x16.shl(h0, 2), top));
      const q11 = v128.or(v128.and(lb1, low), v128.and(i8x16.shl(h1, 2), top));
      const q20 = v128.or(i8x16.shr_u(la0, 4), v128.and(h0, top));
      const q21 = v128.or(i8x16.shr_u(la1, 4), v128.and(h1, top));
      const q30 = v128.or(i8x16.shr_u(lb0, 4), v128.and(i8x16.shr_u(h0, 2), top));
      const q31 = v128.or(i8x16.shr_u(lb1, 4), v128.and(i8x16.shr_u(h1, 2), top));
      const x1 = xr + XQ_BYTES, x2 = xr + 2 * XQ_BYTES, x3 = xr + 3 * XQ_BYTES;
      const i0 = dot6(q00, q01, <i32>load<i8>(sc), <i32>load<i8>(sc, 1), xr);
      const i1 = dot6(q10, q11, <i32>load<i8>(sc, 2), <i32>load<i8>(sc, 3), x1);
      const i2 = dot6(q20, q21, <i32>load<i8>(sc, 4), <i32>load<i8>(sc, 5), x2);
      const i3 = dot6(q30, q31, <i32>load<i8>(sc, 6), <i32>load<i8>(sc, 7), x3);
      acc = madd(f32x4.convert_i32x4_s(i0), f32x4.splat(d * load<f32>(xr, 96)), acc);
      acc = madd(f32x4.convert_i32x4_s(i1), f32x4.splat(d * load<f32>(x1, 96)), acc);
      acc = madd(f32x4.convert_i32x4_s(i2), f32x4.splat(d * load<f32>(x2, 96)), acc);
      acc = madd(f32x4.convert_i32x4_s(i3), f32x4.splat(d * load<f32>(x3, 96)), acc);
      xr += 4 * XQ_BYTES;
    }
    w += Q6_K_BYTES;
  }
  return hsum(acc);
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
  // Q4_K / Q5_K: rows of W in pairs (x loaded once for both); Q6_K and an odd last row one at a time.
  const pairs = type == Q6K ? 0 : n >> 1;
  for (let p = 0; p < pairs; p++) {
    const j = 2 * p;
    const wr = w + <usize>j * wrow;
    let x = xq;
    let cp = c + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      const s2 = row2_q45(type == Q5K, nsb, x, wr, wr + wrow);
      epilogue(f32x4.extract_lane(s2, 0), cp, bias, j, code, flags);
      epilogue(f32x4.extract_lane(s2, 1), cp + 4, bias, j + 1, code, flags);
      x += xrow;
      cp += <usize>ldc << 2;
    }
  }
  for (let j = 2 * pairs; j < n; j++) {
    const wr = w + <usize>j * wrow;
    let x = xq;
    let cp = c + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      epilogue(type == Q6K ? row_q6(nsb, x, wr) : row_q45(type == Q5K, nsb, x, wr), cp, bias, j, code, flags);
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

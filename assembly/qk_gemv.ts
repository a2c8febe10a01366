// K-quant GEMV / GEMM: y = act(x . W^T + bias) [+ y] with W in Q4_K, Q5_K or Q6_K exactly as the
// GGUF file stores it (qk_blocks.ts; no repack, no requantization), and x quantized per block of 32
// by q8_quantize_rows (q_gemv.ts; records of XQ_BYTES, see q_pack.ts).
//
// Activations: the q8_0 kernels' records, not llama.cpp's Q8_K (one scale per 256). A scale per 32
// is finer (the activation error is at most max|x| / 254 of its own block of 32, not of 256), one
// quantization of x serves every weight type of a mixed file, and the record's sum of quants gives
// Q4_K / Q5_K their min term (dmin m sum x) for free. The price: one f32 multiply-add per 32 values
// and row, where Q8_K folds the 8 integer sub-block scales first and scales once per 256.
//
// One row of W at a time, every row of X against it (GEMM: the row stays in L1 while X sweeps past;
// GEMV: the weight is one sequential stream). Per sub-block of 32 values: an exact integer dot in an
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

/** Q4_K (hi5 false) or Q5_K: one row of nsb super-blocks at w against x. */
// @ts-ignore: decorator
@inline function row_q45(hi5: bool, nsb: i32, xq: usize, w: usize): f32 {
  let acc = f32x4.splat(0);
  let mins: f32 = 0;
  let xr = xq;
  const low = i8x16.splat(0x0f);
  const sixteen = i8x16.splat(16);
  const bsz: usize = hi5 ? Q5_K_BYTES : Q4_K_BYTES;
  const wend = w + <usize>nsb * bsz;
  while (w < wend) {
    const d = f16_to_f32(<u32>load<u16>(w));
    const dmin = f16_to_f32(<u32>load<u16>(w, 2));
    const s = w + 4;
    let q = w + (hi5 ? 48 : 16);
    const h0 = hi5 ? v128.load(w, 16) : i8x16.splat(0);
    const h1 = hi5 ? v128.load(w, 32) : i8x16.splat(0);
    for (let j = 0; j < 8; j += 2) {
      const v0 = v128.load(q);
      const v1 = v128.load(q, 16);
      let a0 = v128.and(v0, low), a1 = v128.and(v1, low);
      let b0 = i8x16.shr_u(v0, 4), b1 = i8x16.shr_u(v1, 4);
      if (hi5) {
        // The fifth bit: bit j of qh for sub-block j, j + 1 for the next.
        const bit: i32 = 1 << j;
        const ba = i8x16.splat(<i8>bit), bb = i8x16.splat(<i8>(bit << 1));
        a0 = v128.or(a0, v128.and(i8x16.eq(v128.and(h0, ba), ba), sixteen));
        a1 = v128.or(a1, v128.and(i8x16.eq(v128.and(h1, ba), ba), sixteen));
        b0 = v128.or(b0, v128.and(i8x16.eq(v128.and(h0, bb), bb), sixteen));
        b1 = v128.or(b1, v128.and(i8x16.eq(v128.and(h1, bb), bb), sixteen));
      }
      const xb = xr + XQ_BYTES;
      const ia = udot(a0, a1, xr);
      const ib = udot(b0, b1, xb);
      const dxa = load<f32>(xr, 96);
      const dxb = load<f32>(xb, 96);
      acc = madd(f32x4.convert_i32x4_s(ia), f32x4.splat(d * <f32>k_scale(s, j) * dxa), acc);
      acc = madd(f32x4.convert_i32x4_s(ib), f32x4.splat(d * <f32>k_scale(s, j + 1) * dxb), acc);
      mins += dmin * <f32>k_min(s, j) * dxa * <f32>load<i32>(xr, 100);
      mins += dmin * <f32>k_min(s, j + 1) * dxb * <f32>load<i32>(xb, 100);
      q += 32;
      xr += 2 * XQ_BYTES;
    }
    w += bsz;
  }
  return hsum(acc) - mins;
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
  for (let j = 0; j < n; j++) {
    const wr = w + <usize>j * wrow;
    const bj: f32 = bias ? load<f32>(bias + (<usize>j << 2)) : 0;
    let x = xq;
    let cp = c + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      let s = type == Q6K ? row_q6(nsb, x, wr) : row_q45(type == Q5K, nsb, x, wr);
      if (bias) s += bj;
      s = act_f32(s, code);
      if (flags & GEMM_ACCUMULATE) s += load<f32>(cp);
      store<f32>(cp, s);
      x += xrow;
      cp += <usize>ldc << 2;
    }
  }
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

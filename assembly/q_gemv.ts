// Quantized GEMV / GEMM: y = act(x . W^T + bias) [+ y] with W in q8_0 or q4_0, packed by
// q_pack.ts (panels of 8 rows, quants and f32 scales apart), and x quantized per block of 32
// to int8 by q8_quantize_row (records of XQ_BYTES, see q_pack.ts).
//
// Per block of 32 values and group of 4 rows (half a panel): each row's 32 integer products go into one
// i32x4 of partial sums, the four rows' vectors are transposed-and-added into one i32x4 of
// block sums (rows 0..3), converted once to f32 and scaled by the 4 rows' scales times dx:
// no horizontal sums, and the f32 accumulator holds 4 outputs.
//   strict SIMD: weights widened to i16 (i16x8.extend_*), x read pre-widened (i16),
//                i32x4.dot_i16x8_s;
//   relaxed SIMD: i16x8.relaxed_dot_i8x16_i7x16_s (pair sums in i16) and one widening add,
//                 whose second operand must be 0..127 for a deterministic (exact) result.
//                 Not i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's V8 returns twice the
//                 dot product and drops the addend (measured: dot(3, 5) x 4 lanes = 120, not 60).
//     q4_0: the unsigned nibbles (0..15) are that operand and x the signed one; the offset 8
//           comes off as 8 * sum(x quants) per block, once per panel.
//     q8_0: |x| (0..127) is that operand and w * sign(x) the signed one (w != -128 by the
//           repack's clamp, so the negation fits int8).
//   Integer sums are exact in every build, so the builds differ only in the f32 madd
//   (fused in relaxed): strict and the scalar twin agree to the bit.
// Threads split N by panels (row ranges starting at a multiple of 8); K is never split.
//
// Measured (dev box, Node 20, CPU time, x quantization included; bench/results/quant.md):
// relaxed 768x768 / 768x3072: q8_0 24 / 94 us (28 GB/s of weights), q4_0 22 / 86 us
// (f32_gemv 33 / 132 us); 4096x4096 from memory: q8_0 ~0.9 ms (~22 GB/s), q4_0 ~0.6 ms,
// f32 ~2.5 ms (~27 GB/s). Cache-resident, the kernels are bound by instruction count (~80 x64
// instructions per 4 rows x 32 values relaxed: integer dots, the four-row transpose and the
// per-block f32 scaling all scale with the weights). Tried and dropped: four panels per pass
// and a software prefetch touch (neither helped from memory; the sequential 8-row panel
// layout of q_pack.ts did, 11 -> 20+ GB/s).
// GEMM (prefill) is the same panel loop over every row of X while the 8-row panel stays in L1:
// 128x768x768 q8_0 2.9 ms relaxed / 3.6 ms strict, as fast as f32_gemm (3.0 / 3.8 ms), so a
// dequantize-then-f32-microkernel path could not beat it by more than its f32 speed; not built.
import { madd } from "./common";
import { PanelRow } from "./pack";
import { f16_round, PR, QK, QR, XQ_BYTES } from "./q_pack";
import { QK_K } from "./qk_blocks";

/**
 * Quantizes M rows of x (K floats each, row stride ldx; K a multiple of 32) per block of 32
 * into records of XQ_BYTES at xq (rows back to back, q8_xq_bytes(K) each), as llama.cpp's x86
 * quantize_row_q8_0 does (so that Q8_0 / Q4_0 products match its integer sums and scales):
 * q = round-to-nearest-even(x * (127 / max|x|)) (0 for an all-zero block), dx = f16(max|x| / 127),
 * so |x - dx * q| <= max|x| (1 / 254 + 1 / 2048) per value. NaN in a block makes its dx NaN.
 */
export function q8_quantize_rows(m: i32, k: i32, x: usize, ldx: i32, xq: usize): void {
  for (let i = 0; i < m; i++) quantize_row(k, x + ((<usize>i * <usize>ldx) << 2), xq + <usize>i * <usize>(k / QK) * XQ_BYTES);
}

/**
 * Quantizes M rows of x (K a multiple of 256) per super-block of 256 into the same records, as
 * ggml's quantize_row_q8_K_ref does for the k-quant weights: with mx the first value of largest
 * |x|, q = round-to-nearest-even(x * (-127 / mx)) and every record of the super-block gets
 * dx = 1 / (-127 / mx) (negative when mx > 0; 0 for an all-zero block). ggml clamps q to 127;
 * |x * fl(127 / |mx|)| < 127.5 for |x| <= |mx|, so no q exceeds 127. NaN makes dx NaN.
 */
export function q8k_quantize_rows(m: i32, k: i32, x: usize, ldx: i32, xq: usize): void {
  const nb = k / QK;
  for (let i = 0; i < m; i++) {
    const row = x + ((<usize>i * <usize>ldx) << 2);
    const out = xq + <usize>i * <usize>nb * XQ_BYTES;
    for (let s = 0; s < nb; s += 8) {
      const xp = row + (<usize>(s * QK) << 2);
      let mv = f32x4.splat(0);
      for (let t: usize = 0; t < <usize>(QK_K * 4); t += 16) mv = f32x4.max(mv, f32x4.abs(v128.load(xp + t)));
      const amax = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
      let mx = amax;
      for (let t: usize = 0; amax == amax && t < <usize>(QK_K * 4); t += 16) {
        const hit = i32x4.bitmask(f32x4.eq(f32x4.abs(v128.load(xp + t)), f32x4.splat(amax)));
        if (hit) {
          mx = load<f32>(xp + t + (<usize>ctz(hit) << 2));
          break;
        }
      }
      const iscale: f32 = amax != 0 ? <f32>-127 / mx : 0;
      const d: f32 = amax != 0 ? <f32>1 / iscale : 0;
      for (let b = 0; b < 8; b++) quantize_block(xp + (<usize>(b * QK) << 2), f32x4.splat(iscale), d, out + <usize>(s + b) * XQ_BYTES);
    }
  }
}

function quantize_row(k: i32, x: usize, xq: usize): void {
  const nb = k / QK;
  let xp = x;
  let out = xq;
  for (let b = 0; b < nb; b++) {
    let m = f32x4.abs(v128.load(xp));
    for (let t: usize = 16; t < <usize>(QK * 4); t += 16) m = f32x4.max(m, f32x4.abs(v128.load(xp + t)));
    const amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    quantize_block(xp, f32x4.splat(amax != 0 ? <f32>127 / amax : 0), f16_round(amax / 127), out);
    xp += QK * 4;
    out += XQ_BYTES;
  }
}

/** One record: the 32 floats at xp times id, rounded (NaN -> 0), with scale d and the quants' sum. */
// @ts-ignore: decorator
@inline function quantize_block(xp: usize, id: v128, d: f32, out: usize): void {
  const q0 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xp), id)));
  const q1 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xp, 16), id)));
  const q2 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xp, 32), id)));
  const q3 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xp, 48), id)));
  const q4 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xp, 64), id)));
  const q5 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xp, 80), id)));
  const q6 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xp, 96), id)));
  const q7 = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xp, 112), id)));
  const h0 = i16x8.narrow_i32x4_s(q0, q1);
  const h1 = i16x8.narrow_i32x4_s(q2, q3);
  const h2 = i16x8.narrow_i32x4_s(q4, q5);
  const h3 = i16x8.narrow_i32x4_s(q6, q7);
  v128.store(out, h0);
  v128.store(out, h1, 16);
  v128.store(out, h2, 32);
  v128.store(out, h3, 48);
  v128.store(out, i8x16.narrow_i16x8_s(h0, h1), 64);
  v128.store(out, i8x16.narrow_i16x8_s(h2, h3), 80);
  const a = i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3));
  const b = i32x4.add(i32x4.add(q4, q5), i32x4.add(q6, q7));
  const sa = i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
  const sb = i32x4.extract_lane(b, 0) + i32x4.extract_lane(b, 1) + i32x4.extract_lane(b, 2) + i32x4.extract_lane(b, 3);
  store<f32>(out, d, 96);
  store<i32>(out, sa + sb, 100);
  store<i16>(out, <i16>sa, 104);
  store<i16>(out, <i16>sb, 106);
}

/**
 * (s0[0]+s0[2], s1[0]+s1[2], s0[1]+s0[3], s1[1]+s1[3]): two rows' partial sums half reduced,
 * interleaved. Unpack patterns (one punpck*dq each on x64; other shuffles took three).
 */
// @ts-ignore: decorator
@inline function pair(s0: v128, s1: v128): v128 {
  return i32x4.add(v128.shuffle<i32>(s0, s1, 0, 4, 1, 5), v128.shuffle<i32>(s0, s1, 2, 6, 3, 7));
}

/** (sum s0, sum s1, sum s2, sum s3) from pair(s0, s1) and pair(s2, s3). */
// @ts-ignore: decorator
@inline function rows4(t0: v128, t1: v128): v128 {
  return i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
}

/** Strict: one q8_0 row's 32 products against x (i16 x0..x3) as partial sums. */
// @ts-ignore: decorator
@inline function dot_q8(w0: v128, w1: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w0), x0), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w0), x1)),
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w1), x2), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w1), x3)),
  );
}

/** Strict: one q4_0 row's 32 products (nibbles 0..15, offset not applied) against x (i16). */
// @ts-ignore: decorator
@inline function dot_q4(v: v128, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const lo = v128.and(v, i8x16.splat(0x0f));
  const hi = i8x16.shr_u(v, 4);
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(lo), x0), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(lo), x1)),
    i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(hi), x2), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(hi), x3)),
  );
}

/** Relaxed: one q8_0 row against |x| (a0, a1) with x's sign masks (m0, m1) moved onto w. */
// @ts-ignore: decorator
@inline function rdot_q8(w0: v128, w1: v128, a0: v128, a1: v128, m0: v128, m1: v128): v128 {
  // Pair sums up to 2 * 127 * 128 fit i16; two of them may not, so each half widens alone.
  const s0 = i16x8.relaxed_dot_i8x16_i7x16_s(i8x16.sub(v128.xor(w0, m0), m0), a0);
  const s1 = i16x8.relaxed_dot_i8x16_i7x16_s(i8x16.sub(v128.xor(w1, m1), m1), a1);
  // Widening pair sums as a dot with ones (extadd_pairwise reloads its constant each time on V8).
  const ones = i16x8.splat(1);
  return i32x4.add(i32x4.dot_i16x8_s(s0, ones), i32x4.dot_i16x8_s(s1, ones));
}

/** Relaxed: one q4_0 row (nibbles as the 0..127 operand) against x (i8 x0, x1). */
// @ts-ignore: decorator
@inline function rdot_q4(v: v128, x0: v128, x1: v128): v128 {
  // Pair sums are at most 2 * 128 * 15, so both halves add in i16 before one widening.
  const lo = i16x8.relaxed_dot_i8x16_i7x16_s(x0, v128.and(v, i8x16.splat(0x0f)));
  const hi = i16x8.relaxed_dot_i8x16_i7x16_s(x1, i8x16.shr_u(v, 4));
  return i32x4.dot_i16x8_s(i16x8.add(lo, hi), i16x8.splat(1));
}

/** Two rows of a panel (at qp) against one block of x: pair() of their partial sums. */
// @ts-ignore: decorator
@inline function half(q4: bool, qp: usize, xr: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const x0 = v128.load(xr, 64);
    const x1 = v128.load(xr, 80);
    if (q4) return pair(rdot_q4(v128.load(qp), x0, x1), rdot_q4(v128.load(qp, 16), x0, x1));
    const a0 = i8x16.abs(x0), a1 = i8x16.abs(x1);
    // Sign masks by compare (one pcmpgtb; i8x16.shr_s takes five instructions on x64).
    const m0 = i8x16.lt_s(x0, i8x16.splat(0)), m1 = i8x16.lt_s(x1, i8x16.splat(0));
    return pair(rdot_q8(v128.load(qp), v128.load(qp, 16), a0, a1, m0, m1), rdot_q8(v128.load(qp, 32), v128.load(qp, 48), a0, a1, m0, m1));
  }
  const x0 = v128.load(xr), x1 = v128.load(xr, 16), x2 = v128.load(xr, 32), x3 = v128.load(xr, 48);
  if (q4) return pair(dot_q4(v128.load(qp), x0, x1, x2, x3), dot_q4(v128.load(qp, 16), x0, x1, x2, x3));
  return pair(dot_q8(v128.load(qp), v128.load(qp, 16), x0, x1, x2, x3), dot_q8(v128.load(qp, 32), v128.load(qp, 48), x0, x1, x2, x3));
}

/** The first 4 rows of a panel against one quantized row of x: their outputs, before the epilogue. */
// @ts-ignore: decorator
@inline function panel(q4: bool, nb: i32, xq: usize, qp: usize, sp: usize): v128 {
  const qb: usize = q4 ? 16 : 32;
  const qstep: usize = PR * qb;
  let acc = f32x4.splat(0);
  let xr = xq;
  const xend = xq + <usize>nb * XQ_BYTES;
  while (xr < xend) {
    // Rows 0-1, then rows 2-3 behind a branch that is always taken (quants never sit at 0):
    // V8 schedules every load of a basic block first, and all eight rows' loads at once
    // spill (measured: ~10 spill moves per step); the branch keeps two rows' loads live.
    let isum = half(q4, qp, xr);
    if (qp) isum = rows4(isum, half(q4, qp + 2 * qb, xr));
    // q4_0: sum x (q - 8) = sum x q - 8 sum x.
    if (q4) isum = i32x4.sub(isum, i32x4.splat(load<i32>(xr, 100) << 3));
    const scale = f32x4.mul(v128.load(sp), v128.load32_splat(xr + 96));
    acc = madd(f32x4.convert_i32x4_s(isum), scale, acc);
    xr += XQ_BYTES;
    qp += qstep;
    sp += PR * 4;
  }
  return acc;
}

/**
 * A whole panel (8 rows: two groups of 4, each its own f32x4) in one pass over K.
 * Stores the 8 (`cols` of them) outputs with the epilogue.
 */
// @ts-ignore: decorator
@inline function panels2(q4: bool, nb: i32, xq: usize, qp: usize, sp: usize, c: usize, bias: usize, flags: i32, cols: i32): void {
  const qb: usize = q4 ? 16 : 32;
  const qstep: usize = PR * qb;
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let xr = xq;
  let qp1 = qp + QR * qb;
  let sp1 = sp + QR * 4;
  const xend = xq + <usize>nb * XQ_BYTES;
  while (xr < xend) {
    // Each two rows behind their own always-taken branch (see panel()).
    let i0 = half(q4, qp, xr);
    if (qp) i0 = rows4(i0, half(q4, qp + 2 * qb, xr));
    let i1 = i32x4.splat(0);
    if (qp1) i1 = half(q4, qp1, xr);
    if (sp1) i1 = rows4(i1, half(q4, qp1 + 2 * qb, xr));
    if (q4) {
      const off = i32x4.splat(load<i32>(xr, 100) << 3);
      i0 = i32x4.sub(i0, off);
      i1 = i32x4.sub(i1, off);
    }
    const dx = v128.load32_splat(xr + 96);
    acc0 = madd(f32x4.convert_i32x4_s(i0), f32x4.mul(v128.load(sp), dx), acc0);
    acc1 = madd(f32x4.convert_i32x4_s(i1), f32x4.mul(v128.load(sp1), dx), acc1);
    xr += XQ_BYTES;
    qp += qstep;
    qp1 += qstep;
    sp += PR * 4;
    sp1 += PR * 4;
  }
  PanelRow.store(acc0, acc1, c, bias, flags, cols);
}

/**
 * C (M x N, row stride ldc) = act(X . W^T + bias) [+ C]: rows of xq (M records of
 * q8_xq_bytes(K), back to back) against the packed W. Eight rows of W (two panels) per step,
 * every row of X in turn, so the panels stay in L1 while X sweeps past.
 */
// @ts-ignore: decorator
@inline function qgemm(
  q4: bool, m: i32, n: i32, k: i32, xq: usize, quants: usize, scales: usize, c: usize, ldc: i32, bias: usize, flags: i32,
): void {
  const nb = k / QK;
  const xrow = <usize>nb * XQ_BYTES;
  const ldc4 = <usize>ldc << 2;
  const pq = <usize>nb * (q4 ? PR * 16 : PR * 32);
  const ps = <usize>nb * PR * 4;
  for (let j = 0; j < n; j += PR) {
    const cols = min(PR, n - j);
    const jp = <usize>(j / PR);
    const q0 = quants + jp * pq;
    const s0 = scales + jp * ps;
    const bj = bias ? bias + (<usize>j << 2) : 0;
    let x = xq;
    let cj = c + (<usize>j << 2);
    for (let i = 0; i < m; i++) {
      if (cols > QR) panels2(q4, nb, x, q0, s0, cj, bj, flags, cols);
      else PanelRow.store(panel(q4, nb, x, q0, s0), f32x4.splat(0), cj, bj, flags, cols);
      x += xrow;
      cj += ldc4;
    }
  }
}

/**
 * y (N) = act(W (N x K, q8_0 packed) . x + bias) [+ y if GEMM_ACCUMULATE], x given as xq from
 * q8_quantize_row. K a multiple of 32; bias 0 = none; y must not overlap the inputs.
 */
export function q8_0_gemv(n: i32, k: i32, xq: usize, quants: usize, scales: usize, y: usize, bias: usize, flags: i32): void {
  qgemm(false, 1, n, k, xq, quants, scales, y, 0, bias, flags);
}

/** q8_0_gemv for W in q4_0. */
export function q4_0_gemv(n: i32, k: i32, xq: usize, quants: usize, scales: usize, y: usize, bias: usize, flags: i32): void {
  qgemm(true, 1, n, k, xq, quants, scales, y, 0, bias, flags);
}

/** C (M x N, stride ldc) = act(X . W^T + bias) [+ C], X as M records of q8_xq_bytes(K) at xq; W q8_0. */
export function q8_0_gemm(m: i32, n: i32, k: i32, xq: usize, quants: usize, scales: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qgemm(false, m, n, k, xq, quants, scales, c, ldc, bias, flags);
}

/** q8_0_gemm for W in q4_0. */
export function q4_0_gemm(m: i32, n: i32, k: i32, xq: usize, quants: usize, scales: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qgemm(true, m, n, k, xq, quants, scales, c, ldc, bias, flags);
}

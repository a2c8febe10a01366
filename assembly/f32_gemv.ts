// Decode-time y = act(x . B + bias) [+ y] over the packed B of pack.ts. It reads B once
// and is bound by memory bandwidth on large weights, so the loop keeps several panels in
// flight (independent accumulators and load streams) and does little else.
import { madd } from "./common";
import { NR, PanelRow } from "./pack";

/** Panels processed together by the main loop (GP x 2 accumulators). */
const GP: i32 = 4;

/**
 * `np` (1..4, a compile-time constant after inlining) consecutive panels starting at bp,
 * `pb` bytes apart; the last one has `cols` columns.
 */
// @ts-ignore: decorator
@inline function panels(np: i32, k: i32, x: usize, bp: usize, pb: usize, y: usize, bias: usize, flags: i32, cols: i32): void {
  const b1 = bp + pb;
  const b2 = b1 + pb;
  const b3 = b2 + pb;
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0);
  let s20 = f32x4.splat(0), s21 = f32x4.splat(0);
  let s30 = f32x4.splat(0), s31 = f32x4.splat(0);
  let o: usize = 0;
  let xp = x;
  let kk = 0;
  let xv: v128;
  // K by 2 with immediate offsets (measured ~10% over 1; 4 and 8 gained nothing more).
  for (; kk + 2 <= k; kk += 2) {
    xv = v128.load32_splat(xp);
    s00 = madd(xv, v128.load(bp + o), s00);
    s01 = madd(xv, v128.load(bp + o, 16), s01);
    if (np > 1) {
      s10 = madd(xv, v128.load(b1 + o), s10);
      s11 = madd(xv, v128.load(b1 + o, 16), s11);
    }
    if (np > 2) {
      s20 = madd(xv, v128.load(b2 + o), s20);
      s21 = madd(xv, v128.load(b2 + o, 16), s21);
    }
    if (np > 3) {
      s30 = madd(xv, v128.load(b3 + o), s30);
      s31 = madd(xv, v128.load(b3 + o, 16), s31);
    }
    xv = v128.load32_splat(xp, 4);
    s00 = madd(xv, v128.load(bp + o, 32), s00);
    s01 = madd(xv, v128.load(bp + o, 48), s01);
    if (np > 1) {
      s10 = madd(xv, v128.load(b1 + o, 32), s10);
      s11 = madd(xv, v128.load(b1 + o, 48), s11);
    }
    if (np > 2) {
      s20 = madd(xv, v128.load(b2 + o, 32), s20);
      s21 = madd(xv, v128.load(b2 + o, 48), s21);
    }
    if (np > 3) {
      s30 = madd(xv, v128.load(b3 + o, 32), s30);
      s31 = madd(xv, v128.load(b3 + o, 48), s31);
    }
    xp += 8;
    o += NR * 8;
  }
  if (kk < k) {
    xv = v128.load32_splat(xp);
    s00 = madd(xv, v128.load(bp + o), s00);
    s01 = madd(xv, v128.load(bp + o, 16), s01);
    if (np > 1) {
      s10 = madd(xv, v128.load(b1 + o), s10);
      s11 = madd(xv, v128.load(b1 + o, 16), s11);
    }
    if (np > 2) {
      s20 = madd(xv, v128.load(b2 + o), s20);
      s21 = madd(xv, v128.load(b2 + o, 16), s21);
    }
    if (np > 3) {
      s30 = madd(xv, v128.load(b3 + o), s30);
      s31 = madd(xv, v128.load(b3 + o, 16), s31);
    }
  }
  const full = np > 1 ? NR : cols;
  PanelRow.store(s00, s01, y, bias, flags, full);
  if (np > 1) PanelRow.store(s10, s11, y + NR * 4, bias ? bias + NR * 4 : 0, flags, np > 2 ? NR : cols);
  if (np > 2) PanelRow.store(s20, s21, y + NR * 8, bias ? bias + NR * 8 : 0, flags, np > 3 ? NR : cols);
  if (np > 3) PanelRow.store(s30, s31, y + NR * 12, bias ? bias + NR * 12 : 0, flags, cols);
}

/**
 * y (N) = act(x (K) . B + bias) [+ y if GEMM_ACCUMULATE]; B packed by f32_gemm_pack_b(t).
 * bias 0 = none. y must not overlap x or B.
 */
export function f32_gemv(n: i32, k: i32, x: usize, packedB: usize, y: usize, bias: usize, flags: i32): void {
  const pb = <usize>k * NR * 4;
  let j = 0;
  for (; j + GP * NR <= n; j += GP * NR) {
    const jo = <usize>j;
    panels(4, k, x, packedB + jo * <usize>k * 4, pb, y + (jo << 2), bias ? bias + (jo << 2) : 0, flags, NR);
  }
  // 1..GP panels remain, the last possibly partial.
  const rest = n - j;
  if (rest <= 0) return;
  const np = (rest + NR - 1) / NR;
  const cols = rest - (np - 1) * NR;
  const jo = <usize>j;
  const bp = packedB + jo * <usize>k * 4;
  const yj = y + (jo << 2);
  const bj = bias ? bias + (jo << 2) : 0;
  if (np == 1) panels(1, k, x, bp, pb, yj, bj, flags, cols);
  else if (np == 2) panels(2, k, x, bp, pb, yj, bj, flags, cols);
  else if (np == 3) panels(3, k, x, bp, pb, yj, bj, flags, cols);
  else panels(4, k, x, bp, pb, yj, bj, flags, cols);
}

// Decode-time y = act(x . B + bias) [+ y] over the packed B of pack.ts. It reads B once and
// is bound by cache or memory bandwidth, so the loop does little besides loads and madds.
//
// Three panels at a time (six accumulators, three load streams), K not unrolled. The loop is
// bound by the madd latency (each accumulator waits on its previous madd), so more chains
// help until V8, which issues all of an iteration's loads first, runs out of xmm registers
// (four panels or K unrolled spill). Measured on the dev box (CPU time, 768x768 / 768x3072,
// relaxed): one panel 18 / 17 GFLOP/s, two 28 / 27, three 35 / 33.5, four 18 / 17.
// A B too big for the caches streams from memory, where four streams in flight do best
// despite the spills (4096x4096: ~12.5 vs ~11.5 GFLOP/s), so past FOUR_PANEL_FLOATS the main
// loop takes four.
// Each output is summed over K in order, exactly as one row of f32_gemm does, so a 1-row
// GEMM and a GEMV give the same bits.
import { madd } from "./common";
import { NR, PanelRow } from "./pack";

/** Floats of B (16 MiB, half the dev box's L3) above which B is assumed to stream from memory. */
const FOUR_PANEL_FLOATS: u64 = 4 << 20;

/**
 * `np` (1..4, a constant after inlining) consecutive panels starting at bp, `pb` bytes
 * apart; the last one has `cols` columns.
 */
// @ts-ignore: decorator
@inline function panels(np: i32, k: i32, x: usize, bp: usize, pb: usize, y: usize, bias: usize, flags: i32, cols: i32): void {
  let p0 = bp;
  let p1 = bp + pb;
  let p2 = p1 + pb;
  let p3 = p2 + pb;
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0);
  let s20 = f32x4.splat(0), s21 = f32x4.splat(0);
  let s30 = f32x4.splat(0), s31 = f32x4.splat(0);
  let xp = x;
  const xend = x + (<usize>k << 2);
  while (xp < xend) {
    const xv = v128.load32_splat(xp);
    s00 = madd(xv, v128.load(p0), s00);
    s01 = madd(xv, v128.load(p0, 16), s01);
    if (np > 1) {
      s10 = madd(xv, v128.load(p1), s10);
      s11 = madd(xv, v128.load(p1, 16), s11);
      p1 += NR * 4;
    }
    if (np > 2) {
      s20 = madd(xv, v128.load(p2), s20);
      s21 = madd(xv, v128.load(p2, 16), s21);
      p2 += NR * 4;
    }
    if (np > 3) {
      s30 = madd(xv, v128.load(p3), s30);
      s31 = madd(xv, v128.load(p3, 16), s31);
      p3 += NR * 4;
    }
    p0 += NR * 4;
    xp += 4;
  }
  if (np == 3) {
    PanelRow.store(s00, s01, y, bias, flags, NR);
    PanelRow.store(s10, s11, y + NR * 4, bias ? bias + NR * 4 : 0, flags, NR);
    PanelRow.store(s20, s21, y + NR * 8, bias ? bias + NR * 8 : 0, flags, cols);
  } else if (np > 3) {
    PanelRow.store(s00, s01, y, bias, flags, NR);
    PanelRow.store(s10, s11, y + NR * 4, bias ? bias + NR * 4 : 0, flags, NR);
    PanelRow.store(s20, s21, y + NR * 8, bias ? bias + NR * 8 : 0, flags, NR);
    PanelRow.store(s30, s31, y + NR * 12, bias ? bias + NR * 12 : 0, flags, cols);
  } else if (np > 1) {
    PanelRow.store(s00, s01, y, bias, flags, NR);
    PanelRow.store(s10, s11, y + NR * 4, bias ? bias + NR * 4 : 0, flags, cols);
  } else {
    PanelRow.store(s00, s01, y, bias, flags, cols);
  }
}

/**
 * y (N) = act(x (K) . B + bias) [+ y if GEMM_ACCUMULATE]; B packed by f32_gemm_pack_b(t).
 * bias 0 = none. y must not overlap x or B. No alignment needed.
 */
export function f32_gemv(n: i32, k: i32, x: usize, packedB: usize, y: usize, bias: usize, flags: i32): void {
  const pb = <usize>k * NR * 4;
  let j = 0;
  if (<u64>k * <u64>n > FOUR_PANEL_FLOATS) {
    for (; j + 4 * NR <= n; j += 4 * NR) {
      const jo = <usize>j;
      panels(4, k, x, packedB + jo * <usize>k * 4, pb, y + (jo << 2), bias ? bias + (jo << 2) : 0, flags, NR);
    }
  }
  for (; j + 3 * NR <= n; j += 3 * NR) {
    const jo = <usize>j;
    panels(3, k, x, packedB + jo * <usize>k * 4, pb, y + (jo << 2), bias ? bias + (jo << 2) : 0, flags, NR);
  }
  for (; j + 2 * NR <= n; j += 2 * NR) {
    const jo = <usize>j;
    panels(2, k, x, packedB + jo * <usize>k * 4, pb, y + (jo << 2), bias ? bias + (jo << 2) : 0, flags, NR);
  }
  // One or two panels remain, the last possibly partial.
  const rest = n - j;
  if (rest <= 0) return;
  const jo = <usize>j;
  const bp = packedB + jo * <usize>k * 4;
  const yj = y + (jo << 2);
  const bj = bias ? bias + (jo << 2) : 0;
  if (rest > NR) panels(2, k, x, bp, pb, yj, bj, flags, rest - NR);
  else panels(1, k, x, bp, pb, yj, bj, flags, rest);
}

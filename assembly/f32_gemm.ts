// f32 GEMM over the packed B of pack.ts, plus the two unpacked variants attention uses.
//
// Microkernel: a 4x8 register tile (MR x NR), eight f32x4 accumulators held across the
// whole K loop; per step of K it loads one panel row of B (two v128) and broadcasts four
// elements of A (v128.load32_splat). On the 2-core Zen 4 dev box (Node 20) it beat 2x8, 3x8,
// 5x8, 6x8, 3x12, 4x12, 2x16, 3x16, 4x16 and K unrolled by 2 or 4: V8 issues all of an
// iteration's loads before its arithmetic, so anything needing more than the 15 usable xmm
// registers spills. A pointer per row of A stepping 4 bytes, and the B pointer as the loop
// bound, beat an offset added to each row base (V8 recomputed the sums: +5% strict, +10%
// relaxed). Measured (CPU time, 128x768x768 .. 512x512x512): ~39 GFLOP/s strict, ~50 relaxed. Strict is bound by f32x4.add throughput (a probe: 5.3 G adds/s = 42 GFLOP/s
// for mul+add GEMM), relaxed by relaxed_madd (7.2 G/s = 58 GFLOP/s) and instruction count.
// The loop order keeps one panel of B (K x 8 floats) hot while MC rows of A sweep past it
// (no K blocking: with the big L2/L3 here it did not pay); with K unblocked each C tile is
// written once, so the epilogue (bias, activation, accumulate) is fused into that store.
// Every output is summed over K in order with one rounded multiply and one rounded add per
// term in the strict build, like the scalar twin: the two agree to the bit.
import { madd, hsum } from "./common";
import { NR, load_partial, PanelRow } from "./pack";
import { f32_gemv } from "./f32_gemv";

/** Rows of the register tile. */
const MR: i32 = 4;
/**
 * Bytes of A per row block (MC rows of K floats): each panel of B is reused across the
 * block. Measured 256 KiB .. 8 MiB on the dev box (1 MiB L2, 32 MiB L3): below 1 MiB B is
 * re-streamed too often (K = 3072: 25 -> 36 GFLOP/s strict going 128 KiB -> 2 MiB).
 */
const MC_BYTES: i32 = 2048 * 1024;

/**
 * One mr x NR tile (mr 1..4, a constant after inlining): C rows = A rows . B panel.
 * B rows are `bstep` bytes apart (32 when packed). `partialB` (constant): the panel is an
 * unpacked edge with `cols` < NR columns, loaded lane by lane so nothing past them is read.
 */
// @ts-ignore: decorator
@inline function tile(
  mr: i32, partialB: bool, k: i32, a: usize, lda4: usize, b: usize, bstep: usize,
  c: usize, ldc4: usize, bias: usize, flags: i32, cols: i32,
): void {
  // One pointer per row of A, each stepping 4 bytes: no per-row address arithmetic.
  let p0 = a;
  let p1 = a + lda4;
  let p2 = p1 + lda4;
  let p3 = p2 + lda4;
  const n0 = min(cols, 4);
  const n1 = cols - n0;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let bp = b;
  const bend = b + <usize>k * bstep;
  while (bp < bend) {
    let b0: v128, b1: v128;
    if (partialB) {
      b0 = load_partial(bp, n0);
      b1 = load_partial(bp + 16, n1);
    } else {
      b0 = v128.load(bp);
      b1 = v128.load(bp, 16);
    }
    let x = v128.load32_splat(p0);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    if (mr > 1) {
      x = v128.load32_splat(p1);
      c10 = madd(x, b0, c10);
      c11 = madd(x, b1, c11);
    }
    if (mr > 2) {
      x = v128.load32_splat(p2);
      c20 = madd(x, b0, c20);
      c21 = madd(x, b1, c21);
    }
    if (mr > 3) {
      x = v128.load32_splat(p3);
      c30 = madd(x, b0, c30);
      c31 = madd(x, b1, c31);
    }
    p0 += 4;
    if (mr > 1) p1 += 4;
    if (mr > 2) p2 += 4;
    if (mr > 3) p3 += 4;
    bp += bstep;
  }
  PanelRow.store(c00, c01, c, bias, flags, cols);
  if (mr > 1) PanelRow.store(c10, c11, c + ldc4, bias, flags, cols);
  if (mr > 2) PanelRow.store(c20, c21, c + 2 * ldc4, bias, flags, cols);
  if (mr > 3) PanelRow.store(c30, c31, c + 3 * ldc4, bias, flags, cols);
}

/**
 * C (M x N) = act(A (M x K) . B + bias) [+ C if GEMM_ACCUMULATE], B packed by
 * f32_gemm_pack_b(t). bias (N floats) 0 = none; flags: activation code | GEMM_ACCUMULATE.
 * C must not overlap A or B. M = 1 runs the GEMV kernel.
 */
export function f32_gemm(
  m: i32, n: i32, k: i32, a: usize, lda: i32, packedB: usize, c: usize, ldc: i32, bias: usize, flags: i32,
): void {
  if (m <= 0 || n <= 0) return;
  if (m == 1) {
    f32_gemv(n, k, a, packedB, c, bias, flags);
    return;
  }
  const lda4 = <usize>lda << 2;
  const ldc4 = <usize>ldc << 2;
  let mc = MC_BYTES / max(k * 4, 1);
  mc = max(mc - mc % MR, MR);
  for (let i0 = 0; i0 < m; i0 += mc) {
    const i1 = min(i0 + mc, m);
    for (let j = 0; j < n; j += NR) {
      const jo = <usize>j;
      const cols = min(NR, n - j);
      const bj = packedB + jo * <usize>k * 4;
      const cj = c + (jo << 2);
      const biasj = bias ? bias + (jo << 2) : 0;
      let i = i0;
      for (; i + MR <= i1; i += MR) {
        tile(4, false, k, a + <usize>i * lda4, lda4, bj, NR * 4, cj + <usize>i * ldc4, ldc4, biasj, flags, cols);
      }
      const r = i1 - i;
      const ai = a + <usize>i * lda4;
      const ci = cj + <usize>i * ldc4;
      if (r == 3) tile(3, false, k, ai, lda4, bj, NR * 4, ci, ldc4, biasj, flags, cols);
      else if (r == 2) tile(2, false, k, ai, lda4, bj, NR * 4, ci, ldc4, biasj, flags, cols);
      else if (r == 1) tile(1, false, k, ai, lda4, bj, NR * 4, ci, ldc4, biasj, flags, cols);
    }
  }
}

/**
 * One row of A against 16 columns of unpacked B: two 8-column groups, four accumulator
 * chains (a 1 x 8 tile alone has two, and waits on the madd latency). The decode case.
 */
// @ts-ignore: decorator
@inline function nnRow16(k: i32, a: usize, b: usize, ldb4: usize, c: usize): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  let bp = b;
  for (let kk = 0; kk < k; kk++) {
    const x = v128.load32_splat(a + (<usize>kk << 2));
    s0 = madd(x, v128.load(bp), s0);
    s1 = madd(x, v128.load(bp, 16), s1);
    s2 = madd(x, v128.load(bp, 32), s2);
    s3 = madd(x, v128.load(bp, 48), s3);
    bp += ldb4;
  }
  v128.store(c, s0);
  v128.store(c, s1, 16);
  v128.store(c, s2, 32);
  v128.store(c, s3, 48);
}

/**
 * C (M x N) = A (M x K) . B (K x N), both unpacked (attention P.V). Same 4x8 tile reading
 * B rows in place; the right edge (N % 8 columns) loads lane by lane. Rows past the last
 * multiple of 4 (all of them when M < 4, as in decode) take 16 columns at a time.
 */
export function f32_gemm_nn(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
): void {
  if (m <= 0 || n <= 0) return;
  const lda4 = <usize>lda << 2;
  const ldb4 = <usize>ldb << 2;
  const ldc4 = <usize>ldc << 2;
  const m4 = m - m % MR;
  for (let j = 0; j < n; j += NR) {
    const jo = <usize>j << 2;
    const cols = min(NR, n - j);
    const bj = b + jo;
    const cj = c + jo;
    if (cols == NR) {
      for (let i = 0; i < m4; i += MR) tile(4, false, k, a + <usize>i * lda4, lda4, bj, ldb4, cj + <usize>i * ldc4, ldc4, 0, 0, NR);
    } else {
      for (let i = 0; i < m4; i += MR) tile(4, true, k, a + <usize>i * lda4, lda4, bj, ldb4, cj + <usize>i * ldc4, ldc4, 0, 0, cols);
    }
  }
  for (let i = m4; i < m; i++) {
    const ai = a + <usize>i * lda4;
    const ci = c + <usize>i * ldc4;
    let j = 0;
    for (; j + 2 * NR <= n; j += 2 * NR) nnRow16(k, ai, b + (<usize>j << 2), ldb4, ci + (<usize>j << 2));
    for (; j < n; j += NR) {
      const jo = <usize>j << 2;
      const cols = min(NR, n - j);
      if (cols == NR) tile(1, false, k, ai, lda4, b + jo, ldb4, ci + jo, ldc4, 0, 0, NR);
      else tile(1, true, k, ai, lda4, b + jo, ldb4, ci + jo, ldc4, 0, 0, cols);
    }
  }
}

/** (sum p, sum q, sum r, sum s): four horizontal sums in one vector. */
// @ts-ignore: decorator
@inline function hsum4(p: v128, q: v128, r: v128, s: v128): v128 {
  const pq = f32x4.add(v128.shuffle<f32>(p, q, 0, 4, 1, 5), v128.shuffle<f32>(p, q, 2, 6, 3, 7));
  const rs = f32x4.add(v128.shuffle<f32>(r, s, 0, 4, 1, 5), v128.shuffle<f32>(r, s, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f64>(pq, rs, 0, 2), v128.shuffle<f64>(pq, rs, 1, 3));
}

/**
 * mr (1|2) rows of A against nc (1|4) rows of B: mr x nc dot products over K, vectorized
 * along K; the K % 4 tail is one more step on zero-filled loads.
 */
// @ts-ignore: decorator
@inline function ntTile(
  mr: i32, nc: i32, k: i32, a: usize, lda4: usize, b: usize, ldb4: usize, c: usize, ldc4: usize, alpha: f32,
): void {
  const a1 = a + lda4;
  const b1 = b + ldb4;
  const b2 = b1 + ldb4;
  const b3 = b2 + ldb4;
  let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
  let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
  let kk = 0;
  for (; kk <= k - 4; kk += 4) {
    const o = <usize>kk << 2;
    const x0 = v128.load(a + o);
    const y0 = v128.load(b + o);
    s00 = madd(x0, y0, s00);
    let x1 = f32x4.splat(0);
    if (mr > 1) {
      x1 = v128.load(a1 + o);
      s10 = madd(x1, y0, s10);
    }
    if (nc > 1) {
      const y1 = v128.load(b1 + o);
      const y2 = v128.load(b2 + o);
      const y3 = v128.load(b3 + o);
      s01 = madd(x0, y1, s01);
      s02 = madd(x0, y2, s02);
      s03 = madd(x0, y3, s03);
      if (mr > 1) {
        s11 = madd(x1, y1, s11);
        s12 = madd(x1, y2, s12);
        s13 = madd(x1, y3, s13);
      }
    }
  }
  const t = k - kk;
  if (t > 0) {
    const o = <usize>kk << 2;
    const x0 = load_partial(a + o, t);
    const y0 = load_partial(b + o, t);
    s00 = madd(x0, y0, s00);
    let x1 = f32x4.splat(0);
    if (mr > 1) {
      x1 = load_partial(a1 + o, t);
      s10 = madd(x1, y0, s10);
    }
    if (nc > 1) {
      const y1 = load_partial(b1 + o, t);
      const y2 = load_partial(b2 + o, t);
      const y3 = load_partial(b3 + o, t);
      s01 = madd(x0, y1, s01);
      s02 = madd(x0, y2, s02);
      s03 = madd(x0, y3, s03);
      if (mr > 1) {
        s11 = madd(x1, y1, s11);
        s12 = madd(x1, y2, s12);
        s13 = madd(x1, y3, s13);
      }
    }
  }
  if (nc > 1) {
    const va = f32x4.splat(alpha);
    v128.store(c, f32x4.mul(hsum4(s00, s01, s02, s03), va));
    if (mr > 1) v128.store(c + ldc4, f32x4.mul(hsum4(s10, s11, s12, s13), va));
  } else {
    store<f32>(c, hsum(s00) * alpha);
    if (mr > 1) store<f32>(c + ldc4, hsum(s10) * alpha);
  }
}

/**
 * C (M x N) = alpha . A (M x K) . B^T with B unpacked N x K (attention scores Q.K^T):
 * 2x4 tiles of dot products along K.
 */
export function f32_gemm_nt(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, alpha: f32,
): void {
  if (m <= 0 || n <= 0) return;
  const lda4 = <usize>lda << 2;
  const ldb4 = <usize>ldb << 2;
  const ldc4 = <usize>ldc << 2;
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const ai = a + <usize>i * lda4;
    const ci = c + <usize>i * ldc4;
    let j = 0;
    for (; j + 4 <= n; j += 4) ntTile(2, 4, k, ai, lda4, b + <usize>j * ldb4, ldb4, ci + (<usize>j << 2), ldc4, alpha);
    for (; j < n; j++) ntTile(2, 1, k, ai, lda4, b + <usize>j * ldb4, ldb4, ci + (<usize>j << 2), ldc4, alpha);
  }
  if (i < m) {
    const ai = a + <usize>i * lda4;
    const ci = c + <usize>i * ldc4;
    let j = 0;
    for (; j + 4 <= n; j += 4) ntTile(1, 4, k, ai, lda4, b + <usize>j * ldb4, ldb4, ci + (<usize>j << 2), ldc4, alpha);
    for (; j < n; j++) ntTile(1, 1, k, ai, lda4, b + <usize>j * ldb4, ldb4, ci + (<usize>j << 2), ldc4, alpha);
  }
}

// The packed layout of a GEMM right-hand side B (K x N), shared by f32_gemm, f32_gemv and
// their scalar twins in ref/f32_gemm.ts:
//
//   column panels of width NR; panel p (columns p*NR .. p*NR+NR-1) is K rows of NR floats,
//   contiguous, starting at float offset p*NR*K; columns past N in the last panel are zero.
//
// So a column range starting at a multiple of NR is itself a packed matrix at float offset
// j0*K, which is how threads split N. One panel row (NR floats = two v128) is what the
// microkernels load per step of K.
//
// This file also holds the store of one NR-wide output row with the fused epilogue
// (bias, activation, accumulate), used by every kernel that writes C from a panel.

import { act_f32x4 } from "./math";

/** Width in columns of one packed panel. */
export const NR: i32 = 8;
/** Epilogue flag: add the result to what C holds, after bias and activation. */
export const GEMM_ACCUMULATE: i32 = 0x100;

/** Width in columns of one packed panel of B. */
export function f32_gemm_nr(): i32 {
  return NR;
}

/** Floats needed to hold a K x N matrix packed (N rounded up to whole panels). */
export function f32_gemm_packed_size(k: i32, n: i32): i32 {
  return ((n + NR - 1) / NR) * NR * k;
}

/** Packs B (K x N, row stride ldb) into panels. `packed` must not overlap b. */
export function f32_gemm_pack_b(k: i32, n: i32, b: usize, ldb: i32, packed: usize): void {
  const ldb4 = <usize>ldb << 2;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const cols = min(NR, n - j0);
    let src = b + (<usize>j0 << 2);
    let dst = packed + <usize>j0 * <usize>k * 4;
    if (cols == NR) {
      for (let kk = 0; kk < k; kk++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ldb4;
        dst += NR * 4;
      }
    } else {
      for (let kk = 0; kk < k; kk++) {
        let j = 0;
        for (; j < cols; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
        for (; j < NR; j++) store<f32>(dst + (<usize>j << 2), 0);
        src += ldb4;
        dst += NR * 4;
      }
    }
  }
}

/**
 * Packs B given transposed (bt: N x K, row stride ldbt; a torch Linear weight [out, in]).
 * Four rows of bt (four columns of B) by four k at a time, transposed in registers.
 */
export function f32_gemm_pack_bt(k: i32, n: i32, bt: usize, ldbt: i32, packed: usize): void {
  const ld4 = <usize>ldbt << 2;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const panel = packed + <usize>j0 * <usize>k * 4;
    // Each half (4 columns) of the panel: a 4-column group of B is 4 rows of bt.
    for (let h = 0; h < NR; h += 4) {
      const j = j0 + h;
      const dst0 = panel + (<usize>h << 2);
      const rows = min(4, n - j);
      if (rows == 4) {
        const r0 = bt + <usize>j * ld4;
        const r1 = r0 + ld4;
        const r2 = r1 + ld4;
        const r3 = r2 + ld4;
        let kk = 0;
        for (; kk + 4 <= k; kk += 4) {
          const o = <usize>kk << 2;
          const x0 = v128.load(r0 + o);
          const x1 = v128.load(r1 + o);
          const x2 = v128.load(r2 + o);
          const x3 = v128.load(r3 + o);
          // 4x4 transpose: row t of the result is (x0[t], x1[t], x2[t], x3[t]).
          const t01lo = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
          const t23lo = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
          const t01hi = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
          const t23hi = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
          const d = dst0 + <usize>kk * NR * 4;
          v128.store(d, v128.shuffle<f64>(t01lo, t23lo, 0, 2));
          v128.store(d, v128.shuffle<f64>(t01lo, t23lo, 1, 3), NR * 4);
          v128.store(d, v128.shuffle<f64>(t01hi, t23hi, 0, 2), NR * 8);
          v128.store(d, v128.shuffle<f64>(t01hi, t23hi, 1, 3), NR * 12);
        }
        for (; kk < k; kk++) {
          const o = <usize>kk << 2;
          const d = dst0 + <usize>kk * NR * 4;
          store<f32>(d, load<f32>(r0 + o));
          store<f32>(d, load<f32>(r1 + o), 4);
          store<f32>(d, load<f32>(r2 + o), 8);
          store<f32>(d, load<f32>(r3 + o), 12);
        }
      } else {
        // Last, partial group (rows <= 0 when this half lies wholly past N): copy what
        // exists, zero the padding columns.
        for (let kk = 0; kk < k; kk++) {
          const d = dst0 + <usize>kk * NR * 4;
          for (let t = 0; t < 4; t++) {
            const v: f32 = t < rows ? load<f32>(bt + <usize>(j + t) * ld4 + (<usize>kk << 2)) : 0;
            store<f32>(d + (<usize>t << 2), v);
          }
        }
      }
    }
  }
}

/** The first `cnt` (0..4) floats at p in the low lanes, zeros above; reads nothing past them. */
// @ts-ignore: decorator
@inline export function load_partial(p: usize, cnt: i32): v128 {
  if (cnt >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (cnt > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (cnt > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (cnt > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the low `cnt` (0..4) lanes of v at p; writes nothing past them. */
// @ts-ignore: decorator
@inline export function store_partial(p: usize, v: v128, cnt: i32): void {
  if (cnt >= 4) {
    v128.store(p, v);
    return;
  }
  if (cnt > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (cnt > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (cnt > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * The panel-row store, shared by f32_gemm.ts and f32_gemv.ts. A static method because AS
 * warns (AS112) on exported functions taking v128, though this one never leaves wasm.
 */
export class PanelRow {
  /**
   * Writes one output row of a panel, lanes v0 | v1 = columns 0..7, of which the first `cols`
   * exist: c = act(v + bias) [+ c]. bias (0 = none) points at this panel's first column.
   * Not inlined: it runs once per row per tile, after the whole K loop.
   */
  static store(v0: v128, v1: v128, c: usize, bias: usize, flags: i32, cols: i32): void {
    const code = flags & 0xff;
    if (cols == NR) {
      if (bias) {
        v0 = f32x4.add(v0, v128.load(bias));
        v1 = f32x4.add(v1, v128.load(bias, 16));
      }
      if (code) {
        v0 = act_f32x4(v0, code);
        v1 = act_f32x4(v1, code);
      }
      if (flags & GEMM_ACCUMULATE) {
        v0 = f32x4.add(v0, v128.load(c));
        v1 = f32x4.add(v1, v128.load(c, 16));
      }
      v128.store(c, v0);
      v128.store(c, v1, 16);
      return;
    }
    const c0 = min(cols, 4);
    const c1 = cols - c0;
    if (bias) {
      v0 = f32x4.add(v0, load_partial(bias, c0));
      v1 = f32x4.add(v1, load_partial(bias + 16, c1));
    }
    if (code) {
      v0 = act_f32x4(v0, code);
      v1 = act_f32x4(v1, code);
    }
    if (flags & GEMM_ACCUMULATE) {
      v0 = f32x4.add(v0, load_partial(c, c0));
      v1 = f32x4.add(v1, load_partial(c + 16, c1));
    }
    store_partial(c, v0, c0);
    store_partial(c + 16, v1, c1);
  }
}

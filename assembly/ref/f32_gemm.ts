// Scalar twins of the GEMM/GEMV family (pack.ts, f32_gemm.ts, f32_gemv.ts): same ABI, same
// packed layout, so a B packed by one build works with every other build's kernels.
import { act_f32 } from "../math";
import { NR, GEMM_ACCUMULATE } from "../pack";

// The layout itself (panel width, packed size) has no SIMD in it: shared, not twinned.
export { f32_gemm_nr, f32_gemm_packed_size } from "../pack";

/** Scalar twin of f32_gemm_pack_b. */
export function f32_gemm_pack_b(k: i32, n: i32, b: usize, ldb: i32, packed: usize): void {
  for (let j0 = 0; j0 < n; j0 += NR) {
    const panel = packed + <usize>j0 * <usize>k * 4;
    for (let kk = 0; kk < k; kk++) {
      for (let t = 0; t < NR; t++) {
        const j = j0 + t;
        const v: f32 = j < n ? load<f32>(b + ((<usize>kk * <usize>ldb + <usize>j) << 2)) : 0;
        store<f32>(panel + ((<usize>kk * NR + <usize>t) << 2), v);
      }
    }
  }
}

/** Scalar twin of f32_gemm_pack_bt (bt: N x K, row stride ldbt). */
export function f32_gemm_pack_bt(k: i32, n: i32, bt: usize, ldbt: i32, packed: usize): void {
  for (let j0 = 0; j0 < n; j0 += NR) {
    const panel = packed + <usize>j0 * <usize>k * 4;
    for (let kk = 0; kk < k; kk++) {
      for (let t = 0; t < NR; t++) {
        const j = j0 + t;
        const v: f32 = j < n ? load<f32>(bt + ((<usize>j * <usize>ldbt + <usize>kk) << 2)) : 0;
        store<f32>(panel + ((<usize>kk * NR + <usize>t) << 2), v);
      }
    }
  }
}

/** One output: act(s + bias[j]) [+ c]. */
// @ts-ignore: decorator
@inline function finish(s: f32, c: usize, bias: usize, j: i32, flags: i32): void {
  if (bias) s += load<f32>(bias + (<usize>j << 2));
  s = act_f32(s, flags & 0xff);
  if (flags & GEMM_ACCUMULATE) s += load<f32>(c);
  store<f32>(c, s);
}

/** Row `x` (K floats) against every panel: the body of f32_gemv and of each row of f32_gemm. */
function rowTimesPacked(n: i32, k: i32, x: usize, packedB: usize, y: usize, bias: usize, flags: i32): void {
  for (let j0 = 0; j0 < n; j0 += NR) {
    const panel = packedB + <usize>j0 * <usize>k * 4;
    const cols = min(NR, n - j0);
    for (let t = 0; t < cols; t++) {
      let s: f32 = 0;
      for (let kk = 0; kk < k; kk++) {
        s += load<f32>(x + (<usize>kk << 2)) * load<f32>(panel + ((<usize>kk * NR + <usize>t) << 2));
      }
      finish(s, y + (<usize>(j0 + t) << 2), bias, j0 + t, flags);
    }
  }
}

/** Scalar twin of f32_gemm. */
export function f32_gemm(
  m: i32, n: i32, k: i32, a: usize, lda: i32, packedB: usize, c: usize, ldc: i32, bias: usize, flags: i32,
): void {
  for (let i = 0; i < m; i++) {
    rowTimesPacked(n, k, a + ((<usize>i * <usize>lda) << 2), packedB, c + ((<usize>i * <usize>ldc) << 2), bias, flags);
  }
}

/** Scalar twin of f32_gemv. */
export function f32_gemv(n: i32, k: i32, x: usize, packedB: usize, y: usize, bias: usize, flags: i32): void {
  rowTimesPacked(n, k, x, packedB, y, bias, flags);
}

/** Scalar twin of f32_gemm_nt: C = alpha . A . B^T, B unpacked N x K. */
export function f32_gemm_nt(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, alpha: f32,
): void {
  for (let i = 0; i < m; i++) {
    const ai = a + ((<usize>i * <usize>lda) << 2);
    for (let j = 0; j < n; j++) {
      const bj = b + ((<usize>j * <usize>ldb) << 2);
      let s: f32 = 0;
      for (let kk = 0; kk < k; kk++) s += load<f32>(ai + (<usize>kk << 2)) * load<f32>(bj + (<usize>kk << 2));
      store<f32>(c + ((<usize>i * <usize>ldc + <usize>j) << 2), s * alpha);
    }
  }
}

/** Scalar twin of f32_gemm_nn: C = A . B, both unpacked. */
export function f32_gemm_nn(
  m: i32, n: i32, k: i32, a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32,
): void {
  for (let i = 0; i < m; i++) {
    const ai = a + ((<usize>i * <usize>lda) << 2);
    for (let j = 0; j < n; j++) {
      let s: f32 = 0;
      for (let kk = 0; kk < k; kk++) {
        s += load<f32>(ai + (<usize>kk << 2)) * load<f32>(b + ((<usize>kk * <usize>ldb + <usize>j) << 2));
      }
      store<f32>(c + ((<usize>i * <usize>ldc + <usize>j) << 2), s);
    }
  }
}

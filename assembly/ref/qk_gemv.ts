// Scalar twins of ../qk_gemv.ts: same stored layout (../qk_blocks.ts), same ABI. The integer sums
// of a super-block are exact in both, and the f32 steps are the strict SIMD build's, in its order,
// so the two agree to the bit.
import { act_f32 } from "../math";
import { GEMM_ACCUMULATE } from "../pack";
import { f16_to_f32, QK, XQ_BYTES } from "../q_pack";
import { k_min, k_scale, Q4_K_BYTES, Q5_K_BYTES, Q6_K_BYTES, QK_K } from "../qk_blocks";

const Q4K: i32 = 4;
const Q5K: i32 = 5;
const Q6K: i32 = 6;

/** The quant (unsigned: 0..15, 0..31 or 0..63) of value t (0..255) of the super-block at w. */
function quant(type: i32, w: usize, t: i32): i32 {
  if (type == Q6K) {
    const h = t >> 7;
    const s = (t >> 5) & 3;
    const l = t & 31;
    const ql = <i32>load<u8>(w + <usize>(64 * h + 32 * (s & 1) + l));
    const qh = <i32>load<u8>(w + <usize>(128 + 32 * h + l));
    return (s < 2 ? ql & 15 : ql >> 4) | (((qh >> (2 * s)) & 3) << 4);
  }
  const j = t >> 5;
  const l = t & 31;
  const qs = <i32>load<u8>(w + <usize>((type == Q5K ? 48 : 16) + 32 * (j >> 1) + l));
  let q = j & 1 ? qs >> 4 : qs & 15;
  if (type == Q5K) q |= ((<i32>load<u8>(w + 16 + <usize>l) >> j) & 1) << 4;
  return q;
}

/**
 * One row of nsb super-blocks at w against one quantized row of x: per super-block the exact
 * integer sums I = sum sc q x (Q6_K: sum sc (q - 32) x) and M = sum_j m_j sum(x_j), then the SIMD
 * builds' two f32 steps (a += I (d dx), mm += M (dmin dx)) and a - mm at the end.
 */
function rowDot(type: i32, nsb: i32, xq: usize, w: usize): f32 {
  const bsz: usize = type == Q4K ? Q4_K_BYTES : type == Q5K ? Q5_K_BYTES : Q6_K_BYTES;
  let a: f32 = 0, mm: f32 = 0;
  for (let b = 0; b < nsb; b++) {
    const wb = w + <usize>b * bsz;
    const d = f16_to_f32(<u32>load<u16>(wb + <usize>(type == Q6K ? 208 : 0)));
    const dmin = type == Q6K ? <f32>0 : f16_to_f32(<u32>load<u16>(wb, 2));
    let isum = 0, msum = 0;
    for (let j = 0; j < 8; j++) {
      const xr = xq + <usize>(b * 8 + j) * XQ_BYTES;
      for (let t = 0; t < QK; t++) {
        const xv = <i32>load<i8>(xr + 64 + <usize>t);
        const q = quant(type, wb, 32 * j + t);
        // Q6_K: (q - 32) times the int8 scale of its 16 values (of this half: 192 + 8h + 2s + t / 16).
        isum += type == Q6K ? xv * (q - 32) * <i32>load<i8>(wb + 192 + <usize>(2 * j + (t >> 4))) : xv * q * k_scale(wb + 4, j);
      }
      if (type != Q6K) msum += k_min(wb + 4, j) * load<i32>(xr, 100);
    }
    const dx = load<f32>(xq + <usize>(b * 8) * XQ_BYTES, 96);
    a = <f32>isum * (d * dx) + a;
    mm = <f32>msum * (dmin * dx) + mm;
  }
  return a - mm;
}

function qk_gemm(type: i32, m: i32, n: i32, k: i32, xq: usize, w: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  const nsb = k / QK_K;
  const bsz: usize = type == Q4K ? Q4_K_BYTES : type == Q5K ? Q5_K_BYTES : Q6_K_BYTES;
  const xrow = <usize>(k / QK) * XQ_BYTES;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      let s = rowDot(type, nsb, xq + <usize>i * xrow, w + <usize>j * <usize>nsb * bsz);
      const cp = c + ((<usize>i * <usize>ldc + <usize>j) << 2);
      if (bias) s += load<f32>(bias + (<usize>j << 2));
      s = act_f32(s, flags & 0xff);
      if (flags & GEMM_ACCUMULATE) s += load<f32>(cp);
      store<f32>(cp, s);
    }
  }
}

/** Scalar twin of q4_k_gemv. */
export function q4_k_gemv(n: i32, k: i32, xq: usize, w: usize, y: usize, bias: usize, flags: i32): void {
  qk_gemm(Q4K, 1, n, k, xq, w, y, 0, bias, flags);
}

/** Scalar twin of q5_k_gemv. */
export function q5_k_gemv(n: i32, k: i32, xq: usize, w: usize, y: usize, bias: usize, flags: i32): void {
  qk_gemm(Q5K, 1, n, k, xq, w, y, 0, bias, flags);
}

/** Scalar twin of q6_k_gemv. */
export function q6_k_gemv(n: i32, k: i32, xq: usize, w: usize, y: usize, bias: usize, flags: i32): void {
  qk_gemm(Q6K, 1, n, k, xq, w, y, 0, bias, flags);
}

/** Scalar twin of q4_k_gemm. */
export function q4_k_gemm(m: i32, n: i32, k: i32, xq: usize, w: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qk_gemm(Q4K, m, n, k, xq, w, c, ldc, bias, flags);
}

/** Scalar twin of q5_k_gemm. */
export function q5_k_gemm(m: i32, n: i32, k: i32, xq: usize, w: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qk_gemm(Q5K, m, n, k, xq, w, c, ldc, bias, flags);
}

/** Scalar twin of q6_k_gemm. */
export function q6_k_gemm(m: i32, n: i32, k: i32, xq: usize, w: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qk_gemm(Q6K, m, n, k, xq, w, c, ldc, bias, flags);
}

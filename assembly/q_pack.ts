// The in-memory layout of q8_0 / q4_0 weights for q_gemv.ts (and its scalar twin), and the
// repack from the GGUF block layout. Shared by every build: it runs once per weight.
//
// GGUF blocks (what a file holds): a weight W (N rows of K, K a multiple of 32) is row-major
// blocks of 32 values along K, block = f16 scale d, then the quants:
//   q8_0: 34 bytes, d + 32 x int8 q;                     w = d * q
//   q4_0: 18 bytes, d + 16 bytes, byte t = q[t] | q[t+16] << 4; w = d * (q - 8)
//
// Packed (what the kernels read), rows grouped in panels of PR = 8 (N padded with zero rows):
//   quants: panel p, block b holds the 8 rows' quants of that block back to back,
//           at byte (p * nb + b) * 8 * QB (QB = 32 for q8_0, 16 for q4_0; nb = K / 32).
//           q8_0 keeps int8 (-128 clamped to -127, see below); q4_0 keeps the GGUF nibble
//           bytes (low nibble: value t, high: value t + 16), unsigned 0..15.
//   scales: separate f32 array, panel p block b = 8 floats (the 8 rows) at float (p * nb + b) * 8.
// So per step of K the kernel reads one contiguous run of quants (256 or 128 bytes) and two
// v128 of scales, and combines each 4 rows' integer sums into one f32x4 without horizontal
// sums. The whole matrix is one sequential stream: panels of 4 rows read two at a time were
// two 4 KiB streams per panel pair at K = 1024, which the hardware prefetchers kept
// re-learning (a 100M-parameter decoder read its weights at ~11 GB/s; see q_gemv.ts).
// A row range starting at a multiple of 8 is itself a packed matrix at quant byte j0 * K
// (q8_0) or j0 * K / 2 (q4_0) and scale byte j0 * nb * 4: threads split N by panels.
//
// q8_0 clamps -128 to -127: the relaxed build multiplies |x| by q * sign(x), which has no
// int8 for -(-128). GGUF quantizers never write -128 (q = round(w / (amax / 127))).

/** Rows per panel of the packed layout. */
export const PR: i32 = 8;
/** Rows the kernels combine into one f32x4 (half a panel). */
export const QR: i32 = 4;
/** Values per quantization block. */
export const QK: i32 = 32;

/** Rows N rounded up to whole panels. */
// @ts-ignore: decorator
@inline export function padded_rows(n: i32): usize {
  return <usize>(((n + PR - 1) / PR) * PR);
}

/** Bytes of packed q8_0 quants for N x K (K a multiple of 32). */
export function q8_0_quant_bytes(n: i32, k: i32): i32 {
  return <i32>(padded_rows(n) * <usize>k);
}

/** Bytes of packed q4_0 quants for N x K (K a multiple of 32). */
export function q4_0_quant_bytes(n: i32, k: i32): i32 {
  return <i32>(padded_rows(n) * <usize>(k >> 1));
}

/** Bytes of packed f32 scales for N x K (either type). */
export function q_scale_bytes(n: i32, k: i32): i32 {
  return <i32>(padded_rows(n) * <usize>(k / QK) * 4);
}

/** IEEE half (low 16 bits of h) -> f32, exact (subnormals, infinities, NaN). */
// @ts-ignore: decorator
@inline export function f16_to_f32(h: u32): f32 {
  const s = (h & 0x8000) << 16;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e == 0) {
    const v = <f32>m * 5.9604644775390625e-8; // m * 2^-24, exact
    return s ? -v : v;
  }
  if (e == 31) return reinterpret<f32>(s | 0x7f800000 | (m << 13));
  return reinterpret<f32>(s | ((e + 112) << 23) | (m << 13));
}

/** f32 -> the nearest IEEE half (ties to even, as x86's vcvtps2ph), returned as f32. */
// @ts-ignore: decorator
@inline export function f16_round(v: f32): f32 {
  // Below 2^-14 halves are multiples of 2^-24; above, 10 mantissa bits (the carry may bump the exponent).
  if (abs(v) < 6.103515625e-5) return nearest(v * 16777216) / 16777216;
  const u = reinterpret<u32>(v);
  const r = reinterpret<f32>((u + 0xfff + ((u >> 13) & 1)) & 0xffffe000);
  return abs(r) > 65504 ? copysign<f32>(Infinity, v) : r;
}

/**
 * Shared body of the two repacks: `qb` quant bytes per block (32 or 16), `clamp` the q8_0
 * -128 -> -127 rule. Padding rows get zero quants and zero scales.
 */
// @ts-ignore: decorator
@inline function repack(n: i32, k: i32, blocks: usize, quants: usize, scales: usize, qb: i32, clamp: bool): void {
  const nb = k / QK;
  const bsz = <usize>(2 + qb);
  const rows = <i32>padded_rows(n);
  for (let r = 0; r < rows; r++) {
    const p = r / PR;
    const t = r % PR;
    for (let b = 0; b < nb; b++) {
      const slot = <usize>p * <usize>nb + <usize>b;
      const qdst = quants + (slot * PR + <usize>t) * <usize>qb;
      const sdst = scales + ((slot * PR + <usize>t) << 2);
      if (r >= n) {
        memory.fill(qdst, 0, qb);
        store<f32>(sdst, 0);
        continue;
      }
      const src = blocks + (<usize>r * <usize>nb + <usize>b) * bsz;
      store<f32>(sdst, f16_to_f32(<u32>load<u16>(src)));
      if (clamp) {
        for (let i = 0; i < qb; i++) store<i8>(qdst + i, max<i8>(load<i8>(src + 2 + i), -127));
      } else {
        memory.copy(qdst, src + 2, qb);
      }
    }
  }
}

/**
 * Repacks N x K q8_0 GGUF blocks (34 bytes each, row-major; unaligned is fine) into quants
 * (q8_0_quant_bytes) and scales (q_scale_bytes). Neither output may overlap `blocks`.
 */
export function q8_0_repack(n: i32, k: i32, blocks: usize, quants: usize, scales: usize): void {
  repack(n, k, blocks, quants, scales, 32, true);
}

/** Repacks N x K q4_0 GGUF blocks (18 bytes each) into quants (q4_0_quant_bytes) and scales. */
export function q4_0_repack(n: i32, k: i32, blocks: usize, quants: usize, scales: usize): void {
  repack(n, k, blocks, quants, scales, 16, false);
}

/**
 * Quantized activations: one record of XQ_BYTES per block of 32 values of x, written by
 * q8_quantize_rows (q8_0 / q4_0 weights) or q8k_quantize_rows (k-quants; one dx per 256 values,
 * repeated in its 8 records), SIMD and scalar alike:
 *   [0, 64)   the 32 quants as i16 (strict SIMD dots read these)
 *   [64, 96)  the 32 quants as i8 (relaxed SIMD and scalar read these)
 *   [96]      f32 scale dx (x ~ dx * q; see the two quantizers)
 *   [100]     i32 sum of the 32 quants (q4_0 folds its offset 8 in with it)
 *   [104]     i16 sums of quants 0..15 and (at 106) 16..31: Q6_K's offset 32 times its
 *             per-16 scales, taken once per super-block for every row (qk_gemv.ts)
 */
export const XQ_BYTES: i32 = 112;

/** Bytes of quantized activations for one row of K values (K a multiple of 32). */
export function q8_xq_bytes(k: i32): i32 {
  return (k / QK) * XQ_BYTES;
}

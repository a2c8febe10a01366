// ggml's k-quant super-blocks, as a GGUF file stores them and as the k-quant kernels read them
// (qk_gemv.ts and its scalar twin; no repack: a weight N x K is N rows of K / 256 blocks, row-major,
// so any row range is itself a weight and threads split N anywhere). Shared by every build.
//   Q4_K (144 bytes): f16 d, f16 dmin, 12 bytes of 6-bit scales and mins (8 sub-blocks of 32),
//         128 bytes of nibbles: bytes 32c..32c+31 hold sub-block 2c in their low nibbles and
//         2c+1 in their high ones; w = d sc q - dmin m.
//   Q5_K (176 bytes): Q4_K's header, 32 bytes qh (bit j of byte l: the fifth bit of value l of
//         sub-block j), then Q4_K's 128 bytes of nibbles; q = nibble | bit << 4 (0..31).
//   Q6_K (210 bytes): 128 bytes ql, 64 bytes qh, 16 int8 scales (one per 16 values), f16 d.
//         Each half of 128 values h: ql at 64h, qh at 128 + 32h, scales at 192 + 8h; its
//         sub-block s (values 32s..32s+31) takes the low (s < 2) or high nibbles of ql[32(s&1)..],
//         bits 2s, 2s+1 of qh[0..31] as bits 4, 5, scales 2s (first 16) and 2s+1; w = d sc (q - 32).

/** Values per super-block. */
export const QK_K: i32 = 256;
export const Q4_K_BYTES: i32 = 144;
export const Q5_K_BYTES: i32 = 176;
export const Q6_K_BYTES: i32 = 210;

/** Q4_K / Q5_K: the 6-bit scale of sub-block j (0..7) from the 12 scale bytes at s. */
// @ts-ignore: decorator
@inline export function k_scale(s: usize, j: i32): i32 {
  if (j < 4) return <i32>load<u8>(s + <usize>j) & 63;
  return (<i32>load<u8>(s + <usize>j + 4) & 15) | ((<i32>load<u8>(s + <usize>j - 4) >> 6) << 4);
}

/** Q4_K / Q5_K: the 6-bit min of sub-block j (0..7) from the 12 scale bytes at s. */
// @ts-ignore: decorator
@inline export function k_min(s: usize, j: i32): i32 {
  if (j < 4) return <i32>load<u8>(s + <usize>j + 4) & 63;
  return (<i32>load<u8>(s + <usize>j + 4) >> 4) | ((<i32>load<u8>(s + <usize>j) >> 6) << 4);
}

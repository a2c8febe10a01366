// Embedding gather from a token table in Q4_K, Q5_K or Q6_K super-blocks as the GGUF file stores
// them (qk_blocks.ts: rows of d / 256 blocks, row-major), each gathered row dequantized in ggml's
// order of f32 steps (dequantize_row_q4_K / _q5_K / _q6_K, as src/tensor/kquant_blocks.ts), so the
// rows equal the table widened whole, to the bit. One scalar implementation serves every build
// (ref/index.ts exports these too): a gather reads one row per token, and what matters is that the
// table never has to be widened (a 100M Q4_K_M file's table is ~98 MB as floats, 14 MB as blocks).
import { f16_to_f32 } from "./q_pack";
import { k_min, k_scale, Q4_K_BYTES, Q5_K_BYTES, Q6_K_BYTES, QK_K } from "./qk_blocks";

/** Q4_K (five false) or Q5_K: the super-block at w as 256 floats at o, each times scale. */
function q45_values(five: bool, w: usize, o: usize, scale: f32): void {
  const d = f16_to_f32(<u32>load<u16>(w));
  const dmin = f16_to_f32(<u32>load<u16>(w, 2));
  const qs = w + (five ? 48 : 16);
  for (let c = 0; c < 4; c++) {
    const d1 = d * <f32>k_scale(w + 4, 2 * c), m1 = dmin * <f32>k_min(w + 4, 2 * c);
    const d2 = d * <f32>k_scale(w + 4, 2 * c + 1), m2 = dmin * <f32>k_min(w + 4, 2 * c + 1);
    const q = qs + <usize>(32 * c);
    const y = o + (<usize>(64 * c) << 2);
    for (let l = 0; l < 32; l++) {
      const b = <i32>load<u8>(q + <usize>l);
      const h = five ? <i32>load<u8>(w + 16 + <usize>l) >> (2 * c) : 0;
      store<f32>(y + (<usize>l << 2), (d1 * <f32>((b & 15) | ((h & 1) << 4)) - m1) * scale);
      store<f32>(y + (<usize>(32 + l) << 2), (d2 * <f32>((b >> 4) | ((h & 2) << 3)) - m2) * scale);
    }
  }
}

/** Q6_K: the super-block at w as 256 floats at o, each times scale. */
function q6_values(w: usize, o: usize, scale: f32): void {
  const d = f16_to_f32(<u32>load<u16>(w, 208));
  for (let half = 0; half < 2; half++) {
    const ql = w + <usize>(64 * half);
    const qh = w + <usize>(128 + 32 * half);
    const sc = w + <usize>(192 + 8 * half);
    const y = o + (<usize>(128 * half) << 2);
    for (let l = 0; l < 32; l++) {
      const s = sc + <usize>(l >> 4);
      const h = <i32>load<u8>(qh + <usize>l);
      const a = <i32>load<u8>(ql + <usize>l), b = <i32>load<u8>(ql + <usize>(l + 32));
      store<f32>(y + (<usize>l << 2), d * <f32>load<i8>(s) * <f32>(((a & 15) | ((h & 3) << 4)) - 32) * scale);
      store<f32>(y + (<usize>(l + 32) << 2), d * <f32>load<i8>(s, 2) * <f32>(((b & 15) | (((h >> 2) & 3) << 4)) - 32) * scale);
      store<f32>(y + (<usize>(l + 64) << 2), d * <f32>load<i8>(s, 4) * <f32>(((a >> 4) | (((h >> 4) & 3) << 4)) - 32) * scale);
      store<f32>(y + (<usize>(l + 96) << 2), d * <f32>load<i8>(s, 6) * <f32>(((b >> 4) | (((h >> 6) & 3) << 4)) - 32) * scale);
    }
  }
}

/** The gather over a table of bsz-byte super-blocks; type 4, 5 or 6. */
// @ts-ignore: decorator
@inline function qk_embed(type: i32, rows: i32, d: i32, ids: usize, blocks: usize, out: usize, ldo: i32, scale: f32): void {
  const bsz: usize = type == 4 ? Q4_K_BYTES : type == 5 ? Q5_K_BYTES : Q6_K_BYTES;
  const nsb = <usize>(d / QK_K);
  for (let r = 0; r < rows; r++) {
    const row = blocks + <usize>load<i32>(ids + (<usize>r << 2)) * nsb * bsz;
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    for (let b: usize = 0; b < nsb; b++) {
      if (type == 6) q6_values(row + b * bsz, dst + (b << 10), scale);
      else q45_values(type == 5, row + b * bsz, dst + (b << 10), scale);
    }
  }
}

/**
 * out[r] = row ids[r] of a rows x d Q4_K table (d a multiple of 256; blocks as stored, any
 * alignment) dequantized, times scale. ids already checked against the vocabulary by the caller;
 * out rows (stride ldo floats) must not overlap the table.
 */
export function q4_k_embed(rows: i32, d: i32, ids: usize, blocks: usize, out: usize, ldo: i32, scale: f32): void {
  qk_embed(4, rows, d, ids, blocks, out, ldo, scale);
}

/** q4_k_embed over a Q5_K table. */
export function q5_k_embed(rows: i32, d: i32, ids: usize, blocks: usize, out: usize, ldo: i32, scale: f32): void {
  qk_embed(5, rows, d, ids, blocks, out, ldo, scale);
}

/** q4_k_embed over a Q6_K table. */
export function q6_k_embed(rows: i32, d: i32, ids: usize, blocks: usize, out: usize, ldo: i32, scale: f32): void {
  qk_embed(6, rows, d, ids, blocks, out, ldo, scale);
}

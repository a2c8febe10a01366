// Embedding gather, f32x4, from a float table or from GGUF q8_0 / q4_0 rows as stored (a
// quantized token table is kept in its blocks, and each gathered row dequantized). Rows need no alignment.
import { q4_0_block, q8_0_block } from "./widen";

/**
 * out[r] = table[ids[r]] * scale for r < rows (d floats each). ids: rows i32, already checked
 * against the vocabulary by the caller (a kernel does not throw). out rows must not overlap
 * the table.
 */
export function f32_embed(rows: i32, d: i32, ids: usize, table: usize, ldt: i32, out: usize, ldo: i32, scale: f32): void {
  const sv = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const src = table + ((<usize>load<i32>(ids + (<usize>r << 2)) * <usize>ldt) << 2);
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    let c = 0;
    for (; c + 8 <= d; c += 8) {
      const o = <usize>c << 2;
      const a = f32x4.mul(v128.load(src + o), sv);
      const b = f32x4.mul(v128.load(src + o, 16), sv);
      v128.store(dst + o, a);
      v128.store(dst + o, b, 16);
    }
    for (; c + 4 <= d; c += 4) {
      const o = <usize>c << 2;
      v128.store(dst + o, f32x4.mul(v128.load(src + o), sv));
    }
    for (; c < d; c++) {
      const o = <usize>c << 2;
      store<f32>(dst + o, load<f32>(src + o) * scale);
    }
  }
}

/**
 * f32_embed over a table of GGUF q8_0 rows (d a multiple of 32; row r at byte r * d / 32 * 34):
 * out[r] = dequantized row ids[r] * scale, the values f32_embed gives on the dequantized table.
 */
export function q8_0_embed(rows: i32, d: i32, ids: usize, blocks: usize, out: usize, ldo: i32, scale: f32): void {
  const nb = d >> 5;
  for (let r = 0; r < rows; r++) {
    const src = blocks + <usize>load<i32>(ids + (<usize>r << 2)) * <usize>nb * 34;
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    for (let b = 0; b < nb; b++) q8_0_block(src + <usize>b * 34, dst + (<usize>b << 7), scale);
  }
}

/** q8_0_embed for q4_0 rows (row r at byte r * d / 32 * 18). */
export function q4_0_embed(rows: i32, d: i32, ids: usize, blocks: usize, out: usize, ldo: i32, scale: f32): void {
  const nb = d >> 5;
  for (let r = 0; r < rows; r++) {
    const src = blocks + <usize>load<i32>(ids + (<usize>r << 2)) * <usize>nb * 18;
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    for (let b = 0; b < nb; b++) q4_0_block(src + <usize>b * 18, dst + (<usize>b << 7), scale);
  }
}

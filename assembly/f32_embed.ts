// Embedding gather, f32x4, from a float table or from a q8_0 / q4_0 table in the quantized
// linears' packed layout (q_pack.ts: the tied output head's own blocks, so one copy serves
// both), each gathered row dequantized. Rows need no alignment.
import { PR, QK } from "./q_pack";
import { q4_0_values, q8_0_values } from "./widen";

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
 * f32_embed over a q8_0 table packed by q8_0_repack (rows x d, d a multiple of 32): out[r] =
 * row ids[r] dequantized (its scale times its int8 quants) * scale. Row j of a panel is the
 * j-th 32-byte run and the j-th scale of each of its blocks.
 */
export function q8_0_embed(rows: i32, d: i32, ids: usize, quants: usize, scales: usize, out: usize, ldo: i32, scale: f32): void {
  const nb = <usize>(d / QK);
  for (let r = 0; r < rows; r++) {
    const id = <usize>load<i32>(ids + (<usize>r << 2));
    const first = (id / <usize>PR) * nb * <usize>PR + id % <usize>PR;
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    for (let b: usize = 0; b < nb; b++) {
      const slot = first + b * <usize>PR;
      q8_0_values(load<f32>(scales + (slot << 2)), quants + (slot << 5), dst + (b << 7), scale);
    }
  }
}

/** q8_0_embed over a q4_0 table packed by q4_0_repack (16 nibble bytes a row and block). */
export function q4_0_embed(rows: i32, d: i32, ids: usize, quants: usize, scales: usize, out: usize, ldo: i32, scale: f32): void {
  const nb = <usize>(d / QK);
  for (let r = 0; r < rows; r++) {
    const id = <usize>load<i32>(ids + (<usize>r << 2));
    const first = (id / <usize>PR) * nb * <usize>PR + id % <usize>PR;
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    for (let b: usize = 0; b < nb; b++) {
      const slot = first + b * <usize>PR;
      q4_0_values(load<f32>(scales + (slot << 2)), quants + (slot << 4), dst + (b << 7), scale);
    }
  }
}

/**
 * f32_embed over a table packed as a GEMM right-hand side (f32_gemm_pack_bt of the rows x d
 * table, pack.ts: row j is column j of panel j / 8, one float every 8): the tied output head's
 * own panels, so one copy serves both. Four values per v128, gathered lane by lane.
 */
export function f32_embed_packed(rows: i32, d: i32, ids: usize, packed: usize, out: usize, ldo: i32, scale: f32): void {
  const sv = f32x4.splat(scale);
  for (let r = 0; r < rows; r++) {
    const id = <usize>load<i32>(ids + (<usize>r << 2));
    const src = packed + (((id >> 3) * <usize>d * 8 + (id & 7)) << 2);
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    let c = 0;
    for (; c + 4 <= d; c += 4) {
      const s = src + (<usize>c << 5);
      let v = f32x4.splat(load<f32>(s));
      v = f32x4.replace_lane(v, 1, load<f32>(s, 32));
      v = f32x4.replace_lane(v, 2, load<f32>(s, 64));
      v = f32x4.replace_lane(v, 3, load<f32>(s, 96));
      v128.store(dst + (<usize>c << 2), f32x4.mul(v, sv));
    }
    for (; c < d; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 5)) * scale);
  }
}

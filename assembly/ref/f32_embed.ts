import { q4_0_block, q8_0_block } from "./widen";

/** Scalar twin of f32_embed (../f32_embed.ts). */
export function f32_embed(rows: i32, d: i32, ids: usize, table: usize, ldt: i32, out: usize, ldo: i32, scale: f32): void {
  for (let r = 0; r < rows; r++) {
    const src = table + ((<usize>load<i32>(ids + (<usize>r << 2)) * <usize>ldt) << 2);
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    for (let c = 0; c < d; c++) {
      const o = <usize>c << 2;
      store<f32>(dst + o, load<f32>(src + o) * scale);
    }
  }
}

/** Scalar twin of q8_0_embed (../f32_embed.ts). */
export function q8_0_embed(rows: i32, d: i32, ids: usize, blocks: usize, out: usize, ldo: i32, scale: f32): void {
  const nb = d >> 5;
  for (let r = 0; r < rows; r++) {
    const src = blocks + <usize>load<i32>(ids + (<usize>r << 2)) * <usize>nb * 34;
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    for (let b = 0; b < nb; b++) q8_0_block(src + <usize>b * 34, dst + (<usize>b << 7), scale);
  }
}

/** Scalar twin of q4_0_embed. */
export function q4_0_embed(rows: i32, d: i32, ids: usize, blocks: usize, out: usize, ldo: i32, scale: f32): void {
  const nb = d >> 5;
  for (let r = 0; r < rows; r++) {
    const src = blocks + <usize>load<i32>(ids + (<usize>r << 2)) * <usize>nb * 18;
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    for (let b = 0; b < nb; b++) q4_0_block(src + <usize>b * 18, dst + (<usize>b << 7), scale);
  }
}

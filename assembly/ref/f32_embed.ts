import { PR, QK } from "../q_pack";
import { q4_0_values, q8_0_values } from "./widen";

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

/** Scalar twin of q4_0_embed. */
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

/** Scalar twin of f32_embed_packed (../f32_embed.ts). */
export function f32_embed_packed(rows: i32, d: i32, ids: usize, packed: usize, out: usize, ldo: i32, scale: f32): void {
  for (let r = 0; r < rows; r++) {
    const id = <usize>load<i32>(ids + (<usize>r << 2));
    const src = packed + (((id >> 3) * <usize>d * 8 + (id & 7)) << 2);
    const dst = out + ((<usize>r * <usize>ldo) << 2);
    for (let c = 0; c < d; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 5)) * scale);
  }
}

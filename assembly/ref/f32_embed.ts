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

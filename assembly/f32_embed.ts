// Embedding gather, f32x4. Rows need no alignment.

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

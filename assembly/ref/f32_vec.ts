/** Scalar twin of f32_add. */
export function f32_add(n: i32, a: usize, b: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** Scalar twin of f32_dot. */
export function f32_dot(n: i32, a: usize, b: usize): f32 {
  let s: f32 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    s += load<f32>(a + o) * load<f32>(b + o);
  }
  return s;
}

/** Scalar twin of f32_copy_rows. */
export function f32_copy_rows(rows: i32, n: i32, src: usize, lds: i32, dst: usize, ldd: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < n; i++) {
      store<f32>(dst + ((<usize>r * <usize>ldd + <usize>i) << 2), load<f32>(src + ((<usize>r * <usize>lds + <usize>i) << 2)));
    }
  }
}

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

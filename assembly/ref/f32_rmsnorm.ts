// Scalar twin of ../f32_rmsnorm.ts. Accumulates in f64, where the squares of any f32 neither
// overflow nor underflow.

/** Scalar twin of f32_rmsnorm. */
export function f32_rmsnorm(rows: i32, n: i32, x: usize, ldx: i32, gamma: usize, out: usize, ldo: i32, eps: f32): void {
  if (n <= 0) return;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const or = out + ((<usize>r * <usize>ldo) << 2);
    let sq: f64 = 0;
    for (let c = 0; c < n; c++) {
      const v = <f64>load<f32>(xr + (<usize>c << 2));
      sq += v * v;
    }
    const k = 1.0 / Math.sqrt(sq / <f64>n + <f64>eps);
    for (let c = 0; c < n; c++) {
      const o = <usize>c << 2;
      store<f32>(or + o, <f32>(<f64>load<f32>(xr + o) * k * <f64>load<f32>(gamma + o)));
    }
  }
}

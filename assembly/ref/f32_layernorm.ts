// Scalar twin of ../f32_layernorm.ts. Accumulates in f64, where neither the sum of a row of
// f32 nor its squares can overflow or underflow; two-pass variance; a constant row gives beta.

/** Scalar twin of f32_layernorm. */
export function f32_layernorm(rows: i32, n: i32, x: usize, ldx: i32, gamma: usize, beta: usize, out: usize, ldo: i32, eps: f32): void {
  if (n <= 0) return;
  for (let r = 0; r < rows; r++) {
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    const or = out + ((<usize>r * <usize>ldo) << 2);
    let sum: f64 = 0;
    for (let c = 0; c < n; c++) sum += <f64>load<f32>(xr + (<usize>c << 2));
    const mean = sum / <f64>n;
    let sq: f64 = 0;
    for (let c = 0; c < n; c++) {
      const d = <f64>load<f32>(xr + (<usize>c << 2)) - mean;
      sq += d * d;
    }
    const k = 1.0 / Math.sqrt(sq / <f64>n + <f64>eps);
    for (let c = 0; c < n; c++) {
      const o = <usize>c << 2;
      const y = (<f64>load<f32>(xr + o) - mean) * k * <f64>load<f32>(gamma + o);
      store<f32>(or + o, <f32>(beta != 0 ? y + <f64>load<f32>(beta + o) : y));
    }
  }
}

// Scalar twins of ../f32_rope.ts: the textbook formulas, one pow/sin/cos per element (f64).

/**
 * Turns pair i of every head in row xr by the angle with cosine c and sine s, pairs laid out
 * as f32_rope's `interleaved` says. Also the SIMD f32_rope's one-pair tail.
 */
// @ts-ignore: decorator
@inline export function rotatePair(xr: usize, heads: i32, headDim: i32, i: i32, c: f32, s: f32, interleaved: i32): void {
  const half = headDim >> 1;
  for (let h = 0; h < heads; h++) {
    const base = xr + ((<usize>h * <usize>headDim) << 2);
    const p = interleaved != 0 ? base + (<usize>i << 3) : base + (<usize>i << 2);
    const q = interleaved != 0 ? p + 4 : p + (<usize>half << 2);
    const u = load<f32>(p), w = load<f32>(q);
    store<f32>(p, u * c - w * s);
    store<f32>(q, w * c + u * s);
  }
}

/** Scalar twin of f32_rope. */
export function f32_rope(rows: i32, heads: i32, headDim: i32, x: usize, ldx: i32, pos0: i32, theta: f32, interleaved: i32): void {
  const half = headDim >> 1;
  for (let r = 0; r < rows; r++) {
    const pos = <f64>pos0 + <f64>r;
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    for (let i = 0; i < half; i++) {
      const a = pos * Math.pow(<f64>theta, -2.0 * <f64>i / <f64>headDim);
      const c = <f32>Math.cos(a), s = <f32>Math.sin(a);
      rotatePair(xr, heads, headDim, i, c, s, interleaved);
    }
  }
}

/** Scalar twin of f32_sinusoidal. */
export function f32_sinusoidal(rows: i32, d: i32, pos0: i32, out: usize, ldo: i32): void {
  for (let r = 0; r < rows; r++) {
    const pos = <f64>pos0 + <f64>r;
    const or = out + ((<usize>r * <usize>ldo) << 2);
    for (let c = 0; c < d; c++) {
      const a = pos / Math.pow(10000.0, <f64>(c & ~1) / <f64>d);
      store<f32>(or + (<usize>c << 2), <f32>((c & 1) != 0 ? Math.cos(a) : Math.sin(a)));
    }
  }
}

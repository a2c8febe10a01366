// Position encodings: rotary embedding (in place) and the classic sinusoidal table.
// Angles are formed in f64 (pos * theta^(-2i/d), the frequency by a per-row recurrence that
// does not depend on the row, so any split of rows gives identical bits) and sin/cos are
// taken in f64, so the result is the f32 rounding of the exact encoding (error ~1 ulp) for
// positions far beyond any context length.

/** [a, b, c, d] from run-time values (the f32x4() literal takes constants only). */
// @ts-ignore: decorator
@inline function lanes(a: f32, b: f32, c: f32, d: f32): v128 {
  return f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(a), 1, b), 2, c), 3, d);
}

/**
 * Rotary embedding in place over `heads` heads of headDim (even) floats per row; row r is at
 * position pos0 + r. Pair i (i < headDim/2) turns by angle pos * theta^(-2i/headDim).
 * interleaved 1: pairs (2i, 2i+1) (GPT-J, llama.cpp); 0: (i, i + headDim/2) (HF Llama).
 */
export function f32_rope(rows: i32, heads: i32, headDim: i32, x: usize, ldx: i32, pos0: i32, theta: f32, interleaved: i32): void {
  const half = headDim >> 1;
  const ratio = Math.pow(<f64>theta, -2.0 / <f64>headDim);
  for (let r = 0; r < rows; r++) {
    const pos = <f64>pos0 + <f64>r;
    const xr = x + ((<usize>r * <usize>ldx) << 2);
    let freq: f64 = 1;
    let i = 0;
    for (; i + 4 <= half; i += 4) {
      const a0 = pos * freq;
      freq *= ratio;
      const a1 = pos * freq;
      freq *= ratio;
      const a2 = pos * freq;
      freq *= ratio;
      const a3 = pos * freq;
      freq *= ratio;
      const c0 = <f32>Math.cos(a0), s0 = <f32>Math.sin(a0);
      const c1 = <f32>Math.cos(a1), s1 = <f32>Math.sin(a1);
      const c2 = <f32>Math.cos(a2), s2 = <f32>Math.sin(a2);
      const c3 = <f32>Math.cos(a3), s3 = <f32>Math.sin(a3);
      if (interleaved != 0) {
        // (x0, x1) -> (x0 c - x1 s, x1 c + x0 s): v * [c, c] + swap(v) * [-s, s].
        const cA = lanes(c0, c0, c1, c1), sA = lanes(-s0, s0, -s1, s1);
        const cB = lanes(c2, c2, c3, c3), sB = lanes(-s2, s2, -s3, s3);
        for (let h = 0; h < heads; h++) {
          const p = xr + ((<usize>h * <usize>headDim + (<usize>i << 1)) << 2);
          const v0 = v128.load(p);
          const v1 = v128.load(p, 16);
          const w0 = v128.shuffle<f32>(v0, v0, 1, 0, 3, 2);
          const w1 = v128.shuffle<f32>(v1, v1, 1, 0, 3, 2);
          v128.store(p, f32x4.add(f32x4.mul(v0, cA), f32x4.mul(w0, sA)));
          v128.store(p, f32x4.add(f32x4.mul(v1, cB), f32x4.mul(w1, sB)), 16);
        }
      } else {
        const cv = lanes(c0, c1, c2, c3), sv = lanes(s0, s1, s2, s3);
        for (let h = 0; h < heads; h++) {
          const p = xr + ((<usize>h * <usize>headDim + <usize>i) << 2);
          const q = p + (<usize>half << 2);
          const lo = v128.load(p);
          const hi = v128.load(q);
          v128.store(p, f32x4.sub(f32x4.mul(lo, cv), f32x4.mul(hi, sv)));
          v128.store(q, f32x4.add(f32x4.mul(lo, sv), f32x4.mul(hi, cv)));
        }
      }
    }
    for (; i < half; i++) {
      const a = pos * freq;
      freq *= ratio;
      const c = <f32>Math.cos(a), s = <f32>Math.sin(a);
      for (let h = 0; h < heads; h++) {
        const base = xr + ((<usize>h * <usize>headDim) << 2);
        const p = interleaved != 0 ? base + (<usize>i << 3) : base + (<usize>i << 2);
        const q = interleaved != 0 ? p + 4 : p + (<usize>half << 2);
        const u = load<f32>(p), w = load<f32>(q);
        store<f32>(p, u * c - w * s);
        store<f32>(q, w * c + u * s);
      }
    }
  }
}

/**
 * out[r] (d floats, stride ldo) = the encoding of position pos0 + r:
 * out[2i] = sin(pos / 10000^(2i/d)), out[2i+1] = cos(pos / 10000^(2i/d)).
 */
export function f32_sinusoidal(rows: i32, d: i32, pos0: i32, out: usize, ldo: i32): void {
  const ratio = Math.pow(10000.0, -2.0 / <f64>d);
  for (let r = 0; r < rows; r++) {
    const pos = <f64>pos0 + <f64>r;
    const or = out + ((<usize>r * <usize>ldo) << 2);
    let freq: f64 = 1;
    let c = 0;
    for (; c + 2 <= d; c += 2) {
      const a = pos * freq;
      freq *= ratio;
      store<f32>(or + (<usize>c << 2), <f32>Math.sin(a));
      store<f32>(or + (<usize>c << 2), <f32>Math.cos(a), 4);
    }
    if (c < d) store<f32>(or + (<usize>c << 2), <f32>Math.sin(pos * freq));
  }
}

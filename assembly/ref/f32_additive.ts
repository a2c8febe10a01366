// Scalar twin of ../f32_additive.ts: one f32 accumulator per score, tanh_f32 of ../math.ts
// (relatively accurate everywhere; the SIMD kernel's faster tanh agrees to 1.4e-7 absolute).
import { tanh_f32 } from "../math";

/** Scalar twin of f32_additive_scores. */
export function f32_additive_scores(nq: i32, nk: i32, h: i32, qp: usize, ldq: i32, kp: usize, ldk: i32, v: usize, scores: usize, lds: i32): void {
  for (let i = 0; i < nq; i++) {
    const q = qp + ((<usize>i * <usize>ldq) << 2);
    for (let j = 0; j < nk; j++) {
      const k = kp + ((<usize>j * <usize>ldk) << 2);
      let s: f32 = 0;
      for (let c = 0; c < h; c++) {
        const o = <usize>c << 2;
        s += load<f32>(v + o) * tanh_f32(load<f32>(q + o) + load<f32>(k + o));
      }
      store<f32>(scores + ((<usize>i * <usize>lds + <usize>j) << 2), s);
    }
  }
}

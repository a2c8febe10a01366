// Scalar twin of ../f32_attention.ts: scores, the reference softmax row, probs . v.
import { causalLimit, softmaxRow } from "./f32_softmax";

/** Scalar twin of f32_attention. */
export function f32_attention(
  nq: i32, nk: i32, d: i32,
  q: usize, ldq: i32, k: usize, ldk: i32, v: usize, ldv: i32,
  out: usize, ldo: i32, probs: usize, ldp: i32,
  scale: f32, mask: usize, ldm: i32, causal: i32,
): void {
  for (let i = 0; i < nq; i++) {
    const qi = q + ((<usize>i * <usize>ldq) << 2);
    const pi = probs + ((<usize>i * <usize>ldp) << 2);
    const oi = out + ((<usize>i * <usize>ldo) << 2);
    const lim = causalLimit(i, nk, causal);
    for (let j = 0; j < lim; j++) {
      const kj = k + ((<usize>j * <usize>ldk) << 2);
      let s: f32 = 0;
      for (let c = 0; c < d; c++) s += load<f32>(qi + (<usize>c << 2)) * load<f32>(kj + (<usize>c << 2));
      store<f32>(pi + (<usize>j << 2), s);
    }
    softmaxRow(nk, lim, pi, pi, scale, mask != 0 ? mask + ((<usize>i * <usize>ldm) << 2) : 0);
    for (let c = 0; c < d; c++) {
      let s: f32 = 0;
      for (let j = 0; j < lim; j++) {
        s += load<f32>(pi + (<usize>j << 2)) * load<f32>(v + ((<usize>j * <usize>ldv + <usize>c) << 2));
      }
      store<f32>(oi + (<usize>c << 2), s);
    }
  }
}

// Additive (Bahdanau, "MLP") attention scores, f32x4 along the hidden axis:
// scores[i][j] = sum_h v[h] tanh(qp[i][h] + kp[j][h]), where qp = q W_q^T and kp = k W_k^T
// are the projections the caller made with GEMM. Every (i, j, h) needs its own tanh, so the
// kernel is bound by tanh_f32x4 (math.ts): one query against 4 keys per pass keeps the query
// and v vectors in registers. Rows need no alignment. The softmax (masks, causal) is
// f32_softmax's job, so the kernel scores every key.
import { madd } from "./common";
import { tanh_f32, tanh_f32x4 } from "./math";

/** Lanes summed pairwise, (0 + 2) + (1 + 3): the same order in the 4-key and 1-key paths. */
// @ts-ignore: decorator
@inline function lanes(a: v128): f32 {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 2)) + (f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 3));
}

/** sum over c in [from, h) of v[c] tanh(q[c] + k[c]) (the hidden tail past the last full vector). */
// @ts-ignore: decorator
@inline function tail(from: i32, h: i32, q: usize, k: usize, v: usize): f32 {
  let s: f32 = 0;
  for (let c = from; c < h; c++) {
    const o = <usize>c << 2;
    s += load<f32>(v + o) * tanh_f32(load<f32>(q + o) + load<f32>(k + o));
  }
  return s;
}

/** One score: the hidden axis in vectors, then the tail. */
// @ts-ignore: decorator
@inline function score1(h: i32, q: usize, k: usize, v: usize): f32 {
  const h4 = h & ~3;
  let acc = f32x4.splat(0);
  for (let c = 0; c < h4; c += 4) {
    const o = <usize>c << 2;
    acc = madd(v128.load(v + o), tanh_f32x4(f32x4.add(v128.load(q + o), v128.load(k + o))), acc);
  }
  return lanes(acc) + tail(h4, h, q, k, v);
}

/**
 * scores (nq x nk, row stride lds) = v^T tanh(qp_i + kp_j) for every query i and key j.
 * qp: nq x h (stride ldq), kp: nk x h (stride ldk), v: h floats. scores must not overlap
 * the inputs. NaN propagates to the scores it touches.
 */
export function f32_additive_scores(nq: i32, nk: i32, h: i32, qp: usize, ldq: i32, kp: usize, ldk: i32, v: usize, scores: usize, lds: i32): void {
  const h4 = h & ~3;
  const rowK = <usize>ldk << 2;
  for (let i = 0; i < nq; i++) {
    const q = qp + ((<usize>i * <usize>ldq) << 2);
    const s = scores + ((<usize>i * <usize>lds) << 2);
    let j = 0;
    for (; j + 4 <= nk; j += 4) {
      const k0 = kp + <usize>j * rowK;
      const k1 = k0 + rowK;
      const k2 = k1 + rowK;
      const k3 = k2 + rowK;
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let c = 0; c < h4; c += 4) {
        const o = <usize>c << 2;
        const x = v128.load(q + o);
        const w = v128.load(v + o);
        a0 = madd(w, tanh_f32x4(f32x4.add(x, v128.load(k0 + o))), a0);
        a1 = madd(w, tanh_f32x4(f32x4.add(x, v128.load(k1 + o))), a1);
        a2 = madd(w, tanh_f32x4(f32x4.add(x, v128.load(k2 + o))), a2);
        a3 = madd(w, tanh_f32x4(f32x4.add(x, v128.load(k3 + o))), a3);
      }
      const o = s + (<usize>j << 2);
      store<f32>(o, lanes(a0) + tail(h4, h, q, k0, v));
      store<f32>(o, lanes(a1) + tail(h4, h, q, k1, v), 4);
      store<f32>(o, lanes(a2) + tail(h4, h, q, k2, v), 8);
      store<f32>(o, lanes(a3) + tail(h4, h, q, k3, v), 12);
    }
    for (; j < nk; j++) store<f32>(s + (<usize>j << 2), score1(h, q, kp + <usize>j * rowK, v));
  }
}

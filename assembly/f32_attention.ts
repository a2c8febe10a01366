// Scaled dot-product attention for one head, f32x4: scores into the caller's probs buffer,
// the row softmax of f32_softmax.ts in place, then probs . v. Rows need no alignment.
// Causal rows skip the keys they cannot see in both products.
import { madd } from "./common";
import { causalLimit, softmaxRow } from "./f32_softmax";

/** [sum a, sum b, sum c, sum d]: four horizontal sums at once. */
// @ts-ignore: decorator
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** sum over c in [from, d) of a[c] b[c] (the part of a dot product past the last full vector). */
// @ts-ignore: decorator
@inline function dotTail(from: i32, d: i32, a: usize, b: usize): f32 {
  let s: f32 = 0;
  for (let c = from; c < d; c++) s += load<f32>(a + (<usize>c << 2)) * load<f32>(b + (<usize>c << 2));
  return s;
}

/**
 * Full dot product of length d (the key tails). Lanes are summed as sum4 does, so a score has
 * the same bits whichever block computed it: splitting queries across threads changes nothing.
 */
// @ts-ignore: decorator
@inline function dot(d: i32, a: usize, b: usize): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= d; c += 4) acc = madd(v128.load(a + (<usize>c << 2)), v128.load(b + (<usize>c << 2)), acc);
  const s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 2)) + (f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 3));
  return s + dotTail(c, d, a, b);
}

/** Scores of two queries against keys [0, lim): 2 x 4 blocks. */
function scores2(lim: i32, d: i32, qa: usize, qb: usize, k: usize, ldk: i32, pa: usize, pb: usize): void {
  const d4 = d & ~3;
  const rowK = <usize>ldk << 2;
  let j = 0;
  for (; j + 4 <= lim; j += 4) {
    const k0 = k + <usize>j * rowK;
    const k1 = k0 + rowK;
    const k2 = k1 + rowK;
    const k3 = k2 + rowK;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>c << 2;
      const x = v128.load(qa + o);
      const y = v128.load(qb + o);
      const u0 = v128.load(k0 + o);
      const u1 = v128.load(k1 + o);
      const u2 = v128.load(k2 + o);
      const u3 = v128.load(k3 + o);
      a0 = madd(x, u0, a0);
      b0 = madd(y, u0, b0);
      a1 = madd(x, u1, a1);
      b1 = madd(y, u1, b1);
      a2 = madd(x, u2, a2);
      b2 = madd(y, u2, b2);
      a3 = madd(x, u3, a3);
      b3 = madd(y, u3, b3);
    }
    const oa = pa + (<usize>j << 2);
    const ob = pb + (<usize>j << 2);
    v128.store(oa, sum4(a0, a1, a2, a3));
    v128.store(ob, sum4(b0, b1, b2, b3));
    if (d4 < d) {
      store<f32>(oa, load<f32>(oa) + dotTail(d4, d, qa, k0));
      store<f32>(oa, load<f32>(oa, 4) + dotTail(d4, d, qa, k1), 4);
      store<f32>(oa, load<f32>(oa, 8) + dotTail(d4, d, qa, k2), 8);
      store<f32>(oa, load<f32>(oa, 12) + dotTail(d4, d, qa, k3), 12);
      store<f32>(ob, load<f32>(ob) + dotTail(d4, d, qb, k0));
      store<f32>(ob, load<f32>(ob, 4) + dotTail(d4, d, qb, k1), 4);
      store<f32>(ob, load<f32>(ob, 8) + dotTail(d4, d, qb, k2), 8);
      store<f32>(ob, load<f32>(ob, 12) + dotTail(d4, d, qb, k3), 12);
    }
  }
  for (; j < lim; j++) {
    const kj = k + <usize>j * rowK;
    store<f32>(pa + (<usize>j << 2), dot(d, qa, kj));
    store<f32>(pb + (<usize>j << 2), dot(d, qb, kj));
  }
}

/** Scores of one query against keys [0, lim): 1 x 8 blocks (decode). */
function scores1(lim: i32, d: i32, qa: usize, k: usize, ldk: i32, pa: usize): void {
  const d4 = d & ~3;
  const rowK = <usize>ldk << 2;
  let j = 0;
  for (; j + 8 <= lim; j += 8) {
    const k0 = k + <usize>j * rowK;
    const k1 = k0 + rowK, k2 = k1 + rowK, k3 = k2 + rowK;
    const k4 = k3 + rowK, k5 = k4 + rowK, k6 = k5 + rowK, k7 = k6 + rowK;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (let c = 0; c < d4; c += 4) {
      const o = <usize>c << 2;
      const x = v128.load(qa + o);
      a0 = madd(x, v128.load(k0 + o), a0);
      a1 = madd(x, v128.load(k1 + o), a1);
      a2 = madd(x, v128.load(k2 + o), a2);
      a3 = madd(x, v128.load(k3 + o), a3);
      a4 = madd(x, v128.load(k4 + o), a4);
      a5 = madd(x, v128.load(k5 + o), a5);
      a6 = madd(x, v128.load(k6 + o), a6);
      a7 = madd(x, v128.load(k7 + o), a7);
    }
    const oa = pa + (<usize>j << 2);
    v128.store(oa, sum4(a0, a1, a2, a3));
    v128.store(oa, sum4(a4, a5, a6, a7), 16);
    if (d4 < d) {
      for (let t = 0; t < 8; t++) {
        const ot = oa + (<usize>t << 2);
        store<f32>(ot, load<f32>(ot) + dotTail(d4, d, qa, k0 + <usize>t * rowK));
      }
    }
  }
  for (; j < lim; j++) store<f32>(pa + (<usize>j << 2), dot(d, qa, k + <usize>j * rowK));
}

/** out rows i..i+3 (d floats) = probs rows . v over keys [0, lim): 4 queries x 8 floats. */
function pv4(lim: i32, d: i32, p: usize, ldp: i32, v: usize, ldv: i32, out: usize, ldo: i32): void {
  const rowP = <usize>ldp << 2;
  const rowV = <usize>ldv << 2;
  const rowO = <usize>ldo << 2;
  const p1 = p + rowP, p2 = p1 + rowP, p3 = p2 + rowP;
  let c = 0;
  for (; c + 8 <= d; c += 8) {
    let a0 = f32x4.splat(0), a1 = a0, b0 = a0, b1 = a0, e0 = a0, e1 = a0, f0 = a0, f1 = a0;
    let vj = v + (<usize>c << 2);
    for (let j = 0; j < lim; j++) {
      const o = <usize>j << 2;
      const x0 = v128.load(vj);
      const x1 = v128.load(vj, 16);
      const w0 = v128.load32_splat(p + o);
      const w1 = v128.load32_splat(p1 + o);
      const w2 = v128.load32_splat(p2 + o);
      const w3 = v128.load32_splat(p3 + o);
      a0 = madd(w0, x0, a0);
      a1 = madd(w0, x1, a1);
      b0 = madd(w1, x0, b0);
      b1 = madd(w1, x1, b1);
      e0 = madd(w2, x0, e0);
      e1 = madd(w2, x1, e1);
      f0 = madd(w3, x0, f0);
      f1 = madd(w3, x1, f1);
      vj += rowV;
    }
    const oc = out + (<usize>c << 2);
    v128.store(oc, a0);
    v128.store(oc, a1, 16);
    v128.store(oc + rowO, b0);
    v128.store(oc + rowO, b1, 16);
    v128.store(oc + 2 * rowO, e0);
    v128.store(oc + 2 * rowO, e1, 16);
    v128.store(oc + 3 * rowO, f0);
    v128.store(oc + 3 * rowO, f1, 16);
  }
  for (; c + 4 <= d; c += 4) {
    let a0 = f32x4.splat(0), b0 = a0, e0 = a0, f0 = a0;
    let vj = v + (<usize>c << 2);
    for (let j = 0; j < lim; j++) {
      const o = <usize>j << 2;
      const x0 = v128.load(vj);
      a0 = madd(v128.load32_splat(p + o), x0, a0);
      b0 = madd(v128.load32_splat(p1 + o), x0, b0);
      e0 = madd(v128.load32_splat(p2 + o), x0, e0);
      f0 = madd(v128.load32_splat(p3 + o), x0, f0);
      vj += rowV;
    }
    const oc = out + (<usize>c << 2);
    v128.store(oc, a0);
    v128.store(oc + rowO, b0);
    v128.store(oc + 2 * rowO, e0);
    v128.store(oc + 3 * rowO, f0);
  }
  for (; c < d; c++) {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (let j = 0; j < lim; j++) {
      const o = <usize>j << 2;
      const x = load<f32>(v + <usize>j * rowV + (<usize>c << 2));
      s0 += load<f32>(p + o) * x;
      s1 += load<f32>(p1 + o) * x;
      s2 += load<f32>(p2 + o) * x;
      s3 += load<f32>(p3 + o) * x;
    }
    const oc = out + (<usize>c << 2);
    store<f32>(oc, s0);
    store<f32>(oc + rowO, s1);
    store<f32>(oc + 2 * rowO, s2);
    store<f32>(oc + 3 * rowO, s3);
  }
}

/** out row (d floats) = probs row . v over keys [0, lim): 32 floats at a time (decode). */
function pv1(lim: i32, d: i32, p: usize, v: usize, ldv: i32, out: usize): void {
  const rowV = <usize>ldv << 2;
  let c = 0;
  for (; c + 32 <= d; c += 32) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    let vj = v + (<usize>c << 2);
    for (let j = 0; j < lim; j++) {
      const w = v128.load32_splat(p + (<usize>j << 2));
      a0 = madd(w, v128.load(vj), a0);
      a1 = madd(w, v128.load(vj, 16), a1);
      a2 = madd(w, v128.load(vj, 32), a2);
      a3 = madd(w, v128.load(vj, 48), a3);
      a4 = madd(w, v128.load(vj, 64), a4);
      a5 = madd(w, v128.load(vj, 80), a5);
      a6 = madd(w, v128.load(vj, 96), a6);
      a7 = madd(w, v128.load(vj, 112), a7);
      vj += rowV;
    }
    const oc = out + (<usize>c << 2);
    v128.store(oc, a0);
    v128.store(oc, a1, 16);
    v128.store(oc, a2, 32);
    v128.store(oc, a3, 48);
    v128.store(oc, a4, 64);
    v128.store(oc, a5, 80);
    v128.store(oc, a6, 96);
    v128.store(oc, a7, 112);
  }
  for (; c + 4 <= d; c += 4) {
    let a0 = f32x4.splat(0);
    let vj = v + (<usize>c << 2);
    for (let j = 0; j < lim; j++) {
      a0 = madd(v128.load32_splat(p + (<usize>j << 2)), v128.load(vj), a0);
      vj += rowV;
    }
    v128.store(out + (<usize>c << 2), a0);
  }
  for (; c < d; c++) {
    let s: f32 = 0;
    for (let j = 0; j < lim; j++) s += load<f32>(p + (<usize>j << 2)) * load<f32>(v + <usize>j * rowV + (<usize>c << 2));
    store<f32>(out + (<usize>c << 2), s);
  }
}

/**
 * One head: out (nq x d) = softmax(scale q k^T + mask, causal) v. probs (nq x nk, stride
 * ldp) is caller scratch and holds the probabilities afterwards. mask and causal as in
 * f32_softmax (a fully masked row gives probs 0 and out 0). out must not overlap q, k, v
 * or probs.
 */
export function f32_attention(
  nq: i32, nk: i32, d: i32,
  q: usize, ldq: i32, k: usize, ldk: i32, v: usize, ldv: i32,
  out: usize, ldo: i32, probs: usize, ldp: i32,
  scale: f32, mask: usize, ldm: i32, causal: i32,
): void {
  const rowQ = <usize>ldq << 2;
  const rowP = <usize>ldp << 2;
  const rowO = <usize>ldo << 2;
  // Scores (only the columns a row keeps; softmax zeroes the rest).
  let i = 0;
  for (; i + 2 <= nq; i += 2) {
    const pa = probs + <usize>i * rowP;
    scores2(causalLimit(i + 1, nk, causal), d, q + <usize>i * rowQ, q + <usize>(i + 1) * rowQ, k, ldk, pa, pa + rowP);
  }
  if (i < nq) scores1(causalLimit(i, nk, causal), d, q + <usize>i * rowQ, k, ldk, probs + <usize>i * rowP);
  for (i = 0; i < nq; i++) {
    const m = mask != 0 ? mask + ((<usize>i * <usize>ldm) << 2) : 0;
    const p = probs + <usize>i * rowP;
    softmaxRow(nk, causalLimit(i, nk, causal), p, p, scale, m);
  }
  // probs . v: a block's rows are zero past their own limit, so the block uses its last row's.
  i = 0;
  for (; i + 4 <= nq; i += 4) pv4(causalLimit(i + 3, nk, causal), d, probs + <usize>i * rowP, ldp, v, ldv, out + <usize>i * rowO, ldo);
  for (; i < nq; i++) pv1(causalLimit(i, nk, causal), d, probs + <usize>i * rowP, v, ldv, out + <usize>i * rowO);
}

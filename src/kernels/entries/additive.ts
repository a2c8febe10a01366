import { readF32 } from "../bindings.js";
import { type Dims, type KernelEntry, stage } from "../kernel_entry.js";
import { padded, unpad } from "./strided.js";

// dims: nq, nk, h. Strides wider than the rows (qp h+1, kp h+3, scores nk+2), so reads past a
// row's end (NaN padding) and writes past it show up.
const ld = (d: Dims) => ({ q: d.h + 1, k: d.h + 3, s: d.nk + 2 });

const shape = (nq: number, nk: number, h: number): Dims => ({ nq, nk, h });

const additive: KernelEntry = {
  name: "f32_additive_scores",
  // One query x 4 keys per pass, the hidden axis in f32x4.
  tile: { nq: 1, nk: 4, h: 4 },
  shapes: [
    // Keys around the 4-key block, hidden sizes around the vector width, primes.
    ...[1, 3, 4, 5, 9, 13].map((nk) => shape(2, nk, 8)),
    ...[1, 3, 4, 5, 7, 17, 64].map((h) => shape(3, 6, h)),
    shape(1, 31, 31),
    shape(7, 1, 5),
    shape(13, 11, 33),
    shape(5, 130, 64),
  ],
  benchShapes: [shape(1, 128, 64), shape(32, 32, 64), shape(1, 1, 1)],
  // Per (i, j, h): an add, a tanh (counted as one op: the kernel is bound by it) and a multiply-add.
  flops: (d) => 4 * d.nq * d.nk * d.h,
  makeCase(d, rng) {
    const l = ld(d);
    // q + k in [-4, 4]: both tanh branches (odd polynomial below 0.55, exp form above) and saturation.
    return {
      dims: d,
      inputs: { qp: padded(rng, d.nq, d.h, l.q, -2, 2), kp: padded(rng, d.nk, d.h, l.k, -2, 2), v: rng.f32(d.h, -1, 1) },
      params: {},
    };
  },
  reference(c) {
    const { nq, nk, h } = c.dims;
    const l = ld(c.dims);
    const { qp, kp, v } = c.inputs;
    const out = new Float64Array(nq * nk);
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < nk; j++) {
        let s = 0;
        for (let x = 0; x < h; x++) s += v[x] * Math.tanh(qp[i * l.q + x] + kp[j * l.k + x]);
        out[i * nk + j] = s;
      }
    }
    return out;
  },
  run(kx, engine, c) {
    const { nq, nk, h } = c.dims;
    const l = ld(c.dims);
    const p = stage(engine, { ...c.inputs, scores: new Float32Array(nq * l.s).fill(NaN) });
    kx.f32_additive_scores(nq, nk, h, p.qp, l.q, p.kp, l.k, p.v, p.scores, l.s);
    const s = readF32(engine, p.scores, nq * l.s);
    // The stride padding must be left alone (still NaN) by the kernel.
    for (let i = 0; i < nq; i++) for (let j = nk; j < l.s; j++) if (!Number.isNaN(s[i * l.s + j])) s[i * l.s] = NaN;
    return unpad(s, nq, nk, l.s);
  },
  // A score is a sum of h terms |v tanh(.)| <= |v|, each within ~2e-7 relative (tanh 1.5e-7 plus
  // the rounding of q + k); relative to sum |v|, as for the other reductions.
  tolerance: { abs: 0, rel: 1e-6 },
  errorScale: (c) => c.inputs.v.reduce((a, x) => a + Math.abs(x), 0),
};

/** Additive attention scores (assembly/f32_additive.ts). */
export const ADDITIVE_KERNELS: KernelEntry[] = [additive];

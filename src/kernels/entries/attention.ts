import { readF32 } from "../bindings.js";
import { type Dims, type KernelEntry, stage } from "../kernel_entry.js";
import { causalLimit, padded, softmaxRef, unpad } from "./strided.js";

// dims: nq, nk, d, mask (0 none, 1 per query row, 2 one broadcast row), causal (-1 off).
// Every operand has a stride wider than its rows (q d+1, k d+3, v d+2, out d+5, probs nk+1).
const ld = (d: Dims) => ({ q: d.d + 1, k: d.d + 3, v: d.d + 2, o: d.d + 5, p: d.nk + 1, m: d.mask === 2 ? 0 : d.nk + 2 });

const shape = (nq: number, nk: number, d: number, mask = 0, causal = -1): Dims => ({ nq, nk, d, mask, causal });

const attention: KernelEntry = {
  name: "f32_attention",
  // Scores in 2 queries x 4 keys (1 x 8 for decode), probs . v in 4 queries x 8 floats.
  tile: { nq: 4, nk: 8, d: 8 },
  shapes: [
    // Decode: one query against 1, tile-1, tile, tile+1, prime and long caches.
    ...[1, 7, 8, 9, 31, 130].map((nk) => shape(1, nk, 64)),
    shape(1, 33, 13),
    shape(1, 17, 128),
    // Prefill blocks around the tiles, odd head sizes, masks and causal offsets.
    ...[2, 3, 4, 5, 9].map((nq) => shape(nq, 11, 32)),
    shape(7, 7, 31, 0, 0),
    shape(8, 8, 64, 0, 0),
    shape(5, 12, 4, 0, 7),
    shape(6, 19, 17, 1, -1),
    shape(4, 10, 8, 2, 6),
    shape(13, 13, 1, 1, 0),
    shape(33, 33, 128, 0, 0),
  ],
  benchShapes: [shape(1, 128, 64), shape(1, 512, 64), shape(128, 128, 64), shape(128, 128, 64, 0, 0), shape(1, 1, 1)],
  flops: (d) => 4 * d.nq * d.nk * d.d,
  makeCase(d, rng) {
    const l = ld(d);
    const inputs: Record<string, Float32Array> = {
      q: padded(rng, d.nq, d.d, l.q),
      k: padded(rng, d.nk, d.d, l.k),
      v: padded(rng, d.nk, d.d, l.v),
    };
    if (d.mask) {
      const mrows = d.mask === 2 ? 1 : d.nq;
      const w = l.m || d.nk;
      const m = padded(rng, mrows, d.nk, w, 0, 1);
      // About a fifth of the keys masked (padding), and query row 1 fully masked.
      for (let r = 0; r < mrows; r++) for (let j = 0; j < d.nk; j++) m[r * w + j] = m[r * w + j] < 0.2 || (r === 1 && d.mask === 1) ? -Infinity : 0;
      inputs.mask = m;
    }
    // Scores of a few units: softmax neither flat nor one-hot.
    return { dims: d, inputs, params: { scale: 3 / Math.sqrt(d.d) } };
  },
  /** out (nq x d) followed by probs (nq x nk). */
  reference(c) {
    const { nq, nk, d, causal } = c.dims;
    const l = ld(c.dims);
    const { q, k, v, mask } = c.inputs;
    const out = new Float64Array(nq * d + nq * nk);
    const t = new Float64Array(nk);
    for (let i = 0; i < nq; i++) {
      for (let j = 0; j < nk; j++) {
        let s = 0;
        for (let x = 0; x < d; x++) s += q[i * l.q + x] * k[j * l.k + x];
        t[j] = c.params.scale * s + (mask ? mask[i * l.m + j] : 0);
      }
      const p = softmaxRef(t, causalLimit(i, nk, causal), nk);
      out.set(p, nq * d + i * nk);
      for (let x = 0; x < d; x++) {
        let s = 0;
        for (let j = 0; j < nk; j++) if (p[j] !== 0) s += p[j] * v[j * l.v + x];
        out[i * d + x] = s;
      }
    }
    return out;
  },
  run(kx, engine, c) {
    const { nq, nk, d, causal } = c.dims;
    const l = ld(c.dims);
    const p = stage(engine, { ...c.inputs, out: new Float32Array(nq * l.o), probs: new Float32Array(nq * l.p).fill(NaN) });
    kx.f32_attention(nq, nk, d, p.q, l.q, p.k, l.k, p.v, l.v, p.out, l.o, p.probs, l.p, c.params.scale, p.mask ?? 0, l.m, causal);
    const res = new Float32Array(nq * d + nq * nk);
    res.set(unpad(readF32(engine, p.out, nq * l.o), nq, d, l.o));
    res.set(unpad(readF32(engine, p.probs, nq * l.p), nq, nk, l.p), nq * d);
    return res;
  },
  // Scores carry ~sqrt(d) ulp of |q||k|, which softmax turns into relative error of the
  // probabilities; out and probs are both O(1). Measured <= 4.3e-7 of the largest (SIMD),
  // 7e-7 (scalar twin, one f32 accumulator per dot product).
  tolerance: { abs: 0, rel: 2e-6 },
};

/** One-head attention (assembly/f32_attention.ts). */
export const ATTENTION_KERNELS: KernelEntry[] = [attention];

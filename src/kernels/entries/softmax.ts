import { readF32 } from "../bindings.js";
import { axisSizes, type Dims, type KernelEntry, stage } from "../kernel_entry.js";
import { causalLimit, padded, softmaxRef, unpad } from "./strided.js";

// dims: rows, n, mask (0 none, 1 one row per row, 2 one row broadcast: ldm 0), causal (-1 off).
// Strides are wider than n (and not multiples of 4) so rows start unaligned.
const ldxOf = (d: Dims) => d.n + 3;
const ldoOf = (d: Dims) => d.n + 1;
const ldmOf = (d: Dims) => (d.mask === 2 ? 0 : d.n + 2);

const plain = (rows: number, n: number): Dims => ({ rows, n, mask: 0, causal: -1 });

const softmax: KernelEntry = {
  name: "f32_softmax",
  tile: { n: 8 },
  shapes: [
    ...axisSizes(8).map((n) => plain(3, n)),
    plain(1, 1),
    { rows: 5, n: 13, mask: 1, causal: -1 },
    { rows: 4, n: 33, mask: 2, causal: -1 },
    { rows: 9, n: 9, mask: 0, causal: 0 },
    { rows: 6, n: 17, mask: 1, causal: 2 },
    { rows: 7, n: 40, mask: 2, causal: 31 },
    { rows: 2, n: 1031, mask: 1, causal: -1 },
  ],
  // 128 x 1024 (issue 4), 8 heads x 12 x 128 x 128 attention rows, and one element (call overhead).
  benchShapes: [plain(128, 1024), plain(12288, 128), plain(1, 1)],
  flops: () => 0,
  makeCase(d, rng) {
    const inputs: Record<string, Float32Array> = { x: padded(rng, d.rows, d.n, ldxOf(d), -4, 4) };
    if (d.mask) {
      const mrows = d.mask === 2 ? 1 : d.rows;
      const m = padded(rng, mrows, d.n, ldmOf(d) || d.n, 0, 1);
      for (let r = 0; r < mrows; r++) {
        for (let c = 0; c < d.n; c++) {
          // About a quarter masked, and row 1 fully masked (its output must be zeros).
          const i = r * (ldmOf(d) || d.n) + c;
          m[i] = m[i] < 0.25 || (r === 1 && d.mask === 1) ? -Infinity : 0;
        }
      }
      inputs.mask = m;
    }
    // Both signs of scale: the kernel finds max x or min x accordingly.
    const scale = rng.next() < 0.5 ? rng.uniform(0.3, 2) : -rng.uniform(0.3, 2);
    return { dims: d, inputs, params: { scale } };
  },
  reference(c) {
    const { rows, n, causal } = c.dims;
    const out = new Float64Array(rows * n);
    const t = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < n; j++) {
        const m = c.inputs.mask ? c.inputs.mask[r * ldmOf(c.dims) + j] : 0;
        t[j] = c.params.scale * c.inputs.x[r * ldxOf(c.dims) + j] + m;
      }
      out.set(softmaxRef(t, causalLimit(r, n, causal), n), r * n);
    }
    return out;
  },
  run(k, engine, c) {
    const { rows, n } = c.dims;
    const p = stage(engine, { ...c.inputs, out: new Float32Array(rows * ldoOf(c.dims)) });
    k.f32_softmax(rows, n, p.x, ldxOf(c.dims), p.out, ldoOf(c.dims), c.params.scale, p.mask ?? 0, ldmOf(c.dims), c.dims.causal);
    return unpad(readF32(engine, p.out, rows * ldoOf(c.dims)), rows, n, ldoOf(c.dims));
  },
  // exp core <= 1.8e-7 relative, plus the rounding of (t - max) log2 e and of the f32 sum:
  // measured <= 2.5e-7 of the largest output (strict 1.6e-7, relaxed 2.5e-7, scalar 1e-7).
  tolerance: { abs: 0, rel: 1e-6 },
};

const logSoftmax: KernelEntry = {
  name: "f32_log_softmax",
  tile: { n: 8 },
  shapes: [...axisSizes(8).map((n) => ({ rows: 3, n })), { rows: 1, n: 1 }, { rows: 2, n: 1031 }],
  benchShapes: [{ rows: 128, n: 1024 }, { rows: 1, n: 32000 }, { rows: 1, n: 1 }],
  flops: () => 0,
  makeCase: (d, rng) => ({ dims: d, inputs: { x: padded(rng, d.rows, d.n, d.n + 3, -8, 8) }, params: {} }),
  reference(c) {
    const { rows, n } = c.dims;
    const out = new Float64Array(rows * n);
    for (let r = 0; r < rows; r++) {
      const x = c.inputs.x.subarray(r * (n + 3), r * (n + 3) + n);
      const m = Math.max(...x);
      let s = 0;
      for (const v of x) s += Math.exp(v - m);
      for (let j = 0; j < n; j++) out[r * n + j] = x[j] - m - Math.log(s);
    }
    return out;
  },
  run(k, engine, c) {
    const { rows, n } = c.dims;
    const p = stage(engine, { ...c.inputs, out: new Float32Array(rows * (n + 1)) });
    k.f32_log_softmax(rows, n, p.x, n + 3, p.out, n + 1);
    return unpad(readF32(engine, p.out, rows * (n + 1)), rows, n, n + 1);
  },
  // log of the f32 exp sum: ~1e-7 relative to the largest |output| (the row's spread + log n).
  tolerance: { abs: 0, rel: 1e-6 },
};

/** Softmax family (assembly/f32_softmax.ts). */
export const SOFTMAX_KERNELS: KernelEntry[] = [softmax, logSoftmax];

import { readF32 } from "../bindings.js";
import { axisSizes, type Dims, type KernelEntry, stage } from "../kernel_entry.js";
import { padded, unpad } from "./strided.js";

// dims: rows, heads, headDim, interleaved (1 pairs (2i, 2i+1), 0 halves), pos0 (first position).
const ldOf = (d: Dims) => d.heads * d.headDim + 3;

const rope: KernelEntry = {
  name: "f32_rope",
  // Four pairs per vector step: headDim 8.
  tile: { headDim: 8 },
  shapes: [
    ...axisSizes(8, 130).filter((h) => h % 2 === 0).flatMap((headDim) => [0, 1].map((interleaved) => ({ rows: 3, heads: 2, headDim, interleaved, pos0: 5 }))),
    ...[0, 1].map((interleaved) => ({ rows: 2, heads: 3, headDim: 64, interleaved, pos0: 4093 })),
    { rows: 2, heads: 1, headDim: 36, interleaved: 0, pos0: 1_000_000 },
    ...[0, 1].map((interleaved) => ({ rows: 1, heads: 1, headDim: 2, interleaved, pos0: 0 })),
  ],
  // Prefill of 128 tokens x 12 heads x 64, and one decode step of 32 heads x 128.
  benchShapes: [{ rows: 128, heads: 12, headDim: 64, interleaved: 0, pos0: 0 }, { rows: 1, heads: 32, headDim: 128, interleaved: 0, pos0: 100 }],
  flops: () => 0,
  makeCase: (d, rng) => ({ dims: d, inputs: { x: padded(rng, d.rows, d.heads * d.headDim, ldOf(d)) }, params: { theta: 10000 } }),
  reference(c) {
    const { rows, heads, headDim, interleaved, pos0 } = c.dims;
    const w = heads * headDim;
    const out = new Float64Array(rows * w);
    const half = headDim / 2;
    for (let r = 0; r < rows; r++) {
      for (let h = 0; h < heads; h++) {
        const base = r * ldOf(c.dims) + h * headDim;
        for (let i = 0; i < half; i++) {
          const a = (pos0 + r) * Math.pow(c.params.theta, (-2 * i) / headDim);
          const [p, q] = interleaved ? [2 * i, 2 * i + 1] : [i, i + half];
          const u = c.inputs.x[base + p];
          const v = c.inputs.x[base + q];
          out[r * w + h * headDim + p] = u * Math.cos(a) - v * Math.sin(a);
          out[r * w + h * headDim + q] = v * Math.cos(a) + u * Math.sin(a);
        }
      }
    }
    return out;
  },
  run(k, engine, c) {
    const { rows, heads, headDim, interleaved, pos0 } = c.dims;
    const p = stage(engine, c.inputs);
    k.f32_rope(rows, heads, headDim, p.x, ldOf(c.dims), pos0, c.params.theta, interleaved);
    return unpad(readF32(engine, p.x, rows * ldOf(c.dims)), rows, heads * headDim, ldOf(c.dims));
  },
  // sin/cos within ~1e-7 plus the rounding of the two products: measured <= 1.1e-7 of max |x|.
  tolerance: { abs: 0, rel: 1e-6 },
};

const sinusoidal: KernelEntry = {
  name: "f32_sinusoidal",
  tile: { d: 2 },
  shapes: [...axisSizes(2, 512).map((d) => ({ rows: 3, d, pos0: 7 })), { rows: 2, d: 64, pos0: 8191 }, { rows: 2, d: 36, pos0: 1_000_000 }],
  benchShapes: [{ rows: 512, d: 512, pos0: 0 }, { rows: 1, d: 512, pos0: 100 }],
  flops: () => 0,
  makeCase: (d) => ({ dims: d, inputs: {}, params: {} }),
  reference(c) {
    const { rows, d, pos0 } = c.dims;
    const out = new Float64Array(rows * d);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) {
        const a = (pos0 + r) / Math.pow(10000, (j - (j % 2)) / d);
        out[r * d + j] = j % 2 ? Math.cos(a) : Math.sin(a);
      }
    }
    return out;
  },
  run(k, engine, c) {
    const { rows, d, pos0 } = c.dims;
    const p = stage(engine, { out: new Float32Array(rows * (d + 3)) });
    k.f32_sinusoidal(rows, d, pos0, p.out, d + 3);
    return unpad(readF32(engine, p.out, rows * (d + 3)), rows, d, d + 3);
  },
  // f64 angles, sin/cos polynomials in f32 lanes: measured <= 8e-8 (up to position 1e6).
  tolerance: { abs: 0, rel: 3e-7 },
};

/** Position encodings (assembly/f32_rope.ts). */
export const POSITION_KERNELS: KernelEntry[] = [rope, sinusoidal];

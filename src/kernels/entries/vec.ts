import { readF32 } from "../bindings.js";
import { axisSizes, type KernelEntry, stage } from "../kernel_entry.js";
import { padded, unpad } from "./strided.js";

const vecAdd: KernelEntry = {
  name: "f32_add",
  tile: { n: 4 },
  shapes: axisSizes(4).map((n) => ({ n })),
  benchShapes: [{ n: 1 }, { n: 4096 }],
  flops: (d) => d.n,
  makeCase: (d, rng) => ({ dims: d, inputs: { a: rng.f32(d.n), b: rng.f32(d.n) }, params: {} }),
  reference: (c) => Float64Array.from(c.inputs.a, (x, i) => x + c.inputs.b[i]),
  run(k, engine, c) {
    const p = stage(engine, { ...c.inputs, out: new Float32Array(c.dims.n) });
    k.f32_add(c.dims.n, p.a, p.b, p.out);
    return readF32(engine, p.out, c.dims.n);
  },
  tolerance: { abs: 0, rel: 1e-7 },
};

const vecDot: KernelEntry = {
  name: "f32_dot",
  tile: { n: 8 },
  shapes: axisSizes(8).map((n) => ({ n })),
  benchShapes: [{ n: 1 }, { n: 4096 }],
  flops: (d) => 2 * d.n,
  makeCase: (d, rng) => ({ dims: d, inputs: { a: rng.f32(d.n), b: rng.f32(d.n) }, params: {} }),
  reference(c) {
    let s = 0;
    for (let i = 0; i < c.dims.n; i++) s += c.inputs.a[i] * c.inputs.b[i];
    return Float64Array.of(s);
  },
  run(k, engine, c) {
    const p = stage(engine, c.inputs);
    return Float32Array.of(k.f32_dot(c.dims.n, p.a, p.b));
  },
  // Summation order differs from the reference: the error is relative to sum |a_i b_i|.
  tolerance: { abs: 0, rel: 1e-6 },
  errorScale(c) {
    let s = 0;
    for (let i = 0; i < c.dims.n; i++) s += Math.abs(c.inputs.a[i] * c.inputs.b[i]);
    return s;
  },
};

// Rows of n floats copied between strided matrices (KV cache writes inside plans); the
// source padding is NaN, so a copy reading past a row shows up in the output.
const copyRows: KernelEntry = {
  name: "f32_copy_rows",
  tile: { rows: 1, n: 4 },
  shapes: axisSizes(4, 67).flatMap((n) => [1, 2, 7].map((rows) => ({ rows, n }))),
  benchShapes: [{ rows: 1, n: 64 }, { rows: 8, n: 64 }],
  flops: () => 0,
  makeCase: (d, rng) => ({ dims: d, inputs: { src: padded(rng, d.rows, d.n, d.n + 3) }, params: {} }),
  reference: (c) => Float64Array.from(unpad(c.inputs.src, c.dims.rows, c.dims.n, c.dims.n + 3)),
  run(k, engine, c) {
    const { rows, n } = c.dims;
    const ldd = n + 5;
    const p = stage(engine, { src: c.inputs.src, dst: new Float32Array(rows * ldd) });
    k.f32_copy_rows(rows, n, p.src, n + 3, p.dst, ldd);
    return unpad(readF32(engine, p.dst, rows * ldd), rows, n, ldd);
  },
  tolerance: { abs: 0, rel: 0 },
};

/** Elementwise kernels of assembly/f32_vec.ts. */
export const VEC_KERNELS: KernelEntry[] = [vecAdd, vecDot, copyRows];

import type { Engine } from "../runtime/engine.js";
import { Rng } from "../util/rng.js";
import { readF32, writeF32 } from "./bindings.js";
import type { KernelExports } from "./exports.js";

/** Named sizes of one kernel call, e.g. { m: 5, k: 13, n: 9 }. */
export type Dims = Record<string, number>;

/** One generated call: inputs by name, plus scalar parameters. */
export interface KernelCase {
  dims: Dims;
  inputs: Record<string, Float32Array>;
  params: Record<string, number>;
}

/**
 * A kernel in the registry. Tests run every entry on every build and shape against
 * its float64 reference; benchmarks time it on `benchShapes`.
 */
export interface KernelEntry {
  /** The wasm export (same name in every build). */
  name: keyof KernelExports;
  /** Register tile / vector width along each axis; the test shapes derive from it. */
  tile: Dims;
  /** Test shapes: 1, tile-1, tile, tile+1, primes and a large one per axis. */
  shapes: Dims[];
  /** Shapes timed by bench/kernels.bench.ts. */
  benchShapes: Dims[];
  /** Floating-point operations of one call (0 when not compute-bound). */
  flops(d: Dims): number;
  makeCase(d: Dims, rng: Rng): KernelCase;
  /** The expected output in float64. */
  reference(c: KernelCase): Float64Array;
  /** Stages the case in wasm memory, calls the kernel, returns its output. */
  run(k: KernelExports, engine: Engine, c: KernelCase): Float32Array;
  /** Allowed error: |got - want| <= abs + rel * errorScale(case). */
  tolerance: { abs: number; rel: number };
  /** Magnitude the error is relative to; default max |reference|. Reductions use the sum of |terms|. */
  errorScale?(c: KernelCase): number;
}

/** The sizes worth testing along an axis whose tile is `t`: edges, primes and a large one. */
export function axisSizes(t: number, large = 1031): number[] {
  return [...new Set([1, t - 1, t, t + 1, 2 * t + 1, 7, 13, 31, large].filter((x) => x >= 1))].sort((a, b) => a - b);
}

/** Copies the named arrays into scratch and returns their byte offsets. */
export function stage(engine: Engine, arrays: Record<string, Float32Array>): Record<string, number> {
  const ptrs: Record<string, number> = {};
  for (const [name, a] of Object.entries(arrays)) {
    ptrs[name] = engine.scratch.alloc(a.length * 4);
    writeF32(engine, ptrs[name], a);
  }
  return ptrs;
}

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

/** Every kernel, in ABI order. New kernels add an entry here and are tested and benchmarked. */
export const KERNELS: KernelEntry[] = [vecAdd, vecDot];

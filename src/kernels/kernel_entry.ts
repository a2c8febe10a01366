import type { Engine } from "../engine/engine.js";
import type { Rng } from "../util/rng.js";
import { writeF32 } from "./bindings.js";
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

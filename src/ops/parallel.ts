// How ops cut one kernel call into independent tasks for Engine.runTasks. Cuts run along
// output rows, column panels or heads, never along a reduction, so any thread count gives
// bit-identical results.
import type { Engine } from "../engine/engine.js";
import type { KernelArgs } from "../engine/kernel_abi.js";
import { f32At, f32Bytes } from "../engine/memory.js";

/**
 * Number of tasks for `work` (flops, or bytes touched) split into at most `units` pieces:
 * one while the work is below what a pool dispatch costs (Engine.parallelWorthIt), else
 * one per thread.
 */
export function taskCount(engine: Engine, work: number, units: number): number {
  if (units <= 1 || !engine.parallelWorthIt(work)) return 1;
  return Math.min(engine.splitThreads, units);
}

/** Splits [0, n) into `parts` ranges whose starts are multiples of `align` (except n itself). */
export function splitRange(n: number, parts: number, align = 1): Array<[number, number]> {
  const blocks = Math.ceil(n / align);
  const p = Math.max(1, Math.min(parts, blocks));
  const out: Array<[number, number]> = [];
  for (let i = 0; i < p; i++) {
    const b0 = Math.floor((blocks * i) / p);
    const b1 = Math.floor((blocks * (i + 1)) / p);
    if (b1 > b0) out.push([b0 * align, Math.min(n, b1 * align)]);
  }
  return out;
}

/** Kernels `name(n, ...pointers, ...parameters)` over n floats, whose pointers can be cut into chunks. */
export type ElementwiseKernel =
  | "f32_add" | "f32_relu" | "f32_gelu" | "f32_gelu_tanh" | "f32_silu" | "f32_swiglu" | "f32_geglu" | "f32_geglu_f16" | "f32_softcap";

/** The parameters of elementwise kernel `K` after n and the pointers `P` (never: more pointers than it takes). */
type ParamsAfter<K extends ElementwiseKernel, P extends readonly number[]> =
  KernelArgs<K> extends [number, ...{ [I in keyof P]: number }, ...infer R] ? R : never;

/** What runElementwise takes after the pointers: nothing, the parameters, or (too many pointers) no valid value. */
type ElementwiseRest<K extends ElementwiseKernel, P extends readonly number[]> =
  [ParamsAfter<K, P>] extends [never] ? [params: never] : ParamsAfter<K, P> extends [] ? [] : [params: ParamsAfter<K, P>];

/**
 * Runs an elementwise kernel `name(n, ...ptrs, ...params)` over n floats, split into contiguous
 * chunks; `params` (absent when the kernel has none) complete the argument list after `ptrs`.
 */
export async function runElementwise<K extends ElementwiseKernel, const P extends readonly number[]>(
  engine: Engine, name: K, n: number, ptrs: P, ...rest: ElementwiseRest<K, P>
): Promise<void> {
  const params = (rest[0] ?? []) as readonly number[];
  const ranges = splitRange(n, taskCount(engine, f32Bytes(n), Math.ceil(n / 1024)), 16);
  // The types above made [n, ...ptrs, ...params] the kernel's argument list.
  await engine.runTasks(name, ranges.map(([a, b]) => [b - a, ...ptrs.map((p) => f32At(p, a)), ...params] as KernelArgs<K>));
}

/** Copies `n` int32 values into scratch and returns their byte offset. */
export function stageI32(engine: Engine, values: ArrayLike<number>): number {
  const ptr = engine.scratch.alloc(f32Bytes(values.length));
  engine.writeI32(ptr, values);
  return ptr;
}

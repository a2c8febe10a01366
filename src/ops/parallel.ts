// How ops cut one kernel call into independent tasks for Engine.runTasks. Cuts run along
// output rows, column panels or heads, never along a reduction, so any thread count gives
// bit-identical results.
import type { Engine } from "../runtime/engine.js";

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

/** Runs an elementwise kernel `name(n, ...ptrs, ...params)` over n floats, split into contiguous chunks. */
export async function runElementwise(engine: Engine, name: string, n: number, ptrs: number[], params: number[] = []): Promise<void> {
  const ranges = splitRange(n, taskCount(engine, n * 4, Math.ceil(n / 1024)), 16);
  await engine.runTasks(name, ranges.map(([a, b]) => [b - a, ...ptrs.map((p) => p + a * 4), ...params]));
}

/** Copies `n` int32 values into scratch and returns their byte offset. */
export function stageI32(engine: Engine, values: ArrayLike<number>): number {
  const ptr = engine.scratch.alloc(values.length * 4);
  engine.writeI32(ptr, values);
  return ptr;
}

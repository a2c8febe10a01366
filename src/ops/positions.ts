import type { Engine } from "../engine/engine.js";
import type { KernelArgs } from "../engine/kernel_abi.js";
import { f32At, f32Bytes } from "../engine/memory.js";
import type { Embedding } from "./embedding.js";
import { runElementwise, splitRange, stageI32, taskCount } from "./parallel.js";
import type { Segment } from "./segments.js";

/**
 * Adds absolute position encodings to x (rows x d, contiguous) for every segment:
 * row j of a segment is at position past + j. Rotary positions are applied inside
 * attention instead (see ops/attention.ts).
 */
export async function addPositions(
  engine: Engine,
  kind: "sinusoidal" | "learned",
  segs: readonly Segment[],
  x: number,
  d: number,
  table?: Embedding,
): Promise<void> {
  const rows = segs.reduce((a, s) => a + s.length, 0);
  if (rows === 0) return;
  const pe = engine.scratch.alloc(f32Bytes(rows * d));
  if (kind === "sinusoidal") {
    const tasks: KernelArgs<"f32_sinusoidal">[] = [];
    for (const s of segs) {
      for (const [a, b] of splitRange(s.length, taskCount(engine, s.length * d * 16, s.length))) {
        tasks.push([b - a, d, s.past + a, f32At(pe, (s.row + a) * d), d]);
      }
    }
    await engine.runTasks("f32_sinusoidal", tasks);
  } else {
    const ids = new Int32Array(rows);
    for (const s of segs) for (let j = 0; j < s.length; j++) ids[s.row + j] = s.past + j;
    await table!.run(rows, stageI32(engine, ids), pe, d);
  }
  await runElementwise(engine, "f32_add", rows * d, [x, pe, x]);
}

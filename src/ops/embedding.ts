import { ShapeError } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import { f32At } from "../engine/memory.js";
import { splitRange, taskCount } from "./parallel.js";
import type { WeightBlocks } from "./weight_blocks.js";

/** A token (or learned position) table: out[r] = table[ids[r]] * scale. */
export class Embedding {
  private constructor(
    private readonly engine: Engine,
    readonly rows: number,
    readonly dim: number,
    /** Byte offset of the rows x dim table in the weights region. */
    readonly table: number,
  ) {}

  static create(engine: Engine, blocks: WeightBlocks, table: Float32Array, rows: number, dim: number): Embedding {
    if (table.length !== rows * dim) throw new ShapeError(`embedding: expected ${rows} x ${dim} = ${rows * dim} values, found ${table.length}`);
    return new Embedding(engine, rows, dim, blocks.upload(table));
  }

  /** out (n x dim, stride ldo) = table[ids] * scale; ids: n int32 at byte offset `ids`, already range-checked. */
  async run(n: number, ids: number, out: number, ldo: number, scale = 1): Promise<void> {
    const ranges = splitRange(n, taskCount(this.engine, n * this.dim * 8, n));
    await this.engine.runTasks("f32_embed", ranges.map(([a, b]) => [
      b - a, this.dim, f32At(ids, a), this.table, this.dim, f32At(out, a * ldo), ldo, scale,
    ]));
  }
}

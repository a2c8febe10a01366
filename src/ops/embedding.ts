import { ShapeError } from "../errors.js";
import { quantBytes, type QuantizedMatrix } from "../tensor/quant_blocks.js";
import type { Engine } from "../engine/engine.js";
import { f32At } from "../engine/memory.js";
import { type Linear, repackBlocks } from "./linear.js";
import { splitRange, taskCount } from "./parallel.js";
import type { WeightBlocks } from "./weight_blocks.js";

/** A token table as an embedding keeps it: float32, or q8_0 / q4_0 rows as a GGUF file stores them. */
export type EmbeddingTable = Float32Array | QuantizedMatrix;

/** Block types whose rows the gather dequantizes itself (a table in other types is widened by the loader). */
export const GATHERED_QUANTS: ReadonlySet<string> = new Set(["q8_0", "q4_0"]);

/** A q8_0 / q4_0 table as q8_0_repack / q4_0_repack pack it (byte offsets of quants and scales). */
export interface PackedQuantTable {
  type: "q8_0" | "q4_0";
  quants: number;
  scales: number;
}

/**
 * A token (or learned position) table: out[r] = table[ids[r]] * scale. A quantized table stays
 * quantized (1.125 or 0.625 bytes a value, not 4), repacked into the quantized linears' layout; a
 * table tied to the output head is gathered from the head's packed weight (see ofHead).
 */
export class Embedding {
  private constructor(
    private readonly engine: Engine,
    readonly rows: number,
    readonly dim: number,
    /** Byte offset of the rows x dim float table in the weights region, or of the head's panels (`panels`); 0 when quantized. */
    readonly table: number,
    /** The quantized table, when it is one. */
    readonly packed?: PackedQuantTable,
    /** `table` holds a tied output head's f32 panels (f32_gemm_pack_bt layout), not rows. */
    private readonly panels = false,
  ) {}

  /**
   * The token table of a tied output head, gathered from the head's own packed weight (f32 panels
   * or q8_0 / q4_0 blocks): one copy of the table serves both. Undefined for other heads (k-quants).
   */
  static ofHead(engine: Engine, head: Linear): Embedding | undefined {
    const q = head.packedQuant;
    if (q) return new Embedding(engine, head.outFeatures, head.inFeatures, 0, q);
    return head.weightType === "f32" ? new Embedding(engine, head.outFeatures, head.inFeatures, head.packed, undefined, true) : undefined;
  }

  static create(engine: Engine, blocks: WeightBlocks, table: EmbeddingTable, rows: number, dim: number): Embedding {
    if (table instanceof Float32Array) {
      if (table.length !== rows * dim) throw new ShapeError(`embedding: expected ${rows} x ${dim} = ${rows * dim} values, found ${table.length}`);
      return new Embedding(engine, rows, dim, blocks.upload(table));
    }
    if (table.type !== "q8_0" && table.type !== "q4_0") throw new ShapeError(`embedding: expected f32, q8_0 or q4_0 rows, found ${table.type}`);
    if (table.rows !== rows || table.cols !== dim || table.blocks.byteLength !== quantBytes(table.type, rows, dim)) {
      throw new ShapeError(`embedding: expected ${rows} x ${dim} ${table.type} rows (${quantBytes(table.type, rows, dim)} bytes), found ${table.rows} x ${table.cols} (${table.blocks.byteLength} bytes)`);
    }
    return new Embedding(engine, rows, dim, 0, { type: table.type, ...repackBlocks(engine, blocks, table) });
  }

  /** out (n x dim, stride ldo) = table[ids] * scale; ids: n int32 at byte offset `ids`, already range-checked. */
  async run(n: number, ids: number, out: number, ldo: number, scale = 1): Promise<void> {
    const ranges = splitRange(n, taskCount(this.engine, n * this.dim * 8, n));
    const q = this.packed;
    if (q) {
      await this.engine.runTasks(`${q.type}_embed`, ranges.map(([a, b]) => [b - a, this.dim, ids + a * 4, q.quants, q.scales, out + a * ldo * 4, ldo, scale]));
      return;
    }
    if (this.panels) {
      await this.engine.runTasks("f32_embed_packed", ranges.map(([a, b]) => [b - a, this.dim, ids + a * 4, this.table, out + a * ldo * 4, ldo, scale]));
      return;
    }
    await this.engine.runTasks("f32_embed", ranges.map(([a, b]) => [
      b - a, this.dim, f32At(ids, a), this.table, this.dim, f32At(out, a * ldo), ldo, scale,
    ]));
  }
}

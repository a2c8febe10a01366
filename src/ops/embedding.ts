import { ShapeError } from "../errors.js";
import { isKQuant, KQUANT_BLOCK_VALUES } from "../tensor/kquant_blocks.js";
import { quantBytes, type QuantizedMatrix, type QuantType } from "../tensor/quant_blocks.js";
import type { Engine } from "../engine/engine.js";
import { f32At } from "../engine/memory.js";
import { type Linear, repackBlocks } from "./linear.js";
import { splitRange, taskCount } from "./parallel.js";
import type { WeightBlocks } from "./weight_blocks.js";

/** A token table as an embedding keeps it: float32, or q8_0 / q4_0 / k-quant rows as a GGUF file stores them. */
export type EmbeddingTable = Float32Array | QuantizedMatrix;

/** Block types whose rows the gather dequantizes itself (a table in other types is widened by the loader). */
export const GATHERED_QUANTS: ReadonlySet<string> = new Set<QuantType>(["q8_0", "q4_0", "q4_k", "q5_k", "q6_k"]);

/**
 * A quantized table in the weights region (byte offsets): q8_0 / q4_0 as q8_0_repack /
 * q4_0_repack pack it (quants and scales), or k-quant super-blocks as stored (quants; scales 0).
 */
export interface PackedQuantTable {
  type: QuantType;
  quants: number;
  scales: number;
}

/**
 * A token (or learned position) table: out[r] = table[ids[r]] * scale. A quantized table stays
 * quantized (1.125 or 0.625 bytes a value for q8_0 / q4_0, repacked into the quantized linears'
 * layout; 0.56-0.82 for k-quants, as stored), only gathered rows dequantized; a table tied to the
 * output head is gathered from the head's packed weight (see ofHead).
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
   * The token table of a tied output head, gathered from the head's own packed weight (f32 panels,
   * q8_0 / q4_0 blocks, k-quant blocks as stored): one copy of the table serves both.
   */
  static ofHead(engine: Engine, head: Linear): Embedding {
    const q = head.packedQuant;
    if (q) return new Embedding(engine, head.outFeatures, head.inFeatures, 0, q);
    return new Embedding(engine, head.outFeatures, head.inFeatures, head.packed, undefined, true);
  }

  static create(engine: Engine, blocks: WeightBlocks, table: EmbeddingTable, rows: number, dim: number): Embedding {
    if (table instanceof Float32Array) {
      if (table.length !== rows * dim) throw new ShapeError(`embedding: expected ${rows} x ${dim} = ${rows * dim} values, found ${table.length}`);
      return new Embedding(engine, rows, dim, blocks.upload(table));
    }
    if (!GATHERED_QUANTS.has(table.type)) throw new ShapeError(`embedding: expected f32, q8_0, q4_0, q4_k, q5_k or q6_k rows, found ${table.type}`);
    if (isKQuant(table.type) && dim % KQUANT_BLOCK_VALUES !== 0) throw new ShapeError(`embedding: expected a ${table.type} row length that is a multiple of ${KQUANT_BLOCK_VALUES}, found ${dim}`);
    if (table.rows !== rows || table.cols !== dim || table.blocks.byteLength !== quantBytes(table.type, rows, dim)) {
      throw new ShapeError(`embedding: expected ${rows} x ${dim} ${table.type} rows (${quantBytes(table.type, rows, dim)} bytes), found ${table.rows} x ${table.cols} (${table.blocks.byteLength} bytes)`);
    }
    // K-quant rows are gathered from the blocks as stored (a block the loader staged is taken over, not copied).
    if (isKQuant(table.type)) return new Embedding(engine, rows, dim, 0, { type: table.type, quants: blocks.uploadBytes(table.blocks), scales: 0 });
    return new Embedding(engine, rows, dim, 0, { type: table.type, ...repackBlocks(engine, blocks, table) });
  }

  /** out (n x dim, stride ldo) = table[ids] * scale; ids: n int32 at byte offset `ids`, already range-checked. */
  async run(n: number, ids: number, out: number, ldo: number, scale = 1): Promise<void> {
    const ranges = splitRange(n, taskCount(this.engine, n * this.dim * 8, n));
    const q = this.packed;
    if (q) {
      const type = q.type;
      if (isKQuant(type)) await this.engine.runTasks(`${type}_embed`, ranges.map(([a, b]) => [b - a, this.dim, ids + a * 4, q.quants, out + a * ldo * 4, ldo, scale]));
      else await this.engine.runTasks(`${type}_embed`, ranges.map(([a, b]) => [b - a, this.dim, ids + a * 4, q.quants, q.scales, out + a * ldo * 4, ldo, scale]));
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

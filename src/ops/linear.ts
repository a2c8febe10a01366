import { ACT_GELU, ACT_GELU_F16, ACT_GELU_TANH, ACT_NONE, ACT_RELU, ACT_SILU, GEMM_ACCUMULATE } from "../kernels/exports.js";
import { ShapeError } from "../errors.js";
import { isKQuant } from "../tensor/kquant_blocks.js";
import { blockValues, QUANT_BLOCK_VALUES, quantBytes, type QuantizedMatrix, type QuantType } from "../tensor/quant_blocks.js";
import type { Engine } from "../engine/engine.js";
import { f32At, f32Bytes } from "../engine/memory.js";
import { splitRange, taskCount } from "./parallel.js";
import type { WeightBlocks } from "./weight_blocks.js";

/** Activation fused into a linear's epilogue. */
export type LinearActivation = "none" | "relu" | "gelu" | "gelu_tanh" | "gelu_f16" | "silu";

const ACT_CODE: Record<LinearActivation, number> = {
  none: ACT_NONE, relu: ACT_RELU, gelu: ACT_GELU, gelu_tanh: ACT_GELU_TANH, gelu_f16: ACT_GELU_F16, silu: ACT_SILU,
};

/** A dense weight as stored in a checkpoint. */
export interface LinearWeights {
  /**
   * out x in (torch nn.Linear), or in x out when `inOut` (HF GPT-2 Conv1D); or quantized
   * blocks (GGUF layout, rows = out, cols = in, never `inOut`), run by the quantized kernels.
   */
  weight: Float32Array | QuantizedMatrix;
  bias?: Float32Array;
  inFeatures: number;
  outFeatures: number;
  inOut?: boolean;
}

/** Options of one linear call. */
export interface LinearRun {
  /** Rows of A (tokens). */
  m: number;
  /** A (m x inFeatures) byte offset and row stride in floats. */
  a: number;
  lda: number;
  /** C (m x outFeatures) byte offset and row stride in floats. */
  c: number;
  ldc: number;
  /** Fused activation after the bias. */
  act?: LinearActivation;
  /** C += result (residual add) instead of C = result. */
  accumulate?: boolean;
}

/**
 * Where a quantized linear's weight lives: q8_0 / q4_0 repacked (see q8_0_repack in
 * engine/kernel_abi.ts), the k-quants' super-blocks as the file stores them (scales 0).
 */
interface QuantPacked {
  type: QuantType;
  /** Packed quants and f32 scales, or the k-quant blocks (byte offsets). */
  quants: number;
  scales: number;
}

/**
 * GGUF q8_0 / q4_0 blocks (rows x cols) repacked into the kernels' layout, in the weights region.
 * A block the loader staged with room for the result is repacked where it lies, one panel of 8
 * rows at a time through a small temporary (a panel's output never reaches the next panel's
 * input: 32 or 16 quant bytes per 34 or 18 read), the scales kept aside until every panel is read,
 * so no second copy of the weight is touched; other blocks are repacked into fresh ones (blocks
 * another op owns, such as a token table, from where they lie).
 */
export function repackBlocks(engine: Engine, blocks: WeightBlocks, q: QuantizedMatrix): { quants: number; scales: number } {
  const kern = engine.exports;
  const { rows: n, cols: k } = q;
  const q8 = q.type === "q8_0";
  if (!q8 && q.type !== "q4_0") throw new ShapeError(`repack: expected q8_0 or q4_0 blocks, found ${q.type}`);
  const repack = q8 ? kern.q8_0_repack : kern.q4_0_repack;
  const qBytes = q8 ? kern.q8_0_quant_bytes(n, k) : kern.q4_0_quant_bytes(n, k);
  const sBytes = kern.q_scale_bytes(n, k);
  const resident = blocks.resident(q.blocks);
  const raw = resident ?? blocks.uploadBytes(q.blocks);
  if (resident === undefined && blocks.stagedCapacity(raw) >= qBytes + sBytes) {
    const panels = Math.ceil(n / QUANT_ROWS);
    const panelQ = qBytes / panels;
    const panelS = sBytes / panels;
    const rowBytes = quantBytes(q.type, 1, k);
    const tmp = blocks.alloc(panelQ + panelS);
    const aside = blocks.alloc(sBytes);
    const u8 = engine.mem.u8;
    for (let p = 0; p < panels; p++) {
      repack(Math.min(QUANT_ROWS, n - p * QUANT_ROWS), k, raw + p * QUANT_ROWS * rowBytes, tmp, tmp + panelQ);
      u8.copyWithin(raw + p * panelQ, tmp, tmp + panelQ);
      u8.copyWithin(aside + p * panelS, tmp + panelQ, tmp + panelQ + panelS);
    }
    u8.copyWithin(raw + qBytes, aside, aside + sBytes);
    blocks.release(aside);
    blocks.release(tmp);
    return { quants: raw, scales: raw + qBytes };
  }
  const quants = blocks.alloc(qBytes);
  const scales = blocks.alloc(sBytes);
  repack(n, k, raw, quants, scales);
  if (resident === undefined) blocks.release(raw);
  return { quants, scales };
}

/** Rows of W per task boundary of the quantized kernels: one packed panel of 8. */
const QUANT_ROWS = 8;

/**
 * y = act(x W^T + b) [+ y]: the weight is packed once (f32_gemm_pack_bt, or q8_0/q4_0 repack;
 * k-quant blocks are copied as they are) into the weights region; each run is one GEMM (or GEMV for one row) split over tasks by
 * rows or panels. Quantized weights quantize x to int8 records first (q8_quantize_rows, q8k_quantize_rows) and
 * split by output rows only.
 */
export class Linear {
  private constructor(
    private readonly engine: Engine,
    readonly inFeatures: number,
    readonly outFeatures: number,
    /** Packed weight (byte offset); 0 when quantized. */
    readonly packed: number,
    /** Bias (byte offset) or 0. */
    readonly bias: number,
    private readonly nr: number,
    /** The quantized weight, when the layer holds one. */
    private readonly quant?: QuantPacked,
  ) {}

  /** The quantized weight (q8_0 / q4_0 packed quants and scales, or k-quant blocks as stored; scales 0), for a tied token table that shares it; undefined for f32. */
  get packedQuant(): { type: QuantType; quants: number; scales: number } | undefined {
    const q = this.quant;
    return q && { type: q.type, quants: q.quants, scales: q.scales };
  }

  /** The weight's element type: "f32" or a block-quantized type. */
  get weightType(): "f32" | QuantType {
    return this.quant?.type ?? "f32";
  }

  static create(engine: Engine, blocks: WeightBlocks, w: LinearWeights): Linear {
    const { inFeatures: k, outFeatures: n } = w;
    if (!(w.weight instanceof Float32Array)) return Linear.createQuantized(engine, blocks, w, w.weight);
    if (w.weight.length !== k * n) throw new ShapeError(`linear weight: expected ${n} x ${k} = ${n * k} values, found ${w.weight.length}`);
    if (w.bias && w.bias.length !== n) throw new ShapeError(`linear bias: expected ${n} values, found ${w.bias.length}`);
    const kern = engine.exports;
    // A weight already in this memory that another op owns (the tied output head reads the
    // embedding table) is packed from where it lies, without a copy.
    const resident = blocks.resident(w.weight);
    const raw = resident ?? blocks.upload(w.weight);
    const bytes = f32Bytes(kern.f32_gemm_packed_size(k, n));
    const pack = (to: number) => (w.inOut ? kern.f32_gemm_pack_b(k, n, raw, n, to) : kern.f32_gemm_pack_bt(k, n, raw, k, to));
    let packed: number;
    if (resident === undefined && !w.inOut && bytes === f32Bytes(k * n)) {
      // No panel padding: packed in place, one panel (8 rows of W, the same bytes packed) at a
      // time through a small temporary, so no second copy of the weight is ever touched.
      const panel = f32Bytes(kern.f32_gemm_nr() * k);
      const tmp = blocks.alloc(panel);
      const u8 = engine.mem.u8;
      for (let at = 0; at < bytes; at += panel) {
        kern.f32_gemm_pack_bt(k, kern.f32_gemm_nr(), raw + at, k, tmp);
        u8.copyWithin(raw + at, tmp, tmp + panel);
      }
      blocks.release(tmp);
      packed = raw;
    } else {
      packed = blocks.alloc(bytes);
      pack(packed);
      if (resident === undefined) blocks.release(raw);
    }
    const bias = w.bias ? blocks.upload(w.bias) : 0;
    return new Linear(engine, k, n, packed, bias, kern.f32_gemm_nr());
  }

  /** Repacks GGUF q8_0 / q4_0 blocks into the kernels' layout (the raw blocks are staged and released); k-quant blocks are copied as stored. */
  private static createQuantized(engine: Engine, blocks: WeightBlocks, w: LinearWeights, q: QuantizedMatrix): Linear {
    const { inFeatures: k, outFeatures: n } = w;
    if (q.rows !== n || q.cols !== k) throw new ShapeError(`linear ${q.type} weight: expected ${n} x ${k}, found ${q.rows} x ${q.cols}`);
    const per = blockValues(q.type);
    if (k % per !== 0) throw new ShapeError(`linear ${q.type} weight: expected in features a multiple of ${per}, found ${k}`);
    if (w.inOut) throw new ShapeError(`linear ${q.type} weight: expected out x in blocks, found inOut (Conv1D) layout`);
    if (w.bias && w.bias.length !== n) throw new ShapeError(`linear bias: expected ${n} values, found ${w.bias.length}`);
    const need = quantBytes(q.type, n, k);
    if (q.blocks.byteLength !== need) throw new ShapeError(`linear ${q.type} weight: expected ${need} bytes of blocks, found ${q.blocks.byteLength}`);
    const kern = engine.exports;
    const bias = () => (w.bias ? blocks.upload(w.bias) : 0);
    if (isKQuant(q.type)) {
      // Used as stored: a block the loader staged is taken over, not copied.
      const stored = blocks.uploadBytes(q.blocks);
      return new Linear(engine, k, n, 0, bias(), kern.f32_gemm_nr(), { type: q.type, quants: stored, scales: 0 });
    }
    const { quants, scales } = repackBlocks(engine, blocks, q);
    return new Linear(engine, k, n, 0, bias(), kern.f32_gemm_nr(), { type: q.type, quants, scales });
  }

  /** The quantized run: x rows to int8 blocks in scratch, then GEMV/GEMM split by rows of W. */
  private async runQuantized(r: LinearRun, q: QuantPacked, flags: number): Promise<void> {
    const { m } = r;
    const n = this.outFeatures;
    const k = this.inFeatures;
    const xq = this.engine.scratch.alloc(m * this.engine.exports.q8_xq_bytes(k));
    // Per weight type, llama.cpp's activation rounding (Q8_K for the k-quants, q8_0 for the others);
    // one task through runTasks so a decode plan records it like any other op.
    await this.engine.runTasks(isKQuant(q.type) ? "q8k_quantize_rows" : "q8_quantize_rows", [[m, k, r.a, r.lda, xq]]);
    const ranges = splitRange(n, taskCount(this.engine, 2 * m * n * k, Math.ceil(n / QUANT_ROWS)), QUANT_ROWS);
    const bias = (j0: number) => (this.bias ? f32At(this.bias, j0) : 0);
    if (isKQuant(q.type)) {
      // Stored rows: a row range [j0, ..) of W starts at byte j0 * the bytes of one row.
      const row = quantBytes(q.type, 1, k);
      await this.engine.runTasks(m === 1 ? `${q.type}_gemv` : `${q.type}_gemm`, ranges.map(([j0, j1]) => m === 1
        ? [j1 - j0, k, xq, q.quants + j0 * row, f32At(r.c, j0), bias(j0), flags]
        : [m, j1 - j0, k, xq, q.quants + j0 * row, f32At(r.c, j0), r.ldc, bias(j0), flags]));
      return;
    }
    // Byte offsets of a row range [j0, ..) of W, j0 a multiple of 8 (a panel boundary).
    const quantRow = q.type === "q8_0" ? k : k / 2;
    const scaleRow = f32Bytes(k / QUANT_BLOCK_VALUES);
    const at = (j0: number) => [q.quants + j0 * quantRow, q.scales + j0 * scaleRow, f32At(r.c, j0), bias(j0)] as const;
    if (m === 1) {
      const name = q.type === "q8_0" ? "q8_0_gemv" : "q4_0_gemv";
      await this.engine.runTasks(name, ranges.map(([j0, j1]) => {
        const [qp, sp, cp, bp] = at(j0);
        return [j1 - j0, k, xq, qp, sp, cp, bp, flags];
      }));
      return;
    }
    const name = q.type === "q8_0" ? "q8_0_gemm" : "q4_0_gemm";
    await this.engine.runTasks(name, ranges.map(([j0, j1]) => {
      const [qp, sp, cp, bp] = at(j0);
      return [m, j1 - j0, k, xq, qp, sp, cp, r.ldc, bp, flags];
    }));
  }

  /** Runs the linear; see {@link LinearRun}. */
  async run(r: LinearRun): Promise<void> {
    const { m } = r;
    const n = this.outFeatures;
    const k = this.inFeatures;
    const flags = ACT_CODE[r.act ?? "none"] | (r.accumulate ? GEMM_ACCUMULATE : 0);
    if (this.quant) return this.runQuantized(r, this.quant, flags);
    const panels = Math.ceil(n / this.nr);
    if (m === 1) {
      // Decode: split the output columns by whole panels (a panel range is itself packed).
      const ranges = splitRange(n, taskCount(this.engine, 2 * n * k, panels), this.nr);
      await this.engine.runTasks("f32_gemv", ranges.map(([j0, j1]) => [
        j1 - j0, k, r.a, f32At(this.packed, j0 * k), f32At(r.c, j0), this.bias ? f32At(this.bias, j0) : 0, flags,
      ]));
      return;
    }
    const tasks = taskCount(this.engine, 2 * m * n * k, Math.max(Math.ceil(m / 8), panels));
    if (tasks === 1 || m >= 8 * tasks) {
      const ranges = splitRange(m, tasks, 8);
      await this.engine.runTasks("f32_gemm", ranges.map(([i0, i1]) => [
        i1 - i0, n, k, f32At(r.a, i0 * r.lda), r.lda, this.packed, f32At(r.c, i0 * r.ldc), r.ldc, this.bias, flags,
      ]));
    } else {
      const ranges = splitRange(n, tasks, this.nr);
      await this.engine.runTasks("f32_gemm", ranges.map(([j0, j1]) => [
        m, j1 - j0, k, r.a, r.lda, f32At(this.packed, j0 * k), f32At(r.c, j0), r.ldc, this.bias ? f32At(this.bias, j0) : 0, flags,
      ]));
    }
  }
}

import { ACT_GELU, ACT_GELU_TANH, ACT_NONE, ACT_RELU, ACT_SILU, GEMM_ACCUMULATE } from "../kernels/exports.js";
import { kernelsOf } from "../kernels/bindings.js";
import { ShapeError } from "../errors.js";
import type { Engine } from "../runtime/engine.js";
import { splitRange, taskCount } from "./parallel.js";
import type { WeightBlocks } from "./weight_blocks.js";

/** Activation fused into a linear's epilogue. */
export type LinearActivation = "none" | "relu" | "gelu" | "gelu_tanh" | "silu";

const ACT_CODE: Record<LinearActivation, number> = {
  none: ACT_NONE, relu: ACT_RELU, gelu: ACT_GELU, gelu_tanh: ACT_GELU_TANH, silu: ACT_SILU,
};

/** A dense weight as stored in a checkpoint. */
export interface LinearWeights {
  /** out x in (torch nn.Linear), or in x out when `inOut` (HF GPT-2 Conv1D). */
  weight: Float32Array;
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
 * y = act(x W^T + b) [+ y]: the weight is packed once (f32_gemm_pack_bt) into the weights
 * region; each run is one GEMM (or GEMV for one row) split over tasks by rows or panels.
 */
export class Linear {
  private constructor(
    private readonly engine: Engine,
    readonly inFeatures: number,
    readonly outFeatures: number,
    /** Packed weight (byte offset). */
    readonly packed: number,
    /** Bias (byte offset) or 0. */
    readonly bias: number,
    private readonly nr: number,
  ) {}

  static create(engine: Engine, blocks: WeightBlocks, w: LinearWeights): Linear {
    const { inFeatures: k, outFeatures: n } = w;
    if (w.weight.length !== k * n) throw new ShapeError(`linear weight: expected ${n} x ${k} = ${n * k} values, found ${w.weight.length}`);
    if (w.bias && w.bias.length !== n) throw new ShapeError(`linear bias: expected ${n} values, found ${w.bias.length}`);
    const kern = kernelsOf(engine);
    const packed = blocks.alloc(kern.f32_gemm_packed_size(k, n) * 4);
    const raw = blocks.upload(w.weight);
    if (w.inOut) kern.f32_gemm_pack_b(k, n, raw, n, packed);
    else kern.f32_gemm_pack_bt(k, n, raw, k, packed);
    blocks.release(raw);
    const bias = w.bias ? blocks.upload(w.bias) : 0;
    return new Linear(engine, k, n, packed, bias, kern.f32_gemm_nr());
  }

  /** Runs the linear; see {@link LinearRun}. */
  async run(r: LinearRun): Promise<void> {
    const { m } = r;
    const n = this.outFeatures;
    const k = this.inFeatures;
    const flags = ACT_CODE[r.act ?? "none"] | (r.accumulate ? GEMM_ACCUMULATE : 0);
    const panels = Math.ceil(n / this.nr);
    if (m === 1) {
      // Decode: split the output columns by whole panels (a panel range is itself packed).
      const ranges = splitRange(n, taskCount(this.engine, 2 * n * k, panels), this.nr);
      await this.engine.runTasks("f32_gemv", ranges.map(([j0, j1]) => [
        j1 - j0, k, r.a, this.packed + j0 * k * 4, r.c + j0 * 4, this.bias ? this.bias + j0 * 4 : 0, flags,
      ]));
      return;
    }
    const tasks = taskCount(this.engine, 2 * m * n * k, Math.max(Math.ceil(m / 8), panels));
    if (tasks === 1 || m >= 8 * tasks) {
      const ranges = splitRange(m, tasks, 8);
      await this.engine.runTasks("f32_gemm", ranges.map(([i0, i1]) => [
        i1 - i0, n, k, r.a + i0 * r.lda * 4, r.lda, this.packed, r.c + i0 * r.ldc * 4, r.ldc, this.bias, flags,
      ]));
    } else {
      const ranges = splitRange(n, tasks, this.nr);
      await this.engine.runTasks("f32_gemm", ranges.map(([j0, j1]) => [
        m, j1 - j0, k, r.a, r.lda, this.packed + j0 * k * 4, r.c + j0 * 4, r.ldc, this.bias ? this.bias + j0 * 4 : 0, flags,
      ]));
    }
  }
}

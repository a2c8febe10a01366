import { ShapeError } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import type { KernelArgs } from "../engine/kernel_abi.js";
import { f32At } from "../engine/memory.js";
import { splitRange, taskCount } from "./parallel.js";
import type { WeightBlocks } from "./weight_blocks.js";

/** Parameters of one normalization layer. */
export interface NormWeights {
  kind: "layernorm" | "rmsnorm";
  /** Scale (gamma), n values. */
  weight: Float32Array;
  /** Shift (beta), LayerNorm only; absent = none. */
  bias?: Float32Array;
  eps: number;
}

/** LayerNorm or RMSNorm over rows of width n, split by rows over tasks. */
export class Norm {
  private constructor(
    private readonly engine: Engine,
    readonly kind: "layernorm" | "rmsnorm",
    readonly n: number,
    private readonly gamma: number,
    private readonly beta: number,
    private readonly eps: number,
  ) {}

  static create(engine: Engine, blocks: WeightBlocks, w: NormWeights): Norm {
    const n = w.weight.length;
    if (w.bias && w.bias.length !== n) throw new ShapeError(`norm bias: expected ${n} values, found ${w.bias.length}`);
    return new Norm(engine, w.kind, n, blocks.upload(w.weight), w.bias ? blocks.upload(w.bias) : 0, w.eps);
  }

  /** In place over `heads` groups of n columns per row (rows x heads x n, row stride ld): per-head q/k norms. */
  async runHeads(rows: number, heads: number, x: number, ld: number): Promise<void> {
    if (this.kind !== "rmsnorm") throw new ShapeError("per-head norms: expected rmsnorm, found layernorm");
    const ranges = splitRange(rows, taskCount(this.engine, rows * heads * this.n * 8, rows));
    const tasks: KernelArgs<"f32_rmsnorm">[] = [];
    for (let h = 0; h < heads; h++) {
      for (const [a, b] of ranges) {
        const at = f32At(x, a * ld + h * this.n);
        tasks.push([b - a, this.n, at, ld, this.gamma, at, ld, this.eps]);
      }
    }
    await this.engine.runTasks("f32_rmsnorm", tasks);
  }

  /** out (rows x n, stride ldo) = norm(x (rows x n, stride ldx)); out may be x. */
  async run(rows: number, x: number, ldx: number, out: number, ldo: number): Promise<void> {
    const ranges = splitRange(rows, taskCount(this.engine, rows * this.n * 8, rows));
    if (this.kind === "layernorm") {
      await this.engine.runTasks("f32_layernorm", ranges.map(([a, b]) => [
        b - a, this.n, f32At(x, a * ldx), ldx, this.gamma, this.beta, f32At(out, a * ldo), ldo, this.eps,
      ]));
    } else {
      await this.engine.runTasks("f32_rmsnorm", ranges.map(([a, b]) => [
        b - a, this.n, f32At(x, a * ldx), ldx, this.gamma, f32At(out, a * ldo), ldo, this.eps,
      ]));
    }
  }
}

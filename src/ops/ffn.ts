import type { Engine } from "../engine/engine.js";
import { f32Bytes } from "../engine/memory.js";
import { Linear, type LinearWeights } from "./linear.js";
import { runElementwise } from "./parallel.js";
import type { WeightBlocks } from "./weight_blocks.js";

/**
 * Weights of a feed-forward block: down(act(up x)), or down(silu(gate x) * up x) for SwiGLU,
 * down(gelu_tanh(gate x) * up x) for GeGLU.
 */
export interface FfnWeights {
  activation: "relu" | "gelu" | "gelu_tanh" | "swiglu" | "geglu";
  /** gelu_tanh and geglu as ggml's CPU backend computes GELU (ACT_GELU_F16): GGUF models, as llama.cpp runs them. */
  geluF16?: boolean;
  up: LinearWeights;
  /** SwiGLU and GeGLU only. */
  gate?: LinearWeights;
  down: LinearWeights;
}

/** The position-wise feed-forward block; its result is added to the residual stream. */
export class FeedForward {
  private constructor(
    private readonly engine: Engine,
    readonly activation: FfnWeights["activation"],
    private readonly geluF16: boolean,
    private readonly up: Linear,
    private readonly gate: Linear | undefined,
    private readonly down: Linear,
  ) {}

  static create(engine: Engine, blocks: WeightBlocks, w: FfnWeights): FeedForward {
    const gate = w.activation === "swiglu" || w.activation === "geglu" ? Linear.create(engine, blocks, w.gate!) : undefined;
    return new FeedForward(engine, w.activation, w.geluF16 ?? false, Linear.create(engine, blocks, w.up), gate, Linear.create(engine, blocks, w.down));
  }

  get hidden(): number {
    return this.up.outFeatures;
  }

  /** residual (m x d, stride ldr) += ffn(x (m x d, stride ldx)) (= when not `accumulate`). Intermediate in scratch. */
  async run(m: number, x: number, ldx: number, residual: number, ldr: number, accumulate = true): Promise<void> {
    const f = this.hidden;
    const h = this.engine.scratch.alloc(f32Bytes(m * f));
    if (this.gate) {
      const g = this.engine.scratch.alloc(f32Bytes(m * f));
      await this.gate.run({ m, a: x, lda: ldx, c: g, ldc: f });
      await this.up.run({ m, a: x, lda: ldx, c: h, ldc: f });
      const glu = this.activation === "swiglu" ? "f32_swiglu" : this.geluF16 ? "f32_geglu_f16" : "f32_geglu";
      await runElementwise(this.engine, glu, m * f, [g, h, h]);
    } else {
      const act = this.activation === "gelu_tanh" && this.geluF16 ? "gelu_f16" : (this.activation as "relu" | "gelu" | "gelu_tanh");
      await this.up.run({ m, a: x, lda: ldx, c: h, ldc: f, act });
    }
    await this.down.run({ m, a: h, lda: f, c: residual, ldc: ldr, accumulate });
  }
}

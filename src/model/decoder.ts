import { Attention, type CrossKv, type KvStore, type ProbsHook } from "../ops/attention.js";
import { FeedForward } from "../ops/ffn.js";
import { Norm } from "../ops/norm.js";
import type { WeightBlocks } from "../ops/weight_blocks.js";
import type { Engine } from "../runtime/engine.js";
import type { ModelConfig } from "../config/config.js";
import { type BlockPass, sublayer } from "./encoder.js";
import type { LayerWeights } from "./weights.js";

/** What a decoder block attends to besides itself. */
export interface CrossPass {
  /** This layer's projected encoder output. */
  memory: CrossKv;
  /** Per segment additive mask over the memory (source padding), 0 = none. */
  keyMask?: readonly number[];
  probs?: ProbsHook;
}

/** A decoder block of an encoder-decoder model: causal self-attention, cross-attention, FFN. */
export class DecoderLayer {
  private constructor(
    private readonly engine: Engine,
    private readonly config: ModelConfig,
    readonly selfAttn: Attention,
    private readonly selfNorm: Norm,
    readonly crossAttn: Attention,
    private readonly crossNorm: Norm,
    private readonly ffn: FeedForward,
    private readonly ffnNorm: Norm,
  ) {}

  static create(engine: Engine, blocks: WeightBlocks, config: ModelConfig, w: LayerWeights): DecoderLayer {
    return new DecoderLayer(
      engine, config,
      Attention.create(engine, blocks, w.selfAttn), Norm.create(engine, blocks, w.selfNorm),
      Attention.create(engine, blocks, w.crossAttn!, true), Norm.create(engine, blocks, w.crossNorm!),
      FeedForward.create(engine, blocks, w.ffn), Norm.create(engine, blocks, w.ffnNorm),
    );
  }

  /** x = x + CausalSelfAttention(x); x = x + CrossAttention(x, memory); x = x + FFN(x). */
  async run(p: BlockPass, cross: CrossPass, cache?: { store: KvStore; layer: number; seqs: readonly number[] }): Promise<void> {
    const c = this.config;
    const d = c.d_model;
    const pre = c.norm_position === "pre";
    const rope = c.positions === "rotary" ? { theta: c.rope_theta, interleaved: c.rope_interleaved } : undefined;
    await sublayer(this.engine, pre, this.selfNorm, p.rows, p.x, d, (h) =>
      this.selfAttn.runSelf({ segs: p.segs, x: h, ldx: d, residual: p.x, ldr: d, causal: true, rope, cache, keyMask: p.keyMask, probs: p.probs }));
    await sublayer(this.engine, pre, this.crossNorm, p.rows, p.x, d, (h) =>
      this.crossAttn.runCross({ segs: p.segs, x: h, ldx: d, residual: p.x, ldr: d, memory: cross.memory, keyMask: cross.keyMask, probs: cross.probs }));
    await sublayer(this.engine, pre, this.ffnNorm, p.rows, p.x, d, (h) => this.ffn.run(p.rows, h, d, p.x, d));
  }
}

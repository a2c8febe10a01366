import { Attention, type KvStore, type ProbsHook } from "../ops/attention.js";
import { FeedForward } from "../ops/ffn.js";
import { Norm } from "../ops/norm.js";
import type { Segment } from "../ops/segments.js";
import type { WeightBlocks } from "../ops/weight_blocks.js";
import type { Engine } from "../runtime/engine.js";
import type { ModelConfig } from "./config.js";
import type { LayerWeights } from "./weights.js";

/** Where one block's pass reads and writes: the residual stream x (rows x d) of packed segments. */
export interface BlockPass {
  segs: readonly Segment[];
  rows: number;
  /** Residual stream, rows x d contiguous, updated in place. */
  x: number;
  /** Per segment additive key mask (byte offset, 0 = none) for self-attention. */
  keyMask?: readonly number[];
  /** Receives attention probabilities of this block's self-attention. */
  probs?: ProbsHook;
}

/**
 * One residual sub-layer: post-LN x = norm(x + f(x)), pre-LN x = x + f(norm(x)).
 * `f(input)` adds its result to x itself (the linears accumulate into the residual).
 */
export async function sublayer(
  engine: Engine, pre: boolean, norm: Norm, rows: number, x: number, d: number, f: (input: number) => Promise<void>,
): Promise<void> {
  if (pre) {
    const h = engine.scratch.alloc(rows * d * 4);
    await norm.run(rows, x, d, h, d);
    await f(h);
  } else {
    await f(x);
    await norm.run(rows, x, d, x, d);
  }
}

/** An encoder block (also the block of a decoder-only model, run with a causal mask and a KV cache). */
export class EncoderLayer {
  private constructor(
    private readonly engine: Engine,
    private readonly config: ModelConfig,
    readonly selfAttn: Attention,
    private readonly selfNorm: Norm,
    private readonly ffn: FeedForward,
    private readonly ffnNorm: Norm,
  ) {}

  static create(engine: Engine, blocks: WeightBlocks, config: ModelConfig, w: LayerWeights): EncoderLayer {
    return new EncoderLayer(
      engine, config,
      Attention.create(engine, blocks, w.selfAttn), Norm.create(engine, blocks, w.selfNorm),
      FeedForward.create(engine, blocks, w.ffn), Norm.create(engine, blocks, w.ffnNorm),
    );
  }

  /**
   * x = x + SelfAttention(x); x = x + FFN(x), each with its norm before (pre-LN) or after (post-LN).
   * `causal` and `cache` make it a decoder-only block.
   */
  async run(p: BlockPass, causal = false, cache?: { store: KvStore; layer: number; seqs: readonly number[] }): Promise<void> {
    const c = this.config;
    const d = c.d_model;
    const pre = c.norm_position === "pre";
    const rope = c.positions === "rotary" ? { theta: c.rope_theta, interleaved: c.rope_interleaved } : undefined;
    await sublayer(this.engine, pre, this.selfNorm, p.rows, p.x, d, (h) =>
      this.selfAttn.runSelf({ segs: p.segs, x: h, ldx: d, residual: p.x, ldr: d, causal, rope, cache, keyMask: p.keyMask, probs: p.probs }));
    await sublayer(this.engine, pre, this.ffnNorm, p.rows, p.x, d, (h) => this.ffn.run(p.rows, h, d, p.x, d));
  }
}

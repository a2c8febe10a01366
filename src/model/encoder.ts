import { Attention, type KvStore, type ProbsHook } from "../ops/attention.js";
import { FeedForward } from "../ops/ffn.js";
import { Norm } from "../ops/norm.js";
import { runElementwise } from "../ops/parallel.js";
import type { Segment } from "../ops/segments.js";
import type { WeightBlocks } from "../ops/weight_blocks.js";
import type { Engine } from "../runtime/engine.js";
import { type ModelConfig, slidesWindow } from "../config/config.js";
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

/** A sub-layer's function: f(input) added to `out` (accumulate) or written there. */
export type SublayerFn = (input: number, out: number, accumulate: boolean) => Promise<void>;

/**
 * One residual sub-layer: post-LN x = norm(x + f(x)), pre-LN x = x + f(norm(x)), and with a
 * post norm (pre-LN only) x = x + post(f(norm(x))). Without a post norm `f` adds its result to x
 * itself (the linears accumulate into the residual).
 */
export async function sublayer(
  engine: Engine, pre: boolean, norm: Norm, rows: number, x: number, d: number, f: SublayerFn, post?: Norm,
): Promise<void> {
  if (pre) {
    const h = engine.scratch.alloc(rows * d * 4);
    await norm.run(rows, x, d, h, d);
    if (!post) return f(h, x, true);
    const y = engine.scratch.alloc(rows * d * 4);
    await f(h, y, false);
    await post.run(rows, y, d, y, d);
    await runElementwise(engine, "f32_add", rows * d, [x, y, x]);
  } else {
    await f(x, x, true);
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
    private readonly selfPostNorm: Norm | undefined,
    private readonly ffnPostNorm: Norm | undefined,
    /** Keys a causal query sees (sliding-window layers), 0 = all. */
    private readonly window: number,
  ) {}

  /** `layer`: the block's index in its stack (which layers slide their attention window). */
  static create(engine: Engine, blocks: WeightBlocks, config: ModelConfig, w: LayerWeights, layer: number): EncoderLayer {
    return new EncoderLayer(
      engine, config,
      Attention.create(engine, blocks, w.selfAttn), Norm.create(engine, blocks, w.selfNorm),
      FeedForward.create(engine, blocks, w.ffn), Norm.create(engine, blocks, w.ffnNorm),
      w.selfPostNorm && Norm.create(engine, blocks, w.selfPostNorm), w.ffnPostNorm && Norm.create(engine, blocks, w.ffnPostNorm),
      slidesWindow(config, layer) ? config.sliding_window : 0,
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
    await sublayer(this.engine, pre, this.selfNorm, p.rows, p.x, d, (h, out, accumulate) =>
      this.selfAttn.runSelf({
        segs: p.segs, x: h, ldx: d, residual: out, ldr: d, accumulate, causal, rope, cache, keyMask: p.keyMask, probs: p.probs,
        window: this.window, softcap: c.attention_softcap,
      }), this.selfPostNorm);
    await sublayer(this.engine, pre, this.ffnNorm, p.rows, p.x, d, (h, out, accumulate) => this.ffn.run(p.rows, h, d, out, d, accumulate), this.ffnPostNorm);
  }
}

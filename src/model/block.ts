// One transformer block: self-attention, cross-attention over encoder states (decoders of
// encoder-decoder models), feed-forward; each a residual sub-layer with its norm.
import { ShapeError } from "../errors.js";
import { Attention, type CrossKv, type KvStore, type ProbsHook, type SelfAttentionRun } from "../ops/attention.js";
import { FeedForward } from "../ops/ffn.js";
import { Norm, type NormWeights } from "../ops/norm.js";
import { runElementwise } from "../ops/parallel.js";
import type { Segment } from "../ops/segments.js";
import type { WeightBlocks } from "../ops/weight_blocks.js";
import type { Engine } from "../engine/engine.js";
import { type ModelConfig, type NormPosition, slidesWindow } from "../config/config.js";
import type { LayerWeights } from "./weights.js";

/** What a block's cross-attention attends to. */
export interface CrossPass {
  /** This layer's projected encoder output. */
  memory: CrossKv;
  /** Per segment additive mask over the memory (source padding), 0 = none. */
  keyMask?: readonly number[];
  probs?: ProbsHook;
}

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
  /** Decoding: self-attention keys/values are appended to this cache and attended from it. */
  cache?: { store: KvStore; layer: number; seqs: readonly number[] };
  /** The encoder memory; required exactly when the block has cross-attention. */
  cross?: CrossPass;
}

/** Which stack a block sits in (decoder blocks are causal) and its index there (sliding-window layers). */
export interface BlockPlace {
  stack: "encoder" | "decoder";
  layer: number;
}

/** A sub-layer's function: f(input) added to `out` (accumulate) or written there. */
type SublayerFn = (input: number, out: number, accumulate: boolean) => Promise<void>;

/**
 * One residual sub-layer: post-LN x = norm(x + f(x)), pre-LN x = x + f(norm(x)), and with a
 * post norm (pre-LN only) x = x + post(f(norm(x))). Without a post norm `f` adds its result to x
 * itself (the linears accumulate into the residual).
 */
class Residual {
  constructor(
    private readonly engine: Engine,
    private readonly placement: NormPosition,
    private readonly norm: Norm,
    private readonly post: Norm | undefined,
    private readonly d: number,
  ) {}

  async run(rows: number, x: number, f: SublayerFn): Promise<void> {
    const d = this.d;
    if (this.placement === "post") {
      await f(x, x, true);
      await this.norm.run(rows, x, d, x, d);
      return;
    }
    const h = this.engine.scratch.alloc(rows * d * 4);
    await this.norm.run(rows, x, d, h, d);
    if (!this.post) return f(h, x, true);
    const y = this.engine.scratch.alloc(rows * d * 4);
    await f(h, y, false);
    await this.post.run(rows, y, d, y, d);
    await runElementwise(this.engine, "f32_add", rows * d, [x, y, x]);
  }
}

/** Self-attention settings fixed by the config and the block's place. */
type SelfSettings = Pick<SelfAttentionRun, "causal" | "rope" | "window" | "softcap">;

/**
 * A transformer block: x = x + SelfAttention(x); (x = x + CrossAttention(x, memory);) x = x + FFN(x),
 * each with its norm before (pre-LN) or after (post-LN). Encoder blocks attend both ways, decoder
 * blocks causally (through a KV cache when decoding); cross-attention is there when the layer's
 * weights have it.
 */
export class Block {
  private constructor(
    private readonly attn: Attention,
    private readonly settings: SelfSettings,
    private readonly attnResidual: Residual,
    private readonly cross: { attn: Attention; residual: Residual } | undefined,
    private readonly ffn: FeedForward,
    private readonly ffnResidual: Residual,
    private readonly d: number,
  ) {}

  static create(engine: Engine, blocks: WeightBlocks, config: ModelConfig, w: LayerWeights, place: BlockPlace): Block {
    const d = config.d_model;
    const norm = (n: NormWeights) => Norm.create(engine, blocks, n);
    const residual = (n: Norm, post?: Norm) => new Residual(engine, config.norm_position, n, post, d);
    const causal = place.stack === "decoder";
    const settings: SelfSettings = {
      causal,
      rope: config.positions === "rotary" ? { theta: config.rope_theta, interleaved: config.rope_interleaved } : undefined,
      // Only causal queries slide (Attention ignores a window otherwise).
      window: causal && slidesWindow(config, place.layer) ? config.sliding_window : 0,
      softcap: config.attention_softcap,
    };
    // Weights are uploaded in block order; the optional post norms last.
    const attn = Attention.create(engine, blocks, w.selfAttn);
    const attnNorm = norm(w.selfNorm);
    let cross: { attn: Attention; residual: Residual } | undefined;
    if (w.crossAttn) {
      if (!w.crossNorm) throw new ShapeError(`${place.stack} layer ${place.layer}: cross-attention weights without their norm`);
      // No post norm: runCross always adds into the residual stream.
      cross = { attn: Attention.create(engine, blocks, w.crossAttn, true), residual: residual(norm(w.crossNorm)) };
    }
    const ffn = FeedForward.create(engine, blocks, w.ffn);
    const ffnNorm = norm(w.ffnNorm);
    const attnPost = w.selfPostNorm && norm(w.selfPostNorm);
    const ffnPost = w.ffnPostNorm && norm(w.ffnPostNorm);
    return new Block(attn, settings, residual(attnNorm, attnPost), cross, ffn, residual(ffnNorm, ffnPost), d);
  }

  /** Projects the encoder output (rows x d) to this block's cross-attention keys/values: rows x 2 kvDim at `out`. */
  async projectMemory(rows: number, memory: number, out: number): Promise<void> {
    if (!this.cross) throw new ShapeError("projectMemory: expected a block with cross-attention, found none");
    await this.cross.attn.projectMemory(rows, memory, this.d, out);
  }

  /** Runs the block over the residual stream in place. */
  async run(p: BlockPass): Promise<void> {
    const { segs, rows, x } = p;
    const d = this.d;
    await this.attnResidual.run(rows, x, (h, out, accumulate) =>
      this.attn.runSelf({ ...this.settings, segs, x: h, ldx: d, residual: out, ldr: d, accumulate, cache: p.cache, keyMask: p.keyMask, probs: p.probs }));
    const cross = this.cross;
    const c = p.cross;
    if (cross && c) {
      await cross.residual.run(rows, x, (h, out) =>
        cross.attn.runCross({ segs, x: h, ldx: d, residual: out, ldr: d, memory: c.memory, keyMask: c.keyMask, probs: c.probs }));
    } else if (cross || c) {
      throw new ShapeError(cross ? "block: expected the encoder memory for cross-attention, found none" : "block: encoder memory given to a block without cross-attention");
    }
    await this.ffnResidual.run(rows, x, (h, out, accumulate) => this.ffn.run(rows, h, d, out, d, accumulate));
  }
}

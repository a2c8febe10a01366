// Attention probabilities collected from a forward pass: per sequence, per layer, every head.
import type { AttentionCapture, AttentionEvent } from "./transformer.js";

/**
 * The attention probabilities of one sequence, every layer and head, as the softmax left
 * them: each query row sums to 1 over the keys it may see; masked keys (padding, the causal
 * future) are exactly 0. Arrays are heads x queries x keys, row-major.
 */
export interface AttentionMaps {
  /** Heads per layer. */
  heads: number;
  /** Encoder self-attention per layer: heads x src x src (empty for a decoder-only model). */
  encoder: Float32Array[];
  /** Decoder causal self-attention per layer: heads x tgt x tgt (empty for an encoder-only model). */
  decoder: Float32Array[];
  /** Decoder cross-attention per layer: heads x tgt x src (encoder-decoder only). */
  cross: Float32Array[];
  /** Source ids: keys of the encoder self-attention and of the cross-attention (encoder-only: the tokens). */
  src: number[];
  /** Decoder input ids: queries of the decoder attentions and keys of its self-attention. */
  tgt: number[];
  /** Token strings of `src` (set by TextModel). */
  srcTokens?: string[];
  /** Token strings of `tgt` as fed to the decoder (set by TextModel). */
  tgtTokens?: string[];
  /**
   * Token strings each decoder row produced (set by TextModel.translate): row i is the step
   * that chose outputTokens[i] from the query tgt[i]. Heatmaps label rows with these.
   */
  outputTokens?: string[];
}

/**
 * Collects the events of one full forward pass (queries = whole sequences) into
 * AttentionMaps. `capture` is the hook to pass down; `maps` holds the result afterwards.
 */
export class AttentionCollector {
  readonly maps: AttentionMaps[];

  constructor(
    heads: number,
    layers: { encoder: number; decoder: number; cross: number },
    /** Per sequence: source ids (encoder input) and decoder input ids; [] where the stack is absent. */
    seqs: ReadonlyArray<{ src: number[]; tgt: number[] }>,
  ) {
    this.maps = seqs.map(({ src, tgt }) => ({
      heads,
      encoder: Array.from({ length: layers.encoder }, () => new Float32Array(heads * src.length * src.length)),
      decoder: Array.from({ length: layers.decoder }, () => new Float32Array(heads * tgt.length * tgt.length)),
      cross: Array.from({ length: layers.cross }, () => new Float32Array(heads * tgt.length * src.length)),
      src,
      tgt,
    }));
  }

  /** Stores one head's probabilities at its place. */
  readonly capture: AttentionCapture = (e: AttentionEvent) => {
    const m = this.maps[e.sequence];
    const list = e.stack === "encoder" ? m.encoder : e.kind === "cross" ? m.cross : m.decoder;
    list[e.layer].set(e.probs, e.head * e.queries * e.keys);
  };
}

/** Both hooks, either may be absent. */
export function bothCaptures(a: AttentionCapture | undefined, b: AttentionCapture | undefined): AttentionCapture | undefined {
  if (!a) return b;
  if (!b) return a;
  return (e) => {
    a(e);
    b(e);
  };
}

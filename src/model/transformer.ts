// The model graph: embeddings -> blocks -> final norm -> logits, over a packed batch.
import type { CrossKv, KvStore, ProbsHook } from "../ops/attention.js";
import type { QuantizedMatrix } from "../formats/quant_blocks.js";
import { Embedding, type EmbeddingTable } from "../ops/embedding.js";
import { Linear } from "../ops/linear.js";
import { Norm } from "../ops/norm.js";
import { addPositions } from "../ops/positions.js";
import { runElementwise, stageI32 } from "../ops/parallel.js";
import { type Segment, totalRows } from "../ops/segments.js";
import { WeightBlocks } from "../ops/weight_blocks.js";
import type { Engine } from "../runtime/engine.js";
import { type ModelConfig, kvDim } from "./config.js";
import { DecoderLayer } from "./decoder.js";
import { EncoderLayer } from "./encoder.js";
import type { ModelWeights } from "./weights.js";

/** One head's attention probabilities, handed to an {@link AttentionCapture}. */
export interface AttentionEvent {
  stack: "encoder" | "decoder";
  kind: "self" | "cross";
  layer: number;
  head: number;
  /** Index of the sequence in the batch. */
  sequence: number;
  /** queries x keys, row-major (a copy). In a decode step the queries are the new tokens only. */
  probs: Float32Array;
  queries: number;
  keys: number;
}

/** Receives attention probabilities; when absent nothing is copied. */
export type AttentionCapture = (e: AttentionEvent) => void;

/** Options of a decoder pass. */
export interface DecoderPass {
  segs: readonly Segment[];
  /** Token ids of all rows (already validated). */
  ids: Int32Array;
  /** Self-attention keys/values go to and come from this cache; sequence i of the batch is cache row seqs[i]. */
  cache?: { store: KvStore; seqs: readonly number[] };
  /** Per decoder layer: the projected encoder output (encoder-decoder only). */
  memory?: readonly CrossKv[];
  keyMask?: readonly number[];
  memoryKeyMask?: readonly number[];
  capture?: AttentionCapture;
}

function hook(capture: AttentionCapture | undefined, stack: "encoder" | "decoder", kind: "self" | "cross", layer: number): ProbsHook | undefined {
  if (!capture) return undefined;
  return (sequence, head, probs, queries, keys) => capture({ stack, kind, layer, head, sequence, probs, queries, keys });
}

/** The layers of one model, with their packed weights in the engine's weights region. */
export class Transformer {
  private constructor(
    private readonly engine: Engine,
    readonly config: ModelConfig,
    readonly blocks: WeightBlocks,
    private readonly srcEmbed: Embedding | undefined,
    private readonly tgtEmbed: Embedding | undefined,
    private readonly positions: Embedding | undefined,
    readonly encoder: EncoderLayer[],
    /** Decoder-only models use encoder-style blocks run causally. */
    readonly decoder: Array<EncoderLayer | DecoderLayer>,
    private readonly encoderNorm: Norm | undefined,
    private readonly decoderNorm: Norm | undefined,
    private readonly output: Linear | undefined,
    private readonly embedNorm: Norm | undefined,
    private readonly tokenTypes: Embedding | undefined,
  ) {}

  /** Uploads and packs every weight once. */
  static create(engine: Engine, config: ModelConfig, w: ModelWeights): Transformer {
    const blocks = new WeightBlocks(engine);
    try {
      const d = config.d_model;
      // A head tied to the token table is packed first; the table is then gathered from its weight.
      const stored = w.tgtEmbed ?? w.srcEmbed;
      const head = w.output && Linear.create(engine, blocks, w.output);
      const shared = head && stored && sameWeight(w.output!.weight, stored) ? Embedding.ofHead(engine, head) : undefined;
      const table = (t: EmbeddingTable | undefined) =>
        t === stored && shared ? shared : t ? Embedding.create(engine, blocks, t, t instanceof Float32Array ? t.length / d : t.rows, d) : undefined;
      const tgt = table(w.tgtEmbed);
      const src = w.srcEmbed === w.tgtEmbed ? tgt : table(w.srcEmbed);
      const ed = config.arch === "encoder-decoder";
      return new Transformer(
        engine, config, blocks, src, tgt,
        w.positions ? Embedding.create(engine, blocks, w.positions, config.max_positions, d) : undefined,
        w.encoder.map((l, i) => EncoderLayer.create(engine, blocks, config, l, i)),
        w.decoder.map((l, i) => (ed ? DecoderLayer.create(engine, blocks, config, l) : EncoderLayer.create(engine, blocks, config, l, i))),
        w.encoderNorm && Norm.create(engine, blocks, w.encoderNorm),
        w.decoderNorm && Norm.create(engine, blocks, w.decoderNorm),
        head,
        w.embedNorm && Norm.create(engine, blocks, w.embedNorm),
        table(w.tokenTypes),
      );
    } catch (e) {
      blocks.dispose();
      throw e;
    }
  }

  /** Width of the output: vocabulary (with an lm head) or d_model. */
  get outputWidth(): number {
    return this.output ? this.output.outFeatures : this.config.d_model;
  }

  /** Token types a model tells apart (1 when it has no token-type table). */
  get tokenTypeCount(): number {
    return this.tokenTypes ? this.tokenTypes.rows : 1;
  }

  /**
   * x = embed(ids) (* sqrt(d)) + positions (+ token types other than 0) (then the embedding norm),
   * rows x d in scratch. `types`: one token type per row, already range-checked.
   */
  private async embed(table: Embedding, segs: readonly Segment[], ids: Int32Array, types?: Int32Array): Promise<number> {
    const c = this.config;
    const rows = totalRows(segs);
    const x = this.engine.scratch.alloc(rows * c.d_model * 4);
    await table.run(rows, stageI32(this.engine, ids), x, c.d_model, c.embed_scale ? Math.sqrt(c.d_model) : 1);
    if (c.positions === "sinusoidal" || c.positions === "learned") await addPositions(this.engine, c.positions, segs, x, c.d_model, this.positions);
    if (types && this.tokenTypes && types.some((t) => t !== 0)) {
      const te = this.engine.scratch.alloc(rows * c.d_model * 4);
      await this.tokenTypes.run(rows, stageI32(this.engine, types), te, c.d_model);
      await runElementwise(this.engine, "f32_add", rows * c.d_model, [x, te, x]);
    }
    if (this.embedNorm) await this.embedNorm.run(rows, x, c.d_model, x, c.d_model);
    return x;
  }

  /** Encoder: embed -> blocks -> final norm. Returns the memory (rows x d, scratch). */
  async encode(segs: readonly Segment[], ids: Int32Array, keyMask?: readonly number[], capture?: AttentionCapture, types?: Int32Array): Promise<number> {
    const rows = totalRows(segs);
    const x = await this.embed(this.srcEmbed!, segs, ids, types);
    for (let l = 0; l < this.encoder.length; l++) {
      await this.encoder[l].run({ segs, rows, x, keyMask, probs: hook(capture, "encoder", "self", l) });
    }
    if (this.encoderNorm) await this.encoderNorm.run(rows, x, this.config.d_model, x, this.config.d_model);
    return x;
  }

  /** Projects the memory to each decoder layer's cross-attention keys/values: outs[l] holds rows x 2 kvDim. */
  async projectMemory(rows: number, memory: number, outs: readonly number[]): Promise<void> {
    for (let l = 0; l < this.decoder.length; l++) {
      await (this.decoder[l] as DecoderLayer).crossAttn.projectMemory(rows, memory, this.config.d_model, outs[l]);
    }
  }

  /** Bytes one layer's projected memory takes per source row. */
  get memoryRowBytes(): number {
    return 2 * kvDim(this.config) * 4;
  }

  /** Decoder: embed -> blocks (causal, with cache and cross-attention as given). Returns x before the final norm. */
  async decode(p: DecoderPass): Promise<number> {
    const rows = totalRows(p.segs);
    const x = await this.embed(this.tgtEmbed!, p.segs, p.ids);
    for (let l = 0; l < this.decoder.length; l++) {
      const pass = { segs: p.segs, rows, x, keyMask: p.keyMask, probs: hook(p.capture, "decoder", "self", l) };
      const cache = p.cache && { store: p.cache.store, layer: l, seqs: p.cache.seqs };
      const layer = this.decoder[l];
      if (layer instanceof DecoderLayer) {
        await layer.run(pass, { memory: p.memory![l], keyMask: p.memoryKeyMask, probs: hook(p.capture, "decoder", "cross", l) }, cache);
      } else {
        await layer.run(pass, true, cache);
      }
    }
    return x;
  }

  /** The decoder's final norm (in place) over rows x d. */
  async decoderFinalNorm(rows: number, x: number): Promise<void> {
    if (this.decoderNorm) await this.decoderNorm.run(rows, x, this.config.d_model, x, this.config.d_model);
  }

  /** Logits (rows x vocab, scratch) of normalized hidden states (rows x d). */
  async logits(rows: number, x: number): Promise<number> {
    const v = this.output!.outFeatures;
    const out = this.engine.scratch.alloc(rows * v * 4);
    await this.output!.run({ m: rows, a: x, lda: this.config.d_model, c: out, ldc: v });
    if (this.config.final_softcap > 0) await runElementwise(this.engine, "f32_softcap", rows * v, [out, out], [1, this.config.final_softcap]);
    return out;
  }

  get hasOutput(): boolean {
    return this.output !== undefined;
  }

  dispose(): void {
    this.blocks.dispose();
  }
}

/** Whether a head's weight is the token table itself (the same floats, or the same stored blocks). */
function sameWeight(weight: Float32Array | QuantizedMatrix, table: EmbeddingTable): boolean {
  if (weight instanceof Float32Array || table instanceof Float32Array) return weight === table;
  return weight.blocks.buffer === table.blocks.buffer && weight.blocks.byteOffset === table.blocks.byteOffset;
}

// The model graph: embeddings -> blocks -> final norm -> logits, over a packed batch.
import { ShapeError } from "../errors.js";
import type { CrossKv, KvStore, ProbsHook } from "../ops/attention.js";
import type { QuantizedMatrix } from "../tensor/quant_blocks.js";
import { Embedding, type EmbeddingTable } from "../ops/embedding.js";
import { Linear } from "../ops/linear.js";
import { Norm } from "../ops/norm.js";
import { addPositions } from "../ops/positions.js";
import { runElementwise, stageI32 } from "../ops/parallel.js";
import { type Segment, totalRows } from "../ops/segments.js";
import { WeightBlocks } from "../ops/weight_blocks.js";
import type { Engine } from "../engine/engine.js";
import { type ModelConfig, kvDim } from "../config/config.js";
import { Block } from "./block.js";
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
  /** Per decoder layer: the projected encoder output (encoder-decoder only, required there). */
  memory?: readonly CrossKv[];
  keyMask?: readonly number[];
  memoryKeyMask?: readonly number[];
  capture?: AttentionCapture;
  /** Rows that go through the final norm (and the head): every position, or the last new one of each sequence. */
  rows: "all" | "last";
  /** Also project those rows to the vocabulary (the model must have an output head). */
  logits: boolean;
}

/** Options of a full forward pass over a batch (all ids already validated). */
export interface ForwardPass {
  segs: readonly Segment[];
  /** Encoder-only: the input tokens; otherwise the decoder's. */
  ids: Int32Array;
  /** Encoder-only: one token type per row. */
  types?: Int32Array;
  keyMask?: readonly number[];
  /** Encoder-decoder: the sources, segment i the source of decoder segment i. */
  src?: { segs: readonly Segment[]; ids: Int32Array; keyMask?: readonly number[] };
  capture?: AttentionCapture;
  /** Also compute the logits of every row. */
  logits: boolean;
}

/** What leaves the graph, in scratch. */
export interface GraphOutput {
  /** Final hidden states (after the final norm), rows x d_model. */
  hidden: number;
  /** Their logits, rows x vocab; present when asked for. */
  logits?: number;
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
    private readonly encoder: readonly Block[],
    readonly decoder: readonly Block[],
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
      return new Transformer(
        engine, config, blocks, src, tgt,
        w.positions ? Embedding.create(engine, blocks, w.positions, config.max_positions, d) : undefined,
        w.encoder.map((l, layer) => Block.create(engine, blocks, config, l, { stack: "encoder", layer })),
        w.decoder.map((l, layer) => Block.create(engine, blocks, config, l, { stack: "decoder", layer })),
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
    if (!this.srcEmbed) throw new ShapeError(`encode: expected a model with an encoder, found arch "${this.config.arch}"`);
    const rows = totalRows(segs);
    const x = await this.embed(this.srcEmbed, segs, ids, types);
    for (let l = 0; l < this.encoder.length; l++) {
      await this.encoder[l].run({ segs, rows, x, keyMask, probs: hook(capture, "encoder", "self", l) });
    }
    if (this.encoderNorm) await this.encoderNorm.run(rows, x, this.config.d_model, x, this.config.d_model);
    return x;
  }

  /** Projects the memory to each decoder layer's cross-attention keys/values: outs[l] holds rows x 2 kvDim. */
  async projectMemory(rows: number, memory: number, outs: readonly number[]): Promise<void> {
    for (let l = 0; l < this.decoder.length; l++) await this.decoder[l].projectMemory(rows, memory, outs[l]);
  }

  /** Bytes one layer's projected memory takes per source row. */
  get memoryRowBytes(): number {
    return 2 * kvDim(this.config) * 4;
  }

  /**
   * The whole graph over a batch: encoder-only embed -> blocks -> norm (-> logits); encoder-decoder
   * also encodes the sources and projects them for cross-attention (scratch) before decoding.
   */
  async forward(p: ForwardPass): Promise<GraphOutput> {
    if (this.config.arch === "encoder") {
      const x = await this.encode(p.segs, p.ids, p.keyMask, p.capture, p.types);
      return this.head(totalRows(p.segs), x, p.logits);
    }
    let memory: CrossKv[] | undefined;
    if (p.src) {
      const { segs } = p.src;
      const rows = totalRows(segs);
      const encoded = await this.encode(segs, p.src.ids, p.src.keyMask, p.capture);
      const ptrs = this.decoder.map(() => this.engine.scratch.alloc(rows * this.memoryRowBytes));
      await this.projectMemory(rows, encoded, ptrs);
      memory = ptrs.map((ptr) => ({ ptr, segs }));
    }
    return this.decode({ segs: p.segs, ids: p.ids, memory, keyMask: p.keyMask, memoryKeyMask: p.src?.keyMask, capture: p.capture, rows: "all", logits: p.logits });
  }

  /** Decoder: embed -> blocks (causal, with cache and cross-attention as given) -> final norm (-> logits) of the rows asked for. */
  async decode(p: DecoderPass): Promise<GraphOutput> {
    if (!this.tgtEmbed) throw new ShapeError(`decode: expected a model with a decoder, found arch "${this.config.arch}"`);
    const rows = totalRows(p.segs);
    const x = await this.embed(this.tgtEmbed, p.segs, p.ids);
    for (let l = 0; l < this.decoder.length; l++) {
      const memory = p.memory?.[l];
      await this.decoder[l].run({
        segs: p.segs, rows, x, keyMask: p.keyMask, probs: hook(p.capture, "decoder", "self", l),
        cache: p.cache && { store: p.cache.store, layer: l, seqs: p.cache.seqs },
        cross: memory && { memory, keyMask: p.memoryKeyMask, probs: hook(p.capture, "decoder", "cross", l) },
      });
    }
    if (p.rows === "all") {
      await this.decoderFinalNorm(rows, x);
      return this.head(rows, x, p.logits);
    }
    // Only the last new position of each sequence goes through the final norm and the head.
    const d = this.config.d_model;
    const B = p.segs.length;
    const last = this.engine.scratch.alloc(B * d * 4);
    await this.engine.runTasks("f32_copy_rows", p.segs.map((s, i) => [1, d, x + (s.row + s.length - 1) * d * 4, d, last + i * d * 4, d]), 0);
    await this.decoderFinalNorm(B, last);
    return this.head(B, last, p.logits);
  }

  /** The decoder's final norm (in place) over rows x d. */
  private async decoderFinalNorm(rows: number, x: number): Promise<void> {
    if (this.decoderNorm) await this.decoderNorm.run(rows, x, this.config.d_model, x, this.config.d_model);
  }

  /** The graph's output: normalized hidden states (rows x d) and, when asked, their logits (rows x vocab, scratch). */
  private async head(rows: number, x: number, logits: boolean): Promise<GraphOutput> {
    if (!logits) return { hidden: x };
    if (!this.output) throw new ShapeError("logits asked, but this model has no output head (lm_head false)");
    const v = this.output.outFeatures;
    const out = this.engine.scratch.alloc(rows * v * 4);
    await this.output.run({ m: rows, a: x, lda: this.config.d_model, c: out, ldc: v });
    if (this.config.final_softcap > 0) await runElementwise(this.engine, "f32_softcap", rows * v, [out, out], [1, this.config.final_softcap]);
    return { hidden: x, logits: out };
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

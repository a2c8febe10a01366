import { ShapeError, UnsupportedFeatureError } from "../errors.js";
import type { Engine } from "../engine/engine.js";
import type { KernelArgs } from "../engine/kernel_abi.js";
import { f32At, f32Bytes } from "../engine/memory.js";
import { readF32 } from "../kernels/bindings.js";
import { Linear, type LinearWeights } from "./linear.js";
import { Norm, type NormWeights } from "./norm.js";
import { splitRange, taskCount } from "./parallel.js";
import { StackedLinear } from "./stacked_linear.js";
import type { Segment } from "./segments.js";
import type { WeightBlocks } from "./weight_blocks.js";

/**
 * How a query q and a key k (one head each, headDim floats) are compared before the softmax:
 * - "scaled_dot": q.k / sqrt(headDim) (the transformer's, the default);
 * - "dot": q.k;
 * - "general": q^T W k (bilinear, W headDim x headDim per head);
 * - "additive": v^T tanh(W_q q + W_k k) (the MLP score; W_q, W_k dim x headDim, v dim floats, per head).
 */
export type AttentionScore = "scaled_dot" | "dot" | "general" | "additive";

/** Parameters of a scoring function, all heads stacked (row-major). */
export interface ScoreWeights {
  kind: AttentionScore;
  /** "general": heads x headDim x headDim, score = sum_ab q_a W_ab k_b. */
  w?: Float32Array;
  /** "additive": heads x dim x headDim (torch Linear layout, out x in), applied to the query. */
  wq?: Float32Array;
  /** "additive": heads x dim x headDim, applied to the key. */
  wk?: Float32Array;
  /** "additive": heads x dim. */
  v?: Float32Array;
  /** "additive": hidden width of the score MLP. */
  dim?: number;
}

/** Weights of one attention block (torch layout: out x in). */
export interface AttentionWeights {
  heads: number;
  kvHeads: number;
  headDim: number;
  q: LinearWeights;
  k: LinearWeights;
  v: LinearWeights;
  o: LinearWeights;
  /** Per-head norms of q and k (headDim weights) before the rotary positions (Qwen3). */
  qNorm?: NormWeights;
  kNorm?: NormWeights;
  /** Scoring function; absent = "scaled_dot". */
  score?: ScoreWeights;
}

/** A scoring function other than scaled_dot, its weights in the weights region (byte offsets, 0 = unused). */
interface PackedScore {
  kind: Exclude<AttentionScore, "scaled_dot">;
  dim: number;
  w: number;
  wq: number;
  wk: number;
  v: number;
}

/**
 * Where the cached keys and values of one layer live: per sequence and kv head, a
 * contiguous (positions x headDim) block. Implemented by model/KvCache.
 */
export interface KvStore {
  /**
   * f32_copy_rows tasks that copy `rows` keys/values (row stride ld floats, kvHeads x headDim
   * each) of sequence `seq` to positions at.. (a kernel, so the copy can run inside a plan).
   */
  writeTasks(seq: number, layer: number, at: number, rows: number, k: number, v: number, ld: number): KernelArgs<"f32_copy_rows">[];
  /** Positions sequence `seq` has room for (the key/value planes' row count). */
  capacity(seq: number): number;
  /** Byte offset of the keys of (seq, layer, kvHead); row stride headDim. */
  keys(seq: number, layer: number, kvHead: number): number;
  /** Byte offset of the values of (seq, layer, kvHead); row stride headDim. */
  values(seq: number, layer: number, kvHead: number): number;
}

/** Receives a copy of each head's attention probabilities (nq x nk, row-major). */
export type ProbsHook = (seq: number, head: number, probs: Float32Array, nq: number, nk: number) => void;

/** Keys and values one query segment attends to, for one kv head. */
interface KeyView {
  k: number;
  ldk: number;
  v: number;
  ldv: number;
  nk: number;
  /** Positions the key/value buffers hold (>= nk): scratch for probabilities is sized by it, so a decode step's buffers do not move as nk grows. */
  room: number;
}

/** One attention pass over packed query segments, as the self and cross passes hand it to the scorers. */
interface AttendJob {
  segs: readonly Segment[];
  /** Queries (byte offset), row stride ldq floats; head h at column h headDim. */
  q: number;
  ldq: number;
  /** Keys/values of segment i for kv head g. */
  keysOf: (i: number, g: number) => KeyView;
  /** Context output, rows x qDim. */
  out: number;
  /** The f32_softmax `causal` argument of a segment (-1 = none). */
  causalOf: (s: Segment) => number;
  keyMask: readonly number[] | undefined;
  hook: ProbsHook | undefined;
  /** Causal queries see at most this many keys (0 = all). */
  window: number;
  /** Scores soft-capped at this value (0 = none). */
  softcap: number;
}

/** A block of query rows of one head and the key range they score against. */
interface Span {
  seg: number;
  head: number;
  /** First query row (of the packed rows) and their count. */
  row: number;
  nq: number;
  /** Key pointers and strides (already offset to the first key of the range) and the key count. */
  kv: KeyView;
  /** Byte offset of the additive key mask at the first key, or 0. */
  mask: number;
  causal: number;
  /** A sliding-window piece of a longer span (its probabilities are not a whole head's). */
  partial: boolean;
}

/** Projected keys/values of an encoder output, rows packed like the source segments. */
export interface CrossKv {
  /** Byte offset of (source rows x 2 kvDim): keys in the first kvDim columns, values after. */
  ptr: number;
  /** Source segments (row, length) in that buffer. */
  segs: readonly Segment[];
}

/** Options of a self-attention pass. */
export interface SelfAttentionRun {
  segs: readonly Segment[];
  /** Normalized input (rows x d, stride ldx). */
  x: number;
  ldx: number;
  /** Residual stream the output projection is added to (rows x d, stride ldr). */
  residual: number;
  ldr: number;
  /** false: the output projection overwrites `residual` instead (default true). */
  accumulate?: boolean;
  causal: boolean;
  /** Rotary positions for q and k. */
  rope?: { theta: number; interleaved: boolean };
  /** Keys/values are appended to this cache and attended from it (decoding). */
  cache?: { store: KvStore; layer: number; seqs: readonly number[] };
  /** Per segment: byte offset of an additive key mask (nk floats, 0 or -inf), or 0 for none. */
  keyMask?: readonly number[];
  probs?: ProbsHook;
  /** Causal sliding window: a query sees itself and the window - 1 keys before it (0 or absent = all). */
  window?: number;
  /** Soft-cap of the scaled scores, s = cap tanh(s / cap) (0 or absent = none). */
  softcap?: number;
}

/** Options of a cross-attention pass. */
export interface CrossAttentionRun {
  segs: readonly Segment[];
  x: number;
  ldx: number;
  residual: number;
  ldr: number;
  /** Keys/values of the memory; memory segment i belongs to query segment i. */
  memory: CrossKv;
  keyMask?: readonly number[];
  probs?: ProbsHook;
}

/** Floats of attention probabilities one runTasks call may hold (the rest waits for the next call). */
const PROBS_CHUNK = 1 << 22;

/**
 * Multi-head attention with grouped key/value heads (GQA/MQA when kvHeads < heads):
 * projections are packed linears (q;k;v fused), the per-head work is one f32_attention
 * task per (sequence, head).
 */
export class Attention {
  readonly d: number;
  readonly qDim: number;
  readonly kvDim: number;

  private constructor(
    private readonly engine: Engine,
    readonly heads: number,
    readonly kvHeads: number,
    readonly headDim: number,
    /** Self: q;k;v stacked. Cross: q alone. */
    private readonly inProj: Linear | StackedLinear,
    /** Cross only: k;v stacked, applied once to the memory. */
    private readonly kvProj: StackedLinear | undefined,
    private readonly outProj: Linear,
    /** Absent for scaled_dot, which stays the one fused f32_attention call. */
    private readonly score: PackedScore | undefined,
    private readonly qNorm?: Norm,
    private readonly kNorm?: Norm,
  ) {
    this.d = inProj.inFeatures;
    this.qDim = heads * headDim;
    this.kvDim = kvHeads * headDim;
  }

  /** Packs the projections of a self-attention (cross = false) or cross-attention block. */
  static create(engine: Engine, blocks: WeightBlocks, w: AttentionWeights, cross = false): Attention {
    const { heads, kvHeads, headDim } = w;
    if (heads % kvHeads !== 0) throw new ShapeError(`attention: kv heads ${kvHeads} must divide heads ${heads}`);
    const d = w.q.inFeatures;
    const check = (name: string, l: LinearWeights, out: number, inp: number) => {
      if (l.outFeatures !== out || l.inFeatures !== inp) {
        throw new ShapeError(`attention ${name}: expected ${out} x ${inp}, found ${l.outFeatures} x ${l.inFeatures}`);
      }
    };
    check("q", w.q, heads * headDim, d);
    check("k", w.k, kvHeads * headDim, w.k.inFeatures);
    check("v", w.v, kvHeads * headDim, w.k.inFeatures);
    check("o", w.o, d, heads * headDim);
    const score = packScore(blocks, w);
    if (cross) {
      return new Attention(engine, heads, kvHeads, headDim, Linear.create(engine, blocks, w.q), StackedLinear.create(engine, blocks, [w.k, w.v]), Linear.create(engine, blocks, w.o), score);
    }
    if (w.k.inFeatures !== d) throw new ShapeError(`self-attention k: expected in features ${d}, found ${w.k.inFeatures}`);
    const headNorm = (name: string, n: NormWeights | undefined) => {
      if (n && n.weight.length !== headDim) throw new ShapeError(`attention ${name}: expected ${headDim} weights (head_dim), found ${n.weight.length}`);
      return n && Norm.create(engine, blocks, n);
    };
    return new Attention(
      engine, heads, kvHeads, headDim, StackedLinear.create(engine, blocks, [w.q, w.k, w.v]), undefined, Linear.create(engine, blocks, w.o), score,
      headNorm("q norm", w.qNorm), headNorm("k norm", w.kNorm),
    );
  }

  /** The scoring function of this block. */
  get scoreKind(): AttentionScore {
    return this.score?.kind ?? "scaled_dot";
  }

  /** Self-attention: residual += out_proj(attention(x)). */
  async runSelf(r: SelfAttentionRun): Promise<void> {
    const { segs } = r;
    const rows = segs.reduce((a, s) => a + s.length, 0);
    const W = this.qDim + 2 * this.kvDim;
    const qkv = this.engine.scratch.alloc(f32Bytes(rows * W));
    await this.inProj.run({ m: rows, a: r.x, lda: r.ldx, c: qkv, ldc: W });
    if (this.qNorm) await this.qNorm.runHeads(rows, this.heads, qkv, W);
    if (this.kNorm) await this.kNorm.runHeads(rows, this.kvHeads, f32At(qkv, this.qDim), W);
    if (r.rope) await this.rotate(segs, qkv, W, r.rope);
    const hd = this.headDim;
    let keysOf: (i: number, g: number) => KeyView;
    if (r.cache) {
      const { store, layer, seqs } = r.cache;
      const writes = segs.flatMap((s, i) => {
        const at = f32At(qkv, s.row * W);
        return store.writeTasks(seqs[i], layer, s.past, s.length, f32At(at, this.qDim), f32At(at, this.qDim + this.kvDim), W);
      });
      await this.engine.runTasks("f32_copy_rows", writes, 0);
      keysOf = (i, g) => ({
        k: store.keys(seqs[i], layer, g), ldk: hd, v: store.values(seqs[i], layer, g), ldv: hd,
        nk: segs[i].past + segs[i].length, room: store.capacity(seqs[i]),
      });
    } else {
      keysOf = (i, g) => {
        const at = f32At(qkv, segs[i].row * W + this.qDim + g * hd);
        return { k: at, ldk: W, v: f32At(at, this.kvDim), ldv: W, nk: segs[i].length, room: segs[i].length };
      };
    }
    const ctx = this.engine.scratch.alloc(f32Bytes(rows * this.qDim));
    await this.attend({
      segs, q: qkv, ldq: W, keysOf, out: ctx, causalOf: (s) => (r.causal ? (r.cache ? s.past : 0) : -1), keyMask: r.keyMask, hook: r.probs,
      window: r.causal ? r.window ?? 0 : 0, softcap: r.softcap ?? 0,
    });
    await this.outProj.run({ m: rows, a: ctx, lda: this.qDim, c: r.residual, ldc: r.ldr, accumulate: r.accumulate ?? true });
  }

  /** Projects an encoder output (rows x d) to keys and values once: out is rows x 2 kvDim. */
  async projectMemory(rows: number, memory: number, ld: number, out: number): Promise<void> {
    if (!this.kvProj) throw new ShapeError("projectMemory: this attention block is not a cross-attention");
    await this.kvProj.run({ m: rows, a: memory, lda: ld, c: out, ldc: 2 * this.kvDim });
  }

  /** Cross-attention: residual += out_proj(attention(q = x, k/v = projected memory)). */
  async runCross(r: CrossAttentionRun): Promise<void> {
    const { segs } = r;
    const rows = segs.reduce((a, s) => a + s.length, 0);
    const q = this.engine.scratch.alloc(f32Bytes(rows * this.qDim));
    await this.inProj.run({ m: rows, a: r.x, lda: r.ldx, c: q, ldc: this.qDim });
    const W = 2 * this.kvDim;
    const keysOf = (i: number, g: number): KeyView => {
      const m = r.memory.segs[i];
      const at = f32At(r.memory.ptr, m.row * W + g * this.headDim);
      return { k: at, ldk: W, v: f32At(at, this.kvDim), ldv: W, nk: m.length, room: m.length };
    };
    const ctx = this.engine.scratch.alloc(f32Bytes(rows * this.qDim));
    await this.attend({ segs, q, ldq: this.qDim, keysOf, out: ctx, causalOf: () => -1, keyMask: r.keyMask, hook: r.probs, window: 0, softcap: 0 });
    await this.outProj.run({ m: rows, a: ctx, lda: this.qDim, c: r.residual, ldc: r.ldr, accumulate: true });
  }

  /** Rotates the q and k columns of the fused projection in place, row j of a segment at position past + j. */
  private async rotate(segs: readonly Segment[], qkv: number, W: number, rope: { theta: number; interleaved: boolean }): Promise<void> {
    const tasks: KernelArgs<"f32_rope">[] = [];
    const inter = rope.interleaved ? 1 : 0;
    for (const s of segs) {
      for (const [a, b] of splitRange(s.length, taskCount(this.engine, s.length * W * 8, s.length))) {
        const at = f32At(qkv, (s.row + a) * W);
        tasks.push([b - a, this.heads, this.headDim, at, W, s.past + a, rope.theta, inter]);
        tasks.push([b - a, this.kvHeads, this.headDim, f32At(at, this.qDim), W, s.past + a, rope.theta, inter]);
      }
    }
    await this.engine.runTasks("f32_rope", tasks);
  }

  /** "general": q' = q W per head (one f32_gemm_nn per segment and head), rows x qDim in scratch. */
  private async bilinearQueries(segs: readonly Segment[], q: number, ldq: number): Promise<number> {
    const hd = this.headDim;
    const qg = this.engine.scratch.alloc(f32Bytes(Math.max(1, segs.reduce((a, s) => a + s.length, 0)) * this.qDim));
    const tasks: KernelArgs<"f32_gemm_nn">[] = [];
    for (const s of segs) {
      if (s.length === 0) continue;
      for (let h = 0; h < this.heads; h++) {
        tasks.push([s.length, hd, hd, f32At(q, s.row * ldq + h * hd), ldq, f32At(this.score!.w, h * hd * hd), hd, f32At(qg, s.row * this.qDim + h * hd), this.qDim]);
      }
    }
    await this.engine.runTasks("f32_gemm_nn", tasks);
    return qg;
  }

  /**
   * "additive": per (segment, head) the projections W_q q and W_k k (f32_gemm_nt), the scores
   * v^T tanh(.) (f32_additive_scores), the masked softmax (f32_softmax) and probs . v
   * (f32_gemm_nn), each stage one runTasks call over all heads. Keys are projected at every
   * call (a decode step re-projects the cached keys: the price of the MLP score).
   */
  private async attendAdditive(job: AttendJob): Promise<void> {
    const { segs, q, ldq, keysOf, out, causalOf, keyMask, hook } = job;
    const sc = this.score!;
    const hd = this.headDim;
    const A = sc.dim;
    const group = this.heads / this.kvHeads;
    const items: Array<{ i: number; h: number; s: Segment; kv: KeyView; qa: number; ka: number; p: number }> = [];
    let qFloats = 0;
    let kFloats = 0;
    let pFloats = 0;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (s.length === 0) continue;
      for (let h = 0; h < this.heads; h++) {
        const kv = keysOf(i, Math.floor(h / group));
        items.push({ i, h, s, kv, qa: qFloats, ka: kFloats, p: pFloats });
        qFloats += s.length * A;
        kFloats += kv.nk * A;
        pFloats += s.length * kv.nk;
      }
    }
    if (items.length === 0) return;
    const scratch = this.engine.scratch;
    const qa = scratch.alloc(f32Bytes(qFloats));
    const ka = scratch.alloc(f32Bytes(kFloats));
    const probs = scratch.alloc(f32Bytes(Math.max(1, pFloats)));
    const proj: KernelArgs<"f32_gemm_nt">[] = [];
    for (const it of items) {
      const wq = f32At(sc.wq, it.h * A * hd);
      const wk = f32At(sc.wk, it.h * A * hd);
      proj.push([it.s.length, A, hd, f32At(q, it.s.row * ldq + it.h * hd), ldq, wq, hd, f32At(qa, it.qa), A, 1]);
      proj.push([it.kv.nk, A, hd, it.kv.k, it.kv.ldk, wk, hd, f32At(ka, it.ka), A, 1]);
    }
    await this.engine.runTasks("f32_gemm_nt", proj);
    await this.engine.runTasks("f32_additive_scores", items.map((it) => [
      it.s.length, it.kv.nk, A, f32At(qa, it.qa), A, f32At(ka, it.ka), A, f32At(sc.v, it.h * A), f32At(probs, it.p), it.kv.nk,
    ]));
    await this.engine.runTasks("f32_softmax", items.map((it) => {
      const p = f32At(probs, it.p);
      return [it.s.length, it.kv.nk, p, it.kv.nk, p, it.kv.nk, 1, keyMask?.[it.i] ?? 0, 0, causalOf(it.s)];
    }));
    await this.engine.runTasks("f32_gemm_nn", items.map((it) => [
      it.s.length, hd, it.kv.nk, f32At(probs, it.p), it.kv.nk, it.kv.v, it.kv.ldv, f32At(out, it.s.row * this.qDim + it.h * hd), this.qDim,
    ]));
    if (hook) for (const it of items) hook(it.i, it.h, readF32(this.engine, f32At(probs, it.p), it.s.length * it.kv.nk), it.s.length, it.kv.nk);
  }

  /**
   * The (query rows, key range) blocks of every (segment, head). With a sliding window the rows
   * whose window starts past the first key each get their own block over their last `window` keys.
   */
  private spans(job: AttendJob): Span[] {
    const { segs, keysOf, causalOf, keyMask, window } = job;
    const group = this.heads / this.kvHeads;
    const out: Span[] = [];
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i];
      if (s.length === 0) continue;
      const causal = causalOf(s);
      const mask = keyMask?.[i] ?? 0;
      // Rows [0, whole) see every key up to their causal limit; row j >= whole sees keys (causal + j - window, causal + j].
      const whole = window > 0 && causal >= 0 ? Math.min(s.length, Math.max(0, window - causal)) : s.length;
      for (let h = 0; h < this.heads; h++) {
        const kv = keysOf(i, Math.floor(h / group));
        if (whole > 0) out.push({ seg: i, head: h, row: s.row, nq: whole, kv, mask, causal, partial: whole < s.length });
        for (let j = whole; j < s.length; j++) {
          const first = causal + j - window + 1;
          out.push({
            seg: i, head: h, row: s.row + j, nq: 1, mask: mask && f32At(mask, first), causal: -1, partial: true,
            kv: { k: f32At(kv.k, first * kv.ldk), ldk: kv.ldk, v: f32At(kv.v, first * kv.ldv), ldv: kv.ldv, nk: window, room: kv.room - first },
          });
        }
      }
    }
    return out;
  }

  /**
   * One f32_attention task per span (soft-capped: f32_gemm_nt scores, f32_softcap, f32_softmax,
   * f32_gemm_nn probs . v, each stage one runTasks call); probabilities go to scratch in bounded chunks.
   */
  private async attend(job: AttendJob): Promise<void> {
    const { out, hook } = job;
    let { q, ldq } = job;
    const hd = this.headDim;
    let scale = 1 / Math.sqrt(hd);
    if (this.score) {
      if (this.score.kind === "additive") {
        if (job.window > 0 || job.softcap > 0) throw new UnsupportedFeatureError("attention: the additive score with a sliding window or soft-capping");
        return this.attendAdditive(job);
      }
      // dot: the fused kernel unscaled. general: q^T W k = (q W) . k, so the queries are
      // transformed once (the cached keys stay as they are) and scored by plain dot products.
      scale = 1;
      if (this.score.kind === "general") {
        q = await this.bilinearQueries(job.segs, q, ldq);
        ldq = this.qDim;
      }
    }
    const spans = this.spans(job);
    if (hook && spans.some((sp) => sp.partial)) throw new UnsupportedFeatureError("attention maps of sliding-window layers past the window");
    let maxChunk = 0;
    let total = 0;
    for (const sp of spans) {
      maxChunk = Math.max(maxChunk, sp.nq * sp.kv.room);
      total += sp.nq * sp.kv.room;
    }
    const probsFloats = Math.max(maxChunk, Math.min(PROBS_CHUNK, total));
    const probs = this.engine.scratch.alloc(f32Bytes(Math.max(1, probsFloats)));
    let chunk: Array<{ sp: Span; p: number }> = [];
    let used = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      const qOf = (sp: Span) => f32At(q, sp.row * ldq + sp.head * hd);
      const outOf = (sp: Span) => f32At(out, sp.row * this.qDim + sp.head * hd);
      // nq x nk x d multiply-adds for the scores and as many for probs . v.
      const work = chunk.reduce((w, { sp }) => w + 4 * sp.nq * sp.kv.nk * hd, 0);
      if (job.softcap > 0) {
        await this.engine.runTasks("f32_gemm_nt", chunk.map(({ sp, p }) => [sp.nq, sp.kv.nk, hd, qOf(sp), ldq, sp.kv.k, sp.kv.ldk, p, sp.kv.nk, 1]), work / 2);
        await this.engine.runTasks("f32_softcap", chunk.map(({ sp, p }) => [sp.nq * sp.kv.nk, p, p, scale, job.softcap]));
        await this.engine.runTasks("f32_softmax", chunk.map(({ sp, p }) => [sp.nq, sp.kv.nk, p, sp.kv.nk, p, sp.kv.nk, 1, sp.mask, 0, sp.causal]));
        await this.engine.runTasks("f32_gemm_nn", chunk.map(({ sp, p }) => [sp.nq, hd, sp.kv.nk, p, sp.kv.nk, sp.kv.v, sp.kv.ldv, outOf(sp), this.qDim]), work / 2);
      } else {
        await this.engine.runTasks("f32_attention", chunk.map(({ sp, p }) => [
          sp.nq, sp.kv.nk, hd, qOf(sp), ldq, sp.kv.k, sp.kv.ldk, sp.kv.v, sp.kv.ldv, outOf(sp), this.qDim, p, sp.kv.nk,
          scale, sp.mask, 0, sp.causal,
        ]), work);
      }
      if (hook) for (const { sp, p } of chunk) hook(sp.seg, sp.head, readF32(this.engine, p, sp.nq * sp.kv.nk), sp.nq, sp.kv.nk);
      chunk = [];
      used = 0;
    };
    for (const sp of spans) {
      const need = sp.nq * sp.kv.nk;
      if (used + need > probsFloats) await flush();
      chunk.push({ sp, p: f32At(probs, used) });
      used += need;
    }
    await flush();
  }
}

/** Checks the scoring weights against the heads and uploads them; undefined for scaled_dot. */
function packScore(blocks: WeightBlocks, w: AttentionWeights): PackedScore | undefined {
  const sc = w.score;
  if (!sc || sc.kind === "scaled_dot") return undefined;
  const { heads, headDim } = w;
  const need = (name: string, a: Float32Array | undefined, n: number, shape: string): number => {
    if (!a || a.length !== n) throw new ShapeError(`attention score "${sc.kind}" ${name}: expected ${shape} = ${n} values, found ${a ? a.length : "none"}`);
    return blocks.upload(a);
  };
  switch (sc.kind) {
    case "dot":
      return { kind: "dot", dim: 0, w: 0, wq: 0, wk: 0, v: 0 };
    case "general":
      return { kind: "general", dim: 0, w: need("w", sc.w, heads * headDim * headDim, `${heads} x ${headDim} x ${headDim}`), wq: 0, wk: 0, v: 0 };
    case "additive": {
      const a = sc.dim ?? 0;
      if (!Number.isInteger(a) || a < 1) throw new ShapeError(`attention score "additive": expected a hidden width >= 1, found ${sc.dim}`);
      return {
        kind: "additive", dim: a, w: 0,
        wq: need("w_q", sc.wq, heads * a * headDim, `${heads} x ${a} x ${headDim}`),
        wk: need("w_k", sc.wk, heads * a * headDim, `${heads} x ${a} x ${headDim}`),
        v: need("v", sc.v, heads * a, `${heads} x ${a}`),
      };
    }
    default:
      throw new ShapeError(`attention score: expected "scaled_dot" | "dot" | "general" | "additive", found ${JSON.stringify((sc as ScoreWeights).kind)}`);
  }
}

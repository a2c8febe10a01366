// Memory budgets computed from a config before any work: a model whose weights cannot fit,
// or a decode whose KV cache cannot fit, is refused with an OutOfMemoryError naming the
// bytes needed, before a tensor is read or a block allocated. The figures are lower bounds
// (packing pads GEMM panels, blocks round up to 64 bytes, a growing cache briefly holds its
// old block too), so a refusal is always right; a call that passes can still meet the
// regions' own OutOfMemoryError later, which frees what the call held.
import { ArgumentError, OutOfMemoryError } from "../errors.js";
import type { Region } from "../engine/memory.js";
import { type ModelConfig, kvDim, qDim } from "../config/config.js";

/** Positions a KV cache block starts with when no capacity is given (KvCache's default). */
export const DEFAULT_KV_CAPACITY = 64;

/**
 * Bytes of every weight the config implies (the tensors weights.ts reads, counted once): float32,
 * except linear weights [out, in] and token tables, counted at `linearBytesPerValue` (4 for float
 * files; a file that stores some tensors as quantized blocks passes its smallest rate, e.g. 18 / 32
 * or 144 / 256: a table stored so stays blocks, gathered row by row, so the bound holds for it too).
 */
export function weightBytes(c: ModelConfig, linearBytesPerValue = 4): number {
  const d = c.d_model;
  // HF GPT-2 always has fused q;k;v of width d and biased projections (Conv1D, never quantized).
  const gpt2 = c.naming === "hf-gpt2";
  const q = gpt2 ? d : qDim(c);
  const kv = gpt2 ? d : kvDim(c);
  const attnBias = gpt2 || c.attention_bias;
  const norm = d * (c.norm_bias ? 2 : 1) * 4;
  const rate = gpt2 ? 4 : linearBytesPerValue;
  const linear = (inF: number, outF: number, bias: boolean) => inF * outF * rate + (bias ? outF * 4 : 0);
  const score = (): number => {
    const H = c.n_heads;
    const hd = c.head_dim;
    const a = c.attention_score_dim;
    if (c.attention_score === "general") return H * hd * hd * 4;
    if (c.attention_score === "additive") return (2 * H * a * hd + H * a) * 4;
    return 0;
  };
  const qkNorms = c.qk_norm ? 2 * c.head_dim * 4 : 0;
  const attention = linear(d, q, attnBias) + 2 * linear(d, kv, attnBias) + linear(q, d, gpt2 || c.attention_out_bias) + score() + qkNorms;
  // Only these namings read a gate tensor for SwiGLU (GeGLU: hf-llama).
  const gated = (c.activation === "swiglu" && (c.naming === "torch-transformer" || c.naming === "hf-llama")) || c.activation === "geglu";
  const ffn = linear(d, c.d_ff, gpt2 || c.ffn_bias) * (gated ? 2 : 1) + linear(c.d_ff, d, gpt2 || c.ffn_bias);
  const ed = c.arch === "encoder-decoder";
  let n = c.encoder_layers * (attention + ffn + 2 * norm);
  n += c.decoder_layers * (ed ? 2 * attention + ffn + 3 * norm : attention + ffn + (c.post_norms ? 4 : 2) * norm);
  if (ed) n += (c.tgt_vocab_size * d + (c.shared_embeddings ? 0 : c.src_vocab_size * d)) * rate;
  else n += c.vocab_size * d * rate;
  if (c.positions === "learned") n += c.max_positions * d * 4;
  if (c.embed_norm) n += norm;
  if (c.encoder_layers > 0 && c.encoder_final_norm) n += norm;
  if (c.decoder_layers > 0 && c.decoder_final_norm) n += norm;
  if (c.lm_head) n += (c.tied_output ? 0 : c.vocab_size * d * rate) + (c.output_bias ? c.vocab_size * 4 : 0);
  return n;
}

/**
 * Bytes of the loaded weights (every typed array reachable from them, each counted once):
 * what the upload will at least take, whatever the source's dtypes (f32 or quantized blocks).
 * Views of `inMemory` (the wasm memory, where a streamed load put the tensors) are already there.
 */
export function loadedBytes(weights: object, inMemory?: ArrayBufferLike): number {
  const seen = new Set<unknown>();
  let bytes = 0;
  const walk = (v: unknown): void => {
    if (typeof v !== "object" || v === null || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      if (v.buffer !== inMemory) bytes += v.byteLength;
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x);
  };
  walk(weights);
  return bytes;
}

/** Capacity a KvCache block ends with after one reserve of `positions` (KvCache.reserve: at least double). Token-by-token growth may end higher: a lower bound. */
export function kvCapacity(initial: number, positions: number, maxCapacity: number): number {
  let cap = Math.min(initial, maxCapacity);
  while (cap < positions && cap < maxCapacity) cap = Math.min(maxCapacity, Math.max(positions, 2 * cap));
  return cap;
}

/** What a decode holds in the kv region. */
export interface KvPlan {
  /** Positions each sequence of the batch reaches (prompt plus fed generated tokens). */
  positions: readonly number[];
  /** Positions allocated at the start (StartOptions.capacity); default 64. */
  capacity?: number;
  /** Encoder-decoder: source lengths, whose projected keys/values stay cached per decoder layer. */
  srcLengths?: readonly number[];
}

/** Bytes of kv region a decode holds at its end: every sequence's grown block plus the cached sources. */
export function kvBytes(c: ModelConfig, plan: KvPlan): number {
  const perPosition = 2 * c.decoder_layers * kvDim(c) * 4;
  const initial = plan.capacity ?? DEFAULT_KV_CAPACITY;
  let bytes = 0;
  for (const p of plan.positions) bytes += perPosition * kvCapacity(initial, Math.min(p, c.max_positions), c.max_positions);
  const srcRows = plan.srcLengths?.reduce((a, n) => a + n, 0) ?? 0;
  bytes += c.decoder_layers * srcRows * 2 * kvDim(c) * 4;
  return bytes;
}

/** Bytes still available to `region`: its own limit and what the wasm memory may still grow to. */
export function availableBytes(region: Region): number {
  return Math.max(0, Math.min(region.limitBytes - region.usedBytes, region.mem.maxBytes - region.mem.usedBytes));
}

/** Throws OutOfMemoryError(region, bytes, available) when `bytes` cannot fit in `region`; nothing is allocated. */
export function assertFits(region: Region, bytes: number): void {
  if (!Number.isFinite(bytes) || bytes < 0) throw new ArgumentError(`memory budget: expected a byte count >= 0, found ${bytes}`);
  const free = availableBytes(region);
  if (bytes > free) throw new OutOfMemoryError(region.name, bytes, free);
}

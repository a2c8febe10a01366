// Loading a streamed model file into wasm memory once. From the header alone: which tensors the
// config reads and how (float32 values, or quantized blocks for the quantized linears and q8_0 /
// q4_0 token tables), their sizes, so the weights region is checked and the memory grown once.
// Then the files are read in file order, each tensor straight into its block of the weights
// region (F32 and quantized blocks, k-quants as stored, with no copy in JS; F16/BF16 and q8_0 /
// q4_0 wanted as floats are read into the float block's tail and converted there by a wasm
// kernel, chunk by chunk, each chunk while the next is read; k-quants wanted as floats go through
// one bounded staging buffer), and the model is built from views of those blocks: the ops take
// the blocks over (embeddings, norms, biases), pack linears in place, or repack quants, so no
// second copy of the file is ever held.
import { ModelFormatError } from "../errors.js";
import type { StoredDtype, StoredTensor, StreamedModel } from "../formats/streamed.js";
import { QUANT_OF as GGUF_QUANT } from "../formats/gguf.js";
import { badKQuantScale, isKQuant } from "../tensor/kquant_blocks.js";
import { dequantizeMatrix, quantBytes, type QuantizedMatrix, type QuantType } from "../tensor/quant_blocks.js";
import { StagedBlocks } from "../ops/weight_blocks.js";
import type { Engine } from "../engine/engine.js";
import { assertFits } from "../model/budget.js";
import { type HasEngine, Model } from "../model/model.js";
import type { TensorSource } from "../config/tensor_source.js";
import { loadWeights } from "../model/weights.js";

/** Bytes of the file read and converted at a time (F16/BF16 widening, dequantized blocks). */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** Where one tensor goes: float32 values, or quantized blocks (k-quants requantized to q8_0). */
interface Placement {
  f32?: number;
  blocks?: { ptr: number; type: QuantType };
}

const QUANT_OF: Partial<Record<StoredDtype, QuantType>> = GGUF_QUANT;
const sizeOf = (t: StoredTensor) => t.shape.reduce((a, b) => a * b, 1);
/** The block type a 2-D tensor is offered as, if any. */
const quantType = (t: StoredTensor) => (t.shape.length === 2 ? QUANT_OF[t.dtype] : undefined);

/** Which tensors the config reads as float32 and which as blocks: a dry run of loadWeights over the header. */
function wanted(m: StreamedModel, stored: ReadonlyMap<string, StoredTensor>): Map<string, { f32: boolean; blocks: boolean }> {
  const want = new Map<string, { f32: boolean; blocks: boolean }>();
  const mark = (n: string, k: "f32" | "blocks") => {
    const w = want.get(n) ?? { f32: false, blocks: false };
    w[k] = true;
    want.set(n, w);
  };
  const info = (n: string) => {
    const t = stored.get(n);
    if (!t) throw new ModelFormatError(m.file, `tensor "${n}"`, "present", "missing");
    return t;
  };
  const source: TensorSource = {
    file: m.file,
    has: (n) => stored.has(n),
    shape: (n) => info(n).shape,
    read: (n) => {
      mark(n, "f32");
      return new Float32Array(0);
    },
    quantized: (n) => {
      const t = info(n);
      const type = quantType(t);
      if (!type) return undefined;
      mark(n, "blocks");
      return { type, rows: t.shape[0], cols: t.shape[1], blocks: new Uint8Array(0) };
    },
    quantType: (n) => quantType(info(n)),
  };
  loadWeights(m.config, m.view ? m.view(source) : source);
  return want;
}

/** Fused projections whose parts the attention op stacks: placed back to back, they are packed without a copy. */
function fusedGroup(name: string): { key: string; index: number } | undefined {
  const m = /^(.*)\.(q_proj|k_proj|v_proj|query|key|value)\.weight$/.exec(name);
  return m ? { key: m[1], index: FUSED_INDEX[m[2]] } : undefined;
}

/** Position of a projection in the fused q;k;v weight (Llama and BERT names). */
const FUSED_INDEX: Record<string, number> = { q_proj: 0, k_proj: 1, v_proj: 2, query: 0, key: 1, value: 2 };

/** Bytes of the placements of one tensor. */
function placedBytes(t: StoredTensor, w: { f32: boolean; blocks: boolean }): { f32: number; blocks: number } {
  const type = QUANT_OF[t.dtype];
  return { f32: w.f32 ? sizeOf(t) * 4 : 0, blocks: w.blocks && type ? quantBytes(type, t.shape[0], t.shape[1]) : 0 };
}

/**
 * Bytes of q8_0 / q4_0 blocks (rows x cols) once repacked for the kernels: their staged block gets
 * this room, so the op repacks them in place. 0 for other types (used as stored, or not blocks).
 */
function repackedBytes(engine: Engine, type: QuantType | undefined, rows: number, cols: number): number {
  if (type !== "q8_0" && type !== "q4_0") return 0;
  const k = engine.exports;
  return (type === "q8_0" ? k.q8_0_quant_bytes(rows, cols) : k.q4_0_quant_bytes(rows, cols)) + k.q_scale_bytes(rows, cols);
}

/** The load's one staging buffer: grown to the largest chunk asked for (CHUNK_BYTES, or one row when a row is larger), reused by every tensor. */
class StagingBuffer {
  private bytes = new Uint8Array(0);

  get(n: number): Uint8Array {
    if (this.bytes.byteLength < n) this.bytes = new Uint8Array(n);
    return this.bytes.subarray(0, n);
  }
}

/** A k-quant super-block whose f16 d or dmin is Inf / NaN is refused (as the GGUF reader does). */
function checkScales(t: StoredTensor, q: QuantizedMatrix): void {
  if (!isKQuant(q.type)) return;
  const bad = badKQuantScale(q.type, q.blocks);
  if (bad >= 0) throw new ModelFormatError(t.fileName, `tensor "${t.fileName}" super-block ${bad} scale`, `a finite f16 (${t.dtype} d${q.type === "q6_k" ? "" : " and dmin"})`, "Inf or NaN");
}

/** The wasm conversion of a stored type to float32, with the bytes one unit (a value or a block of 32) takes in the file. */
const CONVERT: Partial<Record<StoredDtype, { kernel: "f16_widen" | "bf16_widen" | "q8_0_dequant" | "q4_0_dequant"; values: number; bytes: number }>> = {
  F16: { kernel: "f16_widen", values: 1, bytes: 2 },
  BF16: { kernel: "bf16_widen", values: 1, bytes: 2 },
  Q8_0: { kernel: "q8_0_dequant", values: 32, bytes: 34 },
  Q4_0: { kernel: "q4_0_dequant", values: 32, bytes: 18 },
};

/**
 * Reads a tensor that is wanted as float32 and converted by a wasm kernel, chunk by chunk: the raw
 * bytes go to the blocks placement when there is one (kept as well), else into the tail of the
 * float block, which the kernel converts in place (the kernels' documented aliasing). Each chunk
 * is converted while the next one is being read.
 */
async function fillConverted(engine: Engine, src: StreamedModel["files"][number]["source"], t: StoredTensor, f32: number, rawAt: number | undefined): Promise<void> {
  const conv = CONVERT[t.dtype]!;
  const units = sizeOf(t) / conv.values;
  const bytes = units * conv.bytes;
  const at = rawAt ?? f32 + units * conv.values * 4 - bytes;
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / conv.bytes));
  const kernel = engine.exports[conv.kernel];
  const view = (u0: number, n: number) => new Uint8Array(engine.mem.memory.buffer, at + u0 * conv.bytes, n * conv.bytes);
  let pending = src.read(view(0, Math.min(perChunk, units)));
  for (let u0 = 0; u0 < units; u0 += perChunk) {
    const n = Math.min(perChunk, units - u0);
    await pending;
    const next = u0 + n;
    // The next read writes bytes this conversion does not touch (in place, outputs end before unread input).
    if (next < units) pending = src.read(view(next, Math.min(perChunk, units - next)));
    kernel(n, at + u0 * conv.bytes, f32 + u0 * conv.values * 4);
  }
}

/** Reads one tensor from its source into its placements. */
async function fill(engine: Engine, src: StreamedModel["files"][number]["source"], t: StoredTensor, p: Placement, staging: StagingBuffer): Promise<void> {
  const mem = engine.mem;
  const buffer = () => mem.memory.buffer;
  const bytes = t.end - t.begin;
  const direct = (p.f32 !== undefined) !== (p.blocks !== undefined) && (p.f32 !== undefined ? t.dtype === "F32" : QUANT_OF[t.dtype] !== undefined);
  if (direct) {
    const to = new Uint8Array(buffer(), p.f32 ?? p.blocks!.ptr, bytes);
    await src.read(to);
    if (p.blocks) checkScales(t, { type: p.blocks.type, rows: t.shape[0], cols: t.shape[1], blocks: to });
    return;
  }
  if (p.f32 !== undefined && CONVERT[t.dtype]) return fillConverted(engine, src, t, p.f32, p.blocks?.ptr);
  // k-quants wanted as float32: through the staging buffer, row-aligned chunks (whole super-blocks).
  const cols = t.shape[t.shape.length - 1];
  const rows = sizeOf(t) / cols;
  const rowBytes = bytes / rows;
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
  const chunk = staging.get(Math.min(rows, perChunk) * rowBytes);
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const r = Math.min(perChunk, rows - r0);
    const raw = chunk.subarray(0, r * rowBytes);
    await src.read(raw);
    const q: QuantizedMatrix = { type: QUANT_OF[t.dtype]!, rows: r, cols, blocks: raw };
    checkScales(t, q);
    if (p.blocks) new Uint8Array(buffer(), p.blocks.ptr + r0 * rowBytes, raw.byteLength).set(raw);
    dequantizeMatrix(q, new Float32Array(buffer(), p.f32! + r0 * cols * 4, r * cols));
  }
}

/**
 * Loads a streamed model into `runtime`: reads every source to its end (closing them), builds
 * the Model, and leaves the weights region as it was on any error (typed: ModelFormatError for
 * a truncated or malformed file, ReadError, AbortError, OutOfMemoryError before any read).
 */
export async function loadStreamed(runtime: HasEngine, m: StreamedModel): Promise<Model> {
  const engine = runtime.engine;
  engine.assertLive();
  try {
    const stored = new Map<string, StoredTensor>();
    for (const f of m.files) for (const t of f.tensors) stored.set(t.name, t);
    const want = wanted(m, stored);
    // Sizes first: refuse what cannot fit, then grow the memory once for the staged tensors and
    // what building the model adds (repacked quants, the tied output head, panel padding).
    let staged = 0;
    let extra = 16 * 1024 * 1024;
    let largest = 0;
    for (const [name, w] of want) {
      const b = placedBytes(stored.get(name)!, w);
      staged += b.f32 + b.blocks;
      extra += b.blocks * 0.15;
      largest = Math.max(largest, b.f32, b.blocks);
    }
    const region = engine.regions.weights;
    assertFits(region, staged);
    if (m.config.tied_output && m.config.lm_head) {
      // The tied head is packed from the token table: q8_0 / q4_0 blocks repacked, k-quant blocks
      // shared as stored (nothing added), else floats.
      const { vocab_size: v, d_model: d } = m.config;
      const table = [...want].find(([n, w]) => w.blocks && stored.get(n)!.shape[0] === v && stored.get(n)!.shape[1] === d);
      const t = table && stored.get(table[0])!;
      extra += (t ? (isKQuant(QUANT_OF[t.dtype]!) ? 0 : placedBytes(t, table[1]).blocks) : v * d * 4) * 1.2;
    }
    engine.mem.reserve(staged + extra + 2 * largest + staged * 0.1);
    return await stageAndBuild(runtime, m, stored, want);
  } finally {
    for (const f of m.files) await f.source.close();
  }
}

async function stageAndBuild(runtime: HasEngine, m: StreamedModel, stored: ReadonlyMap<string, StoredTensor>, want: Map<string, { f32: boolean; blocks: boolean }>): Promise<Model> {
  const engine = runtime.engine;
  const staging = new StagedBlocks(engine);
  try {
    // Placements: fused projections as one block in q, k, v order, everything else one block each.
    const place = new Map<string, Placement>();
    const groups = new Map<string, StoredTensor[]>();
    for (const [name, w] of want) {
      const g = fusedGroup(name);
      if (g && w.f32 !== w.blocks) groups.set(g.key, [...(groups.get(g.key) ?? []), stored.get(name)!]);
    }
    for (const [, parts] of groups) {
      const kinds = new Set(parts.map((t) => (want.get(t.name)!.f32 ? "f32" : QUANT_OF[t.dtype])));
      if (parts.length !== 3 || kinds.size !== 1) continue;
      parts.sort((a, b) => fusedGroup(a.name)!.index - fusedGroup(b.name)!.index);
      const sizes = parts.map((t) => placedBytes(t, want.get(t.name)!));
      const rows = parts.reduce((a, t) => a + t.shape[0], 0);
      let ptr = staging.alloc(sizes.reduce((a, s) => a + s.f32 + s.blocks, 0), repackedBytes(engine, QUANT_OF[parts[0].dtype], rows, parts[0].shape[1]));
      parts.forEach((t, i) => {
        const w = want.get(t.name)!;
        place.set(t.name, w.f32 ? { f32: ptr } : { blocks: { ptr, type: QUANT_OF[t.dtype]! } });
        ptr += sizes[i].f32 + sizes[i].blocks;
      });
    }
    for (const [name, w] of want) {
      if (place.has(name)) continue;
      const t = stored.get(name)!;
      const b = placedBytes(t, w);
      const blocks = w.blocks ? { ptr: staging.alloc(b.blocks, repackedBytes(engine, QUANT_OF[t.dtype], t.shape[0], t.shape[1])), type: QUANT_OF[t.dtype]! } : undefined;
      place.set(name, { f32: w.f32 ? staging.alloc(b.f32) : undefined, blocks });
    }
    const chunks = new StagingBuffer();
    for (const f of m.files) {
      const src = f.source;
      for (const t of [...f.tensors].sort((a, b) => a.begin - b.begin)) {
        const p = place.get(t.name);
        if (!p) continue;
        await src.skip(t.begin - src.position);
        await fill(engine, src, t, p, chunks);
      }
      await src.skip(f.end - src.position);
      if (src.size === undefined && m.format !== "gguf" && (await src.peek(1)).byteLength > 0) {
        throw new ModelFormatError(src.name, "file size", `${f.end} bytes (the end of the last tensor)`, "more bytes");
      }
    }
    const buffer = engine.mem.memory.buffer;
    const source: TensorSource = {
      file: m.file,
      has: (n) => stored.has(n),
      shape: (n) => stored.get(n)!.shape,
      read: (n) => {
        const p = place.get(n)?.f32;
        if (p === undefined) throw new ModelFormatError(m.file, `tensor "${n}"`, "read while loading", "asked again after the load");
        return new Float32Array(buffer, p, sizeOf(stored.get(n)!));
      },
      quantized: (n) => {
        const b = place.get(n)?.blocks;
        const t = stored.get(n)!;
        if (!b) return undefined;
        return { type: b.type, rows: t.shape[0], cols: t.shape[1], blocks: new Uint8Array(buffer, b.ptr, quantBytes(b.type, t.shape[0], t.shape[1])) };
      },
    };
    return Model.fromTensors(runtime, m.config, m.view ? m.view(source) : source, m.metadata);
  } finally {
    staging.dispose();
  }
}

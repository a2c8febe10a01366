import { ArgumentError, ModelFormatError, OutOfMemoryError, ShapeError } from "../errors.js";
import type { KvStore } from "../ops/attention.js";
import type { Engine } from "../engine/engine.js";
import type { KernelArgs } from "../engine/kernel_abi.js";
import { f32At } from "../engine/memory.js";
import { assertFits, availableBytes } from "./budget.js";

/** Shape of a KV cache. */
export interface KvCacheOptions {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Sequences decoded side by side. */
  batch: number;
  /** Positions allocated per sequence at first (grows by doubling); default 64. */
  capacity?: number;
  /** Positions a sequence may reach (the model's max_positions); writing past it is a ShapeError. */
  maxCapacity: number;
}

const MAGIC = 0x564b4653; // "SFKV" little-endian
const HEADER_WORDS = 6;

/**
 * Keys and values of every decoded position, in the engine's kv region. Each sequence owns
 * one block: K then V, each layer x kvHead x capacity x headDim, so one head's keys are one
 * contiguous (positions x headDim) matrix for f32_attention. A block grows (reallocate and
 * copy) when a pass needs more positions, up to maxCapacity.
 */
export class KvCache implements KvStore {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly maxCapacity: number;
  /** Positions held per sequence. */
  private lens: number[] = [];
  private caps: number[] = [];
  private ptrs: number[] = [];
  /** The layout string, kept until the blocks move (decode checks it every step). */
  private layoutKey: string | null = null;
  private disposed = false;

  constructor(private readonly engine: Engine, opts: KvCacheOptions) {
    for (const k of ["layers", "kvHeads", "headDim", "batch", "maxCapacity"] as const) {
      if (!Number.isInteger(opts[k]) || opts[k] < 1) throw new ArgumentError(`KvCache ${k}: expected an integer >= 1, found ${opts[k]}`);
    }
    this.layers = opts.layers;
    this.kvHeads = opts.kvHeads;
    this.headDim = opts.headDim;
    if (opts.capacity !== undefined && !(Number.isInteger(opts.capacity) && opts.capacity >= 1)) {
      throw new ArgumentError(`KvCache capacity: expected an integer >= 1, found ${opts.capacity}`);
    }
    this.maxCapacity = opts.maxCapacity;
    const cap = Math.min(opts.capacity ?? 64, this.maxCapacity);
    // All blocks or none: a batch that cannot fit is refused before the first block.
    assertFits(engine.regions.kv, opts.batch * this.blockBytes(cap));
    for (let b = 0; b < opts.batch; b++) this.addSequence(cap);
  }

  /** Sequences in the cache. */
  get batch(): number {
    return this.lens.length;
  }

  /** Positions held by sequence `seq`. */
  length(seq: number): number {
    this.check(seq);
    return this.lens[seq];
  }

  /** Positions of every sequence. */
  get lengths(): number[] {
    return [...this.lens];
  }

  /** Positions allocated for sequence `seq`. */
  capacity(seq: number): number {
    this.check(seq);
    return this.caps[seq];
  }

  /** Where every sequence's block is and how many positions it holds: plans are compiled for one layout. */
  get layout(): string {
    this.layoutKey ??= `${this.ptrs.join(",")}/${this.caps.join(",")}`;
    return this.layoutKey;
  }

  /** Bytes of kv region held. */
  get bytes(): number {
    return this.caps.reduce((a, c) => a + this.blockBytes(c), 0);
  }

  private blockBytes(cap: number): number {
    return 2 * this.layers * this.kvHeads * cap * this.headDim * 4;
  }

  private addSequence(cap: number): void {
    this.layoutKey = null;
    this.ptrs.push(this.engine.regions.kv.alloc(this.blockBytes(cap)));
    this.caps.push(cap);
    this.lens.push(0);
  }

  private check(seq: number): void {
    if (this.disposed) throw new ArgumentError("KvCache: used after dispose()");
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.lens.length) {
      throw new ShapeError(`KvCache: sequence index expected 0..${this.lens.length - 1}, found ${seq}`);
    }
  }

  /**
   * Makes room for `total` positions in sequence `seq` (call before a pass: growing moves
   * the block). Throws ShapeError past maxCapacity, OutOfMemoryError when the kv region is full.
   */
  reserve(seq: number, total: number): void {
    this.check(seq);
    if (total > this.maxCapacity) {
      throw new ShapeError(`KvCache full: sequence ${seq} expected at most ${this.maxCapacity} positions, found ${total}`);
    }
    if (total <= this.caps[seq]) return;
    const cap = Math.min(this.maxCapacity, Math.max(total, 2 * this.caps[seq]));
    const fresh = this.engine.regions.kv.alloc(this.blockBytes(cap));
    this.copyPlanes(this.ptrs[seq], this.caps[seq], fresh, cap, this.lens[seq]);
    this.engine.regions.kv.release(this.ptrs[seq]);
    this.ptrs[seq] = fresh;
    this.caps[seq] = cap;
    this.layoutKey = null;
  }

  /** Copies the first `len` positions of every (K/V, layer, head) plane between blocks of different capacity. */
  private copyPlanes(src: number, srcCap: number, dst: number, dstCap: number, len: number): void {
    const f32 = this.engine.mem.f32;
    const hd = this.headDim;
    for (let p = 0; p < 2 * this.layers * this.kvHeads; p++) {
      const s = (src >>> 2) + p * srcCap * hd;
      f32.copyWithin((dst >>> 2) + p * dstCap * hd, s, s + len * hd);
    }
  }

  private plane(seq: number, kv: 0 | 1, layer: number, head: number): number {
    const cap = this.caps[seq];
    return f32At(this.ptrs[seq], ((kv * this.layers + layer) * this.kvHeads + head) * cap * this.headDim);
  }

  /** @inheritdoc */
  writeTasks(seq: number, layer: number, at: number, rows: number, k: number, v: number, ld: number): KernelArgs<"f32_copy_rows">[] {
    this.check(seq);
    if (at + rows > this.caps[seq]) throw new ShapeError(`KvCache.write: positions up to ${this.caps[seq]} reserved, found ${at + rows}`);
    const hd = this.headDim;
    const tasks: KernelArgs<"f32_copy_rows">[] = [];
    for (let g = 0; g < this.kvHeads; g++) {
      tasks.push([rows, hd, f32At(k, g * hd), ld, f32At(this.plane(seq, 0, layer, g), at * hd), hd]);
      tasks.push([rows, hd, f32At(v, g * hd), ld, f32At(this.plane(seq, 1, layer, g), at * hd), hd]);
    }
    return tasks;
  }

  /** @inheritdoc */
  keys(seq: number, layer: number, kvHead: number): number {
    return this.plane(seq, 0, layer, kvHead);
  }

  /** @inheritdoc */
  values(seq: number, layer: number, kvHead: number): number {
    return this.plane(seq, 1, layer, kvHead);
  }

  /** Records that `n` positions were written to sequence `seq` by the last pass. */
  advance(seq: number, n: number): void {
    this.check(seq);
    if (this.lens[seq] + n > this.caps[seq]) throw new ShapeError(`KvCache.advance: expected at most ${this.caps[seq]} positions, found ${this.lens[seq] + n}`);
    this.lens[seq] += n;
  }

  /** Forgets positions from `length` on in sequence `seq` (rewind, e.g. speculative decoding). */
  truncate(seq: number, length: number): void {
    this.check(seq);
    if (!Number.isInteger(length) || length < 0 || length > this.lens[seq]) {
      throw new ShapeError(`KvCache.truncate: length expected 0..${this.lens[seq]}, found ${length}`);
    }
    this.lens[seq] = length;
  }

  /**
   * Reorders the sequences: new sequence i is a copy of old sequence rows[i] (beam search
   * keeps, drops and duplicates hypotheses this way). The batch size becomes rows.length.
   */
  select(rows: readonly number[]): void {
    if (!Array.isArray(rows) || rows.length === 0) throw new ShapeError(`KvCache.select: expected at least one row, found ${JSON.stringify(rows)}`);
    for (const r of rows) this.check(r);
    const uses = new Map<number, number>();
    for (const r of rows) uses.set(r, (uses.get(r) ?? 0) + 1);
    const ptrs: number[] = [];
    const caps: number[] = [];
    const lens: number[] = [];
    const moved = new Set<number>();
    const copies: number[] = [];
    try {
      for (const r of rows) {
        if (!moved.has(r)) {
          // The first use takes the block itself; further uses get copies.
          moved.add(r);
          ptrs.push(this.ptrs[r]);
        } else {
          const p = this.engine.regions.kv.alloc(this.blockBytes(this.caps[r]));
          copies.push(p);
          this.copyPlanes(this.ptrs[r], this.caps[r], p, this.caps[r], this.lens[r]);
          ptrs.push(p);
        }
        caps.push(this.caps[r]);
        lens.push(this.lens[r]);
      }
    } catch (e) {
      // Out of kv memory part way: the cache stays as it was.
      for (const p of copies) this.engine.regions.kv.release(p);
      throw e;
    }
    for (let r = 0; r < this.ptrs.length; r++) if (!uses.has(r)) this.engine.regions.kv.release(this.ptrs[r]);
    this.ptrs = ptrs;
    this.caps = caps;
    this.lens = lens;
    this.layoutKey = null;
  }

  /**
   * The cached positions as bytes: a header (magic "SFKV", version, layers, kvHeads,
   * headDim, batch), the lengths, then per sequence K and V planes of `length` rows.
   */
  snapshot(): Uint8Array {
    if (this.disposed) throw new ArgumentError("KvCache: used after dispose()");
    const hd = this.headDim;
    const planes = 2 * this.layers * this.kvHeads;
    const floats = this.lens.reduce((a, l) => a + planes * l * hd, 0);
    const out = new Uint8Array((HEADER_WORDS + this.batch) * 4 + floats * 4);
    const head = new DataView(out.buffer);
    [MAGIC, 1, this.layers, this.kvHeads, hd, this.batch, ...this.lens].forEach((w, i) => head.setUint32(4 * i, w, true));
    const data = new Float32Array(out.buffer, (HEADER_WORDS + this.batch) * 4);
    const f32 = this.engine.mem.f32;
    let at = 0;
    for (let b = 0; b < this.batch; b++) {
      for (let p = 0; p < planes; p++) {
        const s = (this.ptrs[b] >>> 2) + p * this.caps[b] * hd;
        data.set(f32.subarray(s, s + this.lens[b] * hd), at);
        at += this.lens[b] * hd;
      }
    }
    return out;
  }

  /**
   * Replaces the contents with a snapshot of a cache of the same layers, kvHeads and
   * headDim (the batch size may differ). Malformed bytes are a ModelFormatError; nothing
   * changes when validation fails.
   */
  restore(bytes: Uint8Array): void {
    if (this.disposed) throw new ArgumentError("KvCache: used after dispose()");
    const fail = (field: string, expected: string, found: string | number): never => {
      throw new ModelFormatError("kv snapshot", field, expected, String(found));
    };
    if (bytes.byteLength < HEADER_WORDS * 4) fail("length", `>= ${HEADER_WORDS * 4} bytes`, bytes.byteLength);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const word = (i: number) => dv.getUint32(4 * i, true);
    if (word(0) !== MAGIC) fail("magic", "SFKV", `0x${word(0).toString(16)}`);
    if (word(1) !== 1) fail("version", "1", word(1));
    if (word(2) !== this.layers) fail("layers", String(this.layers), word(2));
    if (word(3) !== this.kvHeads) fail("kvHeads", String(this.kvHeads), word(3));
    if (word(4) !== this.headDim) fail("headDim", String(this.headDim), word(4));
    const batch = word(5);
    if (batch < 1 || (HEADER_WORDS + batch) * 4 > bytes.byteLength) fail("batch", "1.. sequences with their lengths", batch);
    const lens: number[] = [];
    for (let b = 0; b < batch; b++) {
      const l = word(HEADER_WORDS + b);
      if (l > this.maxCapacity) fail(`length of sequence ${b}`, `<= ${this.maxCapacity}`, l);
      lens.push(l);
    }
    const hd = this.headDim;
    const planes = 2 * this.layers * this.kvHeads;
    const floats = lens.reduce((a, l) => a + planes * l * hd, 0);
    const want = (HEADER_WORDS + batch) * 4 + floats * 4;
    if (bytes.byteLength !== want) fail("length", `${want} bytes`, bytes.byteLength);
    // Copy out before allocating: the snapshot may be a view of this very memory.
    // The new blocks must fit once the old ones are freed; refused before anything changes.
    const need = lens.reduce((a, l) => a + this.blockBytes(Math.min(this.maxCapacity, Math.max(l, 1))), 0);
    const free = availableBytes(this.engine.regions.kv) + this.bytes;
    if (need > free) throw new OutOfMemoryError("kv", need, free);
    const data = new Float32Array(floats);
    new Uint8Array(data.buffer).set(bytes.subarray((HEADER_WORDS + batch) * 4));
    for (const p of this.ptrs) this.engine.regions.kv.release(p);
    this.ptrs = [];
    this.caps = [];
    this.lens = [];
    for (const l of lens) this.addSequence(Math.min(this.maxCapacity, Math.max(l, 1)));
    const f32 = this.engine.mem.f32;
    let at = 0;
    for (let b = 0; b < batch; b++) {
      for (let p = 0; p < planes; p++) {
        f32.set(data.subarray(at, at + lens[b] * hd), (this.ptrs[b] >>> 2) + p * this.caps[b] * hd);
        at += lens[b] * hd;
      }
      this.lens[b] = lens[b];
    }
  }

  /** Returns the blocks to the kv region. */
  dispose(): void {
    if (this.disposed) return;
    for (const p of this.ptrs) this.engine.regions.kv.release(p);
    this.ptrs = [];
    this.layoutKey = null;
    this.disposed = true;
  }
}

import { ArgumentError, OutOfMemoryError } from "../errors.js";

const PAGE = 65536;
/** Every block starts on a cache line: 16 bytes is what v128 loads need, 64 avoids split lines. */
export const ALIGN = 64;

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/** Bytes of `n` 4-byte elements (f32, or i32): the size of a buffer the kernels take by byte offset. */
export const f32Bytes = (n: number): number => n * 4;

/** Byte offset of 4-byte element `i` (f32, or i32) of the array at byte offset `ptr`. */
export const f32At = (ptr: number, i: number): number => ptr + i * 4;

/** Named regions of the one linear memory; each has its own byte limit. */
export type RegionName = "weights" | "kv" | "scratch";

/**
 * The wasm linear memory, created by TypeScript and imported by every build.
 * Hands out aligned blocks with a first-fit free list; the low `reservedBytes`
 * belong to the module (its static data and stack).
 */
export class WasmMemory {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly maxBytes: number;
  private top: number;
  /** Free blocks sorted by address: [ptr, bytes]. */
  private free: Array<[number, number]> = [];
  private sizes = new Map<number, number>();
  private f32view?: Float32Array;
  private u8view?: Uint8Array;
  private i32view?: Int32Array;

  constructor(opts: { initialBytes: number; maxBytes: number; shared: boolean; reservedBytes: number }) {
    if (!(opts.maxBytes > 0) || opts.maxBytes > 65536 * PAGE) {
      throw new ArgumentError(`maxMemory: expected 1 byte .. 4 GiB, found ${opts.maxBytes}`);
    }
    const maximum = Math.max(1, Math.floor(opts.maxBytes / PAGE));
    const initial = Math.min(maximum, Math.max(1, Math.ceil(opts.initialBytes / PAGE)));
    this.memory = new WebAssembly.Memory({ initial, maximum, shared: opts.shared } as WebAssembly.MemoryDescriptor);
    this.shared = opts.shared;
    this.maxBytes = maximum * PAGE;
    this.top = alignUp(opts.reservedBytes, ALIGN);
  }

  /** Bytes handed out and not freed. */
  get usedBytes(): number {
    let s = 0;
    for (const b of this.sizes.values()) s += b;
    return s;
  }

  /** Current size of the linear memory in bytes. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allocates `bytes` (rounded up to ALIGN); `region` names the caller in errors. */
  alloc(bytes: number, region: string): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new ArgumentError(`alloc: expected a byte count >= 0, found ${bytes}`);
    const size = alignUp(Math.max(bytes, 1), ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const [ptr, len] = this.free[i];
      if (len < size) continue;
      if (len === size) this.free.splice(i, 1);
      else this.free[i] = [ptr + size, len - size];
      this.sizes.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > this.maxBytes) throw new OutOfMemoryError(region, bytes, this.maxBytes - this.top);
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow by at least 1/8 of the current size so many small allocations do not grow page by page.
      const want = Math.min(this.maxBytes, Math.max(end, have + (have >> 3)));
      this.memory.grow(Math.ceil((want - have) / PAGE));
    }
    this.top = end;
    this.sizes.set(ptr, size);
    return ptr;
  }

  /**
   * Grows the memory once so that `bytes` more fit above the highest block (capped at the
   * maximum): a load sized up front then never grows it midway, so the views of the memory it
   * handed out stay attached (growing an unshared memory detaches its buffer).
   */
  reserve(bytes: number): void {
    const want = Math.min(this.maxBytes, this.top + bytes);
    const have = this.memory.buffer.byteLength;
    if (want > have) this.memory.grow(Math.ceil((want - have) / PAGE));
  }

  /** Returns a block to the free list, coalescing with its neighbours. */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new ArgumentError(`release: ${ptr} is not an allocated block`);
    this.sizes.delete(ptr);
    let i = 0;
    while (i < this.free.length && this.free[i][0] < ptr) i++;
    this.free.splice(i, 0, [ptr, size]);
    if (i + 1 < this.free.length && this.free[i][0] + this.free[i][1] === this.free[i + 1][0]) {
      this.free[i][1] += this.free[i + 1][1];
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1][0] + this.free[i - 1][1] === this.free[i][0]) {
      this.free[i - 1][1] += this.free[i][1];
      this.free.splice(i, 1);
      i--;
    }
    // A free block at the top gives its bytes back to the bump pointer.
    const last = this.free[this.free.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      this.free.pop();
    }
  }

  /** Views are recreated when the buffer changes (growth detaches unshared buffers). */
  get f32(): Float32Array {
    if (this.f32view?.buffer !== this.memory.buffer || this.f32view.length * 4 !== this.memory.buffer.byteLength) {
      this.f32view = new Float32Array(this.memory.buffer);
    }
    return this.f32view;
  }

  get u8(): Uint8Array {
    if (this.u8view?.buffer !== this.memory.buffer || this.u8view.length !== this.memory.buffer.byteLength) {
      this.u8view = new Uint8Array(this.memory.buffer);
    }
    return this.u8view;
  }

  get i32(): Int32Array {
    if (this.i32view?.buffer !== this.memory.buffer || this.i32view.length * 4 !== this.memory.buffer.byteLength) {
      this.i32view = new Int32Array(this.memory.buffer);
    }
    return this.i32view;
  }
}

/**
 * A named share of the memory with its own limit: weights (loaded once), kv (the
 * KV caches) or scratch (activations). Overrunning the limit is an OutOfMemoryError
 * naming the region, raised before any bytes are touched.
 */
export class Region {
  private used = 0;
  private blocks = new Map<number, number>();

  constructor(
    readonly name: RegionName,
    readonly mem: WasmMemory,
    readonly limitBytes: number,
  ) {}

  get usedBytes(): number {
    return this.used;
  }

  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1), ALIGN);
    if (this.used + size > this.limitBytes) {
      throw new OutOfMemoryError(this.name, bytes, this.limitBytes - this.used);
    }
    const ptr = this.mem.alloc(bytes, this.name);
    this.used += size;
    this.blocks.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.blocks.get(ptr);
    if (size === undefined) throw new ArgumentError(`region '${this.name}': ${ptr} is not one of its blocks`);
    this.blocks.delete(ptr);
    this.used -= size;
    this.mem.release(ptr);
  }

  /** Frees every block of this region. */
  clear(): void {
    for (const ptr of [...this.blocks.keys()]) this.release(ptr);
  }
}

/**
 * Bump allocator for one forward pass. reset() is O(1) in the common case; when a
 * pass needed more than one chunk, reset() merges them into one chunk big enough
 * for the next pass, so steady-state decoding allocates nothing.
 */
export class ScratchArena {
  private chunks: Array<{ ptr: number; size: number }> = [];
  private offset = 0;
  private highWater = 0;
  private usedInPass = 0;

  constructor(private readonly region: Region, private readonly chunkBytes = 1 << 20) {}

  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1), ALIGN);
    let cur = this.chunks[this.chunks.length - 1];
    if (!cur || this.offset + size > cur.size) {
      const chunkSize = Math.max(size, this.chunkBytes);
      cur = { ptr: this.region.alloc(chunkSize), size: alignUp(chunkSize, ALIGN) };
      this.chunks.push(cur);
      this.offset = 0;
    }
    const ptr = cur.ptr + this.offset;
    this.offset += size;
    this.usedInPass += size;
    this.highWater = Math.max(this.highWater, this.usedInPass);
    return ptr;
  }

  /** Frees everything allocated since the last reset. */
  reset(): void {
    if (this.chunks.length > 1) {
      for (const c of this.chunks) this.region.release(c.ptr);
      this.chunks = [];
      const size = alignUp(this.highWater, ALIGN);
      this.chunks.push({ ptr: this.region.alloc(size), size });
    }
    this.offset = 0;
    this.usedInPass = 0;
  }

  /** Returns all chunks to the region. */
  dispose(): void {
    for (const c of this.chunks) this.region.release(c.ptr);
    this.chunks = [];
    this.offset = 0;
    this.usedInPass = 0;
  }
}

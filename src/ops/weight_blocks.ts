import { writeF32 } from "../kernels/bindings.js";
import type { Engine } from "../engine/engine.js";

/**
 * Blocks of the weights region a loader filled with a file's tensors before the model was
 * built (see src/load/streamed_load.ts). An op handed a view of one whole block takes the
 * block over instead of copying it, so a tensor read into wasm memory is never copied again.
 */
export class StagedBlocks {
  /** Block start -> its size (what a view of it spans), its capacity (bytes allocated) and whether an op has taken it. */
  private readonly blocks = new Map<number, { bytes: number; capacity: number; taken: boolean }>();

  constructor(private readonly engine: Engine) {
    staging.set(engine.mem.memory, this);
  }

  /**
   * A fresh block of `bytes` in the weights region, to be filled by the loader; `capacity` more
   * bytes when the op that takes it may transform it in place into something larger (quant repack).
   */
  alloc(bytes: number, capacity = bytes): number {
    const ptr = this.engine.regions.weights.alloc(Math.max(bytes, capacity));
    this.blocks.set(ptr, { bytes, capacity: Math.max(bytes, capacity), taken: false });
    return ptr;
  }

  /** The bytes allocated for the taken block at `ptr` (0 for anything else). */
  capacityOf(ptr: number): number {
    const b = this.blocks.get(ptr);
    return b?.taken ? b.capacity : 0;
  }

  /** Whether `view` is exactly an untaken block. */
  takeable(view: ArrayBufferView): boolean {
    const b = view.buffer === this.engine.mem.memory.buffer ? this.blocks.get(view.byteOffset) : undefined;
    return b !== undefined && !b.taken && b.bytes === view.byteLength;
  }

  /** The untaken block that `view` covers exactly, marked taken; undefined for anything else. */
  take(view: ArrayBufferView): number | undefined {
    if (!this.takeable(view)) return undefined;
    this.blocks.get(view.byteOffset)!.taken = true;
    return view.byteOffset;
  }

  /** Releases the blocks no op took (tensors copied or transformed instead) and ends the staging. */
  dispose(): void {
    for (const [ptr, b] of this.blocks) if (!b.taken) this.engine.regions.weights.release(ptr);
    this.blocks.clear();
    if (staging.get(this.engine.mem.memory) === this) staging.delete(this.engine.mem.memory);
  }
}

/** The staging of the load in progress on a memory. */
const staging = new WeakMap<WebAssembly.Memory, StagedBlocks>();

/**
 * The weights-region blocks of one model: uploaded once at load, released together on
 * dispose(), so a disposed model gives its memory back to the next one.
 */
export class WeightBlocks {
  private ptrs: number[] = [];

  constructor(readonly engine: Engine) {}

  /** A fresh block of `bytes` in the weights region. */
  alloc(bytes: number): number {
    const p = this.engine.regions.weights.alloc(bytes);
    this.ptrs.push(p);
    return p;
  }

  /** Copies float32 values into a fresh block (or takes over the staged block they are) and returns its byte offset. */
  upload(values: Float32Array): number {
    const staged = this.takeStaged(values);
    if (staged !== undefined) return staged;
    const p = this.alloc(values.byteLength);
    writeF32(this.engine, p, values);
    return p;
  }

  /** Bytes into a fresh block (or the staged block they are), as upload. */
  uploadBytes(bytes: Uint8Array): number {
    const staged = this.takeStaged(bytes);
    if (staged !== undefined) return staged;
    const p = this.alloc(bytes.byteLength);
    this.engine.mem.u8.set(bytes, p);
    return p;
  }

  /**
   * The byte offset of `values` (floats or blocks) when they already lie in this engine's memory
   * and are not a staged block this model could take over (a tensor another op owns), else undefined.
   */
  resident(values: ArrayBufferView): number | undefined {
    if (values.buffer !== this.engine.mem.memory.buffer || staging.get(this.engine.mem.memory)?.takeable(values)) return undefined;
    return values.byteOffset;
  }

  /** The bytes a block this model took over from the loader may be grown into in place (0: none, or not a staged block). */
  stagedCapacity(ptr: number): number {
    return this.ptrs.includes(ptr) ? staging.get(this.engine.mem.memory)?.capacityOf(ptr) ?? 0 : 0;
  }

  /** Releases one block early (temporary staging of a weight before packing). */
  release(ptr: number): void {
    const i = this.ptrs.indexOf(ptr);
    if (i >= 0) this.ptrs.splice(i, 1);
    this.engine.regions.weights.release(ptr);
  }

  dispose(): void {
    for (const p of this.ptrs.splice(0)) this.engine.regions.weights.release(p);
  }

  private takeStaged(view: ArrayBufferView): number | undefined {
    const ptr = staging.get(this.engine.mem.memory)?.take(view);
    if (ptr !== undefined) this.ptrs.push(ptr);
    return ptr;
  }
}

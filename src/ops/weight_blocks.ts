import type { Engine } from "../runtime/engine.js";

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

  /** Copies float32 values into a fresh block and returns its byte offset. */
  upload(values: Float32Array): number {
    const p = this.alloc(values.length * 4);
    this.engine.mem.f32.set(values, p >>> 2);
    return p;
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
}

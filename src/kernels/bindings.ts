import type { Engine } from "../engine/engine.js";

/** Copies `src` into wasm memory at byte offset `ptr`. */
export function writeF32(engine: Engine, ptr: number, src: ArrayLike<number>): void {
  engine.mem.f32.set(src, ptr >>> 2);
}

/** A copy of `n` floats at byte offset `ptr` (copy, because growth may detach the view). */
export function readF32(engine: Engine, ptr: number, n: number): Float32Array {
  return engine.mem.f32.slice(ptr >>> 2, (ptr >>> 2) + n);
}

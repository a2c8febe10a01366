import { Engine, type EngineOptions, type RuntimeFeatures } from "./runtime/engine.js";
import { kernelsOf } from "./kernels/bindings.js";
import type { KernelExports } from "./kernels/exports.js";

/** Options of {@link createRuntime}. */
export type RuntimeOptions = EngineOptions;

/**
 * A loaded simdformer runtime: one wasm build, its memory and (where allowed) its threads.
 * Create with {@link createRuntime}; call dispose() when done.
 */
export class Runtime {
  /** @internal */
  constructor(readonly engine: Engine) {}

  /** The build chosen, threads, and why better options were not taken. */
  get features(): RuntimeFeatures {
    return this.engine.features;
  }

  /** The raw kernels (pointers are byte offsets into this runtime's memory). */
  get kernels(): KernelExports {
    return kernelsOf(this.engine);
  }

  /** Releases the memory and stops worker threads. Further calls throw DisposedError. */
  dispose(): void {
    this.engine.dispose();
  }
}

/**
 * Detects the host, picks and instantiates the best wasm build (or the one forced by
 * options) and sets up memory.
 *
 * @example
 * const rt = await createRuntime({ threads: "auto" });
 * console.log(rt.features.build);
 */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return new Runtime(await Engine.create(options));
}

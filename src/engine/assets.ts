// Where the package's files live, derived from dist/: the wasm builds, the worker
// script and the embedded default model. Undefined where modules have no URL.
import { distDir } from "./dist_dir.js";

export { distDir };

/** The folder holding every wasm build (simdformer.<build>.wasm). */
export const wasmDir: URL | undefined = distDir && new URL("wasm/", distDir);

/** The self-contained worker script (an ES module) started by the thread pool. */
export const workerUrl: URL | undefined = distDir && new URL("worker.js", distDir);

/** The embedded default model: the English -> Chinese translator trained by tools/translator. */
export const defaultModelUrl: URL | undefined = distDir && new URL("../models/default/translator.safetensors", distDir);

// Where the package's dist/ assets live: the .wasm builds and the worker script.
// From source (tests, ts runners) that is the repository's dist/, two levels up; the
// bundle replaces this module with one pointing next to dist/*.js (scripts/build.mjs,
// plugin "dist-dir"), so keep the exported names in sync with that plugin.

/** The dist/ folder: the bundled JS, worker.js and wasm/. */
export const distDir: URL = new URL("../../dist/", import.meta.url);

/** The folder holding every wasm build (simdformer.<build>.wasm). */
export const wasmDir: URL = new URL("wasm/", distDir);

/** The self-contained worker script (an ES module) started by the thread pool. */
export const workerUrl: URL = new URL("worker.js", distDir);

// Where the .wasm builds live when running from source; the bundle swaps this
// module for one that points next to dist/index.js (see scripts/build.mjs).
export const wasmDir: URL = new URL("../../dist/wasm/", import.meta.url);

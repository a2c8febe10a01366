// The package's dist/ folder as seen from source (tests, TS runners): two levels up.
// The bundle swaps this module for one resolving next to dist/*.js (scripts/build.mjs,
// plugin "dist-dir"); hosts that give modules no import.meta.url (workerd, the edge VM)
// get undefined there and must pass the wasm and model bytes in.
export const distDir: URL | undefined = new URL("../../dist/", import.meta.url);

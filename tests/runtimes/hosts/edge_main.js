// Entry of the edge-runtime golden bundle (esbuild, one script: the edge VM has no module
// loader and no fs). The host puts the wasm bytes in globalThis.__simdformerWasm; as a
// Vercel `import wasm from "x.wasm?module"` would, the best build is compiled here, inside
// the VM's realm, and passed as a module; the strict build goes in as bytes (the other path).
// Model files come the same way, in globalThis.__simdformerAssets (name -> bytes).
import fixture from "./golden.json";
import { runGolden } from "./golden.js";

globalThis.__simdformerGolden = async () => {
  const { relaxed, simd } = globalThis.__simdformerWasm;
  const best = WebAssembly.validate(relaxed) ? relaxed : simd;
  const module = await WebAssembly.compile(best);
  const asset = async (name) => globalThis.__simdformerAssets[name];
  // No module URL in a classic script: the embedded default model comes through asset() too.
  return runGolden(fixture, { wasm: (label) => (label.startsWith("strict") ? { bytes: simd } : { module }), asset, embeddedModel: false });
};

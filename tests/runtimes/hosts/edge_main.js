// Entry of the edge-runtime golden bundle (esbuild, one script: the edge VM has no module
// loader and no fs). The host puts the wasm bytes in globalThis.__simdformerWasm; as a
// Vercel `import wasm from "x.wasm?module"` would, the best build is compiled here, inside
// the VM's realm, and passed as a module; the strict build goes in as bytes (the other path).
// Model files come the same way, in globalThis.__simdformerAssets (name -> bytes).
import { createRuntime } from "simdformer";
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

// POST /embed's work in the VM: the sentence encoder folder (globalThis.__simdformerEmbedder, path -> bytes)
// loaded in a runtime capped at 128 MiB, its vectors of `texts`.
globalThis.__simdformerEmbed = async (texts) => {
  const { relaxed, simd } = globalThis.__simdformerWasm;
  const module = await WebAssembly.compile(WebAssembly.validate(relaxed) ? relaxed : simd);
  const rt = await createRuntime({ wasm: { module }, maxMemory: 128 * 1024 * 1024 });
  try {
    const enc = await rt.loadEncoder({ files: globalThis.__simdformerEmbedder });
    const { dims, vectors } = await enc.embed(texts);
    return { dims, embeddings: vectors.map((v) => Array.from(v)) };
  } finally {
    rt.dispose();
  }
};

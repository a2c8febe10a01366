// Runs the golden bundle inside an edge-runtime VM (Vercel's edge sandbox on the host's V8).
// Usage: node edge_host.mjs <bundle.js> <dir with simdformer.{relaxed,simd}.wasm> <assets dir> [<encoder folder> <texts JSON>]
// With an encoder folder, also embeds the texts there and prints them on an "EMBED " line.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EdgeRuntime } from "edge-runtime";

const [bundle, wasmDir, assetsDir, embedderDir, textsJson] = process.argv.slice(2);
const EMBEDDER_FILES = ["config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"];
const bytes = (build) => new Uint8Array(readFileSync(join(wasmDir, `simdformer.${build}.wasm`)));
const runtime = new EdgeRuntime({
  extend(context) {
    context.__simdformerWasm = { relaxed: bytes("relaxed"), simd: bytes("simd") };
    context.__simdformerAssets = Object.fromEntries(
      readdirSync(assetsDir).map((name) => [name, new Uint8Array(readFileSync(join(assetsDir, name)))]),
    );
    if (embedderDir) context.__simdformerEmbedder = Object.fromEntries(EMBEDDER_FILES.map((f) => [f, new Uint8Array(readFileSync(join(embedderDir, f)))]));
    return context;
  },
});
runtime.evaluate(readFileSync(bundle, "utf8"));
const report = await runtime.evaluate("__simdformerGolden()");
console.log("GOLDEN " + JSON.stringify(report));
if (embedderDir) console.log("EMBED " + JSON.stringify(await runtime.evaluate(`__simdformerEmbed(${textsJson})`)));

// Runs the golden bundle inside an edge-runtime VM (Vercel's edge sandbox on the host's V8).
// Usage: node edge_host.mjs <bundle.js> <dir with simdformer.{relaxed,simd}.wasm> <assets dir>
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EdgeRuntime } from "edge-runtime";

const [bundle, wasmDir, assetsDir] = process.argv.slice(2);
const bytes = (build) => new Uint8Array(readFileSync(join(wasmDir, `simdformer.${build}.wasm`)));
const runtime = new EdgeRuntime({
  extend(context) {
    context.__simdformerWasm = { relaxed: bytes("relaxed"), simd: bytes("simd") };
    context.__simdformerAssets = Object.fromEntries(
      readdirSync(assetsDir).map((name) => [name, new Uint8Array(readFileSync(join(assetsDir, name)))]),
    );
    return context;
  },
});
runtime.evaluate(readFileSync(bundle, "utf8"));
const report = await runtime.evaluate("__simdformerGolden()");
console.log("GOLDEN " + JSON.stringify(report));

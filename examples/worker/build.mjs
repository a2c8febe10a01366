// Bundles worker.js for workerd the way wrangler would (esbuild, "workerd" export condition,
// .wasm imports left as module bindings) into out/, with the wasm builds it binds.
// Usage: node build.mjs [--package <simdformer package dir>] [--out <dir>]
//   (defaults: the package found by name, which in this repo is the repo itself; out/ here)
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
/** The embedder folder's files (worker.js asks for the same list). */
const EMBEDDER_FILES = ["config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"];
const option = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? resolve(process.argv[i + 1]) : undefined;
};
// The package root: given, or found by name like any dependency (in this repo: itself).
const pkg = option("--package") ?? dirname(createRequire(join(here, "x.js")).resolve("simdformer/package.json"));
const out = option("--out") ?? join(here, "out");
// The entry for workerd per the package's exports map, as wrangler's resolver would pick it.
const { exports } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
const condition = ["workerd", "worker", "browser", "import", "default"].find((c) => typeof exports["."][c] === "string");
const entry = join(pkg, exports["."][condition]);
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [join(here, "worker.js")],
  outfile: join(out, "worker.js"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  conditions: ["workerd", "worker", "browser"],
  alias: { simdformer: entry },
  external: ["*.wasm", "node:*"],
  logLevel: "warning",
});
for (const build of ["relaxed", "simd"]) {
  copyFileSync(join(pkg, "dist", "wasm", `simdformer.${build}.wasm`), join(out, `simdformer.${build}.wasm`));
}
// Model files served to the worker by the ASSETS disk service: the golden cases' models
// (from this repository), then the package's own default translator for POST /translate.
const repo = join(here, "..", "..");
const { assets } = JSON.parse(readFileSync(join(repo, "tests", "fixtures", "runtimes", "golden.json"), "utf8"));
mkdirSync(join(out, "assets"), { recursive: true });
for (const [name, path] of Object.entries(assets)) copyFileSync(join(repo, path), join(out, "assets", name));
copyFileSync(join(pkg, "models", "default", "translator.safetensors"), join(out, "assets", "translator.safetensors"));
// POST /embed's sentence encoder: the BERT folder tools/encoder_fixtures.py makes (sentence-transformers
// layout), its files flattened to "embedder.<path with / as .>".
const embedder = join(repo, "tests", "fixtures", "encoders", "bert");
for (const f of EMBEDDER_FILES) copyFileSync(join(embedder, f), join(out, "assets", `embedder.${f.replaceAll("/", ".")}`));
console.log(`built ${out} from ${entry} (condition "${condition}")`);

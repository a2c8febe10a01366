// Builds every wasm target of asconfig.json, then the ESM bundles and the .d.ts types.
// Usage: node scripts/build.mjs [--wasm-only | --js-only]  (--js-only keeps the wasm builds in dist/wasm)
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import * as esbuild from "esbuild";
import { importGraph, shippedSize, sizeOf } from "./dist_size.mjs";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

const { targets } = JSON.parse(readFileSync(join(root, "asconfig.json"), "utf8"));
mkdirSync(join(root, "dist", "wasm"), { recursive: true });
for (const target of process.argv.includes("--js-only") ? [] : Object.keys(targets)) {
  const entry = target === "scalar" ? "assembly/ref/index.ts" : "assembly/index.ts";
  const out = `dist/wasm/simdformer.${target}.wasm`;
  run(bin("asc"), [entry, "--config", "asconfig.json", "--target", target, "-o", out]);
  console.log(`wasm  ${out}  ${statSync(join(root, out)).size} bytes`);
}
if (process.argv.includes("--wasm-only")) process.exit(0);

// src/engine/dist_dir.ts finds dist/ two levels up from src/engine/; in the bundle it
// sits next to dist/*.js. Hosts that give modules no import.meta.url (workerd; scripts
// bundled for the edge VM) get undefined, not a throw at import: there the wasm and the
// model are passed in, and loader.ts says so if they are not.
const distDirPlugin = {
  name: "dist-dir",
  setup(build) {
    build.onResolve({ filter: /\/dist_dir\.js$/ }, (args) =>
      /[\\/]src[\\/]engine$/.test(args.resolveDir) ? { path: "dist_dir", namespace: "simdformer" } : undefined);
    build.onLoad({ filter: /.*/, namespace: "simdformer" }, () => ({
      contents: 'export const distDir = typeof import.meta.url === "string" ? new URL("./", import.meta.url) : undefined;',
      loader: "js",
    }));
  },
};
const common = {
  absWorkingDir: root,
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["node:*"],
  plugins: [distDirPlugin],
  logLevel: "warning",
  // Minified: Node parses ~3x less at import (cold start); names kept because errors report their class name.
  minify: true,
  keepNames: true,
  // Short lines: Node prints the source line of an uncaught error's throw site, and a minified
  // bundle on one line would put ~140 KB of code before the message (issue #18).
  lineLimit: 400,
};
// Chunks sit next to index.js (dist_dir.ts resolves assets from the chunk's own URL).
// Their names carry content hashes: drop the previous build's so dist/ holds only live files.
for (const f of readdirSync(join(root, "dist"))) if (/^[a-z_]+-[A-Z0-9]{8}\.js$/.test(f)) rmSync(join(root, "dist", f));
// bench.js (`simdformer/bench`: the kernel registry and timer) is its own entry so that index.js
// never reaches it; the CLI's `bench` command import()s it, and esbuild links that to bench.js.
await esbuild.build({ ...common, entryPoints: { index: "src/index.ts", cli: "src/cli.ts", bench: "src/bench/index.ts" }, splitting: true });
// The worker is its own build: one self-contained file, no chunk shared with index.js.
await esbuild.build({ ...common, entryPoints: { worker: "src/engine/worker.ts" } });
for (const f of ["index.js", "cli.js", "bench.js", "worker.js"]) console.log(`js    dist/${f}  ${statSync(join(root, "dist", f)).size} bytes`);
const shipped = shippedSize(join(root, "dist"));
console.log(`size  import "simdformer" ships ${shipped.files.map((f) => f.file).join(" + ")}: ${shipped.bytes} bytes, ${shipped.gzip} gzipped`);
const bench = sizeOf(join(root, "dist"), importGraph(join(root, "dist"), "bench.js").filter((f) => !shipped.files.some((s) => s.file === f)));
console.log(`size  simdformer/bench adds ${bench.files.map((f) => f.file).join(" + ")}: ${bench.bytes} bytes, ${bench.gzip} gzipped`);
run(bin("tsc"), ["-p", "tsconfig.build.json"]);
console.log("types dist/types/");

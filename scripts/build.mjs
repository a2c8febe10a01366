// Builds every wasm target of asconfig.json, then the ESM bundles and the .d.ts types.
// Usage: node scripts/build.mjs [--wasm-only]
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import * as esbuild from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, "node_modules", ".bin", name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: "inherit" });

const { targets } = JSON.parse(readFileSync(join(root, "asconfig.json"), "utf8"));
mkdirSync(join(root, "dist", "wasm"), { recursive: true });
for (const target of Object.keys(targets)) {
  const entry = target === "scalar" ? "assembly/ref/index.ts" : "assembly/index.ts";
  const out = `dist/wasm/simdformer.${target}.wasm`;
  run(bin("asc"), [entry, "--config", "asconfig.json", "--target", target, "-o", out]);
  console.log(`wasm  ${out}  ${statSync(join(root, out)).size} bytes`);
}
if (process.argv.includes("--wasm-only")) process.exit(0);

// In the bundle the wasm folder sits next to dist/*.js, not two levels up as in src/.
const wasmDirPlugin = {
  name: "wasm-dir",
  setup(build) {
    build.onResolve({ filter: /\/wasm_dir\.js$/ }, () => ({ path: "wasm_dir", namespace: "simdformer" }));
    build.onLoad({ filter: /.*/, namespace: "simdformer" }, () => ({
      contents: 'export const wasmDir = new URL("./wasm/", import.meta.url);',
      loader: "js",
    }));
  },
};
await esbuild.build({
  absWorkingDir: root,
  entryPoints: { index: "src/index.ts", cli: "src/cli.ts" },
  outdir: "dist",
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  splitting: true,
  external: ["node:*"],
  plugins: [wasmDirPlugin],
  logLevel: "warning",
});
for (const f of ["index.js", "cli.js"]) console.log(`js    dist/${f}  ${statSync(join(root, "dist", f)).size} bytes`);
run(bin("tsc"), ["-p", "tsconfig.build.json"]);
console.log("types dist/types/");

// Runs a benchmark suite: npm run bench -- <suite> [suite options]
// A suite is bench/<suite>.bench.ts (kernels, e2e, ...). This script builds fresh wasm from
// assembly/ into a private temp folder (dist/ is left alone: other builds may be using it),
// compiles the wasm ceiling probe, bundles the suite with esbuild (peer libraries stay
// external and load from node_modules), then runs it with relaxed SIMD enabled.
// Options handled here: --keep (keep the temp folder), --help. The rest go to the suite.
// A suite gets in its environment: SIMDFORMER_ROOT (the repository), SIMDFORMER_WASM_DIR (the
// fresh builds: pass { wasm: { url: pathToFileURL(dir + "/") } } to createRuntime) and
// SIMDFORMER_CEILING_WASM (the ceiling probe). SUITE_BUILDS below lists the builds a suite needs.
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = (name) => join(root, "node_modules", ".bin", name);
const suites = readdirSync(join(root, "bench"))
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.slice(0, -".bench.ts".length));

/** The wasm builds a suite uses (default: every asconfig target; gguf serves the repository's dist/). */
const SUITE_BUILDS = { kernels: ["simd", "relaxed"], load: ["relaxed"], quant: ["simd", "relaxed", "relaxed-shared"], e2e: ["simd", "relaxed", "simd-shared", "relaxed-shared"], embed: ["relaxed", "relaxed-shared"], plan: ["relaxed-shared"], gguf: [] };

const args = process.argv.slice(2);
const suite = args.find((a) => !a.startsWith("-"));
if (!suite || args.includes("--help") || !suites.includes(suite)) {
  console.error(`usage: npm run bench -- <suite> [options]\nsuites: ${suites.join(", ")}${suite && !args.includes("--help") ? `\nunknown suite "${suite}"` : ""}`);
  process.exit(suite && !args.includes("--help") ? 2 : 0);
}
const keep = args.includes("--keep");
const suiteArgs = args.filter((a) => a !== suite && a !== "--keep");

// In node_modules, so the bundle's bare imports (onnxruntime-web, benchmark ...) resolve, and two
// levels below the root like src/engine/, so that module's import.meta.url-relative asset paths
// (src/engine/assets.ts: "../../dist/") still reach the repository's dist/. The suites get the
// fresh wasm folder explicitly (SIMDFORMER_WASM_DIR).
const tmp = mkdtempSync(join(root, "node_modules", ".simdformer-bench-"));
let status = 1;
try {
  const wasmDir = join(tmp, "wasm");
  mkdirSync(wasmDir);
  const { targets } = JSON.parse(readFileSync(join(root, "asconfig.json"), "utf8"));
  const asc = (argv) => promisify(execFile)(bin("asc"), argv, { cwd: root }).then(({ stderr }) => stderr && process.stderr.write(stderr));
  // Two compiles at a time (asc is single-threaded; the machines have few cores).
  const jobs = (SUITE_BUILDS[suite] ?? Object.keys(targets)).map((target) => () =>
    asc([target === "scalar" ? "assembly/ref/index.ts" : "assembly/index.ts", "--config", "asconfig.json", "--target", target, "-o", join(wasmDir, `simdformer.${target}.wasm`)]),
  );
  const ceiling = join(tmp, "ceiling.wasm");
  jobs.push(() =>
    asc(["bench/ceiling/ceiling.ts", "--runtime", "stub", "--importMemory", "--noExportMemory", "--enable", "simd,relaxed-simd", "-O3", "--noAssert", "-o", ceiling]),
  );
  const worker = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  };
  await Promise.all([worker(), worker()]);

  const out = join(tmp, `${suite}.bench.mjs`);
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: [`bench/${suite}.bench.ts`],
    outfile: out,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    logLevel: "warning",
  });
  const run = spawnSync(process.execPath, ["--experimental-wasm-relaxed-simd", "--enable-source-maps", out, ...suiteArgs], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, SIMDFORMER_ROOT: root, SIMDFORMER_WASM_DIR: wasmDir, SIMDFORMER_CEILING_WASM: ceiling },
  });
  status = run.status ?? 1;
} finally {
  if (keep) console.error(`kept ${tmp}`);
  else if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);

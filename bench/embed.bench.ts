// Sentence-embedding benchmark: simdformer against onnxruntime-web (wasm backend, SIMD) on the same random-weight
// BERT encoders, side by side. `npm run bench -- embed [--models a,b] [--threads 1,2] [--quick] [--cold-runs n] [--out dir]`.
// Models come from tools/embed_models.py (MiniLM-L6-shaped and bge-base-shaped), run first when
// bench/models/embed/manifest.json is missing or older than the script (needs /usr/bin/python3 with torch + onnx).
// Per thread count one child process holds both libraries (ORT fixes its thread count at its first session):
//   1. both embed the same token ids (two texts of different lengths, padded with a mask for ORT) and the mean-pooled
//      vectors are checked equal (max relative error < 1e-4) before anything is timed;
//   2. sentences/s at batch 1 / 8 / 32 and sequence length 16 / 64 / 128, the two libraries alternating per cell;
//      both give last hidden states that are mean-pooled by the same JS code.
// Then cold start to the first embedding (import + instantiate + load the folder + embed one text) in fresh processes
// (bench/embed_cold.mjs). Writes bench/results/embed.json (flat `rows`) and embed.md.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as ort from "onnxruntime-web";
import { pool } from "../src/encode/pooling.js";
import { createRuntime } from "../src/runtime.js";
import { Rng } from "../src/util/rng.js";
import { packageInfo } from "./peers/pkg.js";

const ROOT = process.env.SIMDFORMER_ROOT ?? process.cwd();
const WASM_DIR = process.env.SIMDFORMER_WASM_DIR;
const MODELS_DIR = join(ROOT, "bench", "models", "embed");
const GENERATOR = join(ROOT, "tools", "embed_models.py");
const ORT_DIST = join(packageInfo("onnxruntime-web").dir, "dist");
const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const QUICK = args.includes("--quick");
const OUT_DIR = opt("out") ?? join(ROOT, "bench", "results");
const BATCHES = [1, 8, 32];
const LENGTHS = [16, 64, 128];

interface ModelEntry {
  name: string;
  V: number;
  d: number;
  h: number;
  ff: number;
  L: number;
  params: number;
  folder: string;
  onnx: string;
}

interface Row {
  suite: "embed";
  case: string;
  impl: "simdformer" | "onnxruntime-web";
  threads: number;
  metric: string;
  value: number;
  unit: string;
}

/** The cells run for a model: the whole matrix, except bge-base's largest batches under --quick or by default. */
function cells(m: ModelEntry): Array<[number, number]> {
  const all = BATCHES.flatMap((b) => LENGTHS.map((l): [number, number] => [b, l]));
  // bge-base at batch 32 x 64/128 is ~0.4-0.8 TFLOP a run: too slow to repeat on a shared 2-core machine.
  if (m.name === "bge-base") return all.filter(([b, l]) => b < 32 || l === 16).filter(([b, l]) => !QUICK || b * l <= 512);
  return QUICK ? all.filter(([b, l]) => b * l <= 1024) : all;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function relError(a: Float32Array, b: Float32Array): number {
  let e = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    e = Math.max(e, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return e / s;
}

/** One thread count: both libraries in this process, every model and cell. */
async function worker(threads: number): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(MODELS_DIR, "manifest.json"), "utf8")) as { models: ModelEntry[] };
  const only = opt("models")?.split(",");
  ort.env.wasm.wasmPaths = pathToFileURL(`${ORT_DIST}/`).href;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  const rt = await createRuntime({ threads, ...(WASM_DIR ? { wasm: { url: `${WASM_DIR}/` } } : {}) });
  const out: { rows: Row[]; builds: Record<string, string>; checks: Record<string, number> } = { rows: [], builds: { simdformer: rt.features.build, "onnxruntime-web": `ort-wasm-simd-threaded, numThreads=${threads}` }, checks: {} };
  for (const m of manifest.models.filter((x) => !only || only.includes(x.name))) {
    const enc = await rt.loadEncoder(join(MODELS_DIR, m.folder));
    const session = await ort.InferenceSession.create(readFileSync(join(MODELS_DIR, m.onnx)), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    const rng = new Rng(5);
    const seqs = (b: number, l: number) => Array.from({ length: b }, () => Array.from({ length: l }, () => 5 + Math.floor(rng.next() * (m.V - 5))));
    const ours = async (batch: number[][]) => {
      const { hidden } = await enc.model.forward({ tokens: batch, outputs: ["hidden"] });
      return batch.map((s, i) => pool(hidden![i], s.length, m.d, "mean"));
    };
    const theirs = async (batch: number[][]) => {
      const T = Math.max(...batch.map((s) => s.length));
      const ids = new BigInt64Array(batch.length * T);
      const mask = new BigInt64Array(batch.length * T);
      batch.forEach((s, i) => s.forEach((t, j) => {
        ids[i * T + j] = BigInt(t);
        mask[i * T + j] = 1n;
      }));
      const r = await session.run({ input_ids: new ort.Tensor("int64", ids, [batch.length, T]), attention_mask: new ort.Tensor("int64", mask, [batch.length, T]) });
      const h = r.last_hidden_state.data as Float32Array;
      return batch.map((s, i) => pool(h.subarray(i * T * m.d, (i + 1) * T * m.d), s.length, m.d, "mean"));
    };
    // Outputs equal first: a padded pair (ORT masks the shorter one) against our packed pair.
    const check = [...seqs(1, 16), ...seqs(1, 11)];
    const [a, b] = [await ours(check), await theirs(check)];
    const err = Math.max(relError(a[0], b[0]), relError(a[1], b[1]));
    out.checks[m.name] = err;
    if (!(err < 1e-4)) throw new Error(`${m.name}: simdformer and onnxruntime-web embeddings differ (max relative error ${err})`);
    for (const [batch, len] of cells(m)) {
      const input = seqs(batch, len);
      const times: Record<string, number[]> = { simdformer: [], "onnxruntime-web": [] };
      const impls: Array<[keyof typeof times, (x: number[][]) => Promise<unknown>]> = [["simdformer", ours], ["onnxruntime-web", theirs]];
      for (const [, f] of impls) await f(input); // warm-up (and V8's tier-up)
      const start = performance.now();
      // Alternate the libraries; at least 3 runs each, until ~1.5 s have gone (of both).
      for (let rep = 0; rep < 3 || (performance.now() - start < 1500 && rep < 40); rep++) {
        for (const [name, f] of impls) {
          const t0 = performance.now();
          await f(input);
          times[name].push(performance.now() - t0);
        }
      }
      for (const [name] of impls) {
        out.rows.push({ suite: "embed", case: `${m.name} b${batch} l${len}`, impl: name as Row["impl"], threads, metric: "sentences_per_s", value: batch / (median(times[name]) / 1000), unit: "sentences/s" });
      }
      const r = out.rows.slice(-2);
      console.error(`  ${threads}T ${m.name} b${batch} l${len}: ours ${r[0].value.toFixed(1)} ORT ${r[1].value.toFixed(1)} sentences/s (${(r[0].value / r[1].value).toFixed(2)}x)`);
    }
    enc.dispose();
    await session.release();
  }
  rt.dispose();
  process.stdout.write(JSON.stringify(out) + "\n");
}

function ensureModels(): void {
  const manifest = join(MODELS_DIR, "manifest.json");
  if (existsSync(manifest) && statSync(manifest).mtimeMs >= statSync(GENERATOR).mtimeMs) return;
  console.error("making the benchmark models (tools/embed_models.py) ...");
  const r = spawnSync("/usr/bin/python3", [GENERATOR, "--out", MODELS_DIR], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error("tools/embed_models.py failed (needs /usr/bin/python3 with torch and onnx)");
}

/** Cold start of one library in fresh processes: median of `runs`. */
function coldStart(lib: "ours" | "ort", model: string, runs: number): { firstMs: number; importMs: number; loadMs: number } {
  const samples: Array<Record<string, number>> = [];
  for (let i = 0; i < runs; i++) {
    const req = { folder: join(MODELS_DIR, model), onnx: join(MODELS_DIR, `${model}.onnx`), ours: join(ROOT, "dist", "index.js"), ortDist: ORT_DIST };
    const r = spawnSync(process.execPath, [join(ROOT, "bench", "embed_cold.mjs"), lib, JSON.stringify(req)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cold start ${lib}: ${r.stderr}`);
    samples.push(JSON.parse(r.stdout.trim().split("\n").pop()!));
  }
  const med = (k: string) => median(samples.map((s) => s[k]));
  return { firstMs: med("firstMs"), importMs: med("importMs"), loadMs: med("loadMs") };
}

async function main(): Promise<void> {
  const worker1 = args.indexOf("--worker");
  if (worker1 >= 0) return worker(Number(args[worker1 + 1]));
  ensureModels();
  const loadStart = os.loadavg().map((x) => Number(x.toFixed(2)));
  const threadCounts = (opt("threads") ?? "1,2").split(",").map(Number);
  const rows: Row[] = [];
  const builds: Record<string, Record<string, string>> = {};
  const checks: Record<string, number> = {};
  for (const t of threadCounts) {
    console.error(`${t} thread${t > 1 ? "s" : ""}: both libraries in one process`);
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...args, "--worker", String(t)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: process.env, maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`worker ${t} failed`);
    const w = JSON.parse(r.stdout.trim().split("\n").pop()!);
    rows.push(...w.rows);
    builds[t] = w.builds;
    Object.assign(checks, w.checks);
  }
  const coldRuns = Number(opt("cold-runs") ?? 5);
  const cold: Record<string, ReturnType<typeof coldStart>> = {};
  if (coldRuns > 0) {
    for (const lib of ["ours", "ort"] as const) {
      cold[lib] = coldStart(lib, "minilm-l6", coldRuns);
      const impl = lib === "ours" ? "simdformer" : "onnxruntime-web";
      for (const [metric, value] of Object.entries(cold[lib])) rows.push({ suite: "embed", case: "minilm-l6 cold start", impl, threads: 1, metric: metric.replace(/Ms$/, "_ms"), value, unit: "ms" });
      console.error(`cold start ${lib}: first embedding ${cold[lib].firstMs.toFixed(1)} ms`);
    }
  }
  const loadEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  const results = { suite: "embed", date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadAverage: { start: loadStart, end: loadEnd }, quick: QUICK, builds, checks, ort: packageInfo("onnxruntime-web").version, rows };
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, "embed.json"), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(join(OUT_DIR, "embed.md"), markdown(results, rows, cold));
  console.error(`wrote ${join(OUT_DIR, "embed.md")}`);
}

function markdown(r: { date: string; node: string; cpu?: string; cores: number; loadAverage: { start: number[]; end: number[] }; builds: Record<string, Record<string, string>>; checks: Record<string, number>; ort: string; quick: boolean }, rows: Row[], cold: Record<string, { firstMs: number; importMs: number; loadMs: number }>): string {
  const lines = [
    "# Sentence embeddings: simdformer vs onnxruntime-web",
    "",
    `${r.date}, Node ${r.node}, ${r.cpu} (${r.cores} cores, shared with other work), onnxruntime-web ${r.ort}. Load average (1/5/15 min) ${r.loadAverage.start.join(" / ")} at the start, ${r.loadAverage.end.join(" / ")} at the end.`,
    "",
    "Random-weight BERT encoders from `tools/embed_models.py`, the same weights in both libraries: MiniLM-L6-shaped (6 layers, d 384, 12 heads, FFN 1536, vocabulary 30522) and bge-base-shaped (12 layers, d 768, 12 heads, FFN 3072, vocabulary 8192). Token ids in, mean-pooled vectors out (the same JS pooling for both); every text of a batch has the cell's length. Per thread count one process holds both libraries and alternates them per cell; median of >= 3 runs.",
    `Outputs checked equal first (a padded pair of lengths 16 and 11): max relative error ${Object.entries(r.checks).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(", ")}.`,
    `Builds: ${Object.entries(r.builds).map(([t, b]) => `${t} thread(s): simdformer ${b.simdformer}, ORT ${b["onnxruntime-web"]}`).join("; ")}.`,
    "",
    "| model | batch | length | threads | simdformer sentences/s | onnxruntime-web sentences/s | ratio |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  const cases = [...new Set(rows.filter((x) => x.metric === "sentences_per_s").map((x) => `${x.case}|${x.threads}`))];
  let below = 0;
  for (const key of cases) {
    const [c, t] = key.split("|");
    const get = (impl: string) => rows.find((x) => x.case === c && x.threads === Number(t) && x.impl === impl && x.metric === "sentences_per_s")!.value;
    const [model, b, l] = c.split(" ");
    const ratio = get("simdformer") / get("onnxruntime-web");
    if (ratio < 1.5) below++;
    lines.push(`| ${model} | ${b.slice(1)} | ${l.slice(1)} | ${t} | ${get("simdformer").toFixed(1)} | ${get("onnxruntime-web").toFixed(1)} | ${ratio.toFixed(2)}x |`);
  }
  lines.push("", `Cells below the 1.5x target: ${below} of ${cases.length}.`);
  if (r.quick) lines.push("", "A --quick run: the larger cells were left out.");
  lines.push("", "bge-base at batch 32 runs only at length 16 (each larger run is 0.4-0.8 TFLOP: too slow to repeat on this shared machine).");
  if (cold.ours) {
    lines.push("", "## Cold start to the first embedding (MiniLM-L6-shaped, fresh Node process, median of runs)", "",
      "| library | import | + load (runtime, folder, weights) | first embedding |", "|---|---:|---:|---:|");
    for (const [lib, c] of Object.entries(cold)) lines.push(`| ${lib === "ours" ? "simdformer" : "onnxruntime-web"} | ${c.importMs.toFixed(1)} ms | ${c.loadMs.toFixed(1)} ms | ${c.firstMs.toFixed(1)} ms |`);
    lines.push("", "Times are from process start; the weights file is 90 MB (read from the page cache).");
  }
  return `${lines.join("\n")}\n`;
}

await main();

// End-to-end benchmark: simdformer against onnxruntime-web (wasm backend, SIMD) on the same models, side by side in
// one run. `npm run bench -- e2e [--models a,b] [--cold-runs n] [--no-cold] [--out dir]`.
// Models come from tools/e2e_models.py (the default translator, GPT-2- and Llama-style decoders at ~1M/10M/50M
// parameters, random weights), which this suite runs first when bench/models/ is missing or older than the script
// (it needs /usr/bin/python3 with torch + onnx: apt-get install -y python3-torch python3-onnx).
// Phases, each in its own child process so that one library's threads or memory never share a process with another
// (and ORT, whose thread count is fixed at its first session, can run at 1 and at 2 threads):
//   1. reference: greedy tokens of each model from its no-cache ONNX graph (the whole sequence recomputed per token);
//   2. timing workers ours x {1, 2} threads and ORT x {1, 2} threads: each first checks its greedy tokens against the
//      reference (a model whose tokens differ is reported and not timed), then prefill at prompt 16/128/512 (bounded by
//      the context), decode tokens/s and time to first token; ours 1 thread also profiles a decode run by function;
//   3. cold start (import + instantiate + load + first token) and peak memory, fresh process per run (bench/e2e_cold.mjs);
//   4. shipped size, gzipped.
// A full run writes bench/results/e2e.json, e2e.md, e2e_tokens.svg and e2e_coldstart.svg.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import os from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as ort from "onnxruntime-web";
import { argmaxRow } from "../src/generate/sampler.js";
import type { DecodeState } from "../src/model/model.js";
import { loadSafetensors } from "../src/load/safetensors_load.js";
import { createRuntime } from "../src/runtime.js";
import { Rng } from "../src/util/rng.js";
import { barChartSvg, fmt, type Panel } from "./e2e_svg.js";
import { packageInfo } from "./peers/pkg.js";
import { wasmFunctionNames } from "./wasm_names.js";
import { type SizeSum, shippedSize, sizeOf } from "../scripts/dist_size.mjs";

// ---------------------------------------------------------------- options and constants

const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const ROOT = process.env.SIMDFORMER_ROOT ?? process.cwd();
const WASM_DIR = process.env.SIMDFORMER_WASM_DIR;
const MODELS_DIR = join(ROOT, "bench", "models");
const GENERATOR = join(ROOT, "tools", "e2e_models.py");
const ONLY = argValue("--models")?.split(",");
const COLD_RUNS = Number(argValue("--cold-runs") ?? 3);
const OUT_DIR = argValue("--out") ?? (ONLY ? undefined : join(ROOT, "bench", "results"));
const ORT_DIST = join(packageInfo("onnxruntime-web").dir, "dist");
/** Prompt lengths of the prefill figures (cut to the model's context). */
const PROMPTS = [16, 128, 512];
/** Greedy tokens compared against the reference before anything is timed. */
const CHECK_TOKENS = 16;
/** Decode steps timed after a 16-token prompt (the translator: its max_target_length). */
const DECODE_STEPS = 64;
/** Timed repetitions of one measurement after a warm-up: up to this many, fewer once the budget is spent. */
const MAX_REPS = 3;
const REP_BUDGET_MS = 1200;
/** Decode repetitions: at least 2 (the first warms the cache shapes up), up to this many within REP_BUDGET_MS. */
const DECODE_REPS = 5;
const SEED = 11;
/** Models this large (parameters) are prefilled at 16 and 128 tokens only, decoded for half the steps and cold-started once: the time budget. */
const LARGE_PARAMS = 20e6;

/** One model of bench/models/manifest.json (written by tools/e2e_models.py). */
interface ModelEntry {
  name: string;
  family: "translator" | "gpt2" | "llama";
  arch: "decoder" | "encoder-decoder";
  params: number;
  config: Record<string, number | string | boolean>;
  /** Our safetensors file, relative to bench/models/. */
  ours: string;
  encoder?: string;
  decoder: string;
  nocache: string;
  past: string[];
  present: string[];
  cross: string[];
}

interface Manifest {
  torch: string;
  opset: number;
  models: ModelEntry[];
}

/** Input of one generation: decoder prompt and (encoder-decoder) source ids. */
interface CaseInput {
  src?: number[];
  prompt: number[];
}

const isEd = (m: ModelEntry) => m.arch === "encoder-decoder";
const cfgNum = (m: ModelEntry, k: string) => m.config[k] as number;
const decodeSteps = (m: ModelEntry) =>
  isEd(m) ? Math.min(DECODE_STEPS, cfgNum(m, "max_target_length")) : m.params >= LARGE_PARAMS ? DECODE_STEPS / 2 : DECODE_STEPS;

/** Prompt lengths measured on `m`: the translator's prompt is its source (at most max_positions). */
function promptLengths(m: ModelEntry): number[] {
  const ctx = Math.min(
    isEd(m) ? cfgNum(m, "max_positions") : cfgNum(m, "max_positions") - decodeSteps(m) - 1,
    m.params >= LARGE_PARAMS ? 128 : Infinity,
  );
  const ls = PROMPTS.filter((p) => p <= ctx);
  if (ctx < PROMPTS[PROMPTS.length - 1] && !ls.includes(ctx)) ls.push(ctx);
  return ls;
}

/** Seeded random ids; the translator's source ends in eos (its recipe) and its decoder starts at bos. */
function inputFor(m: ModelEntry, len: number): CaseInput {
  const rng = new Rng(SEED * 1000 + len);
  const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo));
  if (isEd(m)) {
    const src = Array.from({ length: len - 1 }, () => int(4, cfgNum(m, "src_vocab_size")));
    return { src: [...src, cfgNum(m, "eos_id")], prompt: [cfgNum(m, "bos_id")] };
  }
  return { prompt: Array.from({ length: len }, () => int(0, cfgNum(m, "vocab_size"))) };
}

// ---------------------------------------------------------------- the two libraries behind one interface

/** A loaded model: prefill a prompt (returns the greedy first token), then one token per step. */
interface Runner {
  prefill(input: CaseInput): Promise<number>;
  step(token: number): Promise<number>;
  dispose(): void;
}

interface Lib {
  build: string;
  /** Ours: function index -> name of the wasm build in use, for the profile. */
  wasmNames?: Map<number, string>;
  load(m: ModelEntry): Promise<Runner>;
  dispose(): void;
}

async function oursLib(threads: number): Promise<Lib> {
  if (!WASM_DIR) throw new Error("run through scripts/bench.mjs: npm run bench -- e2e");
  const rt = await createRuntime({ threads, wasm: { url: `${WASM_DIR}/` } });
  return {
    build: `${rt.features.build}, ${rt.features.threads} thread(s)`,
    wasmNames: wasmFunctionNames(readFileSync(join(WASM_DIR, `simdformer.${rt.features.build}.wasm`))),
    async load(m) {
      const model = await loadSafetensors(rt, readFileSync(resolve(MODELS_DIR, m.ours)), { file: m.ours });
      const V = model.vocabSize;
      let state: DecodeState | undefined;
      return {
        async prefill(input) {
          state?.dispose();
          const capacity = input.prompt.length + DECODE_STEPS + 1;
          state = await model.startDecoding(input.src ? { src: [input.src], capacity } : { capacity });
          return argmaxRow(await model.decodeStep(state, [input.prompt]), 0, V);
        },
        async step(token) {
          return argmaxRow(await model.decodeStep(state!, [[token]]), 0, V);
        },
        dispose() {
          state?.dispose();
          model.dispose();
        },
      };
    },
    dispose: () => rt.dispose(),
  };
}

const argmax = (a: ArrayLike<number>, from = 0, width = a.length - from): number => {
  let best = 0;
  for (let i = 1; i < width; i++) if (a[from + i] > a[from + best]) best = i;
  return best;
};

function ortSetup(threads: number): void {
  ort.env.wasm.wasmPaths = pathToFileURL(`${ORT_DIST}/`).href;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
}

const ortOpen = (file: string) =>
  ort.InferenceSession.create(readFileSync(join(MODELS_DIR, file)), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
const ortIds = (a: number[]) => new ort.Tensor("int64", BigInt64Array.from(a.map(BigInt)), [1, a.length]);

/** ORT with the KV-cache graph: prefill feeds an empty past, each step feeds back the presents. */
function ortLib(threads: number): Lib {
  ortSetup(threads);
  return {
    build: `ort-wasm-simd-threaded, numThreads=${threads}`,
    async load(m) {
      const enc = m.encoder ? await ortOpen(m.encoder) : undefined;
      const dec = await ortOpen(m.decoder);
      const kvh = (m.config.n_kv_heads ?? m.config.n_heads) as number;
      const hd = (m.config.head_dim ?? cfgNum(m, "d_model") / cfgNum(m, "n_heads")) as number;
      let feeds: Record<string, ort.Tensor> = {};
      const run = async (tokens: number[]) => {
        feeds.input_ids = ortIds(tokens);
        const out = await dec.run(feeds);
        m.past.forEach((n, i) => (feeds[n] = out[m.present[i]]));
        return argmax(out.logits.data as Float32Array);
      };
      return {
        async prefill(input) {
          feeds = {};
          if (enc) {
            const cross = await enc.run({ src_ids: ortIds(input.src!) });
            for (const n of m.cross) feeds[n] = cross[n];
          }
          for (const n of m.past) feeds[n] = new ort.Tensor("float32", new Float32Array(0), [1, kvh, 0, hd]);
          return run(input.prompt);
        },
        step: (token) => run([token]),
        dispose() {
          void enc?.release();
          void dec.release();
        },
      };
    },
    dispose() {},
  };
}

/** Reference greedy tokens: the no-cache graph over the whole sequence for every token (ORT, 1 thread). */
async function referenceTokens(m: ModelEntry, input: CaseInput, n: number): Promise<number[]> {
  const enc = m.encoder ? await ortOpen(m.encoder) : undefined;
  const full = await ortOpen(m.nocache);
  const feeds: Record<string, ort.Tensor> = {};
  if (enc) {
    const cross = await enc.run({ src_ids: ortIds(input.src!) });
    for (const name of m.cross) feeds[name] = cross[name];
  }
  const seq = [...input.prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    feeds.input_ids = ortIds(seq);
    const logits = (await full.run(feeds)).logits;
    const V = logits.dims[2];
    const t = argmax(logits.data as Float32Array, (seq.length - 1) * V, V);
    out.push(t);
    seq.push(t);
  }
  await enc?.release();
  await full.release();
  return out;
}

// ---------------------------------------------------------------- worker: timing one library at one thread count

interface PrefillFigure {
  len: number;
  ms: number;
  tokensPerSecond: number;
  firstToken: number;
}

interface ModelTiming {
  model: string;
  loadMs: number;
  check: { ok: boolean; tokens: number[]; reference: number[] };
  prefill: PrefillFigure[];
  decode?: {
    steps: number;
    medianStepMs: number;
    /** 1000 / medianStepMs. */
    tokensPerSecond: number;
    bestRepMs: number;
    bestRepTokensPerSecond: number;
    tokens: number[];
  };
  ttftMs?: number;
  /** Ours 1 thread: self time of a decode run by function, largest first. */
  profile?: Array<{ fn: string; pct: number }>;
}

/** The flat rows every results JSON carries: { suite, case, impl, threads, metric, value, unit }. */
function flatRows(workers: readonly WorkerResult[]) {
  return workers.flatMap((w) => {
    const impl = w.lib === "ours" ? "simdformer" : "onnxruntime-web";
    return w.models.flatMap((m) => {
      const row = (metric: string, value: number, unit: string) => ({ suite: "e2e", case: m.model, impl, threads: w.threads, metric, value: Number(value.toPrecision(4)), unit });
      const out = m.prefill.map((p) => row(`prefill_${p.len}`, p.tokensPerSecond, "tok/s"));
      if (m.decode) out.push(row("decode", m.decode.tokensPerSecond, "tok/s"));
      if (m.ttftMs !== undefined) out.push(row("ttft", m.ttftMs, "ms"));
      return out;
    });
  });
}

interface WorkerResult {
  lib: "ours" | "ort";
  threads: number;
  build: string;
  models: ModelTiming[];
}

/** Warm-up call, then up to MAX_REPS timed calls (fewer once REP_BUDGET_MS is spent): best time and last result. */
async function best<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  let value = await fn();
  let ms = Infinity;
  let spent = 0;
  for (let i = 0; i < MAX_REPS && spent < REP_BUDGET_MS; i++) {
    const t0 = performance.now();
    value = await fn();
    const dt = performance.now() - t0;
    ms = Math.min(ms, dt);
    spent += dt;
  }
  return { ms, value };
}

/** Self time by function of a CPU profile (the inspector's sampling profiler), top entries in percent. */
function profileShares(
  profile: { nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>; samples: number[] },
  wasmNames: Map<number, string>,
  top = 8,
): Array<{ fn: string; pct: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const counts = new Map<string, number>();
  for (const s of profile.samples) {
    const f = byId.get(s);
    if (!f) continue;
    const wasmIndex = /^(?:\$?)wasm-function\[(\d+)\]$/.exec(f.functionName)?.[1];
    const name = wasmIndex !== undefined
      ? `${wasmNames.get(Number(wasmIndex)) ?? `internal wasm function ${wasmIndex}`} (wasm)`
      : f.functionName || (f.url ? `(anonymous ${f.url.split("/").pop()})` : "(program)");
    // JS frames are grouped as "JS: name"; wasm frames keep their export/function name.
    const key = wasmIndex !== undefined || name.startsWith("(") ? name : `JS: ${name}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, c]) => ({ fn, pct: (100 * c) / total }));
}

async function profileDecode(run: () => Promise<void>, wasmNames: Map<number, string>): Promise<Array<{ fn: string; pct: number }>> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((ok, fail) => session.post(method, params ?? {}, (e, r) => (e ? fail(e) : ok(r as T))));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 50 });
  await post("Profiler.start");
  await run();
  const { profile } = await post<{ profile: Parameters<typeof profileShares>[0] }>("Profiler.stop");
  session.disconnect();
  return profileShares(profile, wasmNames);
}

async function worker(lib: "ours" | "ort", threads: number, models: ModelEntry[], refs: Record<string, number[]>): Promise<WorkerResult> {
  const L = lib === "ours" ? await oursLib(threads) : ortLib(threads);
  const result: WorkerResult = { lib, threads, build: L.build, models: [] };
  for (const m of models) {
    const t0 = performance.now();
    const r = await L.load(m);
    const loadMs = performance.now() - t0;
    const checkInput = inputFor(m, 16);
    const gen = async (input: CaseInput, n: number) => {
      const toks = [await r.prefill(input)];
      while (toks.length < n) toks.push(await r.step(toks[toks.length - 1]));
      return toks;
    };
    const tokens = await gen(checkInput, CHECK_TOKENS);
    const reference = refs[m.name];
    const ok = tokens.length === reference.length && tokens.every((t, i) => t === reference[i]);
    const mt: ModelTiming = { model: m.name, loadMs, check: { ok, tokens, reference }, prefill: [] };
    result.models.push(mt);
    if (!ok) {
      console.error(`  ${lib} x${threads} ${m.name}: greedy tokens differ from the reference, not timed`);
      r.dispose();
      continue;
    }
    for (const len of promptLengths(m)) {
      const input = inputFor(m, len);
      const { ms, value } = await best(() => r.prefill(input));
      mt.prefill.push({ len, ms, tokensPerSecond: (1000 * len) / ms, firstToken: value });
    }
    mt.ttftMs = mt.prefill.find((p) => p.len === 16)?.ms;
    const steps = decodeSteps(m);
    // Each repetition: an untimed prefill of the 16-token prompt, then `steps` steps timed one by one. The figure is
    // the median step: on a shared machine a step now and then loses a whole scheduler slice (tens of ms, seen for
    // both libraries alike), which would decide a mean. The best repetition's mean is kept in the JSON too.
    let bestMs = Infinity;
    let decoded: number[] = [];
    let spent = 0;
    const stepMs: number[] = [];
    for (let rep = 0; rep < DECODE_REPS && (rep < 2 || spent < REP_BUDGET_MS); rep++) {
      let tok = await r.prefill(checkInput);
      const out: number[] = [];
      let total = 0;
      for (let i = 0; i < steps; i++) {
        const t1 = performance.now();
        tok = await r.step(tok);
        const dt = performance.now() - t1;
        out.push(tok);
        total += dt;
        // The first repetition warms up (ORT plans memory per new shape, V8 tiers up our JS).
        if (rep > 0) stepMs.push(dt);
      }
      bestMs = Math.min(bestMs, total);
      spent += total;
      decoded = out;
    }
    const medianStep = median(stepMs);
    mt.decode = {
      steps, medianStepMs: medianStep, tokensPerSecond: 1000 / medianStep, bestRepMs: bestMs, bestRepTokensPerSecond: (1000 * steps) / bestMs,
      tokens: decoded.slice(0, 24),
    };
    if (lib === "ours" && threads === 1) {
      let tok = await r.prefill(checkInput);
      mt.profile = await profileDecode(async () => {
        for (let i = 0; i < steps; i++) tok = await r.step(tok);
      }, L.wasmNames!);
    }
    console.error(`  ${lib} x${threads} ${m.name}: decode ${fmt(mt.decode.tokensPerSecond)} tok/s, prefill ${mt.prefill.map((p) => `${p.len}:${fmt(p.tokensPerSecond)}`).join(" ")} tok/s`);
    r.dispose();
  }
  L.dispose();
  return result;
}

// ---------------------------------------------------------------- parent: models, phases, results

function ensureModels(): Manifest {
  const manifest = join(MODELS_DIR, "manifest.json");
  const newest = Math.max(statSync(GENERATOR).mtimeMs, statSync(join(ROOT, "models", "default", "translator.safetensors")).mtimeMs);
  if (!existsSync(manifest) || statSync(manifest).mtimeMs < newest) {
    const python = process.env.PYTHON ?? "/usr/bin/python3";
    console.error(`e2e: generating bench/models/ with ${python} tools/e2e_models.py (torch + onnx; ~1 min) ...`);
    const r = spawnSync(python, [GENERATOR, "--out", MODELS_DIR], { cwd: ROOT, stdio: ["ignore", "inherit", "pipe"], encoding: "utf8" });
    if (r.status !== 0) {
      throw new Error(`tools/e2e_models.py failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ""}): it needs ${python} with torch and onnx ` +
        `(Debian: apt-get install -y python3-torch python3-onnx).\n${(r.stderr ?? "").split("\n").filter((l) => !/Warning|warn/.test(l)).slice(-8).join("\n")}`);
    }
  }
  return JSON.parse(readFileSync(manifest, "utf8")) as Manifest;
}

/** Runs this bundle again as a child in `mode`, passing `payload` through a file; returns its JSON stdout. */
function child<T>(args: string[]): T {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...args], {
    cwd: ROOT, env: process.env, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`e2e child ${args.join(" ")} failed with exit ${r.status}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as T;
}

interface ColdRun {
  lib: "ours" | "ort";
  model: string;
  build: string;
  firstToken: number;
  importMs: number;
  loadMs: number;
  firstTokenMs: number;
  coldMs: number;
  wasmBytes: number;
  jsBytes: number;
  maxRssBytes: number;
}

interface ColdFigure extends Omit<ColdRun, "build"> {
  runs: number;
  build: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** What bench/e2e_cold.mjs needs: the model, the first-token prompt, the longer run for the memory figure. */
function coldRequest(m: ModelEntry) {
  const memLen = Math.min(128, promptLengths(m)[promptLengths(m).length - 1]);
  return {
    modelsDir: MODELS_DIR, model: m, prompt: inputFor(m, 16), memPrompt: inputFor(m, memLen), memSteps: 32,
    ours: join(ROOT, "dist", "index.js"), ortDist: ORT_DIST,
  };
}

function coldStart(m: ModelEntry, lib: "ours" | "ort"): ColdFigure {
  const req = coldRequest(m);
  const runs: ColdRun[] = [];
  for (let i = 0; i < (m.params >= LARGE_PARAMS ? 1 : COLD_RUNS); i++) {
    // Plain `node`: what a user runs (no relaxed-SIMD flag, so ours takes its strict SIMD build here).
    const out = execFileSync(process.execPath, [join(ROOT, "bench", "e2e_cold.mjs"), lib, JSON.stringify(req)], { cwd: ROOT, encoding: "utf8" });
    runs.push(JSON.parse(out.trim().split("\n").pop()!) as ColdRun);
  }
  const med = (k: keyof ColdRun) => median(runs.map((r) => r[k] as number));
  const max = (k: keyof ColdRun) => Math.max(...runs.map((r) => r[k] as number));
  return {
    lib, model: m.name, build: runs[0].build, runs: runs.length, firstToken: runs[0].firstToken,
    importMs: med("importMs"), loadMs: med("loadMs"), firstTokenMs: med("firstTokenMs"), coldMs: med("coldMs"),
    wasmBytes: max("wasmBytes"), jsBytes: max("jsBytes"), maxRssBytes: max("maxRssBytes"),
  };
}

/** One more cold run of ours under --cpu-prof: where the cold start goes, by function (self time). */
function coldProfile(m: ModelEntry): Array<{ fn: string; pct: number }> {
  const dir = mkdtempSync(join(os.tmpdir(), "e2e-cold-prof-"));
  try {
    const req = { ...coldRequest(m), firstTokenOnly: true };
    execFileSync(process.execPath, ["--cpu-prof", "--cpu-prof-interval", "50", "--cpu-prof-dir", dir, join(ROOT, "bench", "e2e_cold.mjs"), "ours", JSON.stringify(req)], { cwd: ROOT, encoding: "utf8" });
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) return [];
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as Parameters<typeof profileShares>[0];
    return profileShares(profile, wasmFunctionNames(readFileSync(join(ROOT, "dist", "wasm", "simdformer.simd.wasm"))), 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface SizeFigure extends SizeSum {
  lib: string;
  note: string;
}

/** Newest source file under src/ and assembly/: dist/ older than it does not ship the measured code. */
function newestSource(): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(join(d, e.name)).mtimeMs);
    }
  };
  walk(join(ROOT, "src"));
  walk(join(ROOT, "assembly"));
  return newest;
}

async function main(): Promise<void> {
  const mode = argValue("--worker");
  if (mode) {
    const manifest = JSON.parse(readFileSync(join(MODELS_DIR, "manifest.json"), "utf8")) as Manifest;
    const models = manifest.models.filter((m) => !ONLY || ONLY.includes(m.name));
    if (mode === "ref") {
      ortSetup(1);
      const refs: Record<string, number[]> = {};
      for (const m of models) refs[m.name] = await referenceTokens(m, inputFor(m, 16), CHECK_TOKENS);
      console.log(JSON.stringify(refs));
    } else {
      const refs = JSON.parse(argValue("--refs")!) as Record<string, number[]>;
      const res = await worker(mode as "ours" | "ort", Number(argValue("--threads")), models, refs);
      console.log(JSON.stringify(res));
    }
    process.exit(0);
  }

  const started = performance.now();
  const loadStart = os.loadavg().map((x) => Number(x.toFixed(2)));
  const manifest = ensureModels();
  const models = manifest.models.filter((m) => !ONLY || ONLY.includes(m.name));
  const pass = ONLY ? ["--models", ONLY.join(",")] : [];
  console.error(`e2e: ${models.map((m) => m.name).join(", ")}`);
  console.error("e2e: reference greedy tokens (ORT, no-cache graphs)");
  const refs = child<Record<string, number[]>>(["--worker", "ref", ...pass]);
  const workers: WorkerResult[] = [];
  for (const [lib, threads] of [["ours", 1], ["ort", 1], ["ours", 2], ["ort", 2]] as const) {
    console.error(`e2e: ${lib}, ${threads} thread(s)`);
    workers.push(child<WorkerResult>(["--worker", lib, "--threads", String(threads), "--refs", JSON.stringify(refs), ...pass]));
  }
  const distFresh = statSync(join(ROOT, "dist", "index.js")).mtimeMs >= newestSource();
  if (!distFresh) console.error("e2e: WARNING dist/ is older than src/ or assembly/: cold start and size measure a stale build (npm run build first)");
  const cold: ColdFigure[] = [];
  if (!process.argv.includes("--no-cold")) {
    for (const m of models) {
      for (const lib of ["ours", "ort"] as const) {
        cold.push(coldStart(m, lib));
        const c = cold[cold.length - 1];
        console.error(`e2e: cold ${lib} ${m.name}: ${c.coldMs.toFixed(1)} ms (import ${c.importMs.toFixed(1)}, load ${c.loadMs.toFixed(1)}, first token ${c.firstTokenMs.toFixed(1)})`);
      }
    }
  }
  const defaultModel = models.find((m) => m.name === "translator");
  const coldProfileOfDefault = defaultModel && cold.length ? coldProfile(defaultModel) : undefined;
  const sizes: SizeFigure[] = [
    { lib: "ours", ...shippedSize(join(ROOT, "dist")), note: "dist/index.js + its chunks + the strict SIMD wasm (one build; threads add dist/worker.js and a -shared wasm)" },
    { lib: "onnxruntime-web", ...sizeOf(ORT_DIST, ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"]), note: "the wasm-only entry + the SIMD (threaded) wasm and its loader, as shipped in node_modules/onnxruntime-web/dist" },
  ];
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    // not a git checkout
  }
  const machine = {
    cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`, node: process.version, v8: process.versions.v8,
    simdformer: `${pkg.version} (${commit})`, onnxruntimeWeb: packageInfo("onnxruntime-web").version,
    torchExport: manifest.torch, onnxOpset: manifest.opset, date: new Date().toISOString(), distFresh,
    // Other processes share the cores: the load average at the start and at the end of the run says how much.
    loadAverage: { start: loadStart, end: os.loadavg().map((x) => Number(x.toFixed(2))) },
  };
  const results = {
    suite: "e2e", machine, models: models.map(({ name, family, arch, params, config }) => ({ name, family, arch, params, config })),
    references: refs, workers, cold, coldProfile: coldProfileOfDefault, sizes, wallSeconds: (performance.now() - started) / 1000,
    rows: flatRows(workers),
  };
  const md = markdown(results);
  console.log(md);
  if (OUT_DIR) {
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, "e2e.json"), `${JSON.stringify(results, null, 1)}\n`);
    writeFileSync(join(OUT_DIR, "e2e.md"), md);
    const { tokens, coldSvg } = charts(results);
    writeFileSync(join(OUT_DIR, "e2e_tokens.svg"), tokens);
    writeFileSync(join(OUT_DIR, "e2e_coldstart.svg"), coldSvg);
    console.error(`e2e: wrote ${["e2e.json", "e2e.md", "e2e_tokens.svg", "e2e_coldstart.svg"].map((f) => join(OUT_DIR, f)).join(", ")}`);
  }
  console.error(`e2e: ${results.wallSeconds.toFixed(0)} s`);
}

// ---------------------------------------------------------------- report

type Results = {
  machine: Record<string, unknown>;
  models: Array<Pick<ModelEntry, "name" | "family" | "arch" | "params" | "config">>;
  workers: WorkerResult[];
  cold: ColdFigure[];
  /** Ours, default model: self time by function of one cold run (whole process, import included). */
  coldProfile?: Array<{ fn: string; pct: number }>;
  sizes: SizeFigure[];
  wallSeconds: number;
};

const IMPLS = [["ours", 1], ["ours", 2], ["ort", 1], ["ort", 2]] as const;
const implName = (lib: string, threads: number) => `${lib === "ours" ? "simdformer" : "onnxruntime-web"} ${threads}T`;
const timingOf = (r: Results, lib: string, threads: number, model: string) =>
  r.workers.find((w) => w.lib === lib && w.threads === threads)?.models.find((m) => m.model === model);

/** A prefill figure whose first token disagrees with ORT 1 thread's is not a result. */
function prefillValid(r: Results, lib: string, threads: number, model: string, len: number): PrefillFigure | undefined {
  const p = timingOf(r, lib, threads, model)?.prefill.find((x) => x.len === len);
  const ref = timingOf(r, "ort", 1, model)?.prefill.find((x) => x.len === len) ?? timingOf(r, "ours", 1, model)?.prefill.find((x) => x.len === len);
  return p && ref && p.firstToken === ref.firstToken ? p : undefined;
}

/** Decode figures only for runs whose decoded tokens agree with ORT 1 thread's. */
function decodeValid(r: Results, lib: string, threads: number, model: string): ModelTiming["decode"] {
  const d = timingOf(r, lib, threads, model)?.decode;
  const ref = timingOf(r, "ort", 1, model)?.decode ?? timingOf(r, "ours", 1, model)?.decode;
  return d && ref && d.tokens.every((t, i) => t === ref.tokens[i]) ? d : undefined;
}

const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}x` : "n/a");
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const small = (m: { params: number }) => m.params < 2e6;

function markdown(r: Results): string {
  const L: string[] = [];
  const mc = r.machine;
  L.push("# End to end: simdformer vs onnxruntime-web, same models, one run", "");
  L.push(`Machine: ${mc.cpu}, ${mc.cores} cores, ${mc.memoryGB} GB, ${mc.os}; Node ${mc.node} (V8 ${mc.v8}); simdformer ${mc.simdformer}; ` +
    `onnxruntime-web ${mc.onnxruntimeWeb} (wasm EP, SIMD); ONNX exported by torch ${mc.torchExport}, opset ${mc.onnxOpset}; ${mc.date}; run took ${r.wallSeconds.toFixed(0)} s; ` +
    `load average (1/5/15 min) ${(mc.loadAverage as { start: number[] }).start.join("/")} at the start, ${(mc.loadAverage as { end: number[] }).end.join("/")} at the end (other processes share the cores).`, "");
  if (!mc.distFresh) L.push("**dist/ was older than src/ or assembly/ when this ran: the cold-start and size figures measure that older build.**", "");
  L.push("Generated by `npm run bench -- e2e` (bench/e2e.bench.ts). Models: tools/e2e_models.py (random weights, fixed seeds; the translator is the committed default model), " +
    "which the bench runs into the gitignored bench/models/ when they are missing: it needs /usr/bin/python3 with torch and onnx (`apt-get install -y python3-torch python3-onnx`).", "");
  // Targets.
  const dec = (lib: string, t: number, m: string) => decodeValid(r, lib, t, m)?.tokensPerSecond;
  const ratios = r.models.map((m) => ({ m, r1: (dec("ours", 1, m.name) ?? NaN) / (dec("ort", 1, m.name) ?? NaN), r2: (dec("ours", 2, m.name) ?? NaN) / (dec("ort", 2, m.name) ?? NaN) }));
  const smallR = ratios.filter((x) => small(x.m));
  const minOf = (xs: number[]) => (xs.length && xs.every(Number.isFinite) ? Math.min(...xs) : NaN);
  const coldOurs = r.cold.find((c) => c.lib === "ours" && c.model === "translator");
  const sz = (lib: string) => r.sizes.find((s) => s.lib === lib)!;
  const sizeRatio = sz("onnxruntime-web").gzip / sz("ours").gzip;
  const met = (ok: boolean) => (ok ? "**met**" : "**missed**");
  L.push("## Targets", "", "| target | measured | |", "|---|---|---|");
  const s1 = minOf(smallR.map((x) => x.r1));
  L.push(`| decode tokens/s >= 2x onnxruntime-web on the small models (~1M: ${smallR.map((x) => x.m.name).join(", ")}), 1 thread | ${smallR.map((x) => `${x.m.name} ${Number.isFinite(x.r1) ? x.r1.toFixed(2) : "n/a"}x`).join(", ")} | ${met(s1 >= 2)} |`);
  const all = minOf(ratios.flatMap((x) => [x.r1, x.r2]));
  L.push(`| decode ahead of onnxruntime-web on every model (1 and 2 threads) | lowest ratio ${Number.isFinite(all) ? all.toFixed(2) : "n/a"}x | ${met(all > 1)} |`);
  L.push(`| cold start < 50 ms, default model, Node | ${coldOurs ? `${coldOurs.coldMs.toFixed(1)} ms (median of ${coldOurs.runs})` : "not measured"} | ${coldOurs ? met(coldOurs.coldMs < 50) : "n/a"} |`);
  L.push(`| shipped size <= 1/10 of the peer's (gzipped) | ${(sz("ours").gzip / 1024).toFixed(0)} KB vs ${(sz("onnxruntime-web").gzip / 1024).toFixed(0)} KB: 1/${sizeRatio.toFixed(0)} | ${met(sizeRatio >= 10)} |`, "");

  L.push("## Throughput", "", "Prefill: prompt tokens per second of one prefill call (prompt in, greedy first token out; the translator's prompt is its source, encoder included). " +
    "Decode: 1 / the median step time of the decode steps after a 16-token prompt (steps of the repetitions after the first), and the mean over the best repetition, which the steps that lose a scheduler slice to other processes decide when the machine is loaded. TTFT: the 16-token prefill in a warm process. Best of up to 3 timed runs after a warm-up. " +
    "Ratio: simdformer / onnxruntime-web at the same thread count. A figure whose tokens differ from onnxruntime-web 1T's is left out (\"differs\"). " +
    `Models of ${LARGE_PARAMS / 1e6}M parameters and more are prefilled at 16 and 128 tokens only, decoded for ${DECODE_STEPS / 2} steps and cold-started once (the run's time budget).`, "");
  for (const m of r.models) {
    const lens = [...new Set(r.workers.flatMap((w) => w.models.find((x) => x.model === m.name)?.prefill.map((p) => p.len) ?? []))].sort((a, b) => a - b);
    L.push(`### ${m.name} (${(m.params / 1e6).toFixed(2)}M parameters, ${m.arch}, d_model ${m.config.d_model}, ${m.config.decoder_layers} decoder layers)`, "");
    L.push(`| impl | ${lens.map((l) => `prefill ${l} tok/s`).join(" | ")} | decode tok/s | decode tok/s, mean of best run | TTFT ms | decode ratio | prefill ${lens[lens.length - 1]} ratio |`);
    L.push(`|---|${lens.map(() => "---:").join("|")}|---:|---:|---:|---:|---:|`);
    for (const [lib, t] of IMPLS) {
      const tm = timingOf(r, lib, t, m.name);
      if (!tm) continue;
      if (!tm.check.ok) {
        L.push(`| ${implName(lib, t)} | greedy tokens differ from the reference: ${tm.check.tokens.join(" ")} vs ${tm.check.reference.join(" ")} |`);
        continue;
      }
      const cells = lens.map((l) => {
        const p = prefillValid(r, lib, t, m.name, l);
        return p ? fmt(p.tokensPerSecond) : tm.prefill.some((x) => x.len === l) ? "differs" : "n/a";
      });
      const d = decodeValid(r, lib, t, m.name);
      const last = lens[lens.length - 1];
      const dr = lib === "ours" ? ratio(d?.tokensPerSecond, decodeValid(r, "ort", t, m.name)?.tokensPerSecond) : "";
      const pr = lib === "ours" ? ratio(prefillValid(r, lib, t, m.name, last)?.tokensPerSecond, prefillValid(r, "ort", t, m.name, last)?.tokensPerSecond) : "";
      L.push(`| ${implName(lib, t)} | ${cells.join(" | ")} | ${d ? fmt(d.tokensPerSecond) : "differs"} | ${d ? fmt(d.bestRepTokensPerSecond) : "differs"} | ${tm.ttftMs?.toFixed(2) ?? "n/a"} | ${dr} | ${pr} |`);
    }
    L.push("");
  }

  if (r.cold.length) {
    L.push("## Cold start and memory (1 thread)", "", "Cold start: a fresh `node` process per run (median of the runs), timed from just before `import()` of the library " +
      "to the first greedy token of a 16-token prompt: import, then load (wasm instantiation + model file read + weights ready; ORT creates the session(s) the first token needs: " +
      "the cache graph, and the encoder for the translator), then first token. Ours runs the shipped dist/ (plain `node`, so its strict SIMD build). " +
      "Memory: after a 128-token prompt (translator: 64) and 32 decode steps in the same process: wasm = every WebAssembly.Memory of the library, " +
      "JS = V8 heap in use + ArrayBuffers (peak of the samples), and the process's max RSS.", "");
    L.push("| model | impl | import ms | load ms | first token ms | cold start ms | ratio | wasm MB | JS MB | peak MB (wasm+JS) | max RSS MB |");
    L.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const m of r.models) {
      for (const lib of ["ours", "ort"]) {
        const c = r.cold.find((x) => x.lib === lib && x.model === m.name);
        if (!c) continue;
        const o = r.cold.find((x) => x.lib === "ort" && x.model === m.name);
        L.push(`| ${m.name} | ${lib === "ours" ? "simdformer" : "onnxruntime-web"} | ${c.importMs.toFixed(1)} | ${c.loadMs.toFixed(1)} | ${c.firstTokenMs.toFixed(1)} | ${c.coldMs.toFixed(1)} | ` +
          `${lib === "ours" ? ratio(c.coldMs, o?.coldMs) : ""} | ${mb(c.wasmBytes)} | ${mb(c.jsBytes)} | ${mb(c.wasmBytes + c.jsBytes)} | ${mb(c.maxRssBytes)} |`);
      }
    }
    const mism = r.models.filter((m) => {
      const a = r.cold.find((x) => x.lib === "ours" && x.model === m.name);
      const b = r.cold.find((x) => x.lib === "ort" && x.model === m.name);
      return a && b && a.firstToken !== b.firstToken;
    });
    if (r.coldProfile?.length) {
      L.push("", `Where simdformer's cold start of the default model goes (self time by function, one extra run under \`node --cpu-prof\` up to the first token, Node's own start-up included): ${r.coldProfile.map((x) => `${x.fn} ${x.pct.toFixed(0)}%`).join(", ")}.`);
    }
    L.push("", mism.length ? `First tokens differ between the libraries in the cold runs of: ${mism.map((m) => m.name).join(", ")}.` : "Both libraries produced the same first token in every cold run.", "");
  }

  L.push("## Shipped size", "", "| library | files | bytes | gzipped (level 9) |", "|---|---|---:|---:|");
  for (const s of r.sizes) L.push(`| ${s.lib} | ${s.files.map((f) => `${f.file} (${(f.gzip / 1024).toFixed(1)} KB gz)`).join(", ")} | ${s.bytes.toLocaleString("en-US")} | ${s.gzip.toLocaleString("en-US")} |`);
  L.push("", ...r.sizes.map((s) => `- ${s.lib}: ${s.note}.`), "");

  const profiled = r.models.map((m) => ({ m, p: timingOf(r, "ours", 1, m.name)?.profile })).filter((x) => x.p);
  if (profiled.length) {
    L.push("## Where simdformer's decode time goes (1 thread)", "", "Self time by function in a CPU profile (V8 sampling profiler, 50 us) of the decode steps; wasm kernels by name, JS grouped as \"JS: function\".", "");
    L.push("| model | top functions (share of samples) |", "|---|---|");
    for (const { m, p } of profiled) L.push(`| ${m.name} | ${p!.map((x) => `${x.fn} ${x.pct.toFixed(0)}%`).join(", ")} |`);
    L.push("");
  }
  L.push("## Method notes", "",
    "- Both libraries get the same weights: tools/e2e_models.py writes our safetensors and exports the ONNX graphs from the same torch modules (the translator: from its committed F16 file, exported as F32).",
    "- onnxruntime-web runs a KV-cache graph (past keys/values in, presents out; prefill feeds an empty past), session option graphOptimizationLevel \"all\". Each `session.run()` copies the inputs (the whole past) into wasm memory and the outputs out: the wasm EP has no device-resident I/O binding, so that copy is part of its decode cost as its API offers it.",
    "- Ours: Model.startDecoding + decodeStep (prefill in one call), argmax in JS, the fresh wasm of this run (relaxed SIMD where Node allows it with --experimental-wasm-relaxed-simd, which the bench sets; ORT ships no relaxed build). Cold start uses plain `node` and the shipped dist/.",
    "- Correctness gate: before timing, each library x thread count must reproduce the 16 greedy tokens of the no-cache ONNX graph (ORT recomputing the whole sequence per token); every timed prefill's first token and decode's tokens are compared with onnxruntime-web 1T's.",
    `- The machine has ${mc.cores} cores shared with other processes: 2-thread figures are noisy.`, "");
  return L.join("\n");
}

const SERIES = [
  { name: "simdformer 1T", color: "#1f6fd1" },
  { name: "simdformer 2T", color: "#79aef0" },
  { name: "onnxruntime-web 1T", color: "#d9622b" },
  { name: "onnxruntime-web 2T", color: "#f2a77f" },
];

function charts(r: Results): { tokens: string; coldSvg: string } {
  const decodePanel: Panel = {
    title: "Decode", unit: "tokens/s",
    groups: r.models.map((m) => ({ label: m.name, values: IMPLS.map(([lib, t]) => decodeValid(r, lib, t, m.name)?.tokensPerSecond) })),
  };
  const prefillPanel: Panel = {
    title: "Prefill, 128-token prompt (translator: 64-token source)", unit: "tokens/s",
    groups: r.models.map((m) => {
      const lens = timingOf(r, "ours", 1, m.name)?.prefill.map((p) => p.len) ?? [];
      const len = lens.includes(128) ? 128 : lens[lens.length - 1];
      return { label: m.name, values: IMPLS.map(([lib, t]) => (len ? prefillValid(r, lib, t, m.name, len)?.tokensPerSecond : undefined)) };
    }),
  };
  const tokens = barChartSvg("simdformer vs onnxruntime-web: tokens per second (higher is better)",
    `${r.machine.cpu}, Node ${r.machine.node}, onnxruntime-web ${r.machine.onnxruntimeWeb}`, SERIES, [decodePanel, prefillPanel]);
  const coldPanel: Panel = {
    title: "Cold start: import + instantiate + load + first token, fresh process, 1 thread", unit: "ms",
    groups: r.models.map((m) => ({ label: m.name, values: ["ours", "ort"].map((lib) => r.cold.find((c) => c.lib === lib && c.model === m.name)?.coldMs) })),
  };
  const memPanel: Panel = {
    title: "Peak memory: wasm memory + JS heap", unit: "MB",
    groups: r.models.map((m) => ({
      label: m.name,
      values: ["ours", "ort"].map((lib) => {
        const c = r.cold.find((x) => x.lib === lib && x.model === m.name);
        return c ? (c.wasmBytes + c.jsBytes) / 2 ** 20 : undefined;
      }),
    })),
  };
  const coldSvg = barChartSvg("simdformer vs onnxruntime-web: cold start and memory (lower is better)",
    `${r.machine.cpu}, Node ${r.machine.node}, onnxruntime-web ${r.machine.onnxruntimeWeb}`, [SERIES[0], SERIES[2]], [coldPanel, memPanel]);
  return { tokens, coldSvg };
}

await main();

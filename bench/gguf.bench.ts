// GGUF benchmark: simdformer beside llama.cpp compiled to wasm (@wllama/wllama) in one Chromium (Debian's,
// playwright-core, a cross-origin isolated page so both get threads), and native llama.cpp (node-llama-cpp,
// CPU) as the ceiling, on the same random-weight files of tools/gguf_models.py (llama and qwen2, ~15M and
// ~100M parameters, Q4_K_M / Q8_0 / F16). `npm run bench -- gguf [--sizes 15m,100m] [--types q4_k_m,q8_0,f16]
// [--archs llama,qwen2] [--threads 1,2] [--steps 32]`. Serves the repository's dist/ (run `npm run build` first).
// Per model and thread count: load (bytes in memory -> ready), prefill tokens/s of an 86-token prompt, decode
// tokens/s of `steps` greedy tokens, time to first token; each after one warm-up generation. The page is
// reloaded per implementation (fresh workers and memory), the two alternating. Writes bench/results/gguf.json
// (flat `rows`) and gguf.md.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { chromium } from "playwright-core";
// @ts-expect-error plain JS example without types
import { startServer } from "../examples/browser/server.mjs";
import { packageInfo } from "./peers/pkg.js";

const ROOT = process.env.SIMDFORMER_ROOT ?? process.cwd();
const MODELS = join(ROOT, "bench", "models");
const args = process.argv.slice(2);
const list = (name: string, dflt: string[]) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1].split(",") : dflt;
};
const SIZES = list("sizes", ["15m", "100m"]);
const TYPES = list("types", ["q4_k_m", "q8_0", "f16"]);
const ARCHS = list("archs", ["llama", "qwen2"]);
const THREADS = list("threads", ["1", "2"]).map(Number);
const STEPS = Number(list("steps", ["32"])[0]);
// A prompt of 86 tokens in the bench vocabularies (each tokenizes it itself; the counts are in the report).
const TEXT = "the cat sat on the mat and the dog sat on the log ".repeat(5).trim();
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic"];

type Impl = "simdformer" | "wllama" | "llama.cpp (native)";
interface Row { suite: "gguf"; case: string; impl: Impl; threads: number; metric: string; value: number; unit: string }
interface Result { loadMs: number; prefillTokS: number; decodeTokS: number; ttftMs: number; promptTokens: number; generated: number; error?: string; build?: string }

const rows: Row[] = [];
const notes: string[] = [];
const record = (c: string, impl: Impl, threads: number, r: Result) => {
  const add = (metric: string, value: number, unit: string) => rows.push({ suite: "gguf", case: c, impl, threads, metric, value: Number(value.toPrecision(4)), unit });
  add("decode", r.decodeTokS, "tokens/s");
  add("prefill", r.prefillTokS, "tokens/s");
  add("time_to_first_token", r.ttftMs, "ms");
  add("load", r.loadMs, "ms");
};

function ensureModels(): string[] {
  const names: string[] = [];
  for (const arch of ARCHS) for (const size of SIZES) for (const type of TYPES) names.push(`${arch}-${size}-${type}.gguf`);
  const missing = names.filter((n) => !existsSync(join(MODELS, n)));
  if (missing.length > 0) {
    console.log(`writing ${missing.length} bench models (tools/gguf_models.py bench) ...`);
    const r = spawnSync("/usr/bin/python3", [join(ROOT, "tools", "gguf_models.py"), "bench", "--qwen2", "--sizes", SIZES.join(","), "--types", TYPES.join(",")], { stdio: "inherit" });
    if (r.status !== 0) throw new Error("tools/gguf_models.py bench failed");
  }
  return names;
}

/** Native llama.cpp: load, then one warm-up and one timed generation of the same prompt. */
async function native(file: string, threads: number): Promise<Result> {
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  try {
    const t0 = performance.now();
    const model = await llama.loadModel({ modelPath: join(MODELS, file), gpuLayers: 0 });
    const ctx = await model.createContext({ contextSize: 512, batchSize: 512, threads, flashAttention: false });
    const loadMs = performance.now() - t0;
    const prompt = model.tokenize(TEXT);
    const once = async () => {
      const seq = ctx.getSequence();
      const t1 = performance.now();
      let first = 0;
      let n = 0;
      for await (const _ of seq.evaluate(prompt, { temperature: 0 })) {
        if (n === 0) first = performance.now();
        if (++n === STEPS) break;
      }
      const end = performance.now();
      seq.dispose();
      return { ttftMs: first - t1, decodeTokS: ((n - 1) * 1000) / (end - first), prefillTokS: (prompt.length * 1000) / (first - t1) };
    };
    await once();
    const r = await once();
    await ctx.dispose();
    await model.dispose();
    return { loadMs, ...r, promptTokens: prompt.length, generated: STEPS };
  } finally {
    await llama.dispose();
  }
}

async function main(): Promise<void> {
  const dist = join(ROOT, "dist", "index.js");
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run npm run build first`);
  const files = ensureModels();
  const site = mkdtempSync(join(os.tmpdir(), "simdformer-gguf-bench-"));
  symlinkSync(join(ROOT, "dist"), join(site, "dist"));
  symlinkSync(join(packageInfo("@wllama/wllama").dir, "esm"), join(site, "wllama"));
  symlinkSync(MODELS, join(site, "models"));
  copyFileSync(join(ROOT, "bench", "gguf_page.html"), join(site, "index.html"));
  const server = await startServer({ root: site, isolated: true });
  const profile = mkdtempSync(join(os.tmpdir(), "simdformer-gguf-chromium-"));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: "/usr/bin/chromium", headless: true, args: FLAGS, timeout: 30_000 });
  const browser = ctx.browser()?.version() ?? "";
  const page = async (file: string, threads: number, impl: "simdformer" | "wllama"): Promise<Result> => {
    const p = await ctx.newPage();
    const log: string[] = [];
    p.on("console", (m) => log.push(m.text()));
    try {
      const q = new URLSearchParams({ model: file, threads: String(threads), impl, text: TEXT, steps: String(STEPS) });
      await p.goto(`${server.url}index.html?${q}`, { timeout: 60_000 });
      await p.waitForFunction(() => (window as { __bench?: unknown }).__bench !== undefined, undefined, { timeout: 600_000, polling: 500 });
      const r = await p.evaluate(() => (window as unknown as { __bench: Result }).__bench);
      if (r.error) throw new Error(`${impl} on ${file}, ${threads} thread(s): ${r.error}\n${log.slice(-5).join("\n")}`);
      return r;
    } finally {
      await p.close();
    }
  };
  // A failure of one implementation on one cell is noted and the run goes on; results are rewritten after every cell.
  const attempt = async (c: string, impl: Impl, threads: number, run: () => Promise<Result>): Promise<Result | undefined> => {
    try {
      const r = await run();
      record(c, impl, threads, r);
      return r;
    } catch (e) {
      const msg = String((e as Error).message).split("\n")[0];
      notes.push(`- ${c}, ${threads} thread(s): ${impl} failed: ${msg}`);
      console.log(`${c} ${threads}t: ${impl} failed: ${msg}`);
      return undefined;
    }
  };
  try {
    for (const file of files) {
      const c = file.replace(/\.gguf$/, "");
      for (const threads of THREADS) {
        const ours = await attempt(c, "simdformer", threads, () => page(file, threads, "simdformer"));
        const peer = await attempt(c, "wllama", threads, () => page(file, threads, "wllama"));
        const ceiling = await attempt(c, "llama.cpp (native)", threads, () => native(file, threads));
        const load = os.loadavg()[0].toFixed(2);
        notes.push(`- ${c}, ${threads} thread(s): load average (1 min) ${load} after the cell`);
        console.log(`${c} ${threads}t: decode ours ${ours?.decodeTokS.toFixed(1)} / wllama ${peer?.decodeTokS.toFixed(1)} / native ${ceiling?.decodeTokS.toFixed(1)} tok/s; prefill ${ours?.prefillTokS.toFixed(0)} / ${peer?.prefillTokS.toFixed(0)} / ${ceiling?.prefillTokS.toFixed(0)}; prompt ${ours?.promptTokens} / ${peer?.promptTokens} / ${ceiling?.promptTokens} tokens; build ${ours?.build}; load ${load}`);
        write(files, browser);
      }
    }
  } finally {
    await ctx.close().catch(() => {});
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    rmSync(site, { recursive: true, force: true });
  }
  write(files, browser);
  console.log(`wrote bench/results/gguf.{json,md} (load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")})`);
}

/** Writes bench/results/gguf.json (flat rows) and gguf.md from what has been measured so far. */
function write(files: string[], browser: string): void {
  const load = os.loadavg().map((x) => x.toFixed(2)).join(" ");
  const out = join(ROOT, "bench", "results");
  mkdirSync(out, { recursive: true });
  const versions = {
    chromium: browser, "@wllama/wllama": packageInfo("@wllama/wllama").version, "node-llama-cpp": packageInfo("node-llama-cpp").version,
    node: process.version, cpus: os.cpus().length, loadavg: load,
  };
  writeFileSync(join(out, "gguf.json"), JSON.stringify({ versions, steps: STEPS, text: TEXT, rows }, null, 1) + "\n");
  const value = (c: string, impl: Impl, t: number, m: string) => rows.find((r) => r.case === c && r.impl === impl && r.threads === t && r.metric === m)?.value ?? NaN;
  const md = [
    "# GGUF: simdformer vs llama.cpp (wasm: wllama; native: node-llama-cpp)",
    "",
    `Chromium ${browser}, cross-origin isolated page; wllama ${versions["@wllama/wllama"]}; node-llama-cpp ${versions["node-llama-cpp"]} (CPU); ${os.cpus().length} cores, load average ${load} at the end.`,
    `Random-weight models (tools/gguf_models.py); prompt ${JSON.stringify(TEXT.slice(0, 40))}... (86 tokens in these vocabularies), ${STEPS} greedy tokens, after one warm-up run.`,
    "simdformer reads Q4_K / Q5_K / Q6_K tensors as stored (no requantization).",
    "",
    "| model | threads | decode tok/s: ours | wllama | native | ours / wllama | ours / native | prefill tok/s: ours | wllama | native | first token ms: ours | wllama | load ms: ours | wllama |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const ratio = (a: number, b: number) => (Number.isNaN(a / b) ? "—" : `${(a / b).toFixed(2)}x`);
  for (const file of files) {
    const c = file.replace(/\.gguf$/, "");
    for (const t of THREADS) {
      if (!rows.some((r) => r.case === c && r.threads === t)) continue;
      const v = (impl: Impl, m: string) => value(c, impl, t, m);
      const f = (x: number) => (Number.isNaN(x) ? "—" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
      md.push(`| ${c} | ${t} | ${f(v("simdformer", "decode"))} | ${f(v("wllama", "decode"))} | ${f(v("llama.cpp (native)", "decode"))} | ${ratio(v("simdformer", "decode"), v("wllama", "decode"))} | ${ratio(v("simdformer", "decode"), v("llama.cpp (native)", "decode"))} | ${f(v("simdformer", "prefill"))} | ${f(v("wllama", "prefill"))} | ${f(v("llama.cpp (native)", "prefill"))} | ${f(v("simdformer", "time_to_first_token"))} | ${f(v("wllama", "time_to_first_token"))} | ${f(v("simdformer", "load"))} | ${f(v("wllama", "load"))} |`);
    }
  }
  md.push("", ...notes);
  writeFileSync(join(out, "gguf.md"), md.join("\n") + "\n");
}

await main();

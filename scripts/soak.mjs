// Soak test of the built package (dist/): many translate / stream / generate / beam calls,
// concurrent calls on several models and runtimes in one process (one of them threaded, one
// with a 128 MiB edge budget), aborts, throwing callbacks, hostile prompts and runtime
// create/dispose cycles. Bounded by time or request count, whichever comes first.
//
//   npm run soak                               # 5 minutes or 20000 requests
//   npm run soak -- --duration 20 --requests 2000 --out -   # shorter; "-" writes no file
//
// Measured at the start (after a warm-up) and at the end, after garbage collection: JS heap,
// array buffers (wasm memories included), OS threads of the process (workers are threads),
// and per long-lived runtime its wasm memory size and region usage. They must be flat: the
// script exits 1 otherwise, or when a result differs from its reference or an error is not
// one of the library's typed errors. Figures are printed and written to bench/results/soak.md
// (or --out), and a JSON summary is the last line of stdout. The five-minute figures in
// bench/results/soak_5min.md come from `--duration 300 --requests 1000000 --out bench/results/soak_5min.md`.
//
// The package is imported from a private copy of dist/ so a concurrent rebuild cannot swap
// its chunks mid-run. Needs --expose-gc (npm run soak passes it).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));

function parseArgs(argv) {
  const o = { duration: 300, requests: 20000, out: join(root, "bench/results/soak.md"), concurrency: 4, cycleEvery: 200, seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a}: expected a value`);
      return argv[++i];
    };
    if (a === "--duration") o.duration = Number(next());
    else if (a === "--requests") o.requests = Number(next());
    else if (a === "--out") o.out = next();
    else if (a === "--concurrency") o.concurrency = Number(next());
    else if (a === "--cycle-every") o.cycleEvery = Number(next());
    else if (a === "--help") {
      console.log("usage: node --expose-gc scripts/soak.mjs [--duration s] [--requests n] [--concurrency n] [--cycle-every n] [--out file|-]");
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  for (const k of ["duration", "requests", "concurrency", "cycleEvery"]) {
    if (!(o[k] > 0)) throw new Error(`--${k}: expected a number > 0, found ${o[k]}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
if (typeof globalThis.gc !== "function") {
  console.error("soak: run node with --expose-gc (npm run soak does)");
  process.exit(2);
}
if (!existsSync(join(root, "dist/index.js"))) {
  console.error("soak: dist/ is missing: run npm run build first");
  process.exit(2);
}

const copy = mkdtempSync(join(tmpdir(), "simdformer-soak-"));
cpSync(join(root, "dist"), join(copy, "dist"), { recursive: true });
const sf = await import(pathToFileURL(join(copy, "dist/index.js")).href);

const translatorBytes = new Uint8Array(readFileSync(join(root, "models/default/translator.safetensors")));
const gpt2Bytes = new Uint8Array(readFileSync(join(root, "tests/fixtures/torch/gpt2.safetensors")));
const sentences = JSON.parse(readFileSync(join(root, "tests/fixtures/translator/heldout.json"), "utf8")).cases.map((c) => c.src);

/** Seeded xorshift32: the request mix is the same on every run. */
let rngState = opts.seed >>> 0 || 1;
const rand = () => {
  rngState ^= rngState << 13;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5;
  return (rngState >>> 0) / 2 ** 32;
};
const pick = (a) => a[Math.floor(rand() * a.length)];

/** A hostile prompt: random code points (controls, surrogates, emoji, CJK), sometimes far past the context. */
function hostilePrompt() {
  const n = Math.floor(rand() * (rand() < 0.2 ? 400 : 40));
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rand();
    const cp = r < 0.4 ? 97 + Math.floor(rand() * 26) : r < 0.5 ? 32 : r < 0.6 ? Math.floor(rand() * 32) : r < 0.7 ? 0xd800 + Math.floor(rand() * 0x800) : r < 0.8 ? 0x1f600 + Math.floor(rand() * 80) : 0x4e00 + Math.floor(rand() * 0x5000);
    s += cp >= 0xd800 && cp < 0xe000 ? String.fromCharCode(cp) : String.fromCodePoint(cp);
  }
  return s;
}

const osThreads = () => {
  try {
    return Number(readFileSync("/proc/self/status", "utf8").match(/Threads:\s+(\d+)/)[1]);
  } catch {
    return process.getActiveResourcesInfo().length; // not Linux: ref'd handles only
  }
};

async function settle() {
  // Several rounds: FinalizationRegistry callbacks and worker exits run between them.
  for (let i = 0; i < 6; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

class UserError extends Error {}

// Long-lived runtimes and models: A (1 thread), B (2 threads where the host allows), C (128 MiB edge budget).
const runtimes = {
  A: await sf.createRuntime({ threads: 1 }),
  B: await sf.createRuntime({ threads: 2 }),
  C: await sf.createRuntime({ threads: 1, maxMemory: 128 * 1024 * 1024 }),
};
const translators = {};
const lms = {};
for (const [name, rt] of Object.entries(runtimes)) {
  translators[name] = await rt.loadModel(translatorBytes, { file: "translator.safetensors" });
  lms[name] = await sf.loadSafetensors(rt, gpt2Bytes, { file: "gpt2.safetensors" });
}
const gptPrompt = [1, 5, 9, 13];

// References from runtime A: every runtime and thread count must reproduce them exactly.
const refText = new Map();
const refGen = new Map();
const references = async () => {
  for (const s of sentences.slice(0, 40)) refText.set(s, (await translators.A.translate(s)).ids.join(","));
  for (let seed = 0; seed < 8; seed++) {
    const ids = [];
    for await (const t of sf.generateTokens(lms.A, { prompt: gptPrompt }, { maxNewTokens: 12, temperature: 0.8, topK: 20, seed })) ids.push(t.id);
    refGen.set(seed, ids.join(","));
  }
};
await references();

const counts = { requests: 0, translate: 0, stream: 0, beam: 0, generate: 0, aborted: 0, callbackFaults: 0, hostile: 0, typedErrors: 0, concurrentBatches: 0, cycles: 0 };
const failures = [];
const fail = (what, detail) => {
  if (failures.length < 20) failures.push(`${what}: ${detail}`);
};
const isTyped = (e) => e instanceof sf.SimdformerError;

/** One request of a random kind on a random long-lived runtime. */
async function request() {
  const name = pick(["A", "B", "C"]);
  const tm = translators[name];
  const r = rand();
  const s = pick(sentences.slice(0, 40));
  if (r < 0.3) {
    counts.translate++;
    const out = await tm.translate(s);
    if (out.ids.join(",") !== refText.get(s)) fail("translate", `${name}: "${s}" gave ${out.ids} expected ${refText.get(s)}`);
  } else if (r < 0.45) {
    counts.stream++;
    const ids = [];
    for await (const p of tm.stream(s)) ids.push(p.id);
    if (ids.join(",") !== refText.get(s)) fail("stream", `${name}: "${s}" gave ${ids}`);
  } else if (r < 0.55) {
    counts.beam++;
    const out = await tm.translate(s, { beams: 2 });
    if (out.ids.length === 0) fail("beam", `${name}: empty output for "${s}"`);
  } else if (r < 0.7) {
    counts.generate++;
    const seed = Math.floor(rand() * 8);
    const ids = [];
    for await (const t of sf.generateTokens(lms[name], { prompt: gptPrompt }, { maxNewTokens: 12, temperature: 0.8, topK: 20, seed })) ids.push(t.id);
    if (ids.join(",") !== refGen.get(seed)) fail("generate", `${name} seed ${seed}: ${ids}`);
  } else if (r < 0.78) {
    counts.aborted++;
    const ac = new AbortController();
    const stopAfter = 1 + Math.floor(rand() * 3);
    let n = 0;
    try {
      for await (const _ of tm.stream(s, { signal: ac.signal })) if (++n === stopAfter) ac.abort();
      if (n >= stopAfter) fail("abort", `${name}: the stream ended without AbortError`);
    } catch (e) {
      if (!(e instanceof sf.AbortError)) throw e;
    }
  } else if (r < 0.86) {
    counts.callbackFaults++;
    const kind = Math.floor(rand() * 3);
    const boom = new UserError("user callback");
    let calls = 0;
    const at = 1 + Math.floor(rand() * 40);
    try {
      if (kind === 0) for await (const _ of tm.stream(s)) throw boom;
      else if (kind === 1) await tm.translate(s, { onStats: () => { throw boom; } });
      else await tm.translate(s, { capture: () => { if (++calls === at) throw boom; } });
      if (kind !== 2 || calls >= at) fail("callback", `${name}: kind ${kind} did not throw`);
    } catch (e) {
      if (e !== boom) throw e;
    }
  } else {
    counts.hostile++;
    try {
      await (rand() < 0.5 ? tm.translate(hostilePrompt(), { maxNewTokens: 8 }) : lms[name].forward({ tokens: [Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 60) - 6)] }));
    } catch (e) {
      if (!isTyped(e)) throw e;
      counts.typedErrors++;
    }
  }
}

/** A runtime created, used and disposed (alternating 1 and 2 threads). */
async function cycle() {
  counts.cycles++;
  const rt = await sf.createRuntime({ threads: counts.cycles % 2 ? 2 : 1 });
  const tm = await rt.loadModel(translatorBytes, { file: "translator.safetensors" });
  const s = pick(sentences.slice(0, 40));
  const out = await tm.translate(s);
  if (out.ids.join(",") !== refText.get(s)) fail("cycle", `threads ${rt.features.threads}: "${s}" gave ${out.ids}`);
  tm.dispose();
  rt.dispose();
}

function snapshot() {
  const m = process.memoryUsage();
  const regions = {};
  for (const [name, rt] of Object.entries(runtimes)) {
    const { weights, kv, scratch } = rt.engine.regions;
    regions[name] = { pages: rt.engine.mem.byteLength / 65536, weights: weights.usedBytes, kv: kv.usedBytes, scratch: scratch.usedBytes };
  }
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external, rss: m.rss, threads: osThreads(), regions };
}

// Warm-up: every request kind and a few cycles, so caches, arenas and JIT have settled.
for (let i = 0; i < 150; i++) await request();
for (let i = 0; i < 4; i++) await cycle();
await settle();
const start = snapshot();
Object.keys(counts).forEach((k) => (counts[k] = 0));
failures.length = 0;

const t0 = performance.now();
const deadline = t0 + opts.duration * 1000;
let lastPrint = t0;
while (counts.requests < opts.requests && performance.now() < deadline) {
  // A batch of concurrent requests across runtimes, then sometimes a create/dispose cycle.
  const batch = Math.min(opts.concurrency, opts.requests - counts.requests);
  counts.concurrentBatches++;
  const results = await Promise.allSettled(Array.from({ length: batch }, () => request()));
  for (const r of results) if (r.status === "rejected") fail("request", r.reason instanceof Error ? `${r.reason.name}: ${r.reason.message}` : String(r.reason));
  counts.requests += batch;
  if (counts.requests % opts.cycleEvery < batch) {
    try {
      await cycle();
    } catch (e) {
      fail("cycle", e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    }
  }
  if (performance.now() - lastPrint > 10_000) {
    lastPrint = performance.now();
    console.log(`soak: ${counts.requests} requests, ${counts.cycles} cycles, ${((lastPrint - t0) / 1000).toFixed(0)} s, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(1)} MB`);
  }
}
const seconds = (performance.now() - t0) / 1000;
await settle();
const end = snapshot();

// Flat: exact for wasm memory, regions and threads; the JS heap may wander by a little (JIT,
// inline caches), array buffers likewise (V8 keeps freed wasm memories briefly).
const MB = 1e6;
const checks = [
  ["OS threads", start.threads, end.threads, end.threads === start.threads],
  ["JS heap used (MB)", start.heapUsed / MB, end.heapUsed / MB, end.heapUsed - start.heapUsed < Math.max(4 * MB, 0.1 * start.heapUsed)],
  ["array buffers (MB)", start.arrayBuffers / MB, end.arrayBuffers / MB, end.arrayBuffers - start.arrayBuffers < 2 * MB],
  ["RSS (MB)", start.rss / MB, end.rss / MB, true],
];
for (const name of Object.keys(runtimes)) {
  for (const key of ["pages", "weights", "kv", "scratch"]) {
    const a = start.regions[name][key];
    const b = end.regions[name][key];
    checks.push([`runtime ${name} ${key === "pages" ? "wasm pages" : `${key} bytes`}`, a, b, a === b]);
  }
}
const flat = checks.every((c) => c[3]);
const ok = flat && failures.length === 0;

const fmt = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
const lines = [
  "# Soak",
  "",
  `\`npm run soak -- --duration ${opts.duration} --requests ${opts.requests}\` on ${new Date().toISOString().slice(0, 16)}Z, Node ${process.versions.node}, ` +
    `builds ${Object.entries(runtimes).map(([n, rt]) => `${n}: ${rt.features.build} x${rt.features.threads}`).join(", ")}` +
    ` (C has a 128 MiB maxMemory).`,
  "",
  `${counts.requests} requests in ${seconds.toFixed(1)} s (${(counts.requests / seconds).toFixed(0)}/s), ${opts.concurrency} at a time across the three runtimes, plus ${counts.cycles} runtime create/load/translate/dispose cycles (1 and 2 threads alternating).`,
  "",
  "| kind | count |",
  "|---|---:|",
  ...["translate", "stream", "beam", "generate", "aborted", "callbackFaults", "hostile", "typedErrors", "concurrentBatches", "cycles"].map((k) => `| ${k} | ${counts[k]} |`),
  "",
  "Measured after garbage collection, after a warm-up (start) and at the end:",
  "",
  "| measure | start | end | flat |",
  "|---|---:|---:|:---:|",
  ...checks.map(([what, a, b, good]) => `| ${what} | ${fmt(a)} | ${fmt(b)} | ${good ? "yes" : "**NO**"} |`),
  "",
  failures.length ? `Failures (first ${failures.length}):\n\n${failures.map((f) => `- ${f}`).join("\n")}` : "No failures: every result equal to its reference, every error a typed SimdformerError, every abort an AbortError.",
  "",
];
const report = lines.join("\n");
console.log(report);
if (opts.out !== "-") writeFileSync(opts.out, report);

for (const tm of Object.values(translators)) tm.dispose();
for (const m of Object.values(lms)) m.dispose();
for (const rt of Object.values(runtimes)) rt.dispose();
rmSync(copy, { recursive: true, force: true });
console.log(JSON.stringify({ ok, flat, seconds, counts, failures, start, end }));
process.exitCode = ok ? 0 : 1;

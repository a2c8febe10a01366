// Cold start of one library on one model, in a fresh Node process (spawned by bench/e2e.bench.ts; plain JS so
// that what is timed is the import of the library as shipped, not a bench bundle):
//   node bench/e2e_cold.mjs <ours|ort> <request JSON>
// request: { modelsDir, model (manifest entry), prompt (first-token input), memPrompt, memSteps, ours (dist/index.js path),
//            ortDist (onnxruntime-web's dist/), firstTokenOnly (exit after the first token: the profiled run) }
// Prints one JSON line: import / load (instantiate + model) / first-token milliseconds from just before the import,
// the first token, then the peak memory of a longer run (prefill memPrompt + memSteps decode steps): the sum of every
// WebAssembly.Memory the library made or exported, the JS heap in use plus ArrayBuffers, and the process's max RSS.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";

const t0 = performance.now();
const [lib, requestJson] = process.argv.slice(2);
const req = JSON.parse(requestJson);
const m = req.model;

// Every wasm memory either library creates (ours: in JS) or gets from an instance's exports (ORT: Emscripten's).
const memories = new Set();
const noteExports = (instance) => {
  for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) memories.add(v);
};
WebAssembly.Memory = new Proxy(WebAssembly.Memory, {
  construct(target, args, nt) {
    const mem = Reflect.construct(target, args, nt);
    memories.add(mem);
    return mem;
  },
});
WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
  construct(target, args, nt) {
    const inst = Reflect.construct(target, args, nt);
    noteExports(inst);
    return inst;
  },
});
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (...args) => {
  const r = await instantiate(...args);
  noteExports(r instanceof WebAssembly.Instance ? r : r.instance);
  return r;
};
let jsPeak = 0;
const sample = () => {
  jsPeak = Math.max(jsPeak, v8.getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers);
};

const argmax = (a) => {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
};
const ed = m.arch === "encoder-decoder";

/** Returns { prefill(input) -> first token, step(token) -> next token } after import + load, with the phase times. */
async function ours() {
  const sf = await import(pathToFileURL(req.ours).href);
  const tImport = performance.now();
  const rt = await sf.createRuntime({ threads: 1 });
  const model = await sf.loadSafetensors(rt, readFileSync(resolve(req.modelsDir, m.ours)), { file: m.ours });
  const tLoad = performance.now();
  let state;
  const V = model.vocabSize;
  return {
    tImport, tLoad, build: rt.features.build,
    async prefill(input) {
      state?.dispose();
      state = await model.startDecoding(ed ? { src: [input.src], capacity: 64 } : { capacity: input.prompt.length + 64 });
      return sf.argmaxRow(await model.decodeStep(state, [input.prompt]), 0, V);
    },
    async step(tok) {
      return sf.argmaxRow(await model.decodeStep(state, [[tok]]), 0, V);
    },
  };
}

async function ort() {
  const ort = await import("onnxruntime-web");
  const tImport = performance.now();
  ort.env.wasm.wasmPaths = pathToFileURL(resolve(req.ortDist) + "/").href;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.logLevel = "error";
  const open = (f) => ort.InferenceSession.create(readFileSync(resolve(req.modelsDir, f)), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const enc = ed ? await open(m.encoder) : undefined;
  const dec = await open(m.decoder);
  const tLoad = performance.now();
  const c = m.config;
  const kvh = c.n_kv_heads ?? c.n_heads;
  const hd = c.head_dim ?? c.d_model / c.n_heads;
  const ids = (a) => new ort.Tensor("int64", BigInt64Array.from(a.map(BigInt)), [1, a.length]);
  let feeds;
  const run = async (tokens) => {
    feeds.input_ids = ids(tokens);
    const out = await dec.run(feeds);
    m.past.forEach((n, i) => (feeds[n] = out[m.present[i]]));
    return argmax(out.logits.data);
  };
  return {
    tImport, tLoad, build: "ort-wasm-simd-threaded",
    async prefill(input) {
      feeds = {};
      if (ed) {
        const cross = await enc.run({ src_ids: ids(input.src) });
        for (const n of m.cross) feeds[n] = cross[n];
      }
      for (const n of m.past) feeds[n] = new ort.Tensor("float32", new Float32Array(0), [1, kvh, 0, hd]);
      return run(input.prompt);
    },
    step: (tok) => run([tok]),
  };
}

const r = lib === "ours" ? await ours() : await ort();
sample();
const first = await r.prefill(req.prompt);
const tFirst = performance.now();
sample();
if (req.firstTokenOnly) {
  // Profiled run (bench/e2e.bench.ts coldProfile): the profile ends at the first token.
  console.log(JSON.stringify({ lib, model: m.name, firstToken: first, coldMs: tFirst - t0 }));
  process.exit(0);
}
let tok = await r.prefill(req.memPrompt);
sample();
for (let i = 0; i < req.memSteps; i++) tok = await r.step(tok);
sample();
let wasmBytes = 0;
for (const mem of memories) wasmBytes += mem.buffer.byteLength;
console.log(JSON.stringify({
  lib, model: m.name, build: r.build, firstToken: first,
  importMs: r.tImport - t0, loadMs: r.tLoad - r.tImport, firstTokenMs: tFirst - r.tLoad, coldMs: tFirst - t0,
  wasmBytes, jsBytes: jsPeak, maxRssBytes: process.resourceUsage().maxRSS * 1024,
}));
// ORT's thread pool or our runtime must not keep the process alive; the parent waits for exit.
process.exit(0);

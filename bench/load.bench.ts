// Model load benchmark: how long loading a model file takes and how much memory it needs, next
// to reading the same file with fs.readFile into one buffer. `npm run bench -- load
// [--sizes 15M,110M,400M] [--types f32,f16,q8_0] [--reps n] [--out dir]` (`--sizes none`: the cold start alone).
// Models: Llama-style decoders of the stories15M / stories110M shapes and a ~390M one, random
// weights (fixed seed), written to bench/models/load/ once by this suite, tensor by tensor (the
// writer never holds a whole file):
//   f32  llama2.c checkpoint (version 0 header, shared classifier), as the users bring;
//   f16  Hugging Face directory: config.json + model.safetensors, tensors in alphabetical order;
//   q8_0 GGUF v3, every 2-D weight Q8_0 (token_embd included), norms F32.
// Each measurement runs in a fresh child process (this bundle with --child): the baseline is the
// child's RSS after createRuntime (Node + wasm instantiated); the peak is process.resourceUsage()
// .maxRSS after the load (or the read), so "peak over baseline" is what the load itself added.
// Load time: loadModel(path) to the returned model (one thread, relaxed build); the loaded model
// then answers one decode step, untimed, to show the load was whole. Reads and loads alternate
// (read first, so the page cache is warm for both); the median of the repetitions is reported.
// Cold start: bench/load_cold.mjs in a fresh plain `node` (strict SIMD build, as a user's first
// run picks it) imports dist/index.js, loads the default translator and translates up to the
// first token; the median of COLD_REPS runs (dist/ must be built: npm run build).
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeFileSync, writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { quantizeMatrix } from "../src/tensor/quant_blocks.js";
import { f32ToF16 } from "../src/tensor/half.js";
import { createRuntime } from "../src/runtime.js";
import { Rng } from "../src/util/rng.js";

const ROOT = process.env.SIMDFORMER_ROOT ?? process.cwd();
const WASM_DIR = process.env.SIMDFORMER_WASM_DIR;
if (!WASM_DIR) throw new Error("run through scripts/bench.mjs: npm run bench -- load");
const argValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const MODELS_DIR = join(ROOT, "bench", "models", "load");
const SEED = 20;
/** Bumped when the writers change, so stale files are rewritten. */
const WRITER_VERSION = 1;
const MiB = 2 ** 20;
/** Enough for the largest f32 model's packed weights (wasm32's limit is 4 GiB). */
const MAX_MEMORY = 4 * 1024 * MiB;
/** Fresh processes for the default translator's cold start. */
const COLD_REPS = 9;

// ---------------------------------------------------------------- models

interface Shape { name: string; dim: number; hidden: number; layers: number; heads: number; vocab: number; seqLen: number }

const SHAPES: Shape[] = [
  { name: "15M", dim: 288, hidden: 768, layers: 6, heads: 6, vocab: 32000, seqLen: 256 },
  { name: "110M", dim: 768, hidden: 2048, layers: 12, heads: 12, vocab: 32000, seqLen: 1024 },
  { name: "400M", dim: 1024, hidden: 2816, layers: 28, heads: 16, vocab: 32000, seqLen: 1024 },
];
const TYPES = ["f32", "f16", "q8_0"] as const;
type WeightType = (typeof TYPES)[number];
const FORMAT_OF: Record<WeightType, string> = { f32: "llama2.c", f16: "HF safetensors", q8_0: "GGUF" };

function params(s: Shape): number {
  return s.vocab * s.dim + s.layers * (4 * s.dim * s.dim + 3 * s.dim * s.hidden + 2 * s.dim) + s.dim;
}

/** One tensor of the model in run.c's terms: its llama2.c name, layer (or -1) and [rows, cols]. */
interface Tensor { kind: string; layer: number; shape: [number, number] }

/** Every tensor in llama2.c file order (per kind, stacked over layers). */
function tensors(s: Shape): Tensor[] {
  const out: Tensor[] = [{ kind: "embed", layer: -1, shape: [s.vocab, s.dim] }];
  const perLayer = (kind: string, shape: [number, number]) => {
    for (let l = 0; l < s.layers; l++) out.push({ kind, layer: l, shape });
  };
  perLayer("attn_norm", [1, s.dim]);
  for (const k of ["wq", "wk", "wv", "wo"]) perLayer(k, [s.dim, s.dim]);
  perLayer("ffn_norm", [1, s.dim]);
  perLayer("w1", [s.hidden, s.dim]);
  perLayer("w2", [s.dim, s.hidden]);
  perLayer("w3", [s.hidden, s.dim]);
  out.push({ kind: "final_norm", layer: -1, shape: [1, s.dim] });
  return out;
}

/** The tensor's values: a seeded stream per tensor, so every format holds the same weights. */
function values(t: Tensor, index: number): Float32Array {
  const n = t.shape[0] * t.shape[1];
  const rng = new Rng(SEED * 7919 + index);
  if (t.kind.endsWith("norm")) return rng.f32(n, 0.9, 1.1);
  const a = 1 / Math.sqrt(t.shape[1]);
  return rng.f32(n, -a, a);
}

const HF_NAMES: Record<string, string> = {
  attn_norm: "input_layernorm", wq: "self_attn.q_proj", wk: "self_attn.k_proj", wv: "self_attn.v_proj", wo: "self_attn.o_proj",
  ffn_norm: "post_attention_layernorm", w1: "mlp.gate_proj", w2: "mlp.down_proj", w3: "mlp.up_proj",
};
const GGUF_NAMES: Record<string, string> = {
  attn_norm: "attn_norm", wq: "attn_q", wk: "attn_k", wv: "attn_v", wo: "attn_output", ffn_norm: "ffn_norm", w1: "ffn_gate", w2: "ffn_down", w3: "ffn_up",
};
const hfName = (t: Tensor) => (t.kind === "embed" ? "model.embed_tokens.weight" : t.kind === "final_norm" ? "model.norm.weight" : `model.layers.${t.layer}.${HF_NAMES[t.kind]}.weight`);
const ggufName = (t: Tensor) => (t.kind === "embed" ? "token_embd.weight" : t.kind === "final_norm" ? "output_norm.weight" : `blk.${t.layer}.${GGUF_NAMES[t.kind]}.weight`);

/** Appends to a file descriptor, counting bytes. */
class Out {
  at = 0;
  constructor(private readonly fd: number) {}
  write(b: Uint8Array): void {
    for (let o = 0; o < b.byteLength; ) o += writeSync(this.fd, b, o, b.byteLength - o);
    this.at += b.byteLength;
  }
}

/** Writes a file through `fill` to a temporary name, renamed when complete. */
function writeFile(path: string, fill: (out: Out) => void): void {
  const tmp = `${path}.partial`;
  const fd = openSync(tmp, "w");
  try {
    fill(new Out(fd));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

const f32Bytes = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
function f16Bytes(v: Float32Array): Uint8Array {
  const h = new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) h[i] = f32ToF16(v[i]);
  return new Uint8Array(h.buffer);
}

/** llama2.c version 0: 7 int32 (vocab positive: shared classifier), the tensors, the rotary tables run.c skips. */
function writeLlama2c(s: Shape, path: string): void {
  writeFile(path, (out) => {
    out.write(f32Bytes(new Float32Array(new Int32Array([s.dim, s.hidden, s.layers, s.heads, s.heads, s.vocab, s.seqLen]).buffer)));
    tensors(s).forEach((t, i) => out.write(f32Bytes(values(t, i))));
    out.write(new Uint8Array(s.seqLen * (s.dim / s.heads) * 4));
  });
}

/** Hugging Face Llama: config.json + model.safetensors (F16, names sorted as the safetensors library writes them). */
function writeHf(s: Shape, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({
    model_type: "llama", hidden_size: s.dim, intermediate_size: s.hidden, num_hidden_layers: s.layers, num_attention_heads: s.heads,
    num_key_value_heads: s.heads, vocab_size: s.vocab, max_position_embeddings: s.seqLen, rms_norm_eps: 1e-5, tie_word_embeddings: true,
    bos_token_id: 1, eos_token_id: 2,
  }));
  const list = tensors(s).map((t, i) => ({ t, i, name: hfName(t) })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const { t, name } of list) {
    const shape = t.shape[0] === 1 ? [t.shape[1]] : t.shape;
    const bytes = t.shape[0] * t.shape[1] * 2;
    header[name] = { dtype: "F16", shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  writeFile(join(dir, "model.safetensors"), (out) => {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(json.length), true);
    out.write(len);
    out.write(new TextEncoder().encode(json));
    for (const { t, i } of list) out.write(f16Bytes(values(t, i)));
  });
}

/** GGUF v3, llama metadata, 2-D weights Q8_0, norms F32, alignment 32. */
function writeGguf(s: Shape, path: string): void {
  const head: number[] = [];
  const u32 = (v: number) => head.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  const u64 = (v: number) => {
    u32(v % 2 ** 32);
    u32(Math.floor(v / 2 ** 32));
  };
  const str = (x: string) => {
    const b = new TextEncoder().encode(x);
    u64(b.length);
    head.push(...b);
  };
  const kv: Array<[string, number | string]> = [
    ["general.architecture", "llama"], ["llama.embedding_length", s.dim], ["llama.feed_forward_length", s.hidden],
    ["llama.block_count", s.layers], ["llama.attention.head_count", s.heads], ["llama.attention.head_count_kv", s.heads],
    ["llama.context_length", s.seqLen], ["llama.vocab_size", s.vocab],
  ];
  const list = tensors(s).map((t, i) => ({ t, i, q8: t.shape[0] > 1 }));
  head.push(0x47, 0x47, 0x55, 0x46);
  u32(3);
  u64(list.length);
  u64(kv.length);
  for (const [k, v] of kv) {
    str(k);
    if (typeof v === "string") {
      u32(8);
      str(v);
    } else {
      u32(4);
      u32(v);
    }
  }
  let off = 0;
  const align = (n: number) => Math.ceil(n / 32) * 32;
  for (const { t, q8 } of list) {
    str(ggufName(t));
    const [rows, cols] = t.shape;
    if (rows === 1) {
      u32(1);
      u64(cols);
    } else {
      u32(2);
      u64(cols);
      u64(rows);
    }
    u32(q8 ? 8 : 0);
    u64(off);
    off = align(off + (q8 ? (rows * cols / 32) * 34 : rows * cols * 4));
  }
  writeFile(path, (out) => {
    out.write(Uint8Array.from(head));
    out.write(new Uint8Array(align(out.at) - out.at));
    const start = out.at;
    for (const { t, i, q8 } of list) {
      const v = values(t, i);
      out.write(q8 ? quantizeMatrix("q8_0", v, t.shape[0], t.shape[1]).blocks : f32Bytes(v));
      out.write(new Uint8Array(align(out.at - start) - (out.at - start)));
    }
  });
}

/** The model's path (file or directory) and its weights file, written when missing or stale. */
function ensureModel(s: Shape, type: WeightType): { path: string; weights: string } {
  mkdirSync(MODELS_DIR, { recursive: true });
  const base = join(MODELS_DIR, `llama${s.name}_${type}_v${WRITER_VERSION}`);
  const made = { f32: { path: `${base}.bin`, weights: `${base}.bin` }, f16: { path: base, weights: join(base, "model.safetensors") }, q8_0: { path: `${base}.gguf`, weights: `${base}.gguf` } }[type];
  if (!existsSync(made.weights)) {
    const t0 = performance.now();
    if (type === "f32") writeLlama2c(s, made.path);
    else if (type === "f16") writeHf(s, made.path);
    else writeGguf(s, made.path);
    console.error(`wrote ${made.weights} (${(statSync(made.weights).size / MiB).toFixed(1)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return made;
}

// ---------------------------------------------------------------- one measurement (child process)

interface ChildResult {
  ms: number;
  /** Peak RSS minus the RSS before the timed phase, bytes. */
  peakOverBaseline: number;
  baselineRss: number;
  /** Load only: bytes of the weights region after the load, and of the wasm memory. */
  weightsBytes?: number;
  wasmBytes?: number;
  /** Load only: the decode step's logits were finite. */
  answered?: boolean;
}

const tokenizer = { encode: () => ({ ids: [], tokens: [], unknown: [] }), decode: () => "" };

async function child(mode: "read" | "load", path: string, weights: string): Promise<ChildResult> {
  const rt = await createRuntime({ build: "relaxed", threads: 1, wasm: { url: `${WASM_DIR}/` }, maxMemory: MAX_MEMORY });
  const baselineRss = process.memoryUsage().rss;
  const t0 = performance.now();
  if (mode === "read") {
    const bytes = await readFile(weights);
    const ms = performance.now() - t0;
    if (bytes.byteLength === 0) throw new Error("empty file");
    return { ms, peakOverBaseline: process.resourceUsage().maxRSS * 1024 - baselineRss, baselineRss };
  }
  const tm = await rt.loadModel(path, { tokenizer });
  const ms = performance.now() - t0;
  const peakOverBaseline = process.resourceUsage().maxRSS * 1024 - baselineRss;
  const weightsBytes = rt.engine.regions.weights.usedBytes;
  const wasmBytes = rt.engine.mem.byteLength;
  const state = await tm.model.startDecoding({ capacity: 4 });
  const logits = await tm.model.decodeStep(state, [[1]]);
  const answered = logits.every(Number.isFinite);
  state.dispose();
  tm.dispose();
  rt.dispose();
  return { ms, peakOverBaseline, baselineRss, weightsBytes, wasmBytes, answered };
}

function runChild(mode: "read" | "load", path: string, weights: string): ChildResult {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], "--child", mode, path, weights], {
    encoding: "utf8", env: process.env, maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`child ${mode} ${path} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as ChildResult;
}

interface ColdResult { imported: number; runtime: number; loaded: number; firstToken: number; cpuMs: number; text: string }

function runCold(): ColdResult {
  const dist = join(ROOT, "dist", "index.js");
  if (!existsSync(dist)) throw new Error(`${dist}: expected the built package (npm run build), found none`);
  const r = spawnSync(process.execPath, [join(ROOT, "bench", "load_cold.mjs"), dist], { encoding: "utf8", cwd: ROOT, maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`cold start failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as ColdResult;
}

// ---------------------------------------------------------------- report

interface Row { suite: string; case: string; impl: string; threads: number; metric: string; value: number; unit: string }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (b: number) => (b / MiB).toFixed(1);

async function main(): Promise<void> {
  const sizes = argValue("--sizes")?.split(",") ?? SHAPES.map((s) => s.name);
  const types = (argValue("--types")?.split(",") ?? [...TYPES]) as WeightType[];
  const reps = Number(argValue("--reps") ?? 3);
  const outDir = argValue("--out") ?? join(ROOT, "bench", "results");
  const loadStart = os.loadavg().map((x) => Number(x.toFixed(2)));
  const rows: Row[] = [];
  const table: string[] = [];
  for (const s of SHAPES.filter((x) => sizes.includes(x.name))) {
    for (const type of types) {
      const m = ensureModel(s, type);
      const fileBytes = statSync(m.weights).size;
      const reads: ChildResult[] = [];
      const loads: ChildResult[] = [];
      for (let r = 0; r < reps; r++) {
        reads.push(runChild("read", m.path, m.weights));
        loads.push(runChild("load", m.path, m.weights));
      }
      if (!loads.every((l) => l.answered)) throw new Error(`${s.name} ${type}: the loaded model gave non-finite logits`);
      const c = `llama${s.name} ${type}`;
      const readMs = median(reads.map((x) => x.ms));
      const loadMs = median(loads.map((x) => x.ms));
      const readPeak = median(reads.map((x) => x.peakOverBaseline));
      const loadPeak = median(loads.map((x) => x.peakOverBaseline));
      const weights = loads[0].weightsBytes!;
      const push = (impl: string, metric: string, value: number, unit: string) => rows.push({ suite: "load", case: c, impl, threads: 1, metric, value, unit });
      push("file", "file_size", fileBytes, "bytes");
      push("fs.readFile", "time", readMs, "ms");
      push("fs.readFile", "peak_rss_over_baseline", readPeak, "bytes");
      push("simdformer", "time", loadMs, "ms");
      push("simdformer", "peak_rss_over_baseline", loadPeak, "bytes");
      push("simdformer", "weights_region", weights, "bytes");
      push("simdformer", "wasm_memory", loads[0].wasmBytes!, "bytes");
      push("simdformer", "time_over_read", loadMs / readMs, "ratio");
      push("simdformer", "peak_over_weights", loadPeak / weights, "ratio");
      table.push(`| ${c} | ${FORMAT_OF[type]} | ${(params(s) / 1e6).toFixed(1)}M | ${mib(fileBytes)} | ${readMs.toFixed(0)} | ${loadMs.toFixed(0)} | ${(loadMs / readMs).toFixed(2)}x | ${mib(weights)} | ${mib(readPeak)} | ${mib(loadPeak)} | ${(loadPeak / weights).toFixed(2)}x |`);
      console.error(table[table.length - 1]);
    }
  }
  const colds = Array.from({ length: COLD_REPS }, runCold);
  const mid = (k: keyof Omit<ColdResult, "text">) => median(colds.map((x) => x[k]));
  const cold = { imported: mid("imported"), runtime: mid("runtime"), loaded: mid("loaded"), firstToken: mid("firstToken"), cpuMs: mid("cpuMs") };
  const coldRows = [["import", cold.imported], ["import_runtime", cold.runtime], ["import_load", cold.loaded], ["cold_start", cold.firstToken], ["cold_start_cpu", cold.cpuMs]] as const;
  for (const [metric, value] of coldRows) {
    rows.push({ suite: "load", case: "default translator", impl: "simdformer", threads: 1, metric, value, unit: "ms" });
  }
  const loadEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  const machine = {
    cpu: os.cpus()[0]?.model.trim(), cores: os.cpus().length, memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version,
    date: new Date().toISOString(), loadAverage: { start: loadStart, end: loadEnd }, reps,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "load.json"), JSON.stringify({ suite: "load", machine, rows }, null, 1) + "\n");
  const md = [
    "# Model load: time and peak memory",
    "",
    `\`npm run bench -- load\`, ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, one thread, relaxed build; ${machine.date}.`,
    `Load average (1/5/15 min) at the start ${loadStart.join(" / ")}, at the end ${loadEnd.join(" / ")} (the machine is shared).`,
    "",
    "Llama-style decoders with random weights (fixed seed) written by the suite: f32 as a llama2.c checkpoint, f16 as a",
    "Hugging Face directory (config.json + model.safetensors, alphabetical tensor order), q8_0 as GGUF (2-D weights Q8_0).",
    `Each figure is the median of ${reps} fresh child processes. "read" is \`fs.readFile\` of the weights file into one`,
    "buffer; \"load\" is `rt.loadModel(path)` until the model is returned. Peak RSS over baseline: the child's max RSS",
    "minus its RSS after createRuntime. Weights: the bytes of the weights region after the load (packed GEMM panels,",
    "repacked quants, tables and norms; f32 / f16: the tied output head is packed from the embedding, so it counts twice;",
    "q8_0: the token table and the tied head share one repacked copy).",
    "",
    "| model | format | params | file MiB | read ms | load ms | load / read | weights MiB | read peak MiB | load peak MiB | load peak / weights |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...table,
    "",
    `Default translator cold start (plain \`node\`, strict SIMD build, one thread, median of ${COLD_REPS} fresh processes,`,
    `each figure from just before the import): import ${cold.imported.toFixed(1)} ms, + createRuntime ${cold.runtime.toFixed(1)} ms,`,
    `+ \`loadModel()\` ${cold.loaded.toFixed(1)} ms, + first token ${cold.firstToken.toFixed(1)} ms (first token "${colds[0].text}"); the process's CPU`,
    `time over that span (every thread, wasm compilation included) ${cold.cpuMs.toFixed(1)} ms.`,
    "",
  ];
  writeFileSync(join(outDir, "load.md"), md.join("\n"));
  console.error(`wrote ${join(outDir, "load.md")} and load.json`);
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) {
  const [mode, path, weights] = process.argv.slice(childAt + 1);
  child(mode as "read" | "load", path, weights).then((r) => process.stdout.write(JSON.stringify(r) + "\n"), (e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  await main();
}

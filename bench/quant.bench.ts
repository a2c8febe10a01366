// Quantized decode benchmark: the q8_0 / q4_0 and k-quant (Q4_K, Q5_K, Q6_K, blocks as GGUF
// stores them) GEMV kernels against f32_gemv on the decode shapes (GB/s of weights read), and
// decode tokens/s of a weight-bound decoder-only model (Llama-style, d_model 1024, 8 layers,
// ~100 M parameters, random weights built in memory) with its linear weights in each type, plus
// the accuracy cost (logit error on a fixed prompt, greedy tokens that agree with f32). One
// thread, builds strict and relaxed; then 1 and 2 threads on relaxed-shared.
// Run with `npm run bench -- quant [--tokens N] [--kernels-only]`; writes bench/results/quant.md
// and quant.json (a kernels-only run writes quant_kernels.md / .json instead).
import { writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { quantizeMatrix, type QuantizedMatrix, type QuantType } from "../src/tensor/quant_blocks.js";
import { Model } from "../src/model/model.js";
import { parseConfig } from "../src/config/config.js";
import { linearWeightNames } from "../src/model/weights.js";
import type { BuildName } from "../src/engine/builds.js";
import { createRuntime, type Runtime } from "../src/runtime.js";
import { Rng } from "../src/util/rng.js";
import { CONFIG, makeTensors, source } from "./weight_bound_model.js";

const ROOT = process.env.SIMDFORMER_ROOT ?? process.cwd();
const WASM_DIR = process.env.SIMDFORMER_WASM_DIR;
if (!WASM_DIR) throw new Error("run through scripts/bench.mjs: npm run bench -- quant");
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const TOKENS = Number(arg("--tokens") ?? 24);
const BUILDS: BuildName[] = ["simd", "relaxed"];
const KERNELS_ONLY = process.argv.includes("--kernels-only");
const QUANT_TYPES = ["q8_0", "q4_0", "q4_k", "q5_k", "q6_k"] as const;
const TYPES = ["f32", ...QUANT_TYPES] as const;
/** The types timed again on 1 and 2 threads. */
const THREAD_TYPES = ["f32", "q8_0", "q4_k"] as const;
type WeightType = (typeof TYPES)[number];

const runtime = (build: BuildName, threads = 1): Promise<Runtime> =>
  createRuntime({ build, threads, wasm: { url: `${WASM_DIR}/` }, maxMemory: 2 ** 31 });

/** Best CPU time (ms) per call of fn over rounds of doubling repetitions (CPU time: the box is shared). */
function cpuMs(fn: () => void): number {
  for (let i = 0; i < 3; i++) fn();
  let reps = 1;
  let best = Infinity;
  for (let r = 0; r < 9; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) fn();
    const c = process.cpuUsage(c0);
    const ms = (c.user + c.system) / 1000;
    best = Math.min(best, ms / reps);
    if (ms < 20 && reps < 4096) reps *= 2;
  }
  return best;
}

// ---------------------------------------------------------------- kernels

interface KernelRow { build: BuildName; shape: string; type: WeightType; us: number; gbs: number }

async function kernels(): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  for (const build of BUILDS) {
    const rt = await runtime(build);
    const e = rt.engine;
    const k = rt.kernels;
    for (const [K, N] of [[768, 768], [768, 3072], [4096, 4096]]) {
      const rng = new Rng(1);
      const w = rng.f32(N * K);
      const px = e.scratch.alloc(K * 4);
      e.mem.f32.set(rng.f32(K), px >> 2);
      const py = e.scratch.alloc(N * 4);
      const raw = e.regions.weights.alloc(N * K * 4);
      e.mem.f32.set(w, raw >> 2);
      const packed = e.regions.weights.alloc(k.f32_gemm_packed_size(K, N) * 4);
      k.f32_gemm_pack_bt(K, N, raw, K, packed);
      e.regions.weights.release(raw);
      const shape = `1x${K}x${N}`;
      const f32us = cpuMs(() => k.f32_gemv(N, K, px, packed, py, 0, 0)) * 1000;
      rows.push({ build, shape, type: "f32", us: f32us, gbs: (N * K * 4) / f32us / 1000 });
      e.regions.weights.release(packed);
      for (const type of ["q8_0", "q4_0"] as const) {
        const q = quantizeMatrix(type, w, N, K);
        const pb = e.regions.weights.alloc(q.blocks.byteLength);
        e.mem.u8.set(q.blocks, pb);
        const qBytes = type === "q8_0" ? k.q8_0_quant_bytes(N, K) : k.q4_0_quant_bytes(N, K);
        const pq = e.regions.weights.alloc(qBytes);
        const ps = e.regions.weights.alloc(k.q_scale_bytes(N, K));
        (type === "q8_0" ? k.q8_0_repack : k.q4_0_repack)(N, K, pb, pq, ps);
        e.regions.weights.release(pb);
        const xq = e.scratch.alloc(k.q8_xq_bytes(K));
        const gemv = type === "q8_0" ? k.q8_0_gemv : k.q4_0_gemv;
        // The activation quantization is part of every call, as in the Linear op.
        const us = cpuMs(() => {
          k.q8_quantize_rows(1, K, px, K, xq);
          gemv(N, K, xq, pq, ps, py, 0, 0);
        }) * 1000;
        rows.push({ build, shape, type, us, gbs: (qBytes + k.q_scale_bytes(N, K)) / us / 1000 });
        e.regions.weights.release(pq);
        e.regions.weights.release(ps);
      }
      for (const type of ["q4_k", "q5_k", "q6_k"] as const) {
        // K-quants run on the stored super-blocks: the bytes read are the file's.
        const q = quantizeMatrix(type, w, N, K);
        const pb = e.regions.weights.alloc(q.blocks.byteLength);
        e.mem.u8.set(q.blocks, pb);
        const xq = e.scratch.alloc(k.q8_xq_bytes(K));
        const gemv = k[`${type}_gemv`];
        const us = cpuMs(() => {
          k.q8k_quantize_rows(1, K, px, K, xq);
          gemv(N, K, xq, pb, py, 0, 0);
        }) * 1000;
        rows.push({ build, shape, type, us, gbs: q.blocks.byteLength / us / 1000 });
        e.regions.weights.release(pb);
      }
      e.scratch.reset();
    }
    rt.dispose();
  }
  return rows;
}

// ---------------------------------------------------------------- decoder model

interface ModelRow { build: BuildName; type: WeightType; weightMiB: number; msPerToken: number; cpuMsPerToken: number; tokensPerSecond: number; logitErr: number; sameTokens: number }

const PROMPT = [1, 17, 42, 99, 256, 511, 700, 3];

/** Decodes TOKENS greedy tokens after PROMPT; returns timings, the first logits and the tokens. */
async function decode(model: Model): Promise<{ wallMs: number; cpuMs: number; logits: Float32Array; tokens: number[] }> {
  const state = await model.startDecoding({ batch: 1, capacity: PROMPT.length + TOKENS + 2 });
  const logits = (await model.decodeStep(state, [PROMPT])).slice();
  const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);
  let next = argmax(logits);
  const tokens = [next];
  // One untimed step (first-call compilation of anything not yet hot).
  next = argmax(await model.decodeStep(state, [[next]]));
  tokens.push(next);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < TOKENS; i++) {
    next = argmax(await model.decodeStep(state, [[next]]));
    tokens.push(next);
  }
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  state.dispose();
  return { wallMs, cpuMs: (c.user + c.system) / 1000, logits, tokens };
}

async function models(): Promise<ModelRow[]> {
  const tensors = makeTensors();
  const config = parseConfig(CONFIG, "bench config");
  const linear = linearWeightNames(config, source(tensors));
  const quant = new Map<QuantType, Map<string, QuantizedMatrix>>();
  for (const type of QUANT_TYPES) {
    const m = new Map<string, QuantizedMatrix>();
    for (const n of linear) {
      const t = tensors.get(n)!;
      m.set(n, quantizeMatrix(type, t.data, t.shape[0], t.shape[1]));
    }
    quant.set(type, m);
  }
  const rows: ModelRow[] = [];
  for (const build of BUILDS) {
    let ref: Awaited<ReturnType<typeof decode>> | undefined;
    for (const type of TYPES) {
      const rt = await runtime(build);
      const before = rt.engine.regions.weights.usedBytes;
      const model = Model.fromTensors(rt, config, source(tensors, type === "f32" ? undefined : quant.get(type)));
      const weightMiB = (rt.engine.regions.weights.usedBytes - before) / 2 ** 20;
      const r = await decode(model);
      ref ??= r;
      let err = 0;
      let scale = 0;
      for (let i = 0; i < r.logits.length; i++) {
        err = Math.max(err, Math.abs(r.logits[i] - ref.logits[i]));
        scale = Math.max(scale, Math.abs(ref.logits[i]));
      }
      let same = 0;
      while (same < r.tokens.length && r.tokens[same] === ref.tokens[same]) same++;
      rows.push({
        build, type, weightMiB, msPerToken: r.wallMs / TOKENS, cpuMsPerToken: r.cpuMs / TOKENS,
        tokensPerSecond: (1000 * TOKENS) / r.cpuMs, logitErr: err / scale, sameTokens: same,
      });
      console.log(`${build} ${type}: ${weightMiB.toFixed(0)} MiB of weights, ${(r.cpuMs / TOKENS).toFixed(2)} ms/token CPU (${(r.wallMs / TOKENS).toFixed(2)} wall), logit error ${(err / scale).toExponential(2)}, ${same}/${r.tokens.length} greedy tokens as f32`);
      model.dispose();
      rt.dispose();
    }
  }
  // Threads split every linear by output rows: wall time on the shared-memory relaxed build.
  for (const type of THREAD_TYPES) {
    for (const threads of [1, 2]) {
      const rt = await runtime("relaxed-shared", threads);
      const model = Model.fromTensors(rt, config, source(tensors, type === "f32" ? undefined : quant.get(type)));
      const r = await decode(model);
      threadRows.push({ type, threads: rt.features.threads, wallMsPerToken: r.wallMs / TOKENS });
      console.log(`relaxed-shared ${type} ${rt.features.threads} thread(s): ${(r.wallMs / TOKENS).toFixed(2)} ms/token wall`);
      model.dispose();
      rt.dispose();
    }
  }
  return rows;
}

const threadRows: Array<{ type: WeightType; threads: number; wallMsPerToken: number }> = [];

// ---------------------------------------------------------------- report

const uptime = () => os.loadavg().map((x) => x.toFixed(2)).join(", ");
const loadBefore = uptime();
const kernelRows = await kernels();
for (const r of kernelRows) console.log(`${r.build} ${r.shape} ${r.type}: ${r.us.toFixed(0)} us, ${r.gbs.toFixed(1)} GB/s`);
const modelRows = KERNELS_ONLY ? [] : await models();
const loadAfter = uptime();

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
const lines: string[] = [
  `# Quantized decode (${QUANT_TYPES.join(", ")}) against f32`,
  "",
  `Measured by \`npm run bench -- quant${KERNELS_ONLY ? " --kernels-only" : ""}\` on ${cpu}, Node ${process.versions.node}, one thread, ${new Date().toISOString().slice(0, 10)};`,
  `load average (1, 5, 15 min) ${loadBefore} before, ${loadAfter} after.`,
  "Times are CPU time (the machine is shared; wall time moves with other load). GB/s counts the bytes of",
  "weights one call reads (packed f32; q8_0 / q4_0 quants + f32 scales; k-quants their stored super-blocks);",
  "the quantized calls include quantizing x.",
  "",
  "## GEMV kernels (1 x K x N): time (GB/s), and speed-up over f32",
  "",
  `| build | shape | ${TYPES.join(" | ")} | ${QUANT_TYPES.map((t) => `${t} vs f32`).join(" | ")} | q4_k vs q8_0 |`,
  `|---|---|${TYPES.map(() => "---|").join("")}${QUANT_TYPES.map(() => "---|").join("")}---|`,
];
for (const build of BUILDS) {
  for (const shape of [...new Set(kernelRows.map((r) => r.shape))]) {
    const get = (t: WeightType) => kernelRows.find((r) => r.build === build && r.shape === shape && r.type === t)!;
    const cell = (r: KernelRow) => `${r.us.toFixed(0)} us (${r.gbs.toFixed(1)})`;
    const f = get("f32");
    lines.push(`| ${build} | ${shape} | ${TYPES.map((t) => cell(get(t))).join(" | ")} | ${QUANT_TYPES.map((t) => `${(f.us / get(t).us).toFixed(2)}x`).join(" | ")} | ${(get("q8_0").us / get("q4_k").us).toFixed(2)}x |`);
  }
}
if (!KERNELS_ONLY) {
  lines.push(
    "",
    `## Decode tokens/s: Llama-style decoder, d_model ${CONFIG.d_model}, ${CONFIG.decoder_layers} layers, d_ff ${CONFIG.d_ff} (SwiGLU), vocab ${CONFIG.vocab_size}, random weights`,
    "",
    `${PROMPT.length}-token prompt, then ${TOKENS} greedy tokens timed one at a time (KV cache). Logit error: max |logit - f32 logit| /`,
    "max |f32 logit| after the prompt; tokens: length of the greedy continuation equal to the f32 model's.",
    "",
    "| build | weights | MiB in wasm | ms/token (CPU) | tokens/s | vs f32 | logit error | greedy tokens as f32 |",
    "|---|---|---|---|---|---|---|---|",
  );
  for (const r of modelRows) {
    const f = modelRows.find((x) => x.build === r.build && x.type === "f32")!;
    lines.push(`| ${r.build} | ${r.type} | ${r.weightMiB.toFixed(0)} | ${r.cpuMsPerToken.toFixed(2)} | ${r.tokensPerSecond.toFixed(1)} | ${(r.tokensPerSecond / f.tokensPerSecond).toFixed(2)}x | ${r.type === "f32" ? "-" : r.logitErr.toExponential(2)} | ${r.sameTokens}/${TOKENS + 2} |`);
  }
  lines.push(
    "",
    "### 1 and 2 threads (relaxed-shared build, wall time: noisy on a shared machine)",
    "",
    "| weights | threads | ms/token (wall) | tokens/s | vs f32 at the same threads |",
    "|---|---|---|---|---|",
  );
  for (const r of threadRows) {
    const f = threadRows.find((x) => x.type === "f32" && x.threads === r.threads)!;
    lines.push(`| ${r.type} | ${r.threads} | ${r.wallMsPerToken.toFixed(2)} | ${(1000 / r.wallMsPerToken).toFixed(1)} | ${(f.wallMsPerToken / r.wallMsPerToken).toFixed(2)}x |`);
  }
}
lines.push("");
const rows = [
  ...kernelRows.flatMap((r) => [
    { suite: "quant", case: `gemv ${r.shape}`, impl: `${r.type} ${r.build}`, threads: 1, metric: "time", value: r.us, unit: "us" },
    { suite: "quant", case: `gemv ${r.shape}`, impl: `${r.type} ${r.build}`, threads: 1, metric: "weight bandwidth", value: r.gbs, unit: "GB/s" },
  ]),
  ...modelRows.flatMap((r) => [
    { suite: "quant", case: "decode llama d1024 L8", impl: `${r.type} ${r.build}`, threads: 1, metric: "decode", value: r.tokensPerSecond, unit: "tokens/s (CPU)" },
    { suite: "quant", case: "decode llama d1024 L8", impl: `${r.type} ${r.build}`, threads: 1, metric: "weights", value: r.weightMiB, unit: "MiB" },
    { suite: "quant", case: "decode llama d1024 L8", impl: `${r.type} ${r.build}`, threads: 1, metric: "logit error", value: r.logitErr, unit: "of max |f32 logit|" },
  ]),
  ...threadRows.map((r) => ({ suite: "quant", case: "decode llama d1024 L8", impl: `${r.type} relaxed-shared`, threads: r.threads, metric: "decode", value: 1000 / r.wallMsPerToken, unit: "tokens/s (wall)" })),
];
const base = KERNELS_ONLY ? "quant_kernels" : "quant";
writeFileSync(join(ROOT, "bench", "results", `${base}.md`), lines.join("\n"));
writeFileSync(join(ROOT, "bench", "results", `${base}.json`), JSON.stringify({ load: { before: loadBefore, after: loadAfter }, rows }, null, 1) + "\n");
console.log(lines.join("\n"));

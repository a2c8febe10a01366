// Decode plan benchmark: what a step of a plan costs on 1 and 2 threads, side by side in one process.
// `npm run bench -- plan [--reps <n>] [--only <case,...>]`; the worker script comes from dist/ (`node scripts/build.mjs` first).
//   barrier   a synthetic plan of PHASES phases of two ~1 us units each, on 1 and 2 threads: a 2-thread phase
//             takes one unit plus the meeting of the threads, so (2-thread phase) - (one unit) is the barrier;
//   js        per decode token (1 thread): a decodeStep (into a reused `out` buffer, as generateTokens
//             calls it) against run_plan alone on the same plan;
//   decode    tokens/s of greedy-fed decode steps at planThreads 1 and 2 (both runtimes 2 threads,
//             interleaved repetitions, the best of each), for the default translator, the tiny test fixtures,
//             bench/models' gpt2-1m / llama-1m / llama-10m / llama-50m (f32) when tools/e2e_models.py made them, and the
//             quant bench's ~100 M-parameter decoder with q8_0 linear weights (built in memory).
// Writes bench/results/plan.{json,md}; the JSON has the flat `rows` of every suite.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseSafetensors } from "../src/formats/safetensors.js";
import { loadSafetensors } from "../src/load/safetensors_load.js";
import { type DecodeState, Model } from "../src/model/model.js";
import { createRuntime, type Runtime } from "../src/runtime.js";
import { parseConfig } from "../src/config/config.js";
import { linearWeightNames } from "../src/model/weights.js";
import { quantizeMatrix, type QuantizedMatrix } from "../src/tensor/quant_blocks.js";
import { CONFIG as WEIGHT_BOUND, makeTensors, source } from "./weight_bound_model.js";

const repsArg = process.argv.indexOf("--reps");
const REPS = repsArg >= 0 ? Number(process.argv[repsArg + 1]) : 7;
const onlyArg = process.argv.indexOf("--only");
/** `--only a,b`: just these decode cases (and no barrier suite); results are then not written. */
const ONLY = onlyArg >= 0 ? new Set(process.argv[onlyArg + 1].split(",")) : null;
const ROOT = process.env.SIMDFORMER_ROOT ?? process.cwd();
const wasmDir = process.env.SIMDFORMER_WASM_DIR;
if (!wasmDir) throw new Error("run through scripts/bench.mjs: npm run bench -- plan");
/** Phases of the barrier plan. */
const PHASES = 256;
/** Decode steps per timed repetition (kept below the fixtures' 32 positions). */
const STEPS = 24;

interface Row { suite: "plan"; case: string; impl: string; threads: number; metric: string; value: number; unit: string }
const rows: Row[] = [];
const lines: string[] = [];
const report = (line: string) => {
  console.log(line);
  lines.push(line);
};
const row = (c: string, threads: number, metric: string, value: number, unit: string) =>
  rows.push({ suite: "plan", case: c, impl: "simdformer", threads, metric, value: Number(value.toPrecision(4)), unit });

const runtime = (planThreads: number): Promise<Runtime> =>
  createRuntime({ build: "relaxed-shared", threads: 2, planThreads, wasm: { url: `${wasmDir}/` }, maxMemory: 2 ** 31 });

/** Floats each unit of the barrier plan adds (~1 us of work: long enough that both threads take one unit a phase). */
const UNIT_FLOATS = 4096;

/**
 * The words of a plan of `phases` phases, each one f32_add op (kernel id 0) of two tasks that
 * add UNIT_FLOATS floats from `src` into their own half of `dst` (flag: barrier).
 */
function barrierPlan(phases: number, step: number, ctl: number, src: number, dst: number): Int32Array {
  const words = [phases, step, ctl, 0];
  for (let p = 0; p < phases; p++) {
    words.push(0, 2, 4, 0, 1);
    for (let t = 0; t < 2; t++) words.push(UNIT_FLOATS, dst + t * UNIT_FLOATS * 4, src, dst + t * UNIT_FLOATS * 4);
  }
  return Int32Array.from(words);
}

async function barrier(): Promise<void> {
  const rt = await runtime(2);
  const e = rt.engine;
  const x = e.exports as unknown as { plan_control_bytes(t: number): number; plan_reset(p: number, t: number): void };
  const scratch = e.regions.scratch;
  const src = scratch.alloc(UNIT_FLOATS * 4);
  const dst = scratch.alloc(2 * UNIT_FLOATS * 4);
  e.mem.f32.fill(1, src >>> 2, (src >>> 2) + UNIT_FLOATS);
  e.mem.f32.fill(0, dst >>> 2, (dst >>> 2) + 2 * UNIT_FLOATS);
  const step = scratch.alloc(16);
  const ctl = scratch.alloc(x.plan_control_bytes(2));
  const words = barrierPlan(PHASES, step, ctl, src, dst);
  const ptr = scratch.alloc(words.byteLength);
  e.mem.i32.set(words, ptr >>> 2);
  x.plan_reset(ptr, 2);
  const per: Record<number, number> = { 1: Infinity, 2: Infinity };
  let runs = 0;
  for (let r = 0; r < REPS * 20; r++) {
    for (const t of [1, 2]) {
      const t0 = performance.now();
      await e.runPlan(ptr, t);
      per[t] = Math.min(per[t], performance.now() - t0);
      runs++;
    }
  }
  // Every run added 1 to every float of dst once per phase.
  const want = runs * PHASES;
  if (e.mem.f32[dst >>> 2] !== want || e.mem.f32[(dst >>> 2) + 2 * UNIT_FLOATS - 1] !== want) throw new Error("barrier plan: wrong sums");
  // One thread runs both units of a phase; two threads one each plus their meeting.
  const unitUs = (per[1] * 1000) / PHASES / 2;
  const us = (per[2] * 1000) / PHASES - unitUs;
  report(`barrier: ${PHASES} phases of 2 units (f32_add of ${UNIT_FLOATS} floats, ${unitUs.toFixed(2)} us each on 1 thread): ` +
    `1 thread ${(per[1] * 1000).toFixed(1)} us, 2 threads ${(per[2] * 1000).toFixed(1)} us a step (best of ${REPS * 20}) -> ${us.toFixed(2)} us per barrier at 2 threads`);
  row("barrier", 2, "barrier", us, "us");
  row("barrier", 1, "unit", unitUs, "us");
  rt.dispose();
}

interface Case { name: string; load(rt: Runtime): Promise<Model> }

function fileCase(name: string, path: string): Case {
  const bytes = readFileSync(path);
  return { name, load: (rt) => loadSafetensors(rt, parseSafetensors(bytes, `${name}.safetensors`)) };
}

/** The quant bench's weight-bound decoder, its linear weights as q8_0 (made when first loaded). */
function q8Case(): Case {
  const config = parseConfig(WEIGHT_BOUND, "bench config");
  let made: Parameters<typeof source> | undefined;
  const make = (): Parameters<typeof source> => {
    const tensors = makeTensors();
    const quantized = new Map<string, QuantizedMatrix>();
    for (const n of linearWeightNames(config, source(tensors))) {
      const t = tensors.get(n)!;
      quantized.set(n, quantizeMatrix("q8_0", t.data, t.shape[0], t.shape[1]));
    }
    return [tensors, quantized];
  };
  return { name: "llama-100m-q8_0", load: async (rt) => Model.fromTensors(rt, config, source(...(made ??= make()))) };
}

function cases(): Case[] {
  const out: Case[] = [fileCase("translator", join(ROOT, "models", "default", "translator.safetensors"))];
  for (const f of ["gpt2", "llama"]) out.push(fileCase(`fixture-${f}`, join(ROOT, "tests", "fixtures", "torch", `${f}.safetensors`)));
  for (const m of ["gpt2-1m", "llama-1m", "llama-10m", "llama-50m"]) {
    const p = join(ROOT, "bench", "models", `${m}.safetensors`);
    if (existsSync(p)) out.push(fileCase(m, p));
  }
  out.push(q8Case());
  return out;
}

/**
 * A decode state primed with a 3-token prompt (and a 5-token source for an encoder-decoder) and
 * one more token, whose step compiles the plan; returns the state and that step's microseconds.
 */
async function primed(model: Model): Promise<{ st: DecodeState; firstUs: number }> {
  const ed = model.config.arch === "encoder-decoder";
  const st = await model.startDecoding(ed ? { src: [[4, 5, 6, 7, 8]] } : {});
  await model.decodeStep(st, [[1, 2, 3]]);
  const t0 = performance.now();
  await model.decodeStep(st, [[4]]);
  return { st, firstUs: (performance.now() - t0) * 1000 };
}

/** Microseconds per step of STEPS decode steps on a fresh primed state (plan compiled), and of its compiling step. */
async function decodeUs(model: Model): Promise<{ us: number; firstUs: number }> {
  const { st, firstUs } = await primed(model);
  const step = { out: new Float32Array(model.hasLogits ? model.vocabSize : model.config.d_model) };
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) await model.decodeStep(st, [[4 + (i % 5)]], step);
  const us = ((performance.now() - t0) * 1000) / STEPS;
  st.dispose();
  return { us, firstUs };
}

async function decode(c: Case, rts: Record<number, Runtime>): Promise<void> {
  const models: Record<number, Model> = {};
  for (const t of [1, 2]) models[t] = await c.load(rts[t]);
  const best: Record<number, number> = { 1: Infinity, 2: Infinity };
  const first: Record<number, number> = { 1: Infinity, 2: Infinity };
  for (let r = 0; r < REPS + 1; r++) {
    for (const t of [1, 2]) {
      const m = await decodeUs(models[t]);
      if (r > 0) best[t] = Math.min(best[t], m.us);
      if (r > 0) first[t] = Math.min(first[t], m.firstUs);
    }
  }
  // JS per token (1 thread): decodeStep at one position (the cache rewound before each step)
  // against the same plan's run_plan alone, which then reads the same step header.
  const { st } = await primed(models[1]);
  const plan = (st.plan?.step as unknown as { ptr: number } | null)?.ptr;
  if (plan === undefined) throw new Error(`${c.name}: no plan (${st.plan?.refused})`);
  const run = rts[1].engine.exports.run_plan as (p: number, t: number, n: number, b: number) => number;
  const at = st.lengths[0];
  const out = { out: new Float32Array(models[1].hasLogits ? models[1].vocabSize : models[1].config.d_model) };
  let stepUs = Infinity;
  let planUs = Infinity;
  for (let r = 0; r < REPS * 4; r++) {
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) {
      st.cache.truncate(0, at);
      await models[1].decodeStep(st, [[4]], out);
    }
    stepUs = Math.min(stepUs, ((performance.now() - t0) * 1000) / STEPS);
    const t1 = performance.now();
    for (let i = 0; i < STEPS; i++) run(plan, 0, 1, 0);
    planUs = Math.min(planUs, ((performance.now() - t1) * 1000) / STEPS);
  }
  st.dispose();
  const js = stepUs - planUs;
  const speedup = best[1] / best[2];
  report(`${c.name}: decode 1 thread ${(1e6 / best[1]).toFixed(0)} tok/s (${best[1].toFixed(1)} us), 2 threads ${(1e6 / best[2]).toFixed(0)} tok/s (${best[2].toFixed(1)} us): ${speedup.toFixed(2)}x; run_plan alone ${planUs.toFixed(1)} us -> JS ${js.toFixed(1)} us per token; the step that compiles the plan ${(first[1] / 1000).toFixed(2)} ms (1 thread), ${(first[2] / 1000).toFixed(2)} ms (2)`);
  row(c.name, 1, "decode", 1e6 / best[1], "tok/s");
  row(c.name, 2, "decode", 1e6 / best[2], "tok/s");
  row(c.name, 2, "speedup", speedup, "x");
  row(c.name, 1, "run_plan", planUs, "us");
  row(c.name, 1, "js_per_token", js, "us");
  for (const t of [1, 2]) row(c.name, t, "compile_step", first[t] / 1000, "ms");
  for (const t of [1, 2]) models[t].dispose();
}

const load0 = loadavg();
report(`load average at start: ${load0.map((l) => l.toFixed(2)).join(", ")} (1, 5, 15 min; the machine has 2 cores and is shared)`);
if (!ONLY) await barrier();
const rts: Record<number, Runtime> = { 1: await runtime(1), 2: await runtime(2) };
for (const c of cases()) if (!ONLY || ONLY.has(c.name)) await decode(c, rts);
for (const t of [1, 2]) rts[t].dispose();
const load1 = loadavg();
report(`load average at end: ${load1.map((l) => l.toFixed(2)).join(", ")}`);

if (ONLY) process.exit(0);
const results = join(ROOT, "bench", "results");
writeFileSync(join(results, "plan.json"), JSON.stringify({ suite: "plan", loadavg: { start: load0, end: load1 }, reps: REPS, steps: STEPS, rows }, null, 2) + "\n");
writeFileSync(join(results, "plan.md"), ["# Decode plans, 1 vs 2 threads (`npm run bench -- plan`)", "", "```", ...lines, "```", ""].join("\n"));

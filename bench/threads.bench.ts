// Thread pool benchmark: the dispatch cost of Engine.runTasks (a job of empty tasks on 2
// threads against one task run inline) and f32_gemm on prefill shapes split by M rows over
// 1, 2 (and 3 where there are cores) threads, each in its own runtime, side by side.
// Run with `npm run bench -- threads [--reps <n>]`; the worker script comes from dist/
// (`node scripts/build.mjs` first), the wasm from the fresh build scripts/bench.mjs makes.
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import type { KernelArgs } from "../src/engine/kernel_abi.js";
import { MIN_PARALLEL_WORK } from "../src/engine/pool.js";
import { createRuntime, type Runtime } from "../src/runtime.js";
import { Rng } from "../src/util/rng.js";

const repsArg = process.argv.indexOf("--reps");
const REPS = repsArg >= 0 ? Number(process.argv[repsArg + 1]) : 9;
const wasmDir = process.env.SIMDFORMER_WASM_DIR;
if (!wasmDir) throw new Error("run through scripts/bench.mjs: npm run bench -- threads");

/** Every reported line, also written to bench/results/threads.md at the end. */
const lines: string[] = [];
const report = (line: string) => {
  console.log(line);
  lines.push(line);
};

const runtime = (threads: number): Promise<Runtime> => createRuntime({ threads, wasm: { url: `${wasmDir}/` } });

/** Best wall time in ms of `reps` awaited calls, after one warm-up call. */
async function best(fn: () => Promise<void>, reps = REPS): Promise<number> {
  await fn();
  let ms = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}

async function dispatch(): Promise<void> {
  const rt = await runtime(2);
  const e = rt.engine;
  const jobs = 2000;
  const two = await best(async () => {
    for (let i = 0; i < jobs; i++) await e.runTasks("build_info", [[], []]);
  }, 5);
  const one = await best(async () => {
    for (let i = 0; i < jobs; i++) await e.runTasks("build_info", [[]]);
  }, 5);
  const us = (ms: number) => ((ms * 1000) / jobs).toFixed(1);
  report(`dispatch (${rt.features.build}): 2 empty tasks on 2 threads ${us(two)} us/job, 1 task inline ${us(one)} us/job;` +
    ` MIN_PARALLEL_WORK ${MIN_PARALLEL_WORK.toExponential(1)} flops`);
  rt.dispose();
}

async function gemm(m: number, n: number, k: number, threadCounts: number[]): Promise<void> {
  const rng = new Rng(3);
  const a = rng.f32(m * k);
  const b = rng.f32(k * n);
  const setups: Array<{ rt: Runtime; run: () => Promise<void>; ms: number; wall: number; cpu: number }> = [];
  for (const threads of threadCounts) {
    const rt = await runtime(threads);
    const e = rt.engine;
    const kern = rt.kernels;
    const [pa, pb, pc] = [m * k, k * n, m * n].map((len) => e.regions.scratch.alloc(len * 4));
    const packed = e.regions.weights.alloc(kern.f32_gemm_packed_size(k, n) * 4);
    e.mem.f32.set(a, pa >> 2);
    e.mem.f32.set(b, pb >> 2);
    kern.f32_gemm_pack_b(k, n, pb, n, packed);
    // Row blocks on multiples of 8, one per thread (as ops/linear.ts cuts them).
    const blocks = Math.ceil(m / 8);
    const tasks = Array.from({ length: threads }, (_, t): KernelArgs<"f32_gemm"> => {
      const i0 = Math.floor((blocks * t) / threads) * 8;
      const i1 = Math.min(m, Math.floor((blocks * (t + 1)) / threads) * 8);
      return [i1 - i0, n, k, pa + i0 * k * 4, k, packed, pc + i0 * n * 4, n, 0, 0];
    });
    const run = () => e.runTasks("f32_gemm", tasks);
    await run();
    setups.push({ rt, run, ms: Infinity, wall: 0, cpu: 0 });
  }
  // Thread counts take turns within each repetition, so bursts of load on a shared
  // machine hit them alike. Process CPU time over wall time ("cores") shows how many
  // cores a run really had: on a loaded machine 2 threads may get ~1.
  for (let rep = 0; rep < REPS; rep++) {
    for (const s of setups) {
      const u0 = process.cpuUsage();
      const t0 = performance.now();
      await s.run();
      const ms = performance.now() - t0;
      const u = process.cpuUsage(u0);
      s.ms = Math.min(s.ms, ms);
      s.wall += ms;
      s.cpu += (u.user + u.system) / 1000;
    }
  }
  const cells = setups.map((s, i) =>
    `${threadCounts[i]}t ${s.ms.toFixed(2)} ms ${((2 * m * n * k) / s.ms / 1e6).toFixed(1)} GFLOP/s x${(setups[0].ms / s.ms).toFixed(2)} ` +
    `(cores ${(s.cpu / s.wall).toFixed(2)}, cpu/run ${(s.cpu / REPS).toFixed(2)} ms)`);
  report(`f32_gemm ${m}x${n}x${k} (${setups[setups.length - 1].rt.features.build}): ${cells.join(" | ")}`);
  for (const s of setups) s.rt.dispose();
}

const cores = availableParallelism();
report(`${cores} cores reported (${cpus()[0]?.model.trim()}), Node ${process.version}; best of ${REPS}`);
await dispatch();
const counts = cores >= 3 ? [1, 2, 3] : [1, 2];
for (const [m, n, k] of [[64, 768, 768], [128, 768, 768], [256, 768, 3072], [512, 1024, 1024]]) await gemm(m, n, k, counts);
const root = process.env.SIMDFORMER_ROOT ?? process.cwd();
writeFileSync(
  join(root, "bench", "results", "threads.md"),
  `# Thread pool\n\nWritten by \`npm run bench -- threads\` on ${new Date().toISOString()}. Shapes are M x N x K; ` +
    "x = speed-up over 1 thread; cores = process CPU time / wall time (below the thread count when other work shares the machine).\n\n" +
    lines.map((l) => `- ${l}`).join("\n") + "\n",
);

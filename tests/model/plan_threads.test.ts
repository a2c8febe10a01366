import { readdirSync, readFileSync } from "node:fs";
import { it, expect } from "vitest";
import { createRuntime, Model, WorkerError } from "../../src/index.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { loadFixture } from "./helpers.js";
import { openModel } from "../../src/formats/detect.js";
import { PLAN_THREADS_MIN_BYTES } from "../../src/engine/engine.js";
import { fixtureBytes } from "../formats/fixtures.js";

// Decode plans run on every thread with barriers: logits bit-identical for 1, 2 and 3 threads.
async function steps(name: string, threads: number, batch: number): Promise<number[][]> {
  const rt = await createRuntime({ build: "simd", threads, planThreads: threads });
  try {
    const fx = loadFixture(name);
    const model = await loadSafetensors(rt, fx.file);
    const ed = model.config.arch === "encoder-decoder";
    const src = Array.from({ length: batch }, (_, b) => [1 + b, 2, 3]);
    const st = await model.startDecoding(ed ? { src } : { batch });
    const out: number[][] = [];
    out.push(Array.from(await model.decodeStep(st, Array.from({ length: batch }, (_, b) => [1, 2 + b, 3]))));
    for (let t = 0; t < 3; t++) {
      out.push(Array.from(await model.decodeStep(st, Array.from({ length: batch }, (_, b) => [4 + t + b]))));
    }
    expect(st.plan?.step?.ops ?? 0).toBeGreaterThan(0);
    return out;
  } finally {
    rt.dispose();
  }
}

for (const name of ["gpt2", "llama", "llama_mqa", "transformer"]) {
  for (const batch of [1, 3]) {
    it(`${name} batch ${batch}`, async () => {
      const one = await steps(name, 1, batch);
      expect(await steps(name, 2, batch)).toEqual(one);
      expect(await steps(name, 3, batch)).toEqual(one);
    });
  }
}

it("an idle runtime uses no measurable CPU 1 s after decoding; dispose() leaves no handles", async () => {
  const before = process.getActiveResourcesInfo().length;
  const rt = await createRuntime({ build: "simd-shared", threads: 2, planThreads: 2 });
  const model = await loadSafetensors(rt, loadFixture("gpt2").file);
  const st = await model.startDecoding({});
  await model.decodeStep(st, [[1, 2, 3]]);
  for (let t = 0; t < 20; t++) await model.decodeStep(st, [[4]]);
  await new Promise((r) => setTimeout(r, 1000));
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 1000));
  const c = process.cpuUsage(c0);
  // Process-wide (workers included): a spinning worker would show ~1 s of user time.
  expect(c.user + c.system).toBeLessThan(50_000);
  rt.dispose();
  await new Promise((r) => setTimeout(r, 300));
  expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(before);
});

/** Threads of this process (vitest runs each file in its own fork). */
const osThreads = (): number => readdirSync("/proc/self/task").length;

it("dispose() while the workers still wait in a plan: they exit, no handles left, no CPU after", async () => {
  const before = process.getActiveResourcesInfo().length;
  const threadsBefore = osThreads();
  const rt = await createRuntime({ build: "simd-shared", threads: 3, planThreads: 3 });
  const model = await loadSafetensors(rt, loadFixture("llama").file);
  const st = await model.startDecoding({});
  await model.decodeStep(st, [[1, 2, 3]]);
  for (let t = 0; t < 5; t++) await model.decodeStep(st, [[4 + t]]);
  expect(st.plan?.step?.threads).toBe(3);
  // No await since the last step: the workers are still spinning for the plan's next one.
  rt.dispose();
  await new Promise((r) => setTimeout(r, 300));
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 500));
  const c = process.cpuUsage(c0);
  expect(c.user + c.system).toBeLessThan(50_000);
  expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(before);
  expect(osThreads()).toBeLessThanOrEqual(threadsBefore);
});

it("a worker killed while it serves a plan fails the next step with WorkerError; the step after it is right", async () => {
  const rt = await createRuntime({ build: "simd-shared", threads: 2, planThreads: 2 });
  try {
    const model = await loadSafetensors(rt, loadFixture("llama").file);
    const st = await model.startDecoding({});
    await model.decodeStep(st, [[1, 2, 3]]);
    for (let t = 0; t < 3; t++) await model.decodeStep(st, [[4 + t]]);
    expect(st.plan?.step?.threads).toBe(2);
    const pool = (rt.engine as unknown as { pool: { handles: Array<{ terminate(): Promise<void> }> } }).pool;
    await pool.handles[0].terminate();
    // The exit event reaches the pool through the event loop.
    await new Promise((r) => setTimeout(r, 100));
    const err = await model.decodeStep(st, [[7]]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect(String((err as Error).message)).toMatch(/worker 1 exited/);
    const got = Array.from(await model.decodeStep(st, [[7]]));
    expect(st.plan?.step?.threads).toBe(2);
    // The same steps op by op (a capture forces that path) on the restarted pool.
    const ref = await model.startDecoding({});
    await model.decodeStep(ref, [[1, 2, 3]]);
    for (let t = 0; t < 3; t++) await model.decodeStep(ref, [[4 + t]], { capture: () => {} });
    expect(got).toEqual(Array.from(await model.decodeStep(ref, [[7]], { capture: () => {} })));
  } finally {
    rt.dispose();
  }
});

// GGUF decoders: k-quant GEMVs (q4_K/q5_K/q6_K), Gemma-2's GeGLU (f16-table GELU) and logit soft-cap, in plans
// bit-identical to the op path (a capture forces it) and across 1, 2 and 3 threads.
const gguf = (file: string) => new Uint8Array(readFileSync(new URL(`../fixtures/gguf/${file}`, import.meta.url)));
for (const file of ["kquant_llama.gguf", "llama_q5_k_m.gguf", "gemma2_q4_k_m.gguf", "gemma2_f32.gguf", "gemma2_f16.gguf"]) {
  it(`${file}: plan equal to the op path at 1, 2 and 3 threads`, async () => {
    const bytes = file === "kquant_llama.gguf" ? fixtureBytes(file) : gguf(file);
    const runs: number[][][] = [];
    for (const threads of [1, 2, 3]) {
      const rt = await createRuntime({ build: threads > 1 ? "simd-shared" : "simd", threads, planThreads: threads });
      try {
        const o = openModel(bytes, file);
        const model = Model.fromTensors(rt, o.config, o.tensors);
        const st = await model.startDecoding({});
        const ref = await model.startDecoding({});
        await model.decodeStep(st, [[1, 2, 3]]);
        await model.decodeStep(ref, [[1, 2, 3]], { capture: () => {} });
        const out: number[][] = [];
        for (let t = 0; t < 3; t++) {
          const a = Array.from(await model.decodeStep(st, [[4 + t]]));
          expect(a).toEqual(Array.from(await model.decodeStep(ref, [[4 + t]], { capture: () => {} })));
          out.push(a);
        }
        expect(st.plan?.refused).toBeUndefined();
        expect(st.plan?.step?.threads).toBe(threads);
        expect(out[2].some((x) => x !== 0)).toBe(true);
        runs.push(out);
      } finally {
        rt.dispose();
      }
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });
}

it("by default a plan runs on every thread only from PLAN_THREADS_MIN_BYTES of weights; planThreads overrides", async () => {
  const auto = await createRuntime({ build: "simd-shared", threads: 2 });
  const one = await createRuntime({ build: "simd-shared", threads: 2, planThreads: 1 });
  try {
    expect(auto.engine.planThreadsFor(PLAN_THREADS_MIN_BYTES - 1)).toBe(1);
    expect(auto.engine.planThreadsFor(PLAN_THREADS_MIN_BYTES)).toBe(2);
    expect(one.engine.planThreadsFor(PLAN_THREADS_MIN_BYTES)).toBe(1);
    // The llama fixture holds a few KB of weights: its plan stays on one thread.
    const model = await loadSafetensors(auto, loadFixture("llama").file);
    const st = await model.startDecoding({});
    await model.decodeStep(st, [[1, 2, 3]]);
    await model.decodeStep(st, [[4]]);
    expect(st.plan?.step?.threads).toBe(1);
    st.dispose();
  } finally {
    auto.dispose();
    one.dispose();
  }
});

import { it, expect } from "vitest";
import { createRuntime, Model } from "../../src/index.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { loadFixture } from "./helpers.js";
import { openModel } from "../../src/formats/detect.js";
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

// The k-quant kernels are not in the plan table yet: the plan is refused (reason kept) and the op path runs.
it("a k-quant GGUF decoder falls back to the op path, equal to it, at 1 and 2 threads", async () => {
  const bytes = fixtureBytes("kquant_llama.gguf");
  const runs: number[][][] = [];
  for (const threads of [1, 2]) {
    const rt = await createRuntime({ build: threads > 1 ? "simd-shared" : "simd", threads, planThreads: threads });
    try {
      const o = openModel(bytes, "kquant_llama.gguf");
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
      expect(st.plan?.refused).toMatch(/q[456]_k_gem[mv] cannot run in a plan/);
      expect(st.plan?.step).toBeNull();
      runs.push(out);
    } finally {
      rt.dispose();
    }
  }
  expect(runs[1]).toEqual(runs[0]);
});

import { it, expect } from "vitest";
import { createRuntime, Model } from "../../src/index.js";
import { loadFixture } from "./helpers.js";

// Decode plans run on every thread with barriers: logits bit-identical for 1, 2 and 3 threads.
async function steps(name: string, threads: number, batch: number): Promise<number[][]> {
  const rt = await createRuntime({ build: "simd", threads });
  try {
    const fx = loadFixture(name);
    const model = await Model.load(rt, fx.file);
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
  const rt = await createRuntime({ build: "simd-shared", threads: 2 });
  const model = await Model.load(rt, loadFixture("gpt2").file);
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

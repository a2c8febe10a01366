import { it, expect } from "vitest";
import { createRuntime } from "../../src/index.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { PLAN_KERNELS } from "../../src/engine/plan.js";
import { loadFixture } from "./helpers.js";

// The decode plan (engine/plan.ts) against the op-by-op path (a capture forces it), bit for bit.
for (const name of ["gpt2", "llama", "llama_mqa", "transformer"]) {
  it(name, async () => {
    const rt = await createRuntime({ build: "simd", threads: 1 });
    const fx = loadFixture(name);
    const model = await loadSafetensors(rt, fx.file);
    const c = model.config;
    const ed = c.arch === "encoder-decoder";
    const st = await model.startDecoding(ed ? { src: [[1, 2, 3]] } : {});
    await model.decodeStep(st, [[1, 2, 3]]);
    const a = await model.decodeStep(st, [[4]]);
    expect(st.plan?.step?.ops ?? 0).toBeGreaterThan(0);
    const st2 = await model.startDecoding(ed ? { src: [[1, 2, 3]] } : {});
    await model.decodeStep(st2, [[1, 2, 3]]);
    const b = await model.decodeStep(st2, [[4]], { capture: () => {} });
    expect(Array.from(a)).toEqual(Array.from(b));
    const a2 = await model.decodeStep(st, [[5]]);
    const b2 = await model.decodeStep(st2, [[5]], { capture: () => {} });
    expect(Array.from(a2)).toEqual(Array.from(b2));
    rt.dispose();
  });
}

// The TS table (kernel ids, f32 arguments) against run_plan's switch in every build family
// (plan_calls.ts and its scalar twin): a kernel id off by one runs the wrong kernel.
for (const build of ["simd", "scalar"] as const) {
  it(`PLAN_KERNELS matches run_plan's table in the ${build} build`, async () => {
    const rt = await createRuntime({ build, threads: 1 });
    const x = rt.engine.exports;
    const argc = x.plan_kernel_argc as (k: number) => number;
    PLAN_KERNELS.forEach((k, id) => {
      const fn = x[k.name] as ((...a: number[]) => unknown) | undefined;
      expect(fn, k.name).toBeTypeOf("function");
      expect(argc(id), k.name).toBe(fn!.length);
      for (const j of k.f32) expect(j, k.name).toBeLessThan(fn!.length);
    });
    expect(argc(PLAN_KERNELS.length)).toBe(-1);
    rt.dispose();
  });
}

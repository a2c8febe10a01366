import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { KERNELS, type KernelCase, type KernelEntry } from "../../src/bench/index.js";
import { Rng } from "../../src/util/rng.js";

const BUILDS = ["scalar", "simd", "relaxed"] as const;

function maxError(entry: KernelEntry, c: KernelCase, got: Float32Array): { err: number; allowed: number } {
  const want = entry.reference(c);
  expect(got.length).toBe(want.length);
  let scale = 0;
  if (entry.errorScale) scale = entry.errorScale(c);
  else for (const w of want) if (Number.isFinite(w)) scale = Math.max(scale, Math.abs(w));
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) {
      if (!Number.isNaN(got[i])) return { err: Infinity, allowed: 0 };
      continue;
    }
    if (!Number.isFinite(want[i])) {
      if (got[i] !== want[i]) return { err: Infinity, allowed: 0 };
      continue;
    }
    err = Math.max(err, Math.abs(got[i] - want[i]));
  }
  return { err, allowed: entry.tolerance.abs + entry.tolerance.rel * scale };
}

describe.each(BUILDS)("kernels on the %s build", (build) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ build });
  });
  afterAll(() => rt.dispose());

  for (const entry of KERNELS) {
    it.each(entry.shapes.map((d) => [JSON.stringify(d), d] as const))(`${entry.name} %s`, (_label, dims) => {
      const c = entry.makeCase(dims, new Rng(1234));
      const got = entry.run(rt.kernels, rt.engine, c);
      rt.engine.scratch.reset();
      const { err, allowed } = maxError(entry, c, got);
      expect(err, `max error ${err} > allowed ${allowed}`).toBeLessThanOrEqual(allowed);
    });
  }
});

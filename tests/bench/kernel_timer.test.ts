import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatKernelRows, formatMicros, type KernelEntry, KERNELS, prepareKernel, runKernelSuite, timeCall } from "../../src/bench/index.js";
import { readF32, writeF32 } from "../../src/kernels/bindings.js";
import { ArgumentError } from "../../src/errors.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { Rng } from "../../src/util/rng.js";

const addEntry = KERNELS.find((e) => e.name === "f32_add")!;
const fast = { warmupMs: 2, sampleMs: 1, samples: 3, minSamples: 3, maxMs: 20 };

describe("prepareKernel", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ build: "simd", threads: 1 });
  });
  afterAll(() => rt.dispose());

  it("replays the kernel on the staged byte offsets", () => {
    const c = addEntry.makeCase({ n: 10 }, new Rng(3));
    const p = prepareKernel(rt, addEntry, c);
    expect(Array.from(p.output)).toEqual(Array.from(c.inputs.a, (x, i) => Math.fround(x + c.inputs.b[i])));
    expect(p.calls).toHaveLength(1);
    const [n, a, b, out] = p.calls[0];
    expect(n).toBe(10);
    // New data at the recorded offsets: call() must compute on it, proving it reuses them.
    writeF32(rt.engine, a, new Float32Array(10).fill(2));
    writeF32(rt.engine, b, Float32Array.from({ length: 10 }, (_, i) => i));
    p.call();
    expect(Array.from(readF32(rt.engine, out, 10))).toEqual(Array.from({ length: 10 }, (_, i) => 2 + i));
    expect(p.flops).toBe(10);
    expect(p.bytes).toBe(3 * 10 * 4);
    p.release();
  });

  it("rejects an entry whose run() never calls its kernel", () => {
    const lazy: KernelEntry = { ...addEntry, run: () => new Float32Array(1) };
    expect(() => prepareKernel(rt, lazy, addEntry.makeCase({ n: 4 }, new Rng(1)))).toThrow(ArgumentError);
  });
});

describe("timeCall", () => {
  it("reports the per-call time of a call of known length", () => {
    const busy = () => {
      const end = performance.now() + 0.5;
      while (performance.now() < end);
    };
    const s = timeCall(busy, { warmupMs: 5, sampleMs: 5, samples: 5, minSamples: 3, maxMs: 100 });
    expect(s.medianUs).toBeGreaterThanOrEqual(500);
    expect(s.medianUs).toBeLessThan(50_000);
    expect(s.minUs).toBeLessThanOrEqual(s.medianUs);
    expect(s.maxUs).toBeGreaterThanOrEqual(s.medianUs);
    expect(s.samples).toBeGreaterThanOrEqual(3);
  });

  it("repeats fast calls to fill a sample", () => {
    let calls = 0;
    const s = timeCall(() => void calls++, { warmupMs: 2, sampleMs: 2, samples: 3, minSamples: 3, maxMs: 50 });
    expect(s.callsPerSample).toBeGreaterThan(100);
    expect(calls).toBeGreaterThan(300);
  });
});

describe("runKernelSuite", () => {
  it("times the filtered kernels on each build and formats a table", async () => {
    const seen: number[] = [];
    const rows = await runKernelSuite({
      builds: ["simd", "scalar"],
      filter: (e, d) => e.name === "f32_dot" && d.n === 4096,
      timing: fast,
      onProgress: (done, total) => seen.push(done * 10 + total),
    });
    expect(rows.map((r) => [r.kernel, r.shape, r.build])).toEqual([
      ["f32_dot", "n=4096", "simd"],
      ["f32_dot", "n=4096", "scalar"],
    ]);
    expect(seen).toEqual([12, 22]);
    for (const r of rows) {
      expect(r.flops).toBe(2 * 4096);
      expect(r.gflops).toBeCloseTo(r.flops / (r.stats.medianUs * 1e-6) / 1e9, 6);
      expect(r.gbps).toBeGreaterThan(0);
    }
    const table = formatKernelRows(rows).split("\n");
    expect(table).toHaveLength(4);
    expect(table[0]).toMatch(/kernel\s+shape\s+build\s+median/);
    expect(table[3]).toContain("scalar");
  });

  it("matches a string filter against 'name shape'", async () => {
    const rows = await runKernelSuite({ builds: ["simd"], filter: "f32_add n=1", timing: fast });
    expect(rows.map((r) => `${r.kernel} ${r.shape}`)).toEqual(KERNELS.flatMap((e) => e.benchShapes.map((d) => `${e.name} n=${d.n}`)).filter((l) => l.startsWith("f32_add n=1")));
  });

  it("refuses an empty build list", async () => {
    await expect(runKernelSuite({ builds: [] })).rejects.toThrow(ArgumentError);
  });
});

describe("formatMicros", () => {
  it("picks ns, us or ms", () => {
    expect(formatMicros(0.0131)).toBe("13.1 ns");
    expect(formatMicros(761)).toBe("761 us");
    expect(formatMicros(12345)).toBe("12.3 ms");
  });
});

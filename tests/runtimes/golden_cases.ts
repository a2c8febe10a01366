// The golden cases of the runtime matrix: inputs from the kernel registry's makeCase with
// fixed seeds, expected outputs from its float64 reference. tests/runtimes/make_golden.mjs
// writes them to tests/fixtures/runtimes/golden.json; golden_fixture.test.ts checks the
// stored file still equals what this produces.
import { KERNELS } from "../../src/kernels/registry.js";
import type { Dims } from "../../src/kernels/kernel_entry.js";
import { Rng } from "../../src/util/rng.js";

/** One entry per kernel: the shapes every runtime runs (small: the fixture ships to browsers and isolates). */
export const GOLDEN_KERNELS: Array<{ kernel: string; dims: Dims[] }> = [
  { kernel: "f32_add", dims: [{ n: 5 }, { n: 37 }] },
  { kernel: "f32_dot", dims: [{ n: 9 }, { n: 263 }] },
];

/** Non-finite numbers do not survive JSON: stored as their String(). */
const jsonNumber = (x: number): number | string => (Number.isFinite(x) ? x : String(x));

export interface GoldenKernelCase {
  name: string;
  kind: "kernel";
  kernel: string;
  dims: Dims;
  params: Record<string, number>;
  inputs: Record<string, number[]>;
  expected: Array<number | string>;
  tolerance: { abs: number; rel: number };
  /** What tolerance.rel is relative to (the registry's errorScale, default max |reference|). */
  scale: number;
}

export interface GoldenFixture {
  generator: string;
  cases: GoldenKernelCase[];
}

export function makeGolden(): GoldenFixture {
  const cases: GoldenKernelCase[] = [];
  let seed = 9001;
  for (const g of GOLDEN_KERNELS) {
    const entry = KERNELS.find((e) => e.name === g.kernel);
    if (!entry) throw new Error(`golden: kernel ${g.kernel} is not in the registry`);
    for (const dims of g.dims) {
      const c = entry.makeCase(dims, new Rng(seed++));
      const ref = entry.reference(c);
      let scale = 0;
      if (entry.errorScale) scale = entry.errorScale(c);
      else for (const x of ref) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
      cases.push({
        name: `${g.kernel} ${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(" ")}`,
        kind: "kernel",
        kernel: g.kernel,
        dims,
        params: c.params,
        inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, Array.from(v)])),
        expected: Array.from(ref, jsonNumber),
        tolerance: entry.tolerance,
        scale,
      });
    }
  }
  return { generator: "tests/runtimes/golden_cases.ts (write with: node tests/runtimes/make_golden.mjs)", cases };
}

// The stored golden fixture must be exactly what its generator makes from the current kernel
// registry (inputs from makeCase, expected from the float64 reference): no hand-edited numbers,
// and a registry change that alters a case shows up here instead of in six hosts at once.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { KERNEL_CALLS } from "./golden.js";
import { GOLDEN_KERNELS, makeGolden } from "./golden_cases.js";
import { GOLDEN_JSON, ROOT } from "./harness.js";

describe("golden fixture", () => {
  test("equals the generator's output (regenerate: node tests/runtimes/make_golden.mjs)", () => {
    const stored = JSON.parse(readFileSync(GOLDEN_JSON, "utf8"));
    expect(stored).toEqual(JSON.parse(JSON.stringify(makeGolden(ROOT))));
  });

  test("every golden kernel has a call in golden.js", () => {
    for (const g of GOLDEN_KERNELS) expect(Object.keys(KERNEL_CALLS)).toContain(g.kernel);
  });
});

// The epilogue codes are written twice, once per language: assembly/ (math.ts: the ACT_* codes,
// pack.ts: GEMM_ACCUMULATE) and src/kernels/exports.ts. AssemblyScript cannot import from src/
// (nor TypeScript an i32 const from assembly/), so this test reads the AssemblyScript sources and
// requires both sides to define the same names with the same values.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as abi from "../../src/kernels/exports.js";

/** `export const NAME: i32 = VALUE;` declarations of an assembly/ file whose name matches `names`. */
function assemblyConsts(file: string, names: RegExp): Record<string, number> {
  const src = readFileSync(new URL(`../../assembly/${file}`, import.meta.url), "utf8");
  const out: Record<string, number> = {};
  for (const m of src.matchAll(/^export const (\w+): i32 = (0x[0-9a-fA-F]+|\d+);/gm)) {
    if (names.test(m[1])) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** The numeric exports of src/kernels/exports.ts whose name matches `names`. */
function tsConsts(names: RegExp): Record<string, number> {
  return Object.fromEntries(Object.entries(abi).filter(([k, v]) => names.test(k) && typeof v === "number")) as Record<string, number>;
}

describe("epilogue codes: assembly/ and src/kernels/exports.ts agree", () => {
  it("activation codes (assembly/math.ts)", () => {
    const wasm = assemblyConsts("math.ts", /^ACT_/);
    expect(Object.keys(wasm).length).toBeGreaterThanOrEqual(6);
    expect(tsConsts(/^ACT_/)).toEqual(wasm);
    // They share `flags` with GEMM_ACCUMULATE: codes must fit the low byte the kernels mask.
    for (const code of Object.values(wasm)) expect(code & 0xff).toBe(code);
  });

  it("GEMM_ACCUMULATE (assembly/pack.ts)", () => {
    const wasm = assemblyConsts("pack.ts", /^GEMM_ACCUMULATE$/);
    expect(wasm).toEqual({ GEMM_ACCUMULATE: abi.GEMM_ACCUMULATE });
    expect(abi.GEMM_ACCUMULATE & 0xff).toBe(0);
  });
});

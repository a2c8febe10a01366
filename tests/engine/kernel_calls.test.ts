import { readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import { wasmExportParams } from "../../bench/wasm_names.js";
import { createRuntime } from "../../src/index.js";
import { runElementwise } from "../../src/ops/parallel.js";
import { BUILDS } from "../../src/engine/builds.js";
import type { Engine } from "../../src/engine/engine.js";
import type { KernelArgs, KernelName } from "../../src/engine/kernel_abi.js";
import { PLAN_KERNELS, type PlanKernelEntry } from "../../src/engine/plan.js";

/**
 * Every wasm export of the ABI (src/engine/kernel_abi.ts): its argument count, which the type makes equal
 * to its signature's there, and whether a decode plan may call it. The mapped type makes a new export a
 * compile error here until it is listed, so whether plans take it is decided, not forgotten; a step calling
 * a kernel outside the plan table runs op by op.
 */
const EXPORTS: { [K in KernelName]: { argc: KernelArgs<K>["length"]; inPlans: boolean } } = {
  build_info: { argc: 0, inPlans: false },
  f32_add: { argc: 4, inPlans: true },
  f32_dot: { argc: 3, inPlans: false },
  f32_copy_rows: { argc: 6, inPlans: true },
  f32_gemm_nr: { argc: 0, inPlans: false },
  f32_gemm_packed_size: { argc: 2, inPlans: false },
  f32_gemm_pack_b: { argc: 5, inPlans: false },
  f32_gemm_pack_bt: { argc: 5, inPlans: false },
  f32_gemm: { argc: 10, inPlans: true },
  f32_gemv: { argc: 7, inPlans: true },
  f32_gemm_nt: { argc: 10, inPlans: true },
  f32_gemm_nn: { argc: 9, inPlans: true },
  f32_softmax: { argc: 10, inPlans: true },
  f32_log_softmax: { argc: 6, inPlans: false },
  f32_layernorm: { argc: 9, inPlans: true },
  f32_rmsnorm: { argc: 8, inPlans: true },
  f32_relu: { argc: 3, inPlans: true },
  f32_gelu: { argc: 3, inPlans: true },
  f32_gelu_tanh: { argc: 3, inPlans: true },
  f32_silu: { argc: 3, inPlans: true },
  f32_swiglu: { argc: 4, inPlans: true },
  f32_geglu: { argc: 4, inPlans: true },
  f32_geglu_f16: { argc: 4, inPlans: true },
  f32_softcap: { argc: 5, inPlans: true },
  f32_sinusoidal: { argc: 5, inPlans: true },
  f32_rope: { argc: 8, inPlans: true },
  f32_embed: { argc: 8, inPlans: true },
  f32_embed_packed: { argc: 7, inPlans: true },
  q8_0_embed: { argc: 8, inPlans: true },
  q4_0_embed: { argc: 8, inPlans: true },
  q4_k_embed: { argc: 7, inPlans: true },
  q5_k_embed: { argc: 7, inPlans: true },
  q6_k_embed: { argc: 7, inPlans: true },
  f32_attention: { argc: 17, inPlans: true },
  f32_additive_scores: { argc: 10, inPlans: true },
  q8_0_quant_bytes: { argc: 2, inPlans: false },
  q4_0_quant_bytes: { argc: 2, inPlans: false },
  q_scale_bytes: { argc: 2, inPlans: false },
  q8_xq_bytes: { argc: 1, inPlans: false },
  q8_0_repack: { argc: 5, inPlans: false },
  q4_0_repack: { argc: 5, inPlans: false },
  f16_widen: { argc: 3, inPlans: false },
  bf16_widen: { argc: 3, inPlans: false },
  q8_0_dequant: { argc: 3, inPlans: false },
  q4_0_dequant: { argc: 3, inPlans: false },
  q8_quantize_rows: { argc: 5, inPlans: true },
  q8k_quantize_rows: { argc: 5, inPlans: true },
  q8_0_gemv: { argc: 8, inPlans: true },
  q4_0_gemv: { argc: 8, inPlans: true },
  q8_0_gemm: { argc: 10, inPlans: true },
  q4_0_gemm: { argc: 10, inPlans: true },
  run_plan: { argc: 4, inPlans: false },
  plan_kernel_argc: { argc: 1, inPlans: false },
  plan_begin: { argc: 2, inPlans: false },
  plan_stop: { argc: 1, inPlans: false },
  plan_abort: { argc: 1, inPlans: false },
  plan_reset: { argc: 2, inPlans: false },
  plan_control_bytes: { argc: 1, inPlans: false },
  q4_k_gemv: { argc: 7, inPlans: true },
  q5_k_gemv: { argc: 7, inPlans: true },
  q6_k_gemv: { argc: 7, inPlans: true },
  q4_k_gemm: { argc: 9, inPlans: true },
  q5_k_gemm: { argc: 9, inPlans: true },
  q6_k_gemm: { argc: 9, inPlans: true },
};

describe("the kernel ABI against the builds", () => {
  it.each(BUILDS)("%s exports exactly the ABI's functions, each with its argument count", (build) => {
    const params = wasmExportParams(readFileSync(new URL(`../../dist/wasm/simdformer.${build}.wasm`, import.meta.url)));
    expect([...params.keys()].sort()).toEqual(Object.keys(EXPORTS).sort());
    for (const [name, { argc }] of Object.entries(EXPORTS)) expect([name, params.get(name)?.length]).toEqual([name, argc]);
  });

  it.each(BUILDS)("%s runs PLAN_KERNELS under their ids, with their argument counts and f32 arguments", async (build) => {
    const params = wasmExportParams(readFileSync(new URL(`../../dist/wasm/simdformer.${build}.wasm`, import.meta.url)));
    const rt = await createRuntime({ build, threads: 1 });
    PLAN_KERNELS.forEach((k, id) => {
      const types = params.get(k.name)!;
      expect([k.name, rt.kernels.plan_kernel_argc(id)]).toEqual([k.name, types.length]);
      // run_plan stores f32 arguments as their bits and all others as i32.
      expect([k.name, [...k.f32]]).toEqual([k.name, types.flatMap((t, j) => (t === "f32" ? [j] : []))]);
      expect(types.every((t) => t === "i32" || t === "f32")).toBe(true);
    });
    expect(rt.kernels.plan_kernel_argc(PLAN_KERNELS.length)).toBe(-1);
    rt.dispose();
  });

  it.each(["assembly/plan_calls.ts", "assembly/ref/plan_calls.ts"])("%s calls kernel id i as PLAN_KERNELS[i], arguments in order", (file) => {
    const text = readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
    const cases = [...text.matchAll(/case (\d+):\s*(\w+)\(([^;]*)\);/g)].map(([, id, name, args]) => ({
      id: Number(id),
      name,
      args: [...args.matchAll(/([ipf])\(a, (\d+)\)/g)].map(([, kind, j]) => ({ kind, j: Number(j) })),
    }));
    expect(cases.map((c) => [c.id, c.name])).toEqual(PLAN_KERNELS.map((k, id) => [id, k.name]));
    for (const c of cases) {
      expect([c.name, c.args.map((a) => a.j)]).toEqual([c.name, c.args.map((_, j) => j)]);
      expect([c.name, c.args.flatMap((a) => (a.kind === "f" ? [a.j] : []))]).toEqual([c.name, [...PLAN_KERNELS[c.id].f32]]);
    }
  });

  it("lists each plan kernel once, and exactly the exports marked inPlans", () => {
    const names = PLAN_KERNELS.map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    const marked = (Object.keys(EXPORTS) as KernelName[]).filter((k) => EXPORTS[k].inPlans);
    expect([...names].sort()).toEqual(marked.sort());
  });

  it("types runElementwise's pointers and parameters by the kernel's arguments (tsc checks this over tests/)", () => {
    // f32_add(n, a, b, out): three pointers and no parameters.
    expectTypeOf(runElementwise<"f32_add", [number, number, number]>).parameters.toEqualTypeOf<[Engine, "f32_add", number, [number, number, number]]>();
    // f32_softcap(n, x, out, scale, cap): two pointers, then the two parameters are required.
    expectTypeOf(runElementwise<"f32_softcap", [number, number]>).parameters.toEqualTypeOf<[Engine, "f32_softcap", number, [number, number], [number, number]]>();
    // Four pointers are one too many for f32_add: nothing can complete the call.
    expectTypeOf<Parameters<typeof runElementwise<"f32_add", [number, number, number, number]>>[4]>().toBeNever();
  });

  it("types plan table entries by the kernel's own arguments (tsc checks this over tests/)", () => {
    expectTypeOf<{ name: "f32_softmax"; f32: [6] }>().toExtend<PlanKernelEntry>();
    // f32_add takes 4 arguments: there is no argument 4.
    expectTypeOf<{ name: "f32_add"; f32: [4] }>().not.toExtend<PlanKernelEntry>();
    expectTypeOf<{ name: "f32_nope"; f32: [] }>().not.toExtend<PlanKernelEntry>();
  });
});

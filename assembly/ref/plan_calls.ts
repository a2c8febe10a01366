// run_plan of the scalar build: the plan executor (../plan.ts) over the reference kernels.
// Twin of ../plan_calls.ts: the same kernel ids (src/runtime/plan.ts), the same table.
import { runPlan } from "../plan";
import { f32_add, f32_copy_rows } from "./f32_vec";
import { f32_gemm, f32_gemv, f32_gemm_nt, f32_gemm_nn } from "./f32_gemm";
import { f32_softmax } from "./f32_softmax";
import { f32_layernorm } from "./f32_layernorm";
import { f32_rmsnorm } from "./f32_rmsnorm";
import { f32_relu, f32_gelu, f32_gelu_tanh, f32_silu, f32_swiglu, f32_geglu, f32_geglu_f16, f32_softcap } from "./f32_act";
import { f32_rope, f32_sinusoidal } from "./f32_rope";
import { f32_embed, f32_embed_packed, q8_0_embed, q4_0_embed } from "./f32_embed";
import { f32_attention } from "./f32_attention";
import { f32_additive_scores } from "./f32_additive";
import { q8_quantize_rows, q8k_quantize_rows, q8_0_gemv, q4_0_gemv, q8_0_gemm, q4_0_gemm } from "./q_gemv";
import { q4_k_gemv, q5_k_gemv, q6_k_gemv, q4_k_gemm, q5_k_gemm, q6_k_gemm } from "./qk_gemv";
import { q4_k_embed, q5_k_embed, q6_k_embed } from "../qk_embed";

/** Argument j as i32 / pointer / f32 (f32 arguments are stored as their bits). */
// @ts-ignore: decorator
@inline function i(a: usize, j: usize): i32 { return load<i32>(a + (j << 2)); }
// @ts-ignore: decorator
@inline function p(a: usize, j: usize): usize { return <usize>load<i32>(a + (j << 2)); }
// @ts-ignore: decorator
@inline function f(a: usize, j: usize): f32 { return load<f32>(a + (j << 2)); }

function call(kernel: i32, a: usize): void {
  switch (kernel) {
    case 0: f32_add(i(a, 0), p(a, 1), p(a, 2), p(a, 3)); break;
    case 1: f32_gemm(i(a, 0), i(a, 1), i(a, 2), p(a, 3), i(a, 4), p(a, 5), p(a, 6), i(a, 7), p(a, 8), i(a, 9)); break;
    case 2: f32_gemv(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), p(a, 5), i(a, 6)); break;
    case 3: f32_gemm_nt(i(a, 0), i(a, 1), i(a, 2), p(a, 3), i(a, 4), p(a, 5), i(a, 6), p(a, 7), i(a, 8), f(a, 9)); break;
    case 4: f32_gemm_nn(i(a, 0), i(a, 1), i(a, 2), p(a, 3), i(a, 4), p(a, 5), i(a, 6), p(a, 7), i(a, 8)); break;
    case 5: f32_softmax(i(a, 0), i(a, 1), p(a, 2), i(a, 3), p(a, 4), i(a, 5), f(a, 6), p(a, 7), i(a, 8), i(a, 9)); break;
    case 6: f32_layernorm(i(a, 0), i(a, 1), p(a, 2), i(a, 3), p(a, 4), p(a, 5), p(a, 6), i(a, 7), f(a, 8)); break;
    case 7: f32_rmsnorm(i(a, 0), i(a, 1), p(a, 2), i(a, 3), p(a, 4), p(a, 5), i(a, 6), f(a, 7)); break;
    case 8: f32_relu(i(a, 0), p(a, 1), p(a, 2)); break;
    case 9: f32_gelu(i(a, 0), p(a, 1), p(a, 2)); break;
    case 10: f32_gelu_tanh(i(a, 0), p(a, 1), p(a, 2)); break;
    case 11: f32_silu(i(a, 0), p(a, 1), p(a, 2)); break;
    case 12: f32_swiglu(i(a, 0), p(a, 1), p(a, 2), p(a, 3)); break;
    case 13: f32_sinusoidal(i(a, 0), i(a, 1), i(a, 2), p(a, 3), i(a, 4)); break;
    case 14: f32_rope(i(a, 0), i(a, 1), i(a, 2), p(a, 3), i(a, 4), i(a, 5), f(a, 6), i(a, 7)); break;
    case 15: f32_embed(i(a, 0), i(a, 1), p(a, 2), p(a, 3), i(a, 4), p(a, 5), i(a, 6), f(a, 7)); break;
    case 16:
      f32_attention(
        i(a, 0), i(a, 1), i(a, 2), p(a, 3), i(a, 4), p(a, 5), i(a, 6), p(a, 7), i(a, 8),
        p(a, 9), i(a, 10), p(a, 11), i(a, 12), f(a, 13), p(a, 14), i(a, 15), i(a, 16),
      );
      break;
    case 17: f32_additive_scores(i(a, 0), i(a, 1), i(a, 2), p(a, 3), i(a, 4), p(a, 5), i(a, 6), p(a, 7), p(a, 8), i(a, 9)); break;
    case 18: q8_quantize_rows(i(a, 0), i(a, 1), p(a, 2), i(a, 3), p(a, 4)); break;
    case 19: q8_0_gemv(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), p(a, 5), p(a, 6), i(a, 7)); break;
    case 20: q4_0_gemv(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), p(a, 5), p(a, 6), i(a, 7)); break;
    case 21: q8_0_gemm(i(a, 0), i(a, 1), i(a, 2), p(a, 3), p(a, 4), p(a, 5), p(a, 6), i(a, 7), p(a, 8), i(a, 9)); break;
    case 22: q4_0_gemm(i(a, 0), i(a, 1), i(a, 2), p(a, 3), p(a, 4), p(a, 5), p(a, 6), i(a, 7), p(a, 8), i(a, 9)); break;
    case 23: f32_copy_rows(i(a, 0), i(a, 1), p(a, 2), i(a, 3), p(a, 4), i(a, 5)); break;
    case 24: q8k_quantize_rows(i(a, 0), i(a, 1), p(a, 2), i(a, 3), p(a, 4)); break;
    case 25: q8_0_embed(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), p(a, 5), i(a, 6), f(a, 7)); break;
    case 26: q4_0_embed(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), p(a, 5), i(a, 6), f(a, 7)); break;
    case 27: f32_embed_packed(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), i(a, 5), f(a, 6)); break;
    case 28: q4_k_gemv(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), p(a, 5), i(a, 6)); break;
    case 29: q5_k_gemv(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), p(a, 5), i(a, 6)); break;
    case 30: q6_k_gemv(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), p(a, 5), i(a, 6)); break;
    case 31: q4_k_gemm(i(a, 0), i(a, 1), i(a, 2), p(a, 3), p(a, 4), p(a, 5), i(a, 6), p(a, 7), i(a, 8)); break;
    case 32: q5_k_gemm(i(a, 0), i(a, 1), i(a, 2), p(a, 3), p(a, 4), p(a, 5), i(a, 6), p(a, 7), i(a, 8)); break;
    case 33: q6_k_gemm(i(a, 0), i(a, 1), i(a, 2), p(a, 3), p(a, 4), p(a, 5), i(a, 6), p(a, 7), i(a, 8)); break;
    case 34: f32_geglu(i(a, 0), p(a, 1), p(a, 2), p(a, 3)); break;
    case 35: f32_geglu_f16(i(a, 0), p(a, 1), p(a, 2), p(a, 3)); break;
    case 36: f32_softcap(i(a, 0), p(a, 1), p(a, 2), f(a, 3), f(a, 4)); break;
    case 37: q4_k_embed(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), i(a, 5), f(a, 6)); break;
    case 38: q5_k_embed(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), i(a, 5), f(a, 6)); break;
    case 39: q6_k_embed(i(a, 0), i(a, 1), p(a, 2), p(a, 3), p(a, 4), i(a, 5), f(a, 6)); break;
    default: unreachable();
  }
}

/** Arguments (in i32 words) of plan kernel `kernel`, or -1: lets TS check its table against this one. */
export function plan_kernel_argc(kernel: i32): i32 {
  const argc: StaticArray<i32> = [4, 10, 7, 10, 9, 10, 9, 8, 3, 3, 3, 3, 4, 5, 8, 8, 17, 10, 5, 8, 8, 10, 10, 6, 5, 8, 8, 7, 7, 7, 7, 9, 9, 9, 4, 4, 5, 7, 7, 7];
  return kernel >= 0 && kernel < argc.length ? unchecked(argc[kernel]) : -1;
}

/** Runs the plan at `plan` as thread `thread` of `threads`; see runPlan in plan.ts. */
export function run_plan(plan: usize, thread: i32, threads: i32, budget: i32): i32 {
  return runPlan(plan, thread, threads, budget, call);
}

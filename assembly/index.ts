// Entry of the SIMD builds (strict and relaxed, unshared and shared memory).
// Every export here has a scalar twin of the same name in ref/index.ts.
export { build_info } from "./build_info";
export { f32_add, f32_dot, f32_copy_rows } from "./f32_vec";
export { f32_gemm_nr, f32_gemm_packed_size, f32_gemm_pack_b, f32_gemm_pack_bt } from "./pack";
export { f32_gemm, f32_gemm_nt, f32_gemm_nn } from "./f32_gemm";
export { f32_gemv } from "./f32_gemv";
export { f32_softmax, f32_log_softmax } from "./f32_softmax";
export { f32_layernorm } from "./f32_layernorm";
export { f32_rmsnorm } from "./f32_rmsnorm";
export { f32_relu, f32_gelu, f32_gelu_tanh, f32_silu, f32_swiglu, f32_geglu, f32_geglu_f16, f32_softcap } from "./f32_act";
export { f32_rope, f32_sinusoidal } from "./f32_rope";
export { f32_embed, f32_embed_packed, q8_0_embed, q4_0_embed } from "./f32_embed";
export { f32_attention } from "./f32_attention";
export { f32_additive_scores } from "./f32_additive";
export { q8_0_quant_bytes, q4_0_quant_bytes, q_scale_bytes, q8_xq_bytes, q8_0_repack, q4_0_repack } from "./q_pack";
export { f16_widen, bf16_widen, q8_0_dequant, q4_0_dequant } from "./widen";
export { q8_quantize_rows, q8k_quantize_rows, q8_0_gemv, q4_0_gemv, q8_0_gemm, q4_0_gemm } from "./q_gemv";
export { run_plan, plan_kernel_argc } from "./plan_calls";
export { plan_begin, plan_stop, plan_abort, plan_reset, plan_control_bytes } from "./plan";
export { q4_k_gemv, q5_k_gemv, q6_k_gemv, q4_k_gemm, q5_k_gemm, q6_k_gemm } from "./qk_gemv";
export { q4_k_embed, q5_k_embed, q6_k_embed } from "./qk_embed";

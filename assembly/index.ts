// Entry of the SIMD builds (strict and relaxed, unshared and shared memory).
// Every export here has a scalar twin of the same name in ref/index.ts.
export { build_info } from "./build_info";
export { f32_add, f32_dot } from "./f32_vec";
export { f32_gemm_nr, f32_gemm_packed_size, f32_gemm_pack_b, f32_gemm_pack_bt } from "./pack";
export { f32_gemm, f32_gemm_nt, f32_gemm_nn } from "./f32_gemm";
export { f32_gemv } from "./f32_gemv";

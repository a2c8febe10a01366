// Entry of the SIMD builds (strict and relaxed, unshared and shared memory).
// Every export here has a scalar twin of the same name in ref/index.ts.
export { build_info } from "./build_info";
export { f32_add, f32_dot } from "./f32_vec";

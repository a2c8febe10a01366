// Entry of the scalar build: the reference kernels, same names and ABI as ../index.ts.
export { build_info } from "../build_info";
export { f32_add, f32_dot } from "./f32_vec";

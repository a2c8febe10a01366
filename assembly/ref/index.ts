// Entry of the scalar build: the reference kernels, same names and ABI as ../index.ts.
export { build_info } from "../build_info";
export { f32_add, f32_dot } from "./f32_vec";
export {
  f32_gemm_nr, f32_gemm_packed_size, f32_gemm_pack_b, f32_gemm_pack_bt, f32_gemm, f32_gemv, f32_gemm_nt, f32_gemm_nn,
} from "./f32_gemm";

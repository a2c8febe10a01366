// The kernel ABI's constants: the GEMM/GEMV epilogue codes. The exports' signatures are in
// engine/kernel_abi.ts (the engine, below kernels/, dispatches by their names).
export type { KernelArgs, KernelExports, KernelName } from "../engine/kernel_abi.js";

/** Activation codes of the GEMM/GEMV fused epilogue (low byte of `flags`). */
export const ACT_NONE = 0;
export const ACT_RELU = 1;
export const ACT_GELU = 2;
export const ACT_GELU_TANH = 3;
export const ACT_SILU = 4;
/** GELU as ggml's CPU backend computes it: tanh form at f16(x), rounded to f16 (GGUF models, to match llama.cpp). */
export const ACT_GELU_F16 = 5;
/** Epilogue flag: add the result to what C already holds (residual add), after bias and activation. */
export const GEMM_ACCUMULATE = 0x100;

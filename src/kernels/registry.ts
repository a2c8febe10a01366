import type { KernelEntry } from "./kernel_entry.js";
import { VEC_KERNELS } from "./entries/vec.js";
import { GEMM_KERNELS } from "./entries/gemm.js";

/**
 * Every kernel, by family (one file per family in entries/). A kernel listed here is
 * tested on every build against its float64 reference and timed by the kernel bench.
 */
export const KERNELS: KernelEntry[] = [
  ...VEC_KERNELS,
  ...GEMM_KERNELS,
];

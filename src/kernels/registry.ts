import type { KernelEntry } from "./kernel_entry.js";
import { VEC_KERNELS } from "./entries/vec.js";
import { GEMM_KERNELS } from "./entries/gemm.js";
import { SOFTMAX_KERNELS } from "./entries/softmax.js";
import { NORM_KERNELS } from "./entries/norms.js";
import { ACT_KERNELS } from "./entries/act.js";
import { POSITION_KERNELS } from "./entries/positions.js";
import { EMBED_KERNELS } from "./entries/embed.js";
import { ATTENTION_KERNELS } from "./entries/attention.js";
import { ADDITIVE_KERNELS } from "./entries/additive.js";
import { QUANT_KERNELS } from "./entries/quant.js";
import { KQUANT_KERNELS } from "./entries/kquant.js";
import { WIDEN_KERNELS } from "./entries/widen.js";

/**
 * Every kernel, by family (one file per family in entries/). A kernel listed here is
 * tested on every build against its float64 reference and timed by the kernel bench.
 */
export const KERNELS: KernelEntry[] = [
  ...VEC_KERNELS,
  ...GEMM_KERNELS,
  ...SOFTMAX_KERNELS,
  ...NORM_KERNELS,
  ...ACT_KERNELS,
  ...POSITION_KERNELS,
  ...EMBED_KERNELS,
  ...ATTENTION_KERNELS,
  ...ADDITIVE_KERNELS,
  ...QUANT_KERNELS,
  ...KQUANT_KERNELS,
  ...WIDEN_KERNELS,
];

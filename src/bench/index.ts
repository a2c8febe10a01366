// Entry of `simdformer/bench` (dist/bench.js): the kernel registry with its float64 references
// and case makers, and the kernel timer. Kept out of the default entry so that
// `import "simdformer"` carries none of it; the CLI imports this module only for `simdformer bench`.
export { KERNELS } from "../kernels/registry.js";
export type { Dims, KernelCase, KernelEntry } from "../kernels/kernel_entry.js";
export {
  prepareKernel,
  timeCall,
  formatDims,
  formatMicros,
  formatKernelRows,
  runKernelSuite,
  type PreparedKernel,
  type TimerOptions,
  type TimingStats,
  type KernelBenchRow,
  type KernelSuiteOptions,
} from "./kernel_timer.js";

// Public entry of the simdformer package.
export { createRuntime, Runtime, type RuntimeOptions } from "./simdformer.js";
export type { RuntimeFeatures } from "./runtime/engine.js";
export type { BuildName, SimdChoice } from "./runtime/builds.js";
export type { WasmSource } from "./runtime/loader.js";
export type { HostFeatures } from "./runtime/features.js";
export type { KernelExports } from "./kernels/exports.js";
export {
  SimdformerError,
  ShapeError,
  ModelFormatError,
  OutOfMemoryError,
  UnsupportedFeatureError,
  ArgumentError,
  DisposedError,
  WorkerError,
  AbortError,
} from "./errors.js";

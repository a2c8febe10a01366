/** Bit flags of what this build was compiled with: 1 SIMD, 2 relaxed SIMD, 4 threads (shared memory). */
export function build_info(): i32 {
  return (ASC_FEATURE_SIMD ? 1 : 0) | (ASC_FEATURE_RELAXED_SIMD ? 2 : 0) | (ASC_FEATURE_THREADS ? 4 : 0);
}

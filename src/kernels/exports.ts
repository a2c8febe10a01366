// Typed signatures of the wasm exports (the kernel ABI of assembly/index.ts).
// Sizes first, then pointers (byte offsets) and strides (elements), then parameters.

export interface KernelExports {
  /** Bit flags: 1 SIMD, 2 relaxed SIMD, 4 threads. */
  build_info(): number;
  /** out[i] = a[i] + b[i]. */
  f32_add(n: number, a: number, b: number, out: number): void;
  /** Dot product of two f32 vectors. */
  f32_dot(n: number, a: number, b: number): number;
}

// @ts-nocheck: AssemblyScript, compiled by scripts/bench.mjs (not part of the package builds).
// The wasm ceiling probe: the best this host's wasm engine does on register-resident
// f32x4 arithmetic and on streaming reads. Kernel figures are reported as a fraction of it.
// Loops are written out (no helpers that could stay un-inlined) and carry several
// independent accumulators so the latency of each chain is hidden; a value of 0.999 x + 0.001
// converges to 1 and never overflows or goes denormal.

function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** 8 independent f32x4 mul+add chains: 64 flops per iteration. */
export function mul_add_8(iters: i32): f32 {
  let a0 = f32x4.splat(0.10);
  let a1 = f32x4.splat(0.15);
  let a2 = f32x4.splat(0.20);
  let a3 = f32x4.splat(0.25);
  let a4 = f32x4.splat(0.30);
  let a5 = f32x4.splat(0.35);
  let a6 = f32x4.splat(0.40);
  let a7 = f32x4.splat(0.45);
  const m = f32x4.splat(0.999);
  const c = f32x4.splat(0.001);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, m), c);
    a1 = f32x4.add(f32x4.mul(a1, m), c);
    a2 = f32x4.add(f32x4.mul(a2, m), c);
    a3 = f32x4.add(f32x4.mul(a3, m), c);
    a4 = f32x4.add(f32x4.mul(a4, m), c);
    a5 = f32x4.add(f32x4.mul(a5, m), c);
    a6 = f32x4.add(f32x4.mul(a6, m), c);
    a7 = f32x4.add(f32x4.mul(a7, m), c);
  }
  return hsum(a0) + hsum(a1) + hsum(a2) + hsum(a3) + hsum(a4) + hsum(a5) + hsum(a6) + hsum(a7);
}

/** 12 independent f32x4 mul+add chains: 96 flops per iteration. */
export function mul_add_12(iters: i32): f32 {
  let a0 = f32x4.splat(0.10);
  let a1 = f32x4.splat(0.15);
  let a2 = f32x4.splat(0.20);
  let a3 = f32x4.splat(0.25);
  let a4 = f32x4.splat(0.30);
  let a5 = f32x4.splat(0.35);
  let a6 = f32x4.splat(0.40);
  let a7 = f32x4.splat(0.45);
  let a8 = f32x4.splat(0.50);
  let a9 = f32x4.splat(0.55);
  let a10 = f32x4.splat(0.60);
  let a11 = f32x4.splat(0.65);
  const m = f32x4.splat(0.999);
  const c = f32x4.splat(0.001);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, m), c);
    a1 = f32x4.add(f32x4.mul(a1, m), c);
    a2 = f32x4.add(f32x4.mul(a2, m), c);
    a3 = f32x4.add(f32x4.mul(a3, m), c);
    a4 = f32x4.add(f32x4.mul(a4, m), c);
    a5 = f32x4.add(f32x4.mul(a5, m), c);
    a6 = f32x4.add(f32x4.mul(a6, m), c);
    a7 = f32x4.add(f32x4.mul(a7, m), c);
    a8 = f32x4.add(f32x4.mul(a8, m), c);
    a9 = f32x4.add(f32x4.mul(a9, m), c);
    a10 = f32x4.add(f32x4.mul(a10, m), c);
    a11 = f32x4.add(f32x4.mul(a11, m), c);
  }
  return hsum(a0) + hsum(a1) + hsum(a2) + hsum(a3) + hsum(a4) + hsum(a5) + hsum(a6) + hsum(a7) + hsum(a8) + hsum(a9) + hsum(a10) + hsum(a11);
}

/** 8 independent f32x4 relaxed_madd chains: 64 flops per iteration. */
export function relaxed_madd_8(iters: i32): f32 {
  let a0 = f32x4.splat(0.10);
  let a1 = f32x4.splat(0.15);
  let a2 = f32x4.splat(0.20);
  let a3 = f32x4.splat(0.25);
  let a4 = f32x4.splat(0.30);
  let a5 = f32x4.splat(0.35);
  let a6 = f32x4.splat(0.40);
  let a7 = f32x4.splat(0.45);
  const m = f32x4.splat(0.999);
  const c = f32x4.splat(0.001);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.relaxed_madd(a0, m, c);
    a1 = f32x4.relaxed_madd(a1, m, c);
    a2 = f32x4.relaxed_madd(a2, m, c);
    a3 = f32x4.relaxed_madd(a3, m, c);
    a4 = f32x4.relaxed_madd(a4, m, c);
    a5 = f32x4.relaxed_madd(a5, m, c);
    a6 = f32x4.relaxed_madd(a6, m, c);
    a7 = f32x4.relaxed_madd(a7, m, c);
  }
  return hsum(a0) + hsum(a1) + hsum(a2) + hsum(a3) + hsum(a4) + hsum(a5) + hsum(a6) + hsum(a7);
}

/** 12 independent f32x4 relaxed_madd chains: 96 flops per iteration. */
export function relaxed_madd_12(iters: i32): f32 {
  let a0 = f32x4.splat(0.10);
  let a1 = f32x4.splat(0.15);
  let a2 = f32x4.splat(0.20);
  let a3 = f32x4.splat(0.25);
  let a4 = f32x4.splat(0.30);
  let a5 = f32x4.splat(0.35);
  let a6 = f32x4.splat(0.40);
  let a7 = f32x4.splat(0.45);
  let a8 = f32x4.splat(0.50);
  let a9 = f32x4.splat(0.55);
  let a10 = f32x4.splat(0.60);
  let a11 = f32x4.splat(0.65);
  const m = f32x4.splat(0.999);
  const c = f32x4.splat(0.001);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.relaxed_madd(a0, m, c);
    a1 = f32x4.relaxed_madd(a1, m, c);
    a2 = f32x4.relaxed_madd(a2, m, c);
    a3 = f32x4.relaxed_madd(a3, m, c);
    a4 = f32x4.relaxed_madd(a4, m, c);
    a5 = f32x4.relaxed_madd(a5, m, c);
    a6 = f32x4.relaxed_madd(a6, m, c);
    a7 = f32x4.relaxed_madd(a7, m, c);
    a8 = f32x4.relaxed_madd(a8, m, c);
    a9 = f32x4.relaxed_madd(a9, m, c);
    a10 = f32x4.relaxed_madd(a10, m, c);
    a11 = f32x4.relaxed_madd(a11, m, c);
  }
  return hsum(a0) + hsum(a1) + hsum(a2) + hsum(a3) + hsum(a4) + hsum(a5) + hsum(a6) + hsum(a7) + hsum(a8) + hsum(a9) + hsum(a10) + hsum(a11);
}

/**
 * Sums `bytes` (a multiple of 128) from `ptr` with 8 independent f32x4 accumulators:
 * a pure streaming read, the most a bandwidth-bound kernel (GEMV) can approach.
 */
export function read_sum(ptr: usize, bytes: usize): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let s2 = f32x4.splat(0);
  let s3 = f32x4.splat(0);
  let s4 = f32x4.splat(0);
  let s5 = f32x4.splat(0);
  let s6 = f32x4.splat(0);
  let s7 = f32x4.splat(0);
  const end = ptr + bytes;
  for (let p = ptr; p < end; p += 128) {
    s0 = f32x4.add(s0, v128.load(p));
    s1 = f32x4.add(s1, v128.load(p, 16));
    s2 = f32x4.add(s2, v128.load(p, 32));
    s3 = f32x4.add(s3, v128.load(p, 48));
    s4 = f32x4.add(s4, v128.load(p, 64));
    s5 = f32x4.add(s5, v128.load(p, 80));
    s6 = f32x4.add(s6, v128.load(p, 96));
    s7 = f32x4.add(s7, v128.load(p, 112));
  }
  return hsum(f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(s4, s5), f32x4.add(s6, s7))));
}

/**
 * The same read as four concurrent streams, one per quarter of the range (`bytes` a multiple
 * of 128): blocked kernels read several panels at once, which keeps more memory requests in
 * flight than one stream does.
 */
export function read_sum_4streams(ptr: usize, bytes: usize): f32 {
  let s0 = f32x4.splat(0);
  let s1 = f32x4.splat(0);
  let s2 = f32x4.splat(0);
  let s3 = f32x4.splat(0);
  let s4 = f32x4.splat(0);
  let s5 = f32x4.splat(0);
  let s6 = f32x4.splat(0);
  let s7 = f32x4.splat(0);
  const q = bytes >> 2;
  const end = ptr + q;
  for (let p = ptr; p < end; p += 32) {
    s0 = f32x4.add(s0, v128.load(p));
    s1 = f32x4.add(s1, v128.load(p, 16));
    s2 = f32x4.add(s2, v128.load(p + q));
    s3 = f32x4.add(s3, v128.load(p + q, 16));
    s4 = f32x4.add(s4, v128.load(p + 2 * q));
    s5 = f32x4.add(s5, v128.load(p + 2 * q, 16));
    s6 = f32x4.add(s6, v128.load(p + 3 * q));
    s7 = f32x4.add(s7, v128.load(p + 3 * q, 16));
  }
  return hsum(f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(s4, s5), f32x4.add(s6, s7))));
}

// GEMM-shaped probes: a 4 x 8 register tile over operands streamed from a 4 KiB
// L1-resident buffer (b: 2 vectors, a: 4 broadcast floats per step), the loop a blocked
// GEMM microkernel runs. The products do not depend on the accumulators, so only the adds
// (or fused madds) chain: this reaches the FP pipes' peak where the chains above stay
// latency-bound. The buffer holds small values: sums stay finite and normal.

/** 4 x 8 tile, mul then add: 64 flops per iteration. */
export function tile_mul_add_4x2(ptr: usize, iters: i32): f32 {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let off: usize = 0;
  for (let i = 0; i < iters; i++) {
    const p = ptr + off;
    const b0 = v128.load(p, 0);
    const b1 = v128.load(p, 16);
    const a0 = v128.load32_splat(p, 32);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    const a1 = v128.load32_splat(p, 36);
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    const a2 = v128.load32_splat(p, 40);
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    const a3 = v128.load32_splat(p, 44);
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    off = (off + 48) & 4095;
  }
  let s = c00;
  s = f32x4.add(s, c01);
  s = f32x4.add(s, c10);
  s = f32x4.add(s, c11);
  s = f32x4.add(s, c20);
  s = f32x4.add(s, c21);
  s = f32x4.add(s, c30);
  s = f32x4.add(s, c31);
  return hsum(s);
}


/** 4 x 8 tile, relaxed_madd: 64 flops per iteration. */
export function tile_relaxed_madd_4x2(ptr: usize, iters: i32): f32 {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let off: usize = 0;
  for (let i = 0; i < iters; i++) {
    const p = ptr + off;
    const b0 = v128.load(p, 0);
    const b1 = v128.load(p, 16);
    const a0 = v128.load32_splat(p, 32);
    c00 = f32x4.relaxed_madd(a0, b0, c00);
    c01 = f32x4.relaxed_madd(a0, b1, c01);
    const a1 = v128.load32_splat(p, 36);
    c10 = f32x4.relaxed_madd(a1, b0, c10);
    c11 = f32x4.relaxed_madd(a1, b1, c11);
    const a2 = v128.load32_splat(p, 40);
    c20 = f32x4.relaxed_madd(a2, b0, c20);
    c21 = f32x4.relaxed_madd(a2, b1, c21);
    const a3 = v128.load32_splat(p, 44);
    c30 = f32x4.relaxed_madd(a3, b0, c30);
    c31 = f32x4.relaxed_madd(a3, b1, c31);
    off = (off + 48) & 4095;
  }
  let s = c00;
  s = f32x4.add(s, c01);
  s = f32x4.add(s, c10);
  s = f32x4.add(s, c11);
  s = f32x4.add(s, c20);
  s = f32x4.add(s, c21);
  s = f32x4.add(s, c30);
  s = f32x4.add(s, c31);
  return hsum(s);
}

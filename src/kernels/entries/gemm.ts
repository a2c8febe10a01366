import type { Engine } from "../../engine/engine.js";
import type { Rng } from "../../util/rng.js";
import { readF32 } from "../bindings.js";
import {
  ACT_GELU, ACT_GELU_TANH, ACT_NONE, ACT_RELU, ACT_SILU, GEMM_ACCUMULATE, type KernelExports,
} from "../exports.js";
import { type Dims, type KernelCase, type KernelEntry, stage } from "../kernel_entry.js";
import { erfc64 } from "./act.js";
import { padded } from "./strided.js";

// GEMM family (assembly/pack.ts, f32_gemm.ts, f32_gemv.ts). Register tile MR x NR = 4 x 8:
// the test shapes walk M over 1, MR-1, MR, MR+1, primes and a block of more than MC rows,
// N over 1, NR-1, NR, NR+1, primes, K over 1, primes, 257 and 1031, without the full product.
// Every matrix has a row stride larger than its width, with NaN in the padding: a kernel that
// reads past a row shows NaN, one that writes past a row changes the padding, and both fail.
const MR = 4;
const NR = 8;

/** The activation of the fused epilogue, in float64. */
function act64(code: number, x: number): number {
  switch (code) {
    case ACT_RELU: return Math.max(x, 0);
    case ACT_GELU: return 0.5 * x * erfc64(-x / Math.SQRT2);
    case ACT_GELU_TANH: return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    case ACT_SILU: return x / (1 + Math.exp(-x));
    default: return x;
  }
}

/** Row strides of the staged matrices (wider than the rows, so strides are exercised). */
const lda = (d: Dims) => d.k + 3;
const ldb = (d: Dims) => d.n + 2;
const ldbt = (d: Dims) => d.k + 1;
const ldc = (d: Dims) => d.n + 1;

/** Float64 A.B over padded A (m x k, stride lda) and B (k x n, stride ldb): sums and sums of |terms|. */
function matmul64(a: Float32Array, sa: number, b: (kk: number, j: number) => number, m: number, n: number, k: number) {
  const sum = new Float64Array(m * n);
  const abs = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let t = 0;
      for (let kk = 0; kk < k; kk++) {
        const p = a[i * sa + kk] * b(kk, j);
        s += p;
        t += Math.abs(p);
      }
      sum[i * n + j] = s;
      abs[i * n + j] = t;
    }
  }
  return { sum, abs };
}

/** B's element (kk, j) from the case: staged as B (k x n) or, with d.bt, as B^T (n x k). */
function bAt(c: KernelCase): (kk: number, j: number) => number {
  const { b } = c.inputs;
  return c.dims.bt ? (kk, j) => b[j * ldbt(c.dims) + kk] : (kk, j) => b[kk * ldb(c.dims) + j];
}

/** Packs the case's B with the build's own packer (the one under test) and returns the packed pointer. */
function packB(k: KernelExports, engine: Engine, c: KernelCase, bPtr: number): number {
  const d = c.dims;
  const packed = stage(engine, { packed: new Float32Array(k.f32_gemm_packed_size(d.k, d.n)).fill(NaN) }).packed;
  if (d.bt) k.f32_gemm_pack_bt(d.k, d.n, bPtr, ldbt(d), packed);
  else k.f32_gemm_pack_b(d.k, d.n, bPtr, ldb(d), packed);
  return packed;
}

/** The C the kernel starts from: random where it accumulates, NaN where it must not be read. */
function initialC(rng: Rng, d: Dims, rows: number, cols: number, ld: number): Float32Array {
  const c = new Float32Array(rows * ld).fill(NaN);
  if (d.acc) {
    const v = rng.f32(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) c[i * ld + j] = v[i * cols + j];
  }
  return c;
}

/** act(sum + bias) [+ c0] over the staged C (padding stays NaN), and the error scale. */
function epilogue64(c: KernelCase, sum: Float64Array, abs: Float64Array, rows: number, cols: number, ld: number) {
  const { bias, c0 } = c.inputs;
  const out = new Float64Array(rows * ld).fill(NaN);
  let scale = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const bj = bias ? bias[j] : 0;
      let v = act64(c.dims.act, sum[i * cols + j] + bj);
      if (c.dims.acc) v += c0[i * ld + j];
      out[i * ld + j] = v;
      // The activations' slopes stay below 1.2, so the error of the sum carries over.
      scale = Math.max(scale, abs[i * cols + j] + Math.abs(bj) + (c.dims.acc ? Math.abs(c0[i * ld + j]) : 0));
    }
  }
  return { out, scale };
}

/** Largest element (0 for none); a loop, since spreading a big array overflows the stack. */
function maxOf(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, v);
  return m;
}

function flagsOf(d: Dims): number {
  return (d.act ?? ACT_NONE) | (d.acc ? GEMM_ACCUMULATE : 0);
}

// reference() and errorScale() both need the float64 product: computed once per case.
const gemmRefs = new WeakMap<KernelCase, ReturnType<typeof epilogue64>>();

function gemmReference(c: KernelCase) {
  const cached = gemmRefs.get(c);
  if (cached) return cached;
  const { m, n, k } = c.dims;
  const { sum, abs } = matmul64(c.inputs.a, lda(c.dims), bAt(c), m, n, k);
  const ref = epilogue64(c, sum, abs, m, n, ldc(c.dims));
  gemmRefs.set(c, ref);
  return ref;
}

function makeGemmCase(d: Dims, rng: Rng): KernelCase {
  const inputs: Record<string, Float32Array> = {
    a: padded(rng, d.m, d.k, lda(d)),
    b: d.bt ? padded(rng, d.n, d.k, ldbt(d)) : padded(rng, d.k, d.n, ldb(d)),
    c0: initialC(rng, d, d.m, d.n, ldc(d)),
  };
  if (d.bias) inputs.bias = rng.f32(d.n);
  return { dims: d, inputs, params: {} };
}

// Matrix products: error relative to the largest sum of |terms| (plus |bias| and |C|).
const PRODUCT_TOLERANCE = { abs: 0, rel: 1e-6 };

const shape = (m: number, k: number, n: number, extra: Dims = {}): Dims => ({ m, k, n, ...extra });

const gemm: KernelEntry = {
  name: "f32_gemm",
  tile: { m: MR, n: NR },
  shapes: [
    // plain: tile edges in M and N, K from 1 to large
    shape(1, 1, 1), shape(MR - 1, 7, NR - 1), shape(MR, 8, NR), shape(MR + 1, 13, NR + 1),
    shape(2, 5, 3), shape(7, 31, 17), shape(13, 257, 31), shape(6, 1, 2 * NR),
    shape(MR, 1031, NR), shape(9, 3, 65), shape(31, 1031, 33), shape(1, 257, 35),
    // more rows than one row block (2 MiB of A: 64 rows at K = 8191)
    shape(67, 8191, 3),
    // B packed from its transpose (torch Linear weight layout)
    shape(5, 13, 9, { bt: 1 }), shape(MR, 1031, NR + 3, { bt: 1 }), shape(3, 2, 1, { bt: 1 }), shape(1, 31, 17, { bt: 1 }),
    // fused epilogue: bias, each activation, accumulate (residual add), combinations
    shape(5, 13, 9, { bias: 1, act: ACT_RELU }), shape(MR, 257, 2 * NR + 1, { bias: 1, act: ACT_RELU }),
    shape(7, 13, 17, { bias: 1, act: ACT_GELU }), shape(1, 31, 9, { bias: 1, act: ACT_GELU }),
    shape(MR + 1, 7, NR - 1, { act: ACT_GELU }),
    shape(7, 13, 17, { bias: 1, act: ACT_GELU_TANH }), shape(3, 5, 9, { act: ACT_GELU_TANH }),
    shape(7, 13, 17, { bias: 1, act: ACT_SILU }), shape(1, 13, 3, { bias: 1, act: ACT_SILU }),
    shape(5, 31, 9, { acc: 1 }), shape(5, 31, 9, { bias: 1, acc: 1 }), shape(1, 31, 13, { bias: 1, acc: 1 }),
    shape(MR + 1, 13, NR + 1, { bias: 1, act: ACT_GELU, acc: 1, bt: 1 }),
  ],
  // Issue's MatMul shapes as (M, K, N); M = 1 is the decode case (GEMV on the packed B).
  benchShapes: [
    shape(1, 768, 768), shape(1, 768, 3072), shape(1, 4096, 4096),
    shape(128, 768, 768), shape(128, 768, 3072), shape(512, 512, 512),
  ],
  flops: (d) => 2 * d.m * d.n * d.k,
  makeCase: makeGemmCase,
  reference: (c) => gemmReference(c).out,
  errorScale: (c) => gemmReference(c).scale,
  run(k, engine, c) {
    const d = c.dims;
    const p = stage(engine, c.inputs);
    const packed = packB(k, engine, c, p.b);
    k.f32_gemm(d.m, d.n, d.k, p.a, lda(d), packed, p.c0, ldc(d), p.bias ?? 0, flagsOf(d));
    return readF32(engine, p.c0, d.m * ldc(d));
  },
  tolerance: PRODUCT_TOLERANCE,
};

// GEMV: y has no stride; four NaN floats after it catch writes past N.
const GUARD = 4;

const gemv: KernelEntry = {
  name: "f32_gemv",
  // Three panels per step (four on B over 16 MiB), then two, then one.
  tile: { n: 3 * NR },
  shapes: [
    shape(1, 1, 1), shape(1, 7, NR - 1), shape(1, 8, NR), shape(1, 13, NR + 1), shape(1, 31, 2 * NR - 1),
    shape(1, 257, 2 * NR), shape(1, 3, 2 * NR + 1), shape(1, 5, 3 * NR - 1), shape(1, 7, 3 * NR), shape(1, 9, 3 * NR + 1),
    shape(1, 11, 5 * NR), shape(1, 1031, 5 * NR + 3), shape(1, 13, 7 * NR + 5),
    shape(1, 31, 97, { bt: 1 }),
    shape(1, 13, 37, { bias: 1, act: ACT_GELU }), shape(1, 13, 37, { bias: 1, act: ACT_RELU }),
    shape(1, 13, 37, { act: ACT_GELU_TANH }), shape(1, 13, 37, { bias: 1, act: ACT_SILU }),
    shape(1, 31, 41, { bias: 1, acc: 1 }), shape(1, 31, 19, { act: ACT_SILU, acc: 1 }),
    // B over 16 MiB: the four-panel loop of memory-bound weights
    shape(1, 1031, 4137, { bias: 1, act: ACT_SILU, acc: 1 }),
  ],
  benchShapes: [shape(1, 768, 768), shape(1, 768, 3072), shape(1, 4096, 4096)],
  flops: (d) => 2 * d.n * d.k,
  makeCase(d, rng) {
    const c = makeGemmCase(d, rng);
    c.inputs.c0 = initialC(rng, d, 1, d.n + GUARD, d.n + GUARD);
    c.inputs.c0.fill(NaN, d.n);
    return c;
  },
  reference(c) {
    const { n, k } = c.dims;
    const { sum, abs } = matmul64(c.inputs.a, lda(c.dims), bAt(c), 1, n, k);
    return epilogue64(c, sum, abs, 1, n, n + GUARD).out;
  },
  errorScale(c) {
    const { n, k } = c.dims;
    const { sum, abs } = matmul64(c.inputs.a, lda(c.dims), bAt(c), 1, n, k);
    return epilogue64(c, sum, abs, 1, n, n + GUARD).scale;
  },
  run(k, engine, c) {
    const d = c.dims;
    const p = stage(engine, c.inputs);
    const packed = packB(k, engine, c, p.b);
    k.f32_gemv(d.n, d.k, p.a, packed, p.c0, p.bias ?? 0, flagsOf(d));
    return readF32(engine, p.c0, d.n + GUARD);
  },
  tolerance: PRODUCT_TOLERANCE,
};

/** The packed layout itself, against a float64 packer: panels of NR, zero padding, exact. */
function packEntry(name: "f32_gemm_pack_b" | "f32_gemm_pack_bt"): KernelEntry {
  const bt = name === "f32_gemm_pack_bt" ? 1 : 0;
  return {
    name,
    tile: { k: 4, n: NR },
    shapes: [[1, 1], [3, NR - 1], [4, NR], [5, NR + 1], [7, 4], [13, 3], [31, 2 * NR + 5], [257, 13]].map(
      ([k, n]) => ({ k, n, bt }),
    ),
    benchShapes: [{ k: 768, n: 3072, bt }, { k: 4096, n: 4096, bt }],
    flops: () => 0,
    makeCase: (d, rng) => ({
      dims: d,
      inputs: { b: bt ? padded(rng, d.n, d.k, ldbt(d)) : padded(rng, d.k, d.n, ldb(d)) },
      params: {},
    }),
    reference(c) {
      const { k, n } = c.dims;
      const b = bAt(c);
      const panels = Math.ceil(n / NR);
      const out = new Float64Array(panels * NR * k);
      for (let p = 0; p < panels; p++) {
        for (let kk = 0; kk < k; kk++) {
          for (let t = 0; t < NR; t++) {
            const j = p * NR + t;
            out[(p * k + kk) * NR + t] = j < n ? b(kk, j) : 0;
          }
        }
      }
      return out;
    },
    run(k, engine, c) {
      const d = c.dims;
      const p = stage(engine, c.inputs);
      const packed = packB(k, engine, c, p.b);
      return readF32(engine, packed, k.f32_gemm_packed_size(d.k, d.n));
    },
    tolerance: { abs: 0, rel: 0 },
  };
}

const gemmNt: KernelEntry = {
  name: "f32_gemm_nt",
  tile: { m: 2, n: 4, k: 4 },
  shapes: [
    shape(1, 1, 1), shape(1, 3, 3), shape(2, 4, 4), shape(3, 5, 5), shape(5, 7, 9), shape(7, 13, 13),
    shape(13, 64, 31), shape(4, 257, 6), shape(3, 1031, 5), shape(2, 63, 1),
  ],
  // Attention scores: prefill 128 x 128 over head_dim 64, decode 1 x 1024.
  benchShapes: [shape(128, 64, 128), shape(1, 64, 1024)],
  flops: (d) => 2 * d.m * d.n * d.k,
  makeCase: (d, rng) => ({
    dims: d,
    inputs: { a: padded(rng, d.m, d.k, lda(d)), b: padded(rng, d.n, d.k, ldbt(d)), c0: new Float32Array(d.m * ldc(d)).fill(NaN) },
    params: { alpha: 0.125 },
  }),
  reference(c) {
    const d = c.dims;
    const { sum } = matmul64(c.inputs.a, lda(d), (kk, j) => c.inputs.b[j * ldbt(d) + kk], d.m, d.n, d.k);
    const out = new Float64Array(d.m * ldc(d)).fill(NaN);
    for (let i = 0; i < d.m; i++) for (let j = 0; j < d.n; j++) out[i * ldc(d) + j] = c.params.alpha * sum[i * d.n + j];
    return out;
  },
  errorScale(c) {
    const d = c.dims;
    const { abs } = matmul64(c.inputs.a, lda(d), (kk, j) => c.inputs.b[j * ldbt(d) + kk], d.m, d.n, d.k);
    return c.params.alpha * maxOf(abs);
  },
  run(k, engine, c) {
    const d = c.dims;
    const p = stage(engine, c.inputs);
    k.f32_gemm_nt(d.m, d.n, d.k, p.a, lda(d), p.b, ldbt(d), p.c0, ldc(d), c.params.alpha);
    return readF32(engine, p.c0, d.m * ldc(d));
  },
  tolerance: PRODUCT_TOLERANCE,
};

const gemmNn: KernelEntry = {
  name: "f32_gemm_nn",
  tile: { m: MR, n: NR },
  shapes: [
    shape(1, 1, 1), shape(MR - 1, 7, NR - 1), shape(MR, 8, NR), shape(MR + 1, 13, NR + 1), shape(7, 31, 17),
    shape(13, 257, 64), shape(1, 1031, 64), shape(9, 3, 2 * NR + 3), shape(2, 5, 3),
    // rows past the last multiple of MR go 2 x NR columns at a time
    shape(3, 13, 2 * NR + 3), shape(1, 5, 3 * NR), shape(6, 31, 5 * NR - 1),
  ],
  // Attention P.V: prefill 128 x 128 keys -> head_dim 64, decode 1 x 1024 keys.
  benchShapes: [shape(128, 128, 64), shape(1, 1024, 64)],
  flops: (d) => 2 * d.m * d.n * d.k,
  makeCase: (d, rng) => ({
    dims: d,
    inputs: { a: padded(rng, d.m, d.k, lda(d)), b: padded(rng, d.k, d.n, ldb(d)), c0: new Float32Array(d.m * ldc(d)).fill(NaN) },
    params: {},
  }),
  reference(c) {
    const d = c.dims;
    const { sum } = matmul64(c.inputs.a, lda(d), bAt(c), d.m, d.n, d.k);
    const out = new Float64Array(d.m * ldc(d)).fill(NaN);
    for (let i = 0; i < d.m; i++) for (let j = 0; j < d.n; j++) out[i * ldc(d) + j] = sum[i * d.n + j];
    return out;
  },
  errorScale(c) {
    const d = c.dims;
    return maxOf(matmul64(c.inputs.a, lda(d), bAt(c), d.m, d.n, d.k).abs);
  },
  run(k, engine, c) {
    const d = c.dims;
    const p = stage(engine, c.inputs);
    k.f32_gemm_nn(d.m, d.n, d.k, p.a, lda(d), p.b, ldb(d), p.c0, ldc(d));
    return readF32(engine, p.c0, d.m * ldc(d));
  },
  tolerance: PRODUCT_TOLERANCE,
};

/** GEMM/GEMV kernels, the packing they read, and the two unpacked attention products. */
export const GEMM_KERNELS: KernelEntry[] = [
  packEntry("f32_gemm_pack_b"), packEntry("f32_gemm_pack_bt"), gemm, gemv, gemmNt, gemmNn,
];

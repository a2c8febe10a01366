import { type Block32Type, dequantizeMatrix, quantizeMatrix, type QuantType } from "../../tensor/quant_blocks.js";
import type { Engine } from "../../engine/engine.js";
import type { Rng } from "../../util/rng.js";
import { readF32 } from "../bindings.js";
import { ACT_NONE, ACT_RELU, ACT_SILU, GEMM_ACCUMULATE, type KernelExports } from "../exports.js";
import { type Dims, type KernelCase, type KernelEntry, stage } from "../kernel_entry.js";

// Quantized weights (assembly/q_pack.ts, q_gemv.ts). The weight is made in float, quantized
// to GGUF blocks by tensor/quant_blocks.ts, handed to the build's repack, and the kernel's
// output is compared with the float64 product of the *dequantized* weight and the *float*
// activations. The kernel quantizes the activations per block of 32 as llama.cpp does
// (q = round(x 127 / max|x|), dx = f16(max|x| / 127): |x - dx q| <= dx / 2 + 127 |dx - max|x| / 127|,
// the second term the f16 rounding, <= max|x| 2^-11), so the allowed error is that bound per output:
//   sum over blocks b of that bound * sum_t |w_t|  (+ 1e-6 of the sum of |terms| for f32 rounding),
// times 1.2 (the activations' largest slope) where an activation is fused. Typically the
// error is ~1/4 of the bound (rounding errors partly cancel); see tests/kernels/quant.test.ts.
// Shapes: K over multiples of 32 (1, 3, 7, 13, 31 and 129 blocks), N over 1, 3, 4, 5, 7, 8, 9,
// primes (panels of 8 rows, combined 4 at a time).

/** Rows per panel of the packed layout (the kernels combine half a panel, 4 rows, at a time). */
const PR = 8;
const QR = 4;

/** GGUF bytes staged through the Float32Array-only case inputs (the bits are copied, not converted). */
export function bytesAsF32(b: Uint8Array): Float32Array {
  const f = new Float32Array(Math.ceil(b.byteLength / 4));
  new Uint8Array(f.buffer).set(b);
  return f;
}

/** Row strides of x and C in the cases (not the widths: the kernels must honour them). */
export const ldx = (d: Dims) => d.k + 5;
export const ldc = (d: Dims) => d.n + 3;
/** Floats after a GEMV's y that must stay NaN. */
export const GUARD = 4;

/** A case of a quantized product: W quantized to `type`, x in float (q8_quantize_rows quantizes it). */
export function makeQuantCase(type: QuantType, d: Dims, rng: Rng): KernelCase {
  const w = rng.f32(d.n * d.k);
  const blocks = quantizeMatrix(type, w, d.n, d.k).blocks;
  const m = d.m ?? 1;
  const x = new Float32Array(m * ldx(d)).fill(NaN);
  for (let i = 0; i < m; i++) for (let j = 0; j < d.k; j++) x[i * ldx(d) + j] = rng.uniform(-1, 1) * (j % 64 < 32 ? 1 : 0.01);
  const rows = d.m === undefined ? 1 : m;
  const ld = d.m === undefined ? d.n + GUARD : ldc(d);
  const c0 = new Float32Array(rows * ld).fill(NaN);
  if (d.acc) for (let i = 0; i < rows; i++) for (let j = 0; j < d.n; j++) c0[i * ld + j] = rng.uniform(-1, 1);
  const inputs: Record<string, Float32Array> = { blocks: bytesAsF32(blocks), x, c0, w: dequantizeMatrix({ type, rows: d.n, cols: d.k, blocks }) };
  if (d.bias) inputs.bias = rng.f32(d.n);
  return { dims: d, inputs, params: {} };
}

function act64(code: number, x: number): number {
  if (code === ACT_RELU) return Math.max(x, 0);
  if (code === ACT_SILU) return x / (1 + Math.exp(-x));
  return x;
}

/**
 * Float64 reference over the dequantized weight and float x, and the per-output error bound for
 * activations quantized per `block` values: 32 (q8_0 records, f16 dx) or 256 (Q8_K, f32 dx).
 */
function quantReference(c: KernelCase, block: number): { out: Float64Array; bound: number } {
  const d = c.dims;
  const gemv = d.m === undefined;
  const m = d.m ?? 1;
  const ld = gemv ? d.n + GUARD : ldc(d);
  const { w, x, bias, c0 } = c.inputs;
  const out = new Float64Array(m * ld).fill(NaN);
  let bound = 0;
  for (let i = 0; i < m; i++) {
    const xr = x.subarray(i * ldx(d), i * ldx(d) + d.k);
    // Largest |x - dx q| of each block of 32 (a Q8_K super-block's bound in each of its 8).
    const err: number[] = [];
    for (let b = 0; b < d.k / 32; b++) {
      const b0 = b - (b % (block / 32));
      let amax = 0;
      for (let t = 0; t < block; t++) amax = Math.max(amax, Math.abs(xr[b0 * 32 + t]));
      const dx = amax / 127;
      err.push(dx / 2 + (block === 32 ? 127 * Math.max(dx * 2 ** -11, 2 ** -25) : 0));
    }
    for (let j = 0; j < d.n; j++) {
      let s = 0;
      let abs = 0;
      let q = 0;
      for (let b = 0; b < d.k / 32; b++) {
        let wabs = 0;
        for (let t = 0; t < 32; t++) {
          const kk = b * 32 + t;
          const p = w[j * d.k + kk] * xr[kk];
          s += p;
          abs += Math.abs(p);
          wabs += Math.abs(w[j * d.k + kk]);
        }
        q += err[b] * wabs;
      }
      const bj = bias ? bias[j] : 0;
      let v = act64(d.act ?? ACT_NONE, s + bj);
      if (d.acc) v += c0[i * ld + j];
      out[i * ld + j] = v;
      const slope = d.act ? 1.2 : 1;
      bound = Math.max(bound, slope * (q * (1 + 1e-5) + 1e-6 * (abs + Math.abs(bj))) + (d.acc ? 1e-6 * Math.abs(c0[i * ld + j]) : 0));
    }
  }
  return { out, bound };
}

const refs = new WeakMap<KernelCase, ReturnType<typeof quantReference>>();
/** The float64 reference of a quantized-product case and its error bound (activations per `block`), computed once per case. */
export function cachedReference(c: KernelCase, block = 32) {
  let r = refs.get(c);
  if (!r) refs.set(c, (r = quantReference(c, block)));
  return r;
}

/** Stages the blocks and repacks them with the build's own repack; returns quants and scales pointers. */
export function repackStaged(k: KernelExports, engine: Engine, type: Block32Type, n: number, kk: number, blocksPtr: number) {
  const qBytes = type === "q8_0" ? k.q8_0_quant_bytes(n, kk) : k.q4_0_quant_bytes(n, kk);
  const quants = engine.scratch.alloc(qBytes);
  const scales = engine.scratch.alloc(k.q_scale_bytes(n, kk));
  // Garbage in the outputs: the repack must write every byte (padding rows included).
  engine.mem.u8.fill(0xa5, quants, quants + qBytes);
  engine.mem.u8.fill(0xa5, scales, scales + k.q_scale_bytes(n, kk));
  if (type === "q8_0") k.q8_0_repack(n, kk, blocksPtr, quants, scales);
  else k.q4_0_repack(n, kk, blocksPtr, quants, scales);
  return { quants, scales, qBytes };
}

export const flagsOf = (d: Dims) => (d.act ?? ACT_NONE) | (d.acc ? GEMM_ACCUMULATE : 0);

function quantProduct(type: Block32Type, gemm: boolean): KernelEntry {
  const s = (n: number, k: number, extra: Dims = {}): Dims => (gemm ? { m: 3, n, k, ...extra } : { n, k, ...extra });
  const name = `${type}_${gemm ? "gemm" : "gemv"}` as const;
  return {
    name,
    tile: { n: 2 * QR, k: 32 },
    shapes: [
      s(1, 32), s(3, 32), s(4, 64), s(5, 96), s(7, 224), s(8, 32), s(9, 416), s(13, 32), s(31, 96), s(37, 4128),
      s(8, 992, { bias: 1 }), s(11, 64, { bias: 1, act: ACT_RELU }), s(17, 96, { act: ACT_SILU, acc: 1 }),
      s(23, 32, { bias: 1, acc: 1 }), s(6, 64, { bias: 1, act: ACT_SILU }),
      ...(gemm ? [{ m: 1, n: 9, k: 64 }, { m: 5, n: 29, k: 160, bias: 1 }, { m: 17, n: 12, k: 32 }] : []),
    ],
    benchShapes: gemm
      ? [{ m: 128, n: 768, k: 768 }, { m: 128, n: 3072, k: 768 }]
      : [{ n: 768, k: 768 }, { n: 3072, k: 768 }, { n: 4096, k: 4096 }],
    flops: (d) => 2 * (d.m ?? 1) * d.n * d.k,
    makeCase: (d, rng) => makeQuantCase(type, d, rng),
    reference: (c) => cachedReference(c).out,
    errorScale: (c) => cachedReference(c).bound,
    run(k, engine, c) {
      const d = c.dims;
      const { w: _w, ...staged } = c.inputs;
      const p = stage(engine, staged);
      const { quants, scales } = repackStaged(k, engine, type, d.n, d.k, p.blocks);
      const m = d.m ?? 1;
      const xq = engine.scratch.alloc(m * k.q8_xq_bytes(d.k));
      k.q8_quantize_rows(m, d.k, p.x, ldx(d), xq);
      if (!gemm) {
        (type === "q8_0" ? k.q8_0_gemv : k.q4_0_gemv)(d.n, d.k, xq, quants, scales, p.c0, p.bias ?? 0, flagsOf(d));
        return readF32(engine, p.c0, d.n + GUARD);
      }
      (type === "q8_0" ? k.q8_0_gemm : k.q4_0_gemm)(m, d.n, d.k, xq, quants, scales, p.c0, ldc(d), p.bias ?? 0, flagsOf(d));
      return readF32(engine, p.c0, m * ldc(d));
    },
    // The error bound is the whole allowance (see above).
    tolerance: { abs: 0, rel: 1 },
  };
}

/**
 * The repack itself: the packed quants and scales are read back through the documented
 * layout (src/engine/kernel_abi.ts) and must give the GGUF blocks' values exactly, padding rows zero.
 */
function repackEntry(type: Block32Type): KernelEntry {
  return {
    name: `${type}_repack`,
    tile: { n: PR, k: 32 },
    shapes: [[1, 32], [3, 64], [4, 32], [5, 96], [9, 32], [13, 160], [31, 1024]].map(([n, k]) => ({ n, k })),
    benchShapes: [{ n: 4096, k: 4096 }],
    flops: () => 0,
    makeCase(d, rng) {
      const w = rng.f32(d.n * d.k);
      const blocks = quantizeMatrix(type, w, d.n, d.k).blocks;
      return { dims: d, inputs: { blocks: bytesAsF32(blocks), w: dequantizeMatrix({ type, rows: d.n, cols: d.k, blocks }) }, params: {} };
    },
    reference(c) {
      const { n, k } = c.dims;
      const rows = Math.ceil(n / PR) * PR;
      const out = new Float64Array(rows * k);
      out.set(c.inputs.w);
      return out;
    },
    run(k, engine, c) {
      const d = c.dims;
      const p = stage(engine, { blocks: c.inputs.blocks });
      const { quants, scales } = repackStaged(k, engine, type, d.n, d.k, p.blocks);
      return unpackQuant(engine.mem.u8, type, d.n, d.k, quants, scales);
    },
    tolerance: { abs: 0, rel: 0 },
  };
}

/** The values of a packed matrix (padded rows included), read through the documented layout. */
export function unpackQuant(u8: Uint8Array, type: Block32Type, n: number, k: number, quants: number, scales: number): Float32Array {
  const nb = k / 32;
  const rows = Math.ceil(n / PR) * PR;
  const qb = type === "q8_0" ? 32 : 16;
  const out = new Float32Array(rows * k);
  const sc = new Float32Array(u8.buffer, u8.byteOffset + scales, rows * nb);
  for (let r = 0; r < rows; r++) {
    const p = Math.floor(r / PR);
    const t = r % PR;
    for (let b = 0; b < nb; b++) {
      const slot = p * nb + b;
      const d = sc[slot * PR + t];
      const q0 = quants + (slot * PR + t) * qb;
      for (let u = 0; u < 32; u++) {
        const q = type === "q8_0" ? (u8[q0 + u] << 24) >> 24 : (u < 16 ? u8[q0 + u] & 15 : u8[q0 + u - 16] >> 4) - 8;
        out[r * k + b * 32 + u] = d * q;
      }
    }
  }
  return out;
}

/**
 * An activation quantizer (q8_0 records per 32, or Q8_K per 256): dx * q against x, within half a
 * step (plus the f16 rounding of dx per 32); the i16 and i8 copies and the sum agree, and a Q8_K
 * super-block's 8 records share one dx.
 */
const quantizeRows = (k8: boolean): KernelEntry => ({
  name: k8 ? "q8k_quantize_rows" : "q8_quantize_rows",
  tile: { k: k8 ? 256 : 32 },
  shapes: k8
    ? [{ m: 1, k: 256 }, { m: 3, k: 512 }, { m: 2, k: 1280 }, { m: 5, k: 4096 }]
    : [{ m: 1, k: 32 }, { m: 3, k: 64 }, { m: 2, k: 416 }, { m: 5, k: 4096 }],
  benchShapes: [{ m: 1, k: 4096 }],
  flops: () => 0,
  makeCase(d, rng) {
    const x = new Float32Array(d.m * ldx(d)).fill(NaN);
    // Row 1 starts with an all-zero block (super-block for Q8_K).
    for (let i = 0; i < d.m; i++) for (let j = 0; j < d.k; j++) x[i * ldx(d) + j] = rng.uniform(-4, 4) * (j < (k8 ? 256 : 32) && i === 1 ? 0 : 1);
    return { dims: d, inputs: { x }, params: {} };
  },
  reference(c) {
    const { m, k } = c.dims;
    const out = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) out[i * k + j] = c.inputs.x[i * ldx(c.dims) + j];
    return out;
  },
  // Half a step = max|x| / 254 <= 4 / 254, plus (q8_0) the f16 rounding of dx over 127: 4 * 2^-11.
  errorScale: () => 4 / 254 + (k8 ? 0 : 4 * 2 ** -11),
  run(k, engine, c) {
    const { m, k: kk } = c.dims;
    const p = stage(engine, c.inputs);
    const rec = k.q8_xq_bytes(kk) / (kk / 32);
    const xq = engine.scratch.alloc(m * k.q8_xq_bytes(kk));
    (k8 ? k.q8k_quantize_rows : k.q8_quantize_rows)(m, kk, p.x, ldx(c.dims), xq);
    const dv = new DataView(engine.mem.u8.buffer);
    const out = new Float32Array(m * kk);
    for (let i = 0; i < m; i++) {
      for (let b = 0; b < kk / 32; b++) {
        const r = xq + (i * (kk / 32) + b) * rec;
        const dx = dv.getFloat32(r + 96, true);
        const sums = [0, 0];
        for (let t = 0; t < 32; t++) {
          const q16 = dv.getInt16(r + 2 * t, true);
          const q8 = dv.getInt8(r + 64 + t);
          sums[t >> 4] += q16;
          // A copy that disagrees shows as NaN.
          out[i * kk + b * 32 + t] = q16 === q8 && Math.abs(q16) <= 127 ? dx * q16 : NaN;
        }
        if (sums[0] + sums[1] !== dv.getInt32(r + 100, true)) out[i * kk + b * 32] = NaN;
        if (sums[0] !== dv.getInt16(r + 104, true) || sums[1] !== dv.getInt16(r + 106, true)) out[i * kk + b * 32 + 16] = NaN;
        if (k8 && dx !== dv.getFloat32(r - (b % 8) * rec + 96, true)) out[i * kk + b * 32] = NaN;
      }
    }
    return out;
  },
  tolerance: { abs: 0, rel: 1 + 1e-6 },
});

/** Quantized weights: repacks, the activation quantizer, GEMV and GEMM in q8_0 and q4_0. */
export const QUANT_KERNELS: KernelEntry[] = [
  repackEntry("q8_0"), repackEntry("q4_0"), quantizeRows(false), quantizeRows(true),
  quantProduct("q8_0", false), quantProduct("q4_0", false), quantProduct("q8_0", true), quantProduct("q4_0", true),
];

// q8_0 / q4_0 beyond the registry: the GGUF block codec, the repack's layout and clamp,
// strict SIMD == scalar to the bit, and the quantized Linear op against the float one over
// the dequantized weight (1 and many rows, 1/2/3 threads bit-identical).
import { afterAll, describe, expect, it } from "vitest";
import { type Block32Type, dequantizeMatrix, quantizeMatrix, quantRows, type QuantType } from "../../src/tensor/quant_blocks.js";
import { f16ToF32, f32ToF16 } from "../../src/tensor/half.js";
import { createRuntime, type Runtime } from "../../src/index.js";
import { repackStaged, unpackQuant } from "../../src/kernels/entries/quant.js";
import { Linear } from "../../src/ops/linear.js";
import { WeightBlocks } from "../../src/ops/weight_blocks.js";
import { Rng } from "../../src/util/rng.js";
import { activationRecords, expectRecord, rne } from "./records.js";

const live: Runtime[] = [];
async function runtime(opts: Parameters<typeof createRuntime>[0]): Promise<Runtime> {
  const rt = await createRuntime(opts);
  live.push(rt);
  return rt;
}
afterAll(() => {
  for (const rt of live.splice(0)) rt.dispose();
});

describe("GGUF block codec", () => {
  it("lays out q4_0 as GGUF does: f16 d, byte t = q[t] | q[t+16] << 4, value d (q - 8)", () => {
    const blocks = new Uint8Array(18);
    const dv = new DataView(blocks.buffer);
    dv.setUint16(0, f32ToF16(0.5), true);
    for (let t = 0; t < 16; t++) blocks[2 + t] = (t & 15) | ((15 - t) << 4);
    const v = dequantizeMatrix({ type: "q4_0", rows: 1, cols: 32, blocks });
    for (let t = 0; t < 16; t++) {
      expect(v[t]).toBe(0.5 * (t - 8));
      expect(v[t + 16]).toBe(0.5 * (15 - t - 8));
    }
  });

  // q4_0 has levels -8..7 and maps the extreme to -8, so values near the opposite extreme
  // clamp at 7: up to a whole step off there, half a step elsewhere.
  it.each(["q8_0", "q4_0"] as const)("%s round trip stays within half a step (q4_0: one step) of each block", (type) => {
    const rng = new Rng(5);
    const [rows, cols] = [7, 96];
    const w = rng.f32(rows * cols, -3, 3);
    w.fill(0, 32, 64); // an all-zero block: d = 0, values exactly 0
    const q = quantizeMatrix(type, w, rows, cols);
    expect(q.blocks.byteLength).toBe(rows * (cols / 32) * (type === "q8_0" ? 34 : 18));
    const back = dequantizeMatrix(q);
    const dv = new DataView(q.blocks.buffer);
    for (let b = 0; b < (rows * cols) / 32; b++) {
      const d = Math.abs(f16ToF32(dv.getUint16(b * (type === "q8_0" ? 34 : 18), true)));
      let amax = 0;
      for (let t = 0; t < 32; t++) amax = Math.max(amax, Math.abs(w[b * 32 + t]));
      // Half a step, plus the f16 rounding of d carried over the largest quant (127 or 8).
      const bound = (type === "q8_0" ? d / 2 : d) + amax * 2 ** -11 * 1.01;
      for (let t = 0; t < 32; t++) expect(Math.abs(back[b * 32 + t] - w[b * 32 + t])).toBeLessThanOrEqual(bound);
    }
    for (let t = 32; t < 64; t++) expect(back[t] === 0, "zero block").toBe(true);
    // Row slices are views of whole rows.
    expect(dequantizeMatrix(quantRows(q, 2, 5))).toEqual(back.subarray(2 * cols, 5 * cols));
  });
});

describe("repack", () => {
  it.each(["scalar", "simd", "relaxed"] as const)("puts GGUF q8_0 blocks into 4-row panels and clamps -128 to -127 (%s)", async (build) => {
    const rt = await runtime({ build, threads: 1 });
    const [n, k] = [6, 64];
    const blocks = quantizeMatrix("q8_0", new Rng(2).f32(n * k), n, k).blocks;
    blocks[(1 * 2 + 1) * 34 + 2 + 5] = 0x80; // row 1, block 1, value 5: -128
    const p = rt.engine.scratch.alloc(blocks.byteLength + 3) + 3; // unaligned on purpose
    rt.engine.mem.u8.set(blocks, p);
    const { quants, scales } = repackStaged(rt.kernels, rt.engine, "q8_0", n, k, p);
    const got = unpackQuant(rt.engine.mem.u8, "q8_0", n, k, quants, scales);
    const want = dequantizeMatrix({ type: "q8_0", rows: n, cols: k, blocks });
    const d = f16ToF32(new DataView(blocks.buffer).getUint16((1 * 2 + 1) * 34, true));
    want[1 * k + 32 + 5] = -127 * d;
    expect(got.subarray(0, n * k)).toEqual(want);
    expect([...got.subarray(n * k)].every((v) => v === 0)).toBe(true); // padding rows 6, 7
    rt.engine.scratch.reset();
  });
});

describe("activation quantizer", () => {
  // llama.cpp's x86 quantize_row_q8_0: q = nearest-even(x * f32(127 / amax)), d = f16(f32(amax / 127)).
  it.each(["scalar", "simd", "relaxed"] as const)("writes llama.cpp's q8_0 records exactly (%s)", async (build) => {
    const [m, k] = [3, 160];
    const rng = new Rng(9);
    const x = rng.f32(m * k, -3, 3);
    x.fill(0, 32, 64); // an all-zero block: d = 0, quants 0
    for (let i = 64; i < 96; i++) x[i] = (i - 80) * 2e-7; // d below f16's normal range
    x.fill(0.25, 96, 128); // amax 127: id = 1, so the halves are exact ties, rounded to even (roundf would not)
    [x[96], x[97], x[98], x[99]] = [127, 0.5, 1.5, -2.5];
    const dv = activationRecords(await runtime({ build, threads: 1 }), false, m, k, x);
    for (let b = 0; b < (m * k) / 32; b++) {
      const v = x.subarray(32 * b, 32 * b + 32);
      const amax = v.reduce((a, t) => Math.max(a, Math.abs(t)), 0);
      const id = amax ? Math.fround(127 / amax) : 0;
      expectRecord(dv, 112 * b, Array.from(v, (t) => rne(Math.fround(t * id)) + 0), f16ToF32(f32ToF16(Math.fround(amax / 127))));
    }
  });
});

/** Runs `type` GEMM/GEMV on one build and returns the output bits. */
async function productOn(build: "scalar" | "simd", type: Block32Type, m: number, n: number, k: number): Promise<Float32Array> {
  const rt = await runtime({ build, threads: 1 });
  const e = rt.engine;
  const kern = rt.kernels;
  const rng = new Rng(11);
  const blocks = quantizeMatrix(type, rng.f32(n * k), n, k).blocks;
  const x = rng.f32(m * k, -2, 2);
  const bias = rng.f32(n);
  const pb = e.scratch.alloc(blocks.byteLength);
  e.mem.u8.set(blocks, pb);
  const { quants, scales } = repackStaged(kern, e, type, n, k, pb);
  const px = e.scratch.alloc(m * k * 4);
  e.mem.f32.set(x, px >> 2);
  const xq = e.scratch.alloc(m * kern.q8_xq_bytes(k));
  kern.q8_quantize_rows(m, k, px, k, xq);
  const c = e.scratch.alloc(m * n * 4);
  const pbias = e.scratch.alloc(n * 4);
  e.mem.f32.set(bias, pbias >> 2);
  if (m === 1) (type === "q8_0" ? kern.q8_0_gemv : kern.q4_0_gemv)(n, k, xq, quants, scales, c, pbias, 1);
  else (type === "q8_0" ? kern.q8_0_gemm : kern.q4_0_gemm)(m, n, k, xq, quants, scales, c, n, pbias, 1);
  const out = e.mem.f32.slice(c >> 2, (c >> 2) + m * n);
  e.scratch.reset();
  return out;
}

describe("strict SIMD and scalar agree to the bit", () => {
  for (const type of ["q8_0", "q4_0"] as const) {
    it.each([[1, 37, 416], [1, 9, 32], [5, 13, 160], [3, 8, 4128]])(`${type} m=%i n=%i k=%i`, async (m, n, k) => {
      const [a, b] = [await productOn("scalar", type, m, n, k), await productOn("simd", type, m, n, k)];
      expect(new Uint32Array(b.buffer)).toEqual(new Uint32Array(a.buffer));
    });
  }
});

describe("quantized Linear", () => {
  const [n, k] = [45, 192];
  const rng = new Rng(21);
  const w = rng.f32(n * k);
  const bias = rng.f32(n);

  /** The layer's output for m rows of x, on a runtime of `threads`. */
  async function run(type: QuantType | "f32", m: number, threads: number, x: Float32Array): Promise<Float32Array> {
    const rt = await runtime({ threads });
    const e = rt.engine;
    const blocks = new WeightBlocks(e);
    const weight = type === "f32" ? dequantizeMatrix(quantizeMatrix("q8_0", w, n, k)) : quantizeMatrix(type, w, n, k);
    const lin = Linear.create(e, blocks, { weight, bias, inFeatures: k, outFeatures: n });
    expect(lin.weightType).toBe(type);
    const a = e.scratch.alloc(m * k * 4);
    e.mem.f32.set(x, a >> 2);
    const c = e.scratch.alloc(m * n * 4);
    await lin.run({ m, a, lda: k, c, ldc: n, act: "relu" });
    const out = e.mem.f32.slice(c >> 2, (c >> 2) + m * n);
    e.scratch.reset();
    blocks.dispose();
    return out;
  }

  it.each([1, 6])("q8_0 with m=%i is the float layer over the dequantized weight, within the activation-quantization bound", async (m) => {
    const x = new Rng(3).f32(m * k);
    const [q, f] = [await run("q8_0", m, 1, x), await run("f32", m, 1, x)];
    // |error| <= sum over values of |w| amax (1 / 254 + 2^-11) (half a step, the f16 dx; relu has slope <= 1): amax <= 1, |w| <= 1.
    for (let i = 0; i < q.length; i++) expect(Math.abs(q[i] - f[i])).toBeLessThanOrEqual(k * (1 / 254 + 2 ** -11) * 1.01);
    expect(q.some((v, i) => v !== f[i])).toBe(true);
  });

  // Strict SIMD and scalar evaluate ggml's GELU the same way in the epilogue and in f32_geglu_f16.
  it.each(["scalar", "simd"] as const)("the gelu_f16 epilogue is f32_geglu_f16 of the plain output (%s)", async (build) => {
    const rt = await runtime({ build, threads: 1 });
    const e = rt.engine;
    const blocks = new WeightBlocks(e);
    const lin = Linear.create(e, blocks, { weight: quantizeMatrix("q8_0", w, n, k), bias, inFeatures: k, outFeatures: n });
    const m = 3;
    const a = e.scratch.alloc(m * k * 4);
    e.mem.f32.set(new Rng(6).f32(m * k, -8, 8), a >> 2);
    const [plain, fused, ones] = [e.scratch.alloc(m * n * 4), e.scratch.alloc(m * n * 4), e.scratch.alloc(m * n * 4)];
    e.mem.f32.fill(1, ones >> 2, (ones >> 2) + m * n);
    await lin.run({ m, a, lda: k, c: plain, ldc: n });
    await lin.run({ m, a, lda: k, c: fused, ldc: n, act: "gelu_f16" });
    rt.kernels.f32_geglu_f16(m * n, plain, ones, plain);
    const [want, got] = [e.mem.f32.slice(plain >> 2, (plain >> 2) + m * n), e.mem.f32.slice(fused >> 2, (fused >> 2) + m * n)];
    expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(want.buffer));
    // Below 10 every output is a half (the table's values times 1); from 10 up x itself.
    expect(got.every((v) => v >= 10 || f16ToF32(f32ToF16(v)) === v)).toBe(true);
    expect(got.some((v) => v >= 10) && got.some((v) => v < 10 && v !== 0)).toBe(true);
    e.scratch.reset();
    blocks.dispose();
  });

  it.each(["q8_0", "q4_0"] as const)("%s gives the same bits on 1, 2 and 3 threads (N split by 8-row ranges)", async (type) => {
    for (const m of [1, 7]) {
      const x = new Rng(4).f32(m * k);
      const one = await run(type, m, 1, x);
      for (const threads of [2, 3]) expect(new Uint32Array((await run(type, m, threads, x)).buffer)).toEqual(new Uint32Array(one.buffer));
    }
  });
});

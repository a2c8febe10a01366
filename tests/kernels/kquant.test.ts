// Q4_K / Q5_K / Q6_K beyond the registry: the codec's round trip, strict SIMD == scalar to the
// bit (their integer sums are exact and their f32 steps in one order), any alignment of the
// stored blocks, the k-quant Linear (blocks as stored) bit-identical on 1, 2 and 3 threads, and
// token tables gathered from their blocks equal to the table widened whole.
import { afterAll, describe, expect, it } from "vitest";
import { KQUANT_BLOCK_BYTES, type KQuantType } from "../../src/tensor/kquant_blocks.js";
import { ShapeError } from "../../src/errors.js";
import { Embedding } from "../../src/ops/embedding.js";
import { dequantizeMatrix, quantizeMatrix } from "../../src/tensor/quant_blocks.js";
import { createRuntime, type Runtime } from "../../src/index.js";
import { Linear } from "../../src/ops/linear.js";
import { WeightBlocks } from "../../src/ops/weight_blocks.js";
import { Rng } from "../../src/util/rng.js";
import { activationRecords, expectRecord, rne } from "./records.js";

const TYPES = ["q4_k", "q5_k", "q6_k"] as const;

const live: Runtime[] = [];
async function runtime(opts: Parameters<typeof createRuntime>[0]): Promise<Runtime> {
  const rt = await createRuntime(opts);
  live.push(rt);
  return rt;
}
afterAll(() => {
  for (const rt of live.splice(0)) rt.dispose();
});

describe("k-quant codec", () => {
  // Levels: 16 (Q4_K), 32 (Q5_K) per sub-block of 32 between its min and max; 64 (Q6_K) per 16
  // values around zero. The 6-bit / int8 scales round the step, so allow one step plus that rounding.
  it.each(TYPES)("%s round trip stays within about one step of each sub-block", (type) => {
    const rng = new Rng(8);
    const [rows, cols] = [3, 512];
    const w = rng.f32(rows * cols, -1, 1);
    const back = dequantizeMatrix(quantizeMatrix(type, w, rows, cols));
    const per = type === "q6_k" ? 16 : 32;
    const levels = { q4_k: 15, q5_k: 31, q6_k: 32 }[type];
    for (let b = 0; b < w.length; b += per) {
      let lo = 0, hi = 0;
      for (let i = b; i < b + per; i++) [lo, hi] = [Math.min(lo, w[i]), Math.max(hi, w[i])];
      const step = type === "q6_k" ? Math.max(-lo, hi) / levels : (hi - lo) / levels;
      for (let i = b; i < b + per; i++) expect(Math.abs(back[i] - w[i])).toBeLessThanOrEqual(1.6 * step + 1e-6);
    }
  });
});

describe("Q8_K activation quantizer", () => {
  // ggml's quantize_row_q8_K_ref: mx the first value of largest |x| in 256, iscale = f32(-127 / mx),
  // q = nearest-even(x * iscale), d = f32(1 / iscale) in all 8 records of the super-block.
  it.each(["scalar", "simd", "relaxed"] as const)("writes ggml's Q8_K rule exactly (%s)", async (build) => {
    const [m, k] = [2, 1280];
    const x = new Rng(12).f32(m * k, -3, 3);
    x.fill(0, 256, 512); // an all-zero super-block: d = 0
    x[600] = 7; // a positive largest value (d < 0) ...
    x[700] = -7; // ... tied in |x| by a later negative one, which does not count
    x.fill(0.25, 1536, 1792); // mx = -127: iscale = 1, the halves are exact ties (rounded to even)
    [x[1536], x[1537], x[1538], x[1539]] = [-127, 0.5, 1.5, -2.5];
    const dv = activationRecords(await runtime({ build, threads: 1 }), true, m, k, x);
    for (let s = 0; s < (m * k) / 256; s++) {
      const v = x.subarray(256 * s, 256 * s + 256);
      let mx = 0;
      for (const t of v) if (Math.abs(t) > Math.abs(mx)) mx = t;
      const iscale = mx ? Math.fround(-127 / mx) : 0;
      const d = mx ? Math.fround(1 / iscale) : 0;
      for (let b = 0; b < 8; b++) expectRecord(dv, 112 * (8 * s + b), Array.from(v.subarray(32 * b, 32 * b + 32), (t) => rne(Math.fround(t * iscale)) + 0), d);
    }
    expect(dv.getFloat32(112 * 8 * 2 + 96, true)).toBeLessThan(0);
  });
});

/** `type` GEMV (m = 1) or GEMM on one build, W staged at `misalign` bytes past a 16-byte boundary. */
async function productOn(build: "scalar" | "simd", type: KQuantType, m: number, n: number, k: number, misalign = 0): Promise<Float32Array> {
  const rt = await runtime({ build, threads: 1 });
  const e = rt.engine;
  const kern = rt.kernels;
  const rng = new Rng(11);
  const blocks = quantizeMatrix(type, rng.f32(n * k), n, k).blocks;
  const x = rng.f32(m * k, -2, 2);
  const bias = rng.f32(n);
  const pb = e.scratch.alloc(blocks.byteLength + 16) + misalign;
  e.mem.u8.set(blocks, pb);
  const px = e.scratch.alloc(m * k * 4);
  e.mem.f32.set(x, px >> 2);
  const xq = e.scratch.alloc(m * kern.q8_xq_bytes(k));
  kern.q8k_quantize_rows(m, k, px, k, xq);
  const c = e.scratch.alloc(m * n * 4);
  const pbias = e.scratch.alloc(n * 4);
  e.mem.f32.set(bias, pbias >> 2);
  if (m === 1) kern[`${type}_gemv`](n, k, xq, pb, c, pbias, 1);
  else kern[`${type}_gemm`](m, n, k, xq, pb, c, n, pbias, 1);
  const out = e.mem.f32.slice(c >> 2, (c >> 2) + m * n);
  e.scratch.reset();
  return out;
}

describe("strict SIMD and scalar agree to the bit", () => {
  for (const type of TYPES) {
    it.each([[1, 37, 512], [1, 1, 256], [5, 13, 768], [3, 8, 3328]])(`${type} m=%i n=%i k=%i`, async (m, n, k) => {
      const [a, b] = [await productOn("scalar", type, m, n, k), await productOn("simd", type, m, n, k)];
      expect(new Uint32Array(b.buffer)).toEqual(new Uint32Array(a.buffer));
    });
  }

  it.each(TYPES)("%s reads its blocks at any byte alignment", async (type) => {
    const aligned = await productOn("simd", type, 2, 9, 512);
    for (const off of [1, 3, 7]) expect(new Uint32Array((await productOn("simd", type, 2, 9, 512, off)).buffer)).toEqual(new Uint32Array(aligned.buffer));
  });
});

describe("k-quant Linear", () => {
  const [n, k] = [45, 512];
  const rng = new Rng(21);
  const w = rng.f32(n * k);
  const bias = rng.f32(n);

  async function run(type: KQuantType, m: number, threads: number, x: Float32Array): Promise<Float32Array> {
    const rt = await runtime({ threads });
    const e = rt.engine;
    const blocks = new WeightBlocks(e);
    const weight = quantizeMatrix(type, w, n, k);
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

  it.each(TYPES)("%s gives the same bits on 1, 2 and 3 threads", async (type) => {
    for (const m of [1, 7]) {
      const x = new Rng(4).f32(m * k);
      const one = await run(type, m, 1, x);
      expect(one.some((v) => v > 0)).toBe(true);
      for (const threads of [2, 3]) expect(new Uint32Array((await run(type, m, threads, x)).buffer)).toEqual(new Uint32Array(one.buffer));
    }
  });
});

describe("k-quant token tables", () => {
  // Random bytes (every quant and scale pattern), each block's f16 d / dmin a finite half drawn
  // from the whole range (subnormals included): exponent field 0..30.
  function randomBlocks(type: KQuantType, rows: number, d: number, rng: Rng): Uint8Array {
    const bsz = KQUANT_BLOCK_BYTES[type];
    const b = Uint8Array.from({ length: (rows * d * bsz) / 256 }, () => Math.floor(rng.uniform(0, 256)));
    const half = () => (Math.floor(rng.uniform(0, 31)) << 10) | Math.floor(rng.uniform(0, 1024)) | (rng.uniform(0, 1) < 0.5 ? 0x8000 : 0);
    const dv = new DataView(b.buffer);
    for (let o = 0; o < b.length; o += bsz) {
      if (type === "q6_k") dv.setUint16(o + 208, half(), true);
      else [0, 2].forEach((at) => dv.setUint16(o + at, half(), true));
    }
    return b;
  }

  it.each(TYPES.flatMap((t) => (["scalar", "simd", "relaxed"] as const).map((b) => [t, b] as const)))(
    "%s_embed (%s) equals the table widened whole, times the scale in f32, at any alignment",
    async (type, build) => {
      const rt = await runtime({ build, threads: 1 });
      const e = rt.engine;
      const [vocab, d] = [7, 512];
      const blocks = randomBlocks(type, vocab, d, new Rng(31));
      const table = dequantizeMatrix({ type, rows: vocab, cols: d, blocks });
      const ids = [6, 0, 3, 3, 1, 5, 2, 4];
      for (const [misalign, scale] of [[0, 1], [1, 1.75], [3, -0.5]]) {
        const pb = e.scratch.alloc(blocks.length + 16) + misalign;
        e.mem.u8.set(blocks, pb);
        const pids = e.scratch.alloc(ids.length * 4);
        e.mem.i32.set(ids, pids >> 2);
        const out = e.scratch.alloc(ids.length * d * 4);
        rt.kernels[`${type}_embed`](ids.length, d, pids, pb, out, d, scale);
        const got = e.mem.f32.slice(out >> 2, (out >> 2) + ids.length * d);
        const want = Float32Array.from(ids.flatMap((id) => Array.from(table.subarray(id * d, id * d + d), (v) => Math.fround(v * scale))));
        expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(want.buffer));
        e.scratch.reset();
      }
    },
  );

  it.each(TYPES)("an Embedding keeps a %s table as its blocks (no float copy) and gathers it on 1 and 2 threads", async (type) => {
    const [vocab, d] = [40, 256];
    const blocks = randomBlocks(type, vocab, d, new Rng(5));
    const table = dequantizeMatrix({ type, rows: vocab, cols: d, blocks });
    const ids = Int32Array.from({ length: 33 }, (_, i) => (i * 7) % vocab);
    let first: Float32Array | undefined;
    for (const threads of [1, 2]) {
      const rt = await runtime({ threads });
      const e = rt.engine;
      const wb = new WeightBlocks(e);
      const before = e.regions.weights.usedBytes;
      const emb = Embedding.create(e, wb, { type, rows: vocab, cols: d, blocks }, vocab, d);
      expect(e.regions.weights.usedBytes - before).toBeLessThan(blocks.length + 128);
      const pids = e.scratch.alloc(ids.length * 4);
      e.mem.i32.set(ids, pids >> 2);
      const out = e.scratch.alloc(ids.length * d * 4);
      await emb.run(ids.length, pids, out, d);
      const got = e.mem.f32.slice(out >> 2, (out >> 2) + ids.length * d);
      expect(Array.from(got.subarray(5 * d, 6 * d))).toEqual(Array.from(table.subarray(ids[5] * d, ids[5] * d + d)));
      if (first) expect(new Uint32Array(got.buffer)).toEqual(new Uint32Array(first.buffer));
      first = got;
      e.scratch.reset();
      wb.dispose();
    }
  });

  it("refuses a k-quant table whose rows are not whole super-blocks", async () => {
    const rt = await runtime({ threads: 1 });
    const blocks = quantizeMatrix("q8_0", new Rng(1).f32(4 * 128), 4, 128);
    expect(() => Embedding.create(rt.engine, new WeightBlocks(rt.engine), { ...blocks, type: "q4_k" }, 4, 128)).toThrow(ShapeError);
  });
});

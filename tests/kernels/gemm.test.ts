// Properties of the GEMM family the registry's per-shape checks do not cover: the ones the
// thread pool and the ops layer rely on (splitting N by panels or M by rows gives the same
// bits), and the strict build matching its scalar twin exactly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { readF32 } from "../../src/kernels/bindings.js";
import { ACT_GELU, ACT_NONE, ACT_RELU, ACT_SILU, ACT_GELU_TANH, GEMM_ACCUMULATE } from "../../src/kernels/exports.js";
import { stage } from "../../src/kernels/kernel_entry.js";
import { Rng } from "../../src/util/rng.js";

const BUILDS = ["scalar", "simd", "relaxed"] as const;

/** Bitwise equality of two float arrays (NaN payloads and -0 included). */
function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== w[i]) expect.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]} (bit-identical)`);
  }
}

interface Problem {
  m: number;
  n: number;
  k: number;
  lda: number;
  ldc: number;
  a: Float32Array;
  b: Float32Array;
  bias: Float32Array;
  c0: Float32Array;
}

function problem(m: number, n: number, k: number, seed: number): Problem {
  const rng = new Rng(seed);
  const lda = k + 2;
  const ldc = n + 3;
  return { m, n, k, lda, ldc, a: rng.f32(m * lda), b: rng.f32(k * n), bias: rng.f32(n), c0: rng.f32(m * ldc) };
}

/** Packs B with the build's packer and calls f32_gemm on rows [r0, r1) x columns [j0, j1). */
function gemmBlock(rt: Runtime, p: Problem, flags: number, blocks: [number, number, number, number][]): Float32Array {
  const k = rt.kernels;
  const ptr = stage(rt.engine, { a: p.a, b: p.b, bias: p.bias, c: p.c0, packed: new Float32Array(k.f32_gemm_packed_size(p.k, p.n)) });
  k.f32_gemm_pack_b(p.k, p.n, ptr.b, p.n, ptr.packed);
  for (const [r0, r1, j0, j1] of blocks) {
    k.f32_gemm(
      r1 - r0, j1 - j0, p.k,
      ptr.a + r0 * p.lda * 4, p.lda,
      ptr.packed + j0 * p.k * 4,
      ptr.c + (r0 * p.ldc + j0) * 4, p.ldc,
      ptr.bias + j0 * 4, flags,
    );
  }
  const out = readF32(rt.engine, ptr.c, p.m * p.ldc);
  rt.engine.scratch.reset();
  return out;
}

const FLAGS = [ACT_NONE, ACT_RELU | GEMM_ACCUMULATE, ACT_GELU, ACT_GELU_TANH | GEMM_ACCUMULATE, ACT_SILU];

describe.each(BUILDS)("GEMM splits on the %s build", (build) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ build, threads: 1 });
  });
  afterAll(() => rt.dispose());

  it("a panel-aligned column range of packed B is itself a packed matrix (threads split N by panels)", () => {
    const nr = rt.kernels.f32_gemm_nr();
    const p = problem(7, 5 * nr + 3, 37, 11);
    for (const flags of FLAGS) {
      const full = gemmBlock(rt, p, flags, [[0, p.m, 0, p.n]]);
      const split = gemmBlock(rt, p, flags, [[0, p.m, 0, nr], [0, p.m, nr, 4 * nr], [0, p.m, 4 * nr, p.n]]);
      expectSameBits(split, full, `flags ${flags}`);
    }
  });

  it("row ranges give the rows of the whole product (threads split M), including the 1-row GEMV path", () => {
    const p = problem(11, 29, 41, 12);
    for (const flags of FLAGS) {
      const full = gemmBlock(rt, p, flags, [[0, p.m, 0, p.n]]);
      const split = gemmBlock(rt, p, flags, [[0, 1], [1, 6], [6, 9], [9, 10], [10, 11]].map(([r0, r1]) => [r0, r1, 0, p.n]));
      expectSameBits(split, full, `flags ${flags}`);
    }
  });

  it("f32_gemv equals the 1-row f32_gemm on the same packed B", () => {
    const k = rt.kernels;
    const p = problem(1, 45, 23, 13);
    for (const flags of FLAGS) {
      const want = gemmBlock(rt, p, flags, [[0, 1, 0, p.n]]).subarray(0, p.n);
      const ptr = stage(rt.engine, { a: p.a, b: p.b, bias: p.bias, y: p.c0, packed: new Float32Array(k.f32_gemm_packed_size(p.k, p.n)) });
      k.f32_gemm_pack_b(p.k, p.n, ptr.b, p.n, ptr.packed);
      k.f32_gemv(p.n, p.k, ptr.a, ptr.packed, ptr.y, ptr.bias, flags);
      const got = readF32(rt.engine, ptr.y, p.n);
      rt.engine.scratch.reset();
      expectSameBits(got, want, `flags ${flags}`);
    }
  });

  it("a NaN or an infinity in A reaches its own row of C and no other", () => {
    const p = problem(6, 21, 17, 17);
    p.a[2 * p.lda + 5] = NaN;
    p.a[4 * p.lda + 16] = Infinity;
    for (const flags of FLAGS) {
      const c = gemmBlock(rt, p, flags, [[0, p.m, 0, p.n]]);
      for (let i = 0; i < p.m; i++) {
        for (let j = 0; j < p.n; j++) {
          const v = c[i * p.ldc + j];
          if (i === 2) expect(v, `row 2 col ${j} flags ${flags}`).toBeNaN();
          // (activations map -inf to 0 or, as the formula x . Phi(x) does, to NaN)
          else if (i === 4) {
            if (flags === ACT_NONE) expect(Math.abs(v), `row 4 col ${j}`).toBe(Infinity);
          }
          else expect(Number.isFinite(v), `row ${i} col ${j} flags ${flags}: ${v}`).toBe(true);
        }
      }
    }
  });

  it("ACCUMULATE adds act(A.B + bias) to C: the difference of two runs is the plain result", () => {
    const p = problem(6, 19, 13, 14);
    const plain = gemmBlock(rt, p, ACT_GELU, [[0, p.m, 0, p.n]]);
    const acc = gemmBlock(rt, p, ACT_GELU | GEMM_ACCUMULATE, [[0, p.m, 0, p.n]]);
    for (let i = 0; i < p.m; i++) {
      for (let j = 0; j < p.n; j++) {
        const o = i * p.ldc + j;
        expect(acc[o]).toBeCloseTo(plain[o] + p.c0[o], 5);
      }
      // Columns past N in each row of C are left alone.
      for (let j = p.n; j < p.ldc; j++) expect(acc[i * p.ldc + j]).toBe(p.c0[i * p.ldc + j]);
    }
  });
});

describe("the strict SIMD build against its scalar twin", () => {
  let scalar: Runtime;
  let simd: Runtime;
  beforeAll(async () => {
    scalar = await createRuntime({ build: "scalar", threads: 1 });
    simd = await createRuntime({ build: "simd", threads: 1 });
  });
  afterAll(() => {
    scalar.dispose();
    simd.dispose();
  });

  // Both sum K in order with a rounded multiply then a rounded add, and math.ts evaluates
  // the same formulas lane by lane, so the results agree to the bit (relaxed fuses, it does not).
  it("f32_gemm is bit-identical for every activation", () => {
    const p = problem(9, 37, 53, 15);
    for (const flags of [...FLAGS, ACT_GELU | GEMM_ACCUMULATE]) {
      expectSameBits(gemmBlock(simd, p, flags, [[0, p.m, 0, p.n]]), gemmBlock(scalar, p, flags, [[0, p.m, 0, p.n]]), `flags ${flags}`);
    }
  });

  it("f32_gemm_nn is bit-identical, 4-row tiles and single rows alike", () => {
    const run = (rt: Runtime, m: number, n: number, k: number) => {
      const rng = new Rng(16);
      const ptr = stage(rt.engine, { a: rng.f32(m * (k + 1)), b: rng.f32(k * (n + 2)), c: new Float32Array(m * n) });
      rt.kernels.f32_gemm_nn(m, n, k, ptr.a, k + 1, ptr.b, n + 2, ptr.c, n);
      const out = readF32(rt.engine, ptr.c, m * n);
      rt.engine.scratch.reset();
      return out;
    };
    for (const [m, n, k] of [[7, 37, 29], [1, 64, 100], [3, 19, 5]]) {
      expectSameBits(run(simd, m, n, k), run(scalar, m, n, k), `m=${m} n=${n} k=${k}`);
    }
  });
});

// Property tests (fast-check) of the softmax, norm, position and attention kernels on random
// shapes and values, including NaN, +-inf, -0 and extreme magnitudes: the behaviour the
// kernels document that the registry's per-shape float64 comparison does not reach.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { readF32 } from "../../src/kernels/bindings.js";
import { stage } from "../../src/kernels/kernel_entry.js";

const BUILDS = ["scalar", "simd", "relaxed"] as const;
const RUNS = { numRuns: 60, seed: 20261124 };

const f32 = Math.fround;
/** Finite floats of ordinary size. */
const ordinary = fc.float({ min: f32(-20), max: f32(20), noNaN: true });
/** Finite floats including the awkward ones: -0, tiny, huge, the largest finite. */
const extreme = fc.oneof(
  ordinary,
  fc.constantFrom(0, -0, f32(1e-30), f32(-1e-30), f32(1e30), f32(-1e30), f32(3.4e38), f32(-3.4e38), f32(1e-45)),
);
/** A rows x n matrix of `value`. */
const matrix = (value: fc.Arbitrary<number>, maxRows = 5, maxN = 70) =>
  fc.record({ rows: fc.integer({ min: 1, max: maxRows }), n: fc.integer({ min: 1, max: maxN }) }).chain(({ rows, n }) =>
    fc.record({
      rows: fc.constant(rows),
      n: fc.constant(n),
      x: fc.array(value, { minLength: rows * n, maxLength: rows * n }).map((a) => Float32Array.from(a)),
    }),
  );

/** Bitwise equality (NaN payloads and -0 included). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

describe.each(BUILDS)("kernel properties on the %s build", (build) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ build });
  });
  afterAll(() => rt.dispose());

  /** Runs softmax on a dense rows x n matrix; mask (rows x n or 1 x n) optional. */
  function softmax(rows: number, n: number, x: Float32Array, opt: { scale?: number; mask?: Float32Array; causal?: number } = {}): Float32Array {
    const p = stage(rt.engine, { x, out: new Float32Array(rows * n), ...(opt.mask ? { mask: opt.mask } : {}) });
    const ldm = opt.mask && opt.mask.length === n && rows > 1 ? 0 : n;
    rt.kernels.f32_softmax(rows, n, p.x, n, p.out, n, opt.scale ?? 1, p.mask ?? 0, ldm, opt.causal ?? -1);
    const out = readF32(rt.engine, p.out, rows * n);
    rt.engine.scratch.reset();
    return out;
  }

  function layernorm(rows: number, n: number, x: Float32Array, gamma: Float32Array, beta: Float32Array | null, eps: number): Float32Array {
    const p = stage(rt.engine, { x, gamma, out: new Float32Array(rows * n), ...(beta ? { beta } : {}) });
    rt.kernels.f32_layernorm(rows, n, p.x, n, p.gamma, p.beta ?? 0, p.out, n, eps);
    const out = readF32(rt.engine, p.out, rows * n);
    rt.engine.scratch.reset();
    return out;
  }

  function rmsnorm(rows: number, n: number, x: Float32Array, gamma: Float32Array, eps: number): Float32Array {
    const p = stage(rt.engine, { x, gamma, out: new Float32Array(rows * n) });
    rt.kernels.f32_rmsnorm(rows, n, p.x, n, p.gamma, p.out, n, eps);
    const out = readF32(rt.engine, p.out, rows * n);
    rt.engine.scratch.reset();
    return out;
  }

  const row = (a: Float32Array, r: number, n: number) => a.subarray(r * n, r * n + n);
  const ones = (n: number) => new Float32Array(n).fill(1);

  describe("softmax", () => {
    it("finite rows (any magnitude, -0) give values in [0, 1] summing to 1", () => {
      fc.assert(
        fc.property(matrix(extreme), fc.constantFrom(1, 0.125, -1), ({ rows, n, x }, scale) => {
          const y = softmax(rows, n, x, { scale });
          for (let r = 0; r < rows; r++) {
            let s = 0;
            for (const v of row(y, r, n)) {
              if (!(v >= 0 && v <= 1)) return false;
              s += v;
            }
            if (Math.abs(s - 1) > 2e-6 * Math.sqrt(n) + 1e-6) return false;
          }
          return true;
        }),
        RUNS,
      );
    });

    it("is invariant to adding a constant to a row", () => {
      fc.assert(
        fc.property(matrix(ordinary), fc.float({ min: f32(-50), max: f32(50), noNaN: true }), ({ rows, n, x }, c) => {
          const a = softmax(rows, n, x);
          const b = softmax(rows, n, x.map((v) => v + c));
          // The shift itself rounds x + c (|x + c| <= 70): up to ~4e-6 of each t.
          return a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 * Math.max(v, 1e-3));
        }),
        RUNS,
      );
    });

    it("masked columns are exactly 0, a fully masked row is all zeros, the rest sums to 1", () => {
      fc.assert(
        fc.property(
          matrix(ordinary).chain((m) =>
            fc.record({ m: fc.constant(m), keep: fc.array(fc.boolean(), { minLength: m.rows * m.n, maxLength: m.rows * m.n }) }),
          ),
          ({ m: { rows, n, x }, keep }) => {
            const mask = Float32Array.from(keep, (k) => (k ? 0 : -Infinity));
            const y = softmax(rows, n, x, { mask });
            for (let r = 0; r < rows; r++) {
              let s = 0;
              let kept = 0;
              for (let c = 0; c < n; c++) {
                const v = y[r * n + c];
                if (!keep[r * n + c] && !Object.is(v, 0)) return false;
                s += v;
                kept += Number(keep[r * n + c]);
              }
              if (kept === 0 ? s !== 0 : Math.abs(s - 1) > 1e-5) return false;
            }
            return true;
          },
        ),
        RUNS,
      );
    });

    it("-inf inputs act as masked; a row of -inf is all zeros", () => {
      fc.assert(
        fc.property(matrix(fc.oneof(ordinary, fc.constant(-Infinity))), ({ rows, n, x }) => {
          const y = softmax(rows, n, x);
          for (let r = 0; r < rows; r++) {
            const xr = row(x, r, n);
            const yr = row(y, r, n);
            if (xr.some((v, c) => v === -Infinity && !Object.is(yr[c], 0))) return false;
            if (xr.every((v) => v === -Infinity) && yr.some((v) => v !== 0)) return false;
          }
          return true;
        }),
        RUNS,
      );
    });

    it("+inf entries share the mass equally, everything else gets 0", () => {
      fc.assert(
        fc.property(matrix(fc.oneof(ordinary, fc.constant(Infinity), fc.constant(-Infinity))), ({ rows, n, x }) => {
          const y = softmax(rows, n, x);
          for (let r = 0; r < rows; r++) {
            const xr = row(x, r, n);
            const count = xr.filter((v) => v === Infinity).length;
            if (count === 0) continue;
            if (!row(y, r, n).every((v, c) => v === (xr[c] === Infinity ? f32(1 / count) : 0))) return false;
          }
          return true;
        }),
        RUNS,
      );
    });

    it("a NaN in a row makes that row NaN and leaves the other rows alone", () => {
      fc.assert(
        fc.property(matrix(fc.oneof(extreme, fc.constant(NaN), fc.constant(Infinity), fc.constant(-Infinity)), 4, 40), ({ rows, n, x }) => {
          const y = softmax(rows, n, x);
          for (let r = 0; r < rows; r++) {
            const hasNaN = row(x, r, n).some(Number.isNaN);
            if (hasNaN !== row(y, r, n).every(Number.isNaN)) return false;
            if (!hasNaN && row(y, r, n).some(Number.isNaN)) return false;
          }
          return true;
        }),
        RUNS,
      );
    });

    it("causal rows keep columns c <= r + causal, and splitting rows (causal + r0) gives the same bits", () => {
      fc.assert(
        fc.property(matrix(ordinary, 9, 40), fc.integer({ min: 0, max: 5 }), fc.nat(), ({ rows, n, x }, causal, cut) => {
          const y = softmax(rows, n, x, { causal, scale: 0.7 });
          for (let r = 0; r < rows; r++) {
            for (let c = r + causal + 1; c < n; c++) if (!Object.is(y[r * n + c], 0)) return false;
          }
          const r0 = cut % (rows + 1);
          const top = softmax(r0, n, x.slice(0, r0 * n), { causal, scale: 0.7 });
          const bottom = softmax(rows - r0, n, x.slice(r0 * n), { causal: causal + r0, scale: 0.7 });
          const joined = new Float32Array(rows * n);
          joined.set(top);
          joined.set(bottom, r0 * n);
          return sameBits(joined, y);
        }),
        RUNS,
      );
    });

    it("writes only its rows' n columns (strided rows)", () => {
      const rows = 3;
      const n = 13;
      const ld = 19;
      const x = new Float32Array(rows * ld).map((_, i) => Math.sin(i));
      const p = stage(rt.engine, { x, out: new Float32Array(rows * ld).fill(42) });
      rt.kernels.f32_softmax(rows, n, p.x, ld, p.out, ld, 1, 0, 0, -1);
      const out = readF32(rt.engine, p.out, rows * ld);
      rt.engine.scratch.reset();
      for (let r = 0; r < rows; r++) for (let c = n; c < ld; c++) expect(out[r * ld + c]).toBe(42);
    });
  });

  describe("log-softmax", () => {
    it("exp(out) sums to 1 and out <= 0 for finite rows of any magnitude", () => {
      fc.assert(
        fc.property(matrix(extreme), ({ rows, n, x }) => {
          const p = stage(rt.engine, { x, out: new Float32Array(rows * n) });
          rt.kernels.f32_log_softmax(rows, n, p.x, n, p.out, n);
          const y = readF32(rt.engine, p.out, rows * n);
          rt.engine.scratch.reset();
          for (let r = 0; r < rows; r++) {
            const s = row(y, r, n).reduce((a, v) => a + Math.exp(v), 0);
            if (Math.abs(s - 1) > 2e-6 * Math.sqrt(n) + 1e-6 || row(y, r, n).some((v) => !(v <= 1e-6))) return false;
          }
          return true;
        }),
        RUNS,
      );
    });

    it("documented degenerate rows: all -inf -> -inf; k x +inf -> -log k there, -inf elsewhere; NaN -> NaN", () => {
      const n = 5;
      const x = Float32Array.from([
        ...[-Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
        ...[Infinity, 1, Infinity, -Infinity, 0],
        ...[1, 2, NaN, 3, 4],
      ]);
      const p = stage(rt.engine, { x, out: new Float32Array(15) });
      rt.kernels.f32_log_softmax(3, n, p.x, n, p.out, n);
      const y = readF32(rt.engine, p.out, 15);
      rt.engine.scratch.reset();
      expect(Array.from(y.subarray(0, 5))).toEqual(new Array(5).fill(-Infinity));
      expect(Array.from(y.subarray(5, 10))).toEqual([f32(-Math.LN2), -Infinity, f32(-Math.LN2), -Infinity, -Infinity]);
      expect(y.subarray(10).every(Number.isNaN)).toBe(true);
    });
  });

  describe("layernorm", () => {
    it("a constant row (any finite value, -0, 1e30, 1e-30) gives exactly beta", () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 70 }), extreme, fc.boolean(), (n, c, withBeta) => {
          const beta = Float32Array.from({ length: n }, (_, i) => f32(i / 7 - 2));
          const y = layernorm(1, n, new Float32Array(n).fill(c), Float32Array.from({ length: n }, (_, i) => 1 + i), withBeta ? beta : null, 1e-5);
          return y.every((v, i) => v === (withBeta ? beta[i] : 0));
        }),
        RUNS,
      );
    });

    it("huge and tiny rows stay finite: scaling a row and eps by 2^k and 4^k (|k| <= 60) changes nothing", () => {
      fc.assert(
        fc.property(matrix(ordinary, 3, 70), fc.integer({ min: -60, max: 60 }), ({ rows, n, x }, k) => {
          const s = 2 ** k;
          const scaled = x.map((v) => v * s);
          // Squares of the scaled rows overflow (k > 44) or underflow (k < -50) in f32.
          const a = layernorm(rows, n, x, ones(n), null, 1e-5);
          const b = layernorm(rows, n, scaled, ones(n), null, 1e-5 * s * s);
          if (!b.every(Number.isFinite)) return false;
          return a.every((v, i) => Math.abs(v - b[i]) <= 1e-5 * Math.max(1, Math.abs(v)));
        }),
        RUNS,
      );
    });

    it("without gamma/beta the output has mean 0 and variance var/(var+eps)", () => {
      fc.assert(
        fc.property(matrix(fc.oneof(ordinary, fc.constantFrom(f32(1e30), f32(-1e30), f32(1e-30)))), ({ rows, n, x }) => {
          const y = layernorm(rows, n, x, ones(n), null, 1e-5);
          for (let r = 0; r < rows; r++) {
            const xr = Float64Array.from(row(x, r, n));
            const mean = xr.reduce((a, v) => a + v, 0) / n;
            const v = xr.reduce((a, t) => a + (t - mean) ** 2, 0) / n;
            const yr = row(y, r, n);
            if (!yr.every(Number.isFinite)) return false;
            const ym = yr.reduce((a, t) => a + t, 0) / n;
            const yv = yr.reduce((a, t) => a + (t - ym) ** 2, 0) / n;
            if (Math.abs(ym) > 1e-5 || Math.abs(yv - v / (v + 1e-5)) > 1e-5) return false;
          }
          return true;
        }),
        RUNS,
      );
    });

    it("NaN or +-inf in a row makes that row NaN only", () => {
      fc.assert(
        fc.property(matrix(fc.oneof(extreme, fc.constantFrom(NaN, Infinity, -Infinity)), 4, 40), ({ rows, n, x }) => {
          const y = layernorm(rows, n, x, ones(n), null, 1e-5);
          for (let r = 0; r < rows; r++) {
            const bad = row(x, r, n).some((v) => !Number.isFinite(v));
            if (bad ? !row(y, r, n).every(Number.isNaN) : !row(y, r, n).every(Number.isFinite)) return false;
          }
          return true;
        }),
        RUNS,
      );
    });
  });

  describe("rmsnorm", () => {
    it("is invariant to scaling a row and eps by 2^k and 4^k (|k| <= 60): finite for huge and tiny rows", () => {
      fc.assert(
        fc.property(matrix(ordinary, 3, 70), fc.integer({ min: -60, max: 60 }), ({ rows, n, x }, k) => {
          const s = 2 ** k;
          const a = rmsnorm(rows, n, x, ones(n), 1e-5);
          const b = rmsnorm(rows, n, x.map((v) => v * s), ones(n), 1e-5 * s * s);
          return a.every((v, i) => Number.isFinite(b[i]) && Math.abs(v - b[i]) <= 1e-5 * Math.max(1, Math.abs(v)));
        }),
        RUNS,
      );
    });

    it("mean of out^2 is ms/(ms+eps); an all-zero row gives zeros", () => {
      fc.assert(
        fc.property(matrix(fc.oneof(extreme, fc.constant(0))), ({ rows, n, x }) => {
          const y = rmsnorm(rows, n, x, ones(n), 1e-5);
          for (let r = 0; r < rows; r++) {
            const ms = row(x, r, n).reduce((a, v) => a + v * v, 0) / n;
            const yr = row(y, r, n);
            if (!yr.every(Number.isFinite)) return false;
            const ym = yr.reduce((a, v) => a + v * v, 0) / n;
            if (Math.abs(ym - ms / (ms + 1e-5)) > 1e-5) return false;
          }
          return true;
        }),
        RUNS,
      );
    });

    it("a NaN makes the row NaN; +-inf gives NaN there and 0 elsewhere", () => {
      const x = Float32Array.from([1, NaN, 2, 3, -Infinity, 2, 0, 1, 1]);
      const y = rmsnorm(3, 3, x, ones(3), 1e-5);
      expect(y.subarray(0, 3).every(Number.isNaN)).toBe(true);
      expect(Array.from(y.subarray(3, 6))).toEqual([0, NaN, 0]);
      expect(y.subarray(6).every(Number.isFinite)).toBe(true);
    });
  });

  describe("positions and attention", () => {
    it("rope: splitting rows (pos0 + r0) gives the same bits, and rotation keeps each pair's norm", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 20 }), fc.nat({ max: 5000 }), fc.boolean(), fc.nat(),
          (rows, heads, half, pos0, inter, cut) => {
            const hd = 2 * half;
            const w = heads * hd;
            const x = Float32Array.from({ length: rows * w }, (_, i) => Math.cos(i * 1.7));
            const run = (r: number, pos: number, src: Float32Array) => {
              const p = stage(rt.engine, { x: src });
              rt.kernels.f32_rope(r, heads, hd, p.x, w, pos, 10000, inter ? 1 : 0);
              const y = readF32(rt.engine, p.x, r * w);
              rt.engine.scratch.reset();
              return y;
            };
            const all = run(rows, pos0, x);
            const r0 = cut % (rows + 1);
            const joined = new Float32Array(rows * w);
            joined.set(run(r0, pos0, x.slice(0, r0 * w)));
            joined.set(run(rows - r0, pos0 + r0, x.slice(r0 * w)), r0 * w);
            if (!sameBits(joined, all)) return false;
            for (let r = 0; r < rows; r++) {
              for (let h = 0; h < heads; h++) {
                for (let i = 0; i < half; i++) {
                  const b = r * w + h * hd;
                  const [p, q] = inter ? [b + 2 * i, b + 2 * i + 1] : [b + i, b + i + half];
                  if (Math.abs(Math.hypot(all[p], all[q]) - Math.hypot(x[p], x[q])) > 1e-6) return false;
                }
              }
            }
            return true;
          },
        ),
        RUNS,
      );
    });

    it("attention: splitting query rows (causal + i0) gives the same bits; probs rows are softmax rows", () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: -1, max: 4 }), fc.nat(),
          (nq, nk, d, causal, cut) => {
            const q = Float32Array.from({ length: nq * d }, (_, i) => Math.sin(i * 0.37));
            const k = Float32Array.from({ length: nk * d }, (_, i) => Math.cos(i * 0.53));
            const v = Float32Array.from({ length: nk * d }, (_, i) => Math.sin(i * 0.91 + 1));
            const run = (i0: number, i1: number) => {
              const m = i1 - i0;
              const p = stage(rt.engine, { q: q.slice(i0 * d, i1 * d), k, v, out: new Float32Array(m * d), probs: new Float32Array(m * nk) });
              rt.kernels.f32_attention(m, nk, d, p.q, d, p.k, d, p.v, d, p.out, d, p.probs, nk, 0.5, 0, 0, causal < 0 ? -1 : causal + i0);
              const res = [readF32(rt.engine, p.out, m * d), readF32(rt.engine, p.probs, m * nk)];
              rt.engine.scratch.reset();
              return res;
            };
            const [out, probs] = run(0, nq);
            const i0 = cut % (nq + 1);
            const [o1, p1] = run(0, i0);
            const [o2, p2] = run(i0, nq);
            const jo = new Float32Array(nq * d);
            jo.set(o1);
            jo.set(o2, i0 * d);
            const jp = new Float32Array(nq * nk);
            jp.set(p1);
            jp.set(p2, i0 * nk);
            if (!sameBits(jo, out) || !sameBits(jp, probs)) return false;
            for (let i = 0; i < nq; i++) {
              const s = row(probs, i, nk).reduce((a, t) => a + t, 0);
              if (Math.abs(s - 1) > 1e-5) return false;
            }
            return true;
          },
        ),
        RUNS,
      );
    });
  });
});

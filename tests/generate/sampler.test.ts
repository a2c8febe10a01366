// The sampler on crafted logits (no model): option checks, greedy rule, penalties, filters, seeded draws.
import { describe, expect, it } from "vitest";
import { ArgumentError } from "../../src/errors.js";
import { expDet, logDet } from "../../src/generate/detmath.js";
import { argmaxRow, resolveSampling, Sampler } from "../../src/generate/sampler.js";
import { Rng } from "../../src/util/rng.js";

const row = (...v: number[]) => Float32Array.from(v);
const counts = (s: Sampler, logits: Float32Array, n: number, history: number[] = []) => {
  const c = new Array(logits.length).fill(0);
  for (let i = 0; i < n; i++) c[s.pick(logits, 0, logits.length, history)]++;
  return c.map((x) => x / n);
};

describe("host-independent exp and log", () => {
  it("match Math.exp / Math.log to a few ulps over the whole range", () => {
    const rng = new Rng(1);
    let expErr = 0;
    let logErr = 0;
    for (let i = 0; i < 50000; i++) {
      // Normal results only: below e^-708 the result is subnormal and has fewer bits to agree on.
      const x = rng.uniform(-708, 709);
      expErr = Math.max(expErr, Math.abs(expDet(x) - Math.exp(x)) / Math.exp(x));
      const y = i % 2 ? Math.exp(rng.uniform(-745, 709)) : rng.uniform(0.5, 2);
      if (y > 0) logErr = Math.max(logErr, Math.abs(logDet(y) - Math.log(y)) / Math.max(1, Math.abs(Math.log(y))));
    }
    for (const y of [1, 0.5, 2, Math.SQRT2, 1e-300, 5e-324, 1e308, Number.MAX_VALUE]) {
      logErr = Math.max(logErr, Math.abs(logDet(y) - Math.log(y)) / Math.max(1, Math.abs(Math.log(y))));
    }
    expect(expErr).toBeLessThan(1e-15);
    expect(logErr).toBeLessThan(1e-15);
  });

  it("special values", () => {
    expect(expDet(0)).toBe(1);
    expect(expDet(-Infinity)).toBe(0);
    expect(expDet(Infinity)).toBe(Infinity);
    expect(expDet(-800)).toBe(0);
    expect(expDet(NaN)).toBeNaN();
    expect(expDet(-744)).toBeGreaterThan(0); // subnormal results still come out
    expect(logDet(1)).toBe(0);
    expect(logDet(0)).toBe(-Infinity);
    expect(logDet(Infinity)).toBe(Infinity);
    expect(logDet(-1)).toBeNaN();
  });
});

describe("options", () => {
  it.each([
    [{ temperature: -1 }, "temperature: expected a finite number >= 0, found -1"],
    [{ temperature: Infinity }, "temperature: expected a finite number >= 0, found Infinity"],
    [{ topK: 0 }, "topK: expected an integer >= 1, found 0"],
    [{ topK: 2.5 }, "topK: expected an integer >= 1, found 2.5"],
    [{ topP: 0 }, "topP: expected a number in (0, 1], found 0"],
    [{ topP: 1.5 }, "topP: expected a number in (0, 1], found 1.5"],
    [{ repetitionPenalty: 0 }, "repetitionPenalty: expected a finite number > 0, found 0"],
    [{ seed: 0.5 }, "seed: expected an integer, found 0.5"],
    [{ temperature: "1" }, 'temperature: expected a finite number >= 0, found "1"'],
  ])("%j is refused", (o, msg) => {
    expect(() => resolveSampling(o as never, "test")).toThrow(ArgumentError);
    expect(() => resolveSampling(o as never, "test")).toThrow(`test: ${msg}`);
    expect(() => new Sampler(o as never)).toThrow(ArgumentError);
  });

  it("defaults are greedy", () => {
    expect(resolveSampling()).toEqual({ temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 });
    expect(new Sampler().greedy).toBe(true);
    expect(new Sampler({ temperature: 0.7 }).greedy).toBe(false);
  });
});

describe("picking", () => {
  it("temperature 0 is the argmax, lowest id on ties, on any row of a batch", () => {
    const s = new Sampler();
    const logits = row(0, 1, 3, 3, -2, /* row 1 */ 5, 4, 5, 0, 1);
    expect(s.pick(logits, 0, 5)).toBe(2);
    expect(s.pick(logits, 1, 5)).toBe(0);
    expect(argmaxRow(logits, 1, 5)).toBe(0);
  });

  it("top-k 1 and a tiny top-p are the argmax at any temperature", () => {
    const rng = new Rng(3);
    const k1 = new Sampler({ temperature: 1.7, topK: 1, seed: 5 });
    const p0 = new Sampler({ temperature: 2.5, topP: 1e-9, seed: 5 });
    for (let i = 0; i < 200; i++) {
      const l = rng.f32(50, -3, 3);
      if (i % 7 === 0) l[(i * 13) % 50] = l[argmaxRow(l, 0, 50)]; // a tie with the max
      const want = argmaxRow(l, 0, 50);
      expect(k1.pick(l, 0, 50)).toBe(want);
      expect(p0.pick(l, 0, 50)).toBe(want);
    }
  });

  it("draws follow softmax(logits / T)", () => {
    const p = [0.5, 0.3, 0.15, 0.05];
    const logits = Float32Array.from(p, Math.log);
    const f = counts(new Sampler({ temperature: 1, seed: 11 }), logits, 20000);
    f.forEach((x, i) => expect(Math.abs(x - p[i])).toBeLessThan(0.015));
    // T = 0.5 squares the probabilities before renormalising.
    const sq = p.map((x) => x * x);
    const z = sq.reduce((a, b) => a + b);
    const g = counts(new Sampler({ temperature: 0.5, seed: 12 }), logits, 20000);
    g.forEach((x, i) => expect(Math.abs(x - sq[i] / z)).toBeLessThan(0.015));
  });

  it("top-k keeps the k best, top-p the smallest set reaching p, renormalised", () => {
    const p = [0.15, 0.5, 0.05, 0.3]; // best first: 1, 3, 0, 2
    const logits = Float32Array.from(p, Math.log);
    const k2 = counts(new Sampler({ temperature: 1, topK: 2, seed: 1 }), logits, 20000);
    expect(k2[0] + k2[2]).toBe(0);
    expect(Math.abs(k2[1] - 0.5 / 0.8)).toBeLessThan(0.015);
    // 0.5 < 0.6 <= 0.5 + 0.3: tokens 1 and 3.
    const p6 = counts(new Sampler({ temperature: 1, topP: 0.6, seed: 2 }), logits, 20000);
    expect(p6[0] + p6[2]).toBe(0);
    expect(Math.abs(p6[3] - 0.3 / 0.8)).toBeLessThan(0.015);
    // 0.95 needs 1, 3, 0; top-k 2 then top-p 0.95 of the renormalised pair keeps both.
    const p95 = counts(new Sampler({ temperature: 1, topP: 0.95, seed: 3 }), logits, 20000);
    expect(p95[2]).toBe(0);
    expect(p95[0]).toBeGreaterThan(0.1);
    const both = counts(new Sampler({ temperature: 1, topK: 2, topP: 0.7, seed: 4 }), logits, 20000);
    expect(both[0] + both[2]).toBe(0);
    expect(both[3]).toBeGreaterThan(0.3);
  });

  it("top-p over a large vocabulary keeps exactly the set a full sort gives (ties by id)", () => {
    const rng = new Rng(21);
    const V = 3000;
    for (const [T, topP] of [[1, 0.6], [0.7, 0.9], [2, 0.3]]) {
      const l = rng.f32(V, -12, -4);
      // 24 strong tokens with pairwise-equal scores, spread over the vocabulary and over buckets.
      for (let i = 0; i < 24; i++) l[(i * 571 + 13) % V] = 6 + Math.floor(i / 2) * 0.05;
      const order = Array.from({ length: V }, (_, j) => j).sort((a, b) => l[b] - l[a] || a - b);
      const w = order.map((j) => Math.exp((l[j] - l[order[0]]) / T));
      const total = w.reduce((a, b) => a + b);
      let cum = 0;
      let keep = 0;
      while (keep < V && cum < topP * total) cum += w[keep++];
      expect(keep).toBeGreaterThan(2);
      expect(keep).toBeLessThan(24);
      const want = new Set(order.slice(0, keep));
      const s = new Sampler({ temperature: T, topP, seed: 5 });
      const seen = new Set<number>();
      for (let i = 0; i < 2000; i++) seen.add(s.pick(l, 0, V));
      expect([...seen].sort((a, b) => a - b)).toEqual([...want].sort((a, b) => a - b));
    }
  });

  it("the CTRL repetition penalty divides positive and multiplies negative logits of seen ids", () => {
    const plain = new Sampler();
    const pen = new Sampler({ repetitionPenalty: 2 });
    const pos = row(2, 1.5, -1);
    expect(plain.pick(pos, 0, 3, [0])).toBe(0);
    expect(pen.pick(pos, 0, 3, [0])).toBe(1); // 2 / 2 = 1 < 1.5
    expect(pen.pick(pos, 0, 3, [0, 0, 0])).toBe(1); // once per distinct id: 1, not 0.25
    expect(pen.pick(pos, 0, 3, [0, 1])).toBe(0); // 1 vs 0.75
    const neg = row(-1, -1.5, -9);
    expect(plain.pick(neg, 0, 3, [0])).toBe(0);
    expect(pen.pick(neg, 0, 3, [0])).toBe(1); // -2 < -1.5
    expect(neg[0]).toBe(-1); // the logits are not modified
    // Below 1 it rewards repeats.
    expect(new Sampler({ repetitionPenalty: 0.5 }).pick(row(2, 3), 0, 2, [0])).toBe(0);
    // Applies before sampling too: with penalty the seen token is drawn less often.
    const l = row(1, 1);
    const f = counts(new Sampler({ temperature: 1, repetitionPenalty: 3, seed: 9 }), l, 10000, [0]);
    expect(Math.abs(f[0] - 1 / (1 + Math.E ** (2 / 3)))).toBeLessThan(0.02);
  });

  it("never draws -Infinity or NaN scores", () => {
    const s = new Sampler({ temperature: 5, seed: 3 });
    const l = row(-Infinity, 0, NaN, -50, -Infinity);
    const f = counts(s, l, 5000);
    expect(f[0] + f[2] + f[4]).toBe(0);
    expect(f[1]).toBeGreaterThan(0.99);
    expect(s.pick(row(-Infinity, -Infinity), 0, 2)).toBe(0);
  });

  it("the same seed gives the same picks, another seed others; a stream offsets the seed", () => {
    const rng = new Rng(8);
    const rows = Array.from({ length: 64 }, () => rng.f32(40, -2, 2));
    const run = (seed: number, stream = 0) => {
      const s = new Sampler({ temperature: 1.2, topK: 20, topP: 0.9, seed }, stream);
      return rows.map((l) => s.pick(l, 0, 40));
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
    expect(run(42, 1)).toEqual(run(43));
  });
});

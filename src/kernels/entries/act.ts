import { f16ToF32, f32ToF16 } from "../../tensor/half.js";
import { readF32 } from "../bindings.js";
import { axisSizes, type KernelEntry, stage } from "../kernel_entry.js";
import type { KernelExports } from "../exports.js";

/**
 * erf in float64 by the all-positive series erf x = 2/sqrt(pi) e^(-x^2) sum 2^n x^(2n+1) / (2n+1)!!
 * (no cancellation; ~1e-16 absolute for |x| <= 3).
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 300 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

/**
 * erfc in float64, relative accuracy kept in the tail: 1 - series below 2, above it the
 * continued fraction erfc z = e^(-z^2) / (sqrt(pi) (z + (1/2)/(z + 1/(z + (3/2)/(z + ...))))).
 */
export function erfc64(z: number): number {
  if (Number.isNaN(z)) return z;
  if (z < 0) return 2 - erfc64(-z);
  if (z < 2) return 1 - erfSeries(z);
  if (z > 27) return 0;
  let t = z;
  for (let n = 80; n >= 1; n--) t = z + n / 2 / t;
  return Math.exp(-z * z) / (Math.sqrt(Math.PI) * t);
}

type Unary = "f32_relu" | "f32_gelu" | "f32_gelu_tanh" | "f32_silu";

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * An elementwise kernel on n floats in [-10, 10): past every branch point of math.ts.
 * `cond(x)` is the growth of the relative error for x (1 by default): on the negative side
 * the f32 rounding of the exp argument (x^2 for GELU, |x| for SiLU) is amplified into the
 * output, which is tiny there; the error scale is max |f(x)| cond(x) over the case.
 */
function unary(name: Unary, f: (x: number) => number, rel: number, cond: (x: number) => number = () => 1): KernelEntry {
  return {
    name,
    tile: { n: 8 },
    shapes: axisSizes(8).map((n) => ({ n })),
    benchShapes: [{ n: 1 }, { n: 65536 }],
    flops: () => 0,
    makeCase: (d, rng) => ({ dims: d, inputs: { x: rng.f32(d.n, -10, 10) }, params: {} }),
    reference: (c) => Float64Array.from(c.inputs.x, f),
    run(k, engine, c) {
      const p = stage(engine, { ...c.inputs, out: new Float32Array(c.dims.n) });
      (k[name] as KernelExports["f32_relu"])(c.dims.n, p.x, p.out);
      return readF32(engine, p.out, c.dims.n);
    },
    // Relative to the largest |output| of the case (math.ts: <= 2e-7 per element where it matters).
    tolerance: { abs: 0, rel },
    errorScale: (c) => c.inputs.x.reduce((m, x) => Math.max(m, Math.abs(f(x)) * cond(x)), 0),
  };
}

/** Relative-error growth on the negative side of GELU (both forms): the exp(-x^2/2)-like tail. */
const geluCond = (x: number) => (x < 0 ? 1 + x * x : 1);

const swiglu: KernelEntry = {
  name: "f32_swiglu",
  tile: { n: 4 },
  shapes: axisSizes(4).map((n) => ({ n })),
  benchShapes: [{ n: 1 }, { n: 65536 }],
  flops: () => 0,
  makeCase: (d, rng) => ({ dims: d, inputs: { gate: rng.f32(d.n, -10, 10), up: rng.f32(d.n, -2, 2) }, params: {} }),
  reference: (c) => Float64Array.from(c.inputs.gate, (g, i) => g * sigmoid(g) * c.inputs.up[i]),
  run(k, engine, c) {
    const p = stage(engine, { ...c.inputs, out: new Float32Array(c.dims.n) });
    k.f32_swiglu(c.dims.n, p.gate, p.up, p.out);
    return readF32(engine, p.out, c.dims.n);
  },
  tolerance: { abs: 0, rel: 1e-6 },
};

const geluTanh = (x: number) => x * sigmoid(2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3));

const geglu: KernelEntry = {
  name: "f32_geglu",
  tile: { n: 4 },
  shapes: axisSizes(4).map((n) => ({ n })),
  benchShapes: [{ n: 1 }, { n: 65536 }],
  flops: () => 0,
  makeCase: (d, rng) => ({ dims: d, inputs: { gate: rng.f32(d.n, -10, 10), up: rng.f32(d.n, -2, 2) }, params: {} }),
  reference: (c) => Float64Array.from(c.inputs.gate, (g, i) => geluTanh(g) * c.inputs.up[i]),
  run(k, engine, c) {
    const p = stage(engine, { ...c.inputs, out: new Float32Array(c.dims.n) });
    k.f32_geglu(c.dims.n, p.gate, p.up, p.out);
    return readF32(engine, p.out, c.dims.n);
  },
  // Relative to the largest |output|, with GELU's negative-side growth (as f32_gelu_tanh).
  tolerance: { abs: 0, rel: 1e-6 },
  errorScale: (c) => c.inputs.gate.reduce((m, g, i) => Math.max(m, Math.abs(geluTanh(g) * c.inputs.up[i]) * geluCond(g)), 0),
};

/** To the nearest half (through f32; the tolerance below allows a step anyway). */
const f16 = (v: number) => f16ToF32(f32ToF16(v));

/** ggml's GELU: the tanh form at f16(x), rounded to f16; x from 10 up, 0 from -10 down. */
const geluF16 = (x: number) => (x <= -10 ? 0 : x >= 10 ? x : f16(geluTanh(f16(x))));

const gegluF16: KernelEntry = {
  name: "f32_geglu_f16",
  tile: { n: 4 },
  shapes: axisSizes(4).map((n) => ({ n })),
  benchShapes: [{ n: 65536 }],
  flops: () => 0,
  // Gates past +-10 too (the identity and zero branches).
  makeCase: (d, rng) => ({ dims: d, inputs: { gate: rng.f32(d.n, -12, 12), up: rng.f32(d.n, -2, 2) }, params: {} }),
  reference: (c) => Float64Array.from(c.inputs.gate, (g, i) => geluF16(g) * c.inputs.up[i]),
  run(k, engine, c) {
    const p = stage(engine, { ...c.inputs, out: new Float32Array(c.dims.n) });
    k.f32_geglu_f16(c.dims.n, p.gate, p.up, p.out);
    return readF32(engine, p.out, c.dims.n);
  },
  // One f16 step of the largest |gelu| times |up| (our f32 GELU may sit across a rounding midpoint
  // from the float64 one), plus the f32 product.
  tolerance: { abs: 0, rel: 1 },
  errorScale: (c) => c.inputs.gate.reduce((m, g, i) => Math.max(m, Math.abs(c.inputs.up[i]) * (Math.abs(geluF16(g)) * 2 ** -10 + 2 ** -24)), 0),
};

const softcap: KernelEntry = {
  name: "f32_softcap",
  tile: { n: 8 },
  shapes: axisSizes(8).map((n) => ({ n })),
  benchShapes: [{ n: 1 }, { n: 65536 }],
  flops: () => 0,
  // Inputs from well inside the cap to far past it (tanh saturated), cap and scale as Gemma 2's.
  makeCase: (d, rng) => ({ dims: d, inputs: { x: rng.f32(d.n, -200, 200) }, params: { scale: 0.125, cap: 10 } }),
  reference: (c) => Float64Array.from(c.inputs.x, (x) => c.params.cap * Math.tanh((c.params.scale * x) / c.params.cap)),
  run(k, engine, c) {
    const p = stage(engine, { ...c.inputs, out: new Float32Array(c.dims.n) });
    k.f32_softcap(c.dims.n, p.x, p.out, c.params.scale, c.params.cap);
    return readF32(engine, p.out, c.dims.n);
  },
  // tanh is within ~2 ulp (math.ts), plus the f32 rounding of scale / cap and of the product.
  tolerance: { abs: 0, rel: 1e-6 },
};

/** Activations (assembly/f32_act.ts). */
export const ACT_KERNELS: KernelEntry[] = [
  unary("f32_relu", (x) => Math.max(x, 0), 0),
  unary("f32_gelu", (x) => 0.5 * x * erfc64(-x / Math.SQRT2), 1e-6, geluCond),
  // x/2 (1 + tanh u) written as x sigmoid(2u): the same number without cancellation for x << 0.
  unary("f32_gelu_tanh", geluTanh, 1e-6, geluCond),
  unary("f32_silu", (x) => x * sigmoid(x), 1e-6, (x) => (x < 0 ? 1 - x : 1)),
  swiglu,
  geglu,
  gegluF16,
  softcap,
];

import type { KQuantType } from "../../tensor/kquant_blocks.js";
import { readF32 } from "../bindings.js";
import { ACT_RELU, ACT_SILU } from "../exports.js";
import { type Dims, type KernelEntry, stage } from "../kernel_entry.js";
import { cachedReference, flagsOf, GUARD, ldc, ldx, makeQuantCase } from "./quant.js";

// K-quant weights (assembly/qk_gemv.ts): Q4_K / Q5_K / Q6_K super-blocks of 256 as GGUF stores
// them, read by the kernels with no repack. The cases are quant.ts's: the weight made in float,
// quantized by tensor/kquant_blocks.ts, the kernel's output compared with the float64 product
// of the *dequantized* weight and the *float* activations, within the bound of the activations'
// quantization (q8k_quantize_rows: llama.cpp's Q8_K, one scale per 256; see quant.ts).
// The kernels take one row of W at a time (tile n = 1) and one super-block of K per step:
// N over 1, 2, 3 and primes, K over 1, 2, 3, 5, 13 super-blocks.

function kquantProduct(type: KQuantType, gemm: boolean): KernelEntry {
  const s = (n: number, k: number, extra: Dims = {}): Dims => (gemm ? { m: 3, n, k, ...extra } : { n, k, ...extra });
  const name = `${type}_${gemm ? "gemm" : "gemv"}` as const;
  return {
    name,
    tile: { n: 1, k: 256 },
    shapes: [
      s(1, 256), s(2, 512), s(3, 768), s(7, 256), s(13, 1280), s(31, 256), s(5, 3328),
      s(8, 512, { bias: 1 }), s(11, 256, { bias: 1, act: ACT_RELU }), s(17, 768, { act: ACT_SILU, acc: 1 }),
      s(23, 256, { bias: 1, acc: 1 }),
      ...(gemm ? [{ m: 1, n: 9, k: 256 }, { m: 5, n: 29, k: 512, bias: 1 }, { m: 17, n: 4, k: 256 }] : []),
    ],
    benchShapes: gemm
      ? [{ m: 128, n: 768, k: 768 }, { m: 128, n: 3072, k: 768 }]
      : [{ n: 768, k: 768 }, { n: 3072, k: 768 }, { n: 4096, k: 4096 }],
    flops: (d) => 2 * (d.m ?? 1) * d.n * d.k,
    makeCase: (d, rng) => makeQuantCase(type, d, rng),
    reference: (c) => cachedReference(c, 256).out,
    errorScale: (c) => cachedReference(c, 256).bound,
    run(k, engine, c) {
      const d = c.dims;
      const { w: _w, ...staged } = c.inputs;
      const p = stage(engine, staged);
      const m = d.m ?? 1;
      const xq = engine.scratch.alloc(m * k.q8_xq_bytes(d.k));
      k.q8k_quantize_rows(m, d.k, p.x, ldx(d), xq);
      if (!gemm) {
        k[`${type}_gemv`](d.n, d.k, xq, p.blocks, p.c0, p.bias ?? 0, flagsOf(d));
        return readF32(engine, p.c0, d.n + GUARD);
      }
      k[`${type}_gemm`](m, d.n, d.k, xq, p.blocks, p.c0, ldc(d), p.bias ?? 0, flagsOf(d));
      return readF32(engine, p.c0, m * ldc(d));
    },
    // The error bound is the whole allowance (see quant.ts).
    tolerance: { abs: 0, rel: 1 },
  };
}

/** GEMV and GEMM over Q4_K, Q5_K and Q6_K weights as stored. */
export const KQUANT_KERNELS: KernelEntry[] = (["q4_k", "q5_k", "q6_k"] as const).flatMap((t) => [kquantProduct(t, false), kquantProduct(t, true)]);

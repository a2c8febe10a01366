import { dequantizeMatrix, quantizeMatrix } from "../../tensor/quant_blocks.js";
import { f16ToF32 } from "../../tensor/half.js";
import type { Engine } from "../../engine/engine.js";
import { readF32 } from "../bindings.js";
import type { KernelEntry } from "../kernel_entry.js";
import { bytesAsF32 } from "./quant.js";

// Stored weights to f32 (assembly/widen.ts). Cases with `inPlace` put the source in the
// destination's tail, as the streamed loader does; the others stage it apart. The output is
// filled with garbage first, so a value the kernel does not write (or clobbers before reading
// it) shows up.

/** Stages `raw` (bytes) for a conversion to `outBytes` of floats; returns the source and destination. */
function stageConversion(engine: Engine, raw: Uint8Array, outBytes: number, inPlace: boolean): { src: number; dst: number } {
  const dst = engine.scratch.alloc(outBytes);
  const u8 = engine.mem.u8;
  u8.fill(0xa5, dst, dst + outBytes);
  const src = inPlace ? dst + outBytes - raw.byteLength : engine.scratch.alloc(raw.byteLength);
  u8.set(raw, src);
  return { src, dst };
}

const SHAPES = [1, 7, 8, 9, 15, 16, 17, 31, 1031].flatMap((n) => [{ n, inPlace: 0 }, { n, inPlace: 1 }]);

/** Halves with every class represented: random bits, plus zeros, subnormals, infinities and NaNs. */
function halves(n: number, next: () => number, bf16: boolean): Uint16Array {
  const special = bf16 ? [0x0000, 0x8000, 0x0001, 0x807f, 0x7f80, 0xff80, 0x7fc1] : [0x0000, 0x8000, 0x0001, 0x83ff, 0x7c00, 0xfc00, 0x7e01];
  return Uint16Array.from({ length: n }, (_, i) => (i % 5 === 4 ? special[Math.floor(i / 5) % special.length] : Math.floor(next() * 65536)));
}

function widenEntry(bf16: boolean): KernelEntry {
  return {
    name: bf16 ? "bf16_widen" : "f16_widen",
    tile: { n: 8 },
    shapes: SHAPES,
    benchShapes: [{ n: 1 << 20, inPlace: 1 }],
    flops: () => 0,
    makeCase: (d, rng) => ({ dims: d, inputs: { h: bytesAsF32(new Uint8Array(halves(d.n, () => rng.uniform(0, 1), bf16).buffer)) }, params: {} }),
    reference(c) {
      const h = new Uint16Array(c.inputs.h.buffer, 0, c.dims.n);
      const bits = new Uint32Array(1);
      const f = new Float32Array(bits.buffer);
      return Float64Array.from(h, (x) => {
        if (!bf16) return f16ToF32(x);
        bits[0] = x << 16;
        return f[0];
      });
    },
    run(k, engine, c) {
      const { n, inPlace } = c.dims;
      const { src, dst } = stageConversion(engine, new Uint8Array(c.inputs.h.buffer, 0, 2 * n), 4 * n, inPlace === 1);
      (bf16 ? k.bf16_widen : k.f16_widen)(n, src, dst);
      return readF32(engine, dst, n);
    },
    tolerance: { abs: 0, rel: 0 },
  };
}

function dequantEntry(type: "q8_0" | "q4_0"): KernelEntry {
  return {
    name: `${type}_dequant`,
    tile: { nb: 1 },
    shapes: [1, 2, 3, 17, 129].flatMap((nb) => [{ nb, inPlace: 0 }, { nb, inPlace: 1 }]),
    benchShapes: [{ nb: 32768, inPlace: 1 }],
    flops: () => 0,
    makeCase(d, rng) {
      const blocks = quantizeMatrix(type, rng.f32(32 * d.nb, -3, 3), 1, 32 * d.nb).blocks;
      return { dims: d, inputs: { blocks: bytesAsF32(blocks), w: dequantizeMatrix({ type, rows: 1, cols: 32 * d.nb, blocks }) }, params: {} };
    },
    reference: (c) => Float64Array.from(c.inputs.w),
    run(k, engine, c) {
      const { nb, inPlace } = c.dims;
      const raw = new Uint8Array(c.inputs.blocks.buffer, 0, nb * (type === "q8_0" ? 34 : 18));
      const { src, dst } = stageConversion(engine, raw, 128 * nb, inPlace === 1);
      (type === "q8_0" ? k.q8_0_dequant : k.q4_0_dequant)(nb, src, dst);
      return readF32(engine, dst, 32 * nb);
    },
    tolerance: { abs: 0, rel: 0 },
  };
}

/** The load-time conversions of assembly/widen.ts. */
export const WIDEN_KERNELS: KernelEntry[] = [widenEntry(false), widenEntry(true), dequantEntry("q8_0"), dequantEntry("q4_0")];

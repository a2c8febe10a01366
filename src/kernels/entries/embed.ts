import type { KQuantType } from "../../tensor/kquant_blocks.js";
import { dequantizeMatrix, quantizeMatrix, type QuantType } from "../../tensor/quant_blocks.js";
import { readF32 } from "../bindings.js";
import { type Dims, type KernelEntry, stage } from "../kernel_entry.js";
import { bytesAsF32, repackStaged } from "./quant.js";
import { padded, unpad } from "./strided.js";

// dims: rows (tokens), d (width), vocab. Table stride d + 2, output stride d + 1.
const embed: KernelEntry = {
  name: "f32_embed",
  tile: { d: 8 },
  shapes: [1, 3, 7, 8, 9, 17, 13, 31, 1031].map((d) => ({ rows: 5, d, vocab: 11 } as Dims)).concat([{ rows: 1, d: 1, vocab: 1 }]),
  benchShapes: [{ rows: 128, d: 768, vocab: 32000 }, { rows: 1, d: 4096, vocab: 32000 }],
  flops: () => 0,
  makeCase(d, rng) {
    const ids = new Float32Array(d.rows);
    for (let r = 0; r < d.rows; r++) ids[r] = Math.floor(rng.uniform(0, d.vocab));
    return { dims: d, inputs: { table: padded(rng, d.vocab, d.d, d.d + 2), ids }, params: { scale: 1.75 } };
  },
  reference(c) {
    const { rows, d } = c.dims;
    const out = new Float64Array(rows * d);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) out[r * d + j] = c.inputs.table[c.inputs.ids[r] * (d + 2) + j] * c.params.scale;
    }
    return out;
  },
  run(k, engine, c) {
    const { rows, d } = c.dims;
    const p = stage(engine, { table: c.inputs.table, out: new Float32Array(rows * (d + 1)) });
    const ids = engine.scratch.alloc(rows * 4);
    engine.mem.i32.set(Int32Array.from(c.inputs.ids), ids >>> 2);
    k.f32_embed(rows, d, ids, p.table, d + 2, p.out, d + 1, c.params.scale);
    return unpad(readF32(engine, p.out, rows * (d + 1)), rows, d, d + 1);
  },
  // One rounding of the product.
  tolerance: { abs: 0, rel: 1e-7 },
};

/** Case and reference shared by the quantized gathers: random ids into a quantized table, checked against the table dequantized whole. */
function quantGather(type: QuantType): Pick<KernelEntry, "makeCase" | "reference"> {
  return {
    makeCase(d, rng) {
      const ids = new Float32Array(d.rows);
      for (let r = 0; r < d.rows; r++) ids[r] = Math.floor(rng.uniform(0, d.vocab));
      const blocks = quantizeMatrix(type, rng.f32(d.vocab * d.d, -2, 2), d.vocab, d.d).blocks;
      return { dims: d, inputs: { blocks: bytesAsF32(blocks), table: dequantizeMatrix({ type, rows: d.vocab, cols: d.d, blocks }), ids }, params: { scale: 1.75 } };
    },
    reference(c) {
      const { rows, d } = c.dims;
      const out = new Float64Array(rows * d);
      for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) out[r * d + j] = c.inputs.table[c.inputs.ids[r] * d + j] * c.params.scale;
      return out;
    },
  };
}

/** The gather from a repacked q8_0 / q4_0 table: against the dequantized table (exact), times the scale (one rounding); vocabularies over several panels, padded ones too. */
function quantEmbed(type: "q8_0" | "q4_0"): KernelEntry {
  return {
    name: `${type}_embed`,
    tile: { d: 32 },
    shapes: [32, 64, 96, 416].map((d) => ({ rows: 9, d, vocab: 29 } as Dims)).concat([{ rows: 1, d: 32, vocab: 1 }, { rows: 4, d: 64, vocab: 8 }]),
    benchShapes: [{ rows: 128, d: 768, vocab: 32000 }, { rows: 1, d: 4096, vocab: 32000 }],
    flops: () => 0,
    ...quantGather(type),
    run(k, engine, c) {
      const { rows, d } = c.dims;
      const p = stage(engine, { blocks: c.inputs.blocks, out: new Float32Array(rows * (d + 1)).fill(NaN) });
      const { quants, scales } = repackStaged(k, engine, type, c.dims.vocab, d, p.blocks);
      const ids = engine.scratch.alloc(rows * 4);
      engine.mem.i32.set(Int32Array.from(c.inputs.ids), ids >>> 2);
      (type === "q8_0" ? k.q8_0_embed : k.q4_0_embed)(rows, d, ids, quants, scales, p.out, d + 1, c.params.scale);
      return unpad(readF32(engine, p.out, rows * (d + 1)), rows, d, d + 1);
    },
    tolerance: { abs: 0, rel: 1e-7 },
  };
}

/**
 * The gather from a Q4_K / Q5_K / Q6_K table as stored (rows of d / 256 super-blocks): against the
 * dequantized table (exact; tests/kernels/kquant.test.ts checks the bits), times the scale (one rounding).
 */
function kquantEmbed(type: KQuantType): KernelEntry {
  return {
    name: `${type}_embed`,
    tile: { d: 256 },
    shapes: [256, 512, 768, 1280].map((d) => ({ rows: 9, d, vocab: 29 } as Dims)).concat([{ rows: 1, d: 256, vocab: 1 }, { rows: 6, d: 256, vocab: 3 }]),
    benchShapes: [{ rows: 128, d: 768, vocab: 32000 }, { rows: 1, d: 4096, vocab: 32000 }],
    flops: () => 0,
    ...quantGather(type),
    run(k, engine, c) {
      const { rows, d } = c.dims;
      const p = stage(engine, { blocks: c.inputs.blocks, out: new Float32Array(rows * (d + 1)).fill(NaN) });
      const ids = engine.scratch.alloc(rows * 4);
      engine.mem.i32.set(Int32Array.from(c.inputs.ids), ids >>> 2);
      k[`${type}_embed`](rows, d, ids, p.blocks, p.out, d + 1, c.params.scale);
      return unpad(readF32(engine, p.out, rows * (d + 1)), rows, d, d + 1);
    },
    tolerance: { abs: 0, rel: 1e-7 },
  };
}

// The gather from a table packed as a GEMM right-hand side (a tied head's panels): vocabularies
// of one, several and partial panels, widths off the vector width.
const embedPacked: KernelEntry = {
  name: "f32_embed_packed",
  tile: { d: 4 },
  shapes: [1, 3, 4, 5, 17, 64].flatMap((d) => [7, 8, 29].map((vocab) => ({ rows: 9, d, vocab } as Dims))),
  benchShapes: [{ rows: 128, d: 768, vocab: 32000 }, { rows: 1, d: 4096, vocab: 32000 }],
  flops: () => 0,
  makeCase(d, rng) {
    const ids = new Float32Array(d.rows);
    for (let r = 0; r < d.rows; r++) ids[r] = Math.floor(rng.uniform(0, d.vocab));
    return { dims: d, inputs: { table: rng.f32(d.vocab * d.d), ids }, params: { scale: 1.75 } };
  },
  reference(c) {
    const { rows, d } = c.dims;
    const out = new Float64Array(rows * d);
    for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) out[r * d + j] = c.inputs.table[c.inputs.ids[r] * d + j] * c.params.scale;
    return out;
  },
  run(k, engine, c) {
    const { rows, d, vocab } = c.dims;
    const p = stage(engine, { table: c.inputs.table, out: new Float32Array(rows * (d + 1)).fill(NaN) });
    const packed = engine.scratch.alloc(k.f32_gemm_packed_size(d, vocab) * 4);
    k.f32_gemm_pack_bt(d, vocab, p.table, d, packed);
    const ids = engine.scratch.alloc(rows * 4);
    engine.mem.i32.set(Int32Array.from(c.inputs.ids), ids >>> 2);
    k.f32_embed_packed(rows, d, ids, packed, p.out, d + 1, c.params.scale);
    return unpad(readF32(engine, p.out, rows * (d + 1)), rows, d, d + 1);
  },
  tolerance: { abs: 0, rel: 1e-7 },
};

/** Embedding gathers (assembly/f32_embed.ts, assembly/qk_embed.ts). */
export const EMBED_KERNELS: KernelEntry[] = [embed, embedPacked, quantEmbed("q8_0"), quantEmbed("q4_0"), kquantEmbed("q4_k"), kquantEmbed("q5_k"), kquantEmbed("q6_k")];

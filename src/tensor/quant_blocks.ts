// The GGUF (ggml) block encodings q8_0 and q4_0: how a quantized matrix is stored in a file.
// A matrix of `rows` x `cols` (cols a multiple of 32) is row-major blocks of 32 values:
//   q8_0: 34 bytes = f16 scale d, then 32 int8 q;              value = d * q
//   q4_0: 18 bytes = f16 scale d, then 16 bytes, byte t holds q[t] in its low nibble and
//         q[t + 16] in its high nibble (q = 0..15);            value = d * (q - 8)
// The kernels read a repacked form of these bytes (src/engine/kernel_abi.ts, q8_0_repack).
// The k-quants (super-blocks of 256, kquant_blocks.ts) share the QuantizedMatrix form; their kernels
// read the stored bytes as they are.
import { ModelFormatError, ShapeError } from "../errors.js";
import { dequantizeK, isKQuant, KQUANT_BLOCK_BYTES, KQUANT_BLOCK_VALUES, type KQuantType, quantizeK } from "./kquant_blocks.js";
import { f16ToF32, f32ToF16 } from "./half.js";

/** The types with blocks of 32 values (repacked for their kernels). */
export type Block32Type = "q8_0" | "q4_0";

/** Block-quantized weight types. */
export type QuantType = Block32Type | KQuantType;

/** Values per q8_0 / q4_0 block. */
export const QUANT_BLOCK_VALUES = 32;

/** Bytes of one q8_0 / q4_0 block of 32 values. */
export const QUANT_BLOCK_BYTES: Readonly<Record<Block32Type, number>> = { q8_0: 34, q4_0: 18 };

/** Values per block of `type` (32, or 256 for the k-quants): a row's length is a multiple of it. */
export function blockValues(type: QuantType): number {
  return isKQuant(type) ? KQUANT_BLOCK_VALUES : QUANT_BLOCK_VALUES;
}

/** A block-quantized matrix (rows x cols, GGUF block layout). */
export interface QuantizedMatrix {
  readonly type: QuantType;
  readonly rows: number;
  readonly cols: number;
  /** rows * cols / blockValues(type) blocks, row-major. */
  readonly blocks: Uint8Array;
}

/** Bytes of a rows x cols matrix in `type` (cols must be a multiple of blockValues(type)). */
export function quantBytes(type: QuantType, rows: number, cols: number): number {
  return rows * (cols / blockValues(type)) * (isKQuant(type) ? KQUANT_BLOCK_BYTES[type] : QUANT_BLOCK_BYTES[type]);
}

function checkCols(what: string, cols: number, type: QuantType): void {
  const per = blockValues(type);
  if (!Number.isInteger(cols) || cols <= 0 || cols % per !== 0) {
    throw new ModelFormatError("<quantize>", `${what} columns`, `a positive multiple of ${per}`, String(cols));
  }
}

/**
 * Quantizes a rows x cols float matrix (row-major) to GGUF blocks, as llama.cpp's reference
 * quantizers define them: q8_0 d = max|x| / 127, q = round(x / d) (ties away from zero);
 * q4_0 d = m / -8 where m is the value of largest magnitude (sign kept), q = min(15, trunc(x / d + 8.5)).
 * d is stored as f16; the quants are computed with the f32 d, as llama.cpp does.
 * The k-quants: see quantizeK.
 */
export function quantizeMatrix(type: QuantType, data: Float32Array, rows: number, cols: number): QuantizedMatrix {
  if (isKQuant(type)) return { type, rows, cols, blocks: quantizeK(type, data, rows, cols) };
  checkCols("quantized matrix", cols, type);
  if (data.length !== rows * cols) throw new ModelFormatError("<quantize>", "values", `${rows} x ${cols} = ${rows * cols}`, String(data.length));
  const bsz = QUANT_BLOCK_BYTES[type];
  const out = new Uint8Array(quantBytes(type, rows, cols));
  const dv = new DataView(out.buffer);
  const nblocks = (rows * cols) / QUANT_BLOCK_VALUES;
  for (let b = 0; b < nblocks; b++) {
    const x0 = b * QUANT_BLOCK_VALUES;
    const at = b * bsz;
    if (type === "q8_0") {
      let amax = 0;
      for (let t = 0; t < 32; t++) amax = Math.max(amax, Math.abs(data[x0 + t]));
      const d = Math.fround(amax / 127);
      const id = d ? Math.fround(1 / d) : 0;
      dv.setUint16(at, f32ToF16(d), true);
      for (let t = 0; t < 32; t++) {
        const v = Math.fround(data[x0 + t] * id);
        dv.setInt8(at + 2 + t, Math.sign(v) * Math.round(Math.abs(v)));
      }
    } else {
      let amax = 0;
      let m = 0;
      for (let t = 0; t < 32; t++) {
        const v = data[x0 + t];
        if (Math.abs(v) > amax) {
          amax = Math.abs(v);
          m = v;
        }
      }
      const d = Math.fround(m / -8);
      const id = d ? Math.fround(1 / d) : 0;
      dv.setUint16(at, f32ToF16(d), true);
      const q = (v: number) => Math.min(15, Math.trunc(Math.fround(Math.fround(v * id) + 8.5)));
      for (let t = 0; t < 16; t++) out[at + 2 + t] = q(data[x0 + t]) | (q(data[x0 + t + 16]) << 4);
    }
  }
  return { type, rows, cols, blocks: out };
}

/** The float values a quantized matrix stands for (row-major rows x cols), into `out` when given. */
export function dequantizeMatrix(q: QuantizedMatrix, out = new Float32Array(q.rows * q.cols)): Float32Array {
  checkCols("quantized matrix", q.cols, q.type);
  if (out.length !== q.rows * q.cols) throw new ShapeError(`dequantize: expected an output of ${q.rows} x ${q.cols} = ${q.rows * q.cols} values, found ${out.length}`);
  const need = quantBytes(q.type, q.rows, q.cols);
  if (q.blocks.byteLength !== need) throw new ModelFormatError("<dequantize>", `${q.type} bytes`, String(need), String(q.blocks.byteLength));
  if (isKQuant(q.type)) {
    out.set(dequantizeK(q.type, q.blocks, q.rows * q.cols));
    return out;
  }
  const bsz = QUANT_BLOCK_BYTES[q.type];
  const dv = new DataView(q.blocks.buffer, q.blocks.byteOffset, q.blocks.byteLength);
  const nblocks = out.length / QUANT_BLOCK_VALUES;
  for (let b = 0; b < nblocks; b++) {
    const at = b * bsz;
    const d = f16ToF32(dv.getUint16(at, true));
    const x0 = b * QUANT_BLOCK_VALUES;
    if (q.type === "q8_0") {
      for (let t = 0; t < 32; t++) out[x0 + t] = d * dv.getInt8(at + 2 + t);
    } else {
      for (let t = 0; t < 16; t++) {
        const byte = q.blocks[at + 2 + t];
        out[x0 + t] = d * ((byte & 15) - 8);
        out[x0 + t + 16] = d * ((byte >> 4) - 8);
      }
    }
  }
  return out;
}

/** Rows [r0, r1) of a quantized matrix (a view of the same bytes). */
export function quantRows(q: QuantizedMatrix, r0: number, r1: number): QuantizedMatrix {
  const rowBytes = quantBytes(q.type, 1, q.cols);
  return { type: q.type, rows: r1 - r0, cols: q.cols, blocks: q.blocks.subarray(r0 * rowBytes, r1 * rowBytes) };
}

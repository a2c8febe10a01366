// ggml's k-quants: super-blocks of 256 values with 8 or 16 sub-block scales, as a GGUF file stores
// them and as the k-quant kernels read them (assembly/qk_blocks.ts has the byte map):
//   Q4_K (144 bytes): f16 d, f16 dmin, 12 bytes of 6-bit scales and mins for 8 sub-blocks of 32,
//         128 bytes of nibbles (each 32 bytes hold two sub-blocks: low nibbles, then high);
//         x = d sc q - dmin m.
//   Q5_K (176 bytes): Q4_K's header, 32 bytes of fifth bits (bit j of byte l: sub-block j, value l),
//         then the 128 bytes of nibbles; q = nibble | bit << 4.
//   Q6_K (210 bytes): 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 int8 scales (one per 16
//         values), f16 d; x = d sc (q - 32), each 128 values taking 64 + 32 bytes.
import { ModelFormatError } from "../errors.js";
import { f16ToF32, f32ToF16 } from "./half.js";

/** The k-quant types. */
export type KQuantType = "q4_k" | "q5_k" | "q6_k";

/** Values per super-block. */
export const KQUANT_BLOCK_VALUES = 256;

/** Bytes of one super-block. */
export const KQUANT_BLOCK_BYTES: Readonly<Record<KQuantType, number>> = { q4_k: 144, q5_k: 176, q6_k: 210 };

/** True for the k-quant types. */
export function isKQuant(type: string): type is KQuantType {
  return type === "q4_k" || type === "q5_k" || type === "q6_k";
}

/** Byte offset of the f16 d (and, Q4_K / Q5_K, of dmin right after it) in a super-block. */
const D_AT: Readonly<Record<KQuantType, number>> = { q4_k: 0, q5_k: 0, q6_k: 208 };

/** Sub-block j's 6-bit scale and min (Q4_K / Q5_K): j < 4 in bytes j / j+4; else split over byte j+4 and the top bits of j-4 / j. */
function scaleMin(src: Uint8Array, at: number, j: number): [number, number] {
  return j < 4
    ? [src[at + j] & 63, src[at + j + 4] & 63]
    : [(src[at + j + 4] & 15) | ((src[at + j - 4] >> 6) << 4), (src[at + j + 4] >> 4) | ((src[at + j] >> 6) << 4)];
}

/**
 * The float32 values of `size` elements of k-quant super-blocks, equal to ggml's
 * dequantize_row_q4_K / _q5_K / _q6_K to the bit (products rounded to float32 where ggml's C rounds them).
 */
export function dequantizeK(type: KQuantType, src: Uint8Array, size: number): Float32Array {
  const out = new Float32Array(size);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const bsz = KQUANT_BLOCK_BYTES[type];
  if (type === "q6_k") {
    for (let b = 0, o = 0; o < size; b += bsz, o += 256) {
      const d = f16ToF32(dv.getUint16(b + 208, true));
      for (let half = 0; half < 2; half++) {
        const ql = b + 64 * half;
        const qh = b + 128 + 32 * half;
        const sc = b + 192 + 8 * half;
        const y = o + 128 * half;
        for (let l = 0; l < 32; l++) {
          const is = l >> 4;
          const h = src[qh + l];
          const s = (k: number) => Math.fround(d * dv.getInt8(sc + is + k));
          out[y + l] = s(0) * (((src[ql + l] & 15) | ((h & 3) << 4)) - 32);
          out[y + l + 32] = s(2) * (((src[ql + l + 32] & 15) | (((h >> 2) & 3) << 4)) - 32);
          out[y + l + 64] = s(4) * (((src[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32);
          out[y + l + 96] = s(6) * (((src[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32);
        }
      }
    }
    return out;
  }
  const five = type === "q5_k";
  const qs0 = five ? 48 : 16;
  for (let b = 0, o = 0; o < size; b += bsz, o += 256) {
    const d = f16ToF32(dv.getUint16(b, true));
    const dmin = f16ToF32(dv.getUint16(b + 2, true));
    for (let chunk = 0; chunk < 4; chunk++) {
      const [sc1, mn1] = scaleMin(src, b + 4, 2 * chunk);
      const [sc2, mn2] = scaleMin(src, b + 4, 2 * chunk + 1);
      const d1 = Math.fround(d * sc1), m1 = Math.fround(dmin * mn1);
      const d2 = Math.fround(d * sc2), m2 = Math.fround(dmin * mn2);
      const q = b + qs0 + 32 * chunk;
      const y = o + 64 * chunk;
      for (let l = 0; l < 32; l++) {
        const h = five ? src[b + 16 + l] >> (2 * chunk) : 0;
        out[y + l] = Math.fround(d1 * ((src[q + l] & 15) | ((h & 1) << 4))) - m1;
        out[y + 32 + l] = Math.fround(d2 * ((src[q + l] >> 4) | ((h & 2) << 3))) - m2;
      }
    }
  }
  return out;
}

/**
 * The first super-block whose f16 d (or dmin) is not finite, or -1: such a block dequantizes to
 * Inf / NaN, so a loader refuses it rather than run a model that can only output NaN.
 */
export function badKQuantScale(type: KQuantType, src: Uint8Array): number {
  const bsz = KQUANT_BLOCK_BYTES[type];
  const at = D_AT[type];
  const halves = type === "q6_k" ? 1 : 2;
  for (let b = 0, i = 0; b + bsz <= src.byteLength; b += bsz, i++) {
    for (let h = 0; h < halves; h++) if ((((src[b + at + 2 * h + 1] << 8) | src[b + at + 2 * h]) & 0x7c00) === 0x7c00) return i;
  }
  return -1;
}

/**
 * Quantizes a rows x cols float matrix (cols a multiple of 256) to k-quant super-blocks. A plain
 * min/max encoder, not llama.cpp's search for the best scales (make_qkx2_quants): every code it
 * writes is valid and decodes with ggml's formulas; its error is at most about one step per value.
 *   Q4_K / Q5_K: per sub-block of 32, step (max - min) / (2^bits - 1) and min <= 0; d, dmin = the
 *                largest step / min over 63 (f16), 6-bit sc, m rounded from them.
 *   Q6_K: per 16 values, step = -(the value of largest magnitude) / 32 (the extreme maps to q = 0);
 *         d = largest |step| / 127 (f16), int8 sc rounded from it.
 * Quants are rounded to nearest from the scales as stored (f16 d times the integer scale).
 */
export function quantizeK(type: KQuantType, data: Float32Array, rows: number, cols: number): Uint8Array {
  if (!Number.isInteger(cols) || cols <= 0 || cols % KQUANT_BLOCK_VALUES !== 0) {
    throw new ModelFormatError("<quantize>", `${type} matrix columns`, `a positive multiple of ${KQUANT_BLOCK_VALUES}`, String(cols));
  }
  if (data.length !== rows * cols) throw new ModelFormatError("<quantize>", "values", `${rows} x ${cols} = ${rows * cols}`, String(data.length));
  const bsz = KQUANT_BLOCK_BYTES[type];
  const nblocks = data.length / 256;
  const out = new Uint8Array(nblocks * bsz);
  const dv = new DataView(out.buffer);
  const f16 = (x: number) => f16ToF32(f32ToF16(x));
  const q = new Int32Array(256);
  for (let b = 0; b < nblocks; b++) {
    const x = data.subarray(b * 256, b * 256 + 256);
    const o = b * bsz;
    if (type === "q6_k") {
      const step = new Float64Array(16);
      let smax = 0;
      for (let g = 0; g < 16; g++) {
        let v = 0;
        for (let t = 16 * g; t < 16 * g + 16; t++) if (Math.abs(x[t]) > Math.abs(v)) v = x[t];
        step[g] = -v / 32;
        smax = Math.max(smax, Math.abs(step[g]));
      }
      const d = f16(smax / 127);
      dv.setUint16(o + 208, f32ToF16(d), true);
      for (let g = 0; g < 16; g++) {
        const sc = d ? Math.max(-128, Math.min(127, Math.round(step[g] / d))) : 0;
        dv.setInt8(o + 192 + g, sc);
        const s = Math.fround(d * sc);
        for (let t = 16 * g; t < 16 * g + 16; t++) q[t] = s ? Math.max(0, Math.min(63, Math.round(x[t] / s) + 32)) : 32;
      }
      for (let h = 0; h < 2; h++) {
        for (let l = 0; l < 32; l++) {
          const v = 128 * h + l;
          out[o + 64 * h + l] = (q[v] & 15) | ((q[v + 64] & 15) << 4);
          out[o + 64 * h + 32 + l] = (q[v + 32] & 15) | ((q[v + 96] & 15) << 4);
          out[o + 128 + 32 * h + l] = (q[v] >> 4) | ((q[v + 32] >> 4) << 2) | ((q[v + 64] >> 4) << 4) | ((q[v + 96] >> 4) << 6);
        }
      }
      continue;
    }
    const nmax = type === "q5_k" ? 31 : 15;
    const step = new Float64Array(8);
    const mins = new Float64Array(8);
    let smax = 0;
    let mmax = 0;
    for (let j = 0; j < 8; j++) {
      let lo = 0;
      let hi = -Infinity;
      for (let t = 32 * j; t < 32 * j + 32; t++) {
        lo = Math.min(lo, x[t]);
        hi = Math.max(hi, x[t]);
      }
      step[j] = (hi - lo) / nmax;
      mins[j] = -lo;
      smax = Math.max(smax, step[j]);
      mmax = Math.max(mmax, mins[j]);
    }
    const d = f16(smax / 63);
    const dmin = f16(mmax / 63);
    dv.setUint16(o, f32ToF16(d), true);
    dv.setUint16(o + 2, f32ToF16(dmin), true);
    const sc = new Int32Array(8);
    const mn = new Int32Array(8);
    for (let j = 0; j < 8; j++) {
      sc[j] = d ? Math.min(63, Math.round(step[j] / d)) : 0;
      mn[j] = dmin ? Math.min(63, Math.round(mins[j] / dmin)) : 0;
      const s = Math.fround(d * sc[j]);
      const m = Math.fround(dmin * mn[j]);
      for (let t = 32 * j; t < 32 * j + 32; t++) q[t] = s ? Math.max(0, Math.min(nmax, Math.round((x[t] + m) / s))) : 0;
    }
    for (let j = 0; j < 4; j++) {
      out[o + 4 + j] = sc[j] | ((sc[j + 4] >> 4) << 6);
      out[o + 8 + j] = mn[j] | ((mn[j + 4] >> 4) << 6);
      out[o + 12 + j] = (sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4);
    }
    const qs = o + (type === "q5_k" ? 48 : 16);
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) out[qs + 32 * c + l] = (q[64 * c + l] & 15) | ((q[64 * c + 32 + l] & 15) << 4);
    }
    if (type === "q5_k") {
      for (let l = 0; l < 32; l++) {
        let h = 0;
        for (let j = 0; j < 8; j++) h |= (q[32 * j + l] >> 4) << j;
        out[o + 16 + l] = h;
      }
    }
  }
  return out;
}

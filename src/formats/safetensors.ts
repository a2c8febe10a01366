// safetensors: u64 little-endian header length, a JSON header
// { name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: { string: string } },
// then the tensor bytes (offsets relative to the end of the header).
// Everything is checked once at parse time, so reading a tensor later cannot fail.
//
// Besides the standard F32, F16 and BF16, simdformer writes two block-quantized dtypes of
// its own (`simdformer quantize`), for linear weights only:
//   "Q8_0", "Q4_0": shape = the logical [out, in] (in a multiple of 32); the bytes are the
//   GGUF block layout, row-major: per block of 32 values along `in`, an f16 scale then the
//   quants (Q8_0: 32 int8, 34 bytes a block; Q4_0: 16 bytes of nibbles, 18 bytes a block;
//   see quant_blocks.ts). Other readers do not know these dtypes and refuse the file.
import { ModelFormatError } from "../errors.js";
import { dequantizeMatrix, quantBytes, QUANT_BLOCK_VALUES, type QuantizedMatrix, type QuantType } from "./quant_blocks.js";

/** Tensor element types this reader understands (F32, F16, BF16; Q8_0, Q4_0 are simdformer's own). */
export type SafetensorsDtype = "F32" | "F16" | "BF16" | "Q8_0" | "Q4_0";

const DTYPE_BYTES: Record<"F32" | "F16" | "BF16", number> = { F32: 4, F16: 2, BF16: 2 };
const QUANT_DTYPES: Record<string, QuantType> = { Q8_0: "q8_0", Q4_0: "q4_0" };

/** One tensor of a safetensors file: where its bytes are, and how to read them as float32. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Number of elements (product of the shape; 1 for a scalar). */
  readonly size: number;
  /** Byte range in the file (absolute). */
  readonly begin: number;
  readonly end: number;
}

/** A parsed safetensors file. Tensors are converted to float32 only when read. */
export class SafetensorsFile {
  /** @internal */
  constructor(
    /** Name used in error messages (a path or "<bytes>"). */
    readonly file: string,
    private readonly bytes: Uint8Array,
    /** The tensors in file order. */
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    /** The free-form string map of the header (config, vocabularies, ...). */
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor's description; a missing name is a ModelFormatError naming it. */
  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new ModelFormatError(this.file, `tensor "${name}"`, "present", "missing");
    return t;
  }

  /** The tensor's shape. */
  shape(name: string): readonly number[] {
    return this.info(name).shape;
  }

  /** A Q8_0 / Q4_0 tensor's blocks (a view of the file's bytes), or undefined for a float dtype. */
  quantized(name: string): QuantizedMatrix | undefined {
    const t = this.info(name);
    const type = QUANT_DTYPES[t.dtype];
    if (!type) return undefined;
    return { type, rows: t.shape[0], cols: t.shape[1], blocks: this.bytes.subarray(t.begin, t.end) };
  }

  /** Reads a tensor as float32 (a fresh array; F16 and BF16 are widened exactly, Q8_0 / Q4_0 dequantized). */
  read(name: string): Float32Array {
    const t = this.info(name);
    const q = this.quantized(name);
    if (q) return dequantizeMatrix(q);
    const src = this.bytes.subarray(t.begin, t.end);
    if (t.dtype === "F32") {
      // Copy through a Uint8Array: the tensor may sit at an offset that is not 4-aligned.
      const out = new Float32Array(t.size);
      new Uint8Array(out.buffer).set(src);
      return littleEndian ? out : byteSwap32(out);
    }
    const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    const out = new Float32Array(t.size);
    if (t.dtype === "F16") {
      const table = f16Table();
      if (littleEndian && src.byteOffset % 2 === 0) {
        // Aligned: a Uint16Array view reads ~3x faster than DataView calls (cold start).
        const halves = new Uint16Array(src.buffer, src.byteOffset, t.size);
        for (let i = 0; i < t.size; i++) out[i] = table[halves[i]];
      } else {
        for (let i = 0; i < t.size; i++) out[i] = table[dv.getUint16(2 * i, true)];
      }
    }
    else {
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < t.size; i++) u32[i] = dv.getUint16(2 * i, true) << 16;
    }
    return out;
  }
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function byteSwap32(a: Float32Array): Float32Array {
  const dv = new DataView(a.buffer, a.byteOffset, a.byteLength);
  for (let i = 0; i < a.length; i++) dv.setUint32(4 * i, dv.getUint32(4 * i, true), false);
  return a;
}

let F16_TABLE: Float32Array | undefined;

/**
 * Every half value widened once (256 KiB): reading a large F16 file is then one lookup per
 * value. Normal halves are built by moving bits (the exponent rebias is exact); only zero,
 * subnormals, infinities and NaN go through f16ToF32.
 */
export function f16Table(): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    const bits = new Uint32Array(F16_TABLE.buffer);
    for (let h = 0; h < 65536; h++) {
      const e = (h >> 10) & 0x1f;
      if (e === 0 || e === 31) F16_TABLE[h] = f16ToF32(h);
      else bits[h] = ((h & 0x8000) << 16) | ((e + 112) << 23) | ((h & 0x3ff) << 13);
    }
  }
  return F16_TABLE;
}

/** IEEE half -> float (subnormals, infinities and NaN included). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Parses a safetensors buffer. Every bound is checked here: header length beyond the
 * file, malformed JSON, unknown dtype, a shape whose size does not match its byte span,
 * offsets out of range, overlapping or out of file order, bytes left over. Each failure is
 * a ModelFormatError(file, field, expected, found).
 */
export function parseSafetensors(bytes: Uint8Array, file = "<bytes>"): SafetensorsFile {
  if (bytes.byteLength < 8) throw new ModelFormatError(file, "header length", "8 bytes", `a file of ${bytes.byteLength} bytes`);
  const headerLen = safetensorsHeaderLength(bytes, bytes.byteLength, file);
  const h = parseSafetensorsHeader(bytes.subarray(8, 8 + headerLen), bytes.byteLength, file);
  return new SafetensorsFile(file, bytes, new Map(h.tensors.map((t) => [t.name, t])), h.metadata);
}

/** The u64 header length at the start of a file of `fileSize` bytes (undefined: not known yet), checked to fit. */
export function safetensorsHeaderLength(first8: Uint8Array, fileSize: number | undefined, file = "<bytes>"): number {
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  const most = fileSize === undefined ? MAX_STREAMED_HEADER : Math.min(fileSize - 8, Number.MAX_SAFE_INTEGER);
  if (n > most) throw new ModelFormatError(file, "header length", `<= ${most} (${fileSize === undefined ? "the most a streamed header may take" : "file size - 8"})`, String(n));
  return n;
}

/** The largest JSON header read from a stream of unknown length (a bound on what a damaged length can make us read). */
const MAX_STREAMED_HEADER = 256 * 1024 * 1024;

/**
 * The JSON header (the bytes after the length) of a file of `fileSize` bytes: its metadata and
 * tensors in file order, every bound checked as parseSafetensors says. With `fileSize`
 * undefined (a stream of unknown length), the data section's size is taken from the tensors.
 */
export function parseSafetensorsHeader(json: Uint8Array, fileSize: number | undefined, file = "<bytes>"): { metadata: Record<string, string>; tensors: TensorInfo[] } {
  const fail = (field: string, expected: string, found: string): never => {
    throw new ModelFormatError(file, field, expected, found);
  };
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch (e) {
    fail("header", "UTF-8 JSON", (e as Error).message);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail("header", "a JSON object", typeof header);
  const dataStart = 8 + json.byteLength;
  const dataLen = fileSize === undefined ? Number.MAX_SAFE_INTEGER : fileSize - dataStart;

  let metadata: Record<string, string> = {};
  const entries: TensorInfo[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail("__metadata__", "an object of strings", JSON.stringify(raw));
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__.${k}`, "a string", typeof v);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== "object" || t === null) fail(`tensor "${name}"`, "an object", JSON.stringify(raw));
    // Own keys only: "constructor" or "toString" must not pass as a dtype through the prototype.
    if (typeof t.dtype !== "string" || !(Object.hasOwn(DTYPE_BYTES, t.dtype) || Object.hasOwn(QUANT_DTYPES, t.dtype))) {
      fail(`tensor "${name}".dtype`, "F32, F16, BF16, Q8_0 or Q4_0", JSON.stringify(t.dtype));
    }
    const dtype = t.dtype as SafetensorsDtype;
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}".shape`, "an array of integers >= 0", JSON.stringify(t.shape));
    }
    const shape = t.shape as number[];
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${name}".data_offsets`, "[begin, end] integers >= 0", JSON.stringify(off));
    }
    const [b, e] = off as [number, number];
    if (b > e || e > dataLen) fail(`tensor "${name}".data_offsets`, `0 <= begin <= end <= ${dataLen}`, `[${b}, ${e}]`);
    const size = shape.reduce((a, d) => a * d, 1);
    const qt = QUANT_DTYPES[dtype];
    if (qt && (shape.length !== 2 || shape[1] % QUANT_BLOCK_VALUES !== 0)) {
      fail(`tensor "${name}".shape`, `[out, in] with in a multiple of ${QUANT_BLOCK_VALUES} (dtype ${dtype})`, JSON.stringify(shape));
    }
    const span = qt ? quantBytes(qt, shape[0], shape[1]) : size * DTYPE_BYTES[dtype as keyof typeof DTYPE_BYTES];
    if (span !== e - b) fail(`tensor "${name}" byte span`, `${span} (shape [${shape}] x ${dtype})`, String(e - b));
    entries.push({ name, dtype, shape, size, begin: dataStart + b, end: dataStart + e });
  }
  // The data section is the tensors back to back, in offset order, with nothing left over.
  entries.sort((x, y) => x.begin - y.begin || x.end - y.end);
  let at = dataStart;
  for (const t of entries) {
    if (t.begin < at) fail(`tensor "${t.name}".data_offsets`, `begin >= ${at - dataStart} (end of the previous tensor)`, `overlap at ${t.begin - dataStart}`);
    if (t.begin > at) fail(`tensor "${t.name}".data_offsets`, `begin = ${at - dataStart} (tensors contiguous)`, String(t.begin - dataStart));
    at = t.end;
  }
  if (fileSize !== undefined && at !== fileSize) fail("data section", `${at - dataStart} bytes (sum of the tensors)`, `${dataLen} bytes`);
  return { metadata, tensors: entries };
}

/**
 * Serializes tensors (and optional metadata) as safetensors: float tensors as `dtype` (F32 or
 * F16), quantized ones (`{ quantized }`, shape [rows, cols]) as Q8_0 / Q4_0 blocks.
 */
export function writeSafetensors(
  tensors: Record<string, { shape: number[]; data: ArrayLike<number> } | { shape: number[]; quantized: QuantizedMatrix }>,
  metadata?: Record<string, string>,
  dtype: "F32" | "F16" = "F32",
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  const order = Object.entries(tensors);
  for (const [name, t] of order) {
    if ("quantized" in t) {
      const q = t.quantized;
      // Our safetensors dtypes are Q8_0 / Q4_0; k-quant blocks live in GGUF files.
      if (!Object.values(QUANT_DTYPES).includes(q.type)) throw new ModelFormatError("<write>", `tensor "${name}" blocks`, "q8_0 or q4_0", q.type);
      if (t.shape.length !== 2 || t.shape[0] !== q.rows || t.shape[1] !== q.cols || q.blocks.byteLength !== quantBytes(q.type, q.rows, q.cols)) {
        throw new ModelFormatError("<write>", `tensor "${name}"`, `[${q.rows}, ${q.cols}] in ${quantBytes(q.type, q.rows, q.cols)} bytes`, `[${t.shape}] in ${q.blocks.byteLength} bytes`);
      }
      header[name] = { dtype: q.type.toUpperCase(), shape: t.shape, data_offsets: [off, off + q.blocks.byteLength] };
      off += q.blocks.byteLength;
      continue;
    }
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (n !== t.data.length) throw new ModelFormatError("<write>", `tensor "${name}"`, `${n} values for shape [${t.shape}]`, String(t.data.length));
    header[name] = { dtype, shape: t.shape, data_offsets: [off, off + n * DTYPE_BYTES[dtype]] };
    off += n * DTYPE_BYTES[dtype];
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const [, t] of order) {
    if ("quantized" in t) {
      out.set(t.quantized.blocks, at);
      at += t.quantized.blocks.byteLength;
      continue;
    }
    for (let i = 0; i < t.data.length; i++) {
      if (dtype === "F32") dv.setFloat32(at + 4 * i, t.data[i], true);
      else dv.setUint16(at + 2 * i, f32ToF16(t.data[i]), true);
    }
    at += t.data.length * DTYPE_BYTES[dtype];
  }
  return out;
}

/** One float and its bits, shared by every f32ToF16 call (a fresh pair per value made writing a large F16 file allocation-bound). */
const F32_SCRATCH = new Float32Array(1);
const F32_SCRATCH_BITS = new Uint32Array(F32_SCRATCH.buffer);

/** float -> IEEE half, round to nearest even. */
export function f32ToF16(x: number): number {
  F32_SCRATCH[0] = x;
  const b = F32_SCRATCH_BITS[0];
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  let m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  let he = e - 127 + 15;
  if (he >= 31) return sign | 0x7c00;
  if (he <= 0) {
    if (he < -10) return sign;
    m |= 0x800000;
    const shift = 14 - he;
    let hm = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && hm & 1)) hm++;
    return sign | hm;
  }
  let hm = m >>> 13;
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && hm & 1)) {
    hm++;
    if (hm === 0x400) {
      hm = 0;
      he++;
      if (he >= 31) return sign | 0x7c00;
    }
  }
  return sign | (he << 10) | hm;
}

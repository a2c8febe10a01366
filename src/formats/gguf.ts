// GGUF (llama.cpp's model file), versions 2 and 3: "GGUF" magic, version u32, tensor count u64,
// metadata count u64, metadata key/values (typed, arrays included), tensor infos (name, dims with
// the fastest-varying first, ggml type, offset), padding to general.alignment, then tensor data.
// Every count, length and offset is checked against the bytes left before it is used, so a
// damaged file is a ModelFormatError, never a huge allocation, a hang or an out-of-bounds read.
import { ModelFormatError, UnsupportedFeatureError } from "../errors.js";
import { widenHalves } from "../tensor/half.js";
import { badKQuantScale, isKQuant } from "../tensor/kquant_blocks.js";
import { dequantizeMatrix, type QuantizedMatrix, type QuantType } from "../tensor/quant_blocks.js";

/** A metadata value: numbers (u64/i64 beyond 2^53 stay bigint), booleans, strings, arrays. */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

/** ggml tensor types this reader understands. */
export type GgufTensorType = "F32" | "F16" | "BF16" | "Q8_0" | "Q4_0" | "Q4_K" | "Q5_K" | "Q6_K";

/** ggml type id -> name, block size in elements, bytes per block. */
const GGML_TYPES: Record<number, { name: GgufTensorType; block: number; bytes: number }> = {
  0: { name: "F32", block: 1, bytes: 4 },
  1: { name: "F16", block: 1, bytes: 2 },
  2: { name: "Q4_0", block: 32, bytes: 18 },
  8: { name: "Q8_0", block: 32, bytes: 34 },
  30: { name: "BF16", block: 1, bytes: 2 },
  12: { name: "Q4_K", block: 256, bytes: 144 },
  13: { name: "Q5_K", block: 256, bytes: 176 },
  14: { name: "Q6_K", block: 256, bytes: 210 },
};

/** Names of ggml types we know of but do not read, for the error message. */
const OTHER_GGML_TYPES: Record<number, string> = {
  3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 15: "Q8_K",
  16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS",
  24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
};

/** One tensor of a GGUF file. */
export interface GgufTensorInfo {
  readonly name: string;
  readonly type: GgufTensorType;
  /** ggml dims, fastest-varying first (ne[0] is a row's length). */
  readonly dims: readonly number[];
  /** The torch-order shape (dims reversed): a linear weight is [out, in]. */
  readonly shape: readonly number[];
  readonly size: number;
  /** Absolute byte range in the file. */
  readonly begin: number;
  readonly end: number;
}

const MAGIC = 0x46554747; // "GGUF" little-endian
const MAX_ARRAY_DEPTH = 4;
const MAX_DIMS = 4;

/** Value type ids of GGUF metadata. */
const enum T { U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 }
const SCALAR_BYTES = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8]; // minimum bytes per value (string: its length field; array: type + count)

/** A bounds-checked little-endian reader over the file. */
class Cursor {
  pos = 0;
  private readonly dv: DataView;
  private readonly dec = new TextDecoder("utf-8", { fatal: true });

  constructor(readonly file: string, readonly bytes: Uint8Array, readonly fileSize: number) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left in the file (beyond the prefix held when parsing a header from a stream). */
  get left(): number {
    return this.fileSize - this.pos;
  }

  fail(field: string, expected: string, found: string): never {
    throw new ModelFormatError(this.file, field, expected, found);
  }

  need(n: number, field: string): void {
    if (n > this.left) this.fail(field, `${n} bytes at offset ${this.pos}`, `${this.left} bytes left (file of ${this.fileSize} bytes)`);
    if (this.pos + n > this.bytes.byteLength) throw new GgufPrefixTooShort(this.pos + n);
  }

  u8(f: string) { this.need(1, f); return this.dv.getUint8(this.pos++); }
  i8(f: string) { this.need(1, f); return this.dv.getInt8(this.pos++); }
  u16(f: string) { this.need(2, f); const v = this.dv.getUint16(this.pos, true); this.pos += 2; return v; }
  i16(f: string) { this.need(2, f); const v = this.dv.getInt16(this.pos, true); this.pos += 2; return v; }
  u32(f: string) { this.need(4, f); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  i32(f: string) { this.need(4, f); const v = this.dv.getInt32(this.pos, true); this.pos += 4; return v; }
  f32(f: string) { this.need(4, f); const v = this.dv.getFloat32(this.pos, true); this.pos += 4; return v; }
  f64(f: string) { this.need(8, f); const v = this.dv.getFloat64(this.pos, true); this.pos += 8; return v; }
  u64(f: string): number | bigint {
    this.need(8, f);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  i64(f: string): number | bigint {
    this.need(8, f);
    const v = this.dv.getBigInt64(this.pos, true);
    this.pos += 8;
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  }

  /** A u64 count that must fit in what is left at `minBytes` per item. */
  count(field: string, minBytes: number): number {
    const at = this.pos;
    const n = this.u64(field);
    const most = Math.floor(this.left / minBytes);
    if (typeof n === "bigint" || n > most) this.fail(field, `<= ${most} (${this.left} bytes left after offset ${at}, >= ${minBytes} bytes each)`, String(n));
    return n as number;
  }

  string(field: string): string {
    const n = this.count(`${field} length`, 1);
    const s = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return this.dec.decode(s);
    } catch {
      return this.fail(field, "UTF-8 text", `invalid bytes at offset ${this.pos - n}`);
    }
  }

  value(type: number, field: string, depth = 0): GgufValue {
    switch (type) {
      case T.U8: return this.u8(field);
      case T.I8: return this.i8(field);
      case T.U16: return this.u16(field);
      case T.I16: return this.i16(field);
      case T.U32: return this.u32(field);
      case T.I32: return this.i32(field);
      case T.F32: return this.f32(field);
      case T.BOOL: {
        const b = this.u8(field);
        if (b > 1) this.fail(field, "a bool (0 or 1)", String(b));
        return b === 1;
      }
      case T.STRING: return this.string(field);
      case T.U64: return this.u64(field);
      case T.I64: return this.i64(field);
      case T.F64: return this.f64(field);
      case T.ARRAY: {
        if (depth >= MAX_ARRAY_DEPTH) this.fail(field, `arrays nested at most ${MAX_ARRAY_DEPTH} deep`, "deeper");
        const et = this.u32(`${field} element type`);
        if (et >= SCALAR_BYTES.length) this.fail(`${field} element type`, "a GGUF value type 0..12", String(et));
        const n = this.count(`${field} count`, SCALAR_BYTES[et]);
        const out: GgufValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value(et, `${field}[${i}]`, depth + 1);
        return out;
      }
      default:
        return this.fail(`${field} type`, "a GGUF value type 0..12", String(type));
    }
  }
}

/** The block-quantized GGUF types, as the quantized linear op names them. */
/** The quantized GGUF types and the block type each is handed over as. */
export const QUANT_OF: Partial<Record<GgufTensorType, QuantType>> = { Q8_0: "q8_0", Q4_0: "q4_0", Q4_K: "q4_k", Q5_K: "q5_k", Q6_K: "q6_k" };

/**
 * A parsed GGUF file; tensors are widened (F16/BF16) or dequantized (Q8_0/Q4_0/Q4_K/Q5_K/Q6_K) to
 * float32 when read. 2-D quantized tensors are also offered as stored blocks to the quantized linear op.
 */
export class GgufFile {
  /** @internal */
  constructor(
    readonly file: string,
    private readonly bytes: Uint8Array,
    readonly version: number,
    readonly metadata: ReadonlyMap<string, GgufValue>,
    readonly tensors: ReadonlyMap<string, GgufTensorInfo>,
    readonly alignment: number,
  ) {}

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): GgufTensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new ModelFormatError(this.file, `tensor "${name}"`, "present", "missing");
    return t;
  }

  /** Torch-order shape ([out, in] for a linear weight). */
  shape(name: string): readonly number[] {
    return this.info(name).shape;
  }

  /** The tensor's stored bytes (quantized blocks as they are in the file). */
  raw(name: string): Uint8Array {
    const t = this.info(name);
    if (t.end > this.bytes.byteLength) throw new ModelFormatError(this.file, `tensor "${name}"`, "its bytes in memory", "a header parsed without the tensor data");
    return this.bytes.subarray(t.begin, t.end);
  }

  /** The tensor as float32 (a fresh array; quantized types dequantized as ggml does). */
  read(name: string): Float32Array {
    const t = this.info(name);
    const qt = QUANT_OF[t.type];
    if (qt) return dequantizeMatrix(this.blocks(t, qt));
    return widen(t.type as "F32" | "F16" | "BF16", this.raw(name), t.size);
  }

  /**
   * A 2-D quantized tensor as the quantized linear op takes it (rows = out, cols = in), else
   * undefined (the tensor is read as float32). Every quantized type is handed over as stored:
   * GGUF's block layout is what the kernels read (q8_0 / q4_0 after a repack, the k-quants as they are).
   */
  quantized(name: string): QuantizedMatrix | undefined {
    const t = this.info(name);
    const qt = QUANT_OF[t.type];
    return qt && t.dims.length === 2 ? this.blocks(t, qt) : undefined;
  }

  /** The tensor's blocks; a k-quant super-block whose f16 d or dmin is Inf / NaN is refused. */
  private blocks(t: GgufTensorInfo, type: QuantType): QuantizedMatrix {
    const blocks = this.bytes.subarray(t.begin, t.end);
    if (isKQuant(type)) {
      const bad = badKQuantScale(type, blocks);
      if (bad >= 0) {
        throw new ModelFormatError(this.file, `tensor "${t.name}" super-block ${bad} scale`, `a finite f16 (${t.type} d${type === "q6_k" ? "" : " and dmin"})`, "Inf or NaN");
      }
    }
    return { type, rows: t.size / t.dims[0], cols: t.dims[0], blocks };
  }

  /** A metadata value, or undefined. */
  get(key: string): GgufValue | undefined {
    return this.metadata.get(key);
  }
}

/** Stored bytes of a float tensor of `size` elements -> float32. */
function widen(type: "F32" | "F16" | "BF16", src: Uint8Array, size: number): Float32Array {
  const out = new Float32Array(size);
  if (type !== "F32") {
    widenHalves(type, src, out);
    return out;
  }
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  for (let i = 0; i < size; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

/** Thrown by parseGguf on a prefix of the file that ends inside the header: read `needed` bytes at least, and parse again. */
export class GgufPrefixTooShort extends Error {
  constructor(readonly needed: number) {
    super(`the GGUF header needs ${needed} bytes`);
  }
}

/** True when the bytes start with the GGUF magic. */
export function isGguf(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && bytes[0] === 0x47 && bytes[1] === 0x47 && bytes[2] === 0x55 && bytes[3] === 0x46;
}

/**
 * Parses a GGUF file (v2 or v3). Checks: magic, version, every count against the bytes left,
 * value types, UTF-8, general.alignment (a power of two), tensor dims (1..4, product a safe
 * integer, rows a whole number of blocks), types (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K),
 * offsets aligned, inside the file and not overlapping, names unique. `bytes` may be a prefix of
 * a file of `fileSize` bytes (a header read from a stream): GgufPrefixTooShort says how many
 * bytes the header needs, and the file parsed from a prefix gives its header (metadata, tensor
 * infos), not its tensors.
 */
export function parseGguf(bytes: Uint8Array, file = "<bytes>", fileSize = bytes.byteLength): GgufFile {
  const c = new Cursor(file, bytes, fileSize);
  const magic = c.u32("magic");
  if (magic !== MAGIC) c.fail("magic", '"GGUF"', JSON.stringify(String.fromCharCode(...bytes.subarray(0, 4))));
  const version = c.u32("version");
  if (version !== 2 && version !== 3) c.fail("version", "2 or 3", String(version));
  const nTensors = c.count("tensor_count", 24);
  const nKv = c.count("metadata_kv_count", 13);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKv; i++) {
    const key = c.string(`metadata[${i}].key`);
    if (metadata.has(key)) c.fail(`metadata "${key}"`, "a key listed once", "a duplicate");
    const type = c.u32(`metadata "${key}" type`);
    metadata.set(key, c.value(type, `metadata "${key}"`));
  }
  let alignment = 32;
  const al = metadata.get("general.alignment");
  if (al !== undefined) {
    if (typeof al !== "number" || !Number.isInteger(al) || al < 1 || al > 1 << 20 || (al & (al - 1)) !== 0) {
      c.fail('metadata "general.alignment"', "a power of two <= 2^20", String(al));
    }
    alignment = al as number;
  }
  const infos: Array<{ name: string; type: GgufTensorType; dims: number[]; size: number; bytes: number; offset: number }> = [];
  const seen = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = c.string(`tensor[${i}].name`);
    if (seen.has(name)) c.fail(`tensor "${name}"`, "a name listed once", "a duplicate");
    seen.add(name);
    const nd = c.u32(`tensor "${name}" n_dims`);
    if (nd < 1 || nd > MAX_DIMS) c.fail(`tensor "${name}" n_dims`, `1..${MAX_DIMS}`, String(nd));
    const dims: number[] = [];
    let size = 1;
    for (let d = 0; d < nd; d++) {
      const v = c.u64(`tensor "${name}" dims[${d}]`);
      if (typeof v === "bigint" || v < 1) c.fail(`tensor "${name}" dims[${d}]`, "an integer >= 1", String(v));
      dims.push(v as number);
      size *= v as number;
    }
    if (!Number.isSafeInteger(size) || size > fileSize * 2) c.fail(`tensor "${name}" dims`, `at most ${fileSize * 2} elements (the file size)`, `[${dims}]`);
    const typeId = c.u32(`tensor "${name}" type`);
    const t = GGML_TYPES[typeId];
    if (!t) {
      const known = OTHER_GGML_TYPES[typeId];
      // A real ggml type we do not read is a missing feature, not a damaged file.
      const expected = "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K or Q6_K";
      if (known) throw new UnsupportedFeatureError(`${file}: tensor "${name}" type: ${known} (ggml type ${typeId}) is not supported; expected ${expected}`);
      c.fail(`tensor "${name}" type`, expected, `unknown ggml type ${typeId}`);
    }
    if (dims[0] % t.block !== 0) c.fail(`tensor "${name}" dims[0]`, `a multiple of ${t.block} (${t.name} blocks)`, String(dims[0]));
    const offset = c.u64(`tensor "${name}" offset`);
    if (typeof offset === "bigint" || offset % alignment !== 0) c.fail(`tensor "${name}" offset`, `a multiple of ${alignment} (general.alignment)`, String(offset));
    infos.push({ name, type: t.name, dims, size, bytes: (size / t.block) * t.bytes, offset: offset as number });
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  if (dataStart > fileSize) c.fail("tensor data", `to start at offset ${dataStart} (aligned to ${alignment})`, `a file of ${fileSize} bytes`);
  const dataLen = fileSize - dataStart;
  const tensors = new Map<string, GgufTensorInfo>();
  for (const t of infos) {
    if (t.offset + t.bytes > dataLen) {
      c.fail(`tensor "${t.name}" data`, `bytes [${t.offset}, ${t.offset + t.bytes}) of a data section of ${dataLen} bytes`, `${Math.max(0, dataLen - t.offset)} bytes there`);
    }
    tensors.set(t.name, {
      name: t.name, type: t.type, dims: t.dims, shape: [...t.dims].reverse(), size: t.size,
      begin: dataStart + t.offset, end: dataStart + t.offset + t.bytes,
    });
  }
  const sorted = [...tensors.values()].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) {
      c.fail(`tensor "${sorted[i].name}" offset`, `>= ${sorted[i - 1].end - dataStart} (end of "${sorted[i - 1].name}")`, String(sorted[i].begin - dataStart));
    }
  }
  return new GgufFile(file, bytes, version, metadata, tensors, alignment);
}

/** Human-readable type of a metadata value, for errors. */
export function ggufTypeOf(v: GgufValue | undefined): string {
  if (v === undefined) return "missing";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v);
  return String(v);
}

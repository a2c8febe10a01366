import { describe, expect, it } from "vitest";
import { ModelFormatError } from "../../src/errors.js";
import { parseSafetensors, writeSafetensors } from "../../src/formats/safetensors.js";
import { f16ToF32, f32ToF16 } from "../../src/tensor/half.js";

/** A file from a raw header object and data bytes (to build malformed ones). */
function rawFile(header: unknown, data: Uint8Array, headerLen?: number): Uint8Array {
  const h = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const err = (f: () => unknown): ModelFormatError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error("no error thrown");
};

describe("safetensors", () => {
  it("round-trips F32 and F16 tensors with metadata", () => {
    const a = Float32Array.from([1, -2.5, 0.1, 65504, -0, 3e-5]);
    const b = Float32Array.from([7]);
    const bytes = writeSafetensors({ a: { shape: [2, 3], data: a }, b: { shape: [], data: b } }, { config: "{}" });
    const f = parseSafetensors(bytes, "x.safetensors");
    expect(f.metadata).toEqual({ config: "{}" });
    expect(f.shape("a")).toEqual([2, 3]);
    expect(f.read("a")).toEqual(a);
    expect(f.read("b")).toEqual(b);
    const h = parseSafetensors(writeSafetensors({ a: { shape: [6], data: a } }, undefined, "F16"));
    expect(h.info("a").dtype).toBe("F16");
    const back = h.read("a");
    for (let i = 0; i < a.length; i++) expect(Math.abs(back[i] - a[i])).toBeLessThanOrEqual(Math.abs(a[i]) * 2 ** -11 + 2 ** -24);
  });

  it("reads BF16 exactly and converts every F16 class", () => {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint16(0, 0x3fc0, true); // 1.5
    new DataView(data.buffer).setUint16(2, 0xc2f7, true); // -123.5
    const f = parseSafetensors(rawFile({ t: { dtype: "BF16", shape: [2], data_offsets: [0, 4] } }, data));
    expect(Array.from(f.read("t"))).toEqual([1.5, -123.5]);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0x3c00)).toBe(1);
    for (const x of [1, 0.333, -2.75e-6, 60000, 1e-8, 70000]) expect(f32ToF16(f16ToF32(f32ToF16(x)))).toBe(f32ToF16(x));
    expect(f32ToF16(70000)).toBe(0x7c00);
  });

  const t4 = (o: number[]) => ({ dtype: "F32", shape: [1], data_offsets: o });

  it("rejects a header length beyond the file", () => {
    const e = err(() => parseSafetensors(rawFile({}, new Uint8Array(0), 1000), "m.st"));
    expect(e).toMatchObject({ file: "m.st", field: "header length" });
    expect(e.message).toMatch(/expected <= 2 .*found 1000/);
    expect(err(() => parseSafetensors(new Uint8Array(3))).field).toBe("header length");
  });

  it("rejects malformed JSON and non-object headers", () => {
    expect(err(() => parseSafetensors(rawFile("{nope", new Uint8Array(0)))).field).toBe("header");
    expect(err(() => parseSafetensors(rawFile("[1]", new Uint8Array(0)))).expected).toBe("a JSON object");
  });

  it("rejects unknown dtypes, bad shapes and size mismatches", () => {
    expect(err(() => parseSafetensors(rawFile({ t: { dtype: "I8", shape: [4], data_offsets: [0, 4] } }, new Uint8Array(4)))).field).toBe('tensor "t".dtype');
    expect(err(() => parseSafetensors(rawFile({ t: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)))).field).toBe('tensor "t".shape');
    const e = err(() => parseSafetensors(rawFile({ t: { dtype: "F32", shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(20))));
    expect(e.message).toBe('<bytes>: tensor "t" byte span: expected 24 (shape [2,3] x F32), found 20');
  });

  it("rejects offsets out of range, overlapping, with gaps, and trailing bytes", () => {
    expect(err(() => parseSafetensors(rawFile({ t: t4([0, 8]) }, new Uint8Array(4)))).message).toMatch(/data_offsets: expected 0 <= begin <= end <= 4, found \[0, 8\]/);
    expect(err(() => parseSafetensors(rawFile({ t: t4([4, 0]) }, new Uint8Array(4)))).field).toBe('tensor "t".data_offsets');
    expect(err(() => parseSafetensors(rawFile({ a: t4([0, 4]), b: t4([2, 6]) }, new Uint8Array(8)))).message).toMatch(/overlap/);
    expect(err(() => parseSafetensors(rawFile({ a: t4([0, 4]), b: t4([8, 12]) }, new Uint8Array(12)))).message).toMatch(/begin = 4 \(tensors contiguous\), found 8/);
    expect(err(() => parseSafetensors(rawFile({ a: t4([0, 4]) }, new Uint8Array(6)))).field).toBe("data section");
    expect(err(() => parseSafetensors(rawFile({ __metadata__: { a: 1 } }, new Uint8Array(0)))).field).toBe("__metadata__.a");
  });

  it("accepts tensors listed out of offset order and names missing tensors", () => {
    const f = parseSafetensors(rawFile({ b: t4([4, 8]), a: t4([0, 4]) }, new Uint8Array(new Float32Array([1, 2]).buffer)));
    expect(f.read("a")[0]).toBe(1);
    expect(f.read("b")[0]).toBe(2);
    expect(err(() => f.read("c")).message).toBe('<bytes>: tensor "c": expected present, found missing');
  });
});

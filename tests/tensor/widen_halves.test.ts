import { describe, expect, it } from "vitest";
import { f16ToF32, widenHalves } from "../../src/tensor/half.js";

/** Little-endian halves written at byte `offset` of a fresh buffer (odd offsets take the DataView path). */
function halvesAt(halves: readonly number[], offset: number): Uint8Array {
  const bytes = new Uint8Array(offset + 2 * halves.length);
  const dv = new DataView(bytes.buffer);
  halves.forEach((h, i) => dv.setUint16(offset + 2 * i, h, true));
  return bytes.subarray(offset);
}

// Zero, -0, subnormal, one, the largest normal, infinities, NaN, and a value of each sign.
const HALVES = [0x0000, 0x8000, 0x0001, 0x3c00, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3555, 0xc2a0];

describe("widenHalves", () => {
  for (const offset of [0, 1]) {
    it(`widens F16 exactly as f16ToF32 does (bytes at offset ${offset})`, () => {
      const out = new Float32Array(HALVES.length);
      widenHalves("F16", halvesAt(HALVES, offset), out);
      expect(Array.from(out)).toEqual(HALVES.map(f16ToF32));
    });

    it(`widens BF16 as the top half of a float32 (bytes at offset ${offset})`, () => {
      const out = new Float32Array(HALVES.length);
      widenHalves("BF16", halvesAt(HALVES, offset), out);
      expect(Array.from(new Uint32Array(out.buffer))).toEqual(HALVES.map((h) => (h << 16) >>> 0));
    });
  }

  it("writes into a view at an offset of a larger buffer and nowhere else", () => {
    const buffer = new Float32Array(6).fill(7);
    widenHalves("F16", halvesAt([0x3c00, 0xc000], 0), buffer.subarray(2, 4));
    expect(Array.from(buffer)).toEqual([7, 7, 1, -2, 7, 7]);
  });
});

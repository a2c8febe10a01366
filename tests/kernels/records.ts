// The activation quantizers' records (assembly/q_pack.ts XQ_BYTES layout) read back for the
// quantizer tests of quant.test.ts and kquant.test.ts.
import { expect } from "vitest";
import type { Runtime } from "../../src/index.js";

/** Round half to even, as f32x4.nearest and x86's cvtps2dq. */
export function rne(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r;
}

/** The records q8_quantize_rows (or q8k_quantize_rows) writes for m rows of x (row stride k) on rt's build. */
export function activationRecords(rt: Runtime, k8: boolean, m: number, k: number, x: Float32Array): DataView {
  const e = rt.engine;
  const px = e.scratch.alloc(x.byteLength);
  e.mem.f32.set(x, px >> 2);
  const bytes = m * rt.kernels.q8_xq_bytes(k);
  const xq = e.scratch.alloc(bytes);
  (k8 ? rt.kernels.q8k_quantize_rows : rt.kernels.q8_quantize_rows)(m, k, px, k, xq);
  const out = new DataView(e.mem.u8.slice(xq, xq + bytes).buffer);
  e.scratch.reset();
  return out;
}

/** Checks one record (112 bytes at r) against quants q and scale d: i16 and i8 copies, d, the sum and the two per-16 sums. */
export function expectRecord(dv: DataView, r: number, q: number[], d: number): void {
  expect(Array.from({ length: 32 }, (_, t) => dv.getInt16(r + 2 * t, true))).toEqual(q);
  expect(Array.from({ length: 32 }, (_, t) => dv.getInt8(r + 64 + t))).toEqual(q);
  expect(dv.getFloat32(r + 96, true)).toBe(d);
  expect(dv.getInt32(r + 100, true)).toBe(q.reduce((a, b) => a + b, 0));
  expect([dv.getInt16(r + 104, true), dv.getInt16(r + 106, true)]).toEqual([q.slice(0, 16), q.slice(16)].map((h) => h.reduce((a, b) => a + b, 0)));
}

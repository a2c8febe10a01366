// Shared helpers of the model tests: fixture loading and error measures.
import { readFileSync } from "node:fs";
import { parseSafetensors, type SafetensorsFile } from "../../src/formats/safetensors.js";

/** A tools/torch_fixtures.py case: weights + fixture.* tensors + fixture JSON. */
export interface TorchFixture {
  file: SafetensorsFile;
  bytes: Uint8Array;
  meta: Record<string, unknown>;
  expected(name: string): Float32Array;
}

export function loadFixture(name: string): TorchFixture {
  const bytes = new Uint8Array(readFileSync(new URL(`../fixtures/torch/${name}.safetensors`, import.meta.url)));
  const file = parseSafetensors(bytes, `${name}.safetensors`);
  return { file, bytes, meta: JSON.parse(file.metadata.fixture), expected: (n) => file.read(`fixture.${n}`) };
}

/** max |got - want| / max |want|: the error relative to the tensor's scale. */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / scale;
}

/** Builds the tests run on: scalar reference, strict SIMD and relaxed SIMD, one thread. */
export const TEST_BUILDS = (process.env.SF_TEST_BUILDS?.split(",") ?? ["scalar", "simd", "relaxed"]) as Array<"scalar" | "simd" | "relaxed">;

/** Documented tolerances (max error relative to the tensor's largest magnitude). */
export const TOLERANCE = { scalar: 1e-5, simd: 1e-5, relaxed: 1e-5 } as const;

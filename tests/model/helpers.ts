// Shared helpers of the model tests: fixture loading and error measures.
import { readFileSync } from "node:fs";
import { parseSafetensors, type SafetensorsFile } from "../../src/formats/safetensors.js";
import type { Rng } from "../../src/util/rng.js";

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

/**
 * Random weights of a torch-transformer encoder-decoder (names as nn.TransformerEncoder/
 * DecoderLayer plus src_embed/tgt_embed/generator), for tests that need a model larger
 * than the fixtures (thread splits) but no reference values.
 */
export function randomSeq2Seq(
  rng: Rng, o: { d: number; ff: number; layers: number; srcVocab: number; tgtVocab: number },
): Record<string, { shape: number[]; data: Float32Array }> {
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  const add = (name: string, shape: number[], scale: number, center = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    t[name] = { shape, data: rng.f32(n, center - scale, center + scale) };
  };
  const { d, ff } = o;
  const ws = 1 / Math.sqrt(d);
  const attn = (p: string) => {
    add(`${p}.in_proj_weight`, [3 * d, d], ws);
    add(`${p}.in_proj_bias`, [3 * d], 0.1);
    add(`${p}.out_proj.weight`, [d, d], ws);
    add(`${p}.out_proj.bias`, [d], 0.1);
  };
  const layer = (p: string, cross: boolean) => {
    attn(`${p}.self_attn`);
    if (cross) attn(`${p}.multihead_attn`);
    add(`${p}.linear1.weight`, [ff, d], ws);
    add(`${p}.linear1.bias`, [ff], 0.1);
    add(`${p}.linear2.weight`, [d, ff], 1 / Math.sqrt(ff));
    add(`${p}.linear2.bias`, [d], 0.1);
    for (const n of cross ? [1, 2, 3] : [1, 2]) {
      add(`${p}.norm${n}.weight`, [d], 0.2, 1);
      add(`${p}.norm${n}.bias`, [d], 0.1);
    }
  };
  add("src_embed.weight", [o.srcVocab, d], 1);
  add("tgt_embed.weight", [o.tgtVocab, d], 1);
  for (let i = 0; i < o.layers; i++) layer(`encoder.layers.${i}`, false);
  for (let i = 0; i < o.layers; i++) layer(`decoder.layers.${i}`, true);
  add("generator.weight", [o.tgtVocab, d], ws);
  add("generator.bias", [o.tgtVocab], 0.1);
  return t;
}

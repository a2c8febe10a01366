// Loading the tools/format_fixtures.py outputs (tests/fixtures/formats/).
import { readdirSync, readFileSync } from "node:fs";
import type { ModelFiles } from "../../src/formats/detect.js";
import { parseSafetensors } from "../../src/formats/safetensors.js";

export const FORMATS_DIR = new URL("../fixtures/formats/", import.meta.url);

/** A fixture file's bytes. */
export function fixtureBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(path, FORMATS_DIR)));
}

/** Every file of a fixture directory, by name. */
export function fixtureDir(dir: string): ModelFiles {
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(new URL(`${dir}/`, FORMATS_DIR))) files[name] = fixtureBytes(`${dir}/${name}`);
  return { files };
}

const reference = parseSafetensors(fixtureBytes("reference.safetensors"), "reference.safetensors");

/** Torch outputs of the fixtures. */
export const ref = {
  tensor: (name: string) => reference.read(name),
  meta: JSON.parse(reference.metadata.fixture!) as {
    spm_cases: Array<{ text: string; ids: number[] }>;
    llama: { prompt: number[]; greedy: number[] };
    llama_q: { prompt: number[] };
    gpt2: { prompt: number[]; greedy: number[] };
    bert: { ids: number[] };
  },
};

/** A metadata value for {@link metadataGguf}. */
export type GgufKv = { str: string } | { strs: readonly string[] } | { u32: number } | { f32: number };

/** A tensor for {@link metadataGguf}: ggml dims (fastest first), ggml type id (0 F32, 12 Q4_K, 14 Q6_K, ...), its bytes. */
export interface GgufTensor {
  name: string;
  dims: readonly number[];
  type: number;
  data: Uint8Array;
}

/** A GGUF v3 file with this metadata and these tensors (none: a metadata-only file), alignment 32. */
export function metadataGguf(kv: Array<[string, GgufKv]>, tensors: readonly GgufTensor[] = []): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number) => parts.push(v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255);
  const u64 = (v: number) => {
    u32(v);
    u32(0);
  };
  const str = (s: string) => {
    const b = new TextEncoder().encode(s);
    u64(b.length);
    parts.push(...b);
  };
  parts.push(0x47, 0x47, 0x55, 0x46);
  u32(3);
  u64(tensors.length);
  u64(kv.length);
  for (const [key, v] of kv) {
    str(key);
    if ("str" in v) {
      u32(8);
      str(v.str);
    } else if ("strs" in v) {
      u32(9);
      u32(8);
      u64(v.strs.length);
      v.strs.forEach(str);
    } else if ("u32" in v) {
      u32(4);
      u32(v.u32);
    } else {
      u32(6);
      parts.push(...new Uint8Array(Float32Array.of(v.f32).buffer));
    }
  }
  const align = (n: number) => Math.ceil(n / 32) * 32;
  let off = 0;
  const offsets = tensors.map((t) => {
    str(t.name);
    u32(t.dims.length);
    t.dims.forEach(u64);
    u32(t.type);
    u64(off);
    const at = off;
    off = align(off + t.data.length);
    return at;
  });
  while (parts.length % 32) parts.push(0);
  const out = new Uint8Array(parts.length + off);
  out.set(parts);
  tensors.forEach((t, i) => out.set(t.data, parts.length + offsets[i]));
  return out;
}

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

/** The ~100M Q4_K_M Llama of edge_gguf.test.ts and the workerd matrix: d 768, 12 layers, 12 / 4 heads, FF 2048, vocabulary 32000. */
export const EDGE_LLAMA = { d: 768, layers: 12, heads: 12, kvHeads: 4, ff: 2048, vocab: 32000 };
const { d: D, layers: LAYERS, heads: HEADS, kvHeads: KV_HEADS, ff: FF, vocab: VOCAB } = EDGE_LLAMA;
const Q4_K = { id: 12, bytes: 144 };
const Q6_K = { id: 14, bytes: 210 };

/** Random super-blocks (xorshift bytes) with every block's f16 d (and dmin) set so the weights are ~0.05 at most. */
function kquant(name: string, cols: number, rows: number, q6: boolean, seed: number): GgufTensor {
  const t = q6 ? Q6_K : Q4_K;
  const data = new Uint8Array((rows * cols / 256) * t.bytes);
  const words = new Uint32Array(data.buffer, 0, data.length >> 2);
  let x = seed | 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  const dv = new DataView(data.buffer);
  for (let o = 0; o < data.length; o += t.bytes) {
    if (q6) dv.setUint16(o + 208, 0x0100, true); // 2^-16: |d sc (q - 32)| <= 0.0625
    else [0, 2].forEach((at) => dv.setUint16(o + at, 0x0400, true)); // 2^-14: |d sc q|, |dmin m| <= 0.058
  }
  return { name, dims: [cols, rows], type: t.id, data };
}

const ones = (name: string, n: number): GgufTensor => ({ name, dims: [n], type: 0, data: new Uint8Array(new Float32Array(n).fill(1).buffer) });

/**
 * A Q4_K_M-layout Llama of EDGE_LLAMA's shape with random super-blocks (llama.cpp's Q4_K_M mix:
 * Q4_K token table and projections, Q6_K attn_v / ffn_down on some layers and the output head):
 * the GGUF bytes, the bytes of its blocks and its parameters in blocks.
 */
export function q4kmLlama(): { file: Uint8Array; blockBytes: number; params: number } {
  const kvDim = (D / HEADS) * KV_HEADS;
  const tensors: GgufTensor[] = [kquant("token_embd.weight", D, VOCAB, false, 1)];
  for (let i = 0; i < LAYERS; i++) {
    // llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
    const more = i < LAYERS / 8 || i >= (7 * LAYERS) / 8 || (i - LAYERS / 8) % 3 === 2;
    const b = `blk.${i}.`;
    tensors.push(
      ones(`${b}attn_norm.weight`, D),
      kquant(`${b}attn_q.weight`, D, D, false, 10 * i + 2), kquant(`${b}attn_k.weight`, D, kvDim, false, 10 * i + 3),
      kquant(`${b}attn_v.weight`, D, kvDim, more, 10 * i + 4), kquant(`${b}attn_output.weight`, D, D, false, 10 * i + 5),
      ones(`${b}ffn_norm.weight`, D),
      kquant(`${b}ffn_gate.weight`, D, FF, false, 10 * i + 6), kquant(`${b}ffn_up.weight`, D, FF, false, 10 * i + 7),
      kquant(`${b}ffn_down.weight`, FF, D, more, 10 * i + 8),
    );
  }
  tensors.push(ones("output_norm.weight", D), kquant("output.weight", D, VOCAB, true, 9));
  const u32 = (v: number) => ({ u32: v });
  const file = metadataGguf([
    ["general.architecture", { str: "llama" }], ["llama.embedding_length", u32(D)], ["llama.feed_forward_length", u32(FF)],
    ["llama.block_count", u32(LAYERS)], ["llama.attention.head_count", u32(HEADS)], ["llama.attention.head_count_kv", u32(KV_HEADS)],
    ["llama.context_length", u32(256)], ["llama.vocab_size", u32(VOCAB)],
  ], tensors);
  const quantized = tensors.filter((t) => t.type !== 0);
  return {
    file,
    blockBytes: quantized.reduce((a, t) => a + t.data.length, 0),
    params: quantized.reduce((a, t) => a + t.dims[0] * t.dims[1], 0),
  };
}

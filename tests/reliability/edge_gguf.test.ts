// A ~100M-parameter Q4_K_M Llama (the layout llama.cpp's quantizer writes: Q4_K token table and
// projections, Q6_K attn_v / ffn_down on some layers and the output head) loads and answers a
// generation inside a 128 MiB memory, as an edge isolate gives: every k-quant tensor, the token
// table too, stays in its blocks (widened, the table alone would be 94 MiB of floats).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { metadataGguf, type GgufTensor } from "../formats/fixtures.js";

const MiB = 2 ** 20;
const [D, LAYERS, HEADS, KV_HEADS, FF, VOCAB] = [768, 12, 12, 4, 2048, 32000];
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

function q4kmLlama(): { file: Uint8Array; blockBytes: number; params: number } {
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

describe("a ~100M-parameter Q4_K_M GGUF in a 128 MiB edge budget", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ threads: 1, maxMemory: 128 * MiB });
  });
  afterAll(() => rt.dispose());

  it("loads as stored and answers a greedy generation", async () => {
    const { file, blockBytes, params } = q4kmLlama();
    expect(params).toBeGreaterThan(120e6);
    const prompt = [1, 523, 9071, 17];
    const tokenizer = { encode: () => ({ ids: prompt, tokens: [], unknown: [] }), decode: (ids: ArrayLike<number>) => Array.from(ids).join(" ") };
    // Streamed from a Blob, as a worker would from a fetch Response.
    const tm = await rt.loadModel(new Blob([file as Uint8Array<ArrayBuffer>]), { tokenizer });
    const weights = rt.engine.regions.weights.usedBytes;
    expect(weights).toBeGreaterThanOrEqual(blockBytes);
    expect(weights).toBeLessThan(blockBytes * 1.01 + MiB);
    const ids: number[] = [];
    for await (const piece of tm.generate("once", { maxNewTokens: 6, temperature: 0 })) ids.push(piece.id);
    expect(ids).toHaveLength(6);
    for (const id of ids) expect(id >= 0 && id < VOCAB).toBe(true);
    expect(rt.engine.mem.byteLength).toBeLessThanOrEqual(128 * MiB);
    console.log(`Q4_K_M ${(params / 1e6).toFixed(0)}M parameters: ${(blockBytes / MiB).toFixed(1)} MiB of blocks, weights region ${(weights / MiB).toFixed(1)} MiB, memory ${(rt.engine.mem.byteLength / MiB).toFixed(1)} MiB; greedy ids ${ids.join(" ")}`);
    tm.dispose();
  }, 120_000);
});

// A ~100M-parameter Q4_K_M Llama (the layout llama.cpp's quantizer writes: Q4_K token table and
// projections, Q6_K attn_v / ffn_down on some layers and the output head) loads and answers a
// generation inside a 128 MiB memory, as an edge isolate gives: every k-quant tensor, the token
// table too, stays in its blocks (widened, the table alone would be 94 MiB of floats).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { EDGE_LLAMA, q4kmLlama } from "../formats/fixtures.js";

const MiB = 2 ** 20;

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
    for (const id of ids) expect(id >= 0 && id < EDGE_LLAMA.vocab).toBe(true);
    expect(rt.engine.mem.byteLength).toBeLessThanOrEqual(128 * MiB);
    console.log(`Q4_K_M ${(params / 1e6).toFixed(0)}M parameters: ${(blockBytes / MiB).toFixed(1)} MiB of blocks, weights region ${(weights / MiB).toFixed(1)} MiB, memory ${(rt.engine.mem.byteLength / MiB).toFixed(1)} MiB; greedy ids ${ids.join(" ")}`);
    tm.dispose();
  }, 120_000);
});

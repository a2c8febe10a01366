// TextModel.translate(text, { attention: true }): the attention maps behind the output, with
// token labels, equal to what the incremental decoding steps computed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, createRuntime, type AttentionEvent, type Runtime, type TextModel } from "../../src/index.js";

describe("translate with attention: true (default translator)", () => {
  let rt: Runtime;
  let tm: TextModel;
  beforeAll(async () => {
    rt = await createRuntime({ build: "simd", threads: 1 });
    tm = await rt.loadModel();
  });
  afterAll(() => {
    tm.dispose();
    rt.dispose();
  });

  it("is off by default", async () => {
    expect((await tm.translate("I like deep learning")).attention).toBeUndefined();
  });

  it("returns every layer's and head's probabilities with source, fed and produced token labels", async () => {
    const t = await tm.translate("I like deep learning", { attention: true });
    const a = t.attention!;
    const c = tm.config;
    expect(t.text).toBe("我喜欢深度学习");
    expect(a.srcTokens).toEqual(["i", "like", "deep", "learning", "<eos>"]);
    expect(a.srcTokens).toEqual(t.srcTokens);
    expect(a.outputTokens).toEqual([...t.tokens, "<eos>"]);
    expect(a.tgt).toEqual([c.bos_id, ...t.ids]);
    expect(a.tgtTokens![0]).toBe("<bos>");
    const S = a.src.length;
    const T = a.tgt.length;
    expect([a.encoder.length, a.decoder.length, a.cross.length]).toEqual([c.encoder_layers, c.decoder_layers, c.decoder_layers]);
    const rowsOk = (m: Float32Array, rows: number, cols: number, masked: (i: number, j: number) => boolean) => {
      expect(m.length).toBe(a.heads * rows * cols);
      for (let r = 0; r < a.heads * rows; r++) {
        let s = 0;
        for (let j = 0; j < cols; j++) {
          if (masked(r % rows, j)) expect(m[r * cols + j]).toBe(0);
          s += m[r * cols + j];
        }
        expect(Math.abs(s - 1)).toBeLessThan(1e-5);
      }
    };
    for (let l = 0; l < c.decoder_layers; l++) {
      rowsOk(a.cross[l], T, S, () => false);
      rowsOk(a.decoder[l], T, T, (i, j) => j > i);
      rowsOk(a.encoder[l], S, S, () => false);
    }
  });

  it("equals the probabilities the decoding steps saw (capture hook, one query per step)", async () => {
    const steps: AttentionEvent[] = [];
    const t = await tm.translate("We ate apples yesterday", { attention: true, capture: (e) => steps.push(e) });
    const a = t.attention!;
    const S = a.src.length;
    const T = a.tgt.length;
    // Rebuild the cross-attention of layer 1 from the steps: step k is query row k.
    const rebuilt = new Float32Array(a.heads * T * S);
    const rowOf = new Map<number, number>();
    for (const e of steps) {
      if (e.stack !== "decoder" || e.kind !== "cross" || e.layer !== 1) continue;
      expect(e.queries).toBe(1);
      const row = rowOf.get(e.head) ?? 0;
      rowOf.set(e.head, row + 1);
      rebuilt.set(e.probs, (e.head * T + row) * S);
    }
    expect(rowOf.get(0)).toBe(T);
    let err = 0;
    for (let i = 0; i < rebuilt.length; i++) err = Math.max(err, Math.abs(rebuilt[i] - a.cross[1][i]));
    expect(err).toBeLessThan(1e-5);
  });

  it("works with beam search, and is a translate() option only", async () => {
    const t = await tm.translate("we ate apples yesterday", { beams: 3, attention: true });
    expect(t.attention!.outputTokens).toEqual([...t.tokens, "<eos>"]);
    await expect(tm.stream("I like deep learning", { attention: true }).next()).rejects.toThrow(ArgumentError);
  });

  it("a translation cut by maxNewTokens has one row per output token", async () => {
    const t = await tm.translate("I like deep learning", { attention: true, maxNewTokens: 3 });
    expect(t.ids).toHaveLength(3);
    expect(t.attention!.outputTokens).toEqual(t.tokens);
    expect(t.attention!.tgt).toHaveLength(3);
  });
});

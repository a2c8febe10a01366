// Encoder behaviour: batch layout and thread counts do not change a bit; padding masks keep pad
// rows out of mean pooling exactly; bad input gives typed errors or the documented results.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AbortError, ArgumentError, createRuntime, ModelFormatError, type Runtime, ShapeError, UnsupportedFeatureError,
} from "../../src/index.js";
import { pool } from "../../src/encode/pooling.js";
import { encoderFiles, encoderPath, ref } from "./fixtures.js";

const texts = [...ref.meta.texts, "the cat", "", "reading books in the park", "dog"];
const long = Array.from({ length: 40 }, () => "cat").join(" ");

describe("batches and threads", () => {
  it("a text's vector is bit-identical alone, in any batch, and on 1, 2 or 3 threads", async () => {
    const results: Float32Array[][] = [];
    for (const threads of [1, 2, 3]) {
      // minParallelWork 0 splits every op across the threads, however small.
      const rt = await createRuntime({ simd: "strict", threads, minParallelWork: 0 });
      try {
        const enc = await rt.loadEncoder(encoderFiles("bert"));
        const alone = [];
        for (const t of texts) alone.push((await enc.embed(t)).vectors[0]);
        for (const batchSize of [1, 2, 3, 32]) {
          const { vectors } = await enc.embed(texts, { batchSize });
          expect(vectors).toEqual(alone);
        }
        const reversed = (await enc.embed([...texts].reverse())).vectors.reverse();
        expect(reversed).toEqual(alone);
        results.push(alone);
      } finally {
        rt.dispose();
      }
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });
});

describe("encoder API", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ threads: 1 });
  });
  afterAll(() => rt.dispose());

  it("padded rows never reach mean pooling; a padded, masked batch agrees with the packed one", async () => {
    const enc = await rt.loadEncoder(encoderFiles("bert"));
    const d = enc.dims;
    const ids = ref.meta.bert.ids;
    const n = Math.max(...ids.map((s) => s.length));
    const tokens = ids.map((s) => [...s, ...Array(n - s.length).fill(0)]);
    const padding = ids.map((s) => Array.from({ length: n }, (_, j) => j >= s.length));
    const { hidden } = await enc.model.forward({ tokens, padding, outputs: ["hidden"] });
    const { vectors } = await enc.embed(ref.meta.texts, { pooling: "mean", normalize: false });
    ids.forEach((s, i) => {
      const h = hidden![i];
      // Pad rows made NaN change nothing: the mean reads the text's own rows only.
      const poisoned = h.slice();
      poisoned.fill(NaN, s.length * d);
      expect(pool(poisoned, s.length, d, "mean")).toEqual(pool(h.slice(0, s.length * d), s.length, d, "mean"));
      const v = pool(h, s.length, d, "mean");
      v.forEach((x, j) => expect(Math.abs(x - vectors[i][j])).toBeLessThan(1e-6));
    });
  });

  it("takes pooling and normalization from the sentence-transformers folder, read from a path", async () => {
    const enc = await rt.loadEncoder(encoderPath("bert"));
    expect(enc.defaults).toEqual({ pooling: "mean", normalize: true });
    const [v] = (await enc.embed("the cat sat")).vectors;
    expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    expect((await enc.embed("the cat sat", { pooling: "mean", normalize: true })).vectors[0]).toEqual(v);
    expect(await enc.similarity("the cat sat", v)).toBeCloseTo(1, 6);
    enc.dispose();
    const distil = await rt.loadEncoder(encoderPath("distilbert"));
    expect(distil.defaults).toEqual({ pooling: "mean", normalize: false });
    expect(distil.kind).toBe("embedding");
    distil.dispose();
  });

  it("empty strings embed their special tokens; an empty list gives no vectors", async () => {
    const enc = await rt.loadEncoder(encoderFiles("bert"));
    const e = await enc.embed(["", "the"]);
    expect(e.tokens).toEqual([2, 3]);
    expect(e.vectors[0].every(Number.isFinite)).toBe(true);
    expect(await enc.embed([])).toEqual({ dims: 32, vectors: [], tokens: [] });
  });

  it("texts past max_position_embeddings: ShapeError, or cut before [SEP] with truncate", async () => {
    const enc = await rt.loadEncoder(encoderFiles("bert"));
    await expect(enc.embed(long)).rejects.toThrow(ShapeError);
    await expect(enc.embed(long)).rejects.toThrow(/at most 32 tokens .*found 42/);
    const cut = await enc.embed(long, { truncate: true });
    expect(cut.tokens).toEqual([32]);
    const short = await enc.embed(Array.from({ length: 30 }, () => "cat").join(" "));
    expect(cut.vectors[0]).toEqual(short.vectors[0]);
    await expect(enc.embed("the cat sat", { maxLength: 3 })).rejects.toThrow(ShapeError);
    expect((await enc.embed("the cat sat", { maxLength: 3, truncate: true })).tokens).toEqual([3]);
    await expect(enc.embed("x", { maxLength: 33 })).rejects.toThrow(ArgumentError);
  });

  it("bad arguments are ArgumentErrors; an aborted signal is an AbortError", async () => {
    const enc = await rt.loadEncoder(encoderFiles("bert"));
    await expect(enc.embed([1 as unknown as string])).rejects.toThrow(ArgumentError);
    await expect(enc.embed(null as unknown as string)).rejects.toThrow(ArgumentError);
    await expect(enc.embed("x", { pooling: "max" as "mean" })).rejects.toThrow(ArgumentError);
    await expect(enc.embed("x", { batchSize: 0 })).rejects.toThrow(ArgumentError);
    await expect(enc.embed("x", { bogus: 1 } as object)).rejects.toThrow(ArgumentError);
    await expect(enc.embed("x", { signal: AbortSignal.abort() })).rejects.toThrow(AbortError);
    await expect(enc.similarity(new Float32Array(3), new Float32Array(4))).rejects.toThrow(ShapeError);
    await expect(enc.rerank("q", ["p"])).rejects.toThrow(UnsupportedFeatureError);
    await expect(enc.classify(["p"])).rejects.toThrow(UnsupportedFeatureError);
  });

  it("a folder without tokenizer.json, a classifier without or with a bad id2label", async () => {
    const { files } = encoderFiles("classifier");
    const { "tokenizer.json": _, ...noTokenizer } = files;
    await expect(rt.loadEncoder({ files: noTokenizer })).rejects.toThrow(ModelFormatError);
    const config = JSON.parse(new TextDecoder().decode(files["config.json"]));
    const withConfig = (c: object) => ({ files: { ...files, "config.json": new TextEncoder().encode(JSON.stringify(c)) } });
    const { id2label: __, ...unlabelled } = config;
    const enc = await rt.loadEncoder(withConfig(unlabelled));
    expect(enc.kind).toBe("classifier");
    await expect(enc.classify("the cat")).rejects.toThrow(UnsupportedFeatureError);
    expect((await enc.logits(["the cat"]))[0]).toHaveLength(3);
    await expect(rt.loadEncoder(withConfig({ ...config, id2label: { 0: "a", 1: "b" } }))).rejects.toThrow(ModelFormatError);
    const cross = await rt.loadEncoder(encoderFiles("cross"));
    const ranked = await cross.rerank("the cat", ["the dog", "the cat sat", "a river"], { topK: 2 });
    expect(ranked).toHaveLength(2);
    expect(ranked[0].score).toBeGreaterThanOrEqual(ranked[1].score);
    await expect(cross.classify("the cat")).rejects.toThrow(UnsupportedFeatureError);
  });

  it("maps roberta and xlm-roberta configs alike, positions offset by padding_idx + 1", async () => {
    const { files } = encoderFiles("xlm_roberta");
    const config = JSON.parse(new TextDecoder().decode(files["config.json"]));
    const a = await rt.loadEncoder({ files });
    const b = await rt.loadEncoder({ files: { ...files, "config.json": new TextEncoder().encode(JSON.stringify({ ...config, model_type: "roberta" })) } });
    expect(a.model.config.max_positions).toBe(32);
    expect((await b.embed(ref.meta.texts)).vectors).toEqual((await a.embed(ref.meta.texts)).vectors);
    await expect(rt.loadEncoder({ files: { ...files, "config.json": new TextEncoder().encode(JSON.stringify({ ...config, max_position_embeddings: 2 })) } }))
      .rejects.toThrow(ModelFormatError);
  });
});

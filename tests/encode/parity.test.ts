// Sentence encoders against PyTorch (tools/encoder_fixtures.py): token ids equal to the reference
// tokenizers', hidden states, every pooling and the padded batch within 1e-5 of torch float32, on
// every build; the cross-encoder's and the classifier's logits too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { relError, TEST_BUILDS, TOLERANCE } from "../model/helpers.js";
import { encoderFiles, ref } from "./fixtures.js";

const ARCHS = ["bert", "xlm_roberta", "distilbert"] as const;
const MODES = ["mean", "cls", "last"] as const;
const measured: Record<string, number> = {};
const record = (key: string, e: number) => (measured[key] = Math.max(measured[key] ?? 0, e));
afterAll(() => console.log("encoders, max relative error vs torch:", JSON.stringify(measured, (_, v) => (typeof v === "number" ? Number(v.toPrecision(3)) : v))));

/** Rows [i*d, (i+1)*d) of a batch tensor. */
const row = (t: Float32Array, i: number, d: number) => t.subarray(i * d, (i + 1) * d);

describe.each(TEST_BUILDS)("encoders vs PyTorch on the %s build", (build) => {
  let rt: Runtime;
  const tol = TOLERANCE[build];
  beforeAll(async () => {
    rt = await createRuntime({ build, threads: 1 });
  });
  afterAll(() => rt.dispose());

  it.each(ARCHS)("%s: ids, hidden states, mean / cls / last / normalized pooling, alone and batched", async (arch) => {
    const enc = await rt.loadEncoder({ files: encoderFiles(arch).files });
    const { texts } = ref.meta;
    const d = enc.dims;
    for (const [k, text] of texts.entries()) {
      const ids = ref.meta[arch].ids[k];
      const { hidden } = await enc.model.forward({ tokens: [ids], outputs: ["hidden"] });
      const e = relError(hidden![0], ref.tensor(`${arch}.${k}.hidden`));
      record(`${build} ${arch} hidden`, e);
      expect(e).toBeLessThan(tol);
      for (const pooling of MODES) {
        const { vectors, tokens } = await enc.embed(text, { pooling, normalize: false });
        expect(tokens).toEqual([ids.length]);
        const ep = relError(vectors[0], ref.tensor(`${arch}.${k}.${pooling}`));
        record(`${build} ${arch} ${pooling}`, ep);
        expect(ep).toBeLessThan(tol);
      }
      const { vectors } = await enc.embed(text, { pooling: "mean", normalize: true });
      expect(relError(vectors[0], ref.tensor(`${arch}.${k}.mean_normalized`))).toBeLessThan(tol);
    }
    // All texts in one call against torch's padded batch with its attention mask.
    for (const pooling of MODES) {
      const { vectors } = await enc.embed(texts, { pooling, normalize: false });
      const want = ref.tensor(`${arch}.batch.${pooling}`);
      vectors.forEach((v, i) => {
        const e = relError(v, row(want, i, d));
        record(`${build} ${arch} batch ${pooling}`, e);
        expect(e).toBeLessThan(tol);
      });
    }
    enc.dispose();
  });

  it("BERT token types: a pair's second segment is embedded with type 1", async () => {
    const enc = await rt.loadEncoder(encoderFiles("bert"));
    const { ids, types } = ref.meta.bert_pair;
    expect(types).toContain(1);
    const { hidden } = await enc.model.forward({ tokens: [ids], tokenTypes: [types], outputs: ["hidden"] });
    expect(relError(hidden![0], ref.tensor("bert.pair.hidden"))).toBeLessThan(tol);
    enc.dispose();
  });

  it("cross-encoder logits and rerank order; classifier logits and labels", async () => {
    const cross = await rt.loadEncoder(encoderFiles("cross"));
    expect(cross.kind).toBe("cross-encoder");
    const { pairs } = ref.meta;
    const want = ref.tensor("cross.logits");
    const got = await cross.logits(pairs.map((p) => p[0]), { pairs: pairs.map((p) => p[1]) });
    expect(relError(Float32Array.from(got.map((z) => z[0])), want)).toBeLessThan(tol);
    const query = pairs[0][0];
    const ranked = await cross.rerank(query, pairs.filter((p) => p[0] === query).map((p) => p[1]));
    const scores = pairs.filter((p) => p[0] === query).map((_, i) => want[i]);
    expect(ranked.map((r) => r.index)).toEqual(scores.map((s, i) => [s, i]).sort((a, b) => b[0] - a[0]).map(([, i]) => i));
    cross.dispose();

    const cls = await rt.loadEncoder(encoderFiles("classifier"));
    expect(cls.kind).toBe("classifier");
    expect(cls.labels).toEqual(["negative", "neutral", "positive"]);
    const wantL = ref.tensor("classifier.logits");
    const logits = await cls.logits(ref.meta.texts);
    logits.forEach((z, i) => expect(relError(z, row(wantL, i, 3))).toBeLessThan(tol));
    const labels = await cls.classify(ref.meta.texts);
    labels.forEach((ls, i) => {
      const z = Array.from(row(wantL, i, 3));
      expect(ls[0].label).toBe(cls.labels![z.indexOf(Math.max(...z))]);
      expect(ls.reduce((a, l) => a + l.score, 0)).toBeCloseTo(1, 6);
    });
    cls.dispose();
  });
});

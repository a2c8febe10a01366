// Beam search: width 1 is greedy, wider beams find better-scoring outputs, scores are what the model says.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortError, ArgumentError, createRuntime, type Runtime } from "../../src/index.js";
import { writeSafetensors } from "../../src/formats/safetensors.js";
import { beamSearch } from "../../src/generate/beam.js";
import { greedy } from "../../src/generate/greedy.js";
import { Model } from "../../src/model/model.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { Rng } from "../../src/util/rng.js";
import { loadFixture, randomSeq2Seq } from "../model/helpers.js";

let rt: Runtime;
let gpt2: Model;
let seq2seq: Model;
let random: Model;
const fx = { gpt2: loadFixture("gpt2"), transformer: loadFixture("transformer") };
const prompts = fx.gpt2.meta.prompts as number[][];
const srcs = fx.transformer.meta.src as number[][];

// A small random encoder-decoder: flat distributions, so beams and greedy part ways.
const dims = { d: 32, ff: 64, layers: 2, srcVocab: 40, tgtVocab: 24 };
const randomBytes = writeSafetensors(randomSeq2Seq(new Rng(5), dims), {
  "simdformer.config": JSON.stringify({
    arch: "encoder-decoder", d_model: dims.d, n_heads: 4, d_ff: dims.ff, encoder_layers: 2, decoder_layers: 2,
    src_vocab_size: dims.srcVocab, tgt_vocab_size: dims.tgtVocab, max_positions: 32, max_target_length: 10,
  }),
});
const rng = new Rng(17);
const randomSrcs = Array.from({ length: 8 }, (_, i) => Array.from({ length: 4 + i }, () => 4 + Math.floor(rng.next() * (dims.srcVocab - 4))));

beforeAll(async () => {
  rt = await createRuntime({ build: "simd", threads: 1 });
  gpt2 = await loadSafetensors(rt, fx.gpt2.file);
  seq2seq = await loadSafetensors(rt, fx.transformer.file);
  random = await loadSafetensors(rt, randomBytes);
});
afterAll(() => {
  for (const m of [gpt2, seq2seq, random]) m.dispose();
  rt.dispose();
});

/** log P(ids [+ stop] | src) from one full forward pass: the independent check of beam scores. */
async function logProb(model: Model, src: number[], ids: number[], stop?: number): Promise<number> {
  const tgt = [model.config.bos_id, ...ids];
  const { logits } = await model.forward({ src: [src], tokens: [tgt] });
  const V = model.vocabSize;
  const next = stop === undefined ? ids : [...ids, stop];
  let sum = 0;
  next.forEach((id, t) => {
    const row = Array.from(logits![0].subarray(t * V, (t + 1) * V));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, l) => a + Math.exp(l - max), 0));
    sum += row[id] - lse;
  });
  return sum;
}

describe("beam search", () => {
  it("width 1 equals greedy (encoder-decoder and decoder-only)", async () => {
    for (const model of [seq2seq, random]) {
      const sources = model === random ? randomSrcs : srcs;
      const want = await greedy(model, { src: sources });
      for (let i = 0; i < sources.length; i++) {
        const r = await beamSearch(model, { src: sources[i] }, { beams: 1 });
        expect(r.ids).toEqual(want[i]);
        expect(r.hypotheses).toHaveLength(1);
      }
    }
    const want = await greedy(gpt2, { prompts, maxNewTokens: 10 });
    for (let i = 0; i < prompts.length; i++) {
      expect((await beamSearch(gpt2, { prompt: prompts[i] }, { beams: 1, maxNewTokens: 10 })).ids).toEqual(want[i]);
    }
  });

  it("a wider beam finds outputs the model scores higher than greedy's, and reports their true log-probability", async () => {
    let better = 0;
    for (const src of randomSrcs) {
      const [g] = await greedy(random, { src: [src], maxNewTokens: 6, eosId: -1 });
      const b = await beamSearch(random, { src }, { beams: 4, lengthPenalty: 0, maxNewTokens: 6, stop: [] });
      expect(b.ids).toHaveLength(6);
      const lpGreedy = await logProb(random, src, g);
      const lpBeam = await logProb(random, src, b.ids);
      expect(Math.abs(b.hypotheses[0].logProb - lpBeam)).toBeLessThan(1e-4);
      expect(b.hypotheses[0].stopReason).toBe("max_tokens");
      if (b.ids.join() !== g.join()) {
        expect(lpBeam).toBeGreaterThan(lpGreedy);
        better++;
      }
    }
    expect(better).toBeGreaterThan(0);
  });

  it("hypotheses are distinct, ranked by the GNMT-penalized score, and end with eos", async () => {
    const src = randomSrcs[3];
    for (const alpha of [0, 0.6, 1.5]) {
      const r = await beamSearch(random, { src }, { beams: 5, lengthPenalty: alpha, maxNewTokens: 12 });
      expect(r.hypotheses.length).toBeGreaterThan(0);
      expect(r.hypotheses.length).toBeLessThanOrEqual(5);
      expect(new Set(r.hypotheses.map((h) => h.ids.join())).size).toBe(r.hypotheses.length);
      expect(r.ids).toEqual(r.hypotheses[0].ids);
      for (const h of r.hypotheses) {
        const ended = h.stopReason === "eos";
        const len = h.ids.length + (ended ? 1 : 0);
        expect(h.score).toBeCloseTo(h.logProb / ((5 + len) / 6) ** alpha, 10);
        expect(Math.abs(h.logProb - (await logProb(random, src, h.ids, ended ? 2 : undefined)))).toBeLessThan(1e-4);
      }
      for (let i = 1; i < r.hypotheses.length; i++) expect(r.hypotheses[i].score).toBeLessThanOrEqual(r.hypotheses[i - 1].score);
    }
    // The random model's eos (2) does come up within 12 tokens among 5 beams.
    const r = await beamSearch(random, { src }, { beams: 5, maxNewTokens: 12 });
    expect(r.hypotheses.some((h) => h.stopReason === "eos")).toBe(true);
  });

  it("duplicated cache rows (select [0, 0, 0]) continue exactly like the original", async () => {
    const state = await random.startDecoding({ src: [randomSrcs[0]] });
    const first = await random.decodeStep(state, [[1]]);
    state.select([0, 0, 0]);
    const three = await random.decodeStep(state, [[7], [7], [9]]);
    state.dispose();
    const alone = await random.startDecoding({ src: [randomSrcs[0]] });
    expect(await random.decodeStep(alone, [[1]])).toEqual(first);
    const seven = await random.decodeStep(alone, [[7]]);
    alone.dispose();
    const V = random.vocabSize;
    expect(three.subarray(0, V)).toEqual(seven);
    expect(three.subarray(V, 2 * V)).toEqual(seven);
    expect(three.subarray(2 * V)).not.toEqual(seven);
  });

  it("stats, abort and bad options", async () => {
    const kvBefore = rt.engine.regions.kv.usedBytes;
    let reported;
    const r = await beamSearch(seq2seq, { src: srcs[0] }, { beams: 3, maxNewTokens: 4, onStats: (s) => (reported = s) });
    expect(reported).toEqual(r.stats);
    expect(r.stats).toMatchObject({ promptTokens: srcs[0].length + 1, generatedTokens: r.ids.length, stopReason: "max_tokens" });
    expect(r.stats.prefillMs).toBeGreaterThan(0);
    expect(r.stats.decodeTokensPerSecond).toBeGreaterThan(0);
    const ac = new AbortController();
    ac.abort();
    await expect(beamSearch(seq2seq, { src: srcs[0] }, { signal: ac.signal })).rejects.toThrow(AbortError);
    expect(rt.engine.regions.kv.usedBytes).toBe(kvBefore);
    expect((await beamSearch(seq2seq, { src: srcs[0] }, { beams: 1 })).ids).toEqual((fx.transformer.meta.greedy as number[][])[0]);
    await expect(beamSearch(seq2seq, { src: srcs[0] }, { beams: 0 })).rejects.toThrow("beamSearch: beams: expected an integer >= 1, found 0");
    await expect(beamSearch(seq2seq, { src: srcs[0] }, { lengthPenalty: -1 })).rejects.toThrow(ArgumentError);
    await expect(beamSearch(seq2seq, [{ src: srcs[0] }] as never)).rejects.toThrow(/expected one input/);
    await expect(beamSearch(gpt2, {})).rejects.toThrow("beamSearch: input 0: a decoder-only model needs a prompt, found none");
  });

  it("an empty source is one empty hypothesis with stop reason empty", async () => {
    const r = await beamSearch(seq2seq, { src: [] }, { beams: 3 });
    expect(r.ids).toEqual([]);
    expect(r.hypotheses).toEqual([{ ids: [], logProb: 0, score: 0, stopReason: "empty" }]);
    expect(r.stats).toMatchObject({ promptTokens: 0, generatedTokens: 0, stopReason: "empty" });
  });
});

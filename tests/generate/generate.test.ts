// generateTokens on the PyTorch fixtures: greedy parity, sampling, batches, stops, limits, abort, stats.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortError, ArgumentError, createRuntime, type Runtime } from "../../src/index.js";
import { generateTokens, type GeneratedToken, type GenerateOptions, type GenerationInput, type GenerationStats } from "../../src/generate/generate.js";
import { greedy } from "../../src/generate/greedy.js";
import { writeSafetensors } from "../../src/formats/safetensors.js";
import { Model } from "../../src/model/model.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { Rng } from "../../src/util/rng.js";
import { loadFixture, randomSeq2Seq } from "../model/helpers.js";

let rt: Runtime;
let gpt2: Model;
let llama: Model;
let seq2seq: Model;
const fx = { gpt2: loadFixture("gpt2"), llama: loadFixture("llama"), transformer: loadFixture("transformer") };
const prompts = fx.gpt2.meta.prompts as number[][];
const srcs = fx.transformer.meta.src as number[][];

beforeAll(async () => {
  rt = await createRuntime({ build: "simd", threads: 1 });
  gpt2 = await loadSafetensors(rt, fx.gpt2.file);
  llama = await loadSafetensors(rt, fx.llama.file);
  seq2seq = await loadSafetensors(rt, fx.transformer.file);
});
afterAll(() => {
  for (const m of [gpt2, llama, seq2seq]) m.dispose();
  rt.dispose();
});

/** Runs a generation to the end: tokens in arrival order, per-sequence ids, the return value and onStats' stats. */
async function collect(model: Model, input: GenerationInput | GenerationInput[], opts: GenerateOptions = {}) {
  const tokens: GeneratedToken[] = [];
  let reported: GenerationStats | undefined;
  const gen = generateTokens(model, input, { ...opts, onStats: (s) => (reported = s) });
  let r = await gen.next();
  for (; !r.done; r = await gen.next()) tokens.push(r.value);
  const n = Array.isArray(input) ? input.length : 1;
  const ids = Array.from({ length: n }, (_, i) => tokens.filter((t) => t.sequence === i).map((t) => t.id));
  return { tokens, ids, stats: r.value, reported: reported! };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("greedy parity", () => {
  it("temperature 0 gives PyTorch's greedy ids (decoder-only and encoder-decoder)", async () => {
    for (const [model, f] of [[gpt2, fx.gpt2], [llama, fx.llama]] as const) {
      const { ids } = await collect(model, prompts.map((prompt) => ({ prompt })), { maxNewTokens: 10 });
      expect(ids).toEqual(f.meta.greedy);
    }
    const { ids } = await collect(seq2seq, srcs.map((src) => ({ src })), { temperature: 0 });
    expect(ids).toEqual(fx.transformer.meta.greedy);
  });

  it("top-k 1 and a tiny top-p sample exactly the greedy ids at any temperature", async () => {
    for (const opts of [{ temperature: 1.5, topK: 1, seed: 3 }, { temperature: 3, topP: 1e-7, seed: 4 }]) {
      const { ids } = await collect(gpt2, prompts.map((prompt) => ({ prompt })), { ...opts, maxNewTokens: 10 });
      expect(ids).toEqual(fx.gpt2.meta.greedy);
    }
  });

  it("tokens stream in order with their index and sequence", async () => {
    const { tokens } = await collect(gpt2, prompts.map((prompt) => ({ prompt })), { maxNewTokens: 3 });
    expect(tokens.map((t) => [t.sequence, t.index])).toEqual([[0, 0], [1, 0], [0, 1], [1, 1], [0, 2], [1, 2]]);
  });
});

describe("sampling", () => {
  const opts = { temperature: 1.3, topK: 30, topP: 0.95, maxNewTokens: 16 };

  it("is reproducible with a seed and changes with it", async () => {
    const a = await collect(gpt2, { prompt: prompts[0] }, { ...opts, seed: 7 });
    const b = await collect(gpt2, { prompt: prompts[0] }, { ...opts, seed: 7 });
    const c = await collect(gpt2, { prompt: prompts[0] }, { ...opts, seed: 8 });
    expect(a.ids).toEqual(b.ids);
    expect(a.ids[0]).toHaveLength(16);
    expect(c.ids).not.toEqual(a.ids);
    const greedy16 = await collect(gpt2, { prompt: prompts[0] }, { maxNewTokens: 16 });
    expect(a.ids[0]).not.toEqual(greedy16.ids[0]); // it does sample
  });

  it("a batch gives each sequence the tokens it gets alone (seed + i)", async () => {
    for (const model of [gpt2, llama]) {
      const inputs = [{ prompt: prompts[0] }, { prompt: prompts[1] }, { prompt: prompts[0] }];
      const batch = await collect(model, inputs, { ...opts, seed: 20 });
      for (let i = 0; i < inputs.length; i++) {
        const one = await collect(model, inputs[i], { ...opts, seed: 20 + i });
        expect(one.ids[0]).toEqual(batch.ids[i]);
      }
      expect(batch.ids[0]).not.toEqual(batch.ids[2]); // same prompt, other stream
    }
  });

  it("a batch with sequences leaving at different steps equals singles (greedy and sampled)", async () => {
    const inputs = [{ prompt: prompts[0] }, { prompt: prompts[1] }, { prompt: [5] }];
    for (const o of [{ temperature: 0 }, { temperature: 1, seed: 2 }]) {
      // Stop on a token one sequence produces early, so the batch shrinks mid-way.
      const first = await collect(gpt2, inputs[1], { ...o, maxNewTokens: 12, seed: (o.seed ?? 0) + 1 });
      const stop = [first.ids[0][3]];
      const batch = await collect(gpt2, inputs, { ...o, maxNewTokens: 12, stop });
      expect(batch.stats.stopReasons[1]).toBe("stop");
      for (let i = 0; i < inputs.length; i++) {
        const one = await collect(gpt2, inputs[i], { ...o, maxNewTokens: 12, stop, seed: (o.seed ?? 0) + i });
        expect(one.ids[0]).toEqual(batch.ids[i]);
        expect(one.stats.stopReasons[0]).toBe(batch.stats.stopReasons[i]);
      }
    }
  });

  it("encoder-decoder sampling is reproducible, and batches equal singles", async () => {
    const o = { temperature: 2, seed: 5, maxNewTokens: 8 };
    const batch = await collect(seq2seq, srcs.map((src) => ({ src })), o);
    const again = await collect(seq2seq, srcs.map((src) => ({ src })), o);
    expect(again.ids).toEqual(batch.ids);
    for (let i = 0; i < srcs.length; i++) expect((await collect(seq2seq, { src: srcs[i] }, { ...o, seed: 5 + i })).ids[0]).toEqual(batch.ids[i]);
    expect(batch.ids.flat().some((id) => id !== 20)).toBe(true); // greedy is all 20s: this sampled
  });

  it("encoder-decoder batches whose sequences leave at different steps equal singles", async () => {
    const dims = { d: 32, ff: 64, layers: 2, srcVocab: 30, tgtVocab: 20 };
    const cfg = {
      arch: "encoder-decoder", d_model: 32, n_heads: 4, d_ff: 64, encoder_layers: 2, decoder_layers: 2,
      src_vocab_size: 30, tgt_vocab_size: 20, max_positions: 32,
    };
    const m = await loadSafetensors(rt, writeSafetensors(randomSeq2Seq(new Rng(9), dims), { "simdformer.config": JSON.stringify(cfg) }));
    const inputs = [[4, 5, 6, 2], [9, 8, 7, 6, 5, 4, 2], [11, 2], [20, 21, 22, 23, 2]].map((src) => ({ src }));
    for (const o of [{ temperature: 0 }, { temperature: 1.2, topK: 10, seed: 6 }]) {
      const opts = { ...o, maxNewTokens: 15, stop: [2, 7] };
      const batch = await collect(m, inputs, opts);
      const lengths = new Set(batch.ids.map((ids) => ids.length));
      expect(lengths.size).toBeGreaterThan(1); // they did leave at different steps
      for (let i = 0; i < inputs.length; i++) {
        const one = await collect(m, inputs[i], { ...opts, seed: (o.seed ?? 0) + i });
        expect(one.ids[0]).toEqual(batch.ids[i]);
        expect(one.stats.stopReasons).toEqual([batch.stats.stopReasons[i]]);
      }
    }
    m.dispose();
  });

  it("the repetition penalty changes the pick", async () => {
    // First step by hand: penalize the prompt's ids in the model's logits, take the argmax.
    const { logits } = await gpt2.forward({ tokens: [prompts[0]] });
    const V = gpt2.vocabSize;
    const last = logits![0].subarray((prompts[0].length - 1) * V);
    const penalized = Array.from(last, (l, j) => (prompts[0].includes(j) ? (l > 0 ? l / 4 : l * 4) : l));
    const want = penalized.indexOf(Math.max(...penalized));
    const plain = await collect(gpt2, { prompt: prompts[0] }, { maxNewTokens: 4 });
    const pen = await collect(gpt2, { prompt: prompts[0] }, { maxNewTokens: 4, repetitionPenalty: 4 });
    expect(plain.ids[0]).toEqual([25, 46, 46, 27]);
    expect(pen.ids[0][0]).toBe(want);
    // The plain run repeats 46; with the penalty every generated token is new.
    expect(pen.ids[0]).not.toEqual(plain.ids[0]);
    expect(new Set(pen.ids[0]).size).toBe(4);
    expect(pen.ids[0].some((id) => prompts[0].includes(id))).toBe(false);
  });
});

describe("stops and limits", () => {
  it("a stop id ends the sequence and is not handed out", async () => {
    const { ids, stats } = await collect(gpt2, { prompt: prompts[0] }, { stop: [27], maxNewTokens: 10 });
    expect(ids[0]).toEqual([25, 46, 46]);
    expect(stats.stopReason).toBe("stop");
    expect(stats.generatedTokens).toBe(3);
  });

  it("eos is the default stop, reported as eos", async () => {
    const cfg = JSON.parse(fx.transformer.file.metadata["simdformer.config"]);
    const m = await loadSafetensors(rt, fx.transformer.file, { config: { ...cfg, eos_id: 20 } });
    const { ids, stats } = await collect(m, srcs.map((src) => ({ src })));
    expect(ids).toEqual([[], []]);
    expect(stats.stopReasons).toEqual(["eos", "eos"]);
    // An explicit list replaces the default; [] never stops early.
    const none = await collect(m, { src: srcs[0] }, { stop: [], maxNewTokens: 4 });
    expect(none.ids[0]).toEqual([20, 20, 20, 20]);
    m.dispose();
  });

  it("maxNewTokens, including 0", async () => {
    const three = await collect(seq2seq, { src: srcs[0] }, { maxNewTokens: 3 });
    expect(three.ids[0]).toEqual([20, 20, 20]);
    expect(three.stats.stopReason).toBe("max_tokens");
    const zero = await collect(seq2seq, { src: srcs[0] }, { maxNewTokens: 0 });
    expect(zero.ids[0]).toEqual([]);
    expect(zero.stats.stopReason).toBe("max_tokens");
    // Default: config.max_target_length (12).
    expect((await collect(seq2seq, { src: srcs[0] })).ids[0]).toHaveLength(12);
  });

  it("a full context stops with length (max_positions 32)", async () => {
    const prompt = Array.from({ length: 30 }, (_, i) => (i * 7) % 48);
    const { ids, stats } = await collect(gpt2, [{ prompt }, { prompt: [1] }], { maxNewTokens: 10 });
    expect(ids[0]).toHaveLength(3); // 30 prompt + 3 generated, the last never fed back
    expect(ids[1]).toHaveLength(10);
    expect(stats.stopReasons).toEqual(["length", "max_tokens"]);
    expect(stats.stopReason).toBe("max_tokens"); // the last to stop
  });

  it("bad inputs and options are typed errors that say expected vs found", async () => {
    const fails = async (model: Model, input: unknown, opts: unknown, msg: string | RegExp) => {
      const gen = generateTokens(model, input as GenerationInput, opts as GenerateOptions);
      await expect(gen.next()).rejects.toThrow(ArgumentError);
      await expect(generateTokens(model, input as GenerationInput, opts as GenerateOptions).next()).rejects.toThrow(msg);
    };
    await fails(gpt2, {}, {}, "generateTokens: input 0: a decoder-only model needs a prompt, found none");
    await fails(gpt2, { prompt: [1], src: [2] }, {}, 'input 0: src given, but arch "decoder" has no encoder');
    await fails(seq2seq, { prompt: [1] }, {}, "input 0: an encoder-decoder model needs src ids, found none");
    await fails(gpt2, [], {}, "expected at least one input, found []");
    await fails(gpt2, { prompt: 5 }, {}, "input 0 prompt: expected an array of token ids, found number");
    await fails(gpt2, { prompt: [1] }, { maxNewTokens: -1 }, "maxNewTokens: expected an integer >= 0, found -1");
    await fails(gpt2, { prompt: [1] }, { stop: [48] }, "stop: expected an array of token ids in 0..47, found [48]");
    await fails(gpt2, { prompt: [1] }, { timeoutMs: -5 }, "timeoutMs: expected a number >= 0, found -5");
    await fails(gpt2, { prompt: [1] }, { topP: 2 }, "generateTokens: topP: expected a number in (0, 1], found 2");
    await fails(gpt2, { prompt: [1] }, { signal: {} }, "signal: expected an AbortSignal");
  });
});

describe("empty sources", () => {
  it("an encoder-decoder input with an empty source yields nothing (stop reason empty); the rest of the batch decodes as alone", async () => {
    const alone = await collect(seq2seq, srcs.map((src) => ({ src })));
    const mixed = await collect(seq2seq, [{ src: [] }, ...srcs.map((src) => ({ src })), { src: [] }]);
    expect(mixed.ids).toEqual([[], ...alone.ids, []]);
    expect(mixed.stats.stopReasons).toEqual(["empty", ...alone.stats.stopReasons, "empty"]);
    expect(mixed.stats.promptTokens).toBe(alone.stats.promptTokens);
    const none = await collect(seq2seq, [{ src: [] }, { src: [] }]);
    expect(none.ids).toEqual([[], []]);
    expect(none.stats).toMatchObject({ promptTokens: 0, generatedTokens: 0, prefillMs: 0, stopReason: "empty", stopReasons: ["empty", "empty"] });
    expect(none.reported).toEqual(none.stats);
  });
});

describe("cancellation", () => {
  it("an AbortSignal stops between steps; the state is freed and the model still works", async () => {
    const kvBefore = rt.engine.regions.kv.usedBytes;
    const ac = new AbortController();
    const got: number[] = [];
    let reported: GenerationStats | undefined;
    const run = async () => {
      for await (const t of generateTokens(gpt2, { prompt: prompts[0] }, { maxNewTokens: 10, signal: ac.signal, onStats: (s) => (reported = s) })) {
        got.push(t.id);
        if (got.length === 2) ac.abort();
      }
    };
    await expect(run()).rejects.toThrow(AbortError);
    expect(reported).toMatchObject({ generatedTokens: 2, stopReason: "aborted" });
    // Already aborted: refused before the first step.
    await expect(run()).rejects.toThrow("generateTokens: aborted by the signal after 0 generated tokens");
    expect(got.slice(0, 2)).toEqual([25, 46]);
    expect(reported!.stopReason).toBe("aborted");
    expect(reported!.generatedTokens).toBe(0); // the second run was aborted before its first step
    expect(rt.engine.regions.kv.usedBytes).toBe(kvBefore);
    expect(await greedy(gpt2, { prompts, maxNewTokens: 10 })).toEqual(fx.gpt2.meta.greedy);
  });

  it("the first run's stats count what it handed out", async () => {
    const ac = new AbortController();
    let reported: GenerationStats | undefined;
    const gen = generateTokens(seq2seq, { src: srcs[0] }, { signal: ac.signal, onStats: (s) => (reported = s) });
    await gen.next();
    await gen.next();
    ac.abort();
    await expect(gen.next()).rejects.toThrow(AbortError);
    expect(reported).toMatchObject({ generatedTokens: 2, stopReason: "aborted", stopReasons: ["aborted"] });
  });

  it("leaving the loop early frees the state too", async () => {
    const kvBefore = rt.engine.regions.kv.usedBytes;
    let reported: GenerationStats | undefined;
    for await (const t of generateTokens(seq2seq, srcs.map((src) => ({ src })), { onStats: (s) => (reported = s) })) {
      if (t.index === 1) break;
    }
    expect(rt.engine.regions.kv.usedBytes).toBe(kvBefore);
    expect(reported!.stopReason).toBe("aborted");
  });

  it("timeoutMs aborts between steps", async () => {
    const got: number[] = [];
    let reported: GenerationStats | undefined;
    const run = async () => {
      for await (const t of generateTokens(gpt2, { prompt: prompts[0] }, { maxNewTokens: 10, timeoutMs: 20, onStats: (s) => (reported = s) })) {
        got.push(t.id);
        await sleep(30);
      }
    };
    await expect(run()).rejects.toThrow(/timed out: expected to finish within 20 ms, 1 tokens generated/);
    expect(got).toEqual([25]);
    expect(reported!.stopReason).toBe("aborted");
    expect(await collect(gpt2, { prompt: prompts[0] }, { maxNewTokens: 10, timeoutMs: 60_000 })).toMatchObject({ ids: [(fx.gpt2.meta.greedy as number[][])[0]] });
  });
});

describe("stats", () => {
  it("are filled, consistent, returned and reported", async () => {
    const { ids, stats, reported } = await collect(seq2seq, srcs.map((src) => ({ src })), { maxNewTokens: 5 });
    expect(reported).toEqual(stats);
    const promptTokens = srcs[0].length + srcs[1].length + 2; // sources + one bos each
    expect(stats).toMatchObject({ promptTokens, generatedTokens: 10, stopReason: "max_tokens", stopReasons: ["max_tokens", "max_tokens"] });
    expect(ids.flat()).toHaveLength(10);
    expect(stats.prefillMs).toBeGreaterThan(0);
    expect(stats.decodeMs).toBeGreaterThan(0);
    expect(stats.timeToFirstTokenMs).toBeGreaterThanOrEqual(stats.prefillMs);
    expect(stats.prefillTokensPerSecond).toBeCloseTo((promptTokens * 1000) / stats.prefillMs, 6);
    // 4 decode steps of 2 rows after the prefill.
    expect(stats.decodeTokensPerSecond).toBeCloseTo((8 * 1000) / stats.decodeMs, 6);
  });

  it("time the consumer spends between tokens is not counted", async () => {
    const t0 = performance.now();
    let stats: GenerationStats | undefined;
    for await (const _ of generateTokens(gpt2, { prompt: prompts[0] }, { maxNewTokens: 5, onStats: (s) => (stats = s) })) await sleep(25);
    const wall = performance.now() - t0;
    expect(wall).toBeGreaterThan(100);
    expect(stats!.prefillMs + stats!.decodeMs).toBeLessThan(wall - 100);
    expect(stats!.generatedTokens).toBe(5);
  });
});

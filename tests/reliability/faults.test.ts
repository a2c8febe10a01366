// Faults in user code and cancellation: an error thrown by a streaming consumer, an onStats
// callback or an attention-capture callback, and an AbortSignal fired mid-call, must reach
// the caller as is, free the call's decode state and scratch, and leave the model giving
// the same results as before (memory usage back to the warmed-up baseline).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AbortError, beamSearch, createRuntime, generateTokens, loadSafetensors, type Model, type Runtime, type TextModel, type Translation, WorkerError,
} from "../../src/index.js";
import { loadFixture } from "../model/helpers.js";

const translatorBytes = new Uint8Array(readFileSync(new URL("../../models/default/translator.safetensors", import.meta.url)));
const SENTENCE = "i like deep learning";
const gpt2 = loadFixture("gpt2");
const prompts = gpt2.meta.prompts as number[][];

class UserError extends Error {}

/** Everything a call could leak: region usage and the memory's size. */
const usage = (rt: Runtime) => ({
  weights: rt.engine.regions.weights.usedBytes,
  kv: rt.engine.regions.kv.usedBytes,
  scratch: rt.engine.regions.scratch.usedBytes,
  used: rt.engine.mem.usedBytes,
  pages: rt.engine.mem.byteLength,
});

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
}

async function greedyIds(model: Model, prompt: number[], maxNewTokens = 10): Promise<number[]> {
  const ids: number[] = [];
  for await (const t of generateTokens(model, { prompt }, { maxNewTokens })) ids.push(t.id);
  return ids;
}

describe.each([1, 2] as const)("faults and cancellation, %i thread(s)", (threads) => {
  let rt: Runtime;
  let tm: TextModel;
  let lm: Model;
  let ref: Translation;
  let refIds: number[];
  let refBeam: number[];
  let refLogits: Float32Array[];
  let baseline: ReturnType<typeof usage>;

  /** The normal calls every test ends with: same results as before the fault, and no memory kept. */
  async function stillWorks(): Promise<void> {
    expect((await tm.translate(SENTENCE)).ids).toEqual(ref.ids);
    expect(await greedyIds(lm, prompts[0])).toEqual(refIds);
    expect((await beamSearch(lm, { prompt: prompts[1] }, { beams: 3, maxNewTokens: 8 })).ids).toEqual(refBeam);
    expect((await lm.forward({ tokens: [prompts[0]] })).logits).toEqual(refLogits);
    expect(usage(rt)).toEqual(baseline);
  }

  beforeAll(async () => {
    rt = await createRuntime({ build: threads > 1 ? "simd-shared" : "simd", threads });
    tm = await rt.loadModel(translatorBytes, { file: "translator.safetensors" });
    lm = await loadSafetensors(rt, gpt2.file);
    // Warm-up: every call kind once, so the scratch arena has reached its steady size.
    ref = await tm.translate(SENTENCE);
    await tm.translate(SENTENCE, { attention: true, beams: 2 });
    refIds = await greedyIds(lm, prompts[0]);
    refBeam = (await beamSearch(lm, { prompt: prompts[1] }, { beams: 3, maxNewTokens: 8 })).ids;
    refLogits = (await lm.forward({ tokens: [prompts[0]] })).logits!;
    await lm.forward({ tokens: prompts, attention: true });
    baseline = usage(rt);
    await stillWorks();
  });
  afterAll(() => {
    tm.dispose();
    lm.dispose();
    rt.dispose();
  });

  it("a streaming consumer that throws inside for-await", async () => {
    const boom = new UserError("consumer failed");
    let pieces = 0;
    const err = await caught(async () => {
      for await (const _ of tm.stream(SENTENCE)) if (++pieces === 2) throw boom;
    });
    expect(err).toBe(boom);
    expect(pieces).toBe(2);
    await stillWorks();
  });

  it("an onStats callback that throws (at the end, and after an abort)", async () => {
    const boom = new UserError("stats sink down");
    const err = await caught(() => tm.translate(SENTENCE, { onStats: () => { throw boom; } }));
    expect(err).toBe(boom);
    const ac = new AbortController();
    const err2 = await caught(async () => {
      for await (const _ of generateTokens(lm, { prompt: prompts[0] }, { signal: ac.signal, onStats: () => { throw boom; } })) ac.abort();
    });
    expect(err2).toBe(boom); // the callback's error wins over the AbortError it was reporting
    await stillWorks();
  });

  it("an attention capture that throws in the encoder, in a decode step, in forward and in beam search", async () => {
    const failAt = (n: number) => {
      let calls = 0;
      return () => {
        if (++calls === n) throw new UserError(`capture call ${n}`);
      };
    };
    // The translator has 2 encoder layers x 4 heads: call 3 is inside the encoder, call 20 in a decode step.
    for (const n of [3, 20, 60]) {
      const err = await caught(() => tm.translate(SENTENCE, { capture: failAt(n) }));
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toBe(`capture call ${n}`);
    }
    expect(await caught(() => lm.forward({ tokens: prompts, capture: failAt(5) }))).toBeInstanceOf(UserError);
    expect(await caught(() => beamSearch(lm, { prompt: prompts[1] }, { beams: 3, capture: failAt(30) }))).toBeInstanceOf(UserError);
    const state = await lm.startDecoding();
    expect(await caught(() => lm.decodeStep(state, [prompts[0]], { capture: failAt(2) }))).toBeInstanceOf(UserError);
    // The failed step did not advance the state; it can be retried.
    expect(state.lengths).toEqual([0]);
    const logits = await lm.decodeStep(state, [prompts[0]]);
    expect(Array.from(logits)).toEqual(Array.from(refLogits[0].subarray((prompts[0].length - 1) * lm.vocabSize)));
    state.dispose();
    await stillWorks();
  });

  it("an AbortSignal mid-stream, mid-beam-search and mid-translate", async () => {
    const ac1 = new AbortController();
    let pieces = 0;
    const e1 = await caught(async () => {
      for await (const _ of tm.stream(SENTENCE, { signal: ac1.signal })) if (++pieces === 2) ac1.abort();
    });
    expect(e1).toBeInstanceOf(AbortError);
    const ac2 = new AbortController();
    let steps = 0;
    // capture is called during every step: abort from inside the third one.
    const e2 = await caught(() => beamSearch(lm, { prompt: prompts[1] }, { beams: 3, signal: ac2.signal, capture: (e) => { if (e.layer === 0 && e.head === 0 && e.sequence === 0 && ++steps === 3) ac2.abort(); } }));
    expect(e2).toBeInstanceOf(AbortError);
    expect((e2 as Error).message).toMatch(/^beamSearch: aborted by the signal/);
    const ac3 = new AbortController();
    const e3 = await caught(() => tm.translate(SENTENCE, { signal: ac3.signal, capture: (e) => { if (e.stack === "decoder") ac3.abort(); } }));
    expect(e3).toBeInstanceOf(AbortError);
    await stillWorks();
  });

  it("one of several queued calls aborted: the others finish with their own results", async () => {
    const ac = new AbortController();
    const aborted = (async () => {
      for await (const t of generateTokens(lm, { prompt: prompts[0] }, { signal: ac.signal, maxNewTokens: 10 })) if (t.index === 1) ac.abort();
    })();
    const others = Promise.all([tm.translate(SENTENCE), greedyIds(lm, prompts[0]), tm.translate(SENTENCE, { beams: 2 })]);
    expect(await caught(() => aborted)).toBeInstanceOf(AbortError);
    const [a, b] = await others;
    expect(a.ids).toEqual(ref.ids);
    expect(b).toEqual(refIds);
    await stillWorks();
  });

  it("a generator abandoned without return() keeps nothing once its call ends", async () => {
    // Leaving a for-await calls return(); a caller that drops the generator mid-way does not.
    // Its state stays held until the generator is collected or resumed: resuming with return() frees it.
    const gen = tm.stream(SENTENCE);
    await gen.next();
    expect(rt.engine.regions.kv.usedBytes).toBeGreaterThan(baseline.kv);
    await gen.return(undefined as never);
    expect(rt.engine.regions.kv.usedBytes).toBe(baseline.kv);
    await stillWorks();
  });
});

describe("a worker dying during a model call", () => {
  it("the call rejects with WorkerError (or, if the pool noticed first, succeeds); state freed; the next call is right", async () => {
    // minParallelWork 0: every op of the translator is split, so the worker takes part in every step.
    const rt = await createRuntime({ build: "simd-shared", threads: 2, minParallelWork: 0 });
    const tm = await rt.loadModel(translatorBytes, { file: "translator.safetensors" });
    const ref = await tm.translate(SENTENCE);
    const before = usage(rt);
    const pool = (rt.engine as unknown as { pool: { handles: Array<{ terminate(): Promise<void> }> } }).pool;
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      let killed = false;
      // Terminate the worker from inside a decoder step (capture runs between kernel calls).
      const r = await tm
        .translate(SENTENCE, { capture: (e) => { if (!killed && e.stack === "decoder") { killed = true; void pool.handles[0].terminate(); } } })
        .then((t) => (t.ids.join() === ref.ids.join() ? "same result" : `wrong result ${t.ids}`), (e: unknown) => (e instanceof WorkerError ? "WorkerError" : `untyped ${String(e)}`));
      outcomes.push(r);
      expect(usage(rt).kv).toBe(before.kv);
      expect((await tm.translate(SENTENCE)).ids).toEqual(ref.ids);
    }
    expect(outcomes.every((o) => o === "WorkerError" || o === "same result"), outcomes.join(", ")).toBe(true);
    expect(outcomes).toContain("WorkerError");
    expect(usage(rt)).toEqual(before);
    tm.dispose();
    rt.dispose();
  });
});

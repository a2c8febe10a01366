// TextModel mechanics on small random models with vocabularies in their metadata.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, createRuntime, ModelFormatError, type Runtime } from "../../src/index.js";
import { writeSafetensors } from "../../src/formats/safetensors.js";
import { CharTokenizer } from "../../src/formats/tokenizers/char.js";
import { beamSearch } from "../../src/generate/beam.js";
import { generateTokens } from "../../src/generate/generate.js";
import { TextModel } from "../../src/generate/text.js";
import { loadSafetensors } from "../../src/load/safetensors_load.js";
import { Rng } from "../../src/util/rng.js";
import { loadFixture, randomSeq2Seq } from "../model/helpers.js";

const SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"];
const srcVocab = [...SPECIALS, "i", "like", "deep", "learning", "you", "!", ",", "cats"];
const tgtVocab = [...SPECIALS, ..."我喜欢深度学习你猫！，"];
const dims = { d: 32, ff: 64, layers: 2, srcVocab: srcVocab.length, tgtVocab: tgtVocab.length };
const config = {
  arch: "encoder-decoder", d_model: 32, n_heads: 4, d_ff: 64, encoder_layers: 2, decoder_layers: 2,
  src_vocab_size: srcVocab.length, tgt_vocab_size: tgtVocab.length, max_positions: 32, max_target_length: 10,
  src_append_eos: true, embed_scale: true,
};
const tokenizer = { src: { type: "word", lowercase: true, pattern: "[a-z0-9]+|[^a-z0-9 \\t\\n\\r\\f\\v]" }, tgt: { type: "char" } };
const tensors = randomSeq2Seq(new Rng(3), dims);
const metadata = (over: Record<string, unknown> = {}) => {
  const m: Record<string, unknown> = {
    "simdformer.config": config, "simdformer.src_vocab": srcVocab, "simdformer.tgt_vocab": tgtVocab, "simdformer.tokenizer": tokenizer, ...over,
  };
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined).map(([k, v]) => [k, JSON.stringify(v)]));
};
const bytes = writeSafetensors(tensors, metadata());

let rt: Runtime;
let tm: TextModel;
beforeAll(async () => {
  rt = await createRuntime({ build: "simd", threads: 1 });
  tm = await TextModel.load(rt, bytes, { file: "tiny.safetensors" });
});
afterAll(() => {
  tm.dispose();
  rt.dispose();
});

async function drain<T, R>(gen: AsyncGenerator<T, R>): Promise<{ items: T[]; ret: R }> {
  const items: T[] = [];
  let r = await gen.next();
  for (; !r.done; r = await gen.next()) items.push(r.value);
  return { items, ret: r.value };
}

describe("TextModel (encoder-decoder)", () => {
  it("encodes the source with the word tokenizer and appends eos", () => {
    expect(tm.encodeSource("I like  CATS, Dogs!")).toEqual({
      ids: [4, 5, 11, 10, 3, 9, 2],
      tokens: ["i", "like", "cats", ",", "dogs", "!", "<eos>"],
      unknown: ["dogs"],
    });
  });

  it("translate decodes what greedy generation produces", async () => {
    const r = await tm.translate("i like deep learning, dogs and birds");
    const src = tm.encodeSource("i like deep learning, dogs and birds").ids;
    const ids: number[] = [];
    for await (const t of generateTokens(tm.model, { src })) ids.push(t.id);
    expect(r.ids).toEqual(ids);
    expect(r.ids.length).toBeGreaterThan(0);
    expect(r.text).toBe(r.ids.map((id) => tgtVocab[id]).filter((t) => !["<pad>", "<bos>", "<eos>"].includes(t)).join(""));
    expect(r.tokens).toEqual(r.ids.map((id) => tgtVocab[id]));
    expect(r.srcTokens).toEqual(["i", "like", "deep", "learning", ",", "dogs", "and", "birds", "<eos>"]);
    expect(r.unknownWords).toEqual(["dogs", "and", "birds"]);
    expect(r.stats.promptTokens).toBe(src.length + 1);
    expect(r.stats.generatedTokens).toBe(r.ids.length);
  });

  it("stream yields the same text piece by piece, one piece per token", async () => {
    for (const opts of [{}, { temperature: 1.5, seed: 4 }, { beams: 3 }]) {
      const whole = await tm.translate("you like cats !", opts);
      const { items, ret } = await drain(tm.stream("you like cats !", opts));
      expect(items.map((p) => p.id)).toEqual(whole.ids);
      expect(items.map((p) => p.text).join("")).toBe(whole.text);
      expect(ret.generatedTokens).toBe(whole.ids.length);
      const gen = await drain(tm.generate("you like cats !", opts));
      expect(gen.items).toEqual(items);
    }
  });

  it("beams > 1 is beam search", async () => {
    const src = tm.encodeSource("i like you").ids;
    const want = await beamSearch(tm.model, { src }, { beams: 4, lengthPenalty: 0.6 });
    expect((await tm.translate("i like you", { beams: 4, lengthPenalty: 0.6 })).ids).toEqual(want.ids);
  });

  it("leaving a stream early frees its decode state; the model keeps working", async () => {
    const kv = rt.engine.regions.kv.usedBytes;
    let n = 0;
    for await (const _ of tm.stream("i like deep learning", { stop: [] })) if (++n === 2) break;
    expect(n).toBe(2);
    expect(rt.engine.regions.kv.usedBytes).toBe(kv);
    expect((await tm.translate("i like deep learning")).text.length).toBeGreaterThan(0);
  });

  it('an empty source translates to "" without a model step, in translate, stream and generate, greedy, sampled or beams', async () => {
    expect(tm.encodeSource("")).toEqual({ ids: [], tokens: [], unknown: [] });
    expect(tm.encodeSource(" \t ").ids).toEqual([]);
    let heads = 0;
    const capture = () => void heads++;
    await tm.translate("i like cats", { capture });
    expect(heads).toBeGreaterThan(0); // a real translation calls the capture
    heads = 0;
    for (const text of ["", "  "]) {
      for (const opts of [{}, { temperature: 1.5, seed: 4 }, { beams: 3 }]) {
        let reported: unknown;
        const r = await tm.translate(text, { ...opts, capture, onStats: (s) => (reported = s), attention: true });
        expect(r).toMatchObject({ text: "", ids: [], tokens: [], srcTokens: [], unknownWords: [] });
        expect(r.attention).toBeUndefined();
        expect(r.stats).toMatchObject({ promptTokens: 0, generatedTokens: 0, prefillMs: 0, stopReason: "empty", stopReasons: ["empty"] });
        expect(reported).toEqual(r.stats);
        for (const gen of [tm.stream(text, { ...opts, capture }), tm.generate(text, { ...opts, capture })]) {
          const { items, ret } = await drain(gen);
          expect(items).toEqual([]);
          expect(ret.stopReason).toBe("empty");
        }
      }
    }
    expect(heads).toBe(0);
  });

  it("bad options are typed errors", async () => {
    await expect(tm.translate("i", { beams: 2, temperature: 0.5 })).rejects.toThrow("TextModel: beams 2 is beam search: expected no sampling options, found temperature");
    await expect(tm.translate("i", { beams: 1.5 })).rejects.toThrow(ArgumentError);
    await expect(tm.translate(5 as never)).rejects.toThrow("TextModel: text: expected a string, found number");
  });
});

describe("TextModel.load checks the metadata", () => {
  const cases: Array<[string, Record<string, unknown>, string | RegExp]> = [
    ["no target vocabulary", { "simdformer.tgt_vocab": undefined }, 'x.safetensors: __metadata__["simdformer.tgt_vocab"]: expected a JSON array of token strings'],
    ["no tokenizer spec", { "simdformer.tokenizer": undefined }, '__metadata__["simdformer.tokenizer"]: expected a JSON object with a "tgt" tokenizer, found missing'],
    ["a vocabulary of the wrong size", { "simdformer.src_vocab": srcVocab.slice(0, -1) }, "x.safetensors: simdformer.src_vocab: length: expected 12 tokens (the config's src_vocab_size), found 11"],
    ["eos at another id", { "simdformer.tgt_vocab": ["<pad>", "<bos>", "我", "<unk>", "<eos>", ...tgtVocab.slice(5)] }, "eos_id: expected the config's eos_id 2 to be the vocabulary's special token, found id 4"],
    ["an unknown tokenizer type", { "simdformer.tokenizer": { ...tokenizer, src: { type: "bpe" } } }, 'simdformer.tokenizer.src: type: expected "word" | "char", found "bpe"'],
  ];
  it.each(cases)("%s", async (_, over, msg) => {
    const before = rt.engine.regions.weights.usedBytes;
    const load = () => TextModel.load(rt, writeSafetensors(tensors, metadata(over)), { file: "x.safetensors" });
    await expect(load()).rejects.toThrow(ModelFormatError);
    await expect(load()).rejects.toThrow(msg);
    expect(rt.engine.regions.weights.usedBytes).toBe(before); // the model was freed
  });

  it("tokenizers given in the options replace the metadata's", async () => {
    const b = writeSafetensors(tensors, metadata({ "simdformer.tokenizer": undefined, "simdformer.src_vocab": undefined }));
    const src = { encode: () => ({ ids: [4, 5], tokens: ["i", "like"], unknown: [] }), decode: () => "" };
    const t2 = await TextModel.load(rt, b, { srcTokenizer: src, tokenizer: new CharTokenizer(tgtVocab) });
    expect((await t2.translate("whatever")).ids).toEqual((await tm.translate("i like")).ids);
    t2.dispose();
  });
});

describe("TextModel (decoder-only)", () => {
  it("generate continues a prompt and streams the same tokens generateTokens gives", async () => {
    const fx = loadFixture("gpt2");
    const chars = [...SPECIALS, ..."abcdefghijklmnopqrstuvwxyz0123456789 .,!?-/="];
    expect(chars).toHaveLength(48);
    const model = await loadSafetensors(rt, fx.file);
    const t = TextModel.fromModel(model, { tgt: new CharTokenizer(chars) });
    const prompt = "hello";
    const ids = new CharTokenizer(chars).encode(prompt).ids;
    const want: number[] = [];
    for await (const x of generateTokens(model, { prompt: ids }, { maxNewTokens: 8 })) want.push(x.id);
    const { items } = await drain(t.generate(prompt, { maxNewTokens: 8 }));
    expect(items.map((p) => p.id)).toEqual(want);
    expect(items.map((p) => p.text).join("")).toBe(new CharTokenizer(chars).decode(want));
    await expect(t.translate("")).rejects.toThrow(/non-empty prompt/);
    t.dispose();
  });

  it("an empty prompt continues from bos_id when the model has one", async () => {
    const fx = loadFixture("gpt2");
    const config = { ...JSON.parse(fx.file.metadata["simdformer.config"]), bos_id: 1 };
    const model = await loadSafetensors(rt, fx.file, { config });
    const t = TextModel.fromModel(model, { tgt: new CharTokenizer([...SPECIALS, ..."abcdefghijklmnopqrstuvwxyz0123456789 .,!?-/="]) });
    const want: number[] = [];
    for await (const x of generateTokens(model, { prompt: [1] }, { maxNewTokens: 6 })) want.push(x.id);
    expect(want).toHaveLength(6);
    for (const gen of [t.generate("", { maxNewTokens: 6 }), t.stream("", { maxNewTokens: 6 })]) {
      expect((await drain(gen)).items.map((p) => p.id)).toEqual(want);
    }
    expect((await t.translate("", { maxNewTokens: 6 })).ids).toEqual(want);
    t.dispose();
  });
});

describe("TextModel streaming with a byte-level tokenizer", () => {
  it("holds back partial UTF-8 characters: pieces concatenate to the decoded text", async () => {
    const fx = loadFixture("gpt2");
    // Every id is one byte of UTF-8 ("日" = e6 97 a5): a tokenizer that decodes partial characters to U+FFFD.
    const bytesOf = (id: number) => [0xe6, 0x97, 0xa5, 0x41][id % 4];
    const byteTokenizer = {
      encode: (t: string) => ({ ids: [...new TextEncoder().encode(t)].map(() => 3), tokens: [], unknown: [] }), // the prompt reads "AA"
      decode: (ids: ArrayLike<number>) => new TextDecoder().decode(Uint8Array.from(Array.from(ids, bytesOf))),
    };
    const model = await loadSafetensors(rt, fx.file);
    const t = TextModel.fromModel(model, { tgt: byteTokenizer });
    const { items } = await drain(t.generate("ab", { maxNewTokens: 24 }));
    const ids = items.filter((p) => p.id >= 0).map((p) => p.id);
    expect(items.some((p) => p.text === "" && p.id >= 0)).toBe(true); // some piece was held back
    expect(items.map((p) => p.text).join("")).toBe(byteTokenizer.decode(ids));
    // Every step shows all of the text that is final: everything but a trailing U+FFFD (bytes a later token may complete).
    for (let k = 1; k < items.length; k++) {
      const sofar = byteTokenizer.decode(ids.slice(0, k));
      expect(items.slice(0, k).map((p) => p.text).join("")).toBe(sofar.endsWith("\uFFFD") ? sofar.slice(0, -1) : sofar);
    }
    t.dispose();
  });
});

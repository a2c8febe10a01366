// The JS tokenizers must give the ids tools/translator/tokenizer.py gave (fixture made by train.py),
// with the vocabularies read from the committed default model.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ArgumentError, ModelFormatError } from "../../src/errors.js";
import { parseSafetensors } from "../../src/formats/safetensors.js";
import { CharTokenizer } from "../../src/formats/tokenizers/char.js";
import { Vocabulary } from "../../src/formats/tokenizers/vocab.js";
import { DEFAULT_WORD_PATTERN, WordTokenizer } from "../../src/formats/tokenizers/word.js";

interface Case { src: string; ref: string; src_ids: number[]; ref_ids: number[]; pred_ids: number[]; pred: string }
interface TokCase { text: string; tokens: string[]; ids: number[]; unknown: string[] }
interface Fixture {
  cases: Case[];
  demos: Case[];
  src_tokenizer_cases: TokCase[];
  tgt_tokenizer_cases: TokCase[];
}

const root = new URL("../../", import.meta.url);
const fixture = JSON.parse(readFileSync(new URL("tests/fixtures/translator/heldout.json", root), "utf8")) as Fixture;
const modelPath = "models/default/translator.safetensors";
const model = parseSafetensors(new Uint8Array(readFileSync(new URL(modelPath, root))), modelPath);
const srcVocab = JSON.parse(model.metadata["simdformer.src_vocab"]!) as string[];
const tgtVocab = JSON.parse(model.metadata["simdformer.tgt_vocab"]!) as string[];
const spec = JSON.parse(model.metadata["simdformer.tokenizer"]!) as { src: { type: "word"; lowercase: boolean; pattern: string }; tgt: { type: "char" } };
const word = new WordTokenizer(srcVocab, spec.src, `${modelPath}: simdformer.src_vocab`);
const char = new CharTokenizer(tgtVocab, spec.tgt, `${modelPath}: simdformer.tgt_vocab`);

describe("tokenizer metadata of the default model", () => {
  it("describes the translator's tokenizers", () => {
    expect(spec.src).toEqual({ type: "word", lowercase: true, pattern: DEFAULT_WORD_PATTERN });
    expect(spec.tgt).toEqual({ type: "char" });
    expect(srcVocab.slice(0, 4)).toEqual(["<pad>", "<bos>", "<eos>", "<unk>"]);
    expect(tgtVocab.slice(0, 4)).toEqual(["<pad>", "<bos>", "<eos>", "<unk>"]);
    expect([word.vocab.padId, word.vocab.bosId, word.vocab.eosId, word.vocab.unkId]).toEqual([0, 1, 2, 3]);
    const config = JSON.parse(model.metadata["simdformer.config"]!) as { src_vocab_size: number; tgt_vocab_size: number };
    expect(config.src_vocab_size).toBe(srcVocab.length);
    expect(config.tgt_vocab_size).toBe(tgtVocab.length);
  });
});

describe("WordTokenizer", () => {
  it("reproduces Python's ids on every fixture sentence", () => {
    expect(fixture.cases.length).toBeGreaterThan(100);
    for (const c of [...fixture.cases, ...fixture.demos]) {
      const e = word.encode(c.src);
      expect(e.ids, c.src).toEqual(c.src_ids);
      expect(e.unknown, c.src).toEqual([]);
    }
  });

  it("reproduces Python's split on edge cases (case, spacing, punctuation, non-ASCII, empty)", () => {
    expect(fixture.src_tokenizer_cases.length).toBeGreaterThan(3);
    for (const c of fixture.src_tokenizer_cases) {
      const e = word.encode(c.text);
      expect(e.tokens, JSON.stringify(c.text)).toEqual(c.tokens);
      expect(e.ids, JSON.stringify(c.text)).toEqual(c.ids);
      expect(e.unknown, JSON.stringify(c.text)).toEqual(c.unknown);
    }
  });

  it("reports unknown words once each and maps them to <unk>", () => {
    const e = word.encode("I like Pizza and pizza, Zorblax!");
    expect(e.tokens).toEqual(["i", "like", "pizza", "and", "pizza", ",", "zorblax", "!"]);
    expect(e.unknown).toEqual(expect.arrayContaining(["pizza", "zorblax"]));
    expect(e.unknown.filter((t) => t === "pizza")).toHaveLength(1);
    expect(e.ids[2]).toBe(word.vocab.unkId);
    expect(e.ids[4]).toBe(word.vocab.unkId);
    expect(e.ids[0]).toBe(word.vocab.idOf("i"));
    expect(e.ids[1]).toBe(word.vocab.idOf("like"));
  });

  it("keeps a character outside the BMP as one token", () => {
    expect(word.tokenize("hi 🙂!")).toEqual(["hi", "🙂", "!"]);
  });

  it("round-trips: decode gives the lowercased tokens joined by spaces, and re-encodes to the same ids", () => {
    for (const c of fixture.cases.slice(0, 50)) {
      const e = word.encode(c.src);
      const text = word.decode(e.ids);
      expect(text).toBe(e.tokens.join(" "));
      expect(word.encode(text).ids).toEqual(e.ids);
    }
    expect(word.decode([1, word.vocab.idOf("hello"), 2, 0, 0])).toBe("hello");
    expect(word.decode([1, word.vocab.idOf("hello"), 2], { skipSpecial: false })).toBe("<bos> hello <eos>");
  });

  it("honours a spec without lowercasing", () => {
    const t = new WordTokenizer(["<unk>", "i", "I"], { type: "word", lowercase: false, pattern: "[A-Za-z]+" });
    expect(t.encode("I i x").ids).toEqual([2, 1, 0]);
    expect(t.encode("I i x").unknown).toEqual(["x"]);
  });
});

describe("CharTokenizer", () => {
  it("reproduces Python's ids on every reference and decodes PyTorch's greedy output", () => {
    for (const c of [...fixture.cases, ...fixture.demos]) {
      expect(char.encode(c.ref).ids, c.ref).toEqual(c.ref_ids);
      expect(char.decode(c.pred_ids)).toBe(c.pred);
    }
  });

  it("reproduces Python's split on edge cases", () => {
    for (const c of fixture.tgt_tokenizer_cases) {
      const e = char.encode(c.text);
      expect(e.tokens).toEqual(c.tokens);
      expect(e.ids).toEqual(c.ids);
      expect(e.unknown).toEqual(c.unknown);
    }
  });

  it("round-trips known text and shows unknown characters as <unk>", () => {
    for (const c of fixture.cases) expect(char.decode(char.encode(c.ref).ids)).toBe(c.ref);
    const e = char.encode("我喜欢🙂🙂");
    expect(e.tokens).toHaveLength(5);
    expect(e.unknown).toEqual(["🙂"]);
    expect(char.decode(e.ids)).toBe("我喜欢<unk><unk>");
    expect(char.decode([1, ...char.encode("你好").ids, 2, 0])).toBe("你好");
  });
});

describe("vocabulary errors", () => {
  it("rejects vocabularies without <unk>, with duplicates or non-strings, naming the source", () => {
    expect(() => new CharTokenizer(["<pad>", "a"], undefined, "m.safetensors")).toThrow(ModelFormatError);
    expect(() => new CharTokenizer(["<pad>", "a"], undefined, "m.safetensors")).toThrow(/m\.safetensors.*<unk>/);
    expect(() => new Vocabulary(["<unk>", "a", "a"])).toThrow(/duplicate of id 1/);
    expect(() => new Vocabulary(["<unk>", 7])).toThrow(/token 1: expected a string/);
    expect(() => new Vocabulary([])).toThrow(ModelFormatError);
  });

  it("rejects a wrong tokenizer type or an unusable pattern", () => {
    expect(() => new WordTokenizer(["<unk>"], { type: "char" as never })).toThrow(/expected "word"/);
    expect(() => new CharTokenizer(["<unk>"], { type: "word" as never })).toThrow(/expected "char"/);
    expect(() => new WordTokenizer(["<unk>"], { pattern: "[a-" })).toThrow(ModelFormatError);
    expect(() => new WordTokenizer(["<unk>"], { pattern: "a*" })).toThrow(/empty string/);
  });

  it("rejects ids outside the vocabulary when decoding", () => {
    expect(() => char.decode([tgtVocab.length])).toThrow(ArgumentError);
    expect(() => word.decode([-1])).toThrow(ArgumentError);
    expect(() => word.decode([1.5])).toThrow(ArgumentError);
  });
});

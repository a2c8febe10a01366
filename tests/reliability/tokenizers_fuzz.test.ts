// Untrusted vocabularies and untrusted text through the word and char tokenizers (fast-check):
// a vocabulary is accepted or refused with a ModelFormatError; any text, lone surrogates and
// control characters included, encodes to ids inside the vocabulary; any id list decodes or
// is refused with an ArgumentError; known text round-trips; cost stays linear in the text.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ArgumentError, ModelFormatError } from "../../src/errors.js";
import { CharTokenizer } from "../../src/formats/tokenizers/char.js";
import { Vocabulary } from "../../src/formats/tokenizers/vocab.js";
import { WordTokenizer } from "../../src/formats/tokenizers/word.js";

const anyText = fc.string({ unit: "binary", maxLength: 200 });
const SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"];
const tokenish = fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 4 }), fc.constantFrom(...SPECIALS));
const vocabulary = fc.oneof(
  fc.uniqueArray(tokenish, { minLength: 1, maxLength: 40 }).map((t) => (t.includes("<unk>") ? t : [...t, "<unk>"])),
  fc.array(fc.oneof(tokenish, fc.constantFrom(null, 3, {}, "")), { maxLength: 10 }) as fc.Arbitrary<string[]>,
);

function outcome(fn: () => unknown): "ok" | Error {
  try {
    fn();
    return "ok";
  } catch (e) {
    return e as Error;
  }
}

describe("tokenizers under fuzz", () => {
  it("vocabularies: accepted, or a ModelFormatError", () => {
    fc.assert(
      fc.property(vocabulary, (tokens) => {
        for (const make of [() => new Vocabulary(tokens), () => new WordTokenizer(tokens), () => new CharTokenizer(tokens)]) {
          const r = outcome(make);
          if (r !== "ok") expect(r).toBeInstanceOf(ModelFormatError);
        }
      }),
      { numRuns: 1000, seed: 1 },
    );
  });

  it("any text encodes to ids in the vocabulary; any ids decode or are an ArgumentError", () => {
    const valid = fc.uniqueArray(tokenish, { minLength: 1, maxLength: 40 }).map((t) => [...t.filter((x) => x !== "<unk>"), "<unk>"]);
    fc.assert(
      fc.property(valid, anyText, fc.array(fc.oneof(fc.integer({ min: -3, max: 50 }), fc.constantFrom(NaN, 1.5, Infinity)), { maxLength: 20 }), (tokens, text, ids) => {
        for (const tok of [new WordTokenizer(tokens), new WordTokenizer(tokens, { lowercase: false }), new CharTokenizer(tokens)]) {
          const e = tok.encode(text);
          expect(e.ids).toHaveLength(e.tokens.length);
          for (const id of e.ids) expect(Number.isInteger(id) && id >= 0 && id < tokens.length).toBe(true);
          for (const u of e.unknown) expect(e.tokens).toContain(u);
          expect(new Set(e.unknown).size).toBe(e.unknown.length);
          expect(typeof tok.decode(e.ids)).toBe("string");
          const r = outcome(() => tok.decode(ids));
          const inRange = ids.every((id) => Number.isInteger(id) && id >= 0 && id < tokens.length);
          if (inRange) expect(r).toBe("ok");
          else expect(r).toBeInstanceOf(ArgumentError);
        }
      }),
      { numRuns: 1000, seed: 2 },
    );
  });

  it("text made of vocabulary characters round-trips through the char tokenizer", () => {
    const chars = fc.uniqueArray(fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(chars.chain((cs) => fc.tuple(fc.constant(cs), fc.array(fc.constantFrom(...cs), { maxLength: 50 }))), ([cs, picks]) => {
        const tok = new CharTokenizer([...SPECIALS, ...cs.filter((c) => !SPECIALS.includes(c))]);
        const text = picks.join("");
        const e = tok.encode(text);
        expect(e.unknown).toEqual([]);
        expect(tok.decode(e.ids)).toBe(text);
      }),
      { numRuns: 500, seed: 3 },
    );
  });

  it("a long hostile text of distinct unknown words costs linear time", () => {
    const tok = new WordTokenizer([...SPECIALS, "a"]);
    const words = Array.from({ length: 100_000 }, (_, i) => `w${i.toString(36)}`).join(" ");
    const t0 = performance.now();
    const e = tok.encode(words);
    const ms = performance.now() - t0;
    expect(e.unknown).toHaveLength(100_000);
    // A quadratic unknown-word list took ~50 s here; linear is well under a second.
    expect(ms).toBeLessThan(2000);
  });
});

// BPE tokenizers of the formats: SentencePiece-style (GGUF metadata, llama2.c tokenizer.bin,
// HF tokenizer.json through @huggingface/tokenizers) against the reference encoder of
// tools/format_fixtures.py, GPT-2 byte-level against @huggingface/tokenizers on the same
// vocabulary, and encode/decode round trips (byte fallback, unicode, spaces).
import { describe, expect, it } from "vitest";
import { ArgumentError, ModelFormatError } from "../../src/errors.js";
import { openModel } from "../../src/formats/detect.js";
import { parseGguf } from "../../src/formats/gguf.js";
import { ggufTokenizer } from "../../src/formats/gguf_model.js";
import { HfTokenizer, parseJson } from "../../src/formats/hf.js";
import { bpeMerge, Gpt2BpeTokenizer, SentencePieceTokenizer } from "../../src/formats/tokenizers/bpe.js";
import { fixtureBytes, fixtureDir, type GgufKv, metadataGguf, ref } from "./fixtures.js";

const ROUND_TRIP = [
  "the cat sat on the mat", "Hello, World!", "  leading and trailing  ", "naïve café déjà vu", "日本語のテキスト",
  "emoji 🍕🎉 and ZWJ 👩‍💻", "tab\tnew\nline\r\n", "a", " ", "x".repeat(300), "Ωμέγα ß ﬁ", "\u0000\u0001 control",
];

const gguf = openModel(fixtureBytes("llama.gguf"), "llama.gguf").tokenizer!;
const l2c = openModel(fixtureDir("llama2c")).tokenizer!;
const hfLlama = openModel(fixtureDir("llama")).tokenizer!;

describe("SentencePiece-style BPE", () => {
  it.each(ref.meta.spm_cases)("GGUF and llama2.c vocabularies encode %o like the reference encoder", ({ text, ids }) => {
    expect(gguf.encode(text).ids).toEqual(ids);
    expect(l2c.encode(text).ids).toEqual(ids);
  });

  it("Hugging Face tokenizer.json (merges, byte_fallback) of the same vocabulary agrees on the fixture texts", () => {
    for (const { text, ids } of ref.meta.spm_cases) expect(hfLlama.encode(text).ids, text).toEqual(ids);
  });

  it.each(ROUND_TRIP)("decode(encode(%j)) gives the text back", (text) => {
    for (const tok of [gguf, l2c, hfLlama]) expect(tok.decode(tok.encode(text).ids)).toBe(text);
  });

  it("characters outside the vocabulary fall back to their UTF-8 byte pieces", () => {
    const e = gguf.encode("é🍕");
    expect(e.tokens).toEqual(["▁", "<0xC3>", "<0xA9>", "<0xF0>", "<0x9F>", "<0x8D>", "<0x95>"]);
    expect(e.unknown).toEqual([]);
    expect(gguf.decode(e.ids)).toBe("é🍕");
  });

  it("bos/eos are dropped on decode unless asked for; merges pick the highest score", () => {
    const ids = gguf.encode("the cat").ids;
    expect(gguf.decode([1, ...ids, 2])).toBe("the cat");
    expect(gguf.decode([1, ...ids], { skipSpecial: false })).toBe("<s>the cat");
    const tok = new SentencePieceTokenizer({ tokens: ["<unk>", "▁", "a", "b", "ab", "▁a", "▁ab"], scores: [0, 0, 0, 0, -2, -1, -3], special: { unk: 0 } });
    // "▁a" (-1) merges before "ab" (-2), then "▁ab" (-3).
    expect(tok.encode("ab").tokens).toEqual(["▁ab"]);
    expect(tok.encode("abab").tokens).toEqual(["▁ab", "ab"]);
  });

  it("without byte pieces, unknown characters become <unk> and are listed", () => {
    const tok = new SentencePieceTokenizer({ tokens: ["<unk>", "▁", "a"], scores: [0, 0, 0], special: { unk: 0 } });
    const e = tok.encode("a€a");
    expect(e.ids).toEqual([1, 2, 0, 2]);
    expect(e.unknown).toEqual(["€"]);
  });

  it("bad vocabularies are ModelFormatErrors; bad ids ArgumentErrors", () => {
    expect(() => new SentencePieceTokenizer({ tokens: ["a", "b"], scores: [0] }, "v")).toThrow(/v: scores: expected 2 numbers/);
    expect(() => new SentencePieceTokenizer({ tokens: ["a", 3 as unknown as string], scores: [0, 0] }, "v")).toThrow(ModelFormatError);
    expect(() => new SentencePieceTokenizer({ tokens: ["a"], scores: [0], special: { bos: 5 } }, "v")).toThrow(/bos id: expected -1 or an id < 1, found 5/);
    expect(() => gguf.decode([99999])).toThrow(ArgumentError);
  });
});

describe("GPT-2 byte-level BPE", () => {
  const json = parseJson(fixtureDir("gpt2").files["tokenizer.json"], "tokenizer.json") as { model: { vocab: Record<string, number>; merges: string[] } };
  const tokens: string[] = [];
  for (const [t, id] of Object.entries(json.model.vocab)) tokens[id] = t;
  const eot = tokens.length - 1;
  const ours = new Gpt2BpeTokenizer({ tokens, merges: json.model.merges, special: { bos: eot, eos: eot } });
  const lib = new HfTokenizer(json);

  it.each([...ROUND_TRIP, "I'm sure it's the dog's log, isn't it?", "numbers 12 and 345 now", "  spaces   everywhere  "])(
    "encodes %j like @huggingface/tokenizers and decodes it back", (text) => {
      const e = ours.encode(text);
      expect(e.ids).toEqual(lib.encode(text).ids);
      expect(ours.decode(e.ids)).toBe(text);
      expect(lib.decode(e.ids)).toBe(text);
    });

  it("learned merges are used; <|endoftext|> is special", () => {
    const e = ours.encode("the cat sat on the mat");
    expect(e.tokens.length).toBeLessThan(10);
    expect(e.tokens).toContain("Ġthe");
    expect(ours.decode([...e.ids, eot])).toBe("the cat sat on the mat");
    expect(ours.decode([eot], { skipSpecial: false })).toBe("<|endoftext|>");
  });

  it("the same vocabulary from GGUF metadata (tokenizer.ggml.model \"gpt2\") encodes alike", () => {
    const fromGguf = ggufTokenizer(parseGguf(fixtureBytes("gpt2_tokenizer.gguf"), "gpt2_tokenizer.gguf"))!;
    expect(fromGguf).toBeInstanceOf(Gpt2BpeTokenizer);
    for (const text of ROUND_TRIP) expect(fromGguf.encode(text).ids).toEqual(lib.encode(text).ids);
    expect(fromGguf.decode([eot])).toBe("");
  });

  it("tokenizer.ggml.pre picks the pre-tokenizer (Llama 3: digits in threes, case-insensitive contractions); an unknown one is a ModelFormatError", () => {
    const pieces = (pre?: string) => {
      const kv: Array<[string, GgufKv]> = [["tokenizer.ggml.model", { str: "gpt2" }], ["tokenizer.ggml.tokens", { strs: tokens }], ["tokenizer.ggml.merges", { strs: json.model.merges }]];
      if (pre) kv.push(["tokenizer.ggml.pre", { str: pre }]);
      const tok = ggufTokenizer(parseGguf(metadataGguf(kv), "t.gguf")) as Gpt2BpeTokenizer;
      const text = "I'M 12345 ok!!\n\nnext";
      expect(tok.decode(tok.encode(text).ids)).toBe(text);
      return tok.pretokenize(text);
    };
    expect(pieces()).toEqual(pieces("gpt-2"));
    // GPT-2 keeps whitespace before a word out of the last run: "\n\nnext" is "\n", "\n", "next".
    expect(pieces()).toEqual(["I", "'", "M", " 12345", " ok", "!!", "\n", "\n", "next"]);
    expect(pieces("llama-bpe")).toEqual(["I", "'M", " ", "123", "45", " ok", "!!\n\n", "next"]);
    expect(pieces("qwen2")).toEqual(["I", "'M", " ", "1", "2", "3", "4", "5", " ok", "!!\n\n", "next"]);
    expect(() => pieces("deepseek-coder")).toThrow(/t.gguf: metadata "tokenizer.ggml.pre": expected "default" \| .+, found "deepseek-coder"/);
  });

  it("a malformed merge is a ModelFormatError", () => {
    expect(() => new Gpt2BpeTokenizer({ tokens, merges: ["a b c"] }, "m")).toThrow(/m: merges\[0\]: expected "a b"/);
  });
});

describe("tokenizer.json WordPiece and Unigram (through @huggingface/tokenizers)", () => {
  it("WordPiece (the BERT fixture): lowercasing, ## continuations, [UNK]", () => {
    const tok = openModel(fixtureDir("bert")).tokenizer!;
    // Longest prefix first: "cats" is "cat" + "##s", not "c" + "##at" + "##s".
    expect(tok.encode("Cats sat, reading!").tokens).toEqual(["cat", "##s", "sat", ",", "read", "##ing", "!"]);
    expect(tok.encode("dogs").tokens).toEqual(["dog", "##s"]);
    expect(tok.encode("xyz").tokens).toEqual(["[UNK]"]);
    expect(tok.decode(tok.encode("the cat sat on the mat.").ids)).toBe("the cat sat on the mat.");
  });

  it("Unigram: the most probable segmentation (Viterbi over piece scores)", () => {
    const vocab: Array<[string, number]> = [
      ["<unk>", 0], ["\u2581", -2], ["\u2581the", -3], ["\u2581t", -4], ["h", -5], ["e", -5], ["\u2581cat", -3.5], ["\u2581c", -4],
      ["a", -5], ["t", -5], ["\u2581ca", -4.5], ["s", -5],
    ];
    const tok = new HfTokenizer({
      version: "1.0", added_tokens: [], normalizer: null, post_processor: null,
      pre_tokenizer: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true },
      decoder: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true },
      model: { type: "Unigram", unk_id: 0, vocab, byte_fallback: false },
    });
    // "▁cat" (-3.5) beats "▁ca" + "t" (-9.5) and "▁c" + "a" + "t" (-14).
    expect(tok.encode("the cats").tokens).toEqual(["\u2581the", "\u2581cat", "s"]);
    expect(tok.decode(tok.encode("the cats").ids)).toBe("the cats");
  });
});

describe("bpeMerge", () => {
  it("joins the lowest-ranked pair first, leftmost on ties, until nothing merges", () => {
    const ranks: Record<string, number> = { "a b": 1, "b c": 0, "ab c": 2, "a bc": 3 };
    const rank = (x: string, y: string) => ranks[`${x} ${y}`];
    // "b c" (0) beats "a b" (1); then only "a bc" (3) is left.
    expect(bpeMerge(["a", "b", "c"], rank)).toEqual(["abc"]);
    expect(bpeMerge(["a", "b", "c"], (x, y) => (x === "a" && y === "b" ? 0 : undefined))).toEqual(["ab", "c"]);
    expect(bpeMerge(["a", "a", "a"], (x, y) => (x === "a" && y === "a" ? 0 : undefined))).toEqual(["aa", "a"]);
    expect(bpeMerge(["a", "b", "a", "b"], (x, y) => (x === "a" && y === "b" ? 0 : undefined))).toEqual(["ab", "ab"]);
    expect(bpeMerge(["x"], rank)).toEqual(["x"]);
    expect(bpeMerge([], rank)).toEqual([]);
  });
});

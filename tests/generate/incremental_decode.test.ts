// Text pieces of generated ids: they concatenate to decode(context + ids) minus decode(context),
// for the tokenizers of every format (issue #18: the first piece lost its leading space).
import { describe, expect, it } from "vitest";
import { openModel } from "../../src/formats/detect.js";
import { parseGguf } from "../../src/formats/gguf.js";
import { ggufTokenizer } from "../../src/formats/gguf_model.js";
import type { FormatTokenizer } from "../../src/formats/source.js";
import { IncrementalDecoder } from "../../src/generate/incremental_decode.js";
import { fixtureBytes, fixtureDir } from "../formats/fixtures.js";

// Words every fixture vocabulary has (the BERT fixture's has 40 tokens), then text for byte fallback.
const PROMPT = "the cat sat on the mat";
const TEXT = `${PROMPT} and the dogs read books in the park, reading. naïve café 日本語 🍕 ok`;

const tokenizers: Array<[string, () => FormatTokenizer]> = [
  ["SentencePiece (llama2.c tokenizer.bin)", () => openModel(fixtureDir("llama2c")).tokenizer!],
  ["SentencePiece (Llama tokenizer.json)", () => openModel(fixtureDir("llama")).tokenizer!],
  ["byte-level BPE (GPT-2 tokenizer.json)", () => openModel(fixtureDir("gpt2")).tokenizer!],
  ["byte-level BPE (GGUF gpt2)", () => ggufTokenizer(parseGguf(fixtureBytes("gpt2_tokenizer.gguf"), "gpt2_tokenizer.gguf"))!],
  ["WordPiece (BERT tokenizer.json)", () => openModel(fixtureDir("bert")).tokenizer!],
];

function pieces(tok: FormatTokenizer, context: number[], ids: number[]): string[] {
  const d = new IncrementalDecoder(tok, context);
  return [...ids.map((id) => d.push(id)), d.flush()];
}

describe.each(tokenizers)("IncrementalDecoder with %s", (_, make) => {
  const tok = make();
  const ids = tok.encode(TEXT).ids;

  it("pieces after any split concatenate to decode(all) minus decode(context)", () => {
    const whole = tok.decode(ids);
    for (let k = 0; k < ids.length; k++) {
      const head = tok.decode(ids.slice(0, k));
      if (head.endsWith("\uFFFD")) continue; // a context ending inside a character has no text of its own
      expect(whole.startsWith(head), `split ${k}`).toBe(true);
      expect(pieces(tok, ids.slice(0, k), ids.slice(k)).join(""), `split ${k}`).toBe(whole.slice(head.length));
    }
  });

  it("the first piece after the prompt keeps the space before the next word", () => {
    const k = tok.encode(PROMPT).ids.length;
    expect(tok.decode(ids.slice(0, k)).toLowerCase()).toBe(PROMPT.toLowerCase());
    const text = pieces(tok, ids.slice(0, k), ids.slice(k)).join("");
    expect(text.startsWith(" and the dog")).toBe(true);
  });

  it("a long continuation decoded window by window gives the same text as one decode", () => {
    const long = Array.from({ length: 20 }, () => ids).flat();
    const k = 3;
    expect(pieces(tok, long.slice(0, k), long.slice(k)).join("")).toBe(tok.decode(long).slice(tok.decode(long.slice(0, k)).length));
  });
});

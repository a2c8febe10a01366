// Word-level tokenizer of the default translator's English side; mirrors tools/translator/tokenizer.py.
import { ModelFormatError } from "../../errors.js";
import { type DecodeOptions, type Encoding, Vocabulary } from "./vocab.js";

/**
 * The translator's split: a run of ASCII letters/digits is one word, any other code point that is not
 * ASCII whitespace (space, \t, \n, \r, \f, \v) is a token of its own. Written only with constructs that
 * mean the same in Python `re` and JS RegExp.
 */
export const DEFAULT_WORD_PATTERN = "[a-z0-9]+|[^a-z0-9 \\t\\n\\r\\f\\v]";

/** The `"src"` entry of the "simdformer.tokenizer" metadata for this tokenizer. */
export interface WordTokenizerSpec {
  readonly type: "word";
  /** Lowercase (Unicode default, String.prototype.toLowerCase = Python str.lower) before splitting. */
  readonly lowercase: boolean;
  /** Regular expression whose successive matches are the tokens (matched with flags "gu"). */
  readonly pattern: string;
}

/**
 * Splits text into words and punctuation with a regular expression and maps them to ids.
 * Tokens are matched per Unicode code point (flag "u"), as Python does, so an emoji is one token.
 *
 * ```ts
 * const tok = new WordTokenizer(srcVocab);
 * tok.encode("I like pizza!"); // { ids: [...], tokens: ["i", "like", "pizza", "!"], unknown: ["pizza"] }
 * ```
 */
export class WordTokenizer {
  /** The vocabulary (ids, special ids). */
  readonly vocab: Vocabulary;
  /** The split pattern's source. */
  readonly pattern: string;
  /** Whether text is lowercased before splitting. */
  readonly lowercase: boolean;
  private readonly re: RegExp;

  /**
   * @param vocab token strings, index = id (must contain "<unk>"), or a built {@link Vocabulary}.
   * @param spec split pattern and lowercasing; defaults to the translator's ({@link DEFAULT_WORD_PATTERN}, lowercase).
   * @param source names the vocabulary/spec in errors.
   */
  constructor(vocab: readonly string[] | Vocabulary, spec: Partial<WordTokenizerSpec> = {}, source = "word tokenizer") {
    this.vocab = vocab instanceof Vocabulary ? vocab : new Vocabulary(vocab, source);
    if (spec.type !== undefined && spec.type !== "word") {
      throw new ModelFormatError(source, "type", '"word"', JSON.stringify(spec.type));
    }
    this.pattern = spec.pattern ?? DEFAULT_WORD_PATTERN;
    this.lowercase = spec.lowercase ?? true;
    try {
      this.re = new RegExp(this.pattern, "gu");
    } catch (e) {
      throw new ModelFormatError(source, "pattern", "a valid regular expression", `${JSON.stringify(this.pattern)} (${(e as Error).message})`);
    }
    if (this.re.test("")) {
      throw new ModelFormatError(source, "pattern", "a regular expression that cannot match the empty string", JSON.stringify(this.pattern));
    }
  }

  /** Text to token strings (lowercased when configured); no vocabulary lookup. */
  tokenize(text: string): string[] {
    const s = this.lowercase ? text.toLowerCase() : text;
    return Array.from(s.matchAll(this.re), (m) => m[0]);
  }

  /** Text to ids; `unknown` lists the distinct words that were not in the vocabulary (they became <unk>). */
  encode(text: string): Encoding {
    return this.vocab.lookup(this.tokenize(text));
  }

  /** Ids back to text: tokens joined by single spaces (the original spacing and case are not kept). */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    return this.vocab.decodeTokens(ids, options).join(" ");
  }
}

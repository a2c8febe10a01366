// Character-level tokenizer of the default translator's Chinese side; mirrors tools/translator/tokenizer.py.
import { ModelFormatError } from "../../errors.js";
import { type DecodeOptions, type Encoding, Vocabulary } from "./vocab.js";

/** The `"tgt"` entry of the "simdformer.tokenizer" metadata for this tokenizer. */
export interface CharTokenizerSpec {
  readonly type: "char";
}

/**
 * One token per Unicode code point (not per UTF-16 unit: a character outside the BMP is one token),
 * punctuation and spaces included, nothing normalized.
 *
 * ```ts
 * const tok = new CharTokenizer(tgtVocab);
 * tok.decode(tok.encode("我喜欢深度学习").ids); // "我喜欢深度学习"
 * ```
 */
export class CharTokenizer {
  /** The vocabulary (ids, special ids). */
  readonly vocab: Vocabulary;

  /**
   * @param vocab token strings, index = id (must contain "<unk>"), or a built {@link Vocabulary}.
   * @param spec the metadata entry, checked when given.
   * @param source names the vocabulary/spec in errors.
   */
  constructor(vocab: readonly string[] | Vocabulary, spec?: Partial<CharTokenizerSpec>, source = "char tokenizer") {
    if (spec?.type !== undefined && spec.type !== "char") {
      throw new ModelFormatError(source, "type", '"char"', JSON.stringify(spec.type));
    }
    this.vocab = vocab instanceof Vocabulary ? vocab : new Vocabulary(vocab, source);
  }

  /** Text to code points. */
  tokenize(text: string): string[] {
    return Array.from(text);
  }

  /** Text to ids; `unknown` lists the distinct characters not in the vocabulary (they became <unk>). */
  encode(text: string): Encoding {
    return this.vocab.lookup(this.tokenize(text));
  }

  /** Ids back to text: token strings concatenated (<unk> stays visible as "<unk>"). */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string {
    return this.vocab.decodeTokens(ids, options).join("");
  }
}

// A vocabulary given as an array of token strings (index = id), as stored in a model file's metadata.
// Shared by the word and char tokenizers: lookup both ways, special ids, and decode-side checks.
import { ArgumentError, ModelFormatError } from "../../errors.js";

/** Special tokens every simdformer vocabulary may carry; ids are looked up, not assumed. */
export const SPECIAL_TOKENS = { pad: "<pad>", bos: "<bos>", eos: "<eos>", unk: "<unk>" } as const;

/** Result of encoding a text. */
export interface Encoding {
  /** Token ids, unknown tokens mapped to the unknown id. */
  readonly ids: number[];
  /** The token strings the text was split into (before the vocabulary lookup). */
  readonly tokens: string[];
  /** Distinct tokens that are not in the vocabulary, in order of first appearance. */
  readonly unknown: string[];
}

/** Options of {@link Vocabulary.decode}. */
export interface DecodeOptions {
  /** Drop <pad>, <bos> and <eos> from the output (default true). <unk> is always kept. */
  readonly skipSpecial?: boolean;
}

/** Token string <-> id mapping built from a vocabulary array. */
export class Vocabulary {
  /** Token strings, index = id. */
  readonly tokens: readonly string[];
  /** Id of "<pad>", or -1 when the vocabulary has none. */
  readonly padId: number;
  /** Id of "<bos>", or -1. */
  readonly bosId: number;
  /** Id of "<eos>", or -1. */
  readonly eosId: number;
  /** Id of "<unk>" (required: encoding needs somewhere to put unknown tokens). */
  readonly unkId: number;
  private readonly index = new Map<string, number>();

  /**
   * @param tokens token strings, index = id; must be distinct strings and contain "<unk>".
   * @param source names the vocabulary in errors (e.g. `model.safetensors: simdformer.src_vocab`).
   */
  constructor(tokens: readonly unknown[], source = "vocabulary") {
    if (!Array.isArray(tokens) || tokens.length === 0) {
      throw new ModelFormatError(source, "tokens", "a non-empty array of strings", Array.isArray(tokens) ? "[]" : typeof tokens);
    }
    tokens.forEach((t, id) => {
      if (typeof t !== "string") throw new ModelFormatError(source, `token ${id}`, "a string", JSON.stringify(t));
      if (this.index.has(t)) {
        throw new ModelFormatError(source, `token ${id}`, "a token not listed before", `duplicate of id ${this.index.get(t)} (${JSON.stringify(t)})`);
      }
      this.index.set(t, id);
    });
    this.tokens = tokens as readonly string[];
    this.padId = this.idOf(SPECIAL_TOKENS.pad);
    this.bosId = this.idOf(SPECIAL_TOKENS.bos);
    this.eosId = this.idOf(SPECIAL_TOKENS.eos);
    this.unkId = this.idOf(SPECIAL_TOKENS.unk);
    if (this.unkId < 0) throw new ModelFormatError(source, "tokens", `an entry "${SPECIAL_TOKENS.unk}"`, "none");
  }

  /** Number of ids. */
  get size(): number {
    return this.tokens.length;
  }

  /** Id of a token string, or -1 when absent. */
  idOf(token: string): number {
    return this.index.get(token) ?? -1;
  }

  /** Token string of an id; an id outside [0, size) is an ArgumentError. */
  tokenOf(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) {
      throw new ArgumentError(`token id: expected an integer in [0, ${this.tokens.length}), found ${id}`);
    }
    return this.tokens[id]!;
  }

  /** Maps token strings to ids, collecting the distinct unknown ones. */
  lookup(tokens: string[]): Encoding {
    const ids: number[] = [];
    // A Set keeps this linear: an untrusted text of n distinct unknown words must not cost n^2.
    const unknown = new Set<string>();
    for (const t of tokens) {
      const id = this.index.get(t);
      if (id === undefined) {
        ids.push(this.unkId);
        unknown.add(t);
      } else {
        ids.push(id);
      }
    }
    return { ids, tokens, unknown: [...unknown] };
  }

  /** Ids to token strings, optionally without <pad>/<bos>/<eos>. */
  decodeTokens(ids: ArrayLike<number>, options: DecodeOptions = {}): string[] {
    const skip = options.skipSpecial ?? true;
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (skip && (id === this.padId || id === this.bosId || id === this.eosId)) continue;
      out.push(this.tokenOf(id));
    }
    return out;
  }
}

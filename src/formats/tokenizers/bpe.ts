// Byte-pair-encoding tokenizers of the model files users bring: GPT-2's byte-level BPE (merge
// ranks) and SentencePiece-style BPE as Llama, llama.cpp (GGUF) and llama2.c store it (piece
// scores, byte fallback). Both share one merge loop: repeatedly join the adjacent pair of
// lowest rank (leftmost on ties) until no pair is mergeable.
import { ArgumentError, ModelFormatError } from "../../errors.js";
import type { DecodeOptions, Encoding } from "./vocab.js";

/** A min-heap of candidate merges ordered by (rank, left position). */
class PairHeap {
  private readonly rank: number[] = [];
  private readonly left: number[] = [];
  private readonly right: number[] = [];
  private readonly len: number[] = [];

  get size(): number {
    return this.rank.length;
  }

  private less(i: number, j: number): boolean {
    return this.rank[i] < this.rank[j] || (this.rank[i] === this.rank[j] && this.left[i] < this.left[j]);
  }

  private swap(i: number, j: number): void {
    for (const a of [this.rank, this.left, this.right, this.len]) [a[i], a[j]] = [a[j], a[i]];
  }

  push(rank: number, left: number, right: number, len: number): void {
    this.rank.push(rank);
    this.left.push(left);
    this.right.push(right);
    this.len.push(len);
    for (let i = this.rank.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Removes the smallest entry and returns [left, right, len]. */
  pop(): [number, number, number] {
    const top: [number, number, number] = [this.left[0], this.right[0], this.len[0]];
    const last = this.rank.length - 1;
    this.swap(0, last);
    for (const a of [this.rank, this.left, this.right, this.len]) a.pop();
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}

/**
 * The BPE merge loop over initial symbols. `rank(a, b)` is the priority of joining a and b
 * (lower first) or undefined when they do not merge. O(n log n) with a heap of candidate pairs.
 */
export function bpeMerge(symbols: string[], rank: (a: string, b: string) => number | undefined): string[] {
  const n = symbols.length;
  if (n < 2) return symbols.slice();
  const text = symbols.slice();
  const prev = Array.from({ length: n }, (_, i) => i - 1);
  const next = Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
  const heap = new PairHeap();
  const consider = (l: number, r: number) => {
    if (l < 0 || r < 0) return;
    const k = rank(text[l], text[r]);
    if (k !== undefined) heap.push(k, l, r, text[l].length + text[r].length);
  };
  for (let i = 0; i + 1 < n; i++) consider(i, i + 1);
  while (heap.size > 0) {
    const [l, r, len] = heap.pop();
    // Stale entry: one side was merged into something else since it was pushed.
    if (text[l] === "" || text[r] === "" || next[l] !== r || text[l].length + text[r].length !== len) continue;
    text[l] += text[r];
    text[r] = "";
    next[l] = next[r];
    if (next[r] >= 0) prev[next[r]] = l;
    consider(prev[l], l);
    consider(l, next[l]);
  }
  const out: string[] = [];
  for (let i = 0; i >= 0; i = next[i]) out.push(text[i]);
  return out;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8"); // not fatal: a cut multi-byte sequence shows as U+FFFD while streaming

/** Checks a token list once: strings, and a size the ids can index. */
function checkTokens(tokens: readonly unknown[], source: string): readonly string[] {
  if (!Array.isArray(tokens) || tokens.length === 0) throw new ModelFormatError(source, "tokens", "a non-empty array of strings", Array.isArray(tokens) ? "[]" : typeof tokens);
  tokens.forEach((t, i) => {
    if (typeof t !== "string") throw new ModelFormatError(source, `tokens[${i}]`, "a string", typeof t);
  });
  return tokens as readonly string[];
}

function checkId(name: string, id: number | undefined, size: number, source: string): number {
  if (id === undefined || id < 0) return -1;
  if (!Number.isInteger(id) || id >= size) throw new ModelFormatError(source, name, `-1 or an id < ${size}`, String(id));
  return id;
}

/** Special ids of a BPE vocabulary (-1 when absent). */
export interface SpecialIds {
  bos?: number;
  eos?: number;
  unk?: number;
  pad?: number;
}

// ------------------------------------------------------------------------------------------ GPT-2

/** GPT-2's reversible byte -> printable character map (bytes that print as themselves keep their code). */
function byteChars(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) map[b] = String.fromCharCode(keep.includes(b) ? b : 256 + extra++);
  return map;
}

/** GPT-2's pre-tokenizer: contractions, letter runs, digit runs, other runs, whitespace (with one leading space kept). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/**
 * Llama 3's pre-tokenizer (llama.cpp "llama-bpe"): case-insensitive contractions, letters with one
 * leading non-letter, digits in runs of at most 3, punctuation runs with trailing newlines.
 * The contractions are spelled out because JS has no inline (?i:...) groups.
 */
export const LLAMA3_PATTERN =
  "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Qwen2's pre-tokenizer (llama.cpp "qwen2"): as Llama 3's with single digits. */
export const QWEN2_PATTERN = LLAMA3_PATTERN.replace("\\p{N}{1,3}", "\\p{N}");

/** Pre-tokenizer patterns by llama.cpp's tokenizer.ggml.pre name. */
export const PRE_TOKENIZER_PATTERNS: Readonly<Record<string, string>> = {
  default: GPT2_PATTERN, "gpt-2": GPT2_PATTERN, gpt2: GPT2_PATTERN, "llama-bpe": LLAMA3_PATTERN, llama3: LLAMA3_PATTERN, qwen2: QWEN2_PATTERN,
};

/** The vocabulary of a GPT-2 byte-level BPE tokenizer. */
export interface Gpt2BpeSpec {
  /** Token strings (bytes mapped to printable characters), index = id. */
  tokens: readonly string[];
  /** Merges in priority order, each "a b" (or [a, b]). */
  merges: ReadonlyArray<string | readonly [string, string]>;
  /** Special ids; GPT-2 uses one id (<|endoftext|>) for bos and eos. */
  special?: SpecialIds;
  /** Pre-tokenizer regular expression (flags "gu"); default {@link GPT2_PATTERN}. */
  pattern?: string;
}

/**
 * GPT-2 byte-level BPE: text is split by {@link GPT2_PATTERN}, each piece's UTF-8 bytes mapped to
 * printable characters and merged by rank. Every byte is a token, so nothing is unknown and
 * decode(encode(text)) === text for any string.
 *
 * ```ts
 * const tok = new Gpt2BpeTokenizer({ tokens, merges });
 * tok.decode(tok.encode("héllo wörld").ids); // "héllo wörld"
 * ```
 */
export class Gpt2BpeTokenizer {
  readonly tokens: readonly string[];
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  readonly padId: number;
  private readonly index = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly re: RegExp;
  private readonly toChar = byteChars();
  private readonly toByte = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();

  /** @param source names the vocabulary in errors. */
  constructor(spec: Gpt2BpeSpec, source = "gpt2 tokenizer") {
    this.tokens = checkTokens(spec.tokens, source);
    this.tokens.forEach((t, i) => {
      if (!this.index.has(t)) this.index.set(t, i);
    });
    if (!Array.isArray(spec.merges)) throw new ModelFormatError(source, "merges", "an array of merges", typeof spec.merges);
    spec.merges.forEach((m, i) => {
      const pair = typeof m === "string" ? m.split(" ") : m;
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
        throw new ModelFormatError(source, `merges[${i}]`, '"a b" (two tokens separated by one space)', JSON.stringify(m));
      }
      const key = `${pair[0]} ${pair[1]}`;
      if (!this.ranks.has(key)) this.ranks.set(key, i);
    });
    this.toChar.forEach((c, b) => this.toByte.set(c, b));
    const size = this.tokens.length;
    this.bosId = checkId("bos id", spec.special?.bos, size, source);
    this.eosId = checkId("eos id", spec.special?.eos, size, source);
    this.unkId = checkId("unk id", spec.special?.unk, size, source);
    this.padId = checkId("pad id", spec.special?.pad, size, source);
    const pattern = spec.pattern ?? GPT2_PATTERN;
    try {
      this.re = new RegExp(pattern, "gu");
    } catch (e) {
      throw new ModelFormatError(source, "pattern", "a valid regular expression", `${JSON.stringify(pattern)} (${(e as Error).message})`);
    }
  }

  /** Number of ids. */
  get size(): number {
    return this.tokens.length;
  }

  /** The pre-tokenizer's split of a text (before bytes are mapped and merged). */
  pretokenize(text: string): string[] {
    if (typeof text !== "string") throw new ArgumentError(`tokenize: expected a string, found ${typeof text}`);
    return Array.from(text.matchAll(this.re), (m) => m[0]);
  }

  /** Text to BPE token strings (byte-mapped characters). */
  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const piece of this.pretokenize(text)) {
      const word = Array.from(utf8.encode(piece), (b) => this.toChar[b]).join("");
      let pieces = this.cache.get(word);
      if (!pieces) {
        pieces = bpeMerge(Array.from(word), (a, b) => this.ranks.get(`${a} ${b}`));
        if (this.cache.size < 10000) this.cache.set(word, pieces);
      }
      out.push(...pieces);
    }
    return out;
  }

  /** Text to ids. A piece missing from the vocabulary (a vocabulary without all 256 bytes) becomes unk, or is an error without one. */
  encode(text: string): Encoding {
    const tokens = this.tokenize(text);
    const ids: number[] = [];
    const unknown: string[] = [];
    for (const t of tokens) {
      const id = this.index.get(t);
      if (id !== undefined) ids.push(id);
      else {
        if (this.unkId < 0) throw new ArgumentError(`encode: the piece ${JSON.stringify(t)} is not in the vocabulary and it has no unknown token`);
        ids.push(this.unkId);
        if (!unknown.includes(t)) unknown.push(t);
      }
    }
    return { ids, tokens, unknown };
  }

  /** Ids back to text (bytes reassembled, then UTF-8 decoded); bos/eos/pad dropped unless skipSpecial is false. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecial ?? true;
    const bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) throw new ArgumentError(`token id: expected an integer in [0, ${this.tokens.length}), found ${id}`);
      if (skip && (id === this.bosId || id === this.eosId || id === this.padId)) continue;
      for (const ch of this.tokens[id]) {
        const b = this.toByte.get(ch);
        if (b !== undefined) bytes.push(b);
        else bytes.push(...utf8.encode(ch)); // added tokens (e.g. "<|endoftext|>") are plain text
      }
    }
    return utf8Decoder.decode(Uint8Array.from(bytes));
  }
}

// ----------------------------------------------------------------------------------- SentencePiece

/** The vocabulary of a SentencePiece-style BPE tokenizer (Llama, llama.cpp, llama2.c). */
export interface SentencePieceSpec {
  /** Pieces, index = id; byte pieces are "<0xXX>". */
  tokens: readonly string[];
  /** Merge score of each piece (higher merges first). */
  scores: ArrayLike<number>;
  /** Per-piece type as GGUF stores it (1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte); optional. */
  types?: ArrayLike<number>;
  special?: SpecialIds;
  /** What stands for a space inside pieces: "▁" (SentencePiece, GGUF) or " " (llama2.c). Default "▁". */
  space?: string;
  /** Prepend a space to the text (SentencePiece's add_dummy_prefix). Default true. */
  addPrefixSpace?: boolean;
}

const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/**
 * SentencePiece-style BPE: spaces become the space marker, a space is prepended, the text is
 * split into code points and adjacent pieces are merged while their concatenation is in the
 * vocabulary, highest score first. A final piece not in the vocabulary falls back to its UTF-8
 * bytes ("<0xXX>" pieces), or to unk when the vocabulary has no byte pieces.
 *
 * ```ts
 * const tok = new SentencePieceTokenizer({ tokens, scores, special: { bos: 1, eos: 2, unk: 0 } });
 * tok.decode(tok.encode("naïve café 🍕").ids); // "naïve café 🍕"
 * ```
 */
export class SentencePieceTokenizer {
  readonly tokens: readonly string[];
  readonly scores: Float64Array;
  readonly bosId: number;
  readonly eosId: number;
  readonly unkId: number;
  readonly padId: number;
  readonly space: string;
  readonly addPrefixSpace: boolean;
  private readonly index = new Map<string, number>();
  /** id of "<0xXX>" for each byte, or -1. */
  private readonly byteIds = new Int32Array(256).fill(-1);
  /** byte value of each id that is a byte piece, or -1. */
  private readonly byteOf: Int16Array;
  /** Ids that decode to nothing (control pieces) unless skipSpecial is false. */
  private readonly control = new Set<number>();

  /** @param source names the vocabulary in errors. */
  constructor(spec: SentencePieceSpec, source = "sentencepiece tokenizer") {
    this.tokens = checkTokens(spec.tokens, source);
    const n = this.tokens.length;
    const scores = spec.scores;
    if (!scores || typeof scores.length !== "number" || scores.length !== n) {
      throw new ModelFormatError(source, "scores", `${n} numbers (one per token)`, scores && typeof scores.length === "number" ? `${scores.length}` : typeof scores);
    }
    this.scores = Float64Array.from(scores as ArrayLike<number>);
    this.scores.forEach((s, i) => {
      if (Number.isNaN(s)) throw new ModelFormatError(source, `scores[${i}]`, "a number", "NaN");
    });
    if (spec.types !== undefined && spec.types.length !== n) throw new ModelFormatError(source, "token types", `${n} values`, String(spec.types.length));
    this.space = spec.space ?? "\u2581";
    if (this.space.length === 0) throw new ModelFormatError(source, "space", "a non-empty string", '""');
    this.addPrefixSpace = spec.addPrefixSpace ?? true;
    this.bosId = checkId("bos id", spec.special?.bos, n, source);
    this.eosId = checkId("eos id", spec.special?.eos, n, source);
    this.unkId = checkId("unk id", spec.special?.unk, n, source);
    this.padId = checkId("pad id", spec.special?.pad, n, source);
    for (const id of [this.bosId, this.eosId, this.padId]) if (id >= 0) this.control.add(id);
    this.byteOf = new Int16Array(n).fill(-1);
    this.tokens.forEach((t, i) => {
      const type = spec.types?.[i];
      const byte = BYTE_PIECE.exec(t);
      if (byte && (type === undefined || type === 6)) {
        const b = parseInt(byte[1], 16);
        if (this.byteIds[b] < 0) this.byteIds[b] = i;
        this.byteOf[i] = b;
        return;
      }
      if (type === 3) this.control.add(i);
      // Control/unknown/unused pieces are never produced by merging text.
      if (type === 2 || type === 3 || type === 5 || this.control.has(i) || i === this.unkId) return;
      if (!this.index.has(t)) this.index.set(t, i);
    });
  }

  /** Number of ids. */
  get size(): number {
    return this.tokens.length;
  }

  /** Text to ids (no bos: the model's config adds it). */
  encode(text: string): Encoding {
    if (typeof text !== "string") throw new ArgumentError(`encode: expected a string, found ${typeof text}`);
    const ids: number[] = [];
    const tokens: string[] = [];
    const unknown: string[] = [];
    if (text.length === 0) return { ids, tokens, unknown };
    const norm = (this.addPrefixSpace ? " " + text : text).replaceAll(" ", this.space);
    const pieces = bpeMerge(Array.from(norm), (a, b) => {
      const id = this.index.get(a + b);
      return id === undefined ? undefined : -this.scores[id];
    });
    for (const p of pieces) {
      const id = this.index.get(p);
      if (id !== undefined) {
        ids.push(id);
        tokens.push(p);
        continue;
      }
      const bytes = utf8.encode(p);
      if (bytes.every((b) => this.byteIds[b] >= 0)) {
        for (const b of bytes) {
          ids.push(this.byteIds[b]);
          tokens.push(this.tokens[this.byteIds[b]]);
        }
        continue;
      }
      if (this.unkId < 0) throw new ArgumentError(`encode: ${JSON.stringify(p)} is not in the vocabulary, which has neither byte pieces nor an unknown token`);
      ids.push(this.unkId);
      tokens.push(p);
      if (!unknown.includes(p)) unknown.push(p);
    }
    return { ids, tokens, unknown };
  }

  /**
   * Ids back to text: byte pieces reassembled, the space marker turned back into spaces and the
   * prefix space removed. Control pieces (bos/eos/pad) are dropped unless skipSpecial is false.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecial ?? true;
    const bytes: number[] = [];
    let first = true;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.tokens.length) throw new ArgumentError(`token id: expected an integer in [0, ${this.tokens.length}), found ${id}`);
      if (this.control.has(id)) {
        if (!skip) bytes.push(...utf8.encode(this.tokens[id]));
        continue;
      }
      if (this.byteOf[id] >= 0) bytes.push(this.byteOf[id]);
      else {
        let piece = this.tokens[id].replaceAll(this.space, " ");
        if (first && this.addPrefixSpace && piece.startsWith(" ")) piece = piece.slice(1);
        bytes.push(...utf8.encode(piece));
      }
      first = false;
    }
    let out = utf8Decoder.decode(Uint8Array.from(bytes));
    // The prefix space may have come as a byte piece or a bare space piece.
    if (first === false && this.addPrefixSpace && out.startsWith(" ") && this.leadsWithSpaceByte(ids)) out = out.slice(1);
    return out;
  }

  /** True when the first decoded id is the byte piece of a space (its prefix was not stripped above). */
  private leadsWithSpaceByte(ids: ArrayLike<number>): boolean {
    for (let i = 0; i < ids.length; i++) {
      if (this.control.has(ids[i])) continue;
      return this.byteOf[ids[i]] === 0x20;
    }
    return false;
  }
}

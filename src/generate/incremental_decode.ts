// Generated ids to text pieces as they come, each piece the text its token adds to what came
// before: decode(context + ids) minus decode(context), without decoding the whole sequence
// again at every step.
import type { DecodeOptions } from "../formats/tokenizers/vocab.js";

/** What the decoder needs of a tokenizer (TextTokenizer's decode). */
export interface IdDecoder {
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
}

/** Tokens of already-shown text decoded in front of the new ones (see IncrementalDecoder). */
const CONTEXT_TOKENS = 4;
/** Ids kept before the window; older ones are dropped once the window moved past them. */
const KEPT_IDS = 4 * CONTEXT_TOKENS;

/**
 * Turns ids into text pieces such that the pieces of `ids` (then {@link flush}) concatenate to
 * `decode(context + ids)` minus `decode(context)`: the leading space of the first generated
 * word is kept (SentencePiece's decoder strips the prefix space only at the start of a
 * sequence, and WordPiece joins words with spaces), and a character split over several
 * byte-fallback tokens comes out whole, once its last byte arrived.
 *
 * Each push decodes only a window: the last few tokens of shown text (which carry the start
 * of sequence rules: their first piece is the one stripped) and the new tokens, so a token
 * costs the same at position 10 and at position 10,000. A window whose text ends in U+FFFD
 * shows all but that last character: a UTF-8 decoder's output is final up to the last
 * incomplete byte sequence, which is at most that one replacement character.
 */
export class IncrementalDecoder {
  private readonly ids: number[];
  /** The window: ids[start:] is decoded each push; ids[read:] are the ones not fully shown. */
  private start = 0;
  private read: number;
  /** The window's text shown so far: that of ids[start:read], plus all but the last character of a later text ending in U+FFFD. */
  private shown = "";

  /**
   * @param context the ids before the first pushed one (a decoder-only model's prompt, bos
   *   included; an encoder-decoder's decoder prefix); their text is not emitted. Only the last
   *   few are kept.
   */
  constructor(private readonly tokenizer: IdDecoder, context: ArrayLike<number>) {
    this.ids = Array.from(context).slice(-KEPT_IDS);
    this.read = this.ids.length;
    this.moveWindow();
  }

  /** The text `id` adds; "" while it (with the ones before) ends in the middle of a character. */
  push(id: number): string {
    this.ids.push(id);
    const text = this.decode(this.ids.slice(this.start));
    if (!text.endsWith("\uFFFD")) return this.emit(text);
    const final = text.slice(0, -1);
    if (final.length <= this.shown.length) return "";
    const piece = final.slice(this.shown.length);
    this.shown = final;
    return piece;
  }

  /** The text still held back (a trailing U+FFFD no byte completed), "" when there is none. */
  flush(): string {
    return this.read < this.ids.length ? this.emit(this.decode(this.ids.slice(this.start))) : "";
  }

  private emit(text: string): string {
    const piece = text.slice(this.shown.length);
    this.read = this.ids.length;
    this.moveWindow();
    return piece;
  }

  /**
   * Starts the window a few tokens before `read`, further back while those decode to nothing
   * (control tokens): the window's first piece must be shown text, or a decoder would treat the
   * next word as the start of the text.
   */
  private moveWindow(): void {
    let s = Math.max(0, this.read - CONTEXT_TOKENS);
    let text = this.decode(this.ids.slice(s, this.read));
    while (text === "" && s > 0) text = this.decode(this.ids.slice(--s, this.read));
    // Ids before the window are never decoded again: drop them, keeping the array short.
    if (s > KEPT_IDS) {
      this.ids.splice(0, s);
      this.read -= s;
      s = 0;
    }
    this.start = s;
    this.shown = text;
  }

  private decode(ids: number[]): string {
    return ids.length === 0 ? "" : this.tokenizer.decode(ids);
  }
}

import { ArgumentError, ShapeError } from "../errors.js";
import type { Model, TokenSequence } from "../model/model.js";

/** Options of {@link greedy}. */
export interface GreedyOptions {
  /** Encoder-decoder: source sequences (one output per source). */
  src?: TokenSequence[];
  /**
   * Tokens the decoder starts from, per sequence: the prompt of a decoder-only model;
   * default [bos_id] for an encoder-decoder.
   */
  prompts?: TokenSequence[];
  /** Generated tokens per sequence at most; default config.max_target_length (bounded by max_positions). */
  maxNewTokens?: number;
  /** Stop a sequence at this id (not included in the output); default config.eos_id, -1 for none. */
  eosId?: number;
}

/** Index of the largest value of row `r` (first one on ties, like torch.argmax). */
export function argmaxRow(logits: Float32Array, r: number, width: number): number {
  let best = 0;
  let bv = -Infinity;
  for (let j = 0, o = r * width; j < width; j++) {
    const v = logits[o + j];
    if (v > bv) {
      bv = v;
      best = j;
    }
  }
  return best;
}

/**
 * Greedy decoding of a batch with the KV cache: each step feeds every unfinished sequence
 * its last token and takes the argmax. Finished sequences leave the batch. Returns the
 * generated ids per sequence, without the prompt and without the end token.
 */
export async function greedy(model: Model, opts: GreedyOptions): Promise<number[][]> {
  const c = model.config;
  const ed = c.arch === "encoder-decoder";
  let prompts = opts.prompts;
  if (!prompts) {
    if (!ed || !opts.src) throw new ArgumentError("greedy: prompts are required for a decoder-only model");
    if (c.bos_id < 0) throw new ArgumentError("greedy: no prompts given and the config has no bos_id");
    prompts = opts.src.map(() => [c.bos_id]);
  }
  if (ed && opts.src && opts.src.length !== prompts.length) throw new ShapeError(`greedy: ${opts.src.length} sources but ${prompts.length} prompts`);
  const eos = opts.eosId ?? c.eos_id;
  const n = prompts.length;
  const longest = Math.max(...prompts.map((p) => p.length));
  const maxNew = Math.min(opts.maxNewTokens ?? c.max_target_length, c.max_positions - longest + 1);
  if (!Number.isInteger(maxNew) || maxNew < 0) throw new ArgumentError(`greedy: maxNewTokens expected an integer >= 0, found ${opts.maxNewTokens}`);
  const out: number[][] = prompts.map(() => []);
  if (maxNew === 0) return out;
  const state = await model.startDecoding({ src: ed ? opts.src : undefined, batch: n });
  try {
    let active = prompts.map((_, i) => i);
    let feed: TokenSequence[] = prompts;
    for (let step = 0; step < maxNew && active.length > 0; step++) {
      const logits = await model.decodeStep(state, feed);
      const keep: number[] = [];
      const next: number[][] = [];
      active.forEach((seq, row) => {
        const id = argmaxRow(logits, row, model.vocabSize);
        if (id === eos) return;
        out[seq].push(id);
        keep.push(row);
        next.push([id]);
      });
      if (keep.length === 0 || step + 1 === maxNew) break;
      if (keep.length !== active.length) state.select(keep);
      active = keep.map((row) => active[row]);
      feed = next;
    }
  } finally {
    state.dispose();
  }
  return out;
}

import { ArgumentError, ShapeError } from "../errors.js";
import type { Model, TokenSequence } from "../model/model.js";
import { generateTokens, type GenerationInput } from "./generate.js";

export { argmaxRow } from "./sampler.js";

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

/**
 * Greedy decoding of a batch with the KV cache: each step feeds every unfinished sequence
 * its last token and takes the argmax. Finished sequences leave the batch. Returns the
 * generated ids per sequence, without the prompt and without the end token.
 * A thin wrapper over {@link generateTokens} with temperature 0.
 */
export async function greedy(model: Model, opts: GreedyOptions): Promise<number[][]> {
  const ed = model.config.arch === "encoder-decoder";
  const { src, prompts } = opts;
  if (!prompts && !(ed && src)) throw new ArgumentError("greedy: prompts are required for a decoder-only model");
  if (ed && src && prompts && src.length !== prompts.length) throw new ShapeError(`greedy: ${src.length} sources but ${prompts.length} prompts`);
  const n = prompts?.length ?? src!.length;
  const inputs: GenerationInput[] = Array.from({ length: n }, (_, i) => ({ prompt: prompts?.[i], src: ed ? src?.[i] : undefined }));
  const eos = opts.eosId ?? model.config.eos_id;
  const out: number[][] = inputs.map(() => []);
  const stream = generateTokens(model, inputs, { temperature: 0, maxNewTokens: opts.maxNewTokens, stop: eos >= 0 ? [eos] : [] });
  for await (const t of stream) out[t.sequence].push(t.id);
  return out;
}

// `simdformer embed | rerank | classify`: a sentence encoder folder over texts from the
// arguments, a file (one a line) or stdin lines.
import { readFile } from "node:fs/promises";
import { ArgumentError } from "../errors.js";
import type { Encoder, EncodeOptions } from "../encode/encoder.js";
import type { Runtime } from "../runtime.js";
import type { CliArgs } from "./args.js";
import type { CliIo } from "./main.js";
import { type Painter, ProgressBar } from "./term.js";

/** Non-empty lines of a text (a trailing newline and \r\n endings are fine). */
function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.trim() !== "");
}

/** The texts to run: the arguments, else --file, else stdin lines. */
async function inputTexts(args: string[], a: CliArgs, io: CliIo): Promise<{ texts: string[]; fromFile: boolean }> {
  if (a.file !== undefined) {
    if (args.length > 0) throw new ArgumentError(`--file: expected the texts in the file or as arguments, found both (${args.length} arguments)`);
    let text: string;
    try {
      text = await readFile(a.file, "utf8");
    } catch (e) {
      throw new ArgumentError(`--file ${a.file}: expected a readable file, found ${(e as { code?: string }).code ?? (e as Error).message}`);
    }
    return { texts: lines(text), fromFile: true };
  }
  if (args.length > 0) return { texts: args, fromFile: false };
  if (io.stdin && !io.stdin.isTTY) return { texts: lines(await io.stdin.text()), fromFile: false };
  throw new ArgumentError(`${a.command}: expected texts as arguments, --file or lines on stdin, found none`);
}

/**
 * Runs `f` over the texts in slices of the batch size, with a progress bar on a TTY for --file
 * input (slicing changes no result: a text's output does not depend on its batch).
 */
async function inSlices<T>(texts: string[], a: CliArgs, io: CliIo, label: string, showBar: boolean, f: (part: string[], offset: number) => Promise<T[]>): Promise<T[]> {
  const size = a.batchSize ?? 32;
  const bar = new ProgressBar(showBar ? io.stderr : { write: () => 0 }, label);
  const out: T[] = [];
  for (let at = 0; at < texts.length; at += size) {
    bar.update(at / texts.length, `${at}/${texts.length}`);
    out.push(...(await f(texts.slice(at, at + size), at)));
  }
  bar.update(1, `${texts.length}/${texts.length}`);
  bar.done();
  return out;
}

/** Writes one document (--json), one line per item (--jsonl), or the human lines. */
function emit<T>(io: CliIo, a: CliArgs, doc: Record<string, unknown>, items: T[], key: string, human: (item: T) => string): void {
  if (a.json) io.stdout.write(JSON.stringify({ ...doc, [key]: items }) + "\n");
  else if (a.jsonl) for (const it of items) io.stdout.write(JSON.stringify(it) + "\n");
  else for (const it of items) io.stdout.write(human(it) + "\n");
}

const short = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** `embed`, `rerank` or `classify` with the encoder at --model. */
export async function encodeCommand(rt: Runtime, a: CliArgs, io: CliIo, p: Painter): Promise<number> {
  const enc: Encoder = await rt.loadEncoder(a.model!);
  try {
    const opts: EncodeOptions = { truncate: a.truncate, batchSize: a.batchSize };
    const model = { model: a.model, kind: enc.kind, dims: enc.dims, build: rt.features.build, threads: rt.features.threads };
    if (a.command === "embed") {
      const { texts, fromFile } = await inputTexts(a.text, a, io);
      const pooling = a.pooling ?? enc.defaults.pooling;
      const normalize = a.normalize ?? enc.defaults.normalize;
      const rows = await inSlices(texts, a, io, "embedding", fromFile, async (part) => {
        const e = await enc.embed(part, { ...opts, pooling, normalize });
        return e.vectors.map((v, i) => ({ text: part[i], tokens: e.tokens[i], embedding: Array.from(v) }));
      });
      emit(io, a, { ...model, pooling, normalize }, rows, "embeddings", (r) => {
        const head = r.embedding.slice(0, 4).map((x) => x.toFixed(4)).join(", ");
        return `${p.bold(short(r.text))} ${p.dim(`(${r.tokens} tokens)`)} [${head}${r.embedding.length > 4 ? ", …" : ""}] ${p.dim(`${r.embedding.length} dims`)}`;
      });
      return 0;
    }
    if (a.command === "rerank") {
      const [query, ...rest] = a.text;
      const { texts, fromFile } = await inputTexts(rest, a, io);
      const scored = await inSlices(texts, a, io, "reranking", fromFile, async (part, offset) =>
        (await enc.rerank(query, part, opts)).map((r) => ({ ...r, index: offset + r.index })));
      // Slices were ranked on their own: rank all passages together.
      const ranked = scored.sort((x, y) => y.score - x.score || x.index - y.index);
      emit(io, a, { ...model, query }, ranked, "results", (r) => `${r.score.toFixed(4).padStart(9)}  ${p.dim(`#${r.index}`)} ${r.text}`);
      return 0;
    }
    const { texts, fromFile } = await inputTexts(a.text, a, io);
    const labelled = await inSlices(texts, a, io, "classifying", fromFile, async (part) => {
      const ls = await enc.classify(part, opts);
      return ls.map((labels, i) => ({ text: part[i], label: labels[0].label, score: labels[0].score, labels }));
    });
    emit(io, a, model, labelled, "results", (r) => `${p.bold(r.label)} ${r.score.toFixed(4)}  ${short(r.text)}`);
    return 0;
  } finally {
    enc.dispose();
  }
}

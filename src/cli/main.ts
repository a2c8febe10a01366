// The `simdformer` command: translate (default), generate, bench, info, quantize, embed, rerank, classify.
import { writeFile } from "node:fs/promises";
import { ArgumentError, SimdformerError } from "../errors.js";
import type { GenerationStats } from "../generate/generate.js";
import type { TextModel, TextOptions } from "../generate/text.js";
// The package entry, as src/bench/ imports it: esbuild then puts the library in one chunk that
// dist/index.js, the CLI and dist/bench.js share.
import { createRuntime, type Runtime } from "../index.js";
import { type CliArgs, parseCli, USAGE } from "./args.js";
import { painter, type Painter, ProgressBar, useColor } from "./term.js";
import { formatBytes, quantizeFile } from "./quantize.js";
import { encodeCommand } from "./encode.js";
import { meanOf, renderAttentionSvg } from "../viz/attention_svg.js";
import { readModelPath } from "../formats/files.js";

/** Sentences `npm start` translates when no text is given. */
export const DEMO_SENTENCES = [
  "I like deep learning",
  "I read books in the library",
  "We ate apples yesterday",
  "Do you like music?",
  "They will play football in the park tomorrow",
];

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  stdout: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  version: string;
  /** Standard input, read whole by embed / rerank / classify when no texts are given (and it is not a TTY). */
  stdin?: { isTTY?: boolean; text(): Promise<string> };
}

function textOptions(a: CliArgs): TextOptions {
  const sampled = a.temperature > 0;
  return {
    maxNewTokens: a.maxTokens,
    maxPositions: a.maxPositions,
    stop: a.stop,
    beams: a.beam,
    ...(sampled ? { temperature: a.temperature, topK: a.topK, topP: a.topP, seed: a.seed } : {}),
  };
}

function statsLine(s: GenerationStats, p: Painter): string {
  const r = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "-");
  return p.dim(`prefill ${r(s.prefillTokensPerSecond)} tok/s · decode ${r(s.decodeTokensPerSecond)} tok/s · first token ${s.timeToFirstTokenMs.toFixed(1)} ms`);
}

async function loadTextModel(rt: Runtime, a: CliArgs, io: CliIo): Promise<TextModel> {
  const bar = new ProgressBar(io.stderr, "loading model");
  bar.update(0);
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  // --tokenizer: the model's files read here, with that file as its tokenizer.
  const source = a.model !== undefined && a.tokenizer !== undefined ? await readModelPath(a.model, { tokenizer: a.tokenizer }) : a.model;
  const tm = await rt.loadModel(source, {
    file: a.model,
    onProgress: ({ bytesDone, bytesTotal }) => {
      if (bytesTotal) bar.update(bytesDone / bytesTotal, `${mib(bytesDone)} / ${mib(bytesTotal)} MiB`);
    },
  });
  bar.update(1);
  bar.done();
  return tm;
}

function header(rt: Runtime, tm: TextModel, p: Painter): string {
  const f = rt.features;
  const c = tm.config;
  const layers = c.arch === "encoder-decoder" ? `${c.encoder_layers}+${c.decoder_layers}` : `${c.decoder_layers}`;
  return `${p.bold("simdformer")} · build ${f.build} · ${f.threads} thread${f.threads > 1 ? "s" : ""} · ${c.arch} ${layers} layers, d_model ${c.d_model}, ${c.n_heads} heads`;
}

async function translate(rt: Runtime, a: CliArgs, io: CliIo, p: Painter): Promise<number> {
  const pe = painter(useColor(io.stderr, io.env));
  const tm = await loadTextModel(rt, a, io);
  try {
    const sentences = a.text.length > 0 ? [a.text.join(" ")] : DEMO_SENTENCES;
    if (a.attention !== undefined) checkAttentionArgs(tm, a);
    if (!a.json) io.stderr.write(header(rt, tm, pe) + "\n");
    for (const sentence of sentences) {
      if (a.json) {
        const t = await tm.translate(sentence, textOptions(a));
        io.stdout.write(JSON.stringify({ source: sentence, translation: t.text, ids: t.ids, unknownWords: t.unknownWords, stats: t.stats, build: rt.features.build, threads: rt.features.threads }) + "\n");
        continue;
      }
      io.stdout.write(`\n  ${sentence}\n  ${p.green("→")} `);
      const gen = tm.stream(sentence, textOptions(a));
      let r = await gen.next();
      for (; !r.done; r = await gen.next()) io.stdout.write(r.value.text);
      io.stdout.write("\n");
      io.stderr.write(`  ${statsLine(r.value, pe)}\n`);
      // stream() yields no tokenizer report; encoding the source again is one regex pass.
      const { unknown } = tm.encodeSource(sentence);
      if (unknown.length > 0) {
        io.stderr.write(`  ${pe.yellow(`unknown word${unknown.length > 1 ? "s" : ""} (read as <unk>): ${unknown.join(", ")}`)}\n`);
      }
    }
    if (a.attention !== undefined) await writeAttentionSvg(tm, a, io, sentences[0]);
    return 0;
  } finally {
    tm.dispose();
  }
}

/** --attention needs an encoder-decoder; --attention-layer/--attention-head must exist in the model. */
function checkAttentionArgs(tm: TextModel, a: CliArgs): void {
  const c = tm.config;
  if (c.arch !== "encoder-decoder") throw new ArgumentError(`--attention: expected an encoder-decoder model (the heatmap is its cross-attention), found arch "${c.arch}"`);
  if (a.attentionLayer !== undefined && a.attentionLayer >= c.decoder_layers) {
    throw new ArgumentError(`--attention-layer: expected a decoder layer 0..${c.decoder_layers - 1}, found ${a.attentionLayer}`);
  }
  if (a.attentionHead !== undefined && a.attentionHead >= c.n_heads) {
    throw new ArgumentError(`--attention-head: expected a head 0..${c.n_heads - 1}, found ${a.attentionHead}`);
  }
}

/**
 * --attention FILE: the decoder's cross-attention of the (first) sentence as an SVG heatmap.
 * Layer: --attention-layer N, else the mean over layers; heads: --attention-head H, else every
 * head and their mean.
 */
async function writeAttentionSvg(tm: TextModel, a: CliArgs, io: CliIo, sentence: string): Promise<void> {
  const t = await tm.translate(sentence, { ...textOptions(a), attention: true });
  const maps = t.attention;
  if (!maps) throw new ArgumentError(`--attention: nothing was generated for "${sentence}", so there is no attention to draw`);
  const layer = a.attentionLayer;
  const svg = renderAttentionSvg({
    weights: layer === undefined ? meanOf(maps.cross) : maps.cross[layer],
    heads: maps.heads,
    rows: maps.outputTokens!,
    cols: maps.srcTokens!,
    show: a.attentionHead ?? "all",
    title: `${sentence} → ${t.text} · cross-attention, ${layer === undefined ? `mean of ${maps.cross.length} layers` : `layer ${layer}`}`,
    rowAxis: "generated tokens",
    colAxis: "source tokens",
  });
  await writeFile(a.attention!, svg);
  io.stderr.write(`attention heatmap written to ${a.attention}\n`);
}

/** Prompt and continuation on stdout (or one JSON line with --json); the stats line on stderr. */
async function generate(rt: Runtime, a: CliArgs, io: CliIo): Promise<number> {
  const pe = painter(useColor(io.stderr, io.env));
  const tm = await loadTextModel(rt, a, io);
  try {
    const prompt = a.text.join(" ");
    const gen = tm.generate(prompt, textOptions(a));
    const pieces: string[] = [];
    if (!a.json) io.stdout.write(prompt);
    let r = await gen.next();
    for (; !r.done; r = await gen.next()) {
      pieces.push(r.value.text);
      if (!a.json) io.stdout.write(r.value.text);
    }
    if (a.json) io.stdout.write(JSON.stringify({ prompt, text: pieces.join(""), stats: r.value, build: rt.features.build }) + "\n");
    else {
      io.stdout.write("\n");
      io.stderr.write(`${statsLine(r.value, pe)}\n`);
    }
    return 0;
  } finally {
    tm.dispose();
  }
}

async function bench(a: CliArgs, io: CliIo): Promise<number> {
  // The registry and timer are the separate simdformer/bench entry: only this command loads them.
  const { runKernelSuite, formatKernelRows } = await import("../bench/index.js");
  const bar = new ProgressBar(io.stderr, "timing kernels");
  const rows = await runKernelSuite({
    filter: a.text.length > 0 ? a.text.join(" ") : undefined,
    onProgress: (done, total, row) => bar.update(done / total, `${row.kernel} ${row.shape}`),
  });
  bar.done();
  if (a.json) for (const r of rows) io.stdout.write(JSON.stringify(r) + "\n");
  else io.stdout.write(formatKernelRows(rows) + "\n");
  return 0;
}

async function quantize(a: CliArgs, io: CliIo, p: Painter): Promise<number> {
  const [input, output] = a.text;
  const r = await quantizeFile(input, output, a.quantType, io);
  if (a.json) {
    io.stdout.write(JSON.stringify({ input, output, type: a.quantType, ...r }) + "\n");
    return 0;
  }
  io.stdout.write(`${p.bold(output)}: ${r.quantized.length} linear weights as ${a.quantType}` +
    `, ${formatBytes(r.inputBytes)} -> ${formatBytes(r.outputBytes)} (${((100 * r.outputBytes) / r.inputBytes).toFixed(1)}%)\n`);
  if (r.skipped.length > 0) io.stdout.write(`  ${p.yellow(`kept in float (in features not a multiple of 32): ${r.skipped.join(", ")}`)}\n`);
  return 0;
}

async function info(rt: Runtime, a: CliArgs, io: CliIo): Promise<number> {
  const tm = await loadTextModel(rt, a, io);
  try {
    const out = { version: io.version, features: rt.features, model: tm.config };
    if (a.json) io.stdout.write(JSON.stringify(out) + "\n");
    else {
      const f = rt.features;
      io.stdout.write(`simdformer ${io.version}\nbuild: ${f.build} (simd ${f.simd}, relaxed ${f.relaxedSimd}, shared memory ${f.sharedMemory})\nthreads: ${f.threads} of ${f.host.hardwareConcurrency} cores\n`);
      for (const n of f.notes) io.stdout.write(`  note: ${n}\n`);
      io.stdout.write(`model: ${JSON.stringify(tm.config, null, 2)}\n`);
    }
    return 0;
  } finally {
    tm.dispose();
  }
}

/** True for a write to a pipe whose reader is gone (`simdformer ... | head`): Unix tools end quietly then. */
export function isClosedPipe(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === "EPIPE";
}

/**
 * Runs the CLI on argv (without node and script) and returns the exit code: 0 ok, 1 failure,
 * 2 usage. A write failing with EPIPE (stdout closed by its reader) ends the run with 0 and no message.
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const p = painter(useColor(io.stdout, io.env));
  let a: CliArgs;
  try {
    a = parseCli(argv);
  } catch (e) {
    io.stderr.write(`${painter(useColor(io.stderr, io.env)).red("error")}: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  try {
    if (a.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    if (a.version) {
      io.stdout.write(`${io.version}\n`);
      return 0;
    }
    if (a.command === "bench") return await bench(a, io);
    if (a.command === "quantize") return await quantize(a, io, p);
    const rt = await createRuntime({ threads: a.threads, simd: a.simd });
    try {
      if (a.command === "info") return await info(rt, a, io);
      if (a.command === "generate") return await generate(rt, a, io);
      if (a.command === "embed" || a.command === "rerank" || a.command === "classify") return await encodeCommand(rt, a, io, p);
      return await translate(rt, a, io, p);
    } finally {
      rt.dispose();
    }
  } catch (e) {
    if (isClosedPipe(e)) return 0;
    const known = e instanceof SimdformerError;
    io.stderr.write(`${painter(useColor(io.stderr, io.env)).red("error")}: ${known ? `${e.name}: ${e.message}` : (e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

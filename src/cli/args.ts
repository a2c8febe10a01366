import { parseArgs } from "node:util";
import { ArgumentError } from "../errors.js";

/** Commands of the `simdformer` CLI. */
export const COMMANDS = ["translate", "generate", "bench", "info", "quantize", "embed", "rerank", "classify"] as const;
export type Command = (typeof COMMANDS)[number];

/** Parsed and validated command line. */
export interface CliArgs {
  command: Command;
  /** Positional text (the sentences to translate, the prompt, the bench filter, or quantize's in and out files). */
  text: string[];
  model?: string;
  /** A tokenizer file (tokenizer.bin of llama2.c, or a tokenizer.json) under any name, for --model. */
  tokenizer?: string;
  threads: "auto" | number;
  simd: "auto" | "strict" | "relaxed" | "scalar";
  /** New tokens at most (the prompt not counted). */
  maxTokens?: number;
  /** Prompt plus new tokens at most (llama2.c's -n). */
  maxPositions?: number;
  /** Ids that end a generation instead of the model format's. */
  stop?: number[];
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  beam: number;
  json: boolean;
  attention?: string;
  attentionLayer?: number;
  attentionHead?: number;
  /** embed / rerank / classify: one JSON object per line instead of one document (--json). */
  jsonl: boolean;
  /** embed / rerank / classify: read the texts (passages) from this file, one a line. */
  file?: string;
  /** embed: pooling instead of the model folder's. */
  pooling?: "mean" | "cls" | "last";
  /** embed: unit-length vectors (true) or not (false) instead of the folder's choice. */
  normalize?: boolean;
  /** embed / rerank / classify: cut inputs longer than the model takes instead of failing. */
  truncate: boolean;
  batchSize?: number;
  /** quantize: the block type (default q8_0). */
  quantType: "q8_0" | "q4_0";
  help: boolean;
  version: boolean;
}

export const USAGE = `Usage: simdformer [command] [options] [text...]

Commands:
  translate [text...]   translate English to Chinese with the embedded model (default command;
                        with no text, translates the demo sentences)
  generate <prompt>     continue a prompt with a decoder-only model (--model)
  bench [filter]        time the kernels on this machine (filter: kernel name substring)
  info                  print the runtime's features and the model's config
  quantize <in> <out>   store a .safetensors model's linear weights as q8_0 / q4_0 blocks (--type)
  embed [texts...]      sentence vectors with an encoder folder (--model); texts from the arguments,
                        --file (one a line, progress bar on a TTY) or stdin lines
  rerank <query> [passages...]  order passages by a cross-encoder's score (--model)
  classify [texts...]   labels with scores from a sequence classifier (--model)

Options:
  --model PATH          model file or folder (.safetensors, HF folder with config.json, .gguf,
                        llama2.c .bin + tokenizer.bin); default: the embedded translator
  --tokenizer PATH      the model's tokenizer file when it is not tokenizer.bin / tokenizer.json
                        beside the model (a llama2.c tokenizer .bin or a tokenizer.json)
  --threads N|auto      worker threads (default auto)
  --simd auto|strict|relaxed|scalar   instruction set (default auto)
  --max-tokens N        new tokens at most (the prompt not counted)
  --max-positions N     prompt + new tokens at most (llama2.c's -n; with --max-tokens the
                        smaller limit wins)
  --stop ID[,ID...]     token ids that end generation (default: the model format's: llama2.c
                        BOS and EOS, GGUF eos/eot/eom, HF generation_config.json eos_token_id)
  --temperature T       0 = greedy (default 0)
  --top-k K             sample from the K most likely tokens
  --top-p P             nucleus sampling, 0 < P <= 1
  --seed S              sampling seed (default 0)
  --beam N              beam search width for translation (default 1 = greedy)
  --json                machine-readable output, one JSON object per line (embed / rerank /
                        classify: one JSON document)
  --jsonl               embed / rerank / classify: one JSON object per text
  --file PATH           embed / rerank / classify: texts from a file, one a line
  --pooling mean|cls|last   embed: pooling (default: the folder's 1_Pooling, else mean)
  --normalize, --no-normalize   embed: unit-length vectors or not (default: the folder's)
  --truncate            cut texts longer than the model takes (default: an error)
  --batch-size N        texts per forward pass (default 32)
  --attention FILE      write an SVG heatmap of the decoder's cross-attention
  --attention-layer N   layer for --attention (default: average of all)
  --attention-head H    head for --attention (default: all heads + average)
  --type q8_0|q4_0      quantize: block type (default q8_0)
  -h, --help            this text
  -v, --version         the package version
`;

function intArg(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min || n > max) throw new ArgumentError(`--${name}: expected an integer ${min}..${max}, found "${v}"`);
  return n;
}

function numArg(name: string, v: string | undefined, min: number, max: number, openMin = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n > max || (openMin ? n <= min : n < min)) {
    throw new ArgumentError(`--${name}: expected a number ${openMin ? ">" : ">="} ${min} and <= ${max}, found "${v}"`);
  }
  return n;
}

/** Parses argv (without node and script); bad flags or values throw ArgumentError. */
export function parseCli(argv: string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: "string" },
        threads: { type: "string" },
        simd: { type: "string" },
        "max-tokens": { type: "string" },
        "max-positions": { type: "string" },
        stop: { type: "string" },
        tokenizer: { type: "string" },
        temperature: { type: "string" },
        "top-k": { type: "string" },
        "top-p": { type: "string" },
        seed: { type: "string" },
        beam: { type: "string" },
        json: { type: "boolean" },
        attention: { type: "string" },
        "attention-layer": { type: "string" },
        "attention-head": { type: "string" },
        type: { type: "string" },
        jsonl: { type: "boolean" },
        file: { type: "string" },
        pooling: { type: "string" },
        normalize: { type: "boolean" },
        "no-normalize": { type: "boolean" },
        truncate: { type: "boolean" },
        "batch-size": { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    });
  } catch (e) {
    throw new ArgumentError((e as Error).message);
  }
  const { values: o, positionals } = parsed;
  let command: Command = "translate";
  let text = positionals;
  if (positionals.length > 0 && (COMMANDS as readonly string[]).includes(positionals[0])) {
    command = positionals[0] as Command;
    text = positionals.slice(1);
  }
  if (command === "generate" && text.length === 0 && !o.help) throw new ArgumentError("generate: expected a prompt, found none");
  if (command === "quantize" && text.length !== 2 && !o.help) {
    throw new ArgumentError(`quantize: expected <in.safetensors> <out.safetensors>, found ${text.length} path${text.length === 1 ? "" : "s"}`);
  }
  const encoding = command === "embed" || command === "rerank" || command === "classify";
  if (encoding && o.model === undefined && !o.help) throw new ArgumentError(`${command}: expected --model DIR (a Hugging Face encoder folder), found none`);
  if (command === "rerank" && text.length === 0 && !o.help) throw new ArgumentError("rerank: expected a query, found none");
  if (o.pooling !== undefined && !["mean", "cls", "last"].includes(o.pooling)) throw new ArgumentError(`--pooling: expected mean|cls|last, found "${o.pooling}"`);
  if (o.normalize && o["no-normalize"]) throw new ArgumentError("--normalize and --no-normalize: expected one of them, found both");
  if (o.json && o.jsonl) throw new ArgumentError("--json and --jsonl: expected one of them, found both");
  const quantType = o.type ?? "q8_0";
  if (quantType !== "q8_0" && quantType !== "q4_0") throw new ArgumentError(`--type: expected q8_0|q4_0, found "${quantType}"`);
  const simd = o.simd ?? "auto";
  if (!["auto", "strict", "relaxed", "scalar"].includes(simd)) {
    throw new ArgumentError(`--simd: expected auto|strict|relaxed|scalar, found "${simd}"`);
  }
  if (o.tokenizer !== undefined && o.model === undefined && !o.help) throw new ArgumentError("--tokenizer: expected --model PATH too (the embedded model has its tokenizers), found none");
  const stop = o.stop === undefined ? undefined : o.stop.split(",").map((v) => intArg("stop", v.trim(), 0, 2 ** 31 - 1)!);
  const threads = o.threads === undefined || o.threads === "auto" ? "auto" : intArg("threads", o.threads, 1, 256)!;
  return {
    command,
    text,
    model: o.model,
    tokenizer: o.tokenizer,
    threads,
    simd: simd as CliArgs["simd"],
    maxTokens: intArg("max-tokens", o["max-tokens"], 1, 1 << 20),
    maxPositions: intArg("max-positions", o["max-positions"], 2, 1 << 20),
    stop,
    temperature: numArg("temperature", o.temperature, 0, 100) ?? 0,
    topK: intArg("top-k", o["top-k"], 1, 1 << 24),
    topP: numArg("top-p", o["top-p"], 0, 1, true),
    seed: intArg("seed", o.seed, 0, 2 ** 32 - 1) ?? 0,
    beam: intArg("beam", o.beam, 1, 64) ?? 1,
    json: o.json ?? false,
    attention: o.attention,
    attentionLayer: intArg("attention-layer", o["attention-layer"], 0, 1024),
    attentionHead: intArg("attention-head", o["attention-head"], 0, 1024),
    jsonl: o.jsonl ?? false,
    file: o.file,
    pooling: o.pooling as CliArgs["pooling"],
    normalize: o.normalize ? true : o["no-normalize"] ? false : undefined,
    truncate: o.truncate ?? false,
    batchSize: intArg("batch-size", o["batch-size"], 1, 1 << 16),
    quantType,
    help: o.help ?? false,
    version: o.version ?? false,
  };
}

import { parseArgs } from "node:util";
import { ArgumentError } from "../errors.js";

/** Commands of the `simdformer` CLI. */
export const COMMANDS = ["translate", "generate", "bench", "info", "quantize"] as const;
export type Command = (typeof COMMANDS)[number];

/** Parsed and validated command line. */
export interface CliArgs {
  command: Command;
  /** Positional text (the sentences to translate, the prompt, the bench filter, or quantize's in and out files). */
  text: string[];
  model?: string;
  threads: "auto" | number;
  simd: "auto" | "strict" | "relaxed" | "scalar";
  maxTokens?: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  beam: number;
  json: boolean;
  attention?: string;
  attentionLayer?: number;
  attentionHead?: number;
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

Options:
  --model PATH          model file or folder (.safetensors, HF folder with config.json, .gguf,
                        llama2.c .bin + tokenizer.bin); default: the embedded translator
  --threads N|auto      worker threads (default auto)
  --simd auto|strict|relaxed|scalar   instruction set (default auto)
  --max-tokens N        maximum new tokens
  --temperature T       0 = greedy (default 0)
  --top-k K             sample from the K most likely tokens
  --top-p P             nucleus sampling, 0 < P <= 1
  --seed S              sampling seed (default 0)
  --beam N              beam search width for translation (default 1 = greedy)
  --json                machine-readable output, one JSON object per line
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
  if (!Number.isInteger(n) || n < min || n > max) throw new ArgumentError(`--${name}: expected an integer ${min}..${max}, found "${v}"`);
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
  const quantType = o.type ?? "q8_0";
  if (quantType !== "q8_0" && quantType !== "q4_0") throw new ArgumentError(`--type: expected q8_0|q4_0, found "${quantType}"`);
  const simd = o.simd ?? "auto";
  if (!["auto", "strict", "relaxed", "scalar"].includes(simd)) {
    throw new ArgumentError(`--simd: expected auto|strict|relaxed|scalar, found "${simd}"`);
  }
  const threads = o.threads === undefined || o.threads === "auto" ? "auto" : intArg("threads", o.threads, 1, 256)!;
  return {
    command,
    text,
    model: o.model,
    threads,
    simd: simd as CliArgs["simd"],
    maxTokens: intArg("max-tokens", o["max-tokens"], 1, 1 << 20),
    temperature: numArg("temperature", o.temperature, 0, 100) ?? 0,
    topK: intArg("top-k", o["top-k"], 1, 1 << 24),
    topP: numArg("top-p", o["top-p"], 0, 1, true),
    seed: intArg("seed", o.seed, 0, 2 ** 32 - 1) ?? 0,
    beam: intArg("beam", o.beam, 1, 64) ?? 1,
    json: o.json ?? false,
    attention: o.attention,
    attentionLayer: intArg("attention-layer", o["attention-layer"], 0, 1024),
    attentionHead: intArg("attention-head", o["attention-head"], 0, 1024),
    quantType,
    help: o.help ?? false,
    version: o.version ?? false,
  };
}

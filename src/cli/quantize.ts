// `simdformer quantize <in.safetensors> <out.safetensors> --type q8_0|q4_0`: stores a model's
// linear weights as Q8_0 / Q4_0 blocks (see formats/safetensors.ts), everything else as it was.
import { readFile, writeFile } from "node:fs/promises";
import { ArgumentError, ModelFormatError } from "../errors.js";
import { type Block32Type, QUANT_BLOCK_VALUES, quantizeMatrix } from "../tensor/quant_blocks.js";
import { parseSafetensors, writeSafetensors } from "../formats/safetensors.js";
import { parseConfig } from "../config/config.js";
import { linearWeightNames } from "../model/weights.js";
import { ProgressBar } from "./term.js";

/** What one conversion did. */
export interface QuantizeReport {
  inputBytes: number;
  outputBytes: number;
  /** Tensors stored quantized, and the linear weights left in float (in features not a multiple of 32). */
  quantized: string[];
  skipped: string[];
}

interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown; isTTY?: boolean; columns?: number };
}

/**
 * Converts the safetensors model at `input` (config in `__metadata__`, as loadSafetensors reads it)
 * to `type` and writes `output`. Linear weights [out, in] with `in` a multiple of 32 become
 * blocks; embeddings, norms, tied output tables, biases and Conv1D weights stay as they were
 * (F16 if every kept tensor was F16, else F32). Returns what was done.
 */
export async function quantizeFile(input: string, output: string, type: Block32Type, io: Io): Promise<QuantizeReport> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(input));
  } catch (e) {
    throw new ArgumentError(`quantize: expected a readable input file, found ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} for "${input}"`);
  }
  const file = parseSafetensors(bytes, input);
  const key = file.metadata["simdformer.config"] !== undefined ? "simdformer.config" : "config";
  const text = file.metadata[key];
  if (text === undefined) throw new ModelFormatError(input, '__metadata__["simdformer.config"]', "a config JSON string", "missing");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(input, `__metadata__["${key}"]`, "valid JSON", (e as Error).message);
  }
  const config = parseConfig(json, `${input} config`);
  const linear = new Set(linearWeightNames(config, file));
  const quantized: string[] = [];
  const skipped: string[] = [];
  const kept = [...file.tensors.values()].filter((t) => !linear.has(t.name) || t.shape[1] % QUANT_BLOCK_VALUES !== 0);
  const floatDtype = kept.length > 0 && kept.every((t) => t.dtype === "F16") ? "F16" : "F32";
  const out: Parameters<typeof writeSafetensors>[0] = {};
  const bar = new ProgressBar(io.stderr, `quantizing to ${type}`);
  let done = 0;
  for (const t of file.tensors.values()) {
    bar.update(done++ / file.tensors.size, t.name);
    const shape = [...t.shape];
    if (!linear.has(t.name)) {
      out[t.name] = { shape, data: file.read(t.name) };
    } else if (t.shape[1] % QUANT_BLOCK_VALUES !== 0) {
      skipped.push(t.name);
      out[t.name] = { shape, data: file.read(t.name) };
    } else {
      quantized.push(t.name);
      out[t.name] = { shape, quantized: quantizeMatrix(type, file.read(t.name), t.shape[0], t.shape[1]) };
    }
  }
  bar.update(1);
  bar.done();
  const result = writeSafetensors(out, { ...file.metadata }, floatDtype);
  await writeFile(output, result);
  return { inputBytes: bytes.byteLength, outputBytes: result.byteLength, quantized, skipped };
}

/** Human-readable sizes for the report. */
export function formatBytes(n: number): string {
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

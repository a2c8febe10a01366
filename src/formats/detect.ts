// One entry for every model format: look at the bytes (magic, structure) and the file names,
// and hand the right module the files. See openModel.
import { ModelFormatError } from "../errors.js";
import type { ModelConfig } from "../config/config.js";
import { isGguf } from "./gguf.js";
import { openGguf } from "./gguf_model.js";
import { openHf } from "./hf.js";
import { isLlama2c, openLlama2c } from "./llama2c.js";
import { parseSafetensors, type SafetensorsFile } from "./safetensors.js";
import { type OpenedModel, simdformerConfig } from "./source.js";

/** Several files of one model (a Hugging Face directory, a llama2.c checkpoint + tokenizer.bin), by file name. */
export interface ModelFiles {
  files: Record<string, Uint8Array>;
  /** The file holding the weights; found by name when absent. */
  main?: string;
  /** The name errors give a file stored under another key (a tokenizer of any name, kept as tokenizer.json or tokenizer.bin). */
  labels?: Readonly<Record<string, string>>;
}

/** True when the bytes are shaped like safetensors: a u64 header length inside the file, then "{". */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(bytes.byteLength - 8) && bytes[8] === 0x7b;
}

/** Options of {@link openSafetensors}. */
export interface SafetensorsOptions {
  /** Name of the source in error messages; default "<bytes>". */
  file?: string;
  /** Config to use instead of the JSON in the file's `__metadata__` ("simdformer.config", or "config"). */
  config?: unknown;
}

/**
 * Opens a simdformer safetensors file (bytes, or already parsed): its config from
 * `__metadata__["simdformer.config"]` (or "config", or `opts.config`), its tensors and metadata.
 * A file without a config is a ModelFormatError.
 */
export function openSafetensors(source: Uint8Array | SafetensorsFile, opts: SafetensorsOptions = {}): OpenedModel {
  const st = source instanceof Uint8Array ? parseSafetensors(source, opts.file ?? "<bytes>") : source;
  const config = simdformerConfig(st.file, st.metadata, opts.config);
  if (!config) throw new ModelFormatError(st.file, '__metadata__["simdformer.config"]', "a config JSON string", "missing");
  return simdformerModel(st, config);
}

function simdformerModel(st: SafetensorsFile, config: ModelConfig): OpenedModel {
  return { format: "simdformer", file: st.file, config, tensors: st, metadata: { ...st.metadata } };
}

/** Picks the weights file of a file set by name. */
export function mainFile(files: Readonly<Record<string, unknown>>): string | undefined {
  const names = Object.keys(files);
  return (
    names.find((n) => n.endsWith("model.safetensors.index.json")) ??
    names.find((n) => n.endsWith(".gguf")) ??
    names.find((n) => n.endsWith(".safetensors")) ??
    names.find((n) => n.endsWith(".bin") && !n.endsWith("tokenizer.bin")) ??
    (names.length === 1 ? names[0] : undefined)
  );
}

/**
 * Opens a model from its bytes or its files, whatever the format:
 * - GGUF ("GGUF" magic): llama metadata, F32/F16/BF16/Q8_0/Q4_0 tensors, tokenizer in the metadata;
 * - safetensors with a config in `__metadata__` (simdformer's own files);
 * - safetensors with a Hugging Face config.json among the files (GPT-2, Llama, BERT), sharded
 *   through model.safetensors.index.json or not, tokenizer.json when present;
 * - llama2.c checkpoints (a sane 7-int32 header and the exact size it implies), with tokenizer.bin when present.
 * Anything else is a ModelFormatError saying what was expected.
 */
export function openModel(source: Uint8Array | ModelFiles, file = "<bytes>"): OpenedModel {
  const files = source instanceof Uint8Array ? { [file]: source } : source.files;
  const main = source instanceof Uint8Array ? file : (source.main ?? mainFile(files));
  const labels = source instanceof Uint8Array ? undefined : source.labels;
  if (main === undefined || !files[main]) {
    throw new ModelFormatError(file, "files", "a weights file (.safetensors, model.safetensors.index.json, .gguf or a llama2.c .bin)", JSON.stringify(Object.keys(files)));
  }
  const bytes = files[main];
  if (main.endsWith("model.safetensors.index.json")) return openHf(files, main, labels);
  if (isGguf(bytes)) return openGguf(bytes, main);
  if (looksLikeSafetensors(bytes)) {
    const st = parseSafetensors(bytes, main);
    const own = simdformerConfig(st.file, st.metadata);
    if (own) return simdformerModel(st, own);
    if (!files["config.json"]) {
      throw new ModelFormatError(main, "config", '__metadata__["simdformer.config"] or a Hugging Face config.json given with the file', "neither");
    }
    return openHf({ ...files, [main]: bytes }, main, labels);
  }
  if (isLlama2c(bytes)) {
    const tok = files["tokenizer.bin"];
    return openLlama2c(bytes, main, tok ? { bytes: tok, file: labels?.["tokenizer.bin"] ?? "tokenizer.bin" } : undefined);
  }
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new ModelFormatError(main, "format", 'GGUF ("GGUF" magic), safetensors (u64 header length + JSON) or a llama2.c checkpoint (7 int32 header matching the file size)', `${bytes.byteLength} bytes starting ${head || "(empty)"}`);
}

// Reading a model from a path on hosts with a file system (Node, Deno, Bun): a directory
// (Hugging Face layout) or a file with its companions (config.json, tokenizer.json, tokenizer.bin).
import { ArgumentError, ModelFormatError } from "../errors.js";
import { type ByteSource, FileSource, ProgressCounter } from "./byte_source.js";
import type { ModelFiles } from "./detect.js";
import { parseJson } from "./hf.js";
import { poolingConfigPath } from "./hf_encoders.js";
import type { Companions } from "./streamed.js";

/** Files read beside a weights file when present (modules.json: a sentence-transformers folder). */
const COMPANIONS = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.bin", "modules.json"];

/** The weights file of a model at a path, opened for streaming, and what comes with it. */
export interface ModelPath {
  /** The weights file, or model.safetensors.index.json of a sharded checkpoint. */
  main: ByteSource;
  companions: Companions;
}

/**
 * Opens the model at `path`: a directory's weights (model.safetensors.index.json, whose shards
 * open on demand, else a .safetensors, .gguf or llama2.c .bin) and companions, or a file and
 * the companions in its directory. The weights are not read here; the companions (small) are.
 * `tokenizer` names a tokenizer file of any name: it is read as tokenizer.json when it holds
 * JSON, else as a llama2.c tokenizer.bin, in place of the companion of that name.
 * Node's fs is imported on use, so other hosts never load it. Reads count in `counter`.
 */
export async function openModelPath(path: string, counter: ProgressCounter, options: { tokenizer?: string } = {}): Promise<ModelPath> {
  const fs = await import("node:fs/promises");
  const p = await import("node:path");
  const open = async (f: string) => (await FileSource.open(f, p.basename(f))).countIn(counter);
  const read = async (f: string) => {
    const src = await open(f);
    try {
      return await src.rest();
    } finally {
      await src.close();
    }
  };
  let stat;
  try {
    stat = await fs.stat(path);
  } catch (e) {
    throw new ArgumentError(`${path}: expected a readable file, found ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
  const dir = stat.isDirectory() ? path : p.dirname(path);
  const present = new Set(await fs.readdir(dir));
  let main: string;
  if (stat.isDirectory()) {
    const names = [...present].sort();
    const found = present.has("model.safetensors.index.json") ? "model.safetensors.index.json" :
      names.find((n) => n === "model.safetensors") ?? names.find((n) => n.endsWith(".safetensors")) ??
      names.find((n) => n.endsWith(".gguf")) ?? names.find((n) => n.endsWith(".bin") && n !== "tokenizer.bin");
    if (!found) throw new ArgumentError(`${path}: expected a directory with model.safetensors(.index.json), a .gguf or a llama2.c .bin, found ${JSON.stringify(names)}`);
    main = p.join(dir, found);
  } else {
    main = path;
  }
  const files: Record<string, Uint8Array> = {};
  const labels: Record<string, string> = {};
  for (const c of COMPANIONS) if (c !== p.basename(main) && present.has(c)) files[c] = await read(p.join(dir, c));
  if (options.tokenizer !== undefined) {
    const bytes = await read(options.tokenizer);
    const as = isJsonObject(bytes) ? "tokenizer.json" : "tokenizer.bin";
    files[as] = bytes;
    labels[as] = options.tokenizer;
  }
  // sentence-transformers: the Pooling module's config, where modules.json points.
  const pooling = files["modules.json"] ? poolingConfigPath(parseJson(files["modules.json"], "modules.json")) : undefined;
  if (pooling && present.has(pooling.split("/")[0])) files[pooling] = await read(p.join(dir, pooling));
  const openShard = async (shard: string) => {
    if (!present.has(shard) || shard.includes("/") || shard.includes("\\")) {
      throw new ModelFormatError(p.basename(main), `shard "${shard}"`, `a file in ${dir}`, "none");
    }
    return open(p.join(dir, shard));
  };
  return { main: await open(main), companions: { files, labels, openShard } };
}

/**
 * The files of the model at `path`, every one read whole (openModelPath's files: the weights,
 * a sharded checkpoint's shards, the companions), for the loaders that take bytes
 * (`loadEncoder`, the CLI's --tokenizer).
 */
export async function readModelPath(path: string, options: { tokenizer?: string } = {}): Promise<ModelFiles> {
  const { main, companions } = await openModelPath(path, new ProgressCounter({}), options);
  const files: Record<string, Uint8Array> = { ...companions.files };
  const readAll = async (src: ByteSource) => {
    try {
      return await src.rest();
    } finally {
      await src.close();
    }
  };
  files[main.name] = await readAll(main);
  if (main.name === "model.safetensors.index.json") {
    const map = (parseJson(files[main.name], main.name) as { weight_map?: Record<string, unknown> } | null)?.weight_map ?? {};
    for (const shard of new Set(Object.values(map))) {
      if (typeof shard === "string" && !(shard in files)) {
        try {
          files[shard] = await readAll(await companions.openShard!(shard));
        } catch (e) {
          // A shard that is not there is the loader's error to report (it names the tensor).
          if (!(e instanceof ModelFormatError)) throw e;
        }
      }
    }
  }
  return { files, main: main.name, labels: companions.labels };
}

/** True when the bytes are a JSON object (a tokenizer.json; a llama2.c tokenizer.bin is binary). */
function isJsonObject(bytes: Uint8Array): boolean {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

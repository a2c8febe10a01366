// Reading a model from a path on hosts with a file system (Node, Deno, Bun): a directory
// (Hugging Face layout) or a file with its companions (config.json, tokenizer.json, tokenizer.bin).
import { ArgumentError, ModelFormatError } from "../errors.js";
import { type ByteSource, FileSource, type ProgressCounter } from "./byte_source.js";
import type { Companions } from "./streamed.js";

/** Files read beside a weights file when present. */
const COMPANIONS = ["config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.bin"];

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
 * Node's fs is imported on use, so other hosts never load it. Reads count in `counter`.
 */
export async function openModelPath(path: string, counter: ProgressCounter): Promise<ModelPath> {
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
  for (const c of COMPANIONS) if (c !== p.basename(main) && present.has(c)) files[c] = await read(p.join(dir, c));
  const openShard = async (shard: string) => {
    if (!present.has(shard) || shard.includes("/") || shard.includes("\\")) {
      throw new ModelFormatError(p.basename(main), `shard "${shard}"`, `a file in ${dir}`, "none");
    }
    return open(p.join(dir, shard));
  };
  return { main: await open(main), companions: { files, openShard } };
}

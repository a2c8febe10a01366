// Reading a model from a path on hosts with a file system (Node, Deno, Bun): a directory
// (Hugging Face layout) or a file with its companions (config.json, tokenizer.json, tokenizer.bin).
import { ArgumentError } from "../errors.js";
import type { ModelFiles } from "./detect.js";
import { parseJson } from "./hf.js";
import { poolingConfigPath } from "./hf_encoders.js";

/** Files read beside a weights file when present (modules.json: a sentence-transformers folder). */
const COMPANIONS = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.bin", "modules.json"];

/**
 * The files of the model at `path`: a directory's weights (model.safetensors.index.json and its
 * shards, else a .safetensors, .gguf or llama2.c .bin) and companions, or a file and the
 * companions in its directory. Node's fs is imported on use, so other hosts never load it.
 * `tokenizer` names a tokenizer file of any name: it is read as tokenizer.json when it holds
 * JSON, else as a llama2.c tokenizer.bin, in place of the companion of that name.
 */
export async function readModelPath(path: string, options: { tokenizer?: string } = {}): Promise<ModelFiles> {
  const fs = await import("node:fs/promises");
  const p = await import("node:path");
  const read = async (f: string) => {
    try {
      const b = await fs.readFile(f);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // a view: copying a large model costs more than reading it
    } catch (e) {
      throw new ArgumentError(`${f}: expected a readable file, found ${(e as { code?: string }).code ?? (e as Error).message}`);
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
  const files: Record<string, Uint8Array> = {};
  let main: string | undefined;
  if (stat.isDirectory()) {
    const names = [...present].sort();
    if (present.has("model.safetensors.index.json")) {
      main = "model.safetensors.index.json";
      files[main] = await read(p.join(dir, main));
      const map = (parseJson(files[main], main) as { weight_map?: Record<string, unknown> } | null)?.weight_map ?? {};
      for (const shard of new Set(Object.values(map))) {
        if (typeof shard === "string" && present.has(shard)) files[shard] = await read(p.join(dir, shard));
      }
    } else {
      main = names.find((n) => n === "model.safetensors") ?? names.find((n) => n.endsWith(".safetensors")) ??
        names.find((n) => n.endsWith(".gguf")) ?? names.find((n) => n.endsWith(".bin") && n !== "tokenizer.bin");
      if (!main) throw new ArgumentError(`${path}: expected a directory with model.safetensors(.index.json), a .gguf or a llama2.c .bin, found ${JSON.stringify(names)}`);
      files[main] = await read(p.join(dir, main));
    }
  } else {
    main = p.basename(path);
    files[main] = await read(path);
  }
  for (const c of COMPANIONS) if (c !== main && present.has(c)) files[c] = await read(p.join(dir, c));
  if (options.tokenizer !== undefined) {
    const bytes = await read(options.tokenizer);
    files[isJsonObject(bytes) ? "tokenizer.json" : "tokenizer.bin"] = bytes;
  }
  // sentence-transformers: the Pooling module's config, where modules.json points.
  const pooling = files["modules.json"] ? poolingConfigPath(parseJson(files["modules.json"], "modules.json")) : undefined;
  if (pooling && present.has(pooling.split("/")[0])) files[pooling] = await read(p.join(dir, pooling));
  return { files, main };
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

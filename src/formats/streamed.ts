// A model file read as a stream: the header first (config, tokenizer, every tensor's dtype,
// shape and byte range), then the loader reads the tensors in file order straight into their
// place in memory. Nothing here holds the file: a header is read from the source's first bytes.
import { ModelFormatError } from "../errors.js";
import type { ModelConfig } from "../config/config.js";
import type { ByteSource } from "./byte_source.js";
import { type GgufFile, GgufPrefixTooShort, type GgufTensorType, isGguf, parseGguf } from "./gguf.js";
import { ggufConfig, ggufName, ggufStopIds, ggufTokenizer } from "./gguf_model.js";
import { hfConfig, hfStopIds, HfTokenizer, parseJson } from "./hf.js";
import { encoderTensors } from "./hf_encoders.js";
import { isLlama2c, LLAMA2C_STOP_IDS, llama2cConfig, llama2cFileSize, llama2cSpans, parseLlama2cHeader, parseLlama2cTokenizer } from "./llama2c.js";
import { parseSafetensorsHeader, safetensorsHeaderLength, type SafetensorsDtype } from "./safetensors.js";
import { checkShapes, type FormatTokenizer, llamaTensors, simdformerConfig } from "./source.js";
import type { TensorSource } from "../config/tensor_source.js";

/** How a tensor is stored: safetensors' and GGUF's dtypes (llama2.c is F32). */
export type StoredDtype = SafetensorsDtype | GgufTensorType;

/** One tensor of a streamed file. */
export interface StoredTensor {
  /** Our scheme's name (src/model/weights.ts). */
  readonly name: string;
  /** The file's own name, for errors. */
  readonly fileName: string;
  readonly dtype: StoredDtype;
  /** Torch order ([out, in] for a linear weight). */
  readonly shape: readonly number[];
  /** Absolute byte range in its file. */
  readonly begin: number;
  readonly end: number;
}

/** One file of a streamed model: its source and the tensors it holds, in file order. */
export interface StreamedFile {
  readonly source: ByteSource;
  readonly tensors: readonly StoredTensor[];
  /** Where the file ends (its size when known, else the end of the last tensor or the format's expected size). */
  readonly end: number;
}

/** A model whose header has been read; its tensors are still in the sources. */
export interface StreamedModel {
  readonly format: "simdformer" | "hf" | "gguf" | "llama2c";
  readonly file: string;
  readonly config: ModelConfig;
  readonly metadata: Record<string, string>;
  /** The files to read (one, or a sharded checkpoint's shards). */
  readonly files: readonly StreamedFile[];
  readonly tokenizer?: FormatTokenizer;
  readonly tokenizerError?: ModelFormatError;
  /** Token ids that end a text, as the format says (TextModel.stop). */
  readonly stopIds?: readonly number[];
  /** How the model's names reach the file's (Hugging Face encoders' renames); the file's names as they are when absent. */
  readonly view?: (tensors: TensorSource) => TensorSource;
}

/** How the other files of a model are reached: small companions by name as bytes, shards opened on demand. */
export interface Companions {
  files: Readonly<Record<string, Uint8Array>>;
  /** The name errors give a companion stored under another key (see ModelFiles.labels). */
  labels?: Readonly<Record<string, string>>;
  /** Opens a shard named by model.safetensors.index.json; undefined when the model came as one file. */
  openShard?: (name: string) => Promise<ByteSource>;
}

/** The largest header read from a stream (GGUF metadata with a big vocabulary is a few MiB). */
const MAX_HEADER = 256 * 1024 * 1024;

const inFileOrder = (a: StoredTensor, b: StoredTensor) => a.begin - b.begin;

/** A safetensors header read from the source: tensors under the file's names. */
async function safetensorsHeader(src: ByteSource): Promise<{ metadata: Record<string, string>; tensors: StoredTensor[]; end: number }> {
  const len = safetensorsHeaderLength(await src.peek(8), src.size, src.name);
  const head = await src.take(8 + len);
  const h = parseSafetensorsHeader(head.subarray(8), src.size, src.name);
  const tensors = h.tensors.map((t) => ({ name: t.name, fileName: t.name, dtype: t.dtype, shape: t.shape, begin: t.begin, end: t.end }));
  return { metadata: h.metadata, tensors, end: tensors.length ? tensors[tensors.length - 1].end : 8 + len };
}

/** A GGUF header read from the source, growing the prefix until the tensor infos are whole. */
async function ggufHeader(src: ByteSource): Promise<GgufFile> {
  let want = 1 << 20;
  for (;;) {
    const prefix = await src.peek(want);
    try {
      return parseGguf(prefix, src.name, src.size ?? Number.MAX_SAFE_INTEGER);
    } catch (e) {
      if (!(e instanceof GgufPrefixTooShort)) throw e;
      if (prefix.byteLength < want) throw new ModelFormatError(src.name, "header", `${e.needed} bytes`, `a file of ${prefix.byteLength} bytes`);
      if (e.needed > MAX_HEADER) throw new ModelFormatError(src.name, "header", `at most ${MAX_HEADER} bytes`, `${e.needed} bytes`);
      want = Math.max(2 * want, e.needed);
    }
  }
}

/** Keeps the tensors our scheme reads, renamed: `names` maps the file's names to ours. */
function renamed(tensors: readonly StoredTensor[], names: ReadonlyMap<string, string>): StoredTensor[] {
  const out: StoredTensor[] = [];
  for (const t of tensors) {
    const n = names.get(t.fileName);
    if (n !== undefined) out.push({ ...t, name: n });
  }
  return out;
}

async function openGgufStream(src: ByteSource): Promise<StreamedModel> {
  const g = await ggufHeader(src);
  const config = ggufConfig(g);
  const expected = llamaTensors(config, { qkv: g.has("blk.0.attn_qkv.weight"), gateUp: !g.has("blk.0.ffn_gate.weight") && config.activation !== "gelu_tanh" });
  const names = new Map<string, string>();
  for (const [hf] of expected) names.set(ggufName(hf, config)!, hf);
  checkShapes(src.name, g, expected.map(([hf, shape]) => [ggufName(hf, config)!, shape] as const));
  const all = [...g.tensors.values()].map((t) => ({ name: t.name, fileName: t.name, dtype: t.type, shape: t.shape, begin: t.begin, end: t.end })).sort(inFileOrder);
  const tensors = renamed(all, names);
  const base = {
    format: "gguf" as const, file: src.name, config, metadata: {}, stopIds: ggufStopIds(g, config),
    files: [{ source: src, tensors, end: all.length ? all[all.length - 1].end : src.position }],
  };
  try {
    return { ...base, tokenizer: ggufTokenizer(g, config) };
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw e;
    return { ...base, tokenizerError: e };
  }
}

async function openLlama2cStream(src: ByteSource, head: Uint8Array, companions: Companions): Promise<StreamedModel> {
  const h = parseLlama2cHeader(head, src.name, src.size ?? null);
  const config = llama2cConfig(h, src.name);
  const tensors = llama2cSpans(h).map((s) => ({ name: s.name, fileName: s.name, dtype: "F32" as const, shape: s.shape, begin: s.begin, end: s.begin + 4 * s.size }));
  const tok = companions.files["tokenizer.bin"];
  return {
    format: "llama2c", file: src.name, config, metadata: {}, stopIds: LLAMA2C_STOP_IDS, files: [{ source: src, tensors, end: llama2cFileSize(h) }],
    tokenizer: tok ? parseLlama2cTokenizer(tok, h.vocabSize, companions.labels?.["tokenizer.bin"] ?? "tokenizer.bin") : undefined,
  };
}

/** What a Hugging Face checkpoint's companions say: config, stop ids, tokenizer and (encoders) the names' view, as openHf reads them. */
function hfParts(file: string, { files, labels }: Companions) {
  const configBytes = files["config.json"];
  if (!configBytes) throw new ModelFormatError(file, "config.json", "a Hugging Face config.json beside the safetensors", "none");
  const json = parseJson(configBytes, "config.json") as Record<string, unknown>;
  const config = hfConfig(json);
  const generation = files["generation_config.json"] ? parseJson(files["generation_config.json"], "generation_config.json") : undefined;
  if (generation !== undefined && (typeof generation !== "object" || generation === null || Array.isArray(generation))) {
    throw new ModelFormatError("generation_config.json", "contents", "a JSON object", JSON.stringify(generation));
  }
  return {
    format: "hf" as const, config, metadata: {}, tokenizer: hfTokenizer(files, labels?.["tokenizer.json"] ?? "tokenizer.json"), stopIds: hfStopIds(json, generation, config.vocab_size),
    view: config.arch === "encoder" ? (t: TensorSource) => encoderTensors(json, t) : undefined,
  };
}

function hfTokenizer(files: Readonly<Record<string, Uint8Array>>, name: string): FormatTokenizer | undefined {
  if (!files["tokenizer.json"]) return undefined;
  const tc = files["tokenizer_config.json"] ? parseJson(files["tokenizer_config.json"], "tokenizer_config.json") : {};
  return new HfTokenizer(parseJson(files["tokenizer.json"], name), tc, name);
}

/** A sharded Hugging Face checkpoint: the index's weight_map, then each shard's header. */
async function openShardsStream(indexFile: string, index: Uint8Array, companions: Companions): Promise<StreamedModel> {
  const parts = hfParts(indexFile, companions);
  const map = (parseJson(index, indexFile) as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map)) {
    throw new ModelFormatError(indexFile, "weight_map", "an object {tensor name: shard file}", JSON.stringify(map) ?? "missing");
  }
  const shards = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== "string") throw new ModelFormatError(indexFile, `weight_map "${name}"`, "a shard file name", JSON.stringify(shard));
    shards.set(shard, [...(shards.get(shard) ?? []), name]);
  }
  if (!companions.openShard) throw new ModelFormatError(indexFile, "shards", "the shard files with the index", "the index alone");
  const files: StreamedFile[] = [];
  try {
    for (const [shard, names] of shards) {
      const src = await companions.openShard(shard);
      files.push({ source: src, tensors: [], end: 0 });
      const h = await safetensorsHeader(src);
      const listed = new Set(names);
      for (const n of names) {
        if (!h.tensors.some((t) => t.fileName === n)) throw new ModelFormatError(shard, `tensor "${n}"`, `present (listed in ${indexFile})`, "missing");
      }
      files[files.length - 1] = { source: src, tensors: h.tensors.filter((t) => listed.has(t.fileName)), end: h.end };
    }
  } catch (e) {
    for (const f of files) await f.source.close();
    throw e;
  }
  return { ...parts, file: indexFile, files };
}

/** A u64 header length that fits the file (or a stream's bound), then "{". */
function looksLikeSafetensorsHead(head: Uint8Array, size: number | undefined): boolean {
  if (head.byteLength < 10 || head[8] !== 0x7b) return false;
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(size === undefined ? MAX_HEADER : size - 8);
}

/**
 * Reads the header of the model whose main file is `src` (format told from its first bytes and
 * name, as openModel does) and returns the config, tokenizer and tensors to stream. `config`
 * replaces a simdformer safetensors' own. The sources stay open: the loader reads and closes them.
 */
export async function openStreamed(src: ByteSource, companions: Companions, config?: unknown): Promise<StreamedModel> {
  const head = await src.peek(256);
  if (src.name.endsWith("model.safetensors.index.json")) return openShardsStream(src.name, await src.rest(), companions);
  if (isGguf(head)) return openGgufStream(src);
  if (looksLikeSafetensorsHead(head, src.size)) {
    const st = await safetensorsHeader(src);
    const own = simdformerConfig(src.name, st.metadata, config);
    const file = { source: src, tensors: st.tensors, end: st.end };
    if (own) return { format: "simdformer", file: src.name, config: own, metadata: { ...st.metadata }, files: [file] };
    if (!companions.files["config.json"]) throw new ModelFormatError(src.name, "config", '__metadata__["simdformer.config"] or a Hugging Face config.json given with the file', "neither");
    return { ...hfParts(src.name, companions), file: src.name, files: [file] };
  }
  if (isLlama2c(head, src.size ?? null)) return openLlama2cStream(src, head, companions);
  const hex = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new ModelFormatError(src.name, "format", 'GGUF ("GGUF" magic), safetensors (u64 header length + JSON) or a llama2.c checkpoint (7 int32 header matching the file size)', `${src.size ?? "?"} bytes starting ${hex || "(empty)"}`);
}

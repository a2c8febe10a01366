import { ArgumentError, ModelFormatError } from "./errors.js";
import { kindOf, optionsObject } from "./util/options.js";
import { mainFile, type ModelFiles, openModel } from "./formats/detect.js";
import { type ByteInput, type ByteSource, hasFileSystem, isByteInput, MemorySource, openSource, ProgressCounter, type ReadControl } from "./formats/byte_source.js";
import { openModelPath, readModelPath } from "./formats/files.js";
import { type Companions, openStreamed, type StreamedModel } from "./formats/streamed.js";
import { loadStreamed } from "./load/streamed_load.js";
import { TextModel, type TextModelOptions } from "./generate/text.js";
import { Encoder } from "./encode/encoder.js";
import { HfTokenizer, parseJson } from "./formats/hf.js";
import { classifierHead, sentencePooling } from "./formats/hf_encoders.js";
import { Model } from "./model/model.js";
import type { KernelExports } from "./kernels/exports.js";
import { defaultModelUrl } from "./engine/assets.js";
import { Engine, type EngineOptions, type RuntimeFeatures } from "./engine/engine.js";

/** Options of {@link createRuntime}. */
export type RuntimeOptions = EngineOptions;

/**
 * What {@link Runtime.loadModel} accepts: the bytes of a model file, several files by name
 * (a Hugging Face directory's config.json + model.safetensors + tokenizer.json, a llama2.c
 * checkpoint + tokenizer.bin), a path (file or directory, where there is a file system), a URL,
 * a fetch Response, a ReadableStream of the file's bytes, or a Blob / File.
 */
export type ModelSource = ByteInput | ModelFiles | ModelBlobs;

/**
 * A model's files by name where some are Blobs / Files (a folder picked or dropped in a page):
 * {@link Runtime.loadModel} streams the weights file and shards from their Blobs and reads the
 * small companions (config.json, tokenizer.json ...) whole.
 */
export interface ModelBlobs {
  files: Record<string, Uint8Array | Blob>;
  /** The file holding the weights; found by name when absent. */
  main?: string;
}

/** Options of {@link Runtime.loadModel}: the model's ({@link TextModelOptions}) and the read's. */
export interface LoadModelOptions extends TextModelOptions, ReadControl {}

/**
 * A loaded simdformer runtime: one wasm build, its memory and (where allowed) its threads.
 * Create with {@link createRuntime}; call dispose() when done.
 */
export class Runtime {
  /** @internal */
  constructor(readonly engine: Engine) {}

  /** The build chosen, threads, and why better options were not taken. */
  get features(): RuntimeFeatures {
    return this.engine.features;
  }

  /** The raw kernels (pointers are byte offsets into this runtime's memory). */
  get kernels(): KernelExports {
    return this.engine.exports;
  }

  /**
   * Loads a model with its tokenizers. With no source, the embedded default model: the
   * English -> Chinese translator trained by tools/translator (hosts without module URLs,
   * such as workerd, pass its bytes instead). Otherwise the format is detected (see
   * openModel in src/formats/detect.ts): simdformer safetensors, Hugging Face safetensors +
   * config.json (GPT-2, Llama), GGUF, llama2.c. A model whose files carry no tokenizer needs
   * `options.tokenizer`. Generation stops where the format says a text ends (TextModel.stop):
   * llama2.c BOS and EOS, GGUF eos/eot/eom ids, generation_config.json's eos_token_id list.
   *
   * @example
   * const tm = await rt.loadModel();
   * console.log((await tm.translate("i like deep learning")).text);   // 我喜欢深度学习
   */
  async loadModel(source?: ModelSource, opts?: LoadModelOptions): Promise<TextModel> {
    this.engine.assertLive();
    const options = optionsObject("loadModel", opts);
    if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
      throw new ArgumentError(`loadModel: onProgress: expected a function, found ${kindOf(options.onProgress)}`);
    }
    if (options.signal !== undefined && !(typeof options.signal === "object" && options.signal !== null && "aborted" in options.signal)) {
      throw new ArgumentError(`loadModel: signal: expected an AbortSignal, found ${kindOf(options.signal)}`);
    }
    const counter = new ProgressCounter({ onProgress: options.onProgress, signal: options.signal });
    let main: ByteSource;
    let companions: Companions = { files: {} };
    if (source === undefined) {
      if (!defaultModelUrl) {
        throw new ArgumentError("loadModel: this host gives modules no URL (e.g. workerd): expected the model's bytes, found none");
      }
      main = await openSource(defaultModelUrl, { signal: options.signal }, options.file ?? "translator.safetensors");
    } else if (typeof source === "string" && hasFileSystem() && !/^[a-z][a-z0-9+.-]+:/i.test(source)) {
      ({ main, companions } = await openModelPath(source, counter)); // a file with its companions, or a directory
    } else if (isModelFiles(source)) {
      ({ main, companions } = await filesSources(source, options.file));
    } else if (isByteInput(source)) {
      main = await openSource(source, { signal: options.signal }, options.file);
    } else {
      throw new ArgumentError(`loadModel: expected bytes, a Blob, a Response, a ReadableStream, { files }, a path or a URL, found ${Object.prototype.toString.call(source)}`);
    }
    main.countIn(counter);
    let streamed: StreamedModel;
    try {
      streamed = await openStreamed(main, companions, options.config);
    } catch (e) {
      await main.close();
      throw e;
    }
    // The tokenizer is settled before a tensor is read.
    const own = streamed.format === "simdformer";
    const tokenizer = options.tokenizer ?? streamed.tokenizer;
    if (!own && !tokenizer) {
      for (const f of streamed.files) await f.source.close();
      if (streamed.tokenizerError) throw streamed.tokenizerError;
      throw new ModelFormatError(streamed.file, "tokenizer", "tokenizer.json, tokenizer.bin or GGUF tokenizer metadata with the model (a tokenizer file of another name: --tokenizer PATH in the CLI; options.tokenizer in loadModel)", "none");
    }
    const model = await loadStreamed(this, streamed);
    try {
      return TextModel.fromModel(model, { tgt: tokenizer, src: options.srcTokenizer, stop: streamed.stopIds }, streamed.file);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /**
   * Loads a sentence encoder from a Hugging Face folder (a path, a URL of its main file, or
   * `{ files }` by name): config.json with model_type "bert", "roberta", "xlm-roberta",
   * "camembert" or "distilbert", model.safetensors, tokenizer.json, and optionally the
   * sentence-transformers modules.json + 1_Pooling/config.json. A checkpoint with a
   * sequence-classification head (BertForSequenceClassification and kin) also reranks (one logit)
   * or classifies (id2label).
   *
   * @example
   * const enc = await rt.loadEncoder("./all-MiniLM-L6-v2");
   * const { vectors } = await enc.embed(["a cat sat", "a dog ran"]);
   */
  async loadEncoder(source: ModelSource, opts?: { file?: string }): Promise<Encoder> {
    this.engine.assertLive();
    const options = optionsObject("loadEncoder", opts, ["file"]);
    const { bytes, file } = await readSource("loadEncoder", source, options.file);
    const opened = openModel(bytes, file ?? "<bytes>");
    if (opened.format !== "hf" || opened.config.arch !== "encoder" || !opened.hfConfig) {
      throw new ModelFormatError(opened.file, "format", "a Hugging Face encoder folder (config.json model_type bert, roberta, xlm-roberta, camembert or distilbert)", `${opened.format} ${opened.config.arch}`);
    }
    if (!(opened.tokenizer instanceof HfTokenizer)) {
      throw new ModelFormatError(opened.file, "tokenizer.json", "a tokenizer.json beside the model", "none");
    }
    const files = bytes instanceof Uint8Array ? {} : bytes.files;
    const pooling = sentencePooling(files, parseJson);
    const head = classifierHead(opened.hfConfig, opened.tensors, opened.config.d_model);
    const model = Model.fromTensors(this, opened.config, opened.tensors, opened.metadata);
    return new Encoder(model, opened.tokenizer, pooling, head, opened.file);
  }

  /** Stops worker threads and releases the runtime. Further calls throw DisposedError. */
  dispose(): void {
    this.engine.dispose();
  }
}

/**
 * Detects the host, picks and instantiates the best wasm build (or the one forced by
 * options) and sets up memory and, where the host allows, worker threads.
 *
 * @example
 * const rt = await createRuntime({ threads: "auto" });
 * console.log(rt.features.build);   // e.g. "relaxed-shared"
 * rt.dispose();
 */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return new Runtime(await Engine.create(options));
}

/** A { files } object (several files of one model by name, as bytes or Blobs). */
function isModelFiles(source: ModelSource): source is ModelFiles | ModelBlobs {
  return typeof source === "object" && source !== null && !(source instanceof Uint8Array) && !ArrayBuffer.isView(source) &&
    typeof (source as ModelFiles).files === "object" && (source as ModelFiles).files !== null;
}

const isBlob = (x: unknown): x is Blob => typeof Blob !== "undefined" && x instanceof Blob;

/** One file of a { files } object as a source: bytes in memory, or a Blob streamed. */
async function fileSource(file: Uint8Array | Blob, name: string): Promise<ByteSource> {
  return file instanceof Uint8Array ? new MemorySource(file, name) : openSource(file, {}, name);
}

/**
 * The sources of a { files } object: its weights file (named, or found by name) and the rest as
 * companions; Blob companions are read whole, except shards, which are streamed when opened.
 */
async function filesSources(source: ModelFiles | ModelBlobs, name: string | undefined): Promise<{ main: ByteSource; companions: Companions }> {
  const given: Record<string, Uint8Array | Blob> = source.files;
  const main = source.main ?? mainFile(given);
  const isFile = (x: unknown): x is Uint8Array | Blob => x instanceof Uint8Array || isBlob(x);
  if (main === undefined || !isFile(given[main])) {
    throw new ModelFormatError(name ?? "<files>", "files", "a weights file (.safetensors, model.safetensors.index.json, .gguf or a llama2.c .bin)", JSON.stringify(Object.keys(given)));
  }
  const files: Record<string, Uint8Array> = {};
  for (const [n, f] of Object.entries(given)) {
    if (f instanceof Uint8Array) files[n] = f;
    else if (isBlob(f) && n !== main && !n.endsWith(".safetensors")) files[n] = new Uint8Array(await f.arrayBuffer());
  }
  const openShard = async (shard: string) => {
    if (!isFile(given[shard])) throw new ModelFormatError(main, "weight_map", `the shard "${shard}" among the files`, `files ${JSON.stringify(Object.keys(given))}`);
    return fileSource(given[shard], shard);
  };
  return { main: await fileSource(given[main], main), companions: { files, labels: "labels" in source ? source.labels : undefined, openShard } };
}

/** The bytes or files of a model source (see {@link ModelSource}), read whole, with the name to report. */
async function readSource(where: string, source: ModelSource, file?: string): Promise<{ bytes: Uint8Array | ModelFiles; file?: string }> {
  if (isModelFiles(source)) {
    const files: Record<string, Uint8Array> = {};
    for (const [n, f] of Object.entries(source.files)) files[n] = isBlob(f) ? new Uint8Array(await f.arrayBuffer()) : f;
    return { bytes: { files, main: source.main }, file };
  }
  if (typeof source === "string" && hasFileSystem() && !/^[a-z][a-z0-9+.-]+:/i.test(source)) {
    return { bytes: await readModelPath(source), file: file ?? source }; // a file with its companions, or a directory
  }
  if (!isByteInput(source)) {
    throw new ArgumentError(`${where}: expected bytes, a Blob, a Response, a ReadableStream, { files }, a path or a URL, found ${Object.prototype.toString.call(source)}`);
  }
  const src = await openSource(source, {}, file);
  try {
    return { bytes: await src.rest(), file: file ?? (typeof source === "string" || source instanceof URL ? String(source) : undefined) };
  } finally {
    await src.close();
  }
}

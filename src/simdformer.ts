import { ArgumentError, ModelFormatError } from "./errors.js";
import { kindOf, optionsObject } from "./util/options.js";
import { type ModelFiles, openModel } from "./formats/detect.js";
import { type ByteInput, hasFileSystem, openSource, ProgressCounter, type ReadControl } from "./formats/byte_source.js";
import { readModelPath } from "./formats/files.js";
import type { SafetensorsFile } from "./formats/safetensors.js";
import { TextModel, type TextModelOptions } from "./generate/text.js";
import { Model } from "./model/model.js";
import { kernelsOf } from "./kernels/bindings.js";
import type { KernelExports } from "./kernels/exports.js";
import { defaultModelUrl } from "./runtime/assets.js";
import { Engine, type EngineOptions, type RuntimeFeatures } from "./runtime/engine.js";

/** Options of {@link createRuntime}. */
export type RuntimeOptions = EngineOptions;

/**
 * What {@link Runtime.loadModel} accepts: the bytes of a model file, several files by name
 * (a Hugging Face directory's config.json + model.safetensors + tokenizer.json, a llama2.c
 * checkpoint + tokenizer.bin), a path (file or directory, where there is a file system), a URL,
 * a fetch Response, a ReadableStream of the file's bytes, or a Blob / File.
 */
export type ModelSource = ByteInput | ModelFiles;

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
    return kernelsOf(this.engine);
  }

  /**
   * Loads a model with its tokenizers. With no source, the embedded default model: the
   * English -> Chinese translator trained by tools/translator (hosts without module URLs,
   * such as workerd, pass its bytes instead). Otherwise the format is detected (see
   * openModel in src/formats/detect.ts): simdformer safetensors, Hugging Face safetensors +
   * config.json (GPT-2, Llama), GGUF, llama2.c. A model whose files carry no tokenizer needs
   * `options.tokenizer`.
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
    let bytes: Uint8Array | ModelFiles;
    let file = options.file;
    if (source === undefined) {
      if (!defaultModelUrl) {
        throw new ArgumentError("loadModel: this host gives modules no URL (e.g. workerd): expected the model's bytes, found none");
      }
      bytes = await readWhole(defaultModelUrl, counter, options.signal);
      file ??= "translator.safetensors";
    } else if (typeof source === "string" && hasFileSystem() && !/^[a-z][a-z0-9+.-]+:/i.test(source)) {
      bytes = await readModelPath(source, counter); // a file with its companions, or a directory
      file ??= source;
    } else if (isModelFiles(source)) {
      bytes = source;
    } else {
      bytes = await readWhole(source, counter, options.signal);
      file ??= typeof source === "string" || source instanceof URL ? String(source) : undefined;
    }
    // A config given in the options belongs to a simdformer safetensors (whose own may be absent).
    if (options.config !== undefined && bytes instanceof Uint8Array) return TextModel.load(this, bytes, { ...options, file });
    const opened = openModel(bytes, file ?? "<bytes>");
    if (opened.format === "simdformer") return TextModel.load(this, opened.tensors as SafetensorsFile, { ...options, file: opened.file });
    const tokenizer = options.tokenizer ?? opened.tokenizer;
    if (!tokenizer) {
      if (opened.tokenizerError) throw opened.tokenizerError;
      throw new ModelFormatError(opened.file, "tokenizer", "tokenizer.json, tokenizer.bin or GGUF tokenizer metadata with the model (or options.tokenizer)", "none");
    }
    const model = Model.fromTensors(this, opened.config, opened.tensors, opened.metadata);
    try {
      return TextModel.fromModel(model, { tgt: tokenizer, src: options.srcTokenizer }, opened.file);
    } catch (e) {
      model.dispose();
      throw e;
    }
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

/** A { files } object (several files of one model by name). */
function isModelFiles(source: ModelSource): source is ModelFiles {
  return typeof source === "object" && source !== null && !(source instanceof Uint8Array) && !ArrayBuffer.isView(source) &&
    typeof (source as ModelFiles).files === "object" && (source as ModelFiles).files !== null;
}

/** All bytes of one source (bytes are taken as they are). */
async function readWhole(input: ByteInput, counter: ProgressCounter, signal: AbortSignal | undefined): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  const src = (await openSource(input, { signal })).countIn(counter);
  try {
    return await src.rest();
  } finally {
    await src.close();
  }
}

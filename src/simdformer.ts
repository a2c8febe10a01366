import { ArgumentError, ModelFormatError } from "./errors.js";
import { optionsObject } from "./util/options.js";
import { type ModelFiles, openModel } from "./formats/detect.js";
import { readModelPath } from "./formats/files.js";
import type { SafetensorsFile } from "./formats/safetensors.js";
import { TextModel, type TextModelOptions } from "./generate/text.js";
import { Encoder } from "./encode/encoder.js";
import { HfTokenizer, parseJson } from "./formats/hf.js";
import { classifierHead, sentencePooling } from "./formats/hf_encoders.js";
import { Model } from "./model/model.js";
import { kernelsOf } from "./kernels/bindings.js";
import type { KernelExports } from "./kernels/exports.js";
import { defaultModelUrl } from "./runtime/assets.js";
import { Engine, type EngineOptions, type RuntimeFeatures } from "./runtime/engine.js";
import { readBytes } from "./runtime/loader.js";

/** Options of {@link createRuntime}. */
export type RuntimeOptions = EngineOptions;

/**
 * What {@link Runtime.loadModel} accepts: the bytes of a model file, several files by name
 * (a Hugging Face directory's config.json + model.safetensors + tokenizer.json, a llama2.c
 * checkpoint + tokenizer.bin), or a path (file or directory, where there is a file system) or URL.
 */
export type ModelSource = Uint8Array | ArrayBuffer | string | URL | ModelFiles;

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
   * `options.tokenizer`. Generation stops where the format says a text ends (TextModel.stop):
   * llama2.c BOS and EOS, GGUF eos/eot/eom ids, generation_config.json's eos_token_id list.
   *
   * @example
   * const tm = await rt.loadModel();
   * console.log((await tm.translate("i like deep learning")).text);   // 我喜欢深度学习
   */
  async loadModel(source?: ModelSource, opts?: TextModelOptions): Promise<TextModel> {
    this.engine.assertLive();
    const options = optionsObject("loadModel", opts);
    let bytes: Uint8Array | ModelFiles;
    let file = options.file;
    if (source === undefined) {
      if (!defaultModelUrl) {
        throw new ArgumentError("loadModel: this host gives modules no URL (e.g. workerd): expected the model's bytes, found none");
      }
      bytes = await readBytes(defaultModelUrl);
      file ??= "translator.safetensors";
    } else {
      ({ bytes, file } = await readSource("loadModel", source, file));
    }
    // A config given in the options belongs to a simdformer safetensors (whose own may be absent).
    if (options.config !== undefined && bytes instanceof Uint8Array) return TextModel.load(this, bytes, { ...options, file });
    const opened = openModel(bytes, file ?? "<bytes>");
    if (opened.format === "simdformer") return TextModel.load(this, opened.tensors as SafetensorsFile, { ...options, file: opened.file });
    const tokenizer = options.tokenizer ?? opened.tokenizer;
    if (!tokenizer) {
      if (opened.tokenizerError) throw opened.tokenizerError;
      throw new ModelFormatError(opened.file, "tokenizer", "tokenizer.json, tokenizer.bin or GGUF tokenizer metadata with the model (a tokenizer file of another name: --tokenizer PATH in the CLI; options.tokenizer in loadModel)", "none");
    }
    const model = Model.fromTensors(this, opened.config, opened.tensors, opened.metadata);
    try {
      return TextModel.fromModel(model, { tgt: tokenizer, src: options.srcTokenizer, stop: opened.stopIds }, opened.file);
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

/** The bytes or files of a model source (see {@link ModelSource}), with the name to report. */
async function readSource(where: string, source: ModelSource, file?: string): Promise<{ bytes: Uint8Array | ModelFiles; file?: string }> {
  if (source instanceof Uint8Array) return { bytes: source, file };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), file };
  if (typeof source === "string" && hasFileSystem() && !/^[a-z][a-z0-9+.-]+:/i.test(source)) {
    return { bytes: await readModelPath(source), file: file ?? source }; // a file with its companions, or a directory
  }
  if (typeof source === "string" || source instanceof URL) return { bytes: await readBytes(source), file: file ?? String(source) };
  if (typeof source === "object" && source !== null && typeof (source as ModelFiles).files === "object" && (source as ModelFiles).files !== null) {
    return { bytes: source as ModelFiles, file };
  }
  throw new ArgumentError(`${where}: expected bytes, { files }, a path or a URL, found ${Object.prototype.toString.call(source)}`);
}

/** Node, Deno and Bun read paths with node:fs; browsers and isolates take URLs. */
function hasFileSystem(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === "string";
}

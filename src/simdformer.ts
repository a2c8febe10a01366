import { ArgumentError } from "./errors.js";
import { TextModel, type TextModelOptions } from "./generate/text.js";
import { kernelsOf } from "./kernels/bindings.js";
import type { KernelExports } from "./kernels/exports.js";
import { defaultModelUrl } from "./runtime/assets.js";
import { Engine, type EngineOptions, type RuntimeFeatures } from "./runtime/engine.js";
import { readBytes } from "./runtime/loader.js";

/** Options of {@link createRuntime}. */
export type RuntimeOptions = EngineOptions;

/** What {@link Runtime.loadModel} accepts: the bytes of a model file, or its path or URL. */
export type ModelSource = Uint8Array | ArrayBuffer | string | URL;

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
   * such as workerd, pass its bytes instead).
   *
   * @example
   * const tm = await rt.loadModel();
   * console.log((await tm.translate("i like deep learning")).text);   // 我喜欢深度学习
   */
  async loadModel(source?: ModelSource, options: TextModelOptions = {}): Promise<TextModel> {
    this.engine.assertLive();
    let bytes: Uint8Array;
    let file = options.file;
    if (source === undefined) {
      if (!defaultModelUrl) {
        throw new ArgumentError("loadModel: this host gives modules no URL (e.g. workerd): expected the model's bytes, found none");
      }
      bytes = await readBytes(defaultModelUrl);
      file ??= "translator.safetensors";
    } else if (source instanceof Uint8Array) bytes = source;
    else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
    else if (typeof source === "string" || source instanceof URL) {
      bytes = await readBytes(source);
      file ??= String(source);
    } else {
      throw new ArgumentError(`loadModel: expected bytes, a path or a URL, found ${Object.prototype.toString.call(source)}`);
    }
    return TextModel.load(this, bytes, { ...options, file });
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

// A Model from the bytes of a simdformer safetensors file, in one call: the format reader gives
// the config and tensors, the model packs them (the runtime's loadModel streams instead).
import { openSafetensors, type SafetensorsOptions } from "../formats/detect.js";
import type { SafetensorsFile } from "../formats/safetensors.js";
import { type HasEngine, Model } from "../model/model.js";

/** Options of {@link loadSafetensors}. */
export type LoadOptions = SafetensorsOptions;

/**
 * Loads a simdformer safetensors model (bytes, or a parsed file) whose config JSON is in
 * `__metadata__["simdformer.config"]` (or given in options) into `runtime`. Errors are typed:
 * ModelFormatError for the file or its config, OutOfMemoryError before any tensor is uploaded.
 *
 * @example
 * const model = await loadSafetensors(rt, bytes, { file: "gpt2.safetensors" });
 * const { logits } = await model.forward({ tokens: [[5, 6, 7]] });
 */
export async function loadSafetensors(runtime: HasEngine, bytes: Uint8Array | SafetensorsFile, opts: LoadOptions = {}): Promise<Model> {
  const opened = openSafetensors(bytes, opts);
  return Model.fromTensors(runtime, opened.config, opened.tensors, opened.metadata);
}

// Public entry of the simdformer package.
export { createRuntime, Runtime, type RuntimeOptions, type ModelSource, type ModelBlobs, type LoadModelOptions } from "./runtime.js";
export type { LoadProgress, ReadControl } from "./formats/byte_source.js";
export type { RuntimeFeatures } from "./engine/engine.js";
export type { BuildName, SimdChoice } from "./engine/builds.js";
export type { WasmSource } from "./engine/loader.js";
export type { HostFeatures } from "./engine/features.js";
export type { KernelExports } from "./kernels/exports.js";
export {
  Model,
  DecodeState,
  type ForwardInput,
  type ForwardResult,
  type StartOptions,
  type StepOptions,
  type TokenSequence,
  type PaddingMask,
  type AttentionCapture,
  type AttentionEvent,
  type AttentionMaps,
} from "./model/model.js";
export { loadSafetensors, type LoadOptions } from "./load/safetensors_load.js";
export { parseConfig, type ModelConfig } from "./config/config.js";
export { KvCache, type KvCacheOptions } from "./model/kv_cache.js";
export type { TensorSource } from "./config/tensor_source.js";
export { parseSafetensors, writeSafetensors, SafetensorsFile, type TensorInfo } from "./formats/safetensors.js";
export { openModel, openSafetensors, type ModelFiles, type SafetensorsOptions } from "./formats/detect.js";
export type { OpenedModel, FormatTokenizer } from "./formats/source.js";
export { parseGguf, GgufFile, type GgufValue, type GgufTensorInfo, type GgufTensorType } from "./formats/gguf.js";
export { openGguf, ggufConfig, ggufTokenizer } from "./formats/gguf_model.js";
export { openLlama2c, parseLlama2cHeader, parseLlama2cTokenizer, type Llama2cHeader } from "./formats/llama2c.js";
export { openHf, hfConfig, HfTokenizer } from "./formats/hf.js";
export { Gpt2BpeTokenizer, SentencePieceTokenizer, type Gpt2BpeSpec, type SentencePieceSpec } from "./formats/tokenizers/bpe.js";
export { greedy, argmaxRow, type GreedyOptions } from "./generate/greedy.js";
export { Sampler, resolveSampling, type SamplingOptions, type ResolvedSampling } from "./generate/sampler.js";
export {
  generateTokens,
  type GenerateOptions,
  type GenerationInput,
  type GeneratedToken,
  type GenerationStats,
  type StopReason,
  type DecodeControl,
} from "./generate/generate.js";
export { beamSearch, type BeamOptions, type BeamResult, type BeamHypothesis } from "./generate/beam.js";
export { renderAttentionSvg, attentionColor, type AttentionSvgOptions } from "./viz/attention_svg.js";
export type { AttentionScore, ScoreWeights } from "./ops/attention.js";
export {
  Encoder,
  type EncoderKind,
  type EncodeOptions,
  type EmbedOptions,
  type Embeddings,
  type RankedPassage,
  type LabelScore,
  type PairTokenizer,
} from "./encode/encoder.js";
export { cosineSimilarity } from "./encode/pooling.js";
export { type PoolingMode, type SentencePooling, type ClassifierHead } from "./formats/hf_encoders.js";
export { TextModel, type TextModelOptions, type TextOptions, type TextPiece, type Translation, type TextTokenizer } from "./generate/text.js";
export {
  SimdformerError,
  ShapeError,
  ModelFormatError,
  OutOfMemoryError,
  UnsupportedFeatureError,
  ArgumentError,
  DisposedError,
  WorkerError,
  AbortError,
  ReadError,
} from "./errors.js";

// What a format reader hands the model besides the config: the tensors under the names of the
// config's naming scheme (src/model/weights.ts reads them by those names).
import type { QuantizedMatrix, QuantType } from "../tensor/quant_blocks.js";

/** Where tensors come from: a parsed safetensors file, or anything with the same three methods. */
export interface TensorSource {
  /** Name used in errors. */
  readonly file: string;
  has(name: string): boolean;
  /** Shape of a present tensor. */
  shape(name: string): readonly number[];
  /** The tensor as float32. */
  read(name: string): Float32Array;
  /**
   * The tensor's blocks when it is stored quantized (rows x cols = its 2-D shape), else
   * undefined. Asked for linear weights and token tables; absent means nothing is quantized.
   */
  quantized?(name: string): QuantizedMatrix | undefined;
  /** The block type `quantized` would give, without asking for the blocks (a loader's dry run counts what is asked). */
  quantType?(name: string): QuantType | undefined;
  /**
   * Bytes per value of the most compact linear weights stored (4 for float32, less for quantized
   * blocks), known before a tensor is read: a load refuses a model that cannot fit up front.
   */
  linearBytesPerValue?(): number;
}

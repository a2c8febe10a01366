/**
 * Typed errors raised at simdformer's API boundary. Each says what was expected
 * and what came, so callers can branch on the class and humans can read the message.
 */

/** Base class of every error simdformer throws on purpose. */
export class SimdformerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor, shape, index or option does not fit what the operation needs. */
export class ShapeError extends SimdformerError {}

/** A model file or its config is malformed; names the file, the field, expected vs found. */
export class ModelFormatError extends SimdformerError {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`${file}: ${field}: expected ${expected}, found ${found}`);
  }
}

/** A memory region would exceed its limit or the wasm memory maximum. */
export class OutOfMemoryError extends SimdformerError {
  constructor(
    readonly region: string,
    readonly requestedBytes: number,
    readonly availableBytes: number,
  ) {
    super(`out of memory in region '${region}': requested ${requestedBytes} bytes, ${availableBytes} available`);
  }
}

/** The host lacks a feature the caller asked for (e.g. a forced relaxed-SIMD build). */
export class UnsupportedFeatureError extends SimdformerError {}

/** An option or argument has a wrong value (not a shape problem). */
export class ArgumentError extends SimdformerError {}

/** The runtime or model was used after dispose(). */
export class DisposedError extends SimdformerError {}

/** A worker thread failed while running a kernel; the pool is rebuilt on the next call. */
export class WorkerError extends SimdformerError {}

/** Generation was cancelled through an AbortSignal or a timeout. */
export class AbortError extends SimdformerError {}

/** Reading a model's bytes failed (an I/O error, a stream that errored, an HTTP error status); names the source and how far it got. */
export class ReadError extends SimdformerError {
  constructor(
    readonly file: string,
    /** Bytes read before the failure. */
    readonly bytesRead: number,
    readonly cause: unknown,
  ) {
    super(`${file}: reading failed after ${bytesRead} bytes: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

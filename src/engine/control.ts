// The control block shared by the thread pool (calling thread) and its workers: one
// SharedArrayBuffer, separate from the wasm memory so a kernel writing out of bounds of
// its own buffers cannot corrupt dispatch state. Layout, in order:
//   header      HEADER_I32 int32 slots (below)
//   per worker  PER_WORKER_I32 int32 slots: job sequence number and task range
//   error text  ERROR_CHARS uint16 code units: the first failing worker's message
//   arguments   ARG_SLOTS float64 slots: the tasks' arguments, task after task
// Kernel arguments are wasm i32/f32 values, all exactly representable as float64.

/** Set to 1 by dispose(): workers leave their loop. */
export const SHUTDOWN = 0;
/** Index of the kernel in the export-name list given at start. */
export const KERNEL = 1;
/** Arguments per task. */
export const ARGC = 2;
/** Workers still running the current job; the last one to finish notifies. */
export const PENDING = 3;
/** 0, or 1 + index of the first worker whose task threw. */
export const FAILED = 4;
/** Length of the error text in ERROR_CHARS. */
export const ERROR_LEN = 5;
export const HEADER_I32 = 8;

/** Per-worker slots, relative to workerBase(w). */
export const SEQ = 0;
export const LO = 1;
export const HI = 2;
export const PER_WORKER_I32 = 4;

export const ERROR_CHARS = 512;
/** Argument slots per job; longer task lists are run in several jobs. */
export const ARG_SLOTS = 8192;

/** First int32 slot of worker `w` (0-based; the calling thread is not a worker). */
export const workerBase = (w: number): number => HEADER_I32 + w * PER_WORKER_I32;

export interface ControlViews {
  i32: Int32Array;
  err: Uint16Array;
  args: Float64Array;
}

function offsets(workers: number): { err: number; args: number; bytes: number } {
  const err = workerBase(workers) * 4;
  const args = Math.ceil((err + ERROR_CHARS * 2) / 8) * 8;
  return { err, args, bytes: args + ARG_SLOTS * 8 };
}

/** Bytes of the control block for `workers` workers. */
export function controlBytes(workers: number): number {
  return offsets(workers).bytes;
}

/** Typed views over a control block made for `workers` workers. */
export function controlViews(sab: SharedArrayBuffer, workers: number): ControlViews {
  const o = offsets(workers);
  return {
    i32: new Int32Array(sab, 0, o.err / 4),
    err: new Uint16Array(sab, o.err, ERROR_CHARS),
    args: new Float64Array(sab, o.args, ARG_SLOTS),
  };
}

/** What a worker receives at start (Node: workerData; Web Workers: the first message). */
export interface WorkerInit {
  /** Marks the message as ours. */
  simdformer: 1;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  workers: number;
  /** This worker's index, 0-based. */
  index: number;
  /** Export names; the KERNEL slot indexes this list. */
  names: string[];
}

/** What a worker posts back once: ready to take jobs, or why it could not start. */
export type WorkerReply = { type: "ready" } | { type: "error"; message: string };

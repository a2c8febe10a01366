// What a peer library (onnxruntime-web, tfjs-backend-wasm, plain JS) must offer the kernel
// bench: the ops of the comparison, prepared once (weights and inputs created up front),
// then called in the timed loop.

/** One op of the comparison with its inputs (row-major f32). */
export type PeerOp =
  | { op: "matmul"; m: number; k: number; n: number; a: Float32Array; b: Float32Array }
  | { op: "softmax"; rows: number; n: number; x: Float32Array }
  | { op: "layernorm"; rows: number; n: number; x: Float32Array; gamma: Float32Array; beta: Float32Array; eps: number }
  | { op: "rmsnorm"; rows: number; n: number; x: Float32Array; gamma: Float32Array; eps: number }
  | { op: "add"; n: number; a: Float32Array; b: Float32Array }
  | { op: "dot"; n: number; a: Float32Array; b: Float32Array };

export type PeerOpName = PeerOp["op"];

/** An op ready to be timed: everything but the call itself is done. */
export interface PreparedPeerOp {
  /** One call. Async peers (ORT's session.run) return a promise; the bench awaits it. */
  run(): void | Promise<unknown>;
  readonly async: boolean;
  /** The result of one call, to check the peer computes what our kernel computes. */
  output(): Promise<Float32Array>;
  /** What the timed call includes beyond the math (read-back, tensor wrappers ...). */
  readonly note?: string;
  dispose(): void;
}

/** A library we compare against. */
export interface Peer {
  readonly name: string;
  readonly version: string;
  /** How the peer was set up (threads, SIMD, which op variant). */
  readonly notes: string[];
  /** Prepares `op`, or returns null when the peer does not offer it. */
  prepare(op: PeerOp): Promise<PreparedPeerOp | null>;
  dispose(): Promise<void> | void;
}

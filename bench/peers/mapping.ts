// Which peer op a registry kernel is compared with, and how its generated case becomes the
// peer's inputs. A kernel missing here is timed alone. One line per kernel family: a new
// registry entry only needs a line here to get peers.
import type { KernelCase } from "../../src/bench/index.js";
import type { PeerOp } from "./types.js";

/** The first of `names` among the case's inputs (entries name their operands differently). */
function input(c: KernelCase, ...names: string[]): Float32Array {
  for (const n of names) if (c.inputs[n]) return c.inputs[n];
  throw new Error(`peer mapping: expected one of the inputs ${names.join("/")}, found ${Object.keys(c.inputs).join(", ")}`);
}

function param(c: KernelCase, name: string, fallback: number): number {
  return c.params[name] ?? fallback;
}

/**
 * The rows x cols matrix densely packed: registry entries stage some operands with a row
 * stride wider than cols (padding filled with NaN) to test unaligned rows; peers get the
 * plain matrix. The stride is what the buffer length implies.
 */
export function dense(x: Float32Array, rows: number, cols: number): Float32Array {
  if (x.length === rows * cols) return x;
  const ld = x.length / rows;
  if (!Number.isInteger(ld) || ld < cols) throw new Error(`peer mapping: a ${rows} x ${cols} operand of ${x.length} floats has no whole row stride`);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * ld, r * ld + cols), r * cols);
  return out;
}

/** rows x cols (row-major) transposed. */
function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) t[j * rows + r] = x[r * cols + j];
  return t;
}

/** B as K x N, dense: entries stage it as K x N or, with dims.bt, as B^T (a torch Linear weight, N x K), both padded. */
function weightKN(c: KernelCase, k: number, n: number): Float32Array {
  const b = input(c, "b");
  return c.dims.bt ? transpose(dense(b, n, k), n, k) : dense(b, k, n);
}

/** The peers' MatMul has no fused epilogue: cases with bias, activation or accumulation have no peer. */
function plainProduct(c: KernelCase): boolean {
  return !c.dims.bias && !c.dims.act && !c.dims.acc;
}

/** Softmax peers compute softmax(x); a kernel's scale is folded into the peer's input. */
function scaled(x: Float32Array, scale: number): Float32Array {
  return scale === 1 ? x : x.map((v) => v * scale);
}

function rows(c: KernelCase): number {
  return c.dims.rows ?? c.dims.m;
}

/** Kernel name -> the equivalent peer op on the same case, or null for a variant peers lack (masked softmax). */
export const PEER_OPS: Record<string, (c: KernelCase) => PeerOp | null> = {
  f32_add: (c) => ({ op: "add", n: c.dims.n, a: input(c, "a"), b: input(c, "b") }),
  f32_dot: (c) => ({ op: "dot", n: c.dims.n, a: input(c, "a"), b: input(c, "b") }),
  f32_gemm: (c) =>
    plainProduct(c)
      ? { op: "matmul", m: c.dims.m, k: c.dims.k, n: c.dims.n, a: dense(input(c, "a"), c.dims.m, c.dims.k), b: weightKN(c, c.dims.k, c.dims.n) }
      : null,
  f32_gemv: (c) =>
    plainProduct(c) ? { op: "matmul", m: 1, k: c.dims.k, n: c.dims.n, a: dense(input(c, "a"), 1, c.dims.k), b: weightKN(c, c.dims.k, c.dims.n) } : null,
  f32_softmax(c) {
    // Masks and causal limits have no counterpart in the peers' plain softmax.
    if (c.inputs.mask || (c.dims.causal ?? -1) >= 0) return null;
    return { op: "softmax", rows: rows(c), n: c.dims.n, x: scaled(dense(input(c, "x"), rows(c), c.dims.n), param(c, "scale", 1)) };
  },
  f32_layernorm: (c) => ({
    op: "layernorm",
    rows: rows(c),
    n: c.dims.n,
    x: dense(input(c, "x"), rows(c), c.dims.n),
    gamma: input(c, "gamma"),
    // A LayerNorm without bias is one with a zero bias for the peers.
    beta: c.inputs.beta ?? new Float32Array(c.dims.n),
    eps: param(c, "eps", 1e-5),
  }),
  f32_rmsnorm: (c) => ({
    op: "rmsnorm",
    rows: rows(c),
    n: c.dims.n,
    x: dense(input(c, "x"), rows(c), c.dims.n),
    gamma: input(c, "gamma"),
    eps: param(c, "eps", 1e-6),
  }),
};

/** What the peers compute for this kernel, or null when it has no peer. */
export function peerOpFor(name: string, c: KernelCase): PeerOp | null {
  const f = PEER_OPS[name];
  return f ? f(c) : null;
}

/** Rows x columns of the op's result, to compare a kernel's (possibly padded) output with the peers'. */
export function outputShape(op: PeerOp): [number, number] {
  switch (op.op) {
    case "matmul":
      return [op.m, op.n];
    case "softmax":
    case "layernorm":
    case "rmsnorm":
      return [op.rows, op.n];
    case "add":
      return [1, op.n];
    case "dot":
      return [1, 1];
  }
}

/** Kind of a case for the performance targets of DESIGN.md. */
export type TargetKind = "gemm" | "gemv" | "softmax-norm" | "call-overhead" | null;

export function targetKind(op: PeerOp | null): TargetKind {
  if (!op) return null;
  if (op.op === "matmul") return op.m === 1 ? "gemv" : "gemm";
  // The 3x target is about batches of rows (the 128 x 1024, 8x12x128x128, 128 x 768,
  // 128 x 4096); single rows are decode-time calls, and one element measures call overhead.
  if ((op.op === "softmax" || op.op === "layernorm" || op.op === "rmsnorm") && op.rows > 1) return "softmax-norm";
  if (op.op === "add" && op.n === 1) return "call-overhead";
  return null;
}

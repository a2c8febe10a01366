import { ShapeError } from "../errors.js";
import { quantBytes, type QuantizedMatrix } from "../tensor/quant_blocks.js";
import { Linear, type LinearRun, type LinearWeights } from "./linear.js";
import type { Engine } from "../engine/engine.js";
import { f32At } from "../engine/memory.js";
import type { WeightBlocks } from "./weight_blocks.js";

/** What a part's weight is: float, or its block type. Parts of one kind can share one Linear. */
const kindOf = (p: LinearWeights) => (p.weight instanceof Float32Array ? "f32" : p.weight.type);

/**
 * Linears with the same input stacked along the output axis (q;k;v, k;v): one output row holds
 * every part's columns side by side. Neighbouring parts of one kind (float, or blocks of one
 * quantized type) become one Linear, one call; a mixed file (Q4_K_M: q, k in Q4_K, v in Q6_K)
 * keeps each kind's own kernel, writing its column range, instead of widening the mix to float.
 */
export class StackedLinear {
  private constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    /** Each Linear and its first output column. */
    private readonly parts: ReadonlyArray<{ linear: Linear; at: number }>,
  ) {}

  static create(engine: Engine, blocks: WeightBlocks, parts: LinearWeights[]): StackedLinear {
    const k = parts[0].inFeatures;
    const groups: LinearWeights[][] = [];
    for (const p of parts) {
      if (p.inFeatures !== k) throw new ShapeError(`fused projection: expected in features ${k}, found ${p.inFeatures}`);
      const last = groups[groups.length - 1];
      if (last && kindOf(last[0]) === kindOf(p)) last.push(p);
      else groups.push([p]);
    }
    let at = 0;
    const linears = groups.map((g) => {
      const linear = Linear.create(engine, blocks, concat(g));
      const part = { linear, at };
      at += linear.outFeatures;
      return part;
    });
    return new StackedLinear(k, at, linears);
  }

  /** Runs every part into its columns of C; see {@link LinearRun}. */
  async run(r: LinearRun): Promise<void> {
    for (const { linear, at } of this.parts) await linear.run({ ...r, c: f32At(r.c, at) });
  }
}

/**
 * The parts' weights as one view when they lie back to back in one buffer, out x in (a loader
 * placed a fused projection's tensors so: no copy needed). Parts here are all of one kind.
 */
function adjacentView(parts: LinearWeights[], n: number): Float32Array | QuantizedMatrix | undefined {
  const views = parts.map((p) => (p.weight instanceof Float32Array ? p.weight : p.weight.blocks));
  if (parts.some((p) => p.inOut) || views.some((v, i) => i > 0 && (v.buffer !== views[0].buffer || views[i - 1].byteOffset + views[i - 1].byteLength !== v.byteOffset))) return undefined;
  const bytes = views.reduce((a, v) => a + v.byteLength, 0);
  const w0 = parts[0].weight;
  if (w0 instanceof Float32Array) return new Float32Array(w0.buffer, w0.byteOffset, bytes / 4);
  return { type: w0.type, rows: n, cols: parts[0].inFeatures, blocks: new Uint8Array(w0.blocks.buffer, w0.blocks.byteOffset, bytes) };
}

/** One weight of parts that are all float or all blocks of one type (rows are whole blocks). */
function concat(parts: LinearWeights[]): LinearWeights {
  if (parts.length === 1) return parts[0];
  const k = parts[0].inFeatures;
  const n = parts.reduce((a, p) => a + p.outFeatures, 0);
  const q0 = parts[0].weight;
  const adjacent = adjacentView(parts, n);
  if (adjacent) {
    const bias = parts.some((p) => p.bias) ? new Float32Array(n) : undefined;
    let at = 0;
    for (const p of parts) {
      if (p.bias) bias!.set(p.bias, at);
      at += p.outFeatures;
    }
    return { weight: adjacent, bias, inFeatures: k, outFeatures: n };
  }
  if (!(q0 instanceof Float32Array)) {
    const blocks = new Uint8Array(quantBytes(q0.type, n, k));
    const bias = parts.some((p) => p.bias) ? new Float32Array(n) : undefined;
    let at = 0;
    for (const p of parts) {
      blocks.set((p.weight as QuantizedMatrix).blocks, quantBytes(q0.type, at, k));
      if (p.bias) bias!.set(p.bias, at);
      at += p.outFeatures;
    }
    return { weight: { type: q0.type, rows: n, cols: k, blocks }, bias, inFeatures: k, outFeatures: n };
  }
  const weight = new Float32Array(n * k);
  const hasBias = parts.some((p) => p.bias);
  const bias = hasBias ? new Float32Array(n) : undefined;
  let at = 0;
  for (const p of parts) {
    if (p.inOut) {
      const w = p.weight as Float32Array;
      for (let i = 0; i < k; i++) for (let j = 0; j < p.outFeatures; j++) weight[(at + j) * k + i] = w[i * p.outFeatures + j];
    } else {
      weight.set(p.weight as Float32Array, at * k);
    }
    if (p.bias) bias!.set(p.bias, at);
    at += p.outFeatures;
  }
  return { weight, bias, inFeatures: k, outFeatures: n };
}

// The onnxruntime-web peer on an already configured `ort` namespace: one-node ONNX graphs
// per op of the kernel comparison, with the weights as initializers so ORT can pre-pack them
// at session creation exactly as we pack ours once. No host APIs: the Node bench (ort.ts)
// and the browser playground (examples/playground) share it.
import type * as Ort from "onnxruntime-web";
import { encodeOnnxModel, type OnnxGraph } from "./onnx_model.js";
import type { Peer, PeerOp } from "./types.js";

const RUN_NOTE = "session.run(): includes feeding the input tensor and creating the output tensor (ORT's API cannot do less)";

/** The one-node graph computing `op`, its feeds' shapes and the output shape. */
function graphOf(op: PeerOp, rmsVariant: RmsVariant): { graph: OnnxGraph; feeds: Record<string, { data: Float32Array; dims: number[] }> } {
  switch (op.op) {
    case "matmul":
      return {
        graph: {
          opset: 13,
          nodes: [{ op: "MatMul", inputs: ["a", "b"], outputs: ["y"] }],
          inputs: [{ name: "a", dims: [op.m, op.k] }],
          outputs: [{ name: "y", dims: [op.m, op.n] }],
          initializers: [{ name: "b", dims: [op.k, op.n], data: op.b }],
        },
        feeds: { a: { data: op.a, dims: [op.m, op.k] } },
      };
    case "dot":
      return {
        graph: {
          opset: 13,
          nodes: [{ op: "MatMul", inputs: ["a", "b"], outputs: ["y"] }],
          inputs: [{ name: "a", dims: [1, op.n] }],
          outputs: [{ name: "y", dims: [1, 1] }],
          initializers: [{ name: "b", dims: [op.n, 1], data: op.b }],
        },
        feeds: { a: { data: op.a, dims: [1, op.n] } },
      };
    case "add":
      return {
        graph: {
          opset: 13,
          nodes: [{ op: "Add", inputs: ["a", "b"], outputs: ["y"] }],
          inputs: [{ name: "a", dims: [op.n] }, { name: "b", dims: [op.n] }],
          outputs: [{ name: "y", dims: [op.n] }],
          initializers: [],
        },
        feeds: { a: { data: op.a, dims: [op.n] }, b: { data: op.b, dims: [op.n] } },
      };
    case "softmax":
      return {
        graph: {
          opset: 13,
          nodes: [{ op: "Softmax", inputs: ["x"], outputs: ["y"], attrs: { axis: { int: -1 } } }],
          inputs: [{ name: "x", dims: [op.rows, op.n] }],
          outputs: [{ name: "y", dims: [op.rows, op.n] }],
          initializers: [],
        },
        feeds: { x: { data: op.x, dims: [op.rows, op.n] } },
      };
    case "layernorm":
      return {
        graph: {
          opset: 17,
          nodes: [{ op: "LayerNormalization", inputs: ["x", "g", "b"], outputs: ["y"], attrs: { axis: { int: -1 }, epsilon: { float: op.eps } } }],
          inputs: [{ name: "x", dims: [op.rows, op.n] }],
          outputs: [{ name: "y", dims: [op.rows, op.n] }],
          initializers: [
            { name: "g", dims: [op.n], data: op.gamma },
            { name: "b", dims: [op.n], data: op.beta },
          ],
        },
        feeds: { x: { data: op.x, dims: [op.rows, op.n] } },
      };
    case "rmsnorm":
      return { graph: rmsGraph(op, rmsVariant), feeds: { x: { data: op.x, dims: [op.rows, op.n] } } };
  }
}

/** ONNX has RMSNormalization only from opset 23; older ORTs have the fused contrib op or need the decomposition. */
type RmsVariant = "RMSNormalization" | "SimplifiedLayerNormalization" | "decomposed";
const RMS_VARIANTS: RmsVariant[] = ["RMSNormalization", "SimplifiedLayerNormalization", "decomposed"];

function rmsGraph(op: Extract<PeerOp, { op: "rmsnorm" }>, v: RmsVariant): OnnxGraph {
  const io = {
    inputs: [{ name: "x", dims: [op.rows, op.n] }],
    outputs: [{ name: "y", dims: [op.rows, op.n] }],
  };
  const g = { name: "g", dims: [op.n], data: op.gamma };
  if (v !== "decomposed") {
    return {
      ...io,
      opset: v === "RMSNormalization" ? 23 : 17,
      nodes: [{ op: v, inputs: ["x", "g"], outputs: ["y"], attrs: { axis: { int: -1 }, epsilon: { float: op.eps } } }],
      initializers: [g],
    };
  }
  return {
    ...io,
    opset: 17,
    nodes: [
      { op: "Mul", inputs: ["x", "x"], outputs: ["sq"] },
      { op: "ReduceMean", inputs: ["sq"], outputs: ["ms"], attrs: { axes: { ints: [-1] }, keepdims: { int: 1 } } },
      { op: "Add", inputs: ["ms", "eps"], outputs: ["mse"] },
      { op: "Sqrt", inputs: ["mse"], outputs: ["rms"] },
      { op: "Div", inputs: ["x", "rms"], outputs: ["xn"] },
      { op: "Mul", inputs: ["xn", "g"], outputs: ["y"] },
    ],
    initializers: [g, { name: "eps", dims: [1], data: Float32Array.of(op.eps) }],
  };
}

/** The peer on `ort` (env already set: wasm paths, threads); `notes` say how it was set up. */
export function ortPeer(ort: typeof Ort, version: string, notes: string[]): Peer {
  notes.push(RUN_NOTE);
  let rmsNoted = false;
  const sessions: Ort.InferenceSession[] = [];

  const open = async (graph: OnnxGraph) =>
    ort.InferenceSession.create(encodeOnnxModel(graph), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });

  return {
    name: "onnxruntime-web",
    version,
    notes,
    async prepare(op) {
      let session: Ort.InferenceSession | undefined;
      let feedsSpec: Record<string, { data: Float32Array; dims: number[] }> = {};
      for (const v of op.op === "rmsnorm" ? RMS_VARIANTS : (["decomposed"] as RmsVariant[])) {
        const { graph, feeds } = graphOf(op, v);
        try {
          session = await open(graph);
          feedsSpec = feeds;
          if (op.op === "rmsnorm" && !rmsNoted) {
            notes.push(`RMSNorm as ${v === "decomposed" ? "Mul/ReduceMean/Add/Sqrt/Div/Mul" : v}`);
            rmsNoted = true;
          }
          break;
        } catch (e) {
          if (op.op !== "rmsnorm" || v === "decomposed") throw e;
        }
      }
      if (!session) return null;
      sessions.push(session);
      const s = session;
      const feeds: Record<string, Ort.Tensor> = {};
      for (const [name, f] of Object.entries(feedsSpec)) feeds[name] = new ort.Tensor("float32", f.data, f.dims);
      return {
        async: true,
        note: RUN_NOTE,
        run: () => s.run(feeds),
        async output() {
          const out = await s.run(feeds);
          return Float32Array.from(out.y.data as Float32Array);
        },
        dispose() {
          void s.release();
        },
      };
    },
    async dispose() {
      await Promise.all(sessions.map((s) => s.release().catch(() => undefined)));
    },
  };
}

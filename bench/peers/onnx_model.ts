// A minimal ONNX (protobuf) writer: just enough of onnx.proto3 to build one-node f32
// models in memory for the onnxruntime-web peer, so the benchmark needs no Python and
// no committed model files. Field numbers are those of onnx/onnx.proto.

/** Growable protobuf byte writer (wire types 0 varint, 2 length-delimited, 5 fixed32). */
class PbWriter {
  private parts: Uint8Array[] = [];
  private len = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.len += b.length;
  }

  private varint(v: number): void {
    // int64 fields: a negative value (axis -1) is its 64-bit two's complement, 10 bytes.
    let x = v < 0 ? (1n << 64n) + BigInt(v) : BigInt(v);
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: PbWriter): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1; // AttributeProto.AttributeType
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** A graph input or output: name and static shape. */
export interface OnnxValue {
  name: string;
  dims: number[];
}

/** A constant f32 tensor stored in the model (weights). */
export interface OnnxInitializer extends OnnxValue {
  data: Float32Array;
}

/** One node; attributes are int, float or int-list (all this benchmark needs). */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  attrs?: Record<string, { int: number } | { float: number } | { ints: number[] }>;
}

/** A model description for {@link encodeOnnxModel}. */
export interface OnnxGraph {
  nodes: OnnxNode[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  initializers: OnnxInitializer[];
  /** Default-domain opset version. */
  opset: number;
}

function valueInfo(v: OnnxValue): PbWriter {
  const shape = new PbWriter();
  for (const d of v.dims) shape.message(1, new PbWriter().int(1, d)); // Dimension.dim_value
  const tensorType = new PbWriter().int(1, FLOAT).message(2, shape); // TypeProto.Tensor
  return new PbWriter().string(1, v.name).message(2, new PbWriter().message(1, tensorType));
}

function tensor(t: OnnxInitializer): PbWriter {
  const w = new PbWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, FLOAT).string(8, t.name);
  // raw_data is little-endian; every JS host we bench on is little-endian.
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function node(n: OnnxNode, i: number): PbWriter {
  const w = new PbWriter();
  for (const s of n.inputs) w.string(1, s);
  for (const s of n.outputs) w.string(2, s);
  w.string(3, `n${i}`).string(4, n.op);
  if (n.domain) w.string(7, n.domain);
  for (const [name, a] of Object.entries(n.attrs ?? {})) {
    const attr = new PbWriter().string(1, name);
    if ("int" in a) attr.int(3, a.int).int(20, ATTR_INT);
    else if ("ints" in a) {
      for (const v of a.ints) attr.int(8, v);
      attr.int(20, ATTR_INTS);
    } else attr.float(2, a.float).int(20, ATTR_FLOAT);
    w.message(5, attr);
  }
  return w;
}

/** Serializes a one-graph ONNX model (IR version 8) to protobuf bytes. */
export function encodeOnnxModel(g: OnnxGraph): Uint8Array {
  const graph = new PbWriter();
  g.nodes.forEach((n, i) => graph.message(1, node(n, i)));
  graph.string(2, "bench");
  for (const t of g.initializers) graph.message(5, tensor(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  const model = new PbWriter().int(1, 8).string(2, "simdformer-bench");
  model.message(7, graph);
  model.message(8, new PbWriter().string(1, "").int(2, g.opset));
  return model.finish();
}

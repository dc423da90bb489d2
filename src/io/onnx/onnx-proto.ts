/**
 * ONNX messages (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto) as
 * plain objects, and their encoding. Field numbers are those of onnx.proto; only the fields an exported
 * model uses are written.
 */
import { ProtoWriter } from "./protobuf.js";

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

/** IR version 8 goes with opset 17 (ONNX 1.12); every ONNX Runtime since 1.12 reads it. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

export interface OnnxTensor {
  name: string;
  dims: number[];
  /** float32 (FLOAT) or int64 (INT64) values */
  type: typeof ONNX_FLOAT | typeof ONNX_INT64;
  values: ArrayLike<number>;
}

export type OnnxAttribute =
  | { kind: "float"; value: number }
  | { kind: "int"; value: number }
  | { kind: "ints"; value: number[] }
  | { kind: "graph"; value: OnnxGraph };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, OnnxAttribute>;
}

/** A tensor input or output: float32 with named (symbolic) or fixed dimensions. */
export interface OnnxValueInfo {
  name: string;
  dims: Array<number | string>;
  elemType?: number;
  doc?: string;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  producerName: string;
  producerVersion: string;
  doc: string;
  metadata: Record<string, string>;
}

function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter().packedVarints(1, t.dims).varint(2, t.type).string(8, t.name);
  const n = t.values.length;
  const raw = new Uint8Array(n * (t.type === ONNX_FLOAT ? 4 : 8));
  const view = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    if (t.type === ONNX_FLOAT) view.setFloat32(i * 4, t.values[i], true);
    else view.setBigInt64(i * 8, BigInt(t.values[i]), true);
  }
  return w.bytes(9, raw);
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.message(1, typeof d === "number" ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().varint(1, v.elemType ?? ONNX_FLOAT).message(2, shape);
  const w = new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
  if (v.doc) w.string(3, v.doc);
  return w;
}

/** AttributeProto.AttributeType values */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_GRAPH = 5;
const ATTR_INTS = 7;

function encodeAttribute(name: string, a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  switch (a.kind) {
    case "float": return w.float(2, a.value).varint(20, ATTR_FLOAT);
    case "int": return w.varint(3, a.value).varint(20, ATTR_INT);
    case "graph": return w.message(6, encodeGraph(a.value)).varint(20, ATTR_GRAPH);
    case "ints": return w.packedVarints(8, a.value).varint(20, ATTR_INTS);
  }
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [k, a] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(k, a));
  return w;
}

function encodeGraph(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  return w;
}

/** The ModelProto bytes of `model` (IR version ONNX_IR_VERSION, default domain at ONNX_OPSET). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter()
    .varint(1, ONNX_IR_VERSION)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .string(6, model.doc)
    .message(7, encodeGraph(model.graph))
    .message(8, new ProtoWriter().string(1, "").varint(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(model.metadata)) w.message(14, new ProtoWriter().string(1, key).string(2, value));
  return w.finish();
}

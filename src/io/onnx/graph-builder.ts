/**
 * Builds an ONNX graph node by node: each op returns the name of its output, so model code reads as the
 * equations it computes. Weights become float32 initializers (computed here in float64 first).
 */
import { ONNX_FLOAT, ONNX_INT64, type OnnxAttribute, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from "./onnx-proto.js";

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private count = 0;
  /** initializers shared by value (small int64 shapes and scalars), so a graph keeps one of each */
  private readonly shared = new Map<string, string>();

  constructor(private readonly prefix = "") {}

  private fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.count++}`;
  }

  /** A float32 initializer named `name` (kept as given: weights keep their ncps names). */
  weight(name: string, values: ArrayLike<number>, dims: number[]): string {
    this.initializers.push({ name, dims, type: ONNX_FLOAT, values: Array.from(values) });
    return name;
  }

  /** A float32 constant of the given shape (a scalar for dims []). */
  constant(values: number[], dims: number[] = []): string {
    const key = `f${dims.join("x")}:${values.join(",")}`;
    const known = this.shared.get(key);
    if (known) return known;
    const name = this.fresh("const");
    this.initializers.push({ name, dims, type: ONNX_FLOAT, values });
    this.shared.set(key, name);
    return name;
  }

  /** An int64 1-D constant (shapes, axes, slice bounds). */
  ints(values: number[]): string {
    const key = `i:${values.join(",")}`;
    const known = this.shared.get(key);
    if (known) return known;
    const name = this.fresh("ints");
    this.initializers.push({ name, dims: [values.length], type: ONNX_INT64, values });
    this.shared.set(key, name);
    return name;
  }

  /** One node with one output; `output` names it (else a fresh name). */
  op(opType: string, inputs: string[], attributes?: Record<string, OnnxAttribute>, output?: string): string {
    return this.opN(opType, inputs, 1, attributes, output ? [output] : undefined)[0];
  }

  opN(opType: string, inputs: string[], outputs: number, attributes?: Record<string, OnnxAttribute>, names?: string[]): string[] {
    const outs = names ?? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({ opType, inputs, outputs: outs, name: this.fresh(`${opType}_node`), attributes });
    return outs;
  }

  // ---- the ops the models use ----------------------------------------------------------------------
  add(a: string, b: string): string { return this.op("Add", [a, b]); }
  sub(a: string, b: string): string { return this.op("Sub", [a, b]); }
  mul(a: string, b: string): string { return this.op("Mul", [a, b]); }
  div(a: string, b: string): string { return this.op("Div", [a, b]); }
  tanh(a: string): string { return this.op("Tanh", [a]); }
  sigmoid(a: string): string { return this.op("Sigmoid", [a]); }
  /** x W^T + b for a torch Linear weight W (out x in). */
  linear(x: string, w: string, b: string | null): string {
    return this.op("Gemm", b ? [x, w, b] : [x, w], { transB: { kind: "int", value: 1 } });
  }
  concat(parts: string[], axis: number): string {
    return parts.length === 1 ? parts[0] : this.op("Concat", parts, { axis: { kind: "int", value: axis } });
  }
  /** Columns [from, to) of a 2-D tensor. */
  columns(x: string, from: number, to: number): string {
    return this.op("Slice", [x, this.ints([from]), this.ints([to]), this.ints([1])]);
  }
  reshape(x: string, shape: number[]): string {
    return this.op("Reshape", [x, this.ints(shape)]);
  }
  sumOver(x: string, axis: number): string {
    return this.op("ReduceSum", [x, this.ints([axis])], { keepdims: { kind: "int", value: 0 } });
  }
  identity(x: string, output: string): string {
    return this.op("Identity", [x], undefined, output);
  }

  graph(name: string, inputs: OnnxValueInfo[], outputs: OnnxValueInfo[]): OnnxGraph {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs, outputs };
  }
}

/** The small tensor type shared by the whole library: a flat typed array plus a row-major shape. */
export type FloatArray = Float32Array | Float64Array;
export type DType = "float32" | "float64";

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: FloatArray;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

export function arrayFor(dtype: DType, n: number): FloatArray {
  return dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
}

/** Builds a tensor, checking that the data length matches the shape. */
export function tensor(data: ArrayLike<number> | FloatArray, shape: readonly number[], dtype: DType = "float32", name = "tensor"): Tensor {
  const n = numel(shape);
  if (data.length !== n) {
    throw new Error(`${name}: expected ${n} values for shape ${shapeString(shape)}, got ${data.length}`);
  }
  if (dtype === "float64") return { shape: [...shape], data: data instanceof Float64Array ? data : Float64Array.from(data) };
  return { shape: [...shape], data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

export function zeros(shape: readonly number[], dtype: DType = "float32"): Tensor {
  return { shape: [...shape], data: arrayFor(dtype, numel(shape)) };
}

/** Nested JS arrays (e.g. [[1,2],[3,4]]) to a tensor; rejects ragged input with the offending path. */
export function fromNested(values: unknown, dtype: DType = "float32", name = "tensor"): Tensor {
  const shape: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const flat: number[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== "number") throw new Error(`${name}${path}: expected a number, got ${JSON.stringify(v)}`);
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new Error(`${name}${path}: ragged nested array, expected length ${shape[depth]} at depth ${depth}`);
    }
    v.forEach((item, i) => walk(item, depth + 1, `${path}[${i}]`));
  };
  walk(values, 0, "");
  return tensor(flat, shape, dtype, name);
}

export function toNested(t: Tensor): unknown {
  const build = (dim: number, offset: number): unknown => {
    if (dim === t.shape.length) return t.data[offset];
    const stride = numel(t.shape.slice(dim + 1));
    const out: unknown[] = [];
    for (let i = 0; i < t.shape[dim]; i++) out.push(build(dim + 1, offset + i * stride));
    return out;
  };
  return build(0, 0);
}

export function assertShape(t: Tensor, expected: readonly number[], name: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`${name}: expected shape ${shapeString(expected)}, got ${shapeString(t.shape)}`);
  }
}

/** Throws naming the tensor and the first position holding NaN or an infinity. */
export function assertFinite(t: Tensor, name: string): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      const idx: number[] = [];
      let r = i;
      for (let k = t.shape.length - 1; k >= 0; k--) {
        idx.unshift(r % t.shape[k]);
        r = Math.floor(r / t.shape[k]);
      }
      throw new Error(`${name}: non-finite value ${d[i]} at index [${idx.join(", ")}]`);
    }
  }
}

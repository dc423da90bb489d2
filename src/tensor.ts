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

/** Nested arrays of numbers (any depth, rectangular), e.g. [[1, 2], [3, 4]]; the innermost may be typed arrays. */
export type NestedArray = ReadonlyArray<number | NestedArray | ArrayLike<number>>;

/** What functions taking a tensor also accept: a {shape, data} tensor or nested arrays of numbers. */
export type TensorInput = Tensor | { readonly shape: readonly number[]; readonly data: ArrayLike<number> } | NestedArray;

function checkShape(shape: unknown, name: string): readonly number[] {
  if (!Array.isArray(shape)) throw new Error(`${name}: shape must be an array of sizes, got ${JSON.stringify(shape)}`);
  shape.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${name}: shape[${i}] must be a non-negative integer, got ${JSON.stringify(d)} (shape ${JSON.stringify(shape)})`);
  });
  return shape as number[];
}

function isArrayLikeOfNumbers(v: unknown): v is ArrayLike<number> {
  if (ArrayBuffer.isView(v)) return !(v instanceof DataView);
  return Array.isArray(v);
}

function castData(data: ArrayLike<number>, dtype: DType): FloatArray {
  if (dtype === "float64") return data instanceof Float64Array ? data : Float64Array.from(data);
  return data instanceof Float32Array ? data : Float32Array.from(data);
}

/**
 * Builds a tensor, checking that the data length matches the shape: `tensor(data, [2, 3])` with six
 * values, or `tensor([[1, 2, 3], [4, 5, 6]])` (nested arrays: the shape is read from them).
 */
export function tensor(data: ArrayLike<number> | FloatArray | NestedArray, shape?: readonly number[], dtype: DType = "float32", name = "tensor"): Tensor {
  if (shape === undefined) {
    if (!isArrayLikeOfNumbers(data)) throw new Error(`${name}: data must be an array or typed array of numbers, got ${describeValue(data)}`);
    return fromNested(data, dtype, name);
  }
  checkShape(shape, name);
  if (!isArrayLikeOfNumbers(data)) throw new Error(`${name}: data must be an array or typed array of numbers, got ${describeValue(data)}`);
  const n = numel(shape);
  if (data.length !== n) {
    throw new Error(`${name}: expected ${n} values for shape ${shapeString(shape)}, got ${data.length}`);
  }
  if (Array.isArray(data)) {
    const bad = (data as unknown[]).findIndex((v) => typeof v !== "number");
    if (bad >= 0) throw new Error(`${name}: data[${bad}] must be a number, got ${describeValue((data as unknown[])[bad])} (nested arrays need no shape: tensor(nested))`);
  }
  return { shape: [...shape], data: castData(data as ArrayLike<number>, dtype) };
}

/** A short description of a value for error messages. */
function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Checks a tensor argument and returns it as a tensor of float arrays: a {shape, data} object whose
 * data length matches its shape (plain arrays are converted to `dtype`; typed float arrays are kept), or
 * nested arrays of numbers. Errors name the argument, the expected and the actual sizes.
 */
export function asTensor(value: TensorInput, name: string, dtype: DType = "float32"): Tensor {
  if (Array.isArray(value)) return fromNested(value, dtype, name);
  if (value === null || typeof value !== "object" || !("shape" in value) || !("data" in value)) {
    throw new Error(`${name}: expected a tensor {shape, data} or nested arrays of numbers, got ${describeValue(value)}`);
  }
  const shape = checkShape(value.shape, name);
  const data = value.data;
  if (!isArrayLikeOfNumbers(data)) throw new Error(`${name}: data must be an array or typed array of numbers, got ${describeValue(data)}`);
  const n = numel(shape);
  if (data.length !== n) throw new Error(`${name}: data has ${data.length} values, shape ${shapeString(shape)} needs ${n}`);
  if (data instanceof Float32Array || data instanceof Float64Array) return value as Tensor;
  return { shape, data: castData(data, dtype) };
}

export function zeros(shape: readonly number[], dtype: DType = "float32"): Tensor {
  return { shape: [...shape], data: arrayFor(dtype, numel(shape)) };
}

/**
 * Nested JS arrays (e.g. [[1,2],[3,4]]) to a tensor; the innermost level may be typed arrays. Rejects
 * ragged input and non-numbers with the offending path.
 */
export function fromNested(values: unknown, dtype: DType = "float32", name = "tensor"): Tensor {
  const shape: number[] = [];
  let probe: unknown = values;
  while (Array.isArray(probe) || (ArrayBuffer.isView(probe) && !(probe instanceof DataView))) {
    const level = probe as ArrayLike<unknown>;
    shape.push(level.length);
    if (!Array.isArray(probe)) break;
    probe = level[0];
  }
  const flat: number[] = [];
  const walk = (v: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof v !== "number") throw new Error(`${name}${path}: expected a number, got ${describeValue(v)}`);
      flat.push(v);
      return;
    }
    const typed = ArrayBuffer.isView(v) && !(v instanceof DataView);
    if (!(Array.isArray(v) || typed) || (v as ArrayLike<unknown>).length !== shape[depth]) {
      const got = Array.isArray(v) || typed ? `length ${(v as ArrayLike<unknown>).length}` : describeValue(v);
      throw new Error(`${name}${path}: ragged nested array: expected length ${shape[depth]} at depth ${depth} (as ${name}${"[0]".repeat(depth)}), got ${got}`);
    }
    if (typed) {
      if (depth !== shape.length - 1) throw new Error(`${name}${path}: a typed array can only hold the innermost level, found at depth ${depth} of ${shape.length}`);
      const inner = v as unknown as ArrayLike<number>;
      for (let i = 0; i < inner.length; i++) flat.push(inner[i]);
      return;
    }
    (v as unknown[]).forEach((item, i) => walk(item, depth + 1, `${path}[${i}]`));
  };
  walk(values, 0, "");
  return { shape, data: castData(flat, dtype) };
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

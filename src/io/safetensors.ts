/**
 * The Hugging Face safetensors format, read and written without dependencies.
 *
 * Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON (padded with spaces so the
 * data starts at a multiple of 8), then the tensor bytes, little-endian, row-major. The header maps
 * each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets relative to the start of
 * the data section) and may hold "__metadata__": a string-to-string map. The format requires the
 * tensors to tile the data section exactly: no gaps, no overlaps, nothing left over.
 *
 * Decoded tensors are always copies (never views into the file buffer), so a Float64Array is never
 * misaligned and the file buffer can be dropped. Tensor order is the header's key order, which is
 * the order the tensors were given to the encoder. Reading and writing files: safetensors-file.ts
 * (Node); this module is portable.
 */
import { MAX_JSON_DEPTH, jsonNestingDepth } from "./json-limits.js";
import { shapeString, type DType, type Tensor } from "../tensor.js";

export type SafetensorsDType =
  | "F64" | "F32" | "F16" | "BF16"
  | "I64" | "I32" | "I16" | "I8"
  | "U64" | "U32" | "U16" | "U8"
  | "BOOL";

/** What a decoded tensor's data is. F16/BF16 widen to Float32Array (exact); BOOL is a Uint8Array of 0/1. */
export type SafetensorsData =
  | Float64Array | Float32Array
  | BigInt64Array | Int32Array | Int16Array | Int8Array
  | BigUint64Array | Uint32Array | Uint16Array | Uint8Array;

export interface SafetensorsTensor {
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: SafetensorsData;
}

/**
 * A tensor to encode. `dtype` may be left out when `data` is a typed array (Float32Array -> F32,
 * Int32Array -> I32, ...). Plain arrays are converted to `dtype`: floats round to the nearest
 * representable value; integer dtypes reject non-integers and out-of-range values.
 */
export interface SafetensorsInput {
  readonly dtype?: SafetensorsDType;
  readonly shape: readonly number[];
  readonly data: SafetensorsData | ArrayLike<number> | ArrayLike<bigint> | ArrayLike<boolean>;
}

export type NamedSafetensorsInput = SafetensorsInput & { readonly name: string };

export type SafetensorsInputs =
  | Readonly<Record<string, SafetensorsInput>>
  | ReadonlyMap<string, SafetensorsInput>
  | ReadonlyArray<NamedSafetensorsInput>;

export interface DecodedSafetensors {
  readonly tensors: Map<string, SafetensorsTensor>;
  readonly metadata: Record<string, string>;
}

const METADATA_KEY = "__metadata__";

/** Largest header accepted, in bytes (the reference implementation's limit): checked before the header is read. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1,
};

export const SAFETENSORS_DTYPES: readonly SafetensorsDType[] = Object.keys(DTYPE_BYTES) as SafetensorsDType[];

function isDType(value: unknown): value is SafetensorsDType {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, value);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Half-precision floats (F16: 5 exponent bits, 10 mantissa; BF16: 8 and 7). No typed array exists
// for them in Node 20, so they are converted by hand, rounding to nearest, ties to even.

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function encodeMiniFloat(x: number, expBits: number, mantBits: number): number {
  const bias = (1 << (expBits - 1)) - 1;
  const expAllOnes = (1 << expBits) - 1;
  const signBit = 1 << (expBits + mantBits);
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  if (Number.isNaN(x)) return (expAllOnes << mantBits) | (1 << (mantBits - 1));
  const abs = Math.abs(x);
  if (abs === 0) return sign;
  const minNormalExp = 1 - bias;
  if (abs < 2 ** minNormalExp) {
    // Subnormal; a mantissa that rounds up to 2^mantBits lands exactly on the smallest normal.
    return sign | roundHalfEven(abs / 2 ** (minNormalExp - mantBits));
  }
  let e = Math.floor(Math.log2(abs));
  if (2 ** e > abs) e -= 1; // guard against log2 rounding at powers of two
  else if (2 ** (e + 1) <= abs) e += 1;
  let m = roundHalfEven((abs / 2 ** e - 1) * 2 ** mantBits);
  if (m === 2 ** mantBits) {
    m = 0;
    e += 1;
  }
  if (e > bias) return sign | (expAllOnes << mantBits); // overflow -> infinity
  return sign | ((e + bias) << mantBits) | m;
}

function decodeMiniFloat(bits: number, expBits: number, mantBits: number): number {
  const bias = (1 << (expBits - 1)) - 1;
  const expAllOnes = (1 << expBits) - 1;
  const sign = bits & (1 << (expBits + mantBits)) ? -1 : 1;
  const exp = (bits >>> mantBits) & expAllOnes;
  const mant = bits & ((1 << mantBits) - 1);
  if (exp === 0) return sign * mant * 2 ** (1 - bias - mantBits);
  if (exp === expAllOnes) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 2 ** mantBits) * 2 ** (exp - bias);
}

export const float16Bits = (x: number): number => encodeMiniFloat(x, 5, 10);
export const float16FromBits = (bits: number): number => decodeMiniFloat(bits, 5, 10);
export const bfloat16Bits = (x: number): number => encodeMiniFloat(x, 8, 7);
export const bfloat16FromBits = (bits: number): number => decodeMiniFloat(bits, 8, 7);

// ---------------------------------------------------------------------------------------------
// Encoding

function inferDType(data: unknown): SafetensorsDType | undefined {
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Float32Array) return "F32";
  if (data instanceof BigInt64Array) return "I64";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof Int16Array) return "I16";
  if (data instanceof Int8Array) return "I8";
  if (data instanceof BigUint64Array) return "U64";
  if (data instanceof Uint32Array) return "U32";
  if (data instanceof Uint16Array) return "U16";
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return "U8";
  return undefined;
}

/** True when `data`'s in-memory bytes already are the little-endian encoding of `dtype`. */
function isNativeLayout(data: unknown, dtype: SafetensorsDType): data is SafetensorsData {
  return LITTLE_ENDIAN_HOST && inferDType(data) === dtype && dtype !== "BOOL";
}

const INT_RANGES: Partial<Record<SafetensorsDType, readonly [number, number]>> = {
  I32: [-(2 ** 31), 2 ** 31 - 1],
  I16: [-(2 ** 15), 2 ** 15 - 1],
  I8: [-128, 127],
  U32: [0, 2 ** 32 - 1],
  U16: [0, 2 ** 16 - 1],
  U8: [0, 255],
};

function checkShape(shape: unknown, where: string): number {
  if (!Array.isArray(shape)) throw new Error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  let n = 1;
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new Error(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    n *= d;
  }
  if (!Number.isSafeInteger(n)) throw new Error(`${where}: shape ${JSON.stringify(shape)} has too many elements`);
  return n;
}

/** The little-endian bytes of one tensor (a view of `data` itself when the layout already matches). */
function tensorBytes(name: string, input: SafetensorsInput): { dtype: SafetensorsDType; shape: number[]; bytes: Uint8Array } {
  const where = `safetensors tensor ${JSON.stringify(name)}`;
  if (input === null || typeof input !== "object") throw new Error(`${where}: expected {dtype, shape, data}, got ${String(input)}`);
  const dtype = input.dtype ?? inferDType(input.data);
  if (dtype === undefined) throw new Error(`${where}: dtype is required when data is not a typed array`);
  if (!isDType(dtype)) throw new Error(`${where}: unknown dtype ${JSON.stringify(dtype)} (supported: ${SAFETENSORS_DTYPES.join(", ")})`);
  const n = checkShape(input.shape, where);
  const data = input.data;
  if (data === null || typeof data !== "object" || typeof (data as ArrayLike<unknown>).length !== "number") {
    throw new Error(`${where}: data must be a typed array or an array, got ${String(data)}`);
  }
  if (data.length !== n) {
    throw new Error(`${where}: shape ${shapeString(input.shape)} needs ${n} values, data has ${data.length}`);
  }
  const shape = [...input.shape];
  const size = DTYPE_BYTES[dtype];
  if (isNativeLayout(data, dtype)) {
    return { dtype, shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  const out = new Uint8Array(n * size);
  const view = new DataView(out.buffer);
  const values = data as ArrayLike<unknown>;
  const bad = (i: number, why: string): never => {
    throw new Error(`${where}: element ${i} (${String(values[i])}) ${why}`);
  };
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const at = i * size;
    switch (dtype) {
      case "F64":
      case "F32":
      case "F16":
      case "BF16": {
        if (typeof v !== "number") bad(i, `is not a number, cannot be stored as ${dtype}`);
        const x = v as number;
        if (dtype === "F64") view.setFloat64(at, x, true);
        else if (dtype === "F32") view.setFloat32(at, x, true);
        else if (dtype === "F16") view.setUint16(at, float16Bits(x), true);
        else view.setUint16(at, bfloat16Bits(x), true);
        break;
      }
      case "I64":
      case "U64": {
        let b: bigint;
        if (typeof v === "bigint") b = v;
        else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
        else return bad(i, `is not an integer (or is beyond 2^53 as a number; pass a bigint), cannot be stored as ${dtype}`);
        if (dtype === "I64") {
          if (b < -(1n << 63n) || b >= 1n << 63n) bad(i, "is out of range for I64");
          view.setBigInt64(at, b, true);
        } else {
          if (b < 0n || b >= 1n << 64n) bad(i, "is out of range for U64");
          view.setBigUint64(at, b, true);
        }
        break;
      }
      case "BOOL": {
        if (v === true || v === 1) out[at] = 1;
        else if (v === false || v === 0) out[at] = 0;
        else bad(i, "is not a boolean (true/false or 1/0)");
        break;
      }
      default: {
        const [lo, hi] = INT_RANGES[dtype]!;
        if (typeof v !== "number" || !Number.isInteger(v)) bad(i, `is not an integer, cannot be stored as ${dtype}`);
        const x = v as number;
        if (x < lo || x > hi) bad(i, `is out of range for ${dtype} [${lo}, ${hi}]`);
        if (dtype === "I32") view.setInt32(at, x, true);
        else if (dtype === "I16") view.setInt16(at, x, true);
        else if (dtype === "I8") view.setInt8(at, x);
        else if (dtype === "U32") view.setUint32(at, x, true);
        else if (dtype === "U16") view.setUint16(at, x, true);
        else view.setUint8(at, x);
      }
    }
  }
  return { dtype, shape, bytes: out };
}

function namedInputs(tensors: SafetensorsInputs): Array<[string, SafetensorsInput]> {
  if (Array.isArray(tensors)) return (tensors as ReadonlyArray<NamedSafetensorsInput>).map((t) => [t?.name, t]);
  if (tensors instanceof Map) return [...tensors.entries()];
  return Object.entries(tensors as Record<string, SafetensorsInput>);
}

/** Encodes tensors (in the order given) and optional string metadata as a safetensors file. */
export function encodeSafetensors(tensors: SafetensorsInputs, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const entries = namedInputs(tensors);
  const seen = new Set<string>();
  const parts: Array<{ name: string; dtype: SafetensorsDType; shape: number[]; bytes: Uint8Array }> = [];
  for (const [name, input] of entries) {
    if (typeof name !== "string") throw new Error(`safetensors: every tensor needs a string name, got ${JSON.stringify(name)}`);
    if (name === METADATA_KEY) throw new Error(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (seen.has(name)) throw new Error(`safetensors: duplicate tensor name ${JSON.stringify(name)}`);
    seen.add(name);
    parts.push({ name, ...tensorBytes(name, input) });
  }

  // The header is assembled by hand: JSON.stringify on an object would move integer-like keys
  // ("0", "1", ...) to the front and break the promised order.
  const fields: string[] = [];
  if (metadata !== undefined) {
    const meta: string[] = [];
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new Error(`safetensors: metadata value for ${JSON.stringify(k)} must be a string, got ${typeof v}`);
      meta.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    fields.push(`${JSON.stringify(METADATA_KEY)}:{${meta.join(",")}}`);
  }
  let offset = 0;
  for (const p of parts) {
    const end = offset + p.bytes.byteLength;
    fields.push(`${JSON.stringify(p.name)}:{"dtype":"${p.dtype}","shape":[${p.shape.join(",")}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const headerText = `{${fields.join(",")}}`;
  const rawHeader = new TextEncoder().encode(headerText);
  const headerLength = Math.ceil(rawHeader.byteLength / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(rawHeader, 8);
  out.fill(0x20, 8 + rawHeader.byteLength, 8 + headerLength);
  let at = 8 + headerLength;
  for (const p of parts) {
    out.set(p.bytes, at);
    at += p.bytes.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * The keys of the top-level JSON object, in textual order and including repeats (JSON.parse keeps
 * only the last of a repeated key and reorders integer-like keys). `text` must already be valid JSON.
 */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      i++;
      while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      if (depth === 1) {
        let j = i;
        while (j < text.length && /\s/.test(text[j]!)) j++;
        if (text[j] === ":") keys.push(JSON.parse(text.slice(start, i)) as string);
      }
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    i++;
  }
  return keys;
}

const TYPED_ARRAY_FOR: Readonly<Record<Exclude<SafetensorsDType, "F16" | "BF16" | "BOOL">, new (buffer: ArrayBuffer) => SafetensorsData>> = {
  F64: Float64Array, F32: Float32Array,
  I64: BigInt64Array, I32: Int32Array, I16: Int16Array, I8: Int8Array,
  U64: BigUint64Array, U32: Uint32Array, U16: Uint16Array, U8: Uint8Array,
};

/** A fresh copy (Node's Buffer#slice returns a view, so plain slice() is not safe here). */
function copyBytes(raw: Uint8Array): Uint8Array {
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return copy;
}

function decodeData(dtype: SafetensorsDType, raw: Uint8Array, n: number, where: string): SafetensorsData {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dtype) {
    case "F16":
    case "BF16": {
      const out = new Float32Array(n);
      const decode = dtype === "F16" ? float16FromBits : bfloat16FromBits;
      for (let i = 0; i < n; i++) out[i] = decode(view.getUint16(2 * i, true));
      return out;
    }
    case "BOOL": {
      const out = copyBytes(raw);
      for (let i = 0; i < n; i++) {
        if (out[i]! > 1) throw new Error(`${where}: BOOL element ${i} has byte value ${out[i]}, expected 0 or 1`);
      }
      return out;
    }
    default: {
      // The copy has a fresh, aligned buffer; on a little-endian host its bytes are the values.
      if (LITTLE_ENDIAN_HOST) return new TYPED_ARRAY_FOR[dtype](copyBytes(raw).buffer as ArrayBuffer);
      const out = new TYPED_ARRAY_FOR[dtype](new ArrayBuffer(raw.byteLength));
      const size = DTYPE_BYTES[dtype];
      for (let i = 0; i < n; i++) {
        const at = i * size;
        const o = out as unknown as Record<number, number | bigint>;
        switch (dtype) {
          case "F64": o[i] = view.getFloat64(at, true); break;
          case "F32": o[i] = view.getFloat32(at, true); break;
          case "I64": o[i] = view.getBigInt64(at, true); break;
          case "U64": o[i] = view.getBigUint64(at, true); break;
          case "I32": o[i] = view.getInt32(at, true); break;
          case "U32": o[i] = view.getUint32(at, true); break;
          case "I16": o[i] = view.getInt16(at, true); break;
          case "U16": o[i] = view.getUint16(at, true); break;
          case "I8": o[i] = view.getInt8(at); break;
          case "U8": o[i] = view.getUint8(at); break;
        }
      }
      return out;
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Refuses a header length over the limit before anything that size is read (files: before the whole file is). */
export function checkHeaderLength(headerLength: bigint, fileName: string): void {
  if (headerLength > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    throw new Error(`${fileName}: safetensors header length ${headerLength} bytes exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  }
}

/** Parses and validates a safetensors file held in memory. `fileName` only labels error messages. */
export function decodeSafetensors(bytes: Uint8Array, fileName = "<buffer>"): DecodedSafetensors {
  if (bytes.byteLength < 8) {
    throw new Error(`${fileName}: not a safetensors file: ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  checkHeaderLength(headerLength, fileName);
  const available = bytes.byteLength - 8;
  if (headerLength > BigInt(available)) {
    throw new Error(`${fileName}: safetensors header length ${headerLength} exceeds the ${available} bytes that follow it (truncated or not a safetensors file)`);
  }
  const n = Number(headerLength);
  let headerText: string;
  try {
    headerText = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new Error(`${fileName}: safetensors header is not valid UTF-8`);
  }
  if (jsonNestingDepth(headerText, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new Error(`${fileName}: safetensors header JSON is nested deeper than ${MAX_JSON_DEPTH} levels (refused)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (e) {
    throw new Error(`${fileName}: safetensors header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) {
    throw new Error(`${fileName}: safetensors header must be a JSON object, got ${Array.isArray(header) ? "an array" : JSON.stringify(header)}`);
  }

  const keys = topLevelKeys(headerText);
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) {
      throw new Error(k === METADATA_KEY ? `${fileName}: "${METADATA_KEY}" appears twice in the header` : `${fileName}: duplicate tensor name ${JSON.stringify(k)} in the header`);
    }
    seen.add(k);
  }

  const metadata: Record<string, string> = {};
  if (METADATA_KEY in header) {
    const meta = header[METADATA_KEY];
    if (!isPlainObject(meta)) throw new Error(`${fileName}: "${METADATA_KEY}" must be an object of strings, got ${JSON.stringify(meta)}`);
    for (const [k, v] of Object.entries(meta)) {
      if (typeof v !== "string") throw new Error(`${fileName}: metadata value for ${JSON.stringify(k)} must be a string, got ${JSON.stringify(v)}`);
      metadata[k] = v;
    }
  }

  const dataStart = 8 + n;
  const dataLength = bytes.byteLength - dataStart;
  const spans: Array<{ name: string; begin: number; end: number; order: number }> = [];
  const tensors = new Map<string, SafetensorsTensor>();
  const pending: Array<{ name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number; count: number }> = [];
  for (const name of keys) {
    if (name === METADATA_KEY) continue;
    const where = `${fileName}: tensor ${JSON.stringify(name)}`;
    const entry = header[name];
    if (!isPlainObject(entry)) throw new Error(`${where}: expected {dtype, shape, data_offsets}, got ${JSON.stringify(entry)}`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!isDType(dtype)) throw new Error(`${where}: unknown or unsupported dtype ${JSON.stringify(dtype)} (supported: ${SAFETENSORS_DTYPES.join(", ")})`);
    const count = checkShape(shape, where);
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      throw new Error(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const needed = count * DTYPE_BYTES[dtype];
    if (end - begin !== needed) {
      throw new Error(`${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${dtype} ${shapeString(shape as number[])} needs ${needed}`);
    }
    if (end > dataLength) {
      throw new Error(`${where}: data_offsets [${begin}, ${end}] go beyond the ${dataLength}-byte data section (file truncated?)`);
    }
    spans.push({ name, begin, end, order: spans.length });
    pending.push({ name, dtype, shape: [...(shape as number[])], begin, end, count });
  }

  // The tensors must tile [0, dataLength) exactly. Empty tensors occupy no bytes and cannot clash.
  const sorted = spans.filter((s) => s.end > s.begin).sort((a, b) => a.begin - b.begin || a.order - b.order);
  let covered = 0;
  let previous: string | undefined;
  for (const s of sorted) {
    if (s.begin < covered) {
      throw new Error(`${fileName}: tensor ${JSON.stringify(s.name)} bytes [${s.begin}, ${s.end}) overlap tensor ${JSON.stringify(previous)} (which ends at ${covered})`);
    }
    if (s.begin > covered) {
      throw new Error(`${fileName}: data bytes [${covered}, ${s.begin}) belong to no tensor (before tensor ${JSON.stringify(s.name)}); safetensors requires contiguous data`);
    }
    covered = s.end;
    previous = s.name;
  }
  if (covered !== dataLength) {
    throw new Error(`${fileName}: ${dataLength - covered} trailing data bytes [${covered}, ${dataLength}) belong to no tensor; safetensors requires contiguous data`);
  }

  for (const p of pending) {
    const raw = bytes.subarray(dataStart + p.begin, dataStart + p.end);
    tensors.set(p.name, { dtype: p.dtype, shape: p.shape, data: decodeData(p.dtype, raw, p.count, `${fileName}: tensor ${JSON.stringify(p.name)}`) });
  }
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------
// Helpers for model loaders

export interface ExpectedTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/**
 * Compares the loaded tensor names and shapes with what a model needs and throws one error listing
 * every missing, unexpected and wrongly shaped tensor (so a user fixes them all in one go).
 */
export function checkTensorShapes(
  loaded: DecodedSafetensors | ReadonlyMap<string, { readonly shape: readonly number[] }>,
  expected: ReadonlyArray<ExpectedTensor>,
  fileName: string,
  options: { allowExtra?: boolean } = {},
): void {
  const map: ReadonlyMap<string, { readonly shape: readonly number[] }> = loaded instanceof Map ? loaded : (loaded as DecodedSafetensors).tensors;
  const wanted = new Set(expected.map((e) => e.name));
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const e of expected) {
    const got = map.get(e.name);
    if (got === undefined) missing.push(`${e.name} ${shapeString(e.shape)}`);
    else if (got.shape.length !== e.shape.length || got.shape.some((d, i) => d !== e.shape[i])) {
      wrong.push(`${e.name}: expected ${shapeString(e.shape)}, got ${shapeString(got.shape)}`);
    }
  }
  const extra = options.allowExtra ? [] : [...map.entries()].filter(([name]) => !wanted.has(name)).map(([name, t]) => `${name} ${shapeString(t.shape)}`);
  if (missing.length + wrong.length + extra.length === 0) return;
  const parts: string[] = [];
  if (missing.length) parts.push(`missing ${missing.length}: ${missing.join(", ")}`);
  if (wrong.length) parts.push(`wrong shape ${wrong.length}: ${wrong.join("; ")}`);
  if (extra.length) parts.push(`unexpected ${extra.length}: ${extra.join(", ")}`);
  throw new Error(`${fileName}: tensors do not match the model (${parts.join(" | ")})`);
}

/**
 * A loaded tensor as the library's float Tensor, converting from any numeric dtype. Integers beyond
 * 2^53 are rejected rather than silently rounded.
 */
export function toFloatTensor(entry: SafetensorsTensor, dtype: DType, label: string): Tensor {
  const n = entry.data.length;
  const out = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  const src = entry.data;
  if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new Error(`${label}: element ${i} (${v}) of ${entry.dtype} data is too large to convert to ${dtype}`);
      }
      out[i] = Number(v);
    }
  } else {
    out.set(src as ArrayLike<number>);
  }
  return { shape: [...entry.shape], data: out };
}

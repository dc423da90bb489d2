/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), read into row-major typed arrays.
 *
 * Layout: magic "\x93NUMPY", major and minor version bytes, the header length (u16 LE in 1.0, u32
 * LE in 2.0/3.0), a Python dict literal `{'descr': '<f8', 'fortran_order': False, 'shape': (T, 17), }`
 * (latin-1 in 1.0/2.0, UTF-8 in 3.0) padded with spaces and ending in "\n", then the raw array.
 *
 * What each dtype becomes (JavaScript has no lossless home for every NumPy type):
 * - f2, f4 -> Float32Array; f8 -> Float64Array
 * - i1, i2, i4, u1, u2, b1 -> Int32Array (booleans as 0/1)
 * - u4, i8, u8 -> Float64Array; i8/u8 values beyond +-(2^53 - 1) (Number.MAX_SAFE_INTEGER) are
 *   rejected rather than silently rounded
 * Big-endian data (">f8", ...) is byte-swapped. Fortran-ordered arrays are transposed to row-major,
 * so `data` is always C order for `shape`. Structured, complex, string and object dtypes are refused.
 */
import * as fs from "node:fs";
import { writeFileAtomic } from "./atomic.js";
import { float16FromBits } from "./safetensors.js";

export type NpyDType = "f2" | "f4" | "f8" | "i1" | "i2" | "i4" | "i8" | "u1" | "u2" | "u4" | "u8" | "b1";
export type NpyData = Float32Array | Float64Array | Int32Array;

export interface NpyArray {
  readonly shape: readonly number[];
  /** The element type stored in the file, without byte order ("f8", "i4", ...). */
  readonly dtype: NpyDType;
  readonly data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGN = 64; // numpy pads the preamble + header to a multiple of this
/**
 * The longest header read. numpy refuses headers over 10,000 bytes unless told otherwise (its
 * max_header_size); a real header is a dict of three short entries, so a longer one is a damaged or
 * hostile file, refused before any of it is decoded.
 */
export const NPY_MAX_HEADER_BYTES = 10_000;
const MAX_HEADER_DEPTH = 32;

// ---------------------------------------------------------------------------------------------
// A small reader for the Python literals that appear in .npy headers.

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

function parsePythonLiteral(text: string, where: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    const shown = text.trim();
    throw new Error(`${where}: cannot parse .npy header ${JSON.stringify(shown.length > 200 ? `${shown.slice(0, 200)}...` : shown)}: ${what} at character ${i}`);
  };
  const skip = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const sequence = (close: string): PyValue[] => {
    const items: PyValue[] = [];
    skip();
    while (text[i] !== close) {
      items.push(value());
      skip();
      if (text[i] === ",") {
        i++;
        skip();
      } else if (text[i] !== close) fail(`expected "," or "${close}"`);
    }
    i++;
    return items;
  };
  // A real header nests two levels (the dict and its shape tuple); deep nesting would overflow the stack.
  let depth = 0;
  const value = (): PyValue => {
    skip();
    const c = text[i];
    if ((c === "{" || c === "(" || c === "[") && depth >= MAX_HEADER_DEPTH) fail(`nesting deeper than ${MAX_HEADER_DEPTH} levels`);
    depth++;
    try {
      return valueAt(c);
    } finally {
      depth--;
    }
  };
  const valueAt = (c: string | undefined): PyValue => {
    if (c === "{") {
      i++;
      const dict: { [key: string]: PyValue } = {};
      skip();
      while (text[i] !== "}") {
        const key = value();
        if (typeof key !== "string") fail("dictionary keys must be strings");
        skip();
        if (text[i] !== ":") fail('expected ":"');
        i++;
        dict[key as string] = value();
        skip();
        if (text[i] === ",") {
          i++;
          skip();
        } else if (text[i] !== "}") fail('expected "," or "}"');
      }
      i++;
      return dict;
    }
    if (c === "(") {
      i++;
      return sequence(")");
    }
    if (c === "[") {
      i++;
      return sequence("]");
    }
    if (c === "'" || c === '"') {
      i++;
      let s = "";
      while (text[i] !== c) {
        if (i >= text.length) fail("unterminated string");
        if (text[i] === "\\") i++;
        s += text[i];
        i++;
      }
      i++;
      return s;
    }
    const word = /^(-?\d+)L?|^(True|False|None)\b/.exec(text.slice(i));
    if (word === null) return fail("unexpected text");
    i += word[0].length;
    if (word[1] !== undefined) return Number(word[1]);
    return word[2] === "True" ? true : word[2] === "False" ? false : null;
  };
  const result = value();
  skip();
  if (i < text.length) fail("unexpected text after the dictionary");
  return result;
}

// ---------------------------------------------------------------------------------------------
// Decoding

interface DTypeInfo {
  readonly dtype: NpyDType;
  readonly size: number;
  readonly littleEndian: boolean;
}

function parseDescr(descr: PyValue, where: string): DTypeInfo {
  if (typeof descr !== "string") {
    throw new Error(`${where}: unsupported dtype ${JSON.stringify(descr)} (structured arrays are not supported)`);
  }
  const m = /^([<>|])([fiub])(\d+)$/.exec(descr);
  const dtype = m ? (`${m[2]}${m[3]}` as NpyDType) : undefined;
  const supported: readonly string[] = ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"];
  if (!m || !supported.includes(dtype!)) {
    throw new Error(`${where}: unsupported dtype ${JSON.stringify(descr)} (supported: float f2/f4/f8, int i1/i2/i4/i8, uint u1/u2/u4/u8, bool b1)`);
  }
  const size = Number(m[3]);
  if (m[1] === "|" && size !== 1) throw new Error(`${where}: dtype ${JSON.stringify(descr)} needs a byte order ("<" or ">")`);
  return { dtype: dtype!, size, littleEndian: m[1] !== ">" };
}

function readElements(info: DTypeInfo, bytes: Uint8Array, count: number, where: string): NpyData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = info.littleEndian;
  const { size } = info;
  switch (info.dtype) {
    case "f2": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = float16FromBits(view.getUint16(i * 2, le));
      return out;
    }
    case "f4": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, le);
      return out;
    }
    case "f8": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, le);
      return out;
    }
    case "u4": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, le);
      return out;
    }
    case "i8":
    case "u8": {
      const out = new Float64Array(count);
      const limit = BigInt(Number.MAX_SAFE_INTEGER);
      for (let i = 0; i < count; i++) {
        const v = info.dtype === "i8" ? view.getBigInt64(i * 8, le) : view.getBigUint64(i * 8, le);
        if (v > limit || v < -limit) {
          throw new Error(`${where}: element ${i} (${v}) of ${info.dtype} data is beyond +-(2^53 - 1) and cannot be held exactly as a JavaScript number`);
        }
        out[i] = Number(v);
      }
      return out;
    }
    default: {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const at = i * size;
        switch (info.dtype) {
          case "i1": out[i] = view.getInt8(at); break;
          case "u1": out[i] = view.getUint8(at); break;
          case "b1": {
            const b = view.getUint8(at);
            if (b > 1) throw new Error(`${where}: bool element ${i} has byte value ${b}, expected 0 or 1`);
            out[i] = b;
            break;
          }
          case "i2": out[i] = view.getInt16(at, le); break;
          case "u2": out[i] = view.getUint16(at, le); break;
          case "i4": out[i] = view.getInt32(at, le); break;
        }
      }
      return out;
    }
  }
}

/** Reorders column-major (Fortran) data into row-major order for the same shape. */
function fortranToC(data: NpyData, shape: readonly number[]): NpyData {
  const rank = shape.length;
  if (rank < 2) return data;
  const out = new (data.constructor as new (n: number) => NpyData)(data.length);
  const fStride = new Array<number>(rank);
  fStride[0] = 1;
  for (let d = 1; d < rank; d++) fStride[d] = fStride[d - 1]! * shape[d - 1]!;
  const index = new Array<number>(rank).fill(0);
  let src = 0; // column-major offset of `index`
  for (let dst = 0; dst < data.length; dst++) {
    out[dst] = data[src]!;
    // Advance the row-major multi-index (last axis fastest) and keep `src` in step.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      src += fStride[d]!;
      if (index[d]! < shape[d]!) break;
      src -= fStride[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** Parses a `.npy` file held in memory. `fileName` only labels error messages. */
export function decodeNpy(bytes: Uint8Array, fileName = "<buffer>"): NpyArray {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${fileName}: not a .npy file (missing the "\\x93NUMPY" magic string)`);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0) {
    throw new Error(`${fileName}: unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.byteLength < 8 + lengthBytes) throw new Error(`${fileName}: truncated .npy file (no header length)`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthBytes;
  if (headerLength > NPY_MAX_HEADER_BYTES) {
    throw new Error(`${fileName}: .npy header length ${headerLength} bytes exceeds the ${NPY_MAX_HEADER_BYTES}-byte limit (a real header is a few hundred bytes; the file is damaged or not a .npy array)`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.byteLength) {
    throw new Error(`${fileName}: truncated .npy file: header claims ${headerLength} bytes, only ${bytes.byteLength - headerStart} present`);
  }
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, dataStart));
  const header = parsePythonLiteral(headerText, fileName);
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new Error(`${fileName}: .npy header must be a dictionary, got ${JSON.stringify(headerText.trim())}`);
  }
  for (const key of ["descr", "fortran_order", "shape"]) {
    if (!(key in header)) throw new Error(`${fileName}: .npy header lacks the ${JSON.stringify(key)} key: ${headerText.trim()}`);
  }
  const info = parseDescr(header.descr!, fileName);
  const fortran = header.fortran_order;
  if (typeof fortran !== "boolean") throw new Error(`${fileName}: .npy header fortran_order must be True or False, got ${JSON.stringify(fortran)}`);
  const shapeValue = header.shape;
  if (!Array.isArray(shapeValue) || !shapeValue.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${fileName}: .npy header shape must be a tuple of non-negative integers, got ${JSON.stringify(shapeValue)}`);
  }
  const shape = shapeValue as number[];
  const count = shape.reduce((a, b) => a * b, 1);
  const needed = count * info.size;
  const present = bytes.byteLength - dataStart;
  if (present < needed) {
    throw new Error(`${fileName}: truncated .npy data: shape (${shape.join(", ")}) of ${info.dtype} needs ${needed} bytes, file has ${present}`);
  }
  if (present > needed) {
    throw new Error(`${fileName}: .npy file has ${present - needed} unexpected bytes after the data for shape (${shape.join(", ")}) of ${info.dtype}`);
  }
  let data = readElements(info, bytes.subarray(dataStart), count, fileName);
  if (fortran) data = fortranToC(data, shape);
  return { shape, dtype: info.dtype, data };
}

export function loadNpy(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read .npy file (${(e as Error).message})`);
  }
  return decodeNpy(bytes, path);
}

// ---------------------------------------------------------------------------------------------
// Encoding (float32, float64 and int32, C order, little-endian)

function descrFor(data: unknown): string {
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Float64Array) return "<f8";
  if (data instanceof Int32Array) return "<i4";
  throw new Error(`encodeNpy: data must be a Float32Array, Float64Array or Int32Array, got ${(data as object)?.constructor?.name ?? typeof data}`);
}

/** Encodes a row-major array as `.npy` (version 1.0, or 2.0 if the header would not fit). */
export function encodeNpy(array: { readonly shape: readonly number[]; readonly data: NpyData }, name = "array"): Uint8Array {
  const descr = descrFor(array.data);
  const { shape, data } = array;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`encodeNpy ${name}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const count = shape.reduce((a: number, b: number) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy ${name}: shape (${shape.join(", ")}) needs ${count} values, data has ${data.length}`);

  // Python's repr of a tuple: "()", "(5,)", "(2, 3)".
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  let major = 1;
  let preamble = 10;
  let padded = Math.ceil((preamble + dict.length + 1) / ALIGN) * ALIGN - preamble;
  if (padded > 0xffff) {
    major = 2;
    preamble = 12;
    padded = Math.ceil((preamble + dict.length + 1) / ALIGN) * ALIGN - preamble;
  }
  const header = dict + " ".repeat(padded - dict.length - 1) + "\n";

  const out = new Uint8Array(preamble + padded + data.byteLength);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  if (major === 1) view.setUint16(8, padded, true);
  else view.setUint32(8, padded, true);
  for (let i = 0; i < header.length; i++) out[preamble + i] = header.charCodeAt(i);
  const at = preamble + padded;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (data instanceof Float32Array) view.setFloat32(at + 4 * i, v, true);
    else if (data instanceof Float64Array) view.setFloat64(at + 8 * i, v, true);
    else view.setInt32(at + 4 * i, v, true);
  }
  return out;
}

/** Writes a `.npy` file atomically. */
export function saveNpy(path: string, array: { readonly shape: readonly number[]; readonly data: NpyData }): void {
  writeFileAtomic(path, encodeNpy(array, path));
}

import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  bfloat16Bits,
  bfloat16FromBits,
  checkTensorShapes,
  decodeSafetensors,
  encodeSafetensors,
  float16Bits,
  float16FromBits,
  toFloatTensor,
  type SafetensorsInput,
} from "../src/io/safetensors.js";
import { loadSafetensors, saveSafetensors } from "../src/io/safetensors-file.js";
import { writeFileAtomic, writeFileAtomicAsync } from "../src/io/atomic.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-safetensors-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/**
 * Assembles a safetensors file by hand from header text and data bytes: the u64 length prefix, the
 * header padded with spaces to a multiple of 8, then the data. Deliberately independent of the encoder.
 */
function assemble(headerText: string | Uint8Array, data: number[] | Uint8Array, pad = true): Uint8Array {
  const header = typeof headerText === "string" ? Buffer.from(headerText, "utf8") : headerText;
  const padded = pad ? Math.ceil(header.length / 8) * 8 : header.length;
  const out = new Uint8Array(8 + padded + data.length);
  let len = padded;
  for (let k = 0; k < 8; k++) {
    out[k] = len & 0xff;
    len = Math.floor(len / 256);
  }
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, 8 + padded);
  out.set(data, 8 + padded);
  return out;
}

describe("decodeSafetensors on hand-built files", () => {
  test("reads tensors of several dtypes, metadata, header order and a 0-d tensor", () => {
    // Header order b, a, c; data order a, b, c.
    const header =
      '{"__metadata__":{"format":"pt","note":"hi"},' +
      '"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},' +
      '"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},' +
      '"c":{"dtype":"F64","shape":[],"data_offsets":[16,24]}}';
    const data = [
      0x00, 0x00, 0xc0, 0x3f, // 1.5f   = 0x3fc00000
      0x00, 0x00, 0x00, 0xc0, // -2.0f  = 0xc0000000
      0x07, 0x00, 0x00, 0x00, // 7
      0xff, 0xff, 0xff, 0xff, // -1
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, // 1.0 (f64 0x3ff0000000000000)
    ];
    const { tensors, metadata } = decodeSafetensors(assemble(header, data), "hand.safetensors");
    assert.deepEqual([...tensors.keys()], ["b", "a", "c"]);
    assert.deepEqual(metadata, { format: "pt", note: "hi" });
    const a = tensors.get("a")!;
    assert.equal(a.dtype, "F32");
    assert.deepEqual(a.shape, [1, 2]);
    assert.ok(a.data instanceof Float32Array);
    assert.deepEqual([...a.data], [1.5, -2]);
    const b = tensors.get("b")!;
    assert.ok(b.data instanceof Int32Array);
    assert.deepEqual([...b.data], [7, -1]);
    const c = tensors.get("c")!;
    assert.ok(c.data instanceof Float64Array);
    assert.deepEqual(c.shape, []);
    assert.deepEqual([...c.data], [1]);
  });

  test("an F64 tensor at an offset that is not a multiple of 8 is copied out, not viewed", () => {
    // The U8 tensor shifts the F64 to data offset 1: a direct Float64Array view would throw.
    const header = '{"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"d":{"dtype":"F64","shape":[1],"data_offsets":[1,9]}}';
    const data = [0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xc0]; // -2.5 = 0xc004000000000000
    const { tensors } = decodeSafetensors(assemble(header, data));
    assert.deepEqual([...tensors.get("u")!.data], [5]);
    assert.deepEqual([...tensors.get("d")!.data], [-2.5]);
  });

  test("decodes from a Node Buffer that is a slice of a larger allocation", () => {
    const header = '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const file = assemble(header, [0x00, 0x00, 0x80, 0x3f]); // 1.0f
    const big = Buffer.alloc(file.length + 13, 0xee);
    big.set(file, 13);
    const { tensors } = decodeSafetensors(big.subarray(13));
    const x = tensors.get("x")!.data;
    assert.equal(x.length, 1);
    assert.equal(x[0], 1);
  });

  test("reads an unpadded header and a file with no tensors", () => {
    const h = '{"x":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}';
    const { tensors } = decodeSafetensors(assemble(h, [0xff, 0x02], false));
    assert.deepEqual([...tensors.get("x")!.data], [-1, 2]);
    const empty = decodeSafetensors(assemble("{}", []));
    assert.equal(empty.tensors.size, 0);
    assert.deepEqual(empty.metadata, {});
  });

  test("F16 and BF16 decode to Float32Array", () => {
    const header = '{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[6,10]}}';
    // F16: 0x3c00 = 1, 0xc000 = -2, 0x0001 = 2^-24; BF16: 0x3f80 = 1, 0x4049 = 3.140625
    const data = [0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x80, 0x3f, 0x49, 0x40];
    const { tensors } = decodeSafetensors(assemble(header, data));
    assert.ok(tensors.get("h")!.data instanceof Float32Array);
    assert.deepEqual([...tensors.get("h")!.data], [1, -2, 2 ** -24]);
    assert.deepEqual([...tensors.get("b")!.data], [1, 3.140625]);
  });
});

describe("encodeSafetensors", () => {
  test("produces the exact bytes of the format for a small file", () => {
    const bytes = encodeSafetensors({ x: { dtype: "U8", shape: [3], data: [1, 2, 3] } });
    const header = '{"x":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}';
    assert.equal(header.length, 53); // padded to 56
    assert.deepEqual([...bytes], [...assemble(header, [1, 2, 3])]);
    assert.equal(bytes.length, 8 + 56 + 3);
  });

  test("pads the header so the data section starts at a multiple of 8", () => {
    for (const name of ["a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"]) {
      const bytes = encodeSafetensors({ [name]: { dtype: "F32", shape: [1], data: [1] } });
      const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
      assert.equal(n % 8, 0, name);
      assert.equal(bytes.length, 8 + n + 4);
    }
  });

  test("round trips every dtype and odd shapes, keeping the given order", () => {
    const inputs: Array<SafetensorsInput & { name: string }> = [
      { name: "10", dtype: "F64", shape: [2, 3], data: new Float64Array([1, -2.5, Math.PI, 1e-300, -0, Infinity]) },
      { name: "2", dtype: "F32", shape: [], data: new Float32Array([0.1]) },
      { name: "empty", dtype: "F32", shape: [0], data: new Float32Array(0) },
      { name: "empty3d", dtype: "I32", shape: [2, 0, 3], data: new Int32Array(0) },
      { name: "i64", dtype: "I64", shape: [3], data: new BigInt64Array([-(2n ** 63n), 0n, 2n ** 63n - 1n]) },
      { name: "u64", dtype: "U64", shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
      { name: "i32", shape: [1, 1, 1, 4], data: new Int32Array([-(2 ** 31), -1, 0, 2 ** 31 - 1]) },
      { name: "i16", dtype: "I16", shape: [2], data: [-32768, 32767] },
      { name: "i8", dtype: "I8", shape: [2], data: [-128, 127] },
      { name: "u32", dtype: "U32", shape: [1], data: [4294967295] },
      { name: "u16", dtype: "U16", shape: [1], data: new Uint16Array([65535]) },
      { name: "u8", shape: [2], data: new Uint8Array([0, 255]) },
      { name: "bool", dtype: "BOOL", shape: [3], data: [true, false, true] },
      { name: "f16", dtype: "F16", shape: [2], data: [0.5, -65504] },
      { name: "bf16", dtype: "BF16", shape: [2], data: [1, -3.140625] },
      { name: "nan", dtype: "F32", shape: [1], data: [NaN] },
    ];
    const bytes = encodeSafetensors(inputs, { format: "ncps-ts", "": "empty key ok", "ü": "ünïcode" });
    const { tensors, metadata } = decodeSafetensors(bytes);
    assert.deepEqual(metadata, { format: "ncps-ts", "": "empty key ok", "ü": "ünïcode" });
    assert.deepEqual([...tensors.keys()], inputs.map((t) => t.name));
    const expectedValues: Record<string, unknown[]> = {
      "10": [1, -2.5, Math.PI, 1e-300, -0, Infinity],
      "2": [Math.fround(0.1)],
      empty: [],
      empty3d: [],
      i64: [-(2n ** 63n), 0n, 2n ** 63n - 1n],
      u64: [2n ** 64n - 1n],
      i32: [-(2 ** 31), -1, 0, 2 ** 31 - 1],
      i16: [-32768, 32767],
      i8: [-128, 127],
      u32: [4294967295],
      u16: [65535],
      u8: [0, 255],
      bool: [1, 0, 1],
      f16: [0.5, -65504],
      bf16: [1, -3.140625],
      nan: [NaN],
    };
    const expectedTypes: Record<string, string> = {
      "10": "Float64Array", "2": "Float32Array", empty: "Float32Array", empty3d: "Int32Array",
      i64: "BigInt64Array", u64: "BigUint64Array", i32: "Int32Array", i16: "Int16Array", i8: "Int8Array",
      u32: "Uint32Array", u16: "Uint16Array", u8: "Uint8Array", bool: "Uint8Array",
      f16: "Float32Array", bf16: "Float32Array", nan: "Float32Array",
    };
    for (const input of inputs) {
      const got = tensors.get(input.name)!;
      assert.deepEqual(got.shape, input.shape, input.name);
      assert.equal(got.data.constructor.name, expectedTypes[input.name], input.name);
      assert.deepEqual([...(got.data as ArrayLike<unknown> & Iterable<unknown>)], expectedValues[input.name], input.name);
    }
    assert.equal(tensors.get("i32")!.dtype, "I32");
    assert.equal(tensors.get("u8")!.dtype, "U8");
  });

  test("accepts a Map and keeps its order", () => {
    const map = new Map<string, SafetensorsInput>([
      ["z", { shape: [1], data: new Float32Array([1]) }],
      ["a", { shape: [1], data: new Float32Array([2]) }],
    ]);
    assert.deepEqual([...decodeSafetensors(encodeSafetensors(map)).tensors.keys()], ["z", "a"]);
  });

  test("rejects bad input with messages naming the tensor", () => {
    assert.throws(() => encodeSafetensors({ w: { dtype: "F32", shape: [2, 2], data: [1, 2, 3] } }), /"w".*\[2, 2\] needs 4 values, data has 3/);
    assert.throws(() => encodeSafetensors({ w: { dtype: "Q8" as never, shape: [1], data: [1] } }), /"w": unknown dtype "Q8"/);
    assert.throws(() => encodeSafetensors({ w: { shape: [1], data: [1] } }), /"w": dtype is required/);
    assert.throws(() => encodeSafetensors({ w: { dtype: "F32", shape: [-1], data: [] } }), /"w": shape must be an array of non-negative integers/);
    assert.throws(() => encodeSafetensors({ k: { dtype: "I8", shape: [1], data: [128] } }), /"k": element 0 \(128\) is out of range for I8/);
    assert.throws(() => encodeSafetensors({ k: { dtype: "I32", shape: [1], data: [1.5] } }), /"k": element 0 \(1.5\) is not an integer/);
    assert.throws(() => encodeSafetensors({ k: { dtype: "BOOL", shape: [1], data: [2] } }), /"k": element 0 \(2\) is not a boolean/);
    assert.throws(
      () => encodeSafetensors([{ name: "d", shape: [1], data: new Float32Array(1) }, { name: "d", shape: [1], data: new Float32Array(1) }]),
      /duplicate tensor name "d"/,
    );
    assert.throws(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } }), /reserved/);
    assert.throws(() => encodeSafetensors({}, { n: 3 as unknown as string }), /metadata value for "n" must be a string/);
  });
});

describe("half-precision conversions", () => {
  test("float16 bit patterns, including rounding ties to even and overflow", () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 0x0001], [2 ** -14, 0x0400],
      [0.1, 0x2e66], [0, 0x0000], [-0, 0x8000], [Infinity, 0x7c00], [-Infinity, 0xfc00],
      [65520, 0x7c00], // halfway between 65504 and 2^16 rounds to even -> overflow
      [1 + 2 ** -11, 0x3c00], // tie: mantissa 0 is even
      [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02 -> even
      [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal -> 0
      [3 * 2 ** -25, 0x0002],
    ];
    for (const [x, bits] of cases) assert.equal(float16Bits(x), bits, `float16(${x})`);
    assert.equal(float16Bits(NaN) & 0x7c00, 0x7c00);
    assert.ok(Number.isNaN(float16FromBits(0x7e00)));
    assert.equal(float16FromBits(0x7bff), 65504);
    assert.equal(float16FromBits(0x8001), -(2 ** -24));
  });

  test("bfloat16 bit patterns", () => {
    assert.equal(bfloat16Bits(1), 0x3f80);
    assert.equal(bfloat16Bits(0.1), 0x3dcd); // f32 0x3dcccccd, upper half rounded up
    assert.equal(bfloat16Bits(-3.140625), 0xc049);
    assert.equal(bfloat16FromBits(0x3dcd), 0.10009765625);
    assert.equal(bfloat16FromBits(0x7f80), Infinity);
  });
});

describe("decodeSafetensors validation", () => {
  const ok = (extra = ""): string => `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}${extra}}`;
  const eight = [0, 0, 128, 63, 0, 0, 0, 64];
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["file shorter than 8 bytes", new Uint8Array([1, 2, 3]), /^bad\.st: .*3 bytes, shorter than the 8-byte header length/],
    ["header length beyond the file", (() => {
      const f = assemble(ok(), eight);
      f[0] = 0xff;
      f[1] = 0xff;
      return f;
    })(), /^bad\.st: safetensors header length 65535 exceeds the 64 bytes/],
    ["header not JSON", assemble("{not json", []), /^bad\.st: safetensors header is not valid JSON/],
    ["header an array", assemble("[1,2]", []), /^bad\.st: safetensors header must be a JSON object, got an array/],
    ["header invalid UTF-8", assemble(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), []), /^bad\.st: safetensors header is not valid UTF-8/],
    ["unknown dtype", assemble('{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', [0]), /tensor "w": unknown or unsupported dtype "F8_E4M3"/],
    ["negative shape", assemble('{"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}', []), /tensor "w": shape must be an array of non-negative integers, got \[-1\]/],
    ["fractional shape", assemble('{"w":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}', [0]), /tensor "w": shape must be/],
    ["shape not an array", assemble('{"w":{"dtype":"U8","shape":"3","data_offsets":[0,3]}}', [0, 0, 0]), /tensor "w": shape must be/],
    ["offsets not matching the size", assemble('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}', eight), /tensor "w": data_offsets \[0, 8\] span 8 bytes, but F32 \[2, 2\] needs 16/],
    ["offsets malformed", assemble('{"w":{"dtype":"U8","shape":[1],"data_offsets":[1]}}', [0]), /tensor "w": data_offsets must be \[begin, end\]/],
    ["offsets reversed", assemble('{"w":{"dtype":"U8","shape":[0],"data_offsets":[3,2]}}', [0, 0, 0]), /tensor "w": data_offsets must be/],
    ["offsets beyond the data", assemble('{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', eight), /tensor "w": data_offsets \[4, 12\] go beyond the 8-byte data section/],
    ["overlapping tensors", assemble('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eight), /tensor "b" bytes \[4, 8\) overlap tensor "a"/],
    ["gap between tensors", assemble('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}', eight), /data bytes \[4, 6\) belong to no tensor \(before tensor "b"\)/],
    ["data not starting at 0", assemble('{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eight), /data bytes \[0, 4\) belong to no tensor/],
    ["trailing data bytes", assemble(ok(), [...eight, 1, 2, 3]), /3 trailing data bytes \[8, 11\) belong to no tensor/],
    ["metadata value not a string", assemble(ok(',"__metadata__":{"epoch":3}'), eight), /metadata value for "epoch" must be a string, got 3/],
    ["metadata not an object", assemble(ok(',"__metadata__":["x"]'), eight), /"__metadata__" must be an object of strings/],
    ["duplicate tensor names", assemble('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}', eight), /duplicate tensor name "a"/],
    ["entry not an object", assemble('{"a":[1]}', []), /tensor "a": expected \{dtype, shape, data_offsets\}/],
    ["bool byte other than 0/1", assemble('{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}', [1, 2]), /tensor "m": BOOL element 1 has byte value 2/],
  ];
  for (const [what, bytes, pattern] of cases) {
    test(what, () => {
      assert.throws(() => decodeSafetensors(bytes, "bad.st"), (e: Error) => {
        assert.match(e.message, pattern);
        assert.ok(e.message.startsWith("bad.st"), `message names the file: ${e.message}`);
        return true;
      });
    });
  }

  test("the same file is accepted when valid (the cases above fail for their stated reason only)", () => {
    assert.equal(decodeSafetensors(assemble(ok(), eight)).tensors.size, 1);
    assert.equal(decodeSafetensors(assemble(ok(',"__metadata__":{"epoch":"3"}'), eight)).metadata.epoch, "3");
  });

  test("duplicate keys hidden by escapes are still found", () => {
    const bytes = assemble('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"\\u0061":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}', eight);
    assert.throws(() => decodeSafetensors(bytes, "esc.st"), /duplicate tensor name "a"/);
  });

  test("keys containing braces, quotes and colons do not confuse the duplicate check", () => {
    const bytes = assemble('{"x{\\":[":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"y":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}', eight);
    assert.deepEqual([...decodeSafetensors(bytes).tensors.keys()], ['x{":[', "y"]);
  });

  test("empty tensors may sit anywhere, including past other tensors' offsets", () => {
    const bytes = assemble('{"e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"z":{"dtype":"F64","shape":[3,0],"data_offsets":[4,4]}}', eight);
    const { tensors } = decodeSafetensors(bytes);
    assert.deepEqual([...tensors.keys()], ["e", "a", "z"]);
    assert.deepEqual(tensors.get("z")!.shape, [3, 0]);
    assert.equal(tensors.get("z")!.data.length, 0);
  });
});

describe("checkTensorShapes", () => {
  const loaded = decodeSafetensors(encodeSafetensors({
    "rnn_cell.ff1.weight": { shape: [8, 16], data: new Float32Array(128) },
    "rnn_cell.ff1.bias": { shape: [8], data: new Float32Array(8) },
    "rnn_cell.extra": { shape: [2], data: new Float32Array(2) },
  }));

  test("reports missing, unexpected and wrongly shaped tensors in one message", () => {
    const expected = [
      { name: "rnn_cell.ff1.weight", shape: [16, 8] },
      { name: "rnn_cell.ff1.bias", shape: [8] },
      { name: "rnn_cell.ff2.weight", shape: [8, 16] },
    ];
    assert.throws(() => checkTensorShapes(loaded, expected, "model.safetensors"), (e: Error) => {
      assert.match(e.message, /^model\.safetensors: tensors do not match the model/);
      assert.match(e.message, /missing 1: rnn_cell\.ff2\.weight \[8, 16\]/);
      assert.match(e.message, /wrong shape 1: rnn_cell\.ff1\.weight: expected \[16, 8\], got \[8, 16\]/);
      assert.match(e.message, /unexpected 1: rnn_cell\.extra \[2\]/);
      assert.doesNotMatch(e.message, /ff1\.bias/);
      return true;
    });
  });

  test("passes when everything matches; extras can be allowed", () => {
    const all = [
      { name: "rnn_cell.ff1.weight", shape: [8, 16] },
      { name: "rnn_cell.ff1.bias", shape: [8] },
      { name: "rnn_cell.extra", shape: [2] },
    ];
    checkTensorShapes(loaded, all, "m");
    checkTensorShapes(loaded.tensors, all.slice(0, 2), "m", { allowExtra: true });
    assert.throws(() => checkTensorShapes(loaded, all.slice(0, 2), "m"), /unexpected 1/);
    assert.throws(() => checkTensorShapes(loaded, [...all.slice(0, 2), { name: "rnn_cell.extra", shape: [2, 1] }], "m"), /wrong shape 1: rnn_cell\.extra: expected \[2, 1\], got \[2\]/);
  });
});

test("toFloatTensor converts integer and float data to the requested float dtype", () => {
  const t = toFloatTensor({ dtype: "I64", shape: [2], data: new BigInt64Array([3n, -4n]) }, "float64", "x");
  assert.ok(t.data instanceof Float64Array);
  assert.deepEqual([...t.data], [3, -4]);
  const f = toFloatTensor({ dtype: "F64", shape: [1, 1], data: new Float64Array([0.1]) }, "float32", "y");
  assert.ok(f.data instanceof Float32Array);
  assert.equal(f.data[0], Math.fround(0.1));
  assert.throws(() => toFloatTensor({ dtype: "I64", shape: [1], data: new BigInt64Array([2n ** 60n]) }, "float64", "big"), /big: element 0/);
});

describe("files on disk", () => {
  const listTemps = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"));

  test("saveSafetensors / loadSafetensors round trip and replace an existing file", () => {
    const dir = fs.mkdtempSync(path.join(scratch, "rt-"));
    const file = path.join(dir, "m.safetensors");
    saveSafetensors(file, { w: { shape: [2], data: new Float32Array([1, 2]) } }, { format: "ncps-ts" });
    saveSafetensors(file, { w: { shape: [3], data: new Float32Array([3, 4, 5]) } });
    const loaded = loadSafetensors(file);
    assert.deepEqual([...loaded.tensors.get("w")!.data], [3, 4, 5]);
    assert.deepEqual(loaded.metadata, {});
    assert.deepEqual(listTemps(dir), []);
  });

  test("loadSafetensors names the file when it is missing or corrupt", () => {
    const missing = path.join(scratch, "nope.safetensors");
    assert.throws(() => loadSafetensors(missing), (e: Error) => e.message.startsWith(`${missing}: cannot read`));
    const corrupt = path.join(scratch, "corrupt.safetensors");
    fs.writeFileSync(corrupt, "xyz");
    assert.throws(() => loadSafetensors(corrupt), (e: Error) => e.message.startsWith(`${corrupt}: not a safetensors file`));
  });

  test("a failing encode leaves the previous file intact", () => {
    const dir = fs.mkdtempSync(path.join(scratch, "enc-"));
    const file = path.join(dir, "m.safetensors");
    saveSafetensors(file, { w: { shape: [1], data: new Float32Array([7]) } });
    const before = fs.readFileSync(file);
    assert.throws(() => saveSafetensors(file, { w: { dtype: "I8", shape: [1], data: [999] } }), /out of range/);
    assert.deepEqual(fs.readFileSync(file), before);
    assert.deepEqual(listTemps(dir), []);
  });

  test("writeFileAtomic: a failure after the temp file exists removes it and keeps the old file", () => {
    const dir = fs.mkdtempSync(path.join(scratch, "atomic-"));
    const file = path.join(dir, "state.bin");
    fs.writeFileSync(file, "old content");
    // Data that is neither string nor bytes fails the write.
    assert.throws(() => writeFileAtomic(file, { length: 3 } as unknown as Uint8Array), /data must be a string or Uint8Array/);
    assert.equal(fs.readFileSync(file, "utf8"), "old content");
    assert.deepEqual(listTemps(dir), []);

    // The rename fails (a non-empty directory is in the way) after the temp file was fully written.
    const blocked = path.join(dir, "blocked");
    fs.mkdirSync(blocked);
    fs.writeFileSync(path.join(blocked, "keep.txt"), "inside");
    assert.throws(() => writeFileAtomic(blocked, "new content"));
    assert.equal(fs.readFileSync(path.join(blocked, "keep.txt"), "utf8"), "inside");
    assert.deepEqual(listTemps(dir), []);

    // A directory that does not exist: nothing is created anywhere.
    assert.throws(() => writeFileAtomic(path.join(dir, "missing-dir", "f.bin"), "x"), /ENOENT/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ["blocked", "state.bin"]);
  });

  test("writeFileAtomic writes strings as UTF-8, bytes as is, and keeps the old file's permissions", () => {
    const dir = fs.mkdtempSync(path.join(scratch, "atomic-ok-"));
    const file = path.join(dir, "f.txt");
    writeFileAtomic(file, "héllo");
    assert.deepEqual([...fs.readFileSync(file)], [0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]);
    fs.chmodSync(file, 0o640);
    writeFileAtomic(file, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3]);
    if (process.platform !== "win32") assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    writeFileAtomic(file, new Uint8Array(0));
    assert.equal(fs.readFileSync(file).length, 0);
    assert.deepEqual(listTemps(dir), []);
  });

  test("writeFileAtomicAsync: success and failure behave like the sync version", async () => {
    const dir = fs.mkdtempSync(path.join(scratch, "atomic-async-"));
    const file = path.join(dir, "f.txt");
    await writeFileAtomicAsync(file, "first");
    await writeFileAtomicAsync(file, "second");
    assert.equal(fs.readFileSync(file, "utf8"), "second");
    await assert.rejects(writeFileAtomicAsync(file, 42 as unknown as string), /data must be a string or Uint8Array/);
    const blocked = path.join(dir, "blocked");
    fs.mkdirSync(blocked);
    fs.writeFileSync(path.join(blocked, "x"), "");
    await assert.rejects(writeFileAtomicAsync(blocked, "data"));
    assert.equal(fs.readFileSync(file, "utf8"), "second");
    assert.deepEqual(listTemps(dir), []);
  });
});

describe("tools/export_ncps.py writer", () => {
  const python = spawnSync("python3", ["-c", "print(1)"], { encoding: "utf8" });
  const skip = python.status === 0 ? false : "python3 is not available";

  test("a file written by the Python exporter's writer decodes here", { skip }, () => {
    const out = path.join(scratch, "from-python.safetensors");
    const script = [
      "import json, struct, sys",
      "sys.path.insert(0, sys.argv[1])",
      "from export_ncps import write_safetensors",
      "tensors = [",
      "  ('rnn_cell.layer_0.sparsity_mask', 'F32', (2, 3), struct.pack('<6f', 1, 0, 1, 1, 1, 0)),",
      "  ('rnn_cell.layer_0.ff1.bias', 'F32', (2,), struct.pack('<2f', 0.5, -0.25)),",
      "  ('0', 'F32', (), struct.pack('<f', 3.0)),",
      "]",
      "cfg = {'model': 'CfC', 'constructor_args': {'input_size': 1, 'units': {'wiring': {'kind': 'AutoNCP', 'args': {'units': 5, 'output_size': 1}}}}}",
      "write_safetensors(sys.argv[2], tensors, {'format': 'ncps-ts', 'version': '1', 'config': json.dumps(cfg, separators=(',', ':'))})",
    ].join("\n");
    const run = spawnSync("python3", ["-c", script, path.join(projectRoot, "tools"), out], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const { tensors, metadata } = loadSafetensors(out);
    assert.deepEqual([...tensors.keys()], ["rnn_cell.layer_0.sparsity_mask", "rnn_cell.layer_0.ff1.bias", "0"]);
    assert.deepEqual(tensors.get("rnn_cell.layer_0.sparsity_mask")!.shape, [2, 3]);
    assert.deepEqual([...tensors.get("rnn_cell.layer_0.sparsity_mask")!.data], [1, 0, 1, 1, 1, 0]);
    assert.deepEqual([...tensors.get("rnn_cell.layer_0.ff1.bias")!.data], [0.5, -0.25]);
    assert.deepEqual(tensors.get("0")!.shape, []);
    assert.equal(metadata.format, "ncps-ts");
    assert.equal(metadata.version, "1");
    assert.deepEqual(JSON.parse(metadata.config!), {
      model: "CfC",
      constructor_args: { input_size: 1, units: { wiring: { kind: "AutoNCP", args: { units: 5, output_size: 1 } } } },
    });
    assert.deepEqual(fs.readdirSync(scratch).filter((f) => f.startsWith(".from-python")), []);
  });
});

import { describe, test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { decodeNpy, encodeNpy, loadNpy, saveNpy } from "../src/io/npy.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sharedDir = path.resolve(projectRoot, "../shared");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-npy-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Builds a .npy file by hand: magic, version, header length, header text (+ "\n"), data. */
function npy(header: string, data: Uint8Array | number[], major = 1): Uint8Array {
  const headerBytes = Buffer.from(header + "\n", major === 3 ? "utf8" : "latin1");
  const lenBytes = major === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lenBytes + headerBytes.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0], 0);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 8 + lenBytes);
  out.set(data, 8 + lenBytes + headerBytes.length);
  return out;
}

/** Little- or big-endian bytes of numbers in the given element format. */
function bytesOf(kind: "f4" | "f8" | "i4" | "i2" | "u4" | "i8", values: Array<number | bigint>, littleEndian = true): Uint8Array {
  const size = { f4: 4, f8: 8, i4: 4, i2: 2, u4: 4, i8: 8 }[kind];
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    const at = i * size;
    if (kind === "f4") view.setFloat32(at, v as number, littleEndian);
    else if (kind === "f8") view.setFloat64(at, v as number, littleEndian);
    else if (kind === "i4") view.setInt32(at, v as number, littleEndian);
    else if (kind === "i2") view.setInt16(at, v as number, littleEndian);
    else if (kind === "u4") view.setUint32(at, v as number, littleEndian);
    else view.setBigInt64(at, BigInt(v), littleEndian);
  });
  return out;
}

const dict = (descr: string, shape: string, fortran = "False"): string => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

describe("decodeNpy on hand-built files", () => {
  test("version 1.0 float64 matrix in C order", () => {
    const a = decodeNpy(npy(dict("<f8", "(2, 3)"), bytesOf("f8", [1, 2, 3, 4, 5, 6.5])));
    assert.deepEqual(a.shape, [2, 3]);
    assert.equal(a.dtype, "f8");
    assert.ok(a.data instanceof Float64Array);
    assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 6.5]);
  });

  test("versions 2.0 and 3.0 (4-byte header length; UTF-8 header in 3.0)", () => {
    const v2 = decodeNpy(npy(dict("<f4", "(3,)"), bytesOf("f4", [0.5, -1, 2]), 2));
    assert.ok(v2.data instanceof Float32Array);
    assert.deepEqual([...v2.data], [0.5, -1, 2]);
    const v3 = decodeNpy(npy(`{"descr": "<i4", "fortran_order": False, "shape": (2,), }`, bytesOf("i4", [7, -7]), 3));
    assert.ok(v3.data instanceof Int32Array);
    assert.deepEqual([...v3.data], [7, -7]);
  });

  test("Fortran order is transposed to row-major (2-d and 3-d)", () => {
    // [[1,2,3],[4,5,6]] stored column by column.
    const m = decodeNpy(npy(dict("<f8", "(2, 3)", "True"), bytesOf("f8", [1, 4, 2, 5, 3, 6])));
    assert.deepEqual(m.shape, [2, 3]);
    assert.deepEqual([...m.data], [1, 2, 3, 4, 5, 6]);

    const shape = [2, 3, 4];
    const value = (i: number, j: number, k: number): number => 100 * i + 10 * j + k;
    const fortranValues: number[] = [];
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) fortranValues.push(value(i, j, k));
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(value(i, j, k));
    const t = decodeNpy(npy(dict("<i4", "(2, 3, 4)", "True"), bytesOf("i4", fortranValues)));
    assert.deepEqual(t.shape, shape);
    assert.deepEqual([...t.data], expected);

    // 1-d Fortran arrays are the same as C arrays.
    assert.deepEqual([...decodeNpy(npy(dict("<f4", "(3,)", "True"), bytesOf("f4", [1, 2, 3]))).data], [1, 2, 3]);
  });

  test("big-endian data is byte-swapped", () => {
    assert.deepEqual([...decodeNpy(npy(dict(">f4", "(2,)"), bytesOf("f4", [1.5, -3], false))).data], [1.5, -3]);
    assert.deepEqual([...decodeNpy(npy(dict(">f8", "(2,)"), bytesOf("f8", [Math.PI, 1e-300], false))).data], [Math.PI, 1e-300]);
    assert.deepEqual([...decodeNpy(npy(dict(">i4", "(1,)"), bytesOf("i4", [-123456], false))).data], [-123456]);
  });

  test("integer and bool dtypes map to the documented arrays", () => {
    const i2 = decodeNpy(npy(dict("<i2", "(2,)"), bytesOf("i2", [-32768, 32767])));
    assert.ok(i2.data instanceof Int32Array);
    assert.deepEqual([...i2.data], [-32768, 32767]);
    const i1 = decodeNpy(npy(dict("|i1", "(2,)"), [0xff, 0x7f]));
    assert.deepEqual([...i1.data], [-1, 127]);
    const u1 = decodeNpy(npy(dict("|u1", "(2,)"), [0xff, 0x00]));
    assert.deepEqual([...u1.data], [255, 0]);
    const b1 = decodeNpy(npy(dict("|b1", "(3,)"), [1, 0, 1]));
    assert.ok(b1.data instanceof Int32Array);
    assert.equal(b1.dtype, "b1");
    assert.deepEqual([...b1.data], [1, 0, 1]);
    const u4 = decodeNpy(npy(dict("<u4", "(1,)"), bytesOf("u4", [4294967295])));
    assert.ok(u4.data instanceof Float64Array);
    assert.deepEqual([...u4.data], [4294967295]);
    const i8 = decodeNpy(npy(dict("<i8", "(3,)"), bytesOf("i8", [-5, 2 ** 53 - 1, 0])));
    assert.ok(i8.data instanceof Float64Array);
    assert.deepEqual([...i8.data], [-5, 2 ** 53 - 1, 0]);
  });

  test("0-d, empty and Python 2 style shapes", () => {
    const scalar = decodeNpy(npy(dict("<f8", "()"), bytesOf("f8", [42])));
    assert.deepEqual(scalar.shape, []);
    assert.deepEqual([...scalar.data], [42]);
    const empty = decodeNpy(npy(dict("<f4", "(0, 3)"), []));
    assert.deepEqual(empty.shape, [0, 3]);
    assert.equal(empty.data.length, 0);
    const py2 = decodeNpy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }", bytesOf("f4", [1, 2])));
    assert.deepEqual(py2.shape, [1, 2]);
  });
});

describe("decodeNpy errors name the file and the problem", () => {
  const good = npy(dict("<f8", "(2,)"), bytesOf("f8", [1, 2]));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["bad magic", Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0]), /not a \.npy file/],
    ["too short", good.subarray(0, 5), /not a \.npy file/],
    ["unknown version", (() => {
      const b = good.slice();
      b[6] = 4;
      return b;
    })(), /unsupported \.npy format version 4\.0/],
    ["header longer than the file", good.subarray(0, 30), /truncated \.npy file: header claims/],
    ["truncated data", good.subarray(0, good.length - 3), /truncated \.npy data: shape \(2\) of f8 needs 16 bytes, file has 13/],
    ["trailing bytes", Uint8Array.from([...good, 0, 0]), /2 unexpected bytes after the data/],
    ["complex dtype", npy(dict("<c16", "(1,)"), new Uint8Array(16)), /unsupported dtype "<c16"/],
    ["string dtype", npy(dict("<U5", "(1,)"), new Uint8Array(20)), /unsupported dtype "<U5"/],
    ["native byte order", npy(dict("=f8", "(1,)"), new Uint8Array(8)), /unsupported dtype "=f8"/],
    ["structured dtype", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), /structured arrays are not supported/],
    ["multi-byte type without byte order", npy(dict("|f4", "(1,)"), new Uint8Array(4)), /needs a byte order/],
    ["missing shape", npy("{'descr': '<f4', 'fortran_order': False}", new Uint8Array(4)), /lacks the "shape" key/],
    ["negative shape", npy(dict("<f4", "(-1,)"), []), /shape must be a tuple of non-negative integers/],
    ["bad fortran_order", npy(dict("<f4", "(1,)", "1"), new Uint8Array(4)), /fortran_order must be True or False/],
    ["garbled header", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", new Uint8Array(4)), /cannot parse \.npy header/],
    ["bool byte not 0/1", npy(dict("|b1", "(2,)"), [1, 7]), /bool element 1 has byte value 7/],
    ["i8 beyond 2^53 - 1", npy(dict("<i8", "(1,)"), bytesOf("i8", [2n ** 53n])), /element 0 \(9007199254740992\) of i8 data is beyond \+-\(2\^53 - 1\)/],
  ];
  for (const [what, bytes, pattern] of cases) {
    test(what, () => {
      assert.throws(() => decodeNpy(bytes, "x.npy"), (e: Error) => {
        assert.ok(e.message.startsWith("x.npy: "), e.message);
        assert.match(e.message, pattern);
        return true;
      });
    });
  }

  test("the unmodified file decodes (the cases above fail only for their stated reason)", () => {
    assert.deepEqual([...decodeNpy(good).data], [1, 2]);
  });

  test("loadNpy names a missing file", () => {
    const missing = path.join(scratch, "missing.npy");
    assert.throws(() => loadNpy(missing), (e: Error) => e.message.startsWith(`${missing}: cannot read`));
  });
});

describe("encodeNpy", () => {
  test("writes numpy's header layout: aligned to 64 bytes, newline-terminated", () => {
    const bytes = encodeNpy({ shape: [2], data: new Float64Array([1.5, -2]) });
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    assert.equal((10 + headerLength) % 64, 0);
    const header = Buffer.from(bytes.subarray(10, 10 + headerLength)).toString("latin1");
    assert.match(header, /^\{'descr': '<f8', 'fortran_order': False, 'shape': \(2,\), \} +\n$/);
    const data = new DataView(bytes.buffer, 10 + headerLength);
    assert.equal(data.getFloat64(0, true), 1.5);
    assert.equal(data.getFloat64(8, true), -2);
    assert.equal(bytes.length, 10 + headerLength + 16);
  });

  test("round trips float32, float64 and int32 in several shapes", () => {
    const arrays = [
      { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 0.1]) },
      { shape: [], data: new Float64Array([Math.E]) },
      { shape: [0], data: new Int32Array(0) },
      { shape: [1, 2, 2], data: new Int32Array([-1, 2, -3, 2147483647]) },
    ];
    for (const a of arrays) {
      const back = decodeNpy(encodeNpy(a));
      assert.deepEqual(back.shape, a.shape);
      assert.equal(back.data.constructor, a.data.constructor);
      assert.deepEqual([...back.data], [...a.data]);
    }
    const shapeHeader = (shape: number[]): string => {
      const b = encodeNpy({ shape, data: new Float32Array(shape.reduce((x, y) => x * y, 1)) });
      return Buffer.from(b.subarray(10, 10 + (b[8]! | (b[9]! << 8)))).toString("latin1");
    };
    assert.match(shapeHeader([]), /'shape': \(\), \}/);
    assert.match(shapeHeader([4, 1]), /'shape': \(4, 1\), \}/);
  });

  test("rejects mismatched shapes and unsupported arrays", () => {
    assert.throws(() => encodeNpy({ shape: [3], data: new Float32Array(2) }, "w"), /encodeNpy w: shape \(3\) needs 3 values, data has 2/);
    assert.throws(() => encodeNpy({ shape: [2], data: new Uint8Array(2) as never }), /must be a Float32Array, Float64Array or Int32Array, got Uint8Array/);
  });

  test("saveNpy writes atomically and loadNpy reads it back", () => {
    const file = path.join(scratch, "a.npy");
    saveNpy(file, { shape: [2, 2], data: new Float64Array([1, 2, 3, 4]) });
    saveNpy(file, { shape: [1], data: new Float32Array([9]) });
    const a = loadNpy(file);
    assert.deepEqual(a.shape, [1]);
    assert.deepEqual([...a.data], [9]);
    assert.deepEqual(fs.readdirSync(scratch).filter((f) => f.endsWith(".tmp")), []);
  });
});

describe("interoperability with numpy (skipped when python3 + numpy are absent)", () => {
  const probe = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" });
  const skip = probe.status === 0 ? false : "python3 with numpy is not available";

  test("files written by numpy decode here, and ours load in numpy", { skip }, () => {
    const dir = fs.mkdtempSync(path.join(scratch, "np-"));
    const script = `
import sys, numpy as np
from numpy.lib import format as fmt
d = sys.argv[1]
base = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 0.5 - 3
np.save(d + '/c_f8.npy', base)
np.save(d + '/f_f4.npy', np.asfortranarray(base.astype(np.float32)))
np.save(d + '/be_f8.npy', base.astype('>f8'))
np.save(d + '/i8.npy', np.array([[-(2**40), 5]], dtype=np.int64))
np.save(d + '/b1.npy', np.array([True, False, True]))
for v in [(2, 0), (3, 0)]:
    with open(d + '/v%d.npy' % v[0], 'wb') as f:
        fmt.write_array(f, base.astype(np.float32), version=v)
ours = np.load(d + '/ours.npy')
assert ours.dtype == np.float32 and ours.shape == (2, 2), (ours.dtype, ours.shape)
assert ours.tolist() == [[1.5, -2.0], [0.25, 8.0]], ours.tolist()
`;
    saveNpy(path.join(dir, "ours.npy"), { shape: [2, 2], data: new Float32Array([1.5, -2, 0.25, 8]) });
    const run = spawnSync("python3", ["-c", script, dir], { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    const expected = Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    for (const name of ["c_f8", "f_f4", "be_f8", "v2", "v3"]) {
      const a = loadNpy(path.join(dir, `${name}.npy`));
      assert.deepEqual(a.shape, [2, 3, 4], name);
      assert.deepEqual([...a.data], expected, name);
    }
    assert.deepEqual([...loadNpy(path.join(dir, "i8.npy")).data], [-(2 ** 40), 5]);
    assert.deepEqual([...loadNpy(path.join(dir, "b1.npy")).data], [1, 0, 1]);
  });
});

describe("walker2d rollouts in ../shared", () => {
  const dir = path.join(sharedDir, "data/walker2d");
  const skip = fs.existsSync(dir) ? false : `${dir} not found (shared reference data absent)`;

  test("rollout_000.npy has the documented shape and plausible first values", { skip }, () => {
    const a = loadNpy(path.join(dir, "rollout_000.npy"));
    assert.deepEqual(a.shape, [189, 17]); // SOURCE.md
    assert.equal(a.dtype, "f8");
    assert.ok(a.data instanceof Float64Array);
    // Torso height of the Walker2d observation starts near 1.25 (SOURCE.md).
    assert.ok(Math.abs(a.data[0]! - 1.25) < 0.01, `first value ${a.data[0]}`);
    assert.ok(a.data.every((v) => Number.isFinite(v)));
  });

  test("all 400 rollouts: 17 columns, 131..1000 rows, 254,963 rows in total", { skip }, () => {
    let total = 0;
    let minRows = Infinity;
    let maxRows = 0;
    let files = 0;
    for (const name of fs.readdirSync(dir).filter((f) => f.endsWith(".npy"))) {
      const a = loadNpy(path.join(dir, name));
      assert.equal(a.shape.length, 2, name);
      assert.equal(a.shape[1], 17, name);
      total += a.shape[0]!;
      minRows = Math.min(minRows, a.shape[0]!);
      maxRows = Math.max(maxRows, a.shape[0]!);
      files++;
    }
    assert.equal(files, 400);
    assert.equal(total, 254963);
    assert.equal(minRows, 131);
    assert.equal(maxRows, 1000);
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { replayCase } from "../src/models/replay.js";
import { SKIP_NO_GOLDENS, compareWithCase, goldenFiles, loadGolden } from "./helpers/goldens.js";

const files = goldenFiles((f) => f.startsWith("cfc_"));

describe("CfC reference cases (PyTorch ncps 1.0.1)", { skip: SKIP_NO_GOLDENS }, () => {
  test("the reference cases are present", () => assert.ok(files.length >= 40, `found ${files.length} cfc_* cases`));
  for (const file of files) {
    test(`${file} float64 (reference engine) within 1e-9`, () => {
      const c = loadGolden(file);
      const problems = compareWithCase(replayCase(c, "float64"), c, 1e-9, 1e-9);
      assert.deepEqual(problems, []);
    });
    test(`${file} float32 (wasm engine) within 1e-5 / 1e-4`, () => {
      const c = loadGolden(file);
      const problems = compareWithCase(replayCase(c, "float32"), c, 1e-5, 1e-4);
      assert.deepEqual(problems, []);
    });
  }
});

/**
 * `ncps reproduce`: usage errors, the task list with the paper's figures, and each task end to end for
 * one short epoch on a small slice (on the data sets the tests write, so it runs without ../shared).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { main } from "../src/cli/main.js";
import { writeTaskFixtures } from "./helpers/task-fixtures.js";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s), isTTY: false });
  return { code, out, err };
}

const fx = writeTaskFixtures();
after(() => rmSync(fx.dir, { recursive: true, force: true }));

describe("ncps reproduce: usage", () => {
  test("--list names every task and model with the paper's figures", async () => {
    const r = await cli("reproduce", "--list");
    assert.equal(r.code, 0, r.err);
    for (const task of ["xor", "et-smnist", "walker2d", "physionet", "person-activity"]) assert.match(r.out, new RegExp(`^  ${task} `, "m"));
    assert.match(r.out, /cfc-mixed\s+CfC-mmRNN 99\.72 \+- 0\.08 \(1\.26 min\/epoch\)/);
    assert.match(r.out, /ode-rnn\s+ODE-RNN 0\.833 \+- 0\.009 \(16\.5 min\/epoch\)/);
  });

  test("an unknown task, model or variant is a usage error listing the valid ones", async () => {
    const cases: [string[], RegExp][] = [
      [["reproduce", "imdb"], /unknown task 'imdb'; valid: xor, et-smnist, walker2d, physionet, person-activity/],
      [["reproduce", "xor", "--model", "transformer"], /unknown model 'transformer'; valid: cfc, cfc-no_gate, cfc-pure, cfc-mixed, ltc, lstm/],
      [["reproduce", "xor", "--variant", "jax"], /unknown variant 'jax'; valid: torch, keras, paper/],
      [["reproduce"], /expected a task; valid: xor/],
      [["reproduce", "xor", "--model", "lstm", "--variant", "paper"], /--variant chooses the CfC implementation; it does not apply to --model lstm/],
      [["reproduce", "xor", "--epochs", "0"], /--epochs must be an integer >= 1/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv);
      assert.equal(r.code, 2, argv.join(" "));
      assert.match(r.err, message);
    }
  });

  test("missing data is a failure (exit 1) naming the file", async () => {
    const r = await cli("reproduce", "physionet", "--data-dir", path.join(fx.dir, "absent"), "--quiet");
    assert.equal(r.code, 1);
    assert.match(r.err, /absent\/physionet2012\/Outcomes-a\.txt: file not found; expected PhysioNet 2012 set-A outcomes/);
  });
});

describe("ncps reproduce: each task for one epoch on a small slice", () => {
  const cases: [string, string, (v: number) => boolean][] = [
    ["xor", "cfc", (v) => v >= 0 && v <= 1],
    ["et-smnist", "cfc-mixed", (v) => v >= 0 && v <= 1],
    ["walker2d", "lstm", (v) => v > 0],
    ["physionet", "cfc", (v) => v >= 0 && v <= 1],
    ["physionet", "ode-rnn", (v) => v >= 0 && v <= 1],
    ["person-activity", "cfc-no_gate", (v) => v >= 0 && v <= 1],
  ];
  for (const [task, model, inRange] of cases) {
    test(`${task} --model ${model}`, async () => {
      const out = path.join(fx.dir, `out-${task}-${model}`);
      const r = await cli("reproduce", task, "--model", model, "--epochs", "1", "--limit", "40", "--data-dir", fx.dir, "--json", "--out", out);
      assert.equal(r.code, 0, r.err);
      const res = JSON.parse(r.out);
      assert.equal(res.task, task);
      assert.equal(res.model, model);
      assert.equal(res.runs.length, 1);
      assert.ok(inRange(res.mean), `test ${res.metric} ${res.mean}`);
      assert.ok(res.parameters > 0 && res.train_seconds_per_epoch > 0);
      assert.equal(res.epochs, 1);
      if (model === "lstm") assert.equal(res.model_config.constructor_args.input_size, 18, "17 state values and the elapsed time");
      const files = readdirSync(out).sort();
      assert.equal(files.length, 2);
      const log = readFileSync(path.join(out, files.find((f) => f.endsWith(".jsonl"))!), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(log[0].epoch, 1);
      assert.equal(log.at(-1).summary.mean, res.mean);
      assert.deepEqual(JSON.parse(readFileSync(path.join(out, files.find((f) => f.endsWith(".json"))!), "utf8")), res);
    });
  }

  test("--variant paper builds the cell of the paper's script: TensorFlow's with its forget bias, or torch's", async () => {
    const xor = await cli("reproduce", "xor", "--model", "cfc-mixed", "--variant", "paper", "--epochs", "1", "--limit", "20", "--json", "--quiet");
    assert.equal(xor.code, 0, xor.err);
    const a = JSON.parse(xor.out).model_config.constructor_args;
    assert.equal(a.variant, "paper");
    assert.equal(a.forget_bias, 0.6, "the paper's XOR mixed-memory forget_bias");
    const torch = await cli("reproduce", "xor", "--model", "cfc-mixed", "--epochs", "1", "--limit", "20", "--json", "--quiet");
    const t = JSON.parse(torch.out).model_config.constructor_args;
    assert.equal(t.variant, "torch");
    assert.equal(t.forget_bias, 1, "ncps torch's forget bias");
    const physio = await cli("reproduce", "physionet", "--variant", "paper", "--epochs", "1", "--limit", "40", "--data-dir", fx.dir, "--json", "--quiet");
    assert.equal(physio.code, 0, physio.err);
    const p = JSON.parse(physio.out);
    assert.equal(p.variant, "paper");
    assert.equal(p.model_config.constructor_args.variant, "torch", "the paper's PhysioNet script uses its torch cell, ncps torch's function");
  });

  test("the text report puts the paper's figure beside the result", async () => {
    const r = await cli("reproduce", "xor", "--epochs", "1", "--limit", "20", "--quiet");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^xor cfc \(torch\): test accuracy \d+\.\d\d% over 1 run\(s\) of 1 epoch\(s\) on the first 20 sequences; [\d.]+ s per epoch; 124,097 parameters\n  paper CfC: 99\.42% \+- 0\.42%, 0\.75 min\/epoch \(3 runs of 200 epochs\)\n$/);
    assert.equal(r.err, "");
  });
});

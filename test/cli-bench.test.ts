/** `ncps bench`, run in-process through the CLI dispatcher: the report's shape, never its timings. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { main } from "../src/cli/main.js";
import { benchModelConfig, benchModelKind, modelKindAvailable } from "../src/cli/bench-models.js";
import { suiteDefaults } from "../src/cli/bench-suite.js";

async function runBench(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const small = ["--batch", "6", "--seq-len", "3", "--input-size", "2", "--units", "4", "--backbone-units", "4", "--repeats", "2", "--warmup", "1", "--backend", "reference"];
  const code = await main(["bench", ...small, ...args], { out: (s) => (out += s), err: (s) => (err += s), isTTY: false });
  return { code, out, err };
}

function checkTimes(r: Record<string, unknown>): void {
  assert.equal(r.repeats, 2);
  for (const k of ["median_ms", "min_ms", "max_ms"]) assert.ok(Number.isFinite(r[k]) && (r[k] as number) >= 0, `${k}: ${r[k]}`);
  assert.ok((r.min_ms as number) <= (r.median_ms as number) && (r.median_ms as number) <= (r.max_ms as number));
}

describe("ncps bench --json", () => {
  for (const threads of ["1", "2"]) {
    test(`train step, ${threads} thread(s)`, async () => {
      const { code, out, err } = await runBench(["--what", "train", "--threads", threads, "--json"]);
      assert.equal(code, 0, err);
      const r = JSON.parse(out);
      checkTimes(r);
      assert.deepEqual([r.config.what, r.config.threads, r.config.batch], ["train", Number(threads), 6]);
      if (threads === "1") {
        // the step's matrix-product rate against the engine's gemm measured in the same run
        assert.ok(r.gflops > 0 && r.gemm_gflops > 0, JSON.stringify(r));
        assert.ok(Math.abs(r.gemm_fraction - r.gflops / r.gemm_gflops) < 1e-12);
      }
    });

    test(`batched inference, ${threads} thread(s), reports sequences per second`, async () => {
      const { code, out, err } = await runBench(["--what", "infer", "--threads", threads, "--json"]);
      assert.equal(code, 0, err);
      const r = JSON.parse(out);
      checkTimes(r);
      assert.ok(r.seq_per_s > 0);
    });
  }

  test("streaming reports microseconds per step", async () => {
    const { code, out, err } = await runBench(["--what", "stream", "--json"]);
    assert.equal(code, 0, err);
    const r = JSON.parse(out);
    checkTimes(r);
    assert.ok(r.median_us_per_step >= 0);
  });

  test("text report and usage errors", async () => {
    const text = await runBench(["--what", "train"]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^cfc train \(.*\)\n {2}median [\d.]+ ms {2}min [\d.]+ {2}max [\d.]+ {2}\(2 runs\)\n {2}matrix products [\d.]+ GFLOP\/s, \d+% of the engine's gemm \([\d.]+ GFLOP\/s\) in this run\n$/);
    const stream = await runBench(["--what", "stream", "--threads", "2"]);
    assert.equal(stream.code, 2);
    assert.match(stream.err, /--threads applies to --what train and infer/);
    const cores = availableParallelism();
    for (const threads of ["0", "-1", String(cores + 1), "1.5"]) {
      const refused = await runBench(["--what", "train", "--threads", threads]);
      assert.equal(refused.code, 2, `--threads ${threads}`);
      assert.ok(refused.err.includes(`--threads must be an integer from 1 to ${cores} (this machine has ${cores} core`), refused.err);
    }
    const what = await runBench(["--what", "fly"]);
    assert.equal(what.code, 2);
    assert.match(what.err, /--what must be train, infer or stream/);
  });

  for (const model of ["gru", "lstm"]) {
    test(`--model ${model}: the baselines, built from their configs`, async () => {
      const { code, out, err } = await runBench(["--model", model, "--what", "train", "--json"]);
      assert.equal(code, 0, err);
      const r = JSON.parse(out);
      checkTimes(r);
      assert.equal(r.config.model_config.model, model.toUpperCase());
      assert.equal(r.config.model_config.constructor_args.hidden_size, 4);
      assert.equal(r.solver, undefined);
    });
  }

  // ODE models run once buildModel knows their kind (some come from other builds), and say so until then
  for (const model of ["ct-rnn", "ode-rnn", "gru-ode", "ode-lstm"]) {
    for (const solver of ["rk4", "dopri5"]) {
      test(`--model ${model} --solver ${solver}: solver steps, or not in this build`, async () => {
        const config = benchModelConfig({ name: model, sizes: suiteDefaults(false).sizes, solver: { solver: solver as "rk4" | "dopri5" } });
        const { code, out, err } = await runBench(["--model", model, "--solver", solver, "--what", "infer", "--json"]);
        if (!modelKindAvailable(config)) {
          assert.equal(code, 1);
          assert.match(err, new RegExp(`--model ${model}: ${config.model} is not in this build`));
          return;
        }
        assert.equal(code, 0, err);
        const r = JSON.parse(out);
        checkTimes(r);
        assert.equal(r.config.model_config.constructor_args.solver, solver);
        if (solver === "rk4") assert.deepEqual([r.solver.accepted_per_observation, r.solver.evaluations_per_observation], [1, 4]);
        else assert.deepEqual([r.config.solver.rtol, r.config.solver.atol], [1e-3, 1e-4]);
        assert.ok(r.solver.accepted_per_observation >= 1);
      });
    }
  }

  test("every ODE model's config: its size argument as its toConfig names it, the solver flat in odeOptionsToArgs's names", () => {
    const sizeArgs: Record<string, string> = { "ct-rnn": "units", "ode-rnn": "hidden_size", "gru-ode": "hidden_size", "ode-lstm": "hidden_size" };
    for (const [name, sizeArg] of Object.entries(sizeArgs)) {
      assert.ok(benchModelKind(name)!.ode);
      const sizes = suiteDefaults(false).sizes;
      const rk4 = benchModelConfig({ name, sizes, solver: { solver: "rk4", stepsPerGap: 2 } }).constructor_args;
      assert.deepEqual(rk4, { input_size: 16, [sizeArg]: 64, solver: "rk4", steps_per_gap: 2 });
      const dopri5 = benchModelConfig({ name, sizes, solver: { solver: "dopri5", rtol: 1e-3, atol: 1e-4 } }).constructor_args;
      assert.deepEqual(dopri5, { input_size: 16, [sizeArg]: 64, solver: "dopri5", rtol: 1e-3, atol: 1e-4 });
    }
  });

  test("model and solver usage errors name the flag", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--model", "rnn"], /--model must be one of cfc, .*ode-lstm.*; got 'rnn'/],
      [["--model", "ct-rnn", "--solver", "rk45"], /--solver must be euler, rk4 or dopri5, got 'rk45'/],
      [["--model", "cfc", "--solver", "rk4"], /--solver applies to the ODE models .* not to --model cfc/],
      [["--model", "ct-rnn", "--solver", "rk4", "--rtol", "1e-3"], /--rtol applies to --solver dopri5, not to rk4/],
      [["--model", "ct-rnn", "--steps-per-gap", "2"], /--steps-per-gap applies to --solver euler and rk4, not to dopri5/],
      [["--model", "ct-rnn", "--atol", "0"], /--atol must be a number > 0, got '0'/],
      [["--model", "lstm", "--wiring", "autoncp"], /--wiring applies to cfc and ltc models, not to --model lstm/],
      [["--model", "cfc", "--wiring", "ncp"], /--wiring must be autoncp\[:SPARSITY\]/],
      [["--model", "gru", "--compare-cfc"], /--compare-cfc needs --model ltc/],
      [["--units", "0"], /--units must be an integer >= 1, got '0'/],
      [["--seq-len", "-1"], /--seq-len must be an integer >= 1/],
    ];
    for (const [args, message] of cases) {
      const r = await runBench(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, message, args.join(" "));
    }
  });
});

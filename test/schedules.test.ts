import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { constant, cosine, exponential, parseSchedule, step, warmup } from "../src/train/schedules.js";

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-15 * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected}`);
}

describe("schedules", () => {
  test("constant keeps the base rate", () => {
    const s = constant();
    for (const e of [0, 1, 50]) assert.equal(s.lrAt(e, 0.01), 0.01);
    assert.equal(s.perStep, false);
  });

  test("exponential: lr0 * gamma^epoch (epoch 0 at the base rate)", () => {
    const s = exponential(0.5);
    assert.equal(s.lrAt(0, 0.2), 0.2);
    assert.equal(s.lrAt(1, 0.2), 0.1);
    assert.equal(s.lrAt(3, 0.2), 0.025);
    close(exponential(0.95).lrAt(2, 0.01), 0.01 * 0.9025, "0.95^2");
  });

  test("step: gamma applied once per stepSize epochs", () => {
    const s = step(3, 0.1);
    assert.deepEqual([0, 1, 2].map((e) => s.lrAt(e, 1)), [1, 1, 1]);
    close(s.lrAt(3, 1), 0.1, "epoch 3");
    close(s.lrAt(5, 1), 0.1, "epoch 5");
    close(s.lrAt(6, 1), 0.010000000000000002, "epoch 6");
  });

  test("cosine: half-cosine from base to etaMin over tMax epochs, then stays at etaMin", () => {
    const s = cosine(4);
    assert.equal(s.lrAt(0, 1), 1);
    close(s.lrAt(1, 1), (1 + Math.SQRT1_2) / 2, "epoch 1");
    close(s.lrAt(2, 1), 0.5, "epoch 2");
    close(s.lrAt(3, 1), (1 - Math.SQRT1_2) / 2, "epoch 3");
    close(s.lrAt(4, 1), 0, "epoch 4");
    close(s.lrAt(9, 1), 0, "past tMax");
    const withFloor = cosine(2, 0.1);
    close(withFloor.lrAt(1, 0.5), 0.1 + 0.4 * 0.5, "etaMin midpoint");
    close(withFloor.lrAt(5, 0.5), 0.1, "etaMin floor");
  });

  test("warmup (epochs) scales the inner rate by (k+1)/(W+1) for the first W epochs", () => {
    const s = warmup(3, exponential(0.5));
    close(s.lrAt(0, 1), 1 * 0.25, "epoch 0");
    close(s.lrAt(1, 1), 0.5 * 0.5, "epoch 1");
    close(s.lrAt(2, 1), 0.25 * 0.75, "epoch 2");
    close(s.lrAt(3, 1), 0.125, "epoch 3");
    assert.equal(s.perStep, false);
  });

  test("warmup (steps) uses the global step and asks for it", () => {
    const s = warmup(4, constant(), "steps");
    assert.equal(s.perStep, true);
    close(s.lrAt(0, 1, 0), 0.2, "step 0");
    close(s.lrAt(0, 1, 3), 0.8, "step 3");
    close(s.lrAt(1, 1, 4), 1, "step 4");
    assert.throws(() => s.lrAt(0, 1), /global step/);
  });

  test("bad arguments are rejected with the argument named", () => {
    assert.throws(() => exponential(0), /gamma/);
    assert.throws(() => step(0, 0.5), /stepSize/);
    assert.throws(() => step(1.5, 0.5), /stepSize/);
    assert.throws(() => cosine(10, -1), /etaMin/);
    assert.throws(() => warmup(0), /length/);
    assert.throws(() => constant().lrAt(-1, 0.1), /epoch/);
    assert.throws(() => constant().lrAt(1.5, 0.1), /epoch/);
  });
});

describe("parseSchedule", () => {
  test("parses each form into a schedule with the expected rates", () => {
    close(parseSchedule("exp:0.95").lrAt(2, 1), 0.9025, "exp");
    close(parseSchedule("exponential:0.5").lrAt(1, 1), 0.5, "exponential");
    close(parseSchedule("step:10:0.5").lrAt(10, 1), 0.5, "step");
    close(parseSchedule("cosine:50").lrAt(25, 1), 0.5, "cosine");
    close(parseSchedule("cosine:2:0.1").lrAt(2, 1), 0.1, "cosine etaMin");
    assert.equal(parseSchedule("constant").lrAt(7, 0.3), 0.3);
    close(parseSchedule("warmup:3,exp:0.95").lrAt(1, 1), 0.95 * 0.5, "warmup exp");
    close(parseSchedule("warmup:3").lrAt(0, 1), 0.25, "warmup alone");
    const steps = parseSchedule("warmup:500steps,cosine:50");
    assert.equal(steps.perStep, true);
    close(steps.lrAt(0, 1, 99), 100 / 501, "step warmup");
  });

  test("spec round-trips through parseSchedule", () => {
    for (const spec of ["constant", "exp:0.95", "step:10:0.5", "cosine:50", "cosine:50:0.001", "warmup:3,exp:0.95", "warmup:20steps,cosine:8"]) {
      assert.equal(parseSchedule(spec).spec, spec);
    }
  });

  test("malformed specifications give clear errors", () => {
    assert.throws(() => parseSchedule(""), /empty/);
    assert.throws(() => parseSchedule("linear:3"), /unknown schedule "linear"/);
    assert.throws(() => parseSchedule("exp"), /"exp:<gamma>"/);
    assert.throws(() => parseSchedule("exp:abc"), /gamma must be a number, got "abc"/);
    assert.throws(() => parseSchedule("exp:-0.5"), /gamma must be a positive/);
    assert.throws(() => parseSchedule("step:10"), /"step:<epochs>:<gamma>"/);
    assert.throws(() => parseSchedule("cosine:50:0:1"), /cosine:<tMax>/);
    assert.throws(() => parseSchedule("warmup:x,exp:0.9"), /warmup:<epochs>/);
    assert.throws(() => parseSchedule("warmup:0"), /positive integer/);
    assert.throws(() => parseSchedule("exp:0.9,warmup:3"), /warm-up must come first|only a warm-up may precede/);
    assert.throws(() => parseSchedule("warmup:2,warmup:3"), /warm-up must come first/);
    assert.throws(() => parseSchedule("warmup:2,exp:0.9,constant"), /at most one/);
  });
});

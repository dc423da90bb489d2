import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { METRICS, accuracy, computeMetric, meanAbsoluteError, meanSquaredError, parseMetricName, rocAuc } from "../src/train/metrics.js";

/** AUC by definition: over all (positive, negative) pairs, 1 if the positive scores higher, 1/2 on a tie. */
function pairCountingAuc(scores: number[], labels: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

describe("accuracy", () => {
  test("argmax per row, first maximum on ties", () => {
    const logits = [0.1, 0.7, 0.2, 3, 1, 3, -1, -2, -0.5, 0, 0, 0];
    // predictions: 1, 0 (tie between 0 and 2 -> first), 2, 0
    assert.equal(accuracy(logits, [1, 0, 2, 1], 4, 3), 0.75);
    assert.equal(accuracy(logits, [1, 2, 2, 0], 4, 3), 0.75);
  });

  test("single column: logit > 0 means class 1", () => {
    assert.equal(accuracy([0.5, -0.2, 0, 3], [1, 0, 1, 0], 4, 1), 0.5);
  });

  test("mask counts only selected rows; nothing counted gives NaN", () => {
    assert.equal(accuracy([0.5, -0.2, 0, 3], [1, 0, 1, NaN], 4, 1, [1, 1, 1, 0]), 2 / 3);
    assert.ok(Number.isNaN(accuracy([1], [1], 1, 1, [0])));
  });

  test("invalid targets are reported with the row", () => {
    assert.throws(() => accuracy([1, 2], [2], 1, 2), /target of row 0 must be a class index in \[0, 1\], got 2/);
    assert.throws(() => accuracy([1, 2], [0, 0.5], 2, 1), /target of row 1 must be 0 or 1/);
    assert.throws(() => accuracy([1, 2, 3], [0], 1, 2), /predictions has length 3, expected 2/);
  });
});

describe("rocAuc", () => {
  test("perfect, reversed and hand-counted cases", () => {
    assert.equal(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
    assert.equal(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
    // positives 0.35, 0.8; negatives 0.1, 0.4: pairs won 1 + 0 + 1 + 1 = 3 of 4
    assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  });

  test("ties count one half, matching brute-force pair counting", () => {
    const scores = [0.5, 0.5, 0.5, 0.2, 0.9, 0.2, 0.9, 0.7, 0.5, 0.1];
    const labels = [1, 0, 1, 0, 1, 1, 0, 0, 0, 1];
    assert.equal(rocAuc(scores, labels), pairCountingAuc(scores, labels));
    assert.equal(rocAuc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
    // A longer pseudo-random case with many ties.
    const s: number[] = [];
    const y: number[] = [];
    let seed = 11;
    for (let i = 0; i < 300; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      s.push(Math.floor((seed / 2147483648) * 17) / 4);
      y.push((seed >> 7) & 1);
    }
    assert.ok(Math.abs(rocAuc(s, y) - pairCountingAuc(s, y)) < 1e-12);
  });

  test("mask drops entries; a single class gives NaN; bad input is rejected", () => {
    assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8, NaN], [0, 0, 1, 1, 7], [1, 1, 1, 1, 0]), 0.75);
    assert.ok(Number.isNaN(rocAuc([0.1, 0.2], [1, 1])));
    assert.ok(Number.isNaN(rocAuc([0.1, 0.2], [0, 1], [0, 1])));
    assert.throws(() => rocAuc([0.1, 0.2], [0, 2]), /labels\[1\] must be 0 or 1/);
    assert.throws(() => rocAuc([0.1, NaN], [0, 1]), /scores\[1\] is NaN/);
    assert.throws(() => rocAuc([0.1, 0.2], [0]), /labels has length 1, expected 2/);
  });
});

describe("regression metrics", () => {
  test("mse and mae hand values, with a row mask", () => {
    const pred = [1, 2, 3, 4, 100, 100];
    const target = [0, 2, 5, 4, NaN, NaN];
    assert.equal(meanSquaredError(pred, target, 3, 2, [1, 1, 0]), 5 / 4);
    assert.equal(meanAbsoluteError(pred, target, 3, 2, [1, 1, 0]), 3 / 4);
    assert.ok(Number.isNaN(meanSquaredError([1], [1], 1, 1, [0])));
  });
});

describe("computeMetric", () => {
  test("dispatches by name, including binary AUC from two logits", () => {
    // score = logit1 - logit0: -1, 0.5, 2, 0 -> labels 0, 1, 1, 0 -> perfect ordering
    const logits2 = [1, 0, 0, 0.5, -1, 1, 3, 3];
    assert.equal(computeMetric("roc_auc", logits2, [0, 1, 1, 0], 4, 2), 1);
    assert.equal(computeMetric("roc_auc", [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 4, 1), 0.75);
    assert.equal(computeMetric("accuracy", logits2, [0, 1, 1, 0], 4, 2), 1);
    assert.equal(computeMetric("mse", [1, 3], [0, 0], 2, 1), 5);
    assert.equal(computeMetric("mae", [1, -3], [0, 0], 2, 1), 2);
    assert.throws(() => computeMetric("roc_auc", [1, 2, 3], [0], 1, 3), /binary task/);
  });

  test("registry knows the direction of each metric and rejects unknown names", () => {
    assert.equal(METRICS.accuracy.higherIsBetter, true);
    assert.equal(METRICS.roc_auc.higherIsBetter, true);
    assert.equal(METRICS.mse.higherIsBetter, false);
    assert.equal(METRICS.mae.higherIsBetter, false);
    assert.equal(parseMetricName("mae"), "mae");
    assert.throws(() => parseMetricName("f1"), /unknown metric "f1".*accuracy, roc_auc, mse, mae/);
    assert.throws(() => parseMetricName("toString"), /unknown metric/);
  });
});

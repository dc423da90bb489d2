import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CfC } from "../src/models/cfc.js";
import { EarlyStopping } from "../src/train/early-stopping.js";
import type { EvaluateResult } from "../src/train/evaluate.js";

const tinyModel = () => new CfC(1, 4, { backboneUnits: 4, backend: "reference", seed: 1 });

function result(loss: number, metrics: Record<string, number> = {}): EvaluateResult {
  return { loss, metrics, weight: 1 };
}

/** Feeds the values (1-based epochs) and returns which ones improved. */
function improvements(es: EarlyStopping, values: EvaluateResult[]): boolean[] {
  const model = tinyModel();
  return values.map((v, i) => es.observe(v, i + 1, model));
}

describe("EarlyStopping", () => {
  test("loss: lower is better, an improvement must beat the best by more than minDelta", () => {
    const es = new EarlyStopping({ patience: 3, minDelta: 0.1 });
    assert.deepEqual(improvements(es, [result(1), result(0.95), result(0.85), result(0.8)]), [true, false, true, false]);
    assert.deepEqual(es.best, { metric: "loss", value: 0.85, epoch: 3 });
    assert.equal(es.badEpochs, 1);
  });

  test("a metric where higher is better (accuracy) counts increases as improvements", () => {
    const es = new EarlyStopping({ patience: 2, metric: "accuracy" });
    const values = [0.5, 0.7, 0.6, 0.7].map((a) => result(9, { accuracy: a }));
    assert.deepEqual(improvements(es, values), [true, true, false, false]);
    assert.deepEqual(es.best, { metric: "accuracy", value: 0.7, epoch: 2 });
    assert.ok(es.patienceExhausted, "two epochs without improvement with patience 2");
  });

  test("a value that is not finite never improves, even as the first one", () => {
    const es = new EarlyStopping({ patience: 5 });
    assert.deepEqual(improvements(es, [result(NaN), result(Infinity), result(2)]), [false, false, true]);
    assert.equal(es.best?.epoch, 3);
  });

  test("patience is exhausted after `patience` epochs in a row without improvement, and an improvement resets it", () => {
    const es = new EarlyStopping({ patience: 2 });
    const model = tinyModel();
    es.observe(result(1), 1, model);
    es.observe(result(2), 2, model);
    assert.ok(!es.patienceExhausted);
    es.observe(result(0.5), 3, model);
    es.observe(result(3), 4, model);
    assert.ok(!es.patienceExhausted);
    es.observe(result(3), 5, model);
    assert.ok(es.patienceExhausted);
  });

  test("without options the best epoch is tracked but the run never stops and no weights are kept", () => {
    const es = new EarlyStopping(null);
    improvements(es, [result(1), result(2), result(3), result(4)]);
    assert.equal(es.best?.epoch, 1);
    assert.equal(es.badEpochs, 3);
    assert.ok(!es.patienceExhausted);
    assert.equal(es.bestWeights, null);
    assert.equal(es.restoreBestWeights(tinyModel(), 4), false);
  });

  test("restoreBestWeights loads the best epoch's weights unless they are already the model's", () => {
    const es = new EarlyStopping({ patience: 2 });
    const model = tinyModel();
    es.observe(result(1), 1, model);
    const bestWeights = [...model.stateDict()].map(([, t]) => Array.from(t.data));
    for (const p of model.parameters()) p.value.fill(0.25);
    es.observe(result(2), 2, model);
    assert.equal(es.restoreBestWeights(model, 1), false, "the run ended on the best epoch: nothing to restore");
    assert.ok(es.restoreBestWeights(model, 2));
    assert.deepEqual([...model.stateDict()].map(([, t]) => Array.from(t.data)), bestWeights);
  });

  test("restoreBest: false keeps no copy of the weights", () => {
    const es = new EarlyStopping({ patience: 2, restoreBest: false });
    improvements(es, [result(1), result(2)]);
    assert.equal(es.bestWeights, null);
    assert.equal(es.restoreBestWeights(tinyModel(), 2), false);
  });
});

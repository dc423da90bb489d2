/**
 * Columns as they come: text (categorical) features one-hot encoded with the training split's
 * vocabulary, the missing-value tokens, separators other than the comma, and untidy column names.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_NA_VALUES } from "../src/data/cells.js";
import { csvToDataset } from "../src/data/csv-dataset.js";
import { validateDataset } from "../src/data/dataset.js";

/** Step l of sequence n of a dataset's inputs. */
const inputs = (ds: { x: Float32Array; steps: number; features: number }, n: number, l: number): number[] =>
  Array.from(ds.x.subarray((n * ds.steps + l) * ds.features, (n * ds.steps + l + 1) * ds.features));

describe("categorical feature columns", () => {
  const CSV = `t,speed,mode,y
0,10,car,1
1,20,bus,2
2,30,car,3
3,40,tram,4
`;

  test("text columns are one-hot encoded over sorted values; numeric ones standardised, indicators not", () => {
    const notes: string[] = [];
    const r = csvToDataset(CSV, "m.csv", { target: "y", time: "t", onNote: (m) => notes.push(m) });
    validateDataset(r.train);
    assert.deepEqual(r.featureColumns, ["speed", "mode"]);
    assert.deepEqual(r.featureNames, ["speed", "mode=bus", "mode=car", "mode=tram"]);
    assert.deepEqual(r.categorical, [{ column: "mode", values: ["bus", "car", "tram"] }]);
    assert.equal(r.missingMask, false);
    // speed: mean 25, population std sqrt(125); the indicators keep 0/1.
    const sd = Math.sqrt(125);
    assert.deepEqual(r.normalization.featureMean, [25, 0, 0, 0]);
    assert.deepEqual(r.normalization.featureStd, [sd, 1, 1, 1]);
    const expected = [
      [(10 - 25) / sd, 0, 1, 0],
      [(20 - 25) / sd, 1, 0, 0],
      [(30 - 25) / sd, 0, 1, 0],
      [(40 - 25) / sd, 0, 0, 1],
    ];
    expected.forEach((row, l) => inputs(r.train, 0, l).forEach((v, k) => assert.ok(Math.abs(v - row[k]) < 1e-6, `step ${l} input ${k}: ${v}`)));
    assert.ok(notes.some((n) => /m\.csv: column "mode" is text: one-hot encoded; pass --numeric mode to refuse text instead/.test(n)), notes.join("\n"));
  });

  test("the vocabulary comes from the training split; validation values outside it are zeros, with a warning", () => {
    const rows = ["s,t,mode,y"];
    // s0..s3 use car/bus; s4 alone uses "ferry".
    for (let q = 0; q < 5; q++) for (let k = 0; k < 3; k++) rows.push(`s${q},${k},${q === 4 ? "ferry" : k % 2 ? "bus" : "car"},${k}`);
    const csv = rows.join("\n") + "\n";
    // Find a seed that puts s4 in validation (the split is a seeded shuffle of the 5 sequences).
    let found = false;
    for (let seed = 0; seed < 50 && !found; seed++) {
      const warnings: string[] = [];
      const r = csvToDataset(csv, "v.csv", { target: "y", time: "t", sequence: "s", validSplit: 0.2, seed, onWarning: (m) => warnings.push(m) });
      const validRows = new Set([...r.rowIndex.valid!].filter((x) => x >= 0));
      if (!validRows.has(12)) continue;
      found = true;
      assert.deepEqual(r.categorical, [{ column: "mode", values: ["bus", "car"] }]);
      for (let l = 0; l < 3; l++) assert.deepEqual(inputs(r.valid!, 0, l), [0, 0]);
      assert.ok(warnings.some((w) => /v\.csv \(validation part\): column "mode": 3 step\(s\) hold values not seen in training \("ferry" x3\), encoded as all zeros/.test(w)), warnings.join("\n"));
    }
    assert.ok(found, "no seed put s4 in the validation split");
  });

  test("a trained vocabulary: unseen values give zeros and a warning; missing cells are forward filled and masked", () => {
    const trained = csvToDataset(CSV, "m.csv", { target: "y", time: "t" });
    const fresh = "t,speed,mode\n0,25,bus\n1,25,NA\n2,25,ferry\n3,25,ferry\n";
    const warnings: string[] = [];
    const r = csvToDataset(fresh, "new.csv", {
      target: "y",
      time: "t",
      normalization: trained.normalization,
      categories: trained.categorical,
      missingMask: true,
      allowMissingTarget: true,
      onWarning: (m) => warnings.push(m),
    });
    assert.deepEqual(r.featureNames.slice(0, 4), ["speed", "mode=bus", "mode=car", "mode=tram"]);
    // [values | masks]
    assert.deepEqual(inputs(r.train, 0, 0), [0, 1, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(inputs(r.train, 0, 1), [0, 1, 0, 0, 1, 0, 0, 0]); // "NA": bus carried forward, masks 0
    assert.deepEqual(inputs(r.train, 0, 2), [0, 0, 0, 0, 1, 1, 1, 1]); // "ferry": all zeros, observed
    assert.deepEqual(warnings, ['new.csv: column "mode": 2 step(s) hold values not seen in training ("ferry" x2), encoded as all zeros']);
  });

  test("--categorical encodes number codes (sorted numerically); --numeric refuses text, naming the flag", () => {
    const csv = "icu,x,y\n2,1,1\n10,2,2\n1,3,3\n2.0,4,4\n";
    const r = csvToDataset(csv, "c.csv", { target: "y", categorical: ["icu"] });
    assert.deepEqual(r.categorical, [{ column: "icu", values: ["1", "2", "10"] }]);
    assert.deepEqual(inputs(r.train, 0, 3).slice(0, 3), [0, 1, 0]); // 2.0 is the value 2
    assert.throws(
      () => csvToDataset(CSV, "m.csv", { target: "y", time: "t", numeric: ["mode"] }),
      /^Error: m\.csv line 2, column "mode": expected a number, got "car" \(--numeric mode refuses text; leave it out to one-hot encode the column, or pass --na-values to read this token as missing\)$/,
    );
    assert.throws(() => csvToDataset(CSV, "m.csv", { target: "y", categorical: ["nope"] }), /m\.csv: --categorical nope: "nope" is not one of the feature columns \(t, speed, mode\)/);
    assert.throws(() => csvToDataset(CSV, "m.csv", { target: "y", categorical: ["mode"], numeric: ["mode"] }), /column "mode" is given to both --categorical and --numeric/);
  });

  test("a stray word in a column of numbers is a bad cell, with the flags that would accept it", () => {
    const rows = ["t,pressure,y"];
    for (let i = 0; i < 10; i++) rows.push(`${i},${i === 6 ? "n.a." : 1000 + i},${i}`);
    assert.throws(
      () => csvToDataset(rows.join("\n"), "p.csv", { target: "y", time: "t" }),
      /^Error: p\.csv line 8, column "pressure": expected a number, got "n\.a\." \(the column is mostly numbers; pass --categorical pressure to one-hot encode it, or --na-values to read this token as missing\)$/,
    );
    const ok = csvToDataset(rows.join("\n"), "p.csv", { target: "y", time: "t", naValues: ["n.a."] });
    assert.equal(ok.missingMask, true);
  });

  test("text with very many distinct values is refused (an id or a time?), naming the flags", () => {
    const rows = ["when,x,y"];
    for (let i = 0; i < 150; i++) rows.push(`event-${i},${i},${i}`);
    assert.throws(
      () => csvToDataset(rows.join("\n"), "e.csv", { target: "y" }),
      /^Error: e\.csv: column "when" holds text with more than 100 distinct values \("event-0", "event-1", "event-2", \.\.\.\), too many to one-hot encode by default; pass --categorical when to encode it anyway, --time when if it holds the times, --sequence when if it names the series, or --features without it$/,
    );
    const forced = csvToDataset(rows.join("\n"), "e.csv", { target: "y", categorical: ["when"] });
    assert.equal(forced.categorical[0].values.length, 150);
  });

  test("text targets: classification keeps class names; regression refuses them, naming --task", () => {
    const csv = "x,label\n1,walk\n2,run\n3,None\n4,sit\n";
    const r = csvToDataset(csv, "a.csv", { target: "label", task: "classify" });
    assert.deepEqual(r.classes, ["run", "sit", "walk"]);
    assert.deepEqual([...r.train.targetMask!], [1, 1, 0, 1]);
    assert.throws(() => csvToDataset(csv, "a.csv", { target: "label" }), /^Error: a\.csv line 2, column "label": expected a number, got "walk" \(a regression target must be a number; pass --task classify to predict classes\)$/);
  });
});

describe("missing-value tokens", () => {
  test("every default token (and empty) is missing, in numeric, text and target cells", () => {
    const tokens = ["", ...DEFAULT_NA_VALUES];
    assert.deepEqual(DEFAULT_NA_VALUES, ["NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"]);
    for (const token of tokens) {
      // Row 2 holds the token in every column; row 3 is complete.
      const csv = `t,x,mode,y\n0,1,car,1\n1,${token},${token},${token}\n2,3,bus,3\n`;
      const r = csvToDataset(csv, "na.csv", { target: "y", time: "t", normalize: false });
      assert.deepEqual(r.featureNames, ["x", "mode=bus", "mode=car", "x_observed", "mode=bus_observed", "mode=car_observed"], `token ${JSON.stringify(token)}`);
      // forward filled from row 1, masks 0; the target unlabelled
      assert.deepEqual(inputs(r.train, 0, 1), [1, 0, 1, 0, 0, 0], `token ${JSON.stringify(token)}`);
      assert.deepEqual([...r.train.targetMask!], [1, 0, 1], `token ${JSON.stringify(token)}`);
    }
  });

  test("--na-values replaces the tokens (empty cells stay missing)", () => {
    const csv = "x,y\n-1,1\n,2\n5,3\n";
    const r = csvToDataset(csv, "n.csv", { target: "y", naValues: ["-1"], normalize: false });
    assert.deepEqual([...r.train.x], [0, 0, 0, 0, 5, 1]);
    // Without NA among the tokens, "NA" is text; in a column of numbers that is a bad cell.
    assert.throws(() => csvToDataset("x,y\n1,1\nNA,2\n3,3\n", "n.csv", { target: "y", naValues: ["-1"] }), /n\.csv line 3, column "x": expected a number, got "NA"/);
  });
});

describe("separators and column names", () => {
  const expectSame = (text: string, options: { separator?: string } = {}) => {
    const r = csvToDataset(text, "s.csv", { target: "y", normalize: false, ...options });
    assert.deepEqual(r.featureColumns, ["a", "b"]);
    assert.deepEqual([...r.train.x], [1.5, 2, 3, 4]);
    assert.deepEqual([...r.train.y], [7, 8]);
  };

  test("a header with semicolons or tabs sets the separator; --sep overrides; names are trimmed", () => {
    expectSame("a;b;y\n1.5;2;7\n3;4;8\n");
    expectSame("a\tb\ty\r\n1.5\t2\t7\r\n3\t4\t8\r\n");
    expectSame(' a , b ,y \n1.5,2,7\n3,4,8\n');
    expectSame('"a";"b";"y"\n1.5;2;7\n3;4;8\n');
    expectSame("a|b|y\n1.5|2|7\n3|4|8\n", { separator: "|" });
    // Quoted fields may hold the other separators.
    const r = csvToDataset('a;note;y\n1;"x, y";7\n2;"p; q";8\n', "q.csv", { target: "y", features: ["a", "note"] });
    assert.deepEqual(r.categorical, [{ column: "note", values: ["p; q", "x, y"] }]);
  });

  test("names that collide after trimming are refused", () => {
    assert.throws(() => csvToDataset("a, a,y\n1,2,3\n", "d.csv", { target: "y" }), /d\.csv line 1: duplicate column name "a" \(columns 1 and 2\)/);
  });
});

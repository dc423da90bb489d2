/**
 * The paper's task loaders (src/data/tasks): bit for bit against the authors' cached files when
 * ../shared/data is present, and on small data sets written by the tests otherwise.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { encodeImages, parseIdxImages, parseIdxLabels } from "../src/data/tasks/et-smnist.js";
import { readDataBytes, readDataNpy, readDataTar, readDataText } from "../src/data/tasks/files.js";
import { loadTask } from "../src/data/tasks/load.js";
import { buildPersonActivity, parsePersonLines, personSequences, PERSON_TAGS } from "../src/data/tasks/person-activity.js";
import { buildPhysioNet, parseOutcomes, parsePhysioRecord, PHYSIONET_VARIABLES } from "../src/data/tasks/physionet.js";
import { trainTestSplit } from "../src/data/tasks/split.js";
import { generateXor, XOR_PAD, XOR_SPLITS } from "../src/data/tasks/xor.js";
import { eventDataset } from "../src/data/tasks/events.js";
import { readoutStep } from "../src/data/dataset.js";
import { sharedDir } from "./helpers/goldens.js";
import { fixtureImage, flattenedCsv, idxImages, idxLabels, personLines, physioRecordText, tarBytes, writeTaskFixtures } from "./helpers/task-fixtures.js";

const data = path.join(sharedDir, "data");
const need = (rel: string) => (existsSync(path.join(data, rel)) ? false : `${path.join(data, rel)} not found (../shared/data absent): skipping`);
const info = { what: "a reference file", origin: "test" };

function sameArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected[i]) assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
}

describe("bit-stream XOR", () => {
  it("regenerates the authors' cached test split and training masks and labels bit for bit", { skip: need("xor-bitstream-reference") }, () => {
    const ref = (name: string) => readDataNpy(path.join(data, "xor-bitstream-reference", `${name}.npy.gz`), info).data;
    const test = generateXor(XOR_SPLITS.test.samples, XOR_SPLITS.test.seed);
    sameArrays(test.events, ref("xor_test_events"), "test events");
    sameArrays(test.elapsed, ref("xor_test_elapsed"), "test elapsed");
    sameArrays(test.mask, ref("xor_test_mask"), "test mask");
    sameArrays(test.labels, ref("xor_test_y"), "test labels");
    const train = generateXor(XOR_SPLITS.train.samples, XOR_SPLITS.train.seed);
    sameArrays(train.mask, ref("xor_train_mask"), "train mask");
    sameArrays(train.labels, ref("xor_train_y"), "train labels");
  });

  it("events mark the bit changes, and the label is the parity of all drawn bits", () => {
    const a = generateXor(200, 7);
    for (let i = 0; i < a.samples; i++) {
      const row = (k: number) => i * a.pad + k;
      let len = 0;
      while (len < a.pad && a.mask[row(len)]) len++;
      for (let k = len; k < a.pad; k++) assert.equal(a.mask[row(k)], 0, "the mask is a prefix");
      // the drawn string: a run of (elapsed) bits per event, the event's bit last; changes alternate
      let ones = 0;
      let steps = 0;
      for (let k = 0; k < len; k++) {
        const e = a.elapsed[row(k)];
        const bit = a.events[row(k)];
        const trailing = k === len - 1 && k > 0 && bit === a.events[row(k - 1)];
        if (k > 0 && !trailing) assert.notEqual(bit, a.events[row(k - 1)], `sample ${i}: events alternate`);
        ones += trailing ? bit * e : bit + (k > 0 ? a.events[row(k - 1)] * (e - 1) : 0);
        steps += e;
      }
      assert.ok(steps >= 2 && steps <= 31, `sample ${i}: ${steps} bits`);
      assert.equal(a.labels[i], ones % 2, `sample ${i}: parity`);
    }
  });
});

describe("event datasets (XOR, ET-sMNIST) as the trainer reads them", () => {
  it("feeds each event's bit with elapsed / pad as its timespan, and reads the prediction at the sequence's last real event", () => {
    const a = generateXor(300, 11);
    const ds = eventDataset(a, XOR_PAD, 2, { feature: "bit", target: "parity" });
    assert.equal(ds.features, 1);
    assert.equal(ds.targetMode, "last");
    let trailing = 0;
    for (let i = 0; i < a.samples; i++) {
      const row = i * a.pad;
      let events = 0;
      for (let k = 0; k < a.pad; k++) events += a.mask[row + k];
      const t = readoutStep(ds, i);
      // the readout is the last masked event (the trailing-run event included), never a padded step
      assert.equal(t, events - 1, `sample ${i}: readout step`);
      assert.equal(a.mask[row + t], 1, `sample ${i}: readout on a real event`);
      if (t + 1 < a.pad) assert.equal(a.mask[row + t + 1], 0, `sample ${i}: the step after the readout is padding`);
      if (t > 0 && a.events[row + t] === a.events[row + t - 1]) trailing++;
      for (let k = 0; k < a.pad; k++) {
        assert.equal(ds.x[row + k], a.events[row + k]);
        assert.equal(ds.timespans![row + k], a.elapsed[row + k] / XOR_PAD);
      }
      assert.equal(ds.y[i], a.labels[i]);
    }
    assert.ok(trailing > 0, "some samples end in a trailing-run event");
  });
});

describe("ET-sMNIST", () => {
  it("reproduces the authors' cached test mask from the MNIST IDX test images", { skip: need("et-smnist-reference/test_mask.npy.gz") || need("mnist/t10k-images-idx3-ubyte.gz") }, () => {
    const images = parseIdxImages(readDataBytes(path.join(data, "mnist/t10k-images-idx3-ubyte.gz"), info), "t10k images");
    const labels = parseIdxLabels(readDataBytes(path.join(data, "mnist/t10k-labels-idx1-ubyte.gz"), info), "t10k labels");
    assert.equal(images.count, 10000);
    const ev = encodeImages(images, labels);
    const ref = readDataNpy(path.join(data, "et-smnist-reference/test_mask.npy.gz"), info);
    assert.deepEqual(ref.shape, [10000, 256]);
    sameArrays(ev.mask, ref.data, "test mask");
  });

  it("encodes the changes of the binarised pixels with their gaps, capped at 256 events", () => {
    const alternating = Array.from({ length: 784 }, (_, p) => (p % 2 ? 0 : 200));
    const threshold = Array.from({ length: 784 }, (_, p) => (p === 3 ? 128 : p === 4 ? 129 : 0));
    const images = parseIdxImages(idxImages([fixtureImage(0), alternating, threshold]), "fixture");
    const ev = encodeImages(images, parseIdxLabels(idxLabels([3, 4, 5]), "labels"));
    const row = (i: number, a: Float32Array | Uint8Array) => Array.from(a.subarray(i * 256, i * 256 + 8));
    // ink on pixels 0-4, 28-32, 56-60
    assert.deepEqual(row(0, ev.events), [1, 0, 1, 0, 1, 0, 0, 0]);
    assert.deepEqual(row(0, ev.elapsed), [1, 5, 23, 5, 23, 5, 0, 0]);
    assert.deepEqual(row(0, ev.mask), [1, 1, 1, 1, 1, 1, 0, 0]);
    assert.equal(ev.mask.subarray(256, 512).reduce((s, v) => s + v, 0), 256, "a change at every pixel fills all 256 events");
    assert.ok(ev.elapsed.subarray(256, 512).every((v) => v === 1));
    // pixel > 128 is ink: 128 is not, 129 is
    assert.deepEqual(row(2, ev.events).slice(0, 3), [0, 1, 0]);
    assert.deepEqual(row(2, ev.elapsed).slice(0, 3), [1, 4, 1]);
    assert.deepEqual(Array.from(ev.labels), [3, 4, 5]);
  });

  it("names the file of a truncated IDX archive", () => {
    const { dir } = writeTaskFixtures();
    const file = path.join(dir, "mnist/t10k-images-idx3-ubyte.gz");
    writeFileSync(file, gzipSync(idxImages([fixtureImage(0), fixtureImage(1)]).subarray(0, 900)));
    assert.throws(() => loadTask("et-smnist", dir), (e: Error) => e.message.includes(file) && /truncated IDX image file/.test(e.message) && /SOURCE\.md/.test(e.message));
    const gz = readFileSync(path.join(dir, "mnist/train-images-idx3-ubyte.gz"));
    writeFileSync(path.join(dir, "mnist/train-images-idx3-ubyte.gz"), gz.subarray(0, gz.length >> 1));
    assert.throws(() => loadTask("et-smnist", dir), /train-images-idx3-ubyte\.gz: cannot decompress, the file is truncated or not gzip.*expected the MNIST training images/);
  });
});

describe("train_test_split", () => {
  it("takes the test set from the front of numpy's RandomState(42) permutation", () => {
    // np.random.RandomState(42).permutation(10) == [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]
    assert.deepEqual(trainTestSplit(10, 0.8, 42), { test: [8, 1], train: [5, 0, 7, 2, 9, 4, 3, 6] });
    const s = trainTestSplit(4000, 0.8, 42);
    assert.equal(s.train.length, 3200);
    assert.equal(s.test.length, 800);
    assert.equal(new Set([...s.train, ...s.test]).size, 4000);
  });
});

describe("PhysioNet 2012", () => {
  it("bins times to 0.016 h (halves to even), averages repeated readings and masks what was measured", () => {
    const r = parsePhysioRecord(physioRecordText(132539, 2), "fixture", "132539");
    // 00:30 -> 31.25 bins -> 31; 01:00 -> 62.5 -> 62 (half to even); 01:30 -> 93.75 -> 94; 02:00 -> 125
    assert.deepEqual(r.times, [0, 31 * 0.016, 62 * 0.016, 94 * 0.016, 125 * 0.016]);
    const V = PHYSIONET_VARIABLES.length;
    const at = (step: number, name: string) => step * V + PHYSIONET_VARIABLES.indexOf(name as (typeof PHYSIONET_VARIABLES)[number]);
    assert.equal(r.values[at(2, "Temp")], 37, "two readings in one bin are averaged");
    assert.equal(r.mask[at(2, "Temp")], 1);
    assert.equal(r.mask[at(1, "Temp")], 0);
    assert.equal(r.values[at(0, "Height")], -1, "-1 is kept as a value, as the paper's code does");
    assert.equal(r.values[at(3, "HR")], 70 + (132539 % 7) + 3);
    assert.throws(() => parsePhysioRecord("Time,Parameter,Value\n00:00,RecordID,1\n00:10,Pulse,3\n", "rec.txt", "1"), /rec\.txt: line 3: unknown parameter "Pulse"/);
    assert.throws(() => parsePhysioRecord("Time,Parameter,Value\n00:10,HR\n", "rec.txt", "1"), /rec\.txt: line 2: expected HH:MM,Parameter,number/);
  });

  it("normalises by the observed min and max, forward-fills values and appends the masks", () => {
    const records = [1, 2, 3, 4, 5].map((k) => parsePhysioRecord(physioRecordText(100 + k, 1 + k), `r${k}`, String(100 + k)));
    const outcomes = new Map(records.map((r, k) => [r.id, k % 2]));
    const d = buildPhysioNet(records, outcomes, "outcomes");
    assert.equal(d.train.size + d.test.size, 5);
    assert.equal(d.train.features, 82);
    const V = 41;
    const hr = PHYSIONET_VARIABLES.indexOf("HR");
    const temp = PHYSIONET_VARIABLES.indexOf("Temp");
    const hrs = records.flatMap((r) => r.times.map((_, t) => (r.mask[t * V + hr] ? r.values[t * V + hr] : NaN)).filter((v) => !Number.isNaN(v)));
    const [min, max] = [Math.min(...hrs), Math.max(...hrs)];
    const ds = d.train;
    const i = 0;
    const rec = records[trainTestSplit(5, 0.8, 42).train[i]];
    const L = ds.steps;
    const x = (t: number, k: number) => ds.x[(i * L + t) * 82 + k];
    assert.equal(ds.lengths![i], rec.times.length);
    assert.equal(ds.y[i], outcomes.get(rec.id));
    assert.equal(x(0, hr), 0, "nothing observed yet: 0");
    assert.equal(x(0, V + hr), 0);
    assert.equal(x(1, V + hr), 1);
    const f = Math.fround;
    assert.equal(x(1, hr), f(f(rec.values[V + hr] - min) / max), "(x - min) / max");
    assert.equal(x(3, temp), x(2, temp), "Temp is forward-filled after its only reading");
    assert.equal(x(3, V + temp), 0);
    assert.equal(ds.timespans![i * L + 1], f(31 * 0.016), "elapsed hours since the previous step");
    assert.throws(() => buildPhysioNet(records, new Map(), "Outcomes-a.txt"), /Outcomes-a\.txt: no outcome row for record 101/);
  });

  it("set A holds 4,000 records whose ids are the outcome file's, 554 of them in-hospital deaths", { skip: need("physionet2012/set-a.tar.gz") }, () => {
    const outcomes = parseOutcomes(readDataText(path.join(data, "physionet2012/Outcomes-a.txt"), info), "Outcomes-a.txt");
    assert.equal(outcomes.size, 4000);
    assert.equal([...outcomes.values()].reduce((s, v) => s + v, 0), 554);
    const names = readDataTar(path.join(data, "physionet2012/set-a.tar.gz"), info).map((e) => e.name).filter((n) => /^set-a\/\d+\.txt$/.test(n));
    assert.equal(names.length, 4000);
    assert.deepEqual(names.map((n) => path.basename(n, ".txt")).sort(), [...outcomes.keys()].sort());
  });

  it("loads a set-A archive: labels, 80/20 split; a truncated archive or record is named", () => {
    const fx = writeTaskFixtures();
    const d = loadTask("physionet", fx.dir);
    assert.equal(d.train.size + d.test.size, fx.physioRecords);
    assert.equal(d.train.size, Math.floor(0.8 * fx.physioRecords));
    const deaths = [...d.train.y, ...d.test.y].reduce((s, v) => s + v, 0);
    assert.equal(deaths, fx.physioDeaths);
    const file = path.join(fx.dir, "physionet2012/set-a.tar.gz");
    const tar = tarBytes([{ name: "set-a/1.txt", data: new TextEncoder().encode(physioRecordText(1, 2)) }]);
    writeFileSync(file, gzipSync(tar.subarray(0, 600)));
    assert.throws(() => loadTask("physionet", fx.dir), (e: Error) => e.message.startsWith(`${file}: truncated tar archive`) && /expected the PhysioNet 2012 set-A record files.*SOURCE\.md/.test(e.message));
    writeFileSync(file, gzipSync(tarBytes([{ name: "set-a/132539.txt", data: new TextEncoder().encode("Time,Parameter,Value\n00:00,HR,abc\n") }])));
    assert.throws(() => loadTask("physionet", fx.dir), /set-a\.tar\.gz:set-a\/132539\.txt: line 2: expected HH:MM,Parameter,number/);
  });
});

describe("person activity", () => {
  it("bins readings per sequence, averages a tag within a bin, maps the activities and cuts windows of 50", () => {
    const orig = [
      "A01,010-000-024-033,633790226051280329,27.05.2009 14:03:25:127,1,2,3,walking",
      "A01,010-000-024-033,633790226051290329,27.05.2009 14:03:25:128,3,4,5,falling",
      "A01,020-000-032-221,633790226051480329,27.05.2009 14:03:25:147,7,8,9,standing up from sitting on the ground",
      "A02,010-000-030-096,633790226051280329,27.05.2009 14:03:25:127,1,1,1,lying",
    ].join("\n");
    const seqs = personSequences(parsePersonLines(orig, "orig"));
    assert.equal(seqs.length, 2);
    assert.deepEqual(seqs[0].times, [0, 2]);
    assert.deepEqual(seqs[0].values.slice(0, 3), [2, 3, 4], "two readings of one tag 1 ms apart share a bin and are averaged");
    assert.deepEqual(seqs[0].mask.slice(0, 12), [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(seqs[0].labels, [0, -1], "walking and falling: class 0; the unlisted 'sitting on the ground' spelling gives no label");
    assert.deepEqual(seqs[1].labels, [2]);
    assert.throws(() => parsePersonLines("A01,999,1,d,1,2,3,walking", "f.txt"), /f\.txt: line 1: unknown tag "999"/);

    const lines = personLines(2, 400);
    const flat = parsePersonLines(flattenedCsv(lines), "flat.csv");
    assert.equal(flat.length, 800);
    assert.deepEqual(flat[5], { sequence: "A01", tag: PERSON_TAGS[1], ticks: Number(lines[5][2]), xyz: [5, 0, 0.05], activity: "walking" });
    const d = buildPersonActivity(flat, 10);
    assert.equal(d.windows, 2 * 14, "offsets 0, 25, ..., 325 per 400-step sequence");
    assert.equal(d.train.size, Math.floor(0.8 * 28));
    assert.equal(d.train.features, 24);
    const ts = d.train.timespans!;
    assert.equal(ts[0], 0);
    assert.equal(ts[1], 30, "3 bins of 10 ms times tau 10");
  });

  it("the partial file holds 16,480 records with the activity counts of its SOURCE.md", { skip: need("person-activity-partial/human_flattened_data.csv.gz") }, () => {
    const lines = parsePersonLines(readDataText(path.join(data, "person-activity-partial/human_flattened_data.csv.gz"), info), "partial");
    assert.equal(lines.length, 16480);
    const count = (a: string) => lines.filter((l) => l.activity === a).length;
    assert.deepEqual([count("lying"), count("sitting"), count("walking"), count("falling"), count("standing up from sitting")], [6234, 3021, 2281, 270, 95]);
  });

  it("a missing data file is named with what was expected and where it comes from", () => {
    const fx = writeTaskFixtures();
    const empty = path.join(fx.dir, "nothing");
    mkdirSync(empty);
    assert.throws(() => loadTask("person-activity", empty), (e: Error) => e.message.startsWith(path.join(empty, "person-activity-partial/human_flattened_data.csv.gz")) && /file not found; expected UCI person activity records.*SOURCE\.md/.test(e.message));
    assert.throws(() => loadTask("walker2d", empty), /split\.json: file not found; expected the Walker2d/);
    assert.throws(() => loadTask("physionet", empty), /Outcomes-a\.txt: file not found; expected PhysioNet 2012 set-A outcomes/);
  });
});

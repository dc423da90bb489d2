/**
 * A small data directory in the layout of ../shared/data, written by the tests: MNIST IDX files, a
 * PhysioNet set-A tar.gz with outcomes, Walker2d rollouts with split.json, and the person-activity
 * flattened CSV. The values follow simple rules so that tests can state what the loaders must give.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { encodeNpy } from "../../src/io/npy.js";

/** A ustar archive of regular files. */
export function tarBytes(files: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const f of files) {
    const h = new Uint8Array(512);
    const put = (at: number, s: string) => h.set(new TextEncoder().encode(s), at);
    put(0, f.name);
    put(100, "0000644\0");
    put(108, "0000000\0");
    put(116, "0000000\0");
    put(124, `${f.data.length.toString(8).padStart(11, "0")}\0`);
    put(136, "00000000000\0");
    put(148, "        ");
    put(156, "0");
    put(257, "ustar\0");
    put(263, "00");
    const sum = h.reduce((s, b) => s + b, 0);
    put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
    blocks.push(h);
    const padded = new Uint8Array(Math.ceil(f.data.length / 512) * 512);
    padded.set(f.data);
    blocks.push(padded);
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of blocks) out.set(b, at), (at += b.length);
  return out;
}

export function idxImages(images: readonly number[][], side = 28): Uint8Array {
  const out = new Uint8Array(16 + images.length * side * side);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 2051);
  dv.setUint32(4, images.length);
  dv.setUint32(8, side);
  dv.setUint32(12, side);
  images.forEach((img, i) => out.set(img, 16 + i * side * side));
  return out;
}

export function idxLabels(labels: readonly number[]): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 2049);
  dv.setUint32(4, labels.length);
  out.set(labels, 8);
  return out;
}

/** Image k: ink (255) on pixels [10k, 10k + 5) of each of the first 3 rows, else 0. */
export function fixtureImage(k: number): number[] {
  const img = new Array(784).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 5; c++) img[r * 28 + ((k * 3 + c) % 28)] = 255;
  return img;
}

/** PhysioNet record text: descriptors at 00:00, then HR every 30 min and two Temp readings at 01:00. */
export function physioRecordText(id: number, hours: number): string {
  const lines = ["Time,Parameter,Value", `00:00,RecordID,${id}`, "00:00,Age,60", "00:00,Gender,1", "00:00,Height,-1", "00:00,ICUType,2", "00:00,Weight,80"];
  for (let m = 30; m <= hours * 60; m += 30) {
    const hh = String(Math.floor(m / 60)).padStart(2, "0");
    const mm = String(m % 60).padStart(2, "0");
    lines.push(`${hh}:${mm},HR,${70 + (id % 7) + m / 30}`);
    if (m === 60) lines.push("01:00,Temp,36.5", "01:00,Temp,37.5");
  }
  return `${lines.join("\n")}\n`;
}

const ACTIVITIES = ["walking", "lying", "sitting", "falling"];
const TAGS = ["010-000-024-033", "010-000-030-096", "020-000-033-111", "020-000-032-221"];

/** Person-activity lines (original layout fields): per sequence, one tag reading every 30 ms (3 bins). */
export function personLines(sequences: number, perSequence: number): string[][] {
  const out: string[][] = [];
  for (let s = 0; s < sequences; s++) {
    for (let i = 0; i < perSequence; i++) {
      const ticks = (633790226051280000 + i * 300000).toString();
      out.push([`A0${s + 1}`, TAGS[i % 4], ticks, String(i % 10), String(s), String(i / 100), ACTIVITIES[Math.floor(i / 40) % 4]]);
    }
  }
  return out;
}

/** The flattened CSV layout of the partial file: a row number, then 5 records of 8 fields. */
export function flattenedCsv(lines: readonly string[][]): string {
  const rows = [`,${Array.from({ length: 40 }, (_, i) => i).join(",")}`];
  for (let r = 0; r * 5 < lines.length; r++) {
    const group = lines.slice(r * 5, r * 5 + 5);
    if (group.length < 5) break;
    rows.push([r, ...group.flatMap((l, k) => [r * 5 + k, ...l])].join(","));
  }
  return `${rows.join("\n")}\n`;
}

export interface FixtureDir {
  dir: string;
  physioRecords: number;
  physioDeaths: number;
}

export function writeTaskFixtures(): FixtureDir {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ncps-tasks-"));
  const sub = (name: string) => {
    const p = path.join(dir, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const mnist = sub("mnist");
  const train = Array.from({ length: 40 }, (_, k) => fixtureImage(k));
  writeFileSync(path.join(mnist, "train-images-idx3-ubyte.gz"), gzipSync(idxImages(train)));
  writeFileSync(path.join(mnist, "train-labels-idx1-ubyte.gz"), gzipSync(idxLabels(train.map((_, k) => k % 10))));
  writeFileSync(path.join(mnist, "t10k-images-idx3-ubyte.gz"), gzipSync(idxImages(train.slice(0, 20))));
  writeFileSync(path.join(mnist, "t10k-labels-idx1-ubyte.gz"), gzipSync(idxLabels(train.slice(0, 20).map((_, k) => k % 10))));

  const physio = sub("physionet2012");
  const ids = Array.from({ length: 60 }, (_, k) => 132539 + k);
  const deaths: number[] = ids.map((_, k) => (k % 4 === 0 ? 1 : 0));
  const entries = ids.map((id, k) => ({ name: `set-a/${id}.txt`, data: new TextEncoder().encode(physioRecordText(id, 2 + (k % 5))) }));
  writeFileSync(path.join(physio, "set-a.tar.gz"), gzipSync(tarBytes(entries)));
  writeFileSync(path.join(physio, "Outcomes-a.txt"), `RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death\n${ids.map((id, k) => `${id},10,5,7,-1,${deaths[k]}`).join("\n")}\n`);

  const walker = sub("walker2d");
  const split: Record<string, string[]> = { train: [], valid: [], test: [] };
  for (let f = 0; f < 6; f++) {
    const T = 100;
    const data = new Float64Array(T * 17).map((_, i) => Math.sin(i * 0.01 + f));
    const name = `rollout_${String(f).padStart(3, "0")}.npy`;
    writeFileSync(path.join(walker, name), encodeNpy({ shape: [T, 17], data }));
    (f < 4 ? split.train : f === 4 ? split.valid : split.test).push(name);
  }
  writeFileSync(path.join(walker, "split.json"), JSON.stringify(split));

  const person = sub("person-activity-partial");
  writeFileSync(path.join(person, "human_flattened_data.csv.gz"), gzipSync(flattenedCsv(personLines(2, 400))));
  return { dir, physioRecords: ids.length, physioDeaths: deaths.reduce((s, v) => s + v, 0) };
}

/**
 * Node entry of the paper's task loaders: reads each task's files from a data directory (by default
 * ../shared/data, the layout described in its README.md and each folder's SOURCE.md) and builds the
 * datasets with the portable builders beside this file. `limit` keeps a small slice (the first `limit`
 * sequences of each split; for PhysioNet the first `limit` record files) for quick runs and tests.
 */
import path from "node:path";
import { loadWalker2d } from "../walker2d.js";
import type { SequenceDataset } from "../dataset.js";
import { encodeImages, parseIdxImages, parseIdxLabels } from "./et-smnist.js";
import { eventDataset, takeEvents } from "./events.js";
import { dataPath, type DataFileInfo, readDataBytes, readDataTar, readDataText } from "./files.js";
import { buildPersonActivity, parsePersonLines } from "./person-activity.js";
import { buildPhysioNet, parseOutcomes, parsePhysioRecord, type PhysioRecord } from "./physionet.js";
import { firstSequences } from "./slice.js";
import { generateXor, XOR_PAD, XOR_SPLITS } from "./xor.js";
import { existsSync } from "node:fs";

export interface TaskData {
  train: SequenceDataset;
  valid: SequenceDataset | null;
  test: SequenceDataset;
  /** what was loaded, in words (counts), for the log */
  note: string;
}

export interface LoadTaskOptions {
  limit?: number;
  /** person activity: factor on the timespans (the paper's tau) */
  tau?: number;
}

export const TASK_NAMES = ["xor", "et-smnist", "walker2d", "physionet", "person-activity"] as const;
export type TaskName = (typeof TASK_NAMES)[number];

const source = (folder: string) => `see ${path.join("<data-dir>", folder, "SOURCE.md")} for where it comes from`;

/** Runs a parser, adding where the file comes from to a format error. */
function withOrigin<T>(parse: () => T, folder: string): T {
  try {
    return parse();
  } catch (e) {
    const m = (e as Error).message;
    throw new Error(m.includes("SOURCE.md") ? m : `${m}; ${source(folder)}`);
  }
}

function loadXor(limit?: number): TaskData {
  const n = (k: "train" | "test") => Math.min(limit ?? Infinity, XOR_SPLITS[k].samples);
  const make = (k: "train" | "test") => eventDataset(generateXor(n(k), XOR_SPLITS[k].seed), XOR_PAD, 2, { feature: "bit", target: "parity" });
  const train = make("train");
  const test = make("test");
  return { train, valid: null, test, note: `generated, ${train.size} train and ${test.size} test sequences of up to ${XOR_PAD} events` };
}

function loadEtSmnist(dataDir: string, limit?: number): TaskData {
  const read = (split: "train" | "t10k") => {
    const imgFile = dataPath(dataDir, "mnist", `${split}-images-idx3-ubyte.gz`);
    const labFile = dataPath(dataDir, "mnist", `${split}-labels-idx1-ubyte.gz`);
    const info = (what: string): DataFileInfo => ({ what: `the MNIST ${split === "t10k" ? "test" : "training"} ${what} (IDX, gzip)`, origin: source("mnist") });
    const images = withOrigin(() => parseIdxImages(readDataBytes(imgFile, info("images")), imgFile), "mnist");
    const labels = withOrigin(() => parseIdxLabels(readDataBytes(labFile, info("labels")), labFile), "mnist");
    return eventDataset(takeEvents(encodeImages(images, labels, limit)), 256, 10, { feature: "pixel", target: "digit" });
  };
  const train = read("train");
  const test = read("t10k");
  return { train, valid: null, test, note: `${train.size} train and ${test.size} test images as up to 256 events` };
}

function loadWalker(dataDir: string, limit?: number): TaskData {
  const dir = path.join(dataDir, "walker2d");
  if (!existsSync(path.join(dir, "split.json"))) {
    throw new Error(`${path.join(dir, "split.json")}: file not found; expected the Walker2d train/valid/test split with rollout_*.npy files beside it (${source("walker2d")})`);
  }
  const d = loadWalker2d(dir);
  const train = firstSequences(d.train, limit);
  const valid = firstSequences(d.valid, limit);
  const test = firstSequences(d.test, limit);
  return { train, valid, test, note: `${train.size} train, ${valid.size} valid, ${test.size} test windows of 64 steps` };
}

function loadPhysioNet(dataDir: string, limit?: number): TaskData {
  const tarFile = dataPath(dataDir, "physionet2012", "set-a.tar.gz");
  const outFile = dataPath(dataDir, "physionet2012", "Outcomes-a.txt");
  const outcomes = withOrigin(() => parseOutcomes(readDataText(outFile, { what: "PhysioNet 2012 set-A outcomes (CSV with RecordID and In-hospital_death)", origin: source("physionet2012") }), outFile), "physionet2012");
  const entries = readDataTar(tarFile, { what: "the PhysioNet 2012 set-A record files (tar.gz of set-a/<RecordID>.txt)", origin: source("physionet2012") })
    .filter((e) => e.name.endsWith(".txt"))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (entries.length === 0) throw new Error(`${tarFile}: no set-a/<RecordID>.txt files in the archive (${source("physionet2012")})`);
  const used = limit === undefined ? entries : entries.slice(0, Math.max(limit, 10));
  const decoder = new TextDecoder("utf-8");
  const records: PhysioRecord[] = withOrigin(() => used.map((e) => parsePhysioRecord(decoder.decode(e.data), `${tarFile}:${e.name}`, path.basename(e.name, ".txt"))), "physionet2012");
  const d = buildPhysioNet(records, outcomes, outFile);
  return { train: d.train, valid: null, test: d.test, note: `${d.records} records (${d.deaths} deaths): ${d.train.size} train, ${d.test.size} test, up to ${d.train.steps} steps` };
}

function loadPersonActivity(dataDir: string, limit: number | undefined, tau: number): TaskData {
  const full = dataPath(dataDir, "person-activity", "ConfLongDemo_JSI.txt");
  const partial = dataPath(dataDir, "person-activity-partial", "human_flattened_data.csv.gz");
  const file = existsSync(full) ? full : partial;
  const text = readDataText(file, { what: "UCI person activity records (ConfLongDemo_JSI.txt, or the partial flattened CSV)", origin: source(file === full ? "person-activity" : "person-activity-partial") });
  const d = withOrigin(() => buildPersonActivity(parsePersonLines(text, file), tau), file === full ? "person-activity" : "person-activity-partial");
  const train = firstSequences(d.train, limit);
  const test = firstSequences(d.test, limit);
  const partialNote = file === partial ? " (PARTIAL file: 16,480 of 164,860 lines; not comparable with the paper)" : "";
  return { train, valid: null, test, note: `${d.windows} windows of 50 steps: ${train.size} train, ${test.size} test${partialNote}` };
}

export function loadTask(task: TaskName, dataDir: string, options: LoadTaskOptions = {}): TaskData {
  switch (task) {
    case "xor":
      return loadXor(options.limit);
    case "et-smnist":
      return loadEtSmnist(dataDir, options.limit);
    case "walker2d":
      return loadWalker(dataDir, options.limit);
    case "physionet":
      return loadPhysioNet(dataDir, options.limit);
    case "person-activity":
      return loadPersonActivity(dataDir, options.limit, options.tau ?? 1);
  }
}

/**
 * Long-format time series: one measurement per row (`TIME,VARIABLE,VALUE`, the layout of PhysioNet
 * 2012 record files and of most clinical and IoT exports), pivoted to one column per variable and one
 * step per distinct time (or per `--time-bin` interval), with the values of a variable that fall on
 * one step averaged and the variables not measured there left missing (forward filled and masked
 * later, like any missing cell).
 *
 * Records (sequences) come from, in order of preference: a sequence column (`--sequence COL`); rows
 * whose variable is the id name (`--id RecordID`: the row `00:00,RecordID,132539` starts a record, or
 * names the record of its file when it comes before any other record id in that file); or the files
 * themselves, one record per file named after it. The input is a file, or a directory whose files are
 * read in name order (a directory of record files or one concatenated file give the same records;
 * repeated header lines inside a concatenation are skipped).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { detectSeparator, parseCsv } from "../io/csv.js";
import { readTextFile } from "../io/text-file.js";
import { type MissingTokens, canonicalText, cellWhere, decimalValue, isInfinity, sortValues } from "./cells.js";
import { type ExactTime, TimeColumn, type TimeUnit, type TimeFormat, parseTimeBin, readTimeColumn } from "./time-parse.js";

/** The three columns of a long table, as `--long TIME,VARIABLE,VALUE` names them. */
export interface LongColumns {
  readonly time: string;
  readonly variable: string;
  readonly value: string;
}

export function parseLongSpec(spec: string): LongColumns {
  const parts = spec.split(",").map((s) => s.trim());
  if (parts.length !== 3 || parts.some((p) => p === "")) {
    throw new Error(`--long takes the names of the time, variable and value columns, e.g. --long Time,Parameter,Value; got ${JSON.stringify(spec)}`);
  }
  return { time: parts[0], variable: parts[1], value: parts[2] };
}

export interface LongOptions {
  readonly columns: LongColumns;
  /** A column naming the record of each row. */
  readonly sequence?: string;
  /** The variable whose rows carry the record id (when there is no such column). */
  readonly id?: string;
  readonly timeUnit?: TimeUnit;
  readonly timeFormat?: TimeFormat;
  /** Step width, e.g. "1h"; without it each distinct time is a step. */
  readonly timeBin?: string;
  readonly missing: MissingTokens;
  readonly separator?: string;
  /** Use exactly these variables as columns (a trained model's), in this order. */
  readonly variables?: readonly string[];
  readonly note: (m: string) => void;
}

/** One input file of a long table. */
export interface LongSource {
  readonly fileName: string;
  readonly text: string;
}

/** The pivoted table: one row per step of each record. */
export interface PivotTable {
  /** the variables, i.e. the columns of `values` */
  readonly variables: string[];
  /** steps x variables, NaN = not measured in that step */
  readonly values: Float64Array;
  /** each step's time (the bin start with --time-bin) */
  readonly times: TimeColumn;
  /** per step: its record (index into `records`) */
  readonly record: Int32Array;
  readonly records: { readonly id: string; readonly where: string }[];
  /** per step: where its first measurement is, for messages */
  readonly where: string[];
  /** per input data row (all files, in order): the step it went into, -1 for rows that are not measurements */
  readonly inputStep: Int32Array;
  /** per input data row: its file and line */
  readonly inputFile: string[];
  readonly inputLine: number[];
}

/** The files of a long-format input: the file, or every file of the directory in name order. */
export function readLongSources(input: string): LongSource[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(input);
  } catch (e) {
    throw new Error(`${input}: cannot read the data (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!stat.isDirectory()) return [{ fileName: input, text: readTextFile(input, "data file") }];
  const names = fs
    .readdirSync(input)
    .filter((n) => !n.startsWith("."))
    .sort();
  const files = names.map((n) => path.join(input, n)).filter((f) => fs.statSync(f).isFile());
  if (files.length === 0) throw new Error(`${input}: the directory holds no data files`);
  return files.map((f) => ({ fileName: f, text: readTextFile(f, "data file") }));
}

const stem = (file: string): string => path.basename(file).replace(/\.[^.]*$/, "");

/** The measurements of one file (rows that are not headers, id rows or unnamed variables). */
interface FileMeasurements {
  readonly fileName: string;
  /** per measurement: its record, table row, variable index and value (NaN = missing) */
  readonly record: Int32Array;
  readonly row: Int32Array;
  readonly variable: Int32Array;
  readonly value: Float64Array;
  /** per measurement: the time of its step (binned with --time-bin) */
  readonly times: TimeColumn;
  readonly lines: number[];
  /** index of the file's first data row among all input rows */
  readonly inputBase: number;
}

/** Pivots long-format sources into one step per record and time (bin). */
export function pivotLong(sources: readonly LongSource[], o: LongOptions): PivotTable {
  const { columns, missing } = o;
  const width = o.timeBin === undefined ? null : parseTimeBin(o.timeBin);
  const records: { id: string; where: string; named: boolean }[] = [];
  const recordOf = new Map<string, number>();
  const inputStep: number[] = [];
  const inputFile: string[] = [];
  const inputLine: number[] = [];
  const variableIndex = new Map<string, number>();
  const fixedVariables = o.variables !== undefined;
  (o.variables ?? []).forEach((v, i) => variableIndex.set(v, i));
  let skippedEmpty = 0;
  const ignored = new Map<string, number>();
  let format = o.timeFormat;

  // Phase 1: read every file's measurements, times and records.
  const perFile: FileMeasurements[] = [];
  for (const src of sources) {
    const table = parseCsv(src.text, src.fileName, { separator: o.separator ?? detectSeparator(src.text), trimColumnNames: true });
    const col = (name: string, flag: string): number => {
      const k = table.header.indexOf(name);
      if (k < 0) throw new Error(`${src.fileName}: no column ${JSON.stringify(name)} (columns: ${table.header.join(", ")}); ${flag} names it`);
      return k;
    };
    const kt = col(columns.time, "--long");
    const kv = col(columns.variable, "--long");
    const kx = col(columns.value, "--long");
    const ks = o.sequence === undefined ? -1 : col(o.sequence, "--sequence");
    const where = (r: number, k: number): string => cellWhere(src.fileName, table.lineNumbers[r], table.header[k]);
    // A repeated header line (files concatenated with their headers) is not a measurement.
    const isHeader = (row: string[]): boolean => row[kt].trim() === columns.time && row[kv].trim() === columns.variable;
    const startRecord = (id: string, whereText: string, named: boolean): number => {
      const existing = recordOf.get(id);
      if (existing !== undefined) {
        if (ks >= 0) return existing;
        throw new Error(`${whereText}: record ${JSON.stringify(id)} appears twice (first at ${records[existing].where}); each record needs its own id`);
      }
      records.push({ id, where: whereText, named });
      recordOf.set(id, records.length - 1);
      return records.length - 1;
    };
    const inputBase = inputStep.length;
    const rec: number[] = [];
    const rowsOf: number[] = [];
    const vars: number[] = [];
    const vals: number[] = [];
    // The file's own record: opened by its first measurement, named by an id row that comes first.
    let current = -1;
    let fileRecord = -1;
    table.rows.forEach((row, r) => {
      inputFile.push(src.fileName);
      inputLine.push(table.lineNumbers[r]);
      inputStep.push(-1);
      if (isHeader(row)) return;
      const variable = row[kv].trim();
      if (ks >= 0) {
        const id = row[ks].trim();
        if (id === "") throw new Error(`${where(r, ks)}: empty record id (--sequence ${o.sequence})`);
        current = startRecord(canonicalText(id), where(r, ks), true);
      } else if (o.id !== undefined && variable === o.id) {
        const id = canonicalText(row[kx]);
        if (id === "") throw new Error(`${where(r, kx)}: empty record id in the ${o.id} row (--id ${o.id})`);
        const other = recordOf.get(id);
        if (current >= 0 && current === fileRecord && !records[current].named && (other === undefined || other === current)) {
          // This file's record was opened by measurements before its id row: the id names it.
          recordOf.delete(records[current].id);
          records[current] = { id, where: where(r, kx), named: true };
          recordOf.set(id, current);
        } else current = startRecord(id, where(r, kx), true);
        if (fileRecord < 0) fileRecord = current;
        return;
      } else if (current < 0) {
        const name = o.id === undefined ? stem(src.fileName) : `${stem(src.fileName)} line ${table.lineNumbers[r]}`;
        current = fileRecord = startRecord(name, `${src.fileName} line ${table.lineNumbers[r]}`, false);
      }
      if (variable === "") {
        skippedEmpty++;
        return;
      }
      let v = variableIndex.get(variable);
      if (v === undefined) {
        if (fixedVariables) {
          ignored.set(variable, (ignored.get(variable) ?? 0) + 1);
          return;
        }
        v = variableIndex.size;
        variableIndex.set(variable, v);
      }
      const cell = row[kx];
      let x = NaN;
      if (!missing.isMissing(cell)) {
        const d = decimalValue(cell);
        if (d === undefined) {
          const why = isInfinity(cell) ? "is not a finite number" : "is not a number";
          throw new Error(`${where(r, kx)}: ${JSON.stringify(cell)} ${why} (variable ${JSON.stringify(variable)}); pass --na-values to read it as missing`);
        }
        x = d;
      }
      rec.push(current);
      rowsOf.push(r);
      vars.push(v);
      vals.push(x);
    });
    const raw = readTimeColumn(
      rowsOf.length,
      (i) => {
        const cell = table.rows[rowsOf[i]][kt];
        return missing.isMissing(cell) ? undefined : cell;
      },
      (i) => where(rowsOf[i], kt),
      { unit: o.timeUnit, expect: format },
    );
    if (rowsOf.length > 0) format = raw.format;
    perFile.push({
      fileName: src.fileName,
      record: Int32Array.from(rec),
      row: Int32Array.from(rowsOf),
      variable: Int32Array.from(vars),
      value: Float64Array.from(vals),
      times: width === null ? raw : raw.binned(width),
      lines: table.lineNumbers,
      inputBase,
    });
  }
  if (skippedEmpty > 0) o.note(`skipped ${skippedEmpty} row(s) with an empty ${columns.variable}`);
  if (ignored.size > 0) {
    const list = [...ignored].slice(0, 10).map(([v, n]) => `${v} (${n})`).join(", ");
    o.note(`ignored ${[...ignored.values()].reduce((a, b) => a + b, 0)} measurement(s) of variable(s) the model was not trained on: ${list}${ignored.size > 10 ? ", ..." : ""}`);
  }
  if (perFile.every((f) => f.record.length === 0)) throw new Error(`${sources[0].fileName}${sources.length > 1 ? " and the other files" : ""}: no measurements`);

  // Variables in a stable order (sorted), unless fixed by a trained model.
  const variables = fixedVariables ? [...o.variables!] : sortValues(variableIndex.keys());
  const column = new Int32Array(variableIndex.size);
  for (const [name, v] of variableIndex) column[v] = variables.indexOf(name);
  const V = variables.length;

  // Phase 2: one step per (record, time); values of one variable in a step averaged.
  const stepsOf: Map<string, number>[] = records.map(() => new Map());
  const stepRecord: number[] = [];
  const stepWhere: string[] = [];
  const stepTime: ExactTime[] = [];
  let sums = new Float64Array(1024 * V);
  let counts = new Uint32Array(1024 * V);
  for (const f of perFile) {
    for (let i = 0; i < f.record.length; i++) {
      const key = f.times.key(i);
      const steps = stepsOf[f.record[i]];
      let s = steps.get(key);
      if (s === undefined) {
        s = stepRecord.length;
        steps.set(key, s);
        stepRecord.push(f.record[i]);
        stepWhere.push(`${f.fileName} line ${f.lines[f.row[i]]}`);
        stepTime.push(f.times.cell(i));
        if ((s + 1) * V > sums.length) {
          const grown = new Float64Array(sums.length * 2);
          grown.set(sums);
          sums = grown;
          const grownCounts = new Uint32Array(counts.length * 2);
          grownCounts.set(counts);
          counts = grownCounts;
        }
      }
      inputStep[f.inputBase + f.row[i]] = s;
      const x = f.value[i];
      if (!Number.isNaN(x)) {
        const at = s * V + column[f.variable[i]];
        sums[at] += x;
        counts[at]++;
      }
    }
  }
  const S = stepRecord.length;
  const values = new Float64Array(S * V);
  for (let i = 0; i < S * V; i++) values[i] = counts[i] > 0 ? sums[i] / counts[i] : NaN;
  const first = perFile.find((f) => f.record.length > 0)!;
  const times = TimeColumn.fromCells(first.times.format, stepTime, first.times.secondsPerUnit);
  return {
    variables,
    values,
    times,
    record: Int32Array.from(stepRecord),
    records: records.map(({ id, where }) => ({ id, where })),
    where: stepWhere,
    inputStep: Int32Array.from(inputStep),
    inputFile,
    inputLine,
  };
}

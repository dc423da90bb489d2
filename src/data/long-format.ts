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
import { type CsvText, detectSeparator, parseCsv } from "../io/csv.js";
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
  readonly text: CsvText;
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

// The file name without folders or extension (either separator: the name may come from any system).
const stem = (file: string): string => file.slice(Math.max(file.lastIndexOf("/"), file.lastIndexOf("\\")) + 1).replace(/\.[^.]*$/, "");

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

/** Records in order of appearance, by id. */
class RecordBook {
  readonly list: { id: string; where: string; named: boolean }[] = [];
  private readonly byId = new Map<string, number>();

  /** The record with this id: a new one, or (`shared`: rows of one record may be spread out) the existing one. */
  open(id: string, where: string, named: boolean, shared: boolean): number {
    const existing = this.byId.get(id);
    if (existing !== undefined) {
      if (shared) return existing;
      throw new Error(`${where}: record ${JSON.stringify(id)} appears twice (first at ${this.list[existing].where}); each record needs its own id`);
    }
    this.list.push({ id, where, named });
    this.byId.set(id, this.list.length - 1);
    return this.list.length - 1;
  }

  /** Gives an unnamed record its id (an id row that follows the record's first measurements). */
  rename(k: number, id: string, where: string): boolean {
    const other = this.byId.get(id);
    if (this.list[k].named || (other !== undefined && other !== k)) return false;
    this.byId.delete(this.list[k].id);
    this.list[k] = { id, where, named: true };
    this.byId.set(id, k);
    return true;
  }
}

/** What reading the files collects besides the measurements. */
interface ReadState {
  readonly records: RecordBook;
  /** variable name -> index in order of appearance (or the fixed list) */
  readonly variableIndex: Map<string, number>;
  readonly fixedVariables: boolean;
  readonly inputStep: number[];
  readonly inputFile: string[];
  readonly inputLine: number[];
  skippedEmpty: number;
  readonly ignored: Map<string, number>;
  /** the time format of the first file with a measurement (every file must share it) */
  format: TimeFormat | undefined;
}

/** Pivots long-format sources into one step per record and time (bin). */
export function pivotLong(sources: readonly LongSource[], o: LongOptions): PivotTable {
  const width = o.timeBin === undefined ? null : parseTimeBin(o.timeBin);
  const state: ReadState = {
    records: new RecordBook(),
    variableIndex: new Map((o.variables ?? []).map((v, i) => [v, i])),
    fixedVariables: o.variables !== undefined,
    inputStep: [],
    inputFile: [],
    inputLine: [],
    skippedEmpty: 0,
    ignored: new Map(),
    format: o.timeFormat,
  };
  const perFile = sources.map((src) => readMeasurements(src, o, width, state));
  if (state.skippedEmpty > 0) o.note(`skipped ${state.skippedEmpty} row(s) with an empty ${o.columns.variable}`);
  if (state.ignored.size > 0) {
    const list = [...state.ignored].slice(0, 10).map(([v, n]) => `${v} (${n})`).join(", ");
    o.note(`ignored ${[...state.ignored.values()].reduce((a, b) => a + b, 0)} measurement(s) of variables that are neither features nor targets: ${list}${state.ignored.size > 10 ? ", ..." : ""}`);
  }
  if (perFile.every((f) => f.record.length === 0)) throw new Error(`${sources[0].fileName}${sources.length > 1 ? " and the other files" : ""}: no measurements`);
  // Variables in a stable order (sorted), unless fixed by the caller.
  const variables = state.fixedVariables ? [...o.variables!] : sortValues(state.variableIndex.keys());
  const column = new Int32Array(state.variableIndex.size);
  for (const [name, v] of state.variableIndex) column[v] = variables.indexOf(name);
  const steps = collectSteps(perFile, state, column, variables.length);
  return {
    variables,
    ...steps,
    records: state.records.list.map(({ id, where }) => ({ id, where })),
    inputStep: Int32Array.from(state.inputStep),
    inputFile: state.inputFile,
    inputLine: state.inputLine,
  };
}

/**
 * Phase 1, one file: assigns every row to a record, reads its variable and value, and reads the times
 * of the measurements (rounded down to --time-bin).
 */
function readMeasurements(src: LongSource, o: LongOptions, width: ExactTime | null, state: ReadState): FileMeasurements {
  const { columns, missing } = o;
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
  const { records } = state;
  const inputBase = state.inputStep.length;
  const rec: number[] = [];
  const rowsOf: number[] = [];
  const vars: number[] = [];
  const vals: number[] = [];
  let current = -1;
  table.rows.forEach((row, r) => {
    state.inputFile.push(src.fileName);
    state.inputLine.push(table.lineNumbers[r]);
    state.inputStep.push(-1);
    if (isHeader(row)) return;
    const variable = row[kv].trim();
    if (ks >= 0) {
      const id = row[ks].trim();
      if (id === "") throw new Error(`${where(r, ks)}: empty record id (--sequence ${o.sequence})`);
      current = records.open(canonicalText(id), where(r, ks), true, true);
    } else if (o.id !== undefined && variable === o.id) {
      // An id row starts a record, or names the record its file opened with measurements before it.
      const id = canonicalText(row[kx]);
      if (id === "") throw new Error(`${where(r, kx)}: empty record id in the ${o.id} row (--id ${o.id})`);
      if (!(current >= 0 && records.rename(current, id, where(r, kx)))) current = records.open(id, where(r, kx), true, false);
      return;
    } else if (current < 0) {
      // Rows before any id row: a record of their own, named after the file.
      const name = o.id === undefined ? stem(src.fileName) : `${stem(src.fileName)} line ${table.lineNumbers[r]}`;
      current = records.open(name, `${src.fileName} line ${table.lineNumbers[r]}`, false, false);
    }
    if (variable === "") {
      state.skippedEmpty++;
      return;
    }
    let v = state.variableIndex.get(variable);
    if (v === undefined) {
      if (state.fixedVariables) {
        state.ignored.set(variable, (state.ignored.get(variable) ?? 0) + 1);
        return;
      }
      v = state.variableIndex.size;
      state.variableIndex.set(variable, v);
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
  const times = readTimeColumn(
    rowsOf.length,
    (i) => {
      const cell = table.rows[rowsOf[i]][kt];
      return missing.isMissing(cell) ? undefined : cell;
    },
    (i) => where(rowsOf[i], kt),
    { unit: o.timeUnit, expect: state.format },
  );
  if (rowsOf.length > 0) state.format = times.format;
  return {
    fileName: src.fileName,
    record: Int32Array.from(rec),
    row: Int32Array.from(rowsOf),
    variable: Int32Array.from(vars),
    value: Float64Array.from(vals),
    times: width === null ? times : times.binned(width),
    lines: table.lineNumbers,
    inputBase,
  };
}

/** Phase 2: one step per record and time, the values of a variable within a step averaged. */
function collectSteps(perFile: readonly FileMeasurements[], state: ReadState, column: Int32Array, V: number): Pick<PivotTable, "values" | "times" | "record" | "where"> {
  const stepsOf: Map<number | string, number>[] = state.records.list.map(() => new Map());
  const stepRecord: number[] = [];
  const stepWhere: string[] = [];
  const stepTime: ExactTime[] = [];
  // First the steps (so the value table is allocated once, at its size), then the values.
  const stepOf = perFile.map((f) => {
    const out = new Int32Array(f.record.length);
    // Measurements of one step are usually consecutive rows: reuse the previous row's step then.
    let lastRecord = -1;
    let lastKey: number | string = NaN;
    let lastStep = -1;
    for (let i = 0; i < f.record.length; i++) {
      const record = f.record[i];
      const key = f.times.key(i);
      let s: number | undefined = record === lastRecord && key === lastKey ? lastStep : stepsOf[record].get(key);
      if (s === undefined) {
        s = stepRecord.length;
        stepsOf[record].set(key, s);
        stepRecord.push(record);
        stepWhere.push(`${f.fileName} line ${f.lines[f.row[i]]}`);
        stepTime.push(f.times.cell(i));
      }
      lastRecord = record;
      lastKey = key;
      lastStep = s;
      out[i] = s;
      state.inputStep[f.inputBase + f.row[i]] = s;
    }
    return out;
  });
  const S = stepRecord.length;
  const values = new Float64Array(S * V);
  const counts = new Uint32Array(S * V);
  perFile.forEach((f, k) => {
    for (let i = 0; i < f.record.length; i++) {
      const x = f.value[i];
      if (Number.isNaN(x)) continue;
      const at = stepOf[k][i] * V + column[f.variable[i]];
      values[at] += x;
      counts[at]++;
    }
  });
  for (let i = 0; i < S * V; i++) values[i] = counts[i] > 0 ? values[i] / counts[i] : NaN;
  const first = perFile.find((f) => f.record.length > 0)!;
  return { values, times: TimeColumn.fromCells(first.times.format, stepTime, first.times.secondsPerUnit), record: Int32Array.from(stepRecord), where: stepWhere };
}

/**
 * CSV for numeric time-series files (RFC 4180): comma separated (or another one-character separator,
 * such as ";" or tab, see {@link detectSeparator}), fields optionally in double
 * quotes (a quoted field may hold commas, line breaks and doubled quotes ""), records ending in
 * CRLF, LF or a lone CR, the last one with or without a line break. A UTF-8 byte-order mark is
 * dropped. The first record is the header and is required.
 *
 * Blank lines are skipped rather than read as one-field records: they are almost always stray
 * line breaks, and a genuinely empty single-column value can still be written as "" (writeCsv does).
 *
 * Line numbers in errors are 1-based physical lines, so they match what an editor shows even when
 * quoted fields span several lines.
 */

import { CompactColumn } from "./compact-column.js";

export interface CsvTable {
  readonly header: string[];
  readonly rows: string[][];
  /** The physical line on which each row starts, for error messages about individual cells. */
  readonly lineNumbers: number[];
}

export interface ParseCsvOptions {
  /**
   * Accept header fields that are empty or blank (pandas writes its unnamed index column that
   * way). Duplicate names are still refused. Default false.
   */
  readonly allowEmptyColumnNames?: boolean;
  /** Field separator, one character; default ",". */
  readonly separator?: string;
  /** Strip spaces around column names before checking them (data rows are kept as written). */
  readonly trimColumnNames?: boolean;
}

const QUOTE = 34; // "
const LF = 10;
const CR = 13;

/**
 * CSV text: one string, or its pieces in order (a file read a chunk at a time, so that no string ever
 * holds the whole file). A piece may end anywhere, even inside a field or between CR and LF. Pieces
 * must be iterable more than once when the separator is detected from them (detectSeparator reads
 * the first pieces, parseCsv then all of them).
 */
export type CsvText = string | Iterable<string>;

/** Parses CSV text. `fileName` labels error messages. */
export function parseCsv(text: CsvText, fileName: string, options: ParseCsvOptions = {}): CsvTable {
  const separator = options.separator ?? ",";
  checkSeparator(separator);
  const records: string[][] = [];
  const recordLines: number[] = [];
  readRecords(text, fileName, separator, (fields, line) => {
    records.push(fields);
    recordLines.push(line);
  });
  return tableOf(records, recordLines, fileName, options);
}

function checkSeparator(separator: string): void {
  if (separator.length !== 1 || separator === '"' || separator === "\n" || separator === "\r") {
    throw new Error(`parseCsv: the separator must be one character other than a quote or a line break, got ${JSON.stringify(separator)}`);
  }
}

/** Feeds every record of `text` to `onRecord` as it is parsed. */
function readRecords(text: CsvText, fileName: string, separator: string, onRecord: (fields: string[], line: number) => void): void {
  const reader = new CsvRecordReader(fileName, separator, onRecord);
  if (typeof text === "string") reader.push(text, true);
  else {
    for (const piece of text) reader.push(piece, false);
    reader.push("", true);
  }
}

/**
 * A parsed CSV whose cells are held per column in compact form (see {@link CompactColumn}) rather
 * than as one string each: numbers cost memory per number, not per character of their text.
 */
export interface CsvColumns {
  readonly header: string[];
  readonly rowCount: number;
  /** The physical line on which each row starts. */
  readonly lineNumbers: Float64Array;
  /** Row r's cell in column k, exactly as {@link parseCsv} reads it. */
  cell(r: number, k: number): string;
  readonly columns: readonly CompactColumn[];
}

/**
 * {@link parseCsv} storing the rows per column as they stream in: the same header, cells, line numbers
 * and errors (checked in the same order), without a string per cell.
 */
export function parseCsvColumns(text: CsvText, fileName: string, options: ParseCsvOptions = {}): CsvColumns {
  const separator = options.separator ?? ",";
  checkSeparator(separator);
  let header: string[] | null = null;
  let headerLine = 0;
  const columns: CompactColumn[] = [];
  let lines = new Float64Array(1024);
  let rowCount = 0;
  let badRow: { line: number; fields: number } | null = null;
  readRecords(text, fileName, separator, (fields, line) => {
    if (header === null) {
      header = fields;
      headerLine = line;
      for (let k = 0; k < fields.length; k++) columns.push(new CompactColumn());
      return;
    }
    if (badRow !== null) return;
    if (fields.length !== header.length) {
      badRow = { line, fields: fields.length };
      return;
    }
    for (let k = 0; k < fields.length; k++) columns[k].push(fields[k]);
    if (rowCount === lines.length) {
      const grown = new Float64Array(lines.length * 2);
      grown.set(lines);
      lines = grown;
    }
    lines[rowCount++] = line;
  });
  if (header === null) throw new Error(`${fileName}: empty file, expected a header row`);
  const names = checkHeader(header, headerLine, fileName, options);
  const bad = badRow as { line: number; fields: number } | null;
  if (bad !== null) throw new Error(`${fileName} line ${bad.line}: expected ${names.length} fields, got ${bad.fields}`);
  return {
    header: names,
    rowCount,
    lineNumbers: lines.slice(0, rowCount),
    cell: (r, k) => columns[k].cell(r),
    columns,
  };
}

/** Thrown inside CsvRecordReader when a record runs past the text read so far. */
const INCOMPLETE = Symbol("incomplete record");

/**
 * Splits CSV text into records as it arrives: `push` parses every record that is complete (a record
 * whose end cannot be known yet waits for the next piece), and the final push the rest.
 */
class CsvRecordReader {
  /** the start of a record that did not end in the text pushed so far */
  private pending = "";
  private line = 1;
  private started = false;
  private readonly SEP: number;

  constructor(
    private readonly fileName: string,
    private readonly separator: string,
    private readonly onRecord: (fields: string[], line: number) => void,
  ) {
    this.SEP = separator.charCodeAt(0);
  }

  push(piece: string, final: boolean): void {
    let text = this.pending.length > 0 ? this.pending + piece : piece;
    if (!this.started) {
      if (text.length === 0 && !final) return;
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const consumed = this.parse(text, final);
    this.pending = consumed < text.length ? text.slice(consumed) : "";
  }

  /** Parses the records of `text` that are complete; returns where the first incomplete one starts. */
  private parse(text: string, final: boolean): number {
    const { fileName, separator, SEP } = this;
    const n = text.length;
    let i = 0;
    let line = this.line;
    const { onRecord } = this;
    const incomplete = (): never => {
      throw INCOMPLETE;
    };

    /** Steps over one line break at `i` (CRLF counts once). */
    const skipLineBreak = (): void => {
      if (text.charCodeAt(i) === CR) {
        if (i + 1 >= n && !final) incomplete();
        i += text.charCodeAt(i + 1) === LF ? 2 : 1;
      } else i += 1;
      line++;
    };

    while (i < n) {
      const recordStart = i;
      const recordLine = line;
      try {
        const c0 = text.charCodeAt(i);
        if (c0 === LF || c0 === CR) {
          skipLineBreak();
          continue;
        }
        const fields: string[] = [];
        for (;;) {
          let value: string;
          if (i < n && text.charCodeAt(i) === QUOTE) {
            const openLine = line;
            i++;
            value = "";
            for (;;) {
              const close = text.indexOf('"', i);
              if (close < 0) {
                if (!final) incomplete();
                throw new Error(`${fileName} line ${openLine}: unterminated quoted field (field ${fields.length + 1} opens a quote that is never closed)`);
              }
              const chunk = text.slice(i, close);
              line += countLineBreaks(chunk);
              value += chunk;
              i = close + 1;
              if (i >= n && !final) incomplete();
              if (text.charCodeAt(i) === QUOTE) {
                value += '"';
                i++;
              } else break;
            }
            const after = text.charCodeAt(i);
            if (i < n && after !== SEP && after !== LF && after !== CR) {
              throw new Error(`${fileName} line ${line}: unexpected ${JSON.stringify(text[i])} after the closing quote of field ${fields.length + 1} (expected ${separator === "," ? "a comma" : `the separator ${JSON.stringify(separator)}`} or the end of the line)`);
            }
          } else {
            const start = i;
            while (i < n) {
              const c = text.charCodeAt(i);
              if (c === SEP || c === LF || c === CR) break;
              if (c === QUOTE) {
                throw new Error(`${fileName} line ${line}: stray quote in unquoted field ${fields.length + 1} (quote the whole field and write the quote as "")`);
              }
              i++;
            }
            if (i >= n && !final) incomplete();
            value = text.slice(start, i);
          }
          fields.push(value);
          if (i < n && text.charCodeAt(i) === SEP) {
            i++;
            continue;
          }
          if (i < n) skipLineBreak();
          break;
        }
        onRecord(fields, recordLine);
      } catch (e) {
        if (e !== INCOMPLETE) throw e;
        this.line = recordLine;
        return recordStart;
      }
    }
    this.line = line;
    return n;
  }
}

/** The header and rows of the parsed records, checked (names, field counts). */
function tableOf(records: string[][], recordLines: number[], fileName: string, options: ParseCsvOptions): CsvTable {
  if (records.length === 0) throw new Error(`${fileName}: empty file, expected a header row`);
  const header = checkHeader(records[0]!, recordLines[0]!, fileName, options);
  const rows = records.slice(1);
  const lineNumbers = recordLines.slice(1);
  rows.forEach((row, r) => {
    if (row.length !== header.length) {
      throw new Error(`${fileName} line ${lineNumbers[r]}: expected ${header.length} fields, got ${row.length}`);
    }
  });
  return { header, rows, lineNumbers };
}

/** The header's names (trimmed if asked), checked: none empty unless allowed, none twice. */
function checkHeader(fields: string[], line: number, fileName: string, options: ParseCsvOptions): string[] {
  const header = options.trimColumnNames ? fields.map((name) => name.trim()) : fields;
  const firstSeen = new Map<string, number>();
  header.forEach((name, k) => {
    if (name.trim() === "" && !options.allowEmptyColumnNames) {
      throw new Error(`${fileName} line ${line}: column ${k + 1} of the header has an empty name`);
    }
    const earlier = firstSeen.get(name);
    if (earlier !== undefined) {
      throw new Error(`${fileName} line ${line}: duplicate column name ${JSON.stringify(name)} (columns ${earlier + 1} and ${k + 1})`);
    }
    firstSeen.set(name, k);
  });
  return header;
}

/**
 * The separator a file's header line uses: whichever of comma, semicolon and tab occurs most often
 * outside quotes (ties and none go to the comma). Files with a single column read the same either way.
 */
export function detectSeparator(text: CsvText): "," | ";" | "\t" {
  let counts: SeparatorCounts;
  if (typeof text === "string") counts = scanHeader(text).counts;
  else {
    // the pieces up to the end of the header line are enough
    let head = "";
    for (const piece of text) {
      head += piece;
      if (scanHeader(head).complete) break;
    }
    counts = scanHeader(head).counts;
  }
  if (counts[";"] > counts[","] && counts[";"] >= counts["\t"]) return ";";
  if (counts["\t"] > counts[","] && counts["\t"] > counts[";"]) return "\t";
  return ",";
}

type SeparatorCounts = { ",": number; ";": number; "\t": number };

/** Separators outside quotes on the header line; `complete` once the line's end is in `text`. */
function scanHeader(text: string): { counts: SeparatorCounts; complete: boolean } {
  const counts = { ",": 0, ";": 0, "\t": 0 };
  let quoted = false;
  let started = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === "\n" || c === "\r")) {
      if (started) return { counts, complete: true }; // the end of the header line (blank lines before it are skipped)
      continue;
    } else if (!quoted && c in counts) counts[c as keyof typeof counts]++;
    started = true;
  }
  return { counts, complete: false };
}

function countLineBreaks(s: string): number {
  let count = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === LF) count++;
    else if (c === CR && s.charCodeAt(k + 1) !== LF) count++;
  }
  return count;
}

export type CsvCell = string | number;

function formatCell(cell: CsvCell): string {
  if (typeof cell === "number") return Number.isNaN(cell) ? "" : String(cell);
  return cell;
}

function quoteIfNeeded(field: string, alone: boolean): string {
  // An empty field alone on its line must be quoted, or the line would read back as blank.
  if (/[",\r\n]/.test(field) || (alone && field === "")) return `"${field.replace(/"/g, '""')}"`;
  return field;
}

/**
 * Writes a table as CSV text that {@link parseCsv} reads back to the same strings. Numbers use
 * JavaScript's shortest round-trip form; NaN is written as an empty field (a missing value).
 */
export function writeCsv(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<CsvCell>>,
  options: { newline?: "\n" | "\r\n" } = {},
): string {
  return [...csvPieces(header, rows, { ...options, pieceChars: Infinity })].join("");
}

/**
 * {@link writeCsv}'s text in pieces of at least `pieceChars` characters (the last may be shorter), rows
 * taken as `rows` yields them: a large table is written as it is produced, never held as one string.
 */
export function* csvPieces(
  header: readonly string[],
  rows: Iterable<ReadonlyArray<CsvCell>>,
  options: { newline?: "\n" | "\r\n"; pieceChars?: number } = {},
): Generator<string> {
  const newline = options.newline ?? "\n";
  const pieceChars = options.pieceChars ?? 1 << 20;
  let lines: string[] = [header.map((h) => quoteIfNeeded(h, header.length === 1)).join(",")];
  let chars = lines[0].length;
  let r = 0;
  for (const row of rows) {
    if (row.length !== header.length) {
      throw new Error(`writeCsv: row ${r + 1} has ${row.length} fields, the header has ${header.length}`);
    }
    const line = row.map((cell) => quoteIfNeeded(formatCell(cell), row.length === 1)).join(",");
    lines.push(line);
    chars += line.length + 1;
    r++;
    if (chars >= pieceChars) {
      yield lines.join(newline) + newline;
      lines = [];
      chars = 0;
    }
  }
  if (lines.length > 0) yield lines.join(newline) + newline;
}

// ---------------------------------------------------------------------------------------------
// Cells

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number in `text`, or undefined; stricter than Number() (no hex, no "1_0", no blank = 0). */
function parseDecimal(text: string): number | undefined {
  const s = text.trim();
  if (DECIMAL.test(s)) return Number(s);
  const lower = s.toLowerCase();
  if (lower === "nan") return NaN;
  if (/^[+-]?(inf|infinity)$/.test(lower)) return lower.startsWith("-") ? -Infinity : Infinity;
  return undefined;
}

function cellLabel(fileName: string, line: number, column: string): string {
  return `${fileName} line ${line}, column ${JSON.stringify(column)}`;
}

/**
 * A numeric cell. Empty (or blank) means a missing value and gives NaN, as does "nan"; "inf",
 * "-inf" and "Infinity" give infinities (the spellings numpy and pandas write). Anything else that
 * is not a plain decimal number is an error naming file, line, column and the text.
 */
export function parseNumberCell(value: string, fileName: string, line: number, column: string): number {
  if (value.trim() === "") return NaN;
  const v = parseDecimal(value);
  if (v === undefined) throw new Error(`${cellLabel(fileName, line, column)}: expected a number, got ${JSON.stringify(value)}`);
  return v;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

/** Days from 1970-01-01 to the given proleptic Gregorian date (no Date quirks for years < 100). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * A time cell: either a plain number (elapsed time in whatever unit the file uses, returned as is)
 * or an ISO 8601 / RFC 3339 date or date-time such as "2012-10-02", "2012-10-02 09:00:00",
 * "2012-10-02T09:00:00.25Z" or "2012-10-02T09:00:00+02:00", returned as seconds since
 * 1970-01-01T00:00:00Z. A date-time without a zone is read as UTC (not the machine's local time)
 * so results do not depend on where the code runs. Empty, non-finite and malformed values throw.
 */
export function parseTimeCell(value: string, fileName: string, line: number, column: string): number {
  const where = cellLabel(fileName, line, column);
  const s = value.trim();
  if (s === "") throw new Error(`${where}: missing time value`);
  const v = parseDecimal(s);
  if (v !== undefined) {
    if (!Number.isFinite(v)) throw new Error(`${where}: time must be finite, got ${JSON.stringify(value)}`);
    return v;
  }
  const iso = parseIsoDateTime(s, (what) => {
    throw new Error(`${where}: invalid ${what} in date/time ${JSON.stringify(value)}`);
  });
  if (iso === null) {
    throw new Error(`${where}: expected a number or an ISO 8601 date/time (e.g. 2012-10-02T09:00:00Z), got ${JSON.stringify(value)}`);
  }
  return iso.seconds + (iso.fraction === "" ? 0 : Number(`0.${iso.fraction}`));
}

/** An ISO 8601 date-time as whole seconds since 1970-01-01T00:00:00Z (UTC) plus its fraction digits. */
export interface IsoDateTime {
  /** whole seconds, an exact integer */
  readonly seconds: number;
  /** the digits after the decimal point of the seconds, as written ("" when none) */
  readonly fraction: string;
}

/**
 * Reads "2012-10-02", "2012-10-02 09:00", "2012-10-02T09:00:00.25Z", "2012-10-02T09:00:00+02:00", ...
 * (no zone = UTC). Returns null when `s` does not have that shape; calls `invalid` (which must throw)
 * with the part that is out of range ("month", "day", ...) when it has the shape but not a real date.
 */
export function parseIsoDateTime(s: string, invalid: (what: string) => never): IsoDateTime | null {
  const m = ISO_8601.exec(s);
  if (m === null) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const offsetSign = m[9] === "-" ? -1 : 1;
  const offsetHours = m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (month < 1 || month > 12) invalid("month");
  if (day < 1 || day > daysInMonth(year, month)) invalid("day");
  if (hour > 23) invalid("hour");
  if (minute > 59) invalid("minute");
  if (second > 59) invalid("second");
  if (offsetHours > 23 || offsetMinutes > 59) invalid("time zone offset");
  const local = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return { seconds: local - offsetSign * (offsetHours * 3600 + offsetMinutes * 60), fraction: m[7] ?? "" };
}

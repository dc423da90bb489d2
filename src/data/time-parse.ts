/**
 * Time columns read exactly. A time cell is a number (in the file's own unit, or the unit `--time-unit`
 * names), an ISO 8601 date-time (with or without a zone and fractional seconds; no zone = UTC) or a
 * duration since some start (`HH:MM`, `HH:MM:SS[.fff]`, `D days HH:MM:SS`). Every cell is kept as an
 * exact decimal (an integer count of 10^-scale units), so integer timestamps of any size (.NET ticks,
 * nanoseconds since 1970) and long fractions are compared and subtracted without rounding; only the
 * final elapsed time, a small difference, becomes a float.
 */
import { parseIsoDateTime } from "../io/csv.js";

export type TimeUnit = "s" | "ms" | "us" | "ns" | "min" | "h" | "d";

/** Seconds per unit of `--time-unit`. */
export const SECONDS_PER_UNIT: Readonly<Record<TimeUnit, number>> = { s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9, min: 60, h: 3600, d: 86400 };

export function isTimeUnit(u: string): u is TimeUnit {
  return Object.prototype.hasOwnProperty.call(SECONDS_PER_UNIT, u);
}

/** How a time column is written; dates and durations count in seconds. */
export type TimeFormat = "number" | "datetime" | "duration";

const FORMAT_WORDS: Record<TimeFormat, string> = {
  number: "a number",
  datetime: "an ISO 8601 date-time",
  duration: "a duration",
};

/** One cell: the value is `int / 10^scale` (seconds for dates and durations, the file's unit for numbers). */
export interface ExactTime {
  readonly format: TimeFormat;
  readonly int: number | bigint;
  readonly scale: number;
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const DURATION = /^(?:(\d+)\s*days?,?\s+)?(\d+):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;

/** A decimal digit string (no sign) as a number when that is exact, else a bigint. */
function integer(digits: string, negative: boolean): number | bigint {
  const trimmed = digits.replace(/^0+(?=\d)/, "");
  if (trimmed.length <= 15) {
    const v = Number(trimmed);
    return negative ? -v : v;
  }
  const b = BigInt(trimmed);
  return negative ? -b : b;
}

function parseNumber(s: string): ExactTime | null {
  const m = NUMBER.exec(s);
  if (m === null) return null;
  const whole = m[2];
  const fraction = m[3] ?? "";
  if (whole === "" && fraction === "") return null;
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  let digits = whole + fraction;
  let scale = fraction.length - exponent;
  if (scale < 0) {
    digits += "0".repeat(-scale);
    scale = 0;
  }
  return { format: "number", int: integer(digits, m[1] === "-"), scale };
}

/** A duration, null when `s` is not one, or the name of the part that is out of range. */
function parseDuration(s: string): ExactTime | null | "minutes" | "seconds" {
  const m = DURATION.exec(s);
  if (m === null) return null;
  const days = m[1] === undefined ? 0 : Number(m[1]);
  const [hours, minutes] = [Number(m[2]), Number(m[3])];
  const seconds = m[4] === undefined ? 0 : Number(m[4]);
  if (minutes > 59) return "minutes";
  if (seconds > 59) return "seconds";
  const whole = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
  return withFraction("duration", whole, m[5] ?? "");
}

function withFraction(format: TimeFormat, wholeSeconds: number, fraction: string): ExactTime {
  if (fraction === "") return { format, int: wholeSeconds, scale: 0 };
  const negative = wholeSeconds < 0;
  const magnitude = BigInt(Math.abs(wholeSeconds)) * 10n ** BigInt(fraction.length) + BigInt(fraction);
  const int = negative ? -magnitude : magnitude;
  return { format, int: int >= BigInt(Number.MIN_SAFE_INTEGER) && int <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(int) : int, scale: fraction.length };
}

/** The shapes a time cell may take, for messages. */
export const TIME_SHAPES = "a number, an ISO 8601 date-time such as 2012-10-02T09:00:00Z, or a duration such as 12:30, 12:30:15 or 2 days 01:00:00";

/**
 * Reads one time cell exactly; `where` ("file line 3, column "t"") labels errors. Empty cells are the
 * caller's business (a row without a time cannot be placed).
 */
export function parseTimeExact(value: string, where: string): ExactTime {
  const t = readTime(value);
  if (typeof t === "string") throw new Error(`${where}: ${t}`);
  return t;
}

/** One time cell, or what is wrong with it (a message after "file line N, column "t": "). */
function readTime(value: string): ExactTime | string {
  const s = value.trim();
  const n = parseNumber(s);
  if (n !== null) return n;
  const d = parseDuration(s);
  if (typeof d === "string") return `invalid ${d} in time ${JSON.stringify(value)}`;
  if (d !== null) return d;
  try {
    const iso = parseIsoDateTime(s, (what) => {
      throw new InvalidPart(what);
    });
    if (iso !== null) return withFraction("datetime", iso.seconds, iso.fraction);
  } catch (e) {
    if (e instanceof InvalidPart) return `invalid ${e.part} in time ${JSON.stringify(value)}`;
    throw e;
  }
  return `expected a time (${TIME_SHAPES}), got ${JSON.stringify(value)}`;
}

/** A date-time with a part out of range (month 13, ...), caught where the cell's position is known. */
class InvalidPart extends Error {
  constructor(readonly part: string) {
    super(part);
  }
}

/** Parsed time cells by index: each `int(i) / 10^scale(i)`. */
export interface TimeParts {
  readonly length: number;
  int(i: number): number | bigint;
  scale(i: number): number;
}

/**
 * A column of exact times at one common scale: safe integers in a Float64Array when they all fit
 * (the usual case, and fast), else bigints.
 */
export class TimeColumn {
  private constructor(
    readonly format: TimeFormat,
    /** Values are counts of 10^-scale base units. */
    readonly scale: number,
    /** Seconds per base unit; null = numbers in the file's own unit (elapsed times stay in it). */
    readonly secondsPerUnit: number | null,
    private readonly small: Float64Array | null,
    private readonly big: bigint[] | null,
  ) {}

  get length(): number {
    return this.small ? this.small.length : this.big!.length;
  }

  /** Builds the column from parsed cells (all of one format, checked by the caller). */
  static fromCells(format: TimeFormat, cells: readonly ExactTime[], secondsPerUnit: number | null): TimeColumn {
    return TimeColumn.fromParts(format, { length: cells.length, int: (i) => cells[i].int, scale: (i) => cells[i].scale }, secondsPerUnit);
  }

  /** Builds the column from the parts of parsed cells (all of one format), without an object per cell. */
  static fromParts(format: TimeFormat, cells: TimeParts, secondsPerUnit: number | null): TimeColumn {
    const n = cells.length;
    let scale = 0;
    for (let i = 0; i < n; i++) scale = Math.max(scale, cells.scale(i));
    const exact = (i: number): bigint => rescale({ format, int: cells.int(i), scale: cells.scale(i) }, scale);
    let safe = true;
    for (let i = 0; i < n; i++) {
      if (typeof cells.int(i) === "bigint" || cells.scale(i) !== scale) {
        const v = exact(i);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
          safe = false;
          break;
        }
      }
    }
    if (safe) {
      const small = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const int = cells.int(i);
        small[i] = cells.scale(i) === scale && typeof int === "number" ? int : Number(exact(i));
      }
      return new TimeColumn(format, scale, secondsPerUnit, small, null);
    }
    return new TimeColumn(format, scale, secondsPerUnit, null, Array.from({ length: n }, (_, i) => exact(i)));
  }

  /** Row i's time, exactly, for building other columns. */
  cell(i: number): ExactTime {
    return { format: this.format, int: this.small ? this.small[i] : this.big![i], scale: this.scale };
  }

  /** A map key that is equal for equal times. */
  key(i: number): number | string {
    return this.small ? this.small[i] : this.big![i].toString();
  }

  /** <0, 0, >0 as row a's time is before, equal to or after row b's. */
  compare(a: number, b: number): number {
    if (this.small) return this.small[a] - this.small[b];
    const [x, y] = [this.big![a], this.big![b]];
    return x < y ? -1 : x > y ? 1 : 0;
  }

  /** Row b's time minus row a's, in seconds (or the file's unit): exact up to the final conversion. */
  elapsed(a: number, b: number): number {
    const raw = this.small ? this.small[b] - this.small[a] : Number(this.big![b] - this.big![a]);
    const value = this.scale === 0 ? raw : raw / 10 ** this.scale;
    const perUnit = this.secondsPerUnit;
    if (perUnit === null || perUnit === 1) return value;
    // Sub-second units divide by an exact power of ten (1500 ms -> 1.5 s exactly, not 1500 * 0.001).
    return perUnit < 1 ? value / Math.round(1 / perUnit) : value * perUnit;
  }

  /** The same times rounded down to multiples of `width` (seconds, or the file's unit for plain numbers). */
  binned(width: ExactTime): TimeColumn {
    // Width in this column's base units at its scale; a finer width raises the scale of both.
    if (this.format === "number" && this.secondsPerUnit === null && width.format !== "number") {
      throw new Error(`--time-bin ${widthText(width)} is a duration, but the times are plain numbers of unknown unit: give --time-unit (s, ms, ...) or a plain number as the width`);
    }
    const scale = Math.max(this.scale, width.scale);
    let w = rescale(width, scale);
    if (this.secondsPerUnit !== null && this.secondsPerUnit !== 1 && width.format !== "number") {
      // A width in seconds over numbers in another unit: express it in that unit (must come out whole).
      const perUnit = exactUnitsPerSecond(this.secondsPerUnit);
      if ((w * perUnit.num) % perUnit.den !== 0n) throw new Error(`--time-bin: ${widthText(width)} is not a whole number of the time unit`);
      w = (w * perUnit.num) / perUnit.den;
    }
    if (w <= 0n) throw new Error(`--time-bin must be positive, got ${widthText(width)}`);
    const up = 10n ** BigInt(scale - this.scale);
    const floorTo = (v: bigint): bigint => {
      const r = ((v % w) + w) % w;
      return v - r;
    };
    if (this.small && scale === this.scale && w <= BigInt(Number.MAX_SAFE_INTEGER)) {
      // Safe integers: the same floor in plain numbers (exact below 2^53), without a bigint per row.
      const width = Number(w);
      const small = new Float64Array(this.small.length);
      for (let i = 0; i < small.length; i++) {
        const v = this.small[i];
        small[i] = v - (((v % width) + width) % width);
      }
      return new TimeColumn(this.format, scale, this.secondsPerUnit, small, null);
    }
    const values: bigint[] = [];
    for (let i = 0; i < this.length; i++) values.push(floorTo((this.small ? BigInt(this.small[i]) : this.big![i]) * up));
    const cells = values.map((int) => ({ format: this.format, int, scale }));
    return TimeColumn.fromCells(this.format, cells, this.secondsPerUnit);
  }
}

function rescale(c: ExactTime, scale: number): bigint {
  const v = typeof c.int === "bigint" ? c.int : BigInt(c.int);
  return scale === c.scale ? v : v * 10n ** BigInt(scale - c.scale);
}

/** 1 / secondsPerUnit as an exact fraction, for the units of --time-unit. */
function exactUnitsPerSecond(secondsPerUnit: number): { num: bigint; den: bigint } {
  if (secondsPerUnit >= 1) return { num: 1n, den: BigInt(secondsPerUnit) };
  return { num: BigInt(Math.round(1 / secondsPerUnit)), den: 1n };
}

function widthText(w: ExactTime): string {
  const s = (typeof w.int === "bigint" ? w.int : BigInt(w.int)).toString();
  if (w.scale === 0) return w.format === "number" ? s : `${s} s`;
  const padded = s.padStart(w.scale + 1, "0");
  return `${padded.slice(0, -w.scale)}.${padded.slice(-w.scale)}${w.format === "number" ? "" : " s"}`;
}

const WIDTH_WITH_UNIT = /^([0-9]*\.?[0-9]+)\s*(s|sec|ms|us|ns|min|m|h|d)$/;

/**
 * A `--time-bin` width: "30min", "1h", "15s", "1d", "500ms", a duration ("01:00"), or a plain number in
 * the time column's own unit.
 */
export function parseTimeBin(text: string): ExactTime {
  const s = text.trim();
  const m = WIDTH_WITH_UNIT.exec(s);
  if (m !== null) {
    const unit = m[2] === "sec" ? "s" : m[2] === "m" ? "min" : (m[2] as TimeUnit);
    const n = parseNumber(m[1])!;
    const perUnit = SECONDS_PER_UNIT[unit];
    // Scale the decimal exactly: sub-second units shift the decimal point, larger ones multiply.
    if (perUnit >= 1) return { format: "duration", int: rescale(n, n.scale) * BigInt(perUnit), scale: n.scale };
    const shift = Math.round(-Math.log10(perUnit));
    return { format: "duration", int: rescale(n, n.scale), scale: n.scale + shift };
  }
  try {
    const t = parseTimeExact(s, "--time-bin");
    if (t.format === "datetime") throw new Error("a date");
    return t;
  } catch {
    throw new Error(`--time-bin must be a width such as 30min, 1h, 15s, 1d, 01:00 or a number in the time column's unit, got ${JSON.stringify(text)}`);
  }
}

/** The words for a format, for messages ("a number", "an ISO 8601 date-time", "a duration"). */
export function formatWords(f: TimeFormat): string {
  return FORMAT_WORDS[f];
}

export interface ReadTimeOptions {
  /** `--time-unit` of plain numbers; without it numbers stay in the file's unit. */
  readonly unit?: TimeUnit;
  /** The format the column must have (a trained model's), for data read later. */
  readonly expect?: TimeFormat;
}

/**
 * Reads a whole time column. `cell(i)` is row i's text (undefined = missing, refused), `where(i)` its
 * "file line N, column "t"" label. All cells must share one format; --time-unit only applies to numbers.
 */
export function readTimeColumn(count: number, cell: (i: number) => string | undefined, where: (i: number) => string, o: ReadTimeOptions = {}): TimeColumn {
  // Per cell its integer and scale; the few integers beyond 2^53 as bigints on the side.
  const ints = new Float64Array(count);
  const scales = new Float64Array(count);
  const bigs = new Map<number, bigint>();
  let format: TimeFormat = "number";
  let first = -1;
  for (let i = 0; i < count; i++) {
    const text = cell(i);
    if (text === undefined) throw new Error(`${where(i)}: missing time value (each row needs a time to be placed in its sequence)`);
    const t = readTime(text);
    if (typeof t === "string") throw new Error(`${where(i)}: ${t}`);
    if (first < 0) {
      first = i;
      format = t.format;
      if (o.expect !== undefined && t.format !== o.expect) {
        throw new Error(`${where(i)}: the model was trained on times written as ${FORMAT_WORDS[o.expect]}, this file has ${FORMAT_WORDS[t.format]} (${JSON.stringify(text)})`);
      }
      if (o.unit !== undefined && t.format !== "number") {
        throw new Error(`${where(i)}: --time-unit ${o.unit} applies to numeric times, but the column holds ${FORMAT_WORDS[t.format]} (${JSON.stringify(text)}), read in seconds; drop --time-unit`);
      }
    } else if (t.format !== format) {
      throw new Error(`${where(i)}: ${JSON.stringify(text)} is ${FORMAT_WORDS[t.format]}, but the column's first time (${JSON.stringify(cell(first))} at ${where(first)}) is ${FORMAT_WORDS[format]}; write every time the same way`);
    }
    if (typeof t.int === "bigint") bigs.set(i, t.int);
    else ints[i] = t.int;
    scales[i] = t.scale;
  }
  const secondsPerUnit = format !== "number" ? 1 : o.unit === undefined ? null : SECONDS_PER_UNIT[o.unit];
  const int = bigs.size === 0 ? (i: number) => ints[i] : (i: number) => bigs.get(i) ?? ints[i];
  return TimeColumn.fromParts(format, { length: count, int, scale: (i) => scales[i] }, secondsPerUnit);
}

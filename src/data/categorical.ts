/**
 * Text (categorical) feature columns. A feature column whose cells are text is categorical and is
 * one-hot encoded: one input per value of its vocabulary, 1 for the row's value and 0 for the others.
 * The vocabulary is the set of values in the training split, sorted (numerically when every value is a
 * number), so it does not depend on row order; it is stored with the model, and a value the model
 * never saw gives all zeros (counted, so the caller can warn). A missing cell stays missing in all of
 * the column's inputs (forward filled and masked like any missing cell).
 *
 * While reading, a categorical cell is held as a code (its index in a {@link CategoryCodes} shared by
 * every file of one preparation), so series keep one number per column until the split is known and
 * the vocabulary can be taken from the training part.
 */
import type { CsvColumns } from "../io/csv.js";
import { type MissingTokens, canonicalText, cellWhere, isDecimal, isInfinity, sortValues } from "./cells.js";
import type { Series } from "./series.js";

export type ColumnKind = "numeric" | "categorical";

/** A categorical input column and its vocabulary, as stored in a checkpoint. */
export interface CategoricalColumn {
  readonly column: string;
  readonly values: string[];
}

/** Text value <-> code of one categorical column while files are read. */
export class CategoryCodes {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  code(cell: string): number {
    const text = canonicalText(cell);
    let c = this.index.get(text);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(text);
      this.index.set(text, c);
    }
    return c;
  }
}

/** Auto-detected text columns with more values than this are refused (probably ids, times or free text). */
export const MAX_AUTO_CATEGORIES = 100;

export interface KindOptions {
  /** `--categorical`: one-hot encode these even when their cells are numbers. */
  readonly categorical?: readonly string[];
  /** `--numeric`: these must hold numbers; text is an error. */
  readonly numeric?: readonly string[];
  /** A trained model's categorical columns: exactly these are categorical, the rest numeric. */
  readonly trained?: readonly CategoricalColumn[];
}

export interface KindChoice {
  readonly kinds: ColumnKind[];
  /** For numeric columns: the advice attached to an error about a text cell. */
  readonly textAdvice: string[];
  /** What was decided without being asked, for the log. */
  readonly notes: string[];
}

/**
 * The kind of every feature column (`columns` are indices into the table). Without a choice: all
 * numbers -> numeric, all text -> categorical; mixed cells go with the majority, so a column of
 * numbers with one stray word is reported as a bad cell rather than silently becoming 1000 categories.
 */
export function chooseColumnKinds(table: CsvColumns, fileName: string, columns: readonly number[], tokens: MissingTokens, o: KindOptions): KindChoice {
  const names = columns.map((k) => table.header[k]);
  for (const [flag, list] of [["--categorical", o.categorical], ["--numeric", o.numeric]] as const) {
    for (const c of list ?? []) {
      if (!names.includes(c)) throw new Error(`${fileName}: ${flag} ${c}: ${JSON.stringify(c)} is not one of the feature columns (${names.join(", ")})`);
    }
  }
  const both = (o.categorical ?? []).find((c) => (o.numeric ?? []).includes(c));
  if (both !== undefined) throw new Error(`${fileName}: column ${JSON.stringify(both)} is given to both --categorical and --numeric`);
  // a cell written as a plain number is a number, unless some missing token is written as one too
  const numbersAsWritten = !tokens.list.some((t) => isDecimal(t));
  const kinds: ColumnKind[] = [];
  const textAdvice: string[] = [];
  const notes: string[] = [];
  columns.forEach((k, f) => {
    const name = names[f];
    if (o.trained) {
      const categorical = o.trained.some((c) => c.column === name);
      kinds.push(categorical ? "categorical" : "numeric");
      textAdvice.push("the model was trained with this column numeric");
      return;
    }
    if (o.categorical?.includes(name)) {
      kinds.push("categorical");
      textAdvice.push("");
      return;
    }
    if (o.numeric?.includes(name)) {
      kinds.push("numeric");
      textAdvice.push(`--numeric ${name} refuses text; leave it out to one-hot encode the column, or pass --na-values to read this token as missing`);
      return;
    }
    let numbers = 0;
    let texts = 0;
    let missing = 0;
    const distinct = new Set<string>();
    const column = table.columns[k];
    for (let r = 0; r < table.rowCount; r++) {
      if (numbersAsWritten && column.number(r) !== undefined) {
        numbers++;
        continue;
      }
      const cell = column.cell(r);
      if (tokens.isMissing(cell)) missing++;
      else if (isDecimal(cell) || isInfinity(cell)) numbers++;
      else {
        texts++;
        if (distinct.size <= MAX_AUTO_CATEGORIES) distinct.add(canonicalText(cell));
      }
    }
    if (texts === 0 || numbers >= texts) {
      kinds.push("numeric");
      textAdvice.push(`the column is mostly numbers; pass --categorical ${name} to one-hot encode it, or --na-values to read this token as missing`);
      return;
    }
    if (distinct.size > MAX_AUTO_CATEGORIES) {
      const examples = [...distinct].slice(0, 3).map((v) => JSON.stringify(v)).join(", ");
      throw new Error(
        `${fileName}: column ${JSON.stringify(name)} holds text with more than ${MAX_AUTO_CATEGORIES} distinct values (${examples}, ...), too many to one-hot encode by default; ` +
          `pass --categorical ${name} to encode it anyway, --time ${name} if it holds the times, --sequence ${name} if it names the series, or --features without it`,
      );
    }
    kinds.push("categorical");
    textAdvice.push("");
    const missingNote = missing > 0 ? `; ${missing} of ${table.rowCount} cells are missing (${tokens.describe()} read as missing; change with --na-values)` : "";
    notes.push(`${fileName}: column ${JSON.stringify(name)} is text: one-hot encoded${missingNote}; pass --numeric ${name} to refuse text instead`);
  });
  return { kinds, textAdvice, notes };
}

/** The error for a text cell in a numeric column. */
export function textInNumericColumn(fileName: string, line: number, column: string, cell: string, advice: string): Error {
  return new Error(`${cellWhere(fileName, line, column)}: expected a number, got ${JSON.stringify(cell)}${advice ? ` (${advice})` : ""}`);
}

/** How raw columns (numbers and category codes) become the model's inputs. */
export interface FeatureLayout {
  /** raw feature columns */
  readonly columns: readonly string[];
  readonly kinds: readonly ColumnKind[];
  /** per raw column: its codes (categorical) or null */
  readonly codes: readonly (CategoryCodes | null)[];
}

export interface Encoding {
  /** The vocabulary of each categorical column, in column order. */
  readonly categorical: CategoricalColumn[];
  /** Input names: numeric columns as they are, categorical ones as `column=value`. */
  readonly names: string[];
  /** Per input: whether it is a one-hot indicator (left unscaled). */
  readonly oneHot: boolean[];
  /** Per raw column: code -> position in the vocabulary (-1 = not in it), or null for numeric columns. */
  readonly positions: (Int32Array | null)[];
  /** Per raw column: the input where its block starts, and how many inputs it has. */
  readonly offsets: number[];
  readonly sizes: number[];
  readonly width: number;
}

/**
 * The encoding: vocabularies given (a trained model's) or collected from the training series.
 * Numeric columns map to one input each.
 */
export function makeEncoding(layout: FeatureLayout, train: readonly Series[], given?: readonly CategoricalColumn[]): Encoding {
  const F = layout.columns.length;
  const categorical: CategoricalColumn[] = [];
  const names: string[] = [];
  const oneHot: boolean[] = [];
  const positions: (Int32Array | null)[] = [];
  const offsets: number[] = [];
  const sizes: number[] = [];
  for (let f = 0; f < F; f++) {
    const column = layout.columns[f];
    offsets.push(names.length);
    const codes = layout.codes[f];
    if (layout.kinds[f] === "numeric" || codes === null) {
      names.push(column);
      oneHot.push(false);
      positions.push(null);
      sizes.push(1);
      continue;
    }
    let values: string[];
    const stored = given?.find((c) => c.column === column);
    if (given) {
      if (!stored) throw new Error(`the model's vocabulary has no entry for categorical column ${JSON.stringify(column)}`);
      values = [...stored.values];
    } else {
      const seen = new Set<string>();
      for (const s of train) {
        for (let t = 0; t < s.length; t++) {
          const c = s.values[t * F + f];
          if (!Number.isNaN(c)) seen.add(codes.values[c]);
        }
      }
      values = sortValues(seen);
    }
    const where = new Map(values.map((v, i) => [v, i]));
    positions.push(Int32Array.from(codes.values, (v) => where.get(v) ?? -1));
    categorical.push({ column, values });
    sizes.push(values.length);
    for (const v of values) {
      names.push(`${column}=${v}`);
      oneHot.push(true);
    }
  }
  return { categorical, names, oneHot, positions, offsets, sizes, width: names.length };
}

/** Per categorical column: how many steps held a value outside the vocabulary, and which values. */
export type UnseenCounts = Map<string, Map<string, number>>;

/** The series with categorical codes replaced by one-hot blocks; values outside the vocabulary counted. */
export function encodeSeries(s: Series, layout: FeatureLayout, enc: Encoding, unseen: UnseenCounts): Series {
  const F = layout.columns.length;
  const W = enc.width;
  const values = new Float64Array(s.length * W);
  for (let t = 0; t < s.length; t++) {
    for (let f = 0; f < F; f++) {
      const v = s.values[t * F + f];
      const at = t * W + enc.offsets[f];
      const pos = enc.positions[f];
      if (pos === null) {
        values[at] = v;
        continue;
      }
      if (Number.isNaN(v)) {
        values.fill(NaN, at, at + enc.sizes[f]);
        continue;
      }
      const p = pos[v];
      if (p >= 0) values[at + p] = 1;
      else {
        const column = layout.columns[f];
        const text = layout.codes[f]!.values[v];
        let m = unseen.get(column);
        if (!m) unseen.set(column, (m = new Map()));
        m.set(text, (m.get(text) ?? 0) + 1);
      }
    }
  }
  return { ...s, values };
}

/** One line per column with unseen values, e.g. `column "mode": 3 cells hold values not seen in training ("tram" x2, "ferry")`. */
export function describeUnseen(unseen: UnseenCounts): string[] {
  return [...unseen].map(([column, m]) => {
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    const shown = [...m].slice(0, 5).map(([v, n]) => (n > 1 ? `${JSON.stringify(v)} x${n}` : JSON.stringify(v))).join(", ");
    return `column ${JSON.stringify(column)}: ${total} step(s) hold values not seen in training (${shown}${m.size > 5 ? ", ..." : ""}), encoded as all zeros`;
  });
}

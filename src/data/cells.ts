/**
 * What a data cell means: missing (one of the missing-value tokens), a number, or text. Shared by the
 * wide CSV reader and the long-format reader so both read cells the same way.
 */

/** Cells read as missing by default (besides empty ones): the spellings of R, pandas, SQL and spreadsheets. */
export const DEFAULT_NA_VALUES: readonly string[] = ["NA", "N/A", "NaN", "nan", "null", "NULL", "None", "?"];

/** Empty and blank cells are always missing; the tokens are compared after trimming spaces. */
export class MissingTokens {
  private readonly tokens: Set<string>;
  constructor(readonly list: readonly string[] = DEFAULT_NA_VALUES) {
    this.tokens = new Set(list.map((t) => t.trim()));
  }
  isMissing(cell: string): boolean {
    const t = cell.trim();
    return t === "" || this.tokens.has(t);
  }
  /** For messages: "NA, N/A, ..." */
  describe(): string {
    return this.list.length === 0 ? "(none: only empty cells)" : this.list.map((t) => JSON.stringify(t)).join(", ");
  }
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?(inf|infinity)$/i;

/** Whether a (non-missing) cell is written as a plain decimal number. */
export function isDecimal(cell: string): boolean {
  return DECIMAL.test(cell.trim());
}

/**
 * A numeric cell that is not missing: its finite value, or undefined for anything else (text,
 * infinities), which the caller turns into an error with the right advice.
 */
export function decimalValue(cell: string): number | undefined {
  const t = cell.trim();
  return DECIMAL.test(t) ? Number(t) : undefined;
}

export function isInfinity(cell: string): boolean {
  return INFINITY.test(cell.trim());
}

/** "1", "1.0" and "01" are one value; other text is compared trimmed. Used for labels and categories. */
export function canonicalText(cell: string): string {
  const t = cell.trim();
  return DECIMAL.test(t) ? String(Number(t)) : t;
}

/** Sorted list of distinct values: numerically when every value is a number, else by code point. */
export function sortValues(values: Iterable<string>): string[] {
  const list = [...new Set(values)];
  if (list.every((l) => DECIMAL.test(l))) return list.sort((a, b) => Number(a) - Number(b));
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** `file line N, column "c"`: the label of one cell in messages. */
export function cellWhere(fileName: string, line: number, column: string): string {
  return `${fileName} line ${line}, column ${JSON.stringify(column)}`;
}

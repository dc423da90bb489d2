/**
 * Per-sequence targets from a separate table (`--outcomes FILE --id COL`), such as PhysioNet's
 * `Outcomes-a.txt` (`RecordID,...,In-hospital_death`): each sequence's id is looked up in the id
 * column and the target cells of that row label the sequence's last step. Sequences without a row are
 * unlabelled; rows without a sequence are ignored (so a subset of the records can be used).
 */
import { type CsvText, detectSeparator, parseCsv } from "../io/csv.js";
import { type MissingTokens, canonicalText, cellWhere, decimalValue } from "./cells.js";
import type { RawFile } from "./raw-file.js";

export interface OutcomesSource {
  readonly text: CsvText;
  readonly fileName: string;
}

/**
 * Writes the outcome of every group of `raw` into its last row (in time order): class labels or numbers,
 * as `raw` holds them. `targets` are columns of the outcomes table. Returns the sequences without a row.
 */
export function joinOutcomes(raw: RawFile, src: OutcomesSource, id: string, targets: readonly string[], missing: MissingTokens, allowMissingTarget: boolean): { unmatched: string[]; rows: number } {
  const table = parseCsv(src.text, src.fileName, { separator: detectSeparator(src.text), trimColumnNames: true });
  const column = (name: string, flag: string): number => {
    const k = table.header.indexOf(name);
    if (k < 0) throw new Error(`${src.fileName}: no column ${JSON.stringify(name)} (columns: ${table.header.join(", ")}); ${flag} names it`);
    return k;
  };
  const kid = column(id, "--id");
  const present = targets.map((t) => table.header.includes(t));
  if (!present.every(Boolean)) {
    if (allowMissingTarget && !present.some(Boolean)) return { unmatched: [], rows: table.rows.length };
    column(targets.find((_, i) => !present[i])!, "--target");
  }
  const kt = targets.map((t) => table.header.indexOf(t));
  const rowOf = new Map<string, number>();
  table.rows.forEach((row, r) => {
    const key = canonicalText(row[kid]);
    if (key === "") throw new Error(`${cellWhere(src.fileName, table.lineNumbers[r], id)}: empty id (--id ${id})`);
    const earlier = rowOf.get(key);
    if (earlier !== undefined) throw new Error(`${cellWhere(src.fileName, table.lineNumbers[r], id)}: id ${JSON.stringify(key)} also on line ${table.lineNumbers[earlier]}; each sequence needs one outcome row`);
    rowOf.set(key, r);
  });
  const T = targets.length;
  const unmatched: string[] = [];
  for (const g of raw.groups) {
    const r = rowOf.get(canonicalText(g.name));
    if (r === undefined) {
      unmatched.push(g.name);
      continue;
    }
    const last = g.rows[g.rows.length - 1];
    const row = table.rows[r];
    kt.forEach((k, j) => {
      const cell = row[k];
      if (raw.labels) {
        raw.labels[last] = missing.isMissing(cell) ? "" : canonicalText(cell);
        return;
      }
      let v = NaN;
      if (!missing.isMissing(cell)) {
        const d = decimalValue(cell);
        if (d === undefined) {
          throw new Error(`${cellWhere(src.fileName, table.lineNumbers[r], targets[j])}: expected a number, got ${JSON.stringify(cell)} (a regression target must be a number; pass --task classify to predict classes, or --na-values to read it as missing)`);
        }
        v = d;
      }
      raw.numbers![last * T + j] = v;
    });
  }
  return { unmatched, rows: table.rows.length };
}

/**
 * CSV stored per column in compact form (numbers as numbers, other cells as text) reads back exactly as
 * parseCsv's strings: every cell, line number and error, for random texts cut into random pieces, and
 * for cells that look like numbers but are not written the way toFixed writes them.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type CsvText, parseCsv, parseCsvColumns } from "../src/io/csv.js";
import { CompactColumn } from "../src/io/compact-column.js";
import { cut } from "./helpers/text-pieces.js";

function table(text: CsvText, separator: string): unknown {
  try {
    const t = parseCsv(text, "f.csv", { separator, trimColumnNames: true });
    return { header: t.header, rows: t.rows, lines: t.lineNumbers };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function columns(text: CsvText, separator: string): unknown {
  try {
    const t = parseCsvColumns(text, "f.csv", { separator, trimColumnNames: true });
    const rows = Array.from({ length: t.rowCount }, (_, r) => t.header.map((_, k) => t.cell(r, k)));
    return { header: t.header, rows, lines: Array.from(t.lineNumbers) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}


const csvChar = fc.constantFrom("a", "1", "0", "-", ".", "2.5", "07", "1e3", ",", '"', "\n", "\r\n", " ", "é", "NA");

/** Cells that are numbers, nearly numbers, or text. */
const numberish = fc.oneof(
  fc.double({ noNaN: true }).map(String),
  fc.double({ noNaN: true, min: -1e6, max: 1e6 }).chain((v) => fc.integer({ min: 0, max: 20 }).map((d) => v.toFixed(d))),
  fc.integer().map(String),
  fc.constantFrom("-0", "-0.0", "0.0", "00", "007", "1.", ".5", "+1", "1e5", "1E-5", " 1", "1 ", "-", "", "NA", "1.50", "123456789012345678901234567890", "0.1000000000000000055511151231257827"),
  fc.string({ maxLength: 6 }),
);

describe("CSV stored per column", () => {
  test("random texts in random pieces read back as parseCsv's cells, lines and errors", () => {
    fc.assert(
      fc.property(fc.array(csvChar, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 8 }), (chars, cuts) => {
        const text = chars.join("");
        assert.deepEqual(columns(cut(text, cuts), ","), table(text, ","));
      }),
      { seed: 23, numRuns: 1500 },
    );
  });

  test("every cell reads back exactly, numbers kept as the number Number() reads", () => {
    fc.assert(
      fc.property(fc.array(numberish, { maxLength: 50 }), (cells) => {
        const column = new CompactColumn();
        for (const c of cells) column.push(c);
        assert.equal(column.length, cells.length);
        cells.forEach((c, r) => {
          assert.equal(column.cell(r), c);
          const v = column.number(r);
          if (v !== undefined) assert.ok(Object.is(v, Number(c)), `${JSON.stringify(c)} stored as ${v}`);
        });
      }),
      { seed: 5, numRuns: 500 },
    );
    const column = new CompactColumn();
    for (const c of ["1.50", "-0.0", "007", "3", "-2.25"]) column.push(c);
    assert.deepEqual([0, 1, 2, 3, 4].map((r) => column.number(r)), [1.5, undefined, undefined, 3, -2.25]);
  });

  test("many distinct texts (past the interned ones) and long columns", () => {
    const column = new CompactColumn();
    const cells = Array.from({ length: 30000 }, (_, i) => (i % 3 === 0 ? `id-${i}-é` : i % 3 === 1 ? String(i / 8) : `2024-01-01T00:00:${i % 60}Z`));
    for (const c of cells) column.push(c);
    cells.forEach((c, r) => assert.equal(column.cell(r), c));
  });
});

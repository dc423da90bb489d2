/**
 * CSV read in pieces (a file a chunk at a time, no whole-file string) parses exactly as the whole text:
 * the same records, line numbers and errors, wherever the pieces are cut (inside quotes, between CR and
 * LF, inside the byte-order mark's record).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { type CsvText, detectSeparator, parseCsv } from "../src/io/csv.js";
import { readTextFile, readTextPieces } from "../src/io/text-file.js";
import { cut } from "./helpers/text-pieces.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ncps-csv-pieces-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** parseCsv's table, or its error message. */
function outcome(text: CsvText, separator?: string): unknown {
  try {
    const sep = separator ?? detectSeparator(text);
    return { sep, ...parseCsv(text, "f.csv", { separator: sep, trimColumnNames: true }) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}


const csvChar = fc.constantFrom("a", "1", "2.5", ",", ";", "\t", '"', '""', "\n", "\r", "\r\n", " ", "é", "x y");

describe("CSV in pieces", () => {
  test("random texts cut at random places parse like the whole text (records, lines, errors)", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(csvChar, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 12 }), (bom, chars, cuts) => {
        const text = (bom ? "\ufeff" : "") + chars.join("");
        assert.deepEqual(outcome(cut(text, cuts)), outcome(text));
        assert.deepEqual(outcome(cut(text, cuts), ","), outcome(text, ","));
      }),
      { seed: 11, numRuns: 1500 },
    );
  });

  test("one-character pieces of a quoted, multi-line, CRLF file", () => {
    const text = '\ufefftime;"a ""b""";c\r\n1;"x\r\ny";3\r\n\r\n2;"";4\r';
    const pieces = [...text];
    assert.deepEqual(outcome(pieces), outcome(text));
    const table = parseCsv(pieces, "f.csv", { separator: ";" });
    assert.deepEqual(table.header, ["time", 'a "b"', "c"]);
    assert.deepEqual(table.rows, [["1", "x\r\ny", "3"], ["2", "", "4"]]);
    assert.deepEqual(table.lineNumbers, [2, 5]);
  });

  test("readTextPieces: a 4-byte character across the 4 MiB piece boundary, and .gz, read as readTextFile", () => {
    const PIECE = 4 << 20;
    // header, filler lines, then "𝄞" starting 2 bytes before the boundary
    const lines = ["a"];
    let at = 2;
    while (at + 1024 <= PIECE - 2) {
      lines.push("x".repeat(1023));
      at += 1024;
    }
    lines.push("x".repeat(PIECE - 2 - at - 1));
    const text = lines.join("\n") + "\n" + "𝄞\n" + "é\n".repeat(10);
    assert.equal(Buffer.byteLength(lines.join("\n") + "\n"), PIECE - 2);
    const file = path.join(scratch, "big.csv");
    fs.writeFileSync(file, text);
    const pieces = [...readTextPieces(file, "CSV file")];
    assert.equal(pieces.length, 2);
    assert.equal(pieces.join(""), readTextFile(file, "CSV file"));
    assert.equal(pieces.join(""), text);
    // iterating again reads the file again
    assert.equal([...readTextPieces(file, "CSV file")].join(""), text);
    const gz = path.join(scratch, "big.csv.gz");
    fs.writeFileSync(gz, gzipSync(text));
    assert.equal([...readTextPieces(gz, "CSV file")].join(""), text);
    const table = parseCsv(readTextPieces(file, "CSV file"), file);
    assert.equal(table.rows.length, lines.length + 10);
    assert.deepEqual(table.rows[lines.length - 1], ["𝄞"]);
  });

  test("a missing file is named before anything is read", () => {
    const file = path.join(scratch, "missing.csv");
    assert.throws(() => readTextPieces(file, "CSV file"), new RegExp(`${file.replace(/[.\\/]/g, "\\$&")}: cannot read the CSV file`));
  });
});

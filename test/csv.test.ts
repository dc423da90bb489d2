import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { parseCsv, parseNumberCell, parseTimeCell, writeCsv } from "../src/io/csv.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sharedDir = path.resolve(projectRoot, "../shared");

describe("parseCsv", () => {
  test("plain file with LF and a trailing newline", () => {
    const t = parseCsv("t,x,y\n0,1.5,2\n1,,3\n", "d.csv");
    assert.deepEqual(t.header, ["t", "x", "y"]);
    assert.deepEqual(t.rows, [["0", "1.5", "2"], ["1", "", "3"]]);
    assert.deepEqual(t.lineNumbers, [2, 3]);
  });

  test("CRLF, no trailing newline, BOM stripped", () => {
    const t = parseCsv("\uFEFFa,b\r\n1,2\r\n3,4", "d.csv");
    assert.deepEqual(t.header, ["a", "b"]);
    assert.deepEqual(t.rows, [["1", "2"], ["3", "4"]]);
  });

  test("lone CR line ends (old Mac files)", () => {
    assert.deepEqual(parseCsv("a,b\r1,2\r3,4\r", "d.csv").rows, [["1", "2"], ["3", "4"]]);
  });

  test("quoted fields: commas, doubled quotes, line breaks, empty quoted fields", () => {
    const text = 'name,note,v\n"Smith, J","He said ""hi""",1\n"multi\nline","",2\r\n"a\r\nb",x,3\n';
    const t = parseCsv(text, "q.csv");
    assert.deepEqual(t.rows, [
      ["Smith, J", 'He said "hi"', "1"],
      ["multi\nline", "", "2"],
      ["a\r\nb", "x", "3"],
    ]);
    // Line numbers count the physical lines inside quoted fields.
    assert.deepEqual(t.lineNumbers, [2, 3, 5]);
  });

  test("trailing commas make empty last fields; blank lines are skipped", () => {
    const t = parseCsv("a,b,c\n\n1,2,\n\r\n,,\n\n", "d.csv");
    assert.deepEqual(t.rows, [["1", "2", ""], ["", "", ""]]);
    assert.deepEqual(t.lineNumbers, [3, 5]);
  });

  test("single column with a quoted empty value", () => {
    const t = parseCsv('x\n1\n""\n3\n', "d.csv");
    assert.deepEqual(t.rows, [["1"], [""], ["3"]]);
  });

  test("header only", () => {
    const t = parseCsv("a,b\n", "d.csv");
    assert.deepEqual(t.header, ["a", "b"]);
    assert.deepEqual(t.rows, []);
  });

  test("errors name the file and line", () => {
    const rows = ["a,b,c,d,e"];
    for (let i = 2; i <= 16; i++) rows.push("1,2,3,4,5");
    rows.push("1,2,3,4");
    assert.throws(() => parseCsv(rows.join("\n") + "\n", "data.csv"), { message: "data.csv line 17: expected 5 fields, got 4" });
    assert.throws(() => parseCsv("a,b\n1,2,3\n", "data.csv"), { message: "data.csv line 2: expected 2 fields, got 3" });
    assert.throws(() => parseCsv('a,b\n1,"2\n3,4\n', "data.csv"), { message: /^data\.csv line 2: unterminated quoted field \(field 2/ });
    assert.throws(() => parseCsv('a,b\n"1"x,2\n', "data.csv"), { message: /^data\.csv line 2: unexpected "x" after the closing quote of field 1/ });
    assert.throws(() => parseCsv('a,b\n1,2"3\n', "data.csv"), { message: /^data\.csv line 2: stray quote in unquoted field 2/ });
    assert.throws(() => parseCsv("", "empty.csv"), { message: "empty.csv: empty file, expected a header row" });
    assert.throws(() => parseCsv("\uFEFF\n\r\n", "empty.csv"), { message: /^empty\.csv: empty file/ });
    assert.throws(() => parseCsv("a,b,a\n1,2,3\n", "data.csv"), { message: 'data.csv line 1: duplicate column name "a" (columns 1 and 3)' });
    assert.throws(() => parseCsv("a,,c\n", "data.csv"), { message: "data.csv line 1: column 2 of the header has an empty name" });
    assert.throws(() => parseCsv("a, \n", "data.csv"), /column 2 of the header has an empty name/);
  });

  test("the line of an error after a multi-line quoted field is the physical line", () => {
    assert.throws(() => parseCsv('a,b\n"x\ny",1\n1\n', "m.csv"), { message: "m.csv line 4: expected 2 fields, got 1" });
  });

  test("empty column names can be allowed (pandas index column)", () => {
    const t = parseCsv(",x\n0,1\n", "p.csv", { allowEmptyColumnNames: true });
    assert.deepEqual(t.header, ["", "x"]);
    assert.throws(() => parseCsv(",\n", "p.csv", { allowEmptyColumnNames: true }), /duplicate column name ""/);
  });
});

describe("writeCsv", () => {
  test("quotes only where needed, with LF or CRLF", () => {
    assert.equal(writeCsv(["a", "b"], [["1", "x,y"], ['say "hi"', "line\nbreak"]]), 'a,b\n1,"x,y"\n"say ""hi""","line\nbreak"\n');
    assert.equal(writeCsv(["a"], [[1], [NaN], [""]], { newline: "\r\n" }), 'a\r\n1\r\n""\r\n""\r\n');
    assert.equal(writeCsv(["t", "v"], [[0.1, -2e-7], [1e21, Infinity]]), "t,v\n0.1,-2e-7\n1e+21,Infinity\n");
  });

  test("round trips awkward content through parseCsv", () => {
    const header = ["time", "value, with comma", 'quote"d', "x"];
    const rows = [
      ["0", "1", "", " padded "],
      ["", "", "", ""],
      ["a\r\nb", '"', '""', "\r"],
      ["\n", ",", "ü€", "x"],
    ];
    for (const newline of ["\n", "\r\n"] as const) {
      const back = parseCsv(writeCsv(header, rows, { newline }), "rt.csv");
      assert.deepEqual(back.header, header);
      assert.deepEqual(back.rows, rows);
    }
    const single = parseCsv(writeCsv(["only"], [[""], ["1"], [""]]), "rt.csv");
    assert.deepEqual(single.rows, [[""], ["1"], [""]]);
  });

  test("rejects rows of the wrong length", () => {
    assert.throws(() => writeCsv(["a", "b"], [["1", "2"], ["3"]]), { message: "writeCsv: row 2 has 1 fields, the header has 2" });
  });
});

describe("parseNumberCell", () => {
  test("numbers, missing values and the numpy spellings of NaN and infinity", () => {
    const p = (v: string): number => parseNumberCell(v, "d.csv", 3, "temp");
    assert.equal(p("1.5"), 1.5);
    assert.equal(p("-2"), -2);
    assert.equal(p("+.5e-3"), 0.0005);
    assert.equal(p("7."), 7);
    assert.equal(p(" 12 "), 12);
    assert.equal(p("1E3"), 1000);
    assert.ok(Number.isNaN(p("")));
    assert.ok(Number.isNaN(p("   ")));
    assert.ok(Number.isNaN(p("nan")));
    assert.ok(Number.isNaN(p("NaN")));
    assert.equal(p("inf"), Infinity);
    assert.equal(p("-Infinity"), -Infinity);
  });

  test("garbage is an error naming file, line, column and text", () => {
    for (const bad of ["abc", "0x10", "1_000", "1,5", "1.2.3", "e5", "--1", "Infinityx"]) {
      assert.throws(() => parseNumberCell(bad, "d.csv", 17, "temp"), { message: `d.csv line 17, column "temp": expected a number, got ${JSON.stringify(bad)}` });
    }
  });
});

describe("parseTimeCell", () => {
  const p = (v: string): number => parseTimeCell(v, "d.csv", 5, "date_time");

  test("plain numbers pass through unchanged", () => {
    assert.equal(p("0"), 0);
    assert.equal(p("12.25"), 12.25);
    assert.equal(p("-3"), -3);
    assert.equal(p("1.7e9"), 1.7e9);
  });

  test("ISO 8601 dates and date-times become seconds since the epoch (UTC when no zone)", () => {
    assert.equal(p("1970-01-01"), 0);
    assert.equal(p("1970-01-02"), 86400);
    // 2012-10-02 09:00:00 UTC: 15615 days after the epoch (computed by hand: 42 years incl. 10 leap days
    // = 15340 days to 2012-01-01, plus 275 days to Oct 2 in a leap year), plus 9 h.
    assert.equal(p("2012-10-02 09:00:00"), 15615 * 86400 + 9 * 3600);
    assert.equal(p("2012-10-02T09:00:00Z"), 15615 * 86400 + 9 * 3600);
    assert.equal(p("2012-10-02T09:00"), 15615 * 86400 + 9 * 3600);
    assert.equal(p("2012-10-02T11:00:00+02:00"), 15615 * 86400 + 9 * 3600);
    assert.equal(p("2012-10-02T04:30:00-0430"), 15615 * 86400 + 9 * 3600);
    assert.equal(p("2012-10-02t09:00:00.250z"), 15615 * 86400 + 9 * 3600 + 0.25);
    assert.equal(p("2000-02-29T00:00:00Z"), 951782400);
    assert.equal(p("1969-12-31T23:59:59Z"), -1);
    assert.equal(p("1600-03-01"), -11670912000);
  });

  test("agrees with Date.UTC over many dates", () => {
    for (let year = 1900; year <= 2100; year += 7) {
      for (const [month, day] of [[1, 1], [2, 28], [3, 1], [7, 15], [12, 31]] as const) {
        const text = `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}T13:45:30Z`;
        assert.equal(p(text), Date.UTC(year, month - 1, day, 13, 45, 30) / 1000, text);
      }
    }
  });

  test("rejects garbage, impossible dates and non-finite or missing values", () => {
    const expectError = (v: string, pattern: RegExp): void => {
      assert.throws(() => p(v), (e: Error) => {
        assert.ok(e.message.startsWith('d.csv line 5, column "date_time": '), e.message);
        assert.match(e.message, pattern);
        return true;
      });
    };
    for (const bad of ["yesterday", "March 7", "2012/10/02", "2012-10-2", "02-10-2012", "2012-10-02 9:00", "2012-10-02Z", "12:00"]) {
      expectError(bad, /expected a number or an ISO 8601 date\/time/);
    }
    expectError("2013-02-29", /invalid day/);
    expectError("2012-13-01", /invalid month/);
    expectError("2012-10-02T24:00:00", /invalid hour/);
    expectError("2012-10-02T10:60:00", /invalid minute/);
    expectError("2012-10-02T10:00:60", /invalid second/);
    expectError("2012-10-02T10:00:00+25:00", /invalid time zone offset/);
    expectError("", /missing time value/);
    expectError("inf", /time must be finite/);
    expectError("nan", /time must be finite/);
  });
});

describe("the traffic CSV in ../shared", () => {
  const file = path.join(sharedDir, "data/traffic/Metro_Interstate_Traffic_Volume.csv.gz");
  const skip = fs.existsSync(file) ? false : `${file} not found (shared reference data absent)`;

  test("parses with the documented header, 48,204 rows, and numeric/time cells", { skip }, () => {
    const text = gunzipSync(fs.readFileSync(file)).toString("utf8");
    const t = parseCsv(text, "Metro_Interstate_Traffic_Volume.csv");
    assert.deepEqual(t.header, ["holiday", "temp", "rain_1h", "snow_1h", "clouds_all", "weather_main", "weather_description", "date_time", "traffic_volume"]);
    assert.equal(t.rows.length, 48204);
    // First data row, as printed in the file.
    assert.deepEqual(t.rows[0], ["None", "288.28", "0.0", "0.0", "40", "Clouds", "scattered clouds", "2012-10-02 09:00:00", "5545"]);
    const time = t.header.indexOf("date_time");
    const temp = t.header.indexOf("temp");
    const volume = t.header.indexOf("traffic_volume");
    let previous = -Infinity;
    t.rows.forEach((row, r) => {
      const line = t.lineNumbers[r]!;
      const seconds = parseTimeCell(row[time]!, "traffic.csv", line, "date_time");
      assert.ok(seconds >= previous, `time goes back at line ${line}`);
      previous = seconds;
      assert.ok(Number.isFinite(parseNumberCell(row[temp]!, "traffic.csv", line, "temp")));
      assert.ok(Number.isInteger(parseNumberCell(row[volume]!, "traffic.csv", line, "traffic_volume")));
    });
    // Last row is 2018-09-30 23:00 (SOURCE.md).
    assert.equal(parseTimeCell(t.rows[t.rows.length - 1]![time]!, "traffic.csv", 0, "date_time"), Date.UTC(2018, 8, 30, 23) / 1000);
  });
});

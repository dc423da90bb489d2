// The terminal reporter of `npm test`: a dot per passing test, then each failure in full, the skipped
// tests with their reasons, and the runner's summary (tests, pass, fail, ...). scripts/test.mjs picks it.
import path from "node:path";
import { inspect } from "node:util";

const where = (data) => (data.file ? `${path.relative(process.cwd(), data.file)}${data.line ? `:${data.line}` : ""}` : "");

export default async function* compactReporter(source) {
  const failures = [];
  const skipped = [];
  const summary = [];
  for await (const { type, data } of source) {
    if (type === "test:pass") {
      if (data.skip !== undefined || data.todo !== undefined) {
        const reason = data.skip ?? data.todo;
        skipped.push(`﹣ ${data.name} (${where(data)})${typeof reason === "string" && reason ? ` # ${reason}` : ""}`);
        yield "s";
      } else if (data.details?.type !== "suite") yield ".";
    } else if (type === "test:fail") {
      const error = data.details?.error;
      // A suite fails when a test inside it does; that test is reported already.
      if (data.details?.type === "suite" && error?.failureType === "subtestsFailed") continue;
      failures.push(`✖ ${data.name} (${where(data)})\n${indent(inspect(error?.cause ?? error, { colors: process.stdout.hasColors?.() ?? false }))}`);
      yield "X";
    } else if (type === "test:diagnostic" && data.nesting === 0) {
      summary.push(`ℹ ${data.message}`);
    } else if (type === "test:stderr" || type === "test:stdout") {
      // Output of the test files themselves (warnings, a test's own log): kept, on a line of its own.
      yield `\n${data.message.replace(/\n?$/, "\n")}`;
    }
  }
  yield "\n";
  if (failures.length > 0) yield `\nFailed tests:\n\n${failures.join("\n\n")}\n`;
  if (skipped.length > 0) yield `\nSkipped:\n${skipped.join("\n")}\n`;
  yield `\n${summary.join("\n")}\n`;
}

const indent = (text) => text.replace(/^/gm, "  ");

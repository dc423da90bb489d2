/** `ncps bench`, run in-process through the CLI dispatcher: the report's shape, never its timings. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { main } from "../src/cli/main.js";

async function runBench(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const small = ["--batch", "6", "--seq-len", "3", "--input-size", "2", "--units", "4", "--backbone-units", "4", "--repeats", "2", "--warmup", "1", "--backend", "reference"];
  const code = await main(["bench", ...small, ...args], { out: (s) => (out += s), err: (s) => (err += s), isTTY: false });
  return { code, out, err };
}

function checkTimes(r: Record<string, unknown>): void {
  assert.equal(r.repeats, 2);
  for (const k of ["median_ms", "min_ms", "max_ms"]) assert.ok(Number.isFinite(r[k]) && (r[k] as number) >= 0, `${k}: ${r[k]}`);
  assert.ok((r.min_ms as number) <= (r.median_ms as number) && (r.median_ms as number) <= (r.max_ms as number));
}

describe("ncps bench --json", () => {
  for (const threads of ["1", "2"]) {
    test(`train step, ${threads} thread(s)`, async () => {
      const { code, out, err } = await runBench(["--what", "train", "--threads", threads, "--json"]);
      assert.equal(code, 0, err);
      const r = JSON.parse(out);
      checkTimes(r);
      assert.deepEqual([r.config.what, r.config.threads, r.config.batch], ["train", Number(threads), 6]);
    });

    test(`batched inference, ${threads} thread(s), reports sequences per second`, async () => {
      const { code, out, err } = await runBench(["--what", "infer", "--threads", threads, "--json"]);
      assert.equal(code, 0, err);
      const r = JSON.parse(out);
      checkTimes(r);
      assert.ok(r.seq_per_s > 0);
    });
  }

  test("streaming reports microseconds per step", async () => {
    const { code, out, err } = await runBench(["--what", "stream", "--json"]);
    assert.equal(code, 0, err);
    const r = JSON.parse(out);
    checkTimes(r);
    assert.ok(r.median_us_per_step >= 0);
  });

  test("text report and usage errors", async () => {
    const text = await runBench(["--what", "train"]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^cfc train \(.*\)\n {2}median [\d.]+ ms {2}min [\d.]+ {2}max [\d.]+ {2}\(2 runs\)\n$/);
    const stream = await runBench(["--what", "stream", "--threads", "2"]);
    assert.equal(stream.code, 2);
    assert.match(stream.err, /--threads applies to --what train and infer/);
    const what = await runBench(["--what", "fly"]);
    assert.equal(what.code, 2);
    assert.match(what.err, /--what must be train, infer or stream/);
  });
});

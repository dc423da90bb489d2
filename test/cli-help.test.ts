/** `ncps --version` and `ncps help COMMAND`, in-process and through both launchers. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { COMMAND_NAMES, main } from "../src/cli/main.js";
import { projectRoot } from "./helpers/goldens.js";

const VERSION = (JSON.parse(readFileSync(path.join(projectRoot, "package.json"), "utf8")) as { version: string }).version;

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s), isTTY: false });
  return { code, out, err };
}

describe("ncps --version", () => {
  test("--version and -V print the version of package.json", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await cli(flag);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, `${VERSION}\n`);
      assert.equal(r.err, "");
    }
  });

  test("the source launcher (scripts/dev-cli.ts) prints it", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(projectRoot, "scripts/dev-cli.ts"), "--version"], { cwd: projectRoot, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
  });

  test("the built launcher (bin/ncps.js) prints it", { skip: existsSync(path.join(projectRoot, "dist/cli/version.js")) ? false : "dist/ is not built (npm run build): skipping the launcher test" }, () => {
    const r = spawnSync(process.execPath, [path.join(projectRoot, "bin/ncps.js"), "--version"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
  });
});

describe("ncps help", () => {
  test("every command is listed", () => {
    assert.deepEqual([...COMMAND_NAMES].sort(), ["bench", "demo", "eval", "export", "plot", "predict", "replay", "reproduce", "serve", "train", "verify", "wiring"]);
  });

  for (const name of COMMAND_NAMES) {
    test(`help ${name} prints what ${name} --help prints, on stdout`, async () => {
      const help = await cli("help", name);
      assert.equal(help.code, 0, help.err);
      assert.equal(help.err, "");
      assert.match(help.out, new RegExp(`^usage: ncps ${name}\\b`));
      const flag = await cli(name, "--help");
      assert.equal(flag.code, 0, flag.err);
      assert.equal(flag.err, "");
      assert.equal(help.out, flag.out);
    });
  }

  test("help train lists train's options", async () => {
    const r = await cli("help", "train");
    for (const option of ["--target", "--out", "--epochs", "--model"]) assert.ok(r.out.includes(option), `the usage mentions ${option}`);
  });

  test("help alone (or with --help) prints the command list, which names help and --version", async () => {
    for (const args of [["help"], ["help", "--help"], ["--help"]]) {
      const r = await cli(...args);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^usage: ncps <command>/);
      assert.match(r.out, /ncps help <command>/);
      assert.match(r.out, /ncps --version/);
      for (const name of COMMAND_NAMES) assert.match(r.out, new RegExp(`^  ${name} `, "m"));
    }
  });

  test("an unknown command is a usage error (exit 2) naming it", async () => {
    const r = await cli("help", "trian");
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.match(r.err, /^ncps help: unknown command 'trian'/);
    assert.match(r.err, /usage: ncps <command>/);
  });

  test("more than one command is a usage error (exit 2)", async () => {
    const r = await cli("help", "train", "eval");
    assert.equal(r.code, 2);
    assert.match(r.err, /^ncps help: expected one command, got 2: train eval/);
  });
});

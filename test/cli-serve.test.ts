/**
 * `ncps serve`: the workbench's files by name on 127.0.0.1, nothing else (no path reaches outside
 * dist/web, however it is written), GET and HEAD only. Runs the built CLI; skips when dist/ is not built.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { projectRoot } from "./helpers/goldens.js";

const CLI = path.join(projectRoot, "bin/ncps.js");
const built = existsSync(path.join(projectRoot, "dist/web/index.html")) && existsSync(path.join(projectRoot, "dist/cli/serve.js"));

/** One raw request: the path goes out exactly as written (fetch would normalise the dots away). */
function get(port: number, rawPath: string, method = "GET"): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: rawPath, method }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"] ?? ""), body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("ncps serve", { skip: built ? false : "dist/ is not built (npm run build): skipping ncps serve" }, () => {
  let server: ChildProcess;
  let port = 0;
  let url = "";

  before(async () => {
    server = spawn(process.execPath, [CLI, "serve", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      server.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const m = /http:\/\/[^ ]+\//.exec(out);
        if (m) resolve(m[0]);
      });
      server.once("exit", (code) => reject(new Error(`ncps serve exited with ${code}`)));
    });
    port = Number(new URL(url).port);
  });

  after(() => server?.kill("SIGTERM"));

  test("listens on 127.0.0.1 by default and serves the page and its scripts", async () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(port, "/");
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /ncps-ts workbench/);
    for (const file of ["/index.html", "/app.js", "/worker.js", "/style.css"]) assert.equal((await get(port, file)).status, 200, file);
    assert.match((await get(port, "/worker.js")).type, /^text\/javascript/);
  });

  test("no path leaves the page's files", async () => {
    for (const p of ["/../package.json", "/%2e%2e/package.json", "/..%2fpackage.json", "/..%5cpackage.json", "//etc/passwd", "/%2fetc%2fpasswd", "/dist/web/index.html", "/index.html%00", "/%zz", "/README.md"]) {
      const r = await get(port, p);
      assert.equal(r.status, 404, `${p} is not served`);
      assert.doesNotMatch(r.body, /"name": "ncps-ts"|root:/);
    }
  });

  test("only GET and HEAD", async () => {
    assert.equal((await get(port, "/", "POST")).status, 405);
    const head = await get(port, "/", "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
  });

  test("a bad port is a usage error", () => {
    const r = spawnSync(process.execPath, [CLI, "serve", "--port", "70000"], { encoding: "utf8" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--port must be at most 65535, got 70000/);
  });
});

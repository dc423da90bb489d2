/**
 * `ncps serve [--port N] [--host H]`: serves the workbench page (dist/web, built by `npm run build`) on
 * 127.0.0.1 by default. Only the page's own files are served, by name: nothing else on the disk can be
 * reached, whatever the path asks for.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError, type CliIO, intFlag, parseArgs } from "./util.js";

const USAGE = `usage: ncps serve [--port N] [--host H]

Serves the workbench, a page that trains and inspects models in the browser, at http://H:N/
(default 127.0.0.1:8080; --port 0 picks a free port). Ctrl-C stops it.`;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** dist/web beside dist/cli (the built CLI), or from src/cli (run from source) the built one. */
export function workbenchDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, "../web"), resolve(here, "../../dist/web")];
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")));
  if (!found) throw new CliError(`the workbench is not built (no index.html in ${candidates.join(" or ")}): run npm run build`, 1);
  return found;
}

/** The page's files, read once: name -> bytes. */
function readPage(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isFile() && CONTENT_TYPES[extname(name)]) files.set(name, readFileSync(path));
  }
  return files;
}

function respond(files: Map<string, Buffer>, req: IncomingMessage, res: ServerResponse): void {
  const headers = { "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache" };
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { ...headers, Allow: "GET, HEAD", "Content-Type": "text/plain" }).end("method not allowed\n");
    return;
  }
  let name: string;
  try {
    name = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname).replace(/^\/+/, "");
  } catch {
    name = "\0";
  }
  const file = files.get(name === "" ? "index.html" : name);
  if (!file) {
    res.writeHead(404, { ...headers, "Content-Type": "text/plain" }).end("not found\n");
    return;
  }
  res.writeHead(200, { ...headers, "Content-Type": CONTENT_TYPES[extname(name === "" ? "index.html" : name)], "Content-Length": file.length });
  res.end(req.method === "HEAD" ? undefined : file);
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { port: { type: "string", default: "8080" }, host: { type: "string", default: "127.0.0.1" } }, USAGE);
  if (positionals.length > 0) throw new CliError(`unexpected argument(s): ${positionals.join(" ")}`, 2, USAGE);
  const port = intFlag(flags, "port", USAGE, 0)!;
  if (port > 65535) throw new CliError(`--port must be at most 65535, got ${port}`, 2, USAGE);
  const host = flags.host as string;
  const files = readPage(workbenchDirectory());
  const server = createServer((req, res) => respond(files, req, res));
  await new Promise<void>((done, fail) => {
    server.once("error", (e: NodeJS.ErrnoException) => fail(new CliError(`cannot listen on ${host}:${port}: ${e.code === "EADDRINUSE" ? "the port is in use (choose another with --port)" : e.message}`, 1)));
    server.listen(port, host, () => done());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const shown = host.includes(":") ? `[${host}]` : host;
  io.out(`ncps serve: the workbench is at http://${shown}:${bound}/ (Ctrl-C stops)\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      server.close(() => done());
      server.closeAllConnections();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}

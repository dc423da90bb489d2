#!/usr/bin/env node
// Thin launcher: the CLI lives in src/cli (compiled to dist/cli by `npm run build`).
import { endQuietlyOnClosedPipe, main } from "../dist/cli/main.js";

endQuietlyOnClosedPipe();

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

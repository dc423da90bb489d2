// Runs the CLI from TypeScript sources (no build needed): `npx tsx scripts/dev-cli.ts <command> ...`
import { endQuietlyOnClosedPipe, main } from "../src/cli/main.js";

endQuietlyOnClosedPipe();

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

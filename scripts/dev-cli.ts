// Runs the CLI from TypeScript sources (no build needed): `npx tsx scripts/dev-cli.ts <command> ...`
import { main } from "../src/cli/main.js";

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});

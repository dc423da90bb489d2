// One contestant in its own process (run.mjs forks one per library/backend/model), so no library's
// global state, JIT warm-up or memory touches another's. It answers run.mjs's commands over IPC:
//   {cmd: "turn", budgetSeconds} -> trains one epoch, or less if the budget runs out first
//   {cmd: "finish"}              -> test errors of the trained model, then exits
import { meanSquaredError } from "./task.mjs";

const spec = JSON.parse(process.argv[2]);
const sizes = JSON.parse(process.argv[3]);
const adapters = { "ncps-ts": "./adapters/ncps.mjs", tfjs: "./adapters/tfjs.mjs", "brain.js": "./adapters/brain.mjs" };

const send = (message) => new Promise((resolve) => process.send(message, resolve));

async function main() {
  const { create } = await import(adapters[spec.library]);
  const contestant = await create(spec, sizes);
  process.on("message", async (message) => {
    try {
      if (message.cmd === "turn") {
        await send({ kind: "turn", ...(await contestant.trainTurn(message.budgetSeconds)) });
      } else if (message.cmd === "finish") {
        await contestant.close();
        const started = performance.now();
        const testMse = meanSquaredError(contestant.predict("test"), contestant.splits.test);
        const sparseTestMse = meanSquaredError(contestant.predict("sparse"), contestant.splits.sparse);
        await send({ kind: "result", testMse, sparseTestMse, evalSeconds: (performance.now() - started) / 1000 });
        process.exit(0);
      }
    } catch (e) {
      await send({ kind: "error", message: e.stack ?? String(e) });
      process.exit(1);
    }
  });
  await send({ kind: "ready", describe: contestant.describe });
}

main().catch(async (e) => {
  await send({ kind: "error", message: e.stack ?? String(e) });
  process.exit(1);
});

/** `ncps eval MODEL.safetensors DATA.csv`: the task's loss and metrics of a trained model on new data. */
import { loadCheckpoint } from "../train/checkpoint.js";
import { evaluate } from "../train/evaluate.js";
import { COLUMN_FLAGS, columnOverrides, readDataForModel } from "./data-args.js";
import { CliError, type CliIO, parseArgs } from "./util.js";

const USAGE = `usage: ncps eval MODEL.safetensors DATA.csv|X.npy [--y Y.npy] [--time-file T.npy] [--json] [--backend wasm|reference]
       [--target COLS --features COLS --time COL --sequence COL --task regress|classify]   (checkpoints not written by ncps train)

Prepares DATA the way the model's training data was prepared (columns, windows, normalisation and
classes are stored in the checkpoint) and prints the loss and the task's metrics.`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { json: { type: "boolean" }, y: { type: "string" }, "time-file": { type: "string" }, backend: { type: "string", default: "wasm" }, ...COLUMN_FLAGS }, USAGE);
  if (positionals.length !== 2) throw new CliError(`expected MODEL.safetensors and a data file, got ${positionals.length} arguments`, 2, USAGE);
  const backend = flags.backend as string;
  if (backend !== "wasm" && backend !== "reference") throw new CliError(`--backend must be wasm or reference, got '${backend}'`, 2, USAGE);
  const [modelFile, dataFile] = positionals;
  const { model, extras } = loadCheckpoint(modelFile, { backend });
  const data = readDataForModel(dataFile, extras, modelFile, false, { yFile: flags.y as string | undefined, timeFile: flags["time-file"] as string | undefined, ...columnOverrides(flags, USAGE), onWarning: (m) => io.err(`warning: ${m}\n`) });
  const ds = data.train;
  const r = evaluate(model, ds);
  const out = { file: dataFile, sequences: ds.size, loss: r.loss, metrics: r.metrics };
  if (flags.json) io.out(JSON.stringify(out) + "\n");
  else {
    io.out(`${dataFile}: ${ds.size} sequences\n  loss ${r.loss.toFixed(6)}\n`);
    for (const [k, v] of Object.entries(r.metrics)) io.out(`  ${k} ${v.toFixed(6)}\n`);
  }
  return 0;
}

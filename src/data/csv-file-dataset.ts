/** CSV files on disk to datasets (Node): the reading rules are csv-dataset.ts, which runs anywhere on text. */
import { readTextPieces } from "../io/text-file.js";
import { type CsvDatasetOptions, type DataInput, type PreparedCsv, checkOptions, prepareData } from "./csv-dataset.js";
import { readLongSources } from "./long-format-files.js";

/**
 * {@link csvToDataset} on a file, with an optional separate validation file and outcomes file. In long
 * format the file may be a directory of record files.
 */
export function csvFileToDataset(file: string, options: Omit<CsvDatasetOptions, "outcomes"> & { readonly validFile?: string; readonly outcomesFile?: string }): PreparedCsv {
  const { validFile, outcomesFile, ...rest } = options;
  checkOptions({ ...rest, ...(outcomesFile !== undefined ? { outcomes: { text: "", fileName: outcomesFile } } : {}) });
  const valid = validFile === undefined ? rest.valid : { text: readTextPieces(validFile, "validation CSV file"), fileName: validFile };
  const outcomes = outcomesFile === undefined ? undefined : { text: readTextPieces(outcomesFile, "outcomes file"), fileName: outcomesFile };
  const input: DataInput = rest.long ? { sources: readLongSources(file), fileName: file } : { text: readTextPieces(file, "CSV file"), fileName: file };
  return prepareData(input, { ...rest, ...(valid ? { valid } : {}), ...(outcomes ? { outcomes } : {}) });
}

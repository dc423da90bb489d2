/** File formats: atomic writes, safetensors, NumPy .npy and CSV (model checkpoints are in train/checkpoint.ts). */
export { writeFileAtomic, writeFileAtomicAsync, tempPathFor } from "./atomic.js";
export {
  encodeSafetensors,
  decodeSafetensors,
  checkTensorShapes,
  toFloatTensor,
  float16Bits,
  float16FromBits,
  bfloat16Bits,
  bfloat16FromBits,
  SAFETENSORS_DTYPES,
} from "./safetensors.js";
export { saveSafetensors, loadSafetensors } from "./safetensors-file.js";
export type {
  SafetensorsDType,
  SafetensorsData,
  SafetensorsTensor,
  SafetensorsInput,
  NamedSafetensorsInput,
  SafetensorsInputs,
  DecodedSafetensors,
  ExpectedTensor,
} from "./safetensors.js";
export { decodeNpy, loadNpy, encodeNpy, saveNpy } from "./npy.js";
export type { NpyArray, NpyData, NpyDType } from "./npy.js";
export { parseCsv, writeCsv, parseNumberCell, parseTimeCell } from "./csv.js";
export type { CsvTable, CsvCell, CsvText, ParseCsvOptions } from "./csv.js";

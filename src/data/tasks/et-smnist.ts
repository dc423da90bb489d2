/**
 * Event-based sequential MNIST (ET-sMNIST; Lechner & Hasani 2020, the CfC paper's Table 4 in Nature
 * MI): each 28 x 28 image, flattened to 784 pixels and binarised with pixel > 128, becomes the list of
 * changes of the binary value (the first pixel always one), each with the number of pixels since the
 * previous change, at most 256 events; elapsed counts are divided by 256 for training. Reproduces the
 * authors' cached test mask (../shared/data/et-smnist-reference). Portable: takes the IDX bytes.
 */
import { emptyEvents, type EventArrays } from "./events.js";

export const ETSMNIST_PAD = 256;
export const ETSMNIST_THRESHOLD = 128;

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

export interface IdxImages {
  readonly count: number;
  readonly pixels: number;
  readonly data: Uint8Array;
}

/** An IDX image file (magic 2051, count, rows, cols, then count*rows*cols bytes). */
export function parseIdxImages(bytes: Uint8Array, fileName: string): IdxImages {
  if (bytes.length < 16 || u32(bytes, 0) !== 2051) throw new Error(`${fileName}: not an IDX image file (expected magic 2051 in the first 4 bytes)`);
  const count = u32(bytes, 4);
  const pixels = u32(bytes, 8) * u32(bytes, 12);
  const need = 16 + count * pixels;
  if (bytes.length < need) throw new Error(`${fileName}: truncated IDX image file: ${count} images of ${pixels} pixels need ${need} bytes, got ${bytes.length}`);
  return { count, pixels, data: bytes.subarray(16, need) };
}

/** An IDX label file (magic 2049, count, then count bytes). */
export function parseIdxLabels(bytes: Uint8Array, fileName: string): Uint8Array {
  if (bytes.length < 8 || u32(bytes, 0) !== 2049) throw new Error(`${fileName}: not an IDX label file (expected magic 2049 in the first 4 bytes)`);
  const count = u32(bytes, 4);
  if (bytes.length < 8 + count) throw new Error(`${fileName}: truncated IDX label file: ${count} labels need ${8 + count} bytes, got ${bytes.length}`);
  return bytes.subarray(8, 8 + count);
}

/** The event encoding of the first `limit` images (all by default). */
export function encodeImages(images: IdxImages, labels: Uint8Array, limit?: number, pad = ETSMNIST_PAD): EventArrays {
  if (labels.length !== images.count) throw new Error(`ET-sMNIST: ${images.count} images but ${labels.length} labels`);
  const n = limit === undefined ? images.count : Math.min(limit, images.count);
  const out = emptyEvents(n, pad);
  for (let i = 0; i < n; i++) {
    const img = images.data.subarray(i * images.pixels, (i + 1) * images.pixels);
    const row = i * pad;
    let last = -1;
    let written = 0;
    let elapsed = 0;
    for (let p = 0; p < img.length; p++) {
      elapsed += 1;
      const bit = img[p] > ETSMNIST_THRESHOLD ? 1 : 0;
      if (bit !== last) {
        out.events[row + written] = bit;
        out.elapsed[row + written] = elapsed;
        out.mask[row + written] = 1;
        written += 1;
        if (written >= pad) break;
        elapsed = 0;
      }
      last = bit;
    }
    out.labels[i] = labels[i];
  }
  return out;
}

/**
 * Bit-stream XOR, event-based (Lechner & Hasani 2020; the CfC paper's Table 4): the label is the
 * parity of a random bit string of 2..pad-1 bits, and the model sees only the changes of the bit,
 * each with the number of raw steps since the previous change. Generated exactly as the paper's
 * cached files were (../shared/data/xor-bitstream-reference/SOURCE.md): one numpy RandomState per
 * split (train seed 1234984, 100,000 samples; test seed 48736, 10,000), samples drawn one after
 * another from that stream. Portable: no files.
 */
import { RandomState } from "../../wirings/mt19937.js";
import { emptyEvents, type EventArrays } from "./events.js";

export const XOR_PAD = 32;
export const XOR_SPLITS = {
  train: { seed: 1234984, samples: 100_000 },
  test: { seed: 48736, samples: 10_000 },
} as const;

/** `samples` event-encoded bit strings from RandomState(seed); elapsed counts are raw (divide by pad to train). */
export function generateXor(samples: number, seed: number, pad = XOR_PAD): EventArrays {
  const rng = new RandomState(seed);
  const out = emptyEvents(samples, pad);
  for (let i = 0; i < samples; i++) {
    const row = i * pad;
    const length = 2 + rng.boundedInclusive(pad - 3); // randint(2, pad)
    let parity = 0;
    let last = -1;
    let written = 0;
    let elapsed = 0;
    let bit = 0;
    for (let s = 0; s < length; s++) {
      elapsed += 1;
      bit = rng.boundedInclusive(1); // randint(0, 2)
      parity += bit;
      if (bit !== last) {
        out.events[row + written] = bit;
        out.elapsed[row + written] = elapsed;
        out.mask[row + written] = 1;
        written += 1;
        elapsed = 0;
        if (written >= pad - 1) break;
      }
      last = bit;
    }
    // the trailing run of repeated bits ends in one more event, which does not advance the write index
    if (elapsed > 0) {
      out.events[row + written] = bit;
      out.elapsed[row + written] = elapsed;
      out.mask[row + written] = 1;
    }
    out.labels[i] = parity % 2;
  }
  return out;
}

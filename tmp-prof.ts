import { CTRNN } from "./src/models/ct-rnn.js";
import { TestRng } from "./test/helpers/gradcheck.js";
const rng = new TestRng(1);
const B = 64, L = 32, I = 8, H = 64;
const toF32 = (t: any) => ({ shape: t.shape, data: Float32Array.from(t.data) });
const xf = toF32(rng.tensor([B, L, I])), tf = toF32(rng.tensor([B, L], 0.2, 2));
const w = toF32(rng.tensor([B, L, H]));
const m = new CTRNN(I, H, { solver: process.argv[2] as any });
for (let k = 0; k < 5; k++) { m.forward(xf, { timespans: tf }); m.backward(w); }
const t0 = performance.now();
for (let k = 0; k < 30; k++) { m.forward(xf, { timespans: tf }); m.backward(w); }
console.log(process.argv[2], "ms per train step", (performance.now() - t0) / 30);

// Train a CfC on irregularly sampled data with the library API, then stream it one reading at a time.
// Run: npx tsx examples/quickstart.ts
import { CfC, evaluate, leakyMemoryTask } from "../src/index.js";
import { fit } from "../src/node.js";

const train = leakyMemoryTask({ sequences: 512, steps: 32, seed: 1 });
const test = leakyMemoryTask({ sequences: 128, steps: 32, seed: 2 });

// ncps: CfC(1, 32, proj_size=1, backbone_units=64)
const model = new CfC(1, 32, { projSize: 1, backboneUnits: 64, seed: 1 });
await fit(model, train, {
  epochs: 5,
  batchSize: 32,
  lr: 0.01,
  callbacks: { onEpochEnd: (e) => console.log(`epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}`) },
});
console.log("test", evaluate(model, test).metrics);

// Streaming inference: one sample, one step per call, the elapsed time given with each reading.
const stream = model.stream();
for (const [reading, elapsed] of [[1.5, 0.2], [0, 0.7], [0, 1.9], [-1, 0.1]]) {
  const y = stream.step([reading], elapsed);
  console.log(`reading ${reading} after ${elapsed}s -> memory estimate ${y[0].toFixed(3)}`);
}

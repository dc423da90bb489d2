// A hand-written training loop: explicit forward, loss gradient, backward and optimizer step, as in
// PyTorch. Per-sample elapsed times (batch, steps) are honoured for every batch size.
// Run: npx tsx examples/custom-loop.ts
import { AutoNCP, CfC, Adam, clipGradNorm, mseLoss } from "../src/index.js";

const B = 8, L = 20, I = 3;
const wiring = new AutoNCP(16, 2, { seed: 7 }); // ncps: AutoNCP(16, 2)
const model = new CfC(I, wiring, { mode: "no_gate", seed: 1 });
console.log(`wired CfC: ${model.parameterCount()} parameters, ${wiring.synapseCount} synapses`);

const x = { shape: [B, L, I], data: Float32Array.from({ length: B * L * I }, (_, i) => Math.sin(i * 0.37)) };
const timespans = { shape: [B, L], data: Float32Array.from({ length: B * L }, (_, i) => 0.1 + (i % 5) * 0.3) };
const target = Float32Array.from({ length: B * L * 2 }, (_, i) => Math.cos(i * 0.1));
const opt = new Adam({ lr: 0.01 });
for (let step = 0; step < 50; step++) {
  model.zeroGrad();
  const { output } = model.forward(x, { timespans, training: true });
  const { loss, grad } = mseLoss(output.data, target, B * L, 2);
  model.backward({ shape: output.shape, data: grad });
  clipGradNorm(model.parameters(), 1.0);
  opt.step(model.parameters());
  if (step % 10 === 0) console.log(`step ${step}: loss ${loss.toFixed(4)}`);
}
// Every step's full state, neuron by neuron (inter | command | motor), e.g. to plot neuron responses:
const { states } = model.forward(x, { timespans, returnStates: true, grad: false });
console.log(`state traces: ${states!.shape.join(" x ")}`);

#!/usr/bin/python3
"""Same-machine PyTorch baseline for `ncps bench`.

The ncps package cannot be installed here (no PyPI), so this script implements the same models in
PyTorch from the equations of ncps 1.0.1 (see ../shared/reference/ncps-and-paper.md sections 3-5):
CfC default mode (lecun_tanh backbone, tanh heads, sigmoid time gate) and LTC with the fused
semi-implicit solver (6 unfolds, softplus constraints, affine mappings), each driven by a Python time
loop as ncps does. It times the same three things as `ncps bench`: a training step (zero_grad, forward
over the sequence, MSE on every step's output, backward through time, Adam), batched inference and a
streaming step of one sample. Medians over repeats after warm-up; prints JSON.

Usage: /usr/bin/python3 bench/pytorch_baseline.py (Debian: apt-get install python3-torch) [--threads 1] [--repeats 20] [--models cfc,ltc]
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn


class LeCunTanh(nn.Module):
    def forward(self, x):
        return 1.7159 * torch.tanh(0.666 * x)


class CfCCellTorch(nn.Module):
    def __init__(self, input_size, hidden, backbone_units=128):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(input_size + hidden, backbone_units), LeCunTanh())
        self.ff1 = nn.Linear(backbone_units, hidden)
        self.ff2 = nn.Linear(backbone_units, hidden)
        self.time_a = nn.Linear(backbone_units, hidden)
        self.time_b = nn.Linear(backbone_units, hidden)

    def forward(self, x, h, ts):
        z = self.backbone(torch.cat([x, h], 1))
        ff1 = torch.tanh(self.ff1(z))
        ff2 = torch.tanh(self.ff2(z))
        gate = torch.sigmoid(self.time_a(z) * ts + self.time_b(z))
        return ff1 * (1.0 - gate) + gate * ff2


class LTCCellTorch(nn.Module):
    def __init__(self, input_size, units, unfolds=6, eps=1e-8):
        super().__init__()
        u, s = units, input_size
        r = lambda lo, hi, *shape: nn.Parameter(torch.rand(*shape) * (hi - lo) + lo)
        self.gleak, self.vleak, self.cm = r(0.001, 1.0, u), r(-0.2, 0.2, u), r(0.4, 0.6, u)
        self.sigma, self.mu, self.w = r(3, 8, u, u), r(0.3, 0.8, u, u), r(0.001, 1.0, u, u)
        self.erev = nn.Parameter(torch.randint(0, 2, (u, u)).float() * 2 - 1)
        self.sensory_sigma, self.sensory_mu, self.sensory_w = r(3, 8, s, u), r(0.3, 0.8, s, u), r(0.001, 1.0, s, u)
        self.sensory_erev = nn.Parameter(torch.randint(0, 2, (s, u)).float() * 2 - 1)
        self.register_buffer("mask", torch.ones(u, u))
        self.register_buffer("sensory_mask", torch.ones(s, u))
        self.input_w, self.input_b = nn.Parameter(torch.ones(s)), nn.Parameter(torch.zeros(s))
        self.output_w, self.output_b = nn.Parameter(torch.ones(u)), nn.Parameter(torch.zeros(u))
        self.unfolds, self.eps = unfolds, eps

    def forward(self, x, v, elapsed):
        sp = nn.functional.softplus
        x = x * self.input_w + self.input_b
        s_act = sp(self.sensory_w) * torch.sigmoid(self.sensory_sigma * (x.unsqueeze(-1) - self.sensory_mu)) * self.sensory_mask
        num_s = (s_act * self.sensory_erev).sum(1)
        den_s = s_act.sum(1)
        cm_t = sp(self.cm) / (elapsed / self.unfolds)
        gleak = sp(self.gleak)
        w = sp(self.w)
        for _ in range(self.unfolds):
            a = w * torch.sigmoid(self.sigma * (v.unsqueeze(-1) - self.mu)) * self.mask
            num = cm_t * v + gleak * self.vleak + (a * self.erev).sum(1) + num_s
            den = cm_t + gleak + a.sum(1) + den_s
            v = num / (den + self.eps)
        return v * self.output_w + self.output_b, v


class Seq(nn.Module):
    def __init__(self, cell, state_size):
        super().__init__()
        self.cell, self.state_size = cell, state_size

    def forward(self, x):
        b, l, _ = x.shape
        h = torch.zeros(b, self.state_size)
        outs = []
        for t in range(l):
            out = self.cell(x[:, t], h, 1.0)
            if isinstance(out, tuple):
                out, h = out
            else:
                h = out
            outs.append(out)
        return torch.stack(outs, 1)


def make(model, input_size, units):
    if model == "cfc":
        return Seq(CfCCellTorch(input_size, units), units)
    return Seq(LTCCellTorch(input_size, units), units)


def timed(fn, repeats, warmup):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(ts):
    return {"median_ms": statistics.median(ts), "min_ms": min(ts), "max_ms": max(ts), "repeats": len(ts)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--models", default="cfc,ltc")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=32)
    ap.add_argument("--input-size", type=int, default=16)
    ap.add_argument("--units", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    results = {"torch": torch.__version__, "threads": a.threads, "results": []}
    for name in a.models.split(","):
        m = make(name, a.input_size, a.units)
        reps = a.repeats if name == "cfc" else max(5, a.repeats // 4)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        x = torch.rand(a.batch, a.seq_len, a.input_size) * 2 - 1
        y = torch.rand(a.batch, a.seq_len, a.units) * 2 - 1

        def train_step():
            opt.zero_grad()
            loss = ((m(x) - y) ** 2).mean()
            loss.backward()
            opt.step()

        r = summary(timed(train_step, reps, a.warmup))
        results["results"].append({"model": name, "what": "train", "batch": a.batch, "seq_len": a.seq_len, **r})
        xb = torch.rand(256, a.seq_len, a.input_size)

        def infer():
            with torch.no_grad():
                m(xb)

        r = summary(timed(infer, reps, a.warmup))
        r["seq_per_s"] = 256 / (r["median_ms"] / 1000)
        results["results"].append({"model": name, "what": "infer", "batch": 256, "seq_len": a.seq_len, **r})
        steps = 256
        xs = torch.rand(steps, 1, a.input_size)

        def stream():
            with torch.no_grad():
                h = torch.zeros(1, a.units)
                for t in range(steps):
                    out = m.cell(xs[t], h, 1.0)
                    h = out[1] if isinstance(out, tuple) else out

        r = summary(timed(stream, reps, a.warmup))
        r["median_us_per_step"] = r["median_ms"] * 1000 / steps
        results["results"].append({"model": name, "what": "stream", "batch": 1, **r})
    print(json.dumps(results))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The PyTorch side of `ncps bench --suite paper --pytorch on|auto`: the real ncps 1.0.1 (ncps.torch)
and torch.nn's LSTM and GRU, timed on request so that the suite can interleave them with its own
workloads round by round (both sides measured back to back, drift hitting both alike).

It is a long-lived server: the suite starts it once, before any timing (its start-up, mostly `import
torch`, is never timed), and talks to it in JSON lines. On start it prints one line,
{"ready": true, "torch": ..., ...} or {"ready": false, "error": "..."} (then exits 3). Then, for each
request line on stdin, one reply line on stdout:

  {"cmd": "build", "id": ID, "model": KEY, "what": "train"|"infer"|"stream", "batch": B, "seq_len": L,
   "input_size": I, "units": H, "backbone_units": BB, "backbone_layers": BL, "ode_unfolds": U,
   "stream_steps": S, "autoncp_sparsity": P}
      -> {"ok": true, "id": ID, "parameters": N, "spec": "ncps.torch.CfC(...)"}
  {"cmd": "run", "id": ID, "reps": N, "warm": K}
      -> {"ok": true, "id": ID, "times_ms": [N timings]}   (K untimed runs first)
  {"cmd": "quit"}  (or end of input) -> exits 0
  anything failing -> {"ok": false, "error": "..."}

KEY is one of the suite's keys that have a PyTorch counterpart (MODELS below); the sizes are the
suite's. The workloads are the suite's (src/cli/bench-workload.ts):
  train:  zero_grad, forward over the sequence, MSE on every step's output, backward, Adam (lr 1e-3);
  infer:  the same batch under torch.no_grad();
  stream: one sample, one step per call, the state carried from call to call (and from run to run),
          under torch.no_grad(); a run is S such calls.
No model gets a Linear head: the suite's ncps-ts models have none (proj_size unset), so each model's
output is its own (the hidden state; a wired CfC's motor neurons). torch.nn.LSTM has 4H more
parameters than ncps-ts's LSTM (two bias vectors per gate where ncps's LSTM cell has one); the suite
says so in its notes.

Elapsed time is 1 for every step, as in the suite, given by passing no timespans: ncps then uses the
scalar 1.0 shared by all samples. A per-sample timespans tensor would hit ncps 1.0.1's batching bug
(timespans[:, t].squeeze() has shape (B,), which broadcasts along the hidden axis, not the batch).

One thread: torch.set_num_threads(1), and OMP/OpenBLAS/MKL threads 1 set before torch is imported
(OpenBLAS threads on top of torch's oversubscribe the cores). float32, torch's default.

Usage (normally started by the suite): /usr/bin/python3 bench/pytorch_suite.py [--ncps DIR]
  --ncps: the folder holding the ncps package (default ../shared/reference/ncps-1.0.1 from the repo root)
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import platform
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_NCPS = os.path.join(ROOT, "..", "shared", "reference", "ncps-1.0.1")

torch = None
ncps_torch = None
ncps_wirings = None


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def die_with_parent():
    """Linux: ask for SIGTERM when the suite's process dies, however it dies (even SIGKILL)."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        parent = os.getppid()
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died while prctl was being set
            sys.exit(0)
    except Exception:
        pass  # not Linux: the suite still closes stdin or kills this process


def load(ncps_dir):
    """Imports torch and ncps; returns an error message, or None."""
    global torch, ncps_torch, ncps_wirings
    try:
        import torch as _torch
    except Exception as e:
        return f"{sys.executable} cannot import torch ({type(e).__name__}: {e})"
    if not os.path.isfile(os.path.join(ncps_dir, "ncps", "torch", "__init__.py")):
        return f"no ncps package in {ncps_dir} (expected {os.path.join(ncps_dir, 'ncps', 'torch', '__init__.py')})"
    sys.path.insert(0, ncps_dir)
    try:
        import ncps.torch as _ncps_torch
        import ncps.wirings as _ncps_wirings
    except Exception as e:
        return f"cannot import ncps.torch from {ncps_dir} ({type(e).__name__}: {e})"
    torch, ncps_torch, ncps_wirings = _torch, _ncps_torch, _ncps_wirings
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set; the intra-op setting is what matters here
    return None


# ---------------------------------------------------------------------------------------------
# The models: the suite's keys with a PyTorch counterpart, at the suite's sizes


def cfc(mode):
    def make(s):
        spec = f"ncps.torch.CfC({s['input_size']}, {s['units']}, mode='{mode}', backbone_units={s['backbone_units']}, backbone_layers={s['backbone_layers']})"
        model = ncps_torch.CfC(s["input_size"], s["units"], mode=mode, backbone_units=s["backbone_units"], backbone_layers=s["backbone_layers"])
        return model, spec

    return make


def cfc_wired(s):
    units, sparsity = s["units"], s.get("autoncp_sparsity", 0.5)
    # the suite's AutoNCP: units/8 motor neurons (at least 1), numpy seed 22222 (ncps's default)
    output_size = max(1, units // 8)
    wiring = ncps_wirings.AutoNCP(units, output_size, sparsity_level=sparsity)
    spec = f"ncps.torch.CfC({s['input_size']}, AutoNCP({units}, {output_size}, sparsity_level={sparsity}))"
    return ncps_torch.CfC(s["input_size"], wiring), spec


def ltc(s):
    spec = f"ncps.torch.LTC({s['input_size']}, {s['units']}, ode_unfolds={s['ode_unfolds']})"
    return ncps_torch.LTC(s["input_size"], s["units"], ode_unfolds=s["ode_unfolds"]), spec


def torch_rnn(name):
    def make(s):
        spec = f"torch.nn.{name}({s['input_size']}, {s['units']}, batch_first=True)"
        return getattr(torch.nn, name)(s["input_size"], s["units"], batch_first=True), spec

    return make


MODELS = {
    "cfc": cfc("default"),
    "cfc-no_gate": cfc("no_gate"),
    "cfc-pure": cfc("pure"),
    "cfc-wired": cfc_wired,
    "ltc": ltc,
    "gru": torch_rnn("GRU"),
    "lstm": torch_rnn("LSTM"),
}


def output_size(model, units):
    """ncps models know theirs (a wired CfC's motor neurons); torch.nn's RNNs output the hidden state."""
    return getattr(model, "output_size", units)


# ---------------------------------------------------------------------------------------------
# The workloads, as in src/cli/bench-workload.ts


def uniform(generator, *shape):
    return torch.rand(*shape, generator=generator) * 2 - 1


def train_workload(model, s, g):
    x = uniform(g, s["batch"], s["seq_len"], s["input_size"])
    target = uniform(g, s["batch"], s["seq_len"], output_size(model, s["units"]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def run():
        opt.zero_grad()
        out, _ = model(x)
        loss = torch.nn.functional.mse_loss(out, target)
        loss.backward()
        opt.step()

    return run


def infer_workload(model, s, g):
    x = uniform(g, s["batch"], s["seq_len"], s["input_size"])

    def run():
        with torch.no_grad():
            model(x)

    return run


def stream_workload(model, s, g):
    steps = s["stream_steps"]
    rows = [uniform(g, 1, 1, s["input_size"]) for _ in range(steps)]
    state = {"hx": None}

    def run():
        with torch.no_grad():
            hx = state["hx"]
            for t in range(steps):
                _, hx = model(rows[t], hx)
            state["hx"] = hx

    return run


WORKLOADS = {"train": train_workload, "infer": infer_workload, "stream": stream_workload}
SIZE_FIELDS = ("batch", "seq_len", "input_size", "units", "backbone_units", "backbone_layers", "ode_unfolds", "stream_steps")


def build(req, workloads):
    key, what = req.get("model"), req.get("what")
    if key not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {key!r}")
    if what not in WORKLOADS:
        raise ValueError(f"what must be train, infer or stream, got {what!r}")
    missing = [f for f in SIZE_FIELDS if not isinstance(req.get(f), int)]
    if missing:
        raise ValueError(f"build {key} {what}: integer sizes missing: {', '.join(missing)}")
    torch.manual_seed(1)
    model, spec = MODELS[key](req)
    run = WORKLOADS[what](model, req, torch.Generator().manual_seed(7))
    workloads[req["id"]] = run
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"parameters": parameters, "spec": spec}


def run_timed(req, workloads):
    run = workloads.get(req.get("id"))
    if run is None:
        raise ValueError(f"no workload built with id {req.get('id')!r}")
    reps, warm = int(req.get("reps", 1)), int(req.get("warm", 0))
    if reps < 1 or warm < 0:
        raise ValueError(f"reps must be >= 1 and warm >= 0, got reps {reps}, warm {warm}")
    for _ in range(warm):
        run()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000.0)
    return {"times_ms": times}


def serve():
    workloads = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            cmd = req.get("cmd")
            if cmd == "quit":
                return
            if cmd == "build":
                reply({"ok": True, "id": req.get("id"), **build(req, workloads)})
            elif cmd == "run":
                reply({"ok": True, "id": req.get("id"), **run_timed(req, workloads)})
            elif cmd == "threads":
                n = req.get("n")
                if not isinstance(n, int) or n < 1:
                    raise ValueError(f"threads: n must be a positive integer, got {n!r}")
                torch.set_num_threads(n)  # intra-op threads; BLAS stays single-threaded (environment)
                reply({"ok": True, "threads": torch.get_num_threads()})
            else:
                raise ValueError(f"cmd must be build, run, threads or quit, got {cmd!r}")
        except Exception as e:
            detail = traceback.format_exc(limit=3).strip().splitlines()[-1]
            reply({"ok": False, "error": f"{type(e).__name__}: {e}" if str(e) else detail})


def main():
    ap = argparse.ArgumentParser(description="PyTorch ncps timing server for `ncps bench --suite`")
    ap.add_argument("--ncps", default=DEFAULT_NCPS, help="folder holding the ncps package (default: %(default)s)")
    a = ap.parse_args()
    die_with_parent()
    ncps_dir = os.path.abspath(a.ncps)
    error = load(ncps_dir)
    if error:
        reply({"ready": False, "error": error})
        sys.exit(3)
    reply({
        "ready": True,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "ncps": ncps_dir,
        "threads": torch.get_num_threads(),
        "models": list(MODELS),
    })
    serve()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: leave quietly, the suite reports
        sys.exit(130)

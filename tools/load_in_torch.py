#!/usr/bin/env python3
"""Rebuild a PyTorch ncps model from a file written by `ncps export MODEL --to torch` (or any ncps-ts
checkpoint): the ncps constructor config from the metadata, the weights loaded strictly.

    import sys; sys.path.insert(0, "tools")
    from load_in_torch import load
    model = load("W.safetensors")
    y, h = model(x, timespans=ts)          # x (B, L, C), ts (B, L): float32, raw units

`load` returns a torch module wrapping the ncps model (`model.ncps`). For models trained by `ncps train`
it applies the stored scaling, as `ncps predict` does: inputs standardised with the training means and
standard deviations (the first len(featureMean) input columns; missing-value mask columns pass as they
are), elapsed times divided by the training time unit, regression outputs de-scaled to target units.
Classification outputs stay logits. Timespans must be raw elapsed times per step (the first step of a
series gets `model.first_elapsed`, the stored training median gap, in `ncps predict`).

Needs python3, torch and ncps (not the safetensors package).
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

DTYPES = {"F32": ("f", 4), "F64": ("d", 8)}
SKIPPED_PREFIXES = ("optimizer.", "best.", "probe.")


def forward_per_sample(model, x, timespans=None, hx=None):
    """ncps CfC/LTC forward (batch first, batched) with each sample's own elapsed time per step.

    ncps 1.0.1's forward squeezes timespans[:, t] to shape (B,), which broadcasts against the
    (B, units) state on the wrong axis for B > 1 (its issues #81-#83); this is the same loop with the
    time as a (B, 1) column, the semantics ncps-ts implements. For B == 1 or no timespans it calls
    the model's own forward."""
    import torch

    if timespans is None or x.dim() != 3 or x.shape[0] == 1 or not model.batch_first:
        return model(x, hx=hx, timespans=timespans)
    batch, steps = x.shape[0], x.shape[1]
    zeros = torch.zeros(batch, model.state_size, dtype=x.dtype)
    if model.use_mixed:
        h, c = hx if hx is not None else (zeros, zeros.clone())
    else:
        h, c = (hx if hx is not None else zeros), None
    fc = getattr(model, "fc", None) or (lambda v: v)
    outputs = []
    for t in range(steps):
        inputs = x[:, t]
        ts = timespans[:, t].reshape(batch, 1)
        if model.use_mixed:
            h, c = model.lstm(inputs, (h, c))
        out, h = model.rnn_cell.forward(inputs, h, ts)
        outputs.append(fc(out))
    readout = torch.stack(outputs, dim=1) if model.return_sequences else outputs[-1]
    return readout, ((h, c) if model.use_mixed else h)


def read_safetensors(path):
    """(metadata dict, {name: (shape, list of floats)}) in file order."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        if info["dtype"] not in DTYPES:
            raise ValueError("%s: tensor %s has dtype %s; expected F32 or F64" % (path, name, info["dtype"]))
        code, size = DTYPES[info["dtype"]]
        start, end = info["data_offsets"]
        tensors[name] = (info["shape"], list(struct.unpack("<%d%s" % ((end - start) // size, code), data[start:end])))
    return metadata, tensors


def _layered_wiring(wirings, args):
    """An ncps Wiring from explicit matrices, keeping its layers (an NCP's inter/command/motor)."""
    layers = args.get("layers")

    class LayeredWiring(wirings.Wiring):
        @property
        def num_layers(self):
            return len(layers) if layers else 1

        def get_neurons_of_layer(self, layer_id):
            return list(layers[layer_id]) if layers else list(range(self.units))

    base = wirings.Wiring.from_config({k: v for k, v in args.items() if k != "layers"})
    wiring = LayeredWiring(base.units)
    wiring.__dict__.update(base.__dict__)
    return wiring


def build_ncps_model(config):
    from ncps import torch as ncps_torch
    from ncps import wirings

    args = dict(config["constructor_args"])
    # ncps-ts options whose value here is ncps's own behaviour: dropped; any other value has no ncps equivalent
    for name, ncps_value in (("wiring_recurrence", False), ("variant", "torch"), ("forget_bias", 1)):
        if name in args and args[name] is not None and args[name] != ncps_value:
            raise ValueError("%s: %s=%r has no ncps equivalent (ncps: %r)" % (config["model"], name, args[name], ncps_value))
        args.pop(name, None)
    units = args.pop("units")
    if isinstance(units, dict):
        spec = units["wiring"]
        if spec["kind"] == "Wiring":
            units = _layered_wiring(wirings, spec["args"])
        else:
            cls = getattr(wirings, spec["kind"])
            units = cls(**spec.get("args", {}))
    if config["model"] == "CfC":
        return ncps_torch.CfC(units=units, **args)
    if config["model"] == "LTC":
        return ncps_torch.LTC(units=units, **args)
    raise ValueError("PyTorch ncps has CfC and LTC, not %s" % config["model"])


def load(path):
    import torch

    metadata, tensors = read_safetensors(path)
    if metadata.get("format") != "ncps-ts":
        raise ValueError("%s: not an ncps-ts file (metadata format %r)" % (path, metadata.get("format")))
    config = json.loads(metadata["config"])
    model = build_ncps_model(config)
    state = {
        name: torch.tensor(values, dtype=torch.float32).reshape(shape)
        for name, (shape, values) in tensors.items()
        if not name.startswith(SKIPPED_PREFIXES)
    }
    model.load_state_dict(state, strict=True)
    model.eval()
    extras = {k: json.loads(v) for k, v in metadata.items() if k not in ("format", "version", "config", "training_state")}
    return ScaledModel(model, extras)


def _module_base():
    import torch

    return torch.nn.Module


class ScaledModel(_module_base()):
    """The ncps model with the scaling stored by `ncps train` applied around it (identity when none)."""

    def __init__(self, ncps_model, extras):
        super().__init__()
        import torch

        self.ncps = ncps_model
        self.extras = extras
        norm = extras.get("normalization") or {}
        self.task = extras.get("task", "regress")
        self.first_elapsed = norm.get("firstElapsed")
        f = lambda key: None if norm.get(key) is None else torch.tensor(norm[key], dtype=torch.float32)
        self.feature_mean, self.feature_std = f("featureMean"), f("featureStd")
        self.target_mean, self.target_std = f("targetMean"), f("targetStd")
        self.time_scale = norm.get("timeScale")

    def forward(self, x, timespans=None, hx=None):
        if self.feature_mean is not None:
            k = self.feature_mean.shape[0]
            x = x.clone()
            x[..., :k] = (x[..., :k] - self.feature_mean) / self.feature_std
        if timespans is not None and self.time_scale:
            timespans = timespans / self.time_scale
        y, h = forward_per_sample(self.ncps, x, timespans, hx)
        if self.task == "regress" and self.target_mean is not None:
            y = y * self.target_std + self.target_mean
        return y, h

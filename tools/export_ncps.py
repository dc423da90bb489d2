#!/usr/bin/env python3
"""Export a PyTorch ncps model (CfC or LTC) to a safetensors file that ncps-ts can load.

From Python, with nothing retyped (everything is read from the live module: mode, activation,
backbone, wiring, mixed memory, projection, unfolds, epsilon, mappings, constraints):

    import sys; sys.path.insert(0, "tools")
    from export_ncps import export
    export(model, "m.safetensors", example_input=x, timespans=ts)

With example_input (and timespans), the file also stores a probe: the input, its timespans and the
model's output for them (tensors probe.input, probe.timespans, probe.output; timespans (B, L) are per
sample, see load_in_torch.forward_per_sample), which
`ncps verify m.safetensors` and loadCheckpoint(path, {verify: true}) run and compare.

From the shell:
    python tools/export_ncps.py --out model.safetensors \
        --config '{"model":"CfC","constructor_args":{"input_size":4,"units":8,"backbone_units":16}}' \
        [--state-dict weights.pt] [--strip-prefix model.] [--seed 0]

--config is the JSON text itself, or @path to a file holding it:
    {"model": "CfC" | "LTC",
     "constructor_args": {ncps snake_case constructor arguments}}
"units" is an int, or a wiring:
    {"wiring": {"kind": "AutoNCP" | "NCP" | "FullyConnected" | "Random", "args": {...}}}
with the ncps constructor arguments of that wiring class as "args", e.g.
    {"wiring": {"kind": "AutoNCP", "args": {"units": 12, "output_size": 3, "sparsity_level": 0.5, "seed": 22222}}}

--state-dict is a file written by torch.save(model.state_dict(), path) (or a checkpoint dict with a
"state_dict" entry). Without it the model keeps its fresh initialisation (torch.manual_seed(--seed)).

The output holds every entry of model.state_dict() (weights, biases and the frozen sparsity masks)
as little-endian float32 under its state_dict name, in state_dict order, a probe (probe.input,
probe.timespans, probe.output: one random sequence and the model's output for it) and the metadata
    {"format": "ncps-ts", "version": "1", "config": <the config read back from the built model>}
because the state_dict alone does not say how the model was configured (mode, backbone, wiring...).

Needs python3, torch and ncps. The safetensors package is NOT needed: the format is a u64 header
length, a JSON header and raw bytes, written here with json + struct.
"""

import argparse
import json
import os
import struct
import sys

FORMAT_METADATA = {"format": "ncps-ts", "version": "1"}
WIRING_KINDS = ("AutoNCP", "NCP", "FullyConnected", "Random")


def write_safetensors(path, tensors, metadata):
    """Write safetensors atomically.

    tensors: list of (name, dtype, shape, raw_little_endian_bytes) in the order to store them.
    metadata: dict of str -> str.
    """
    header = {"__metadata__": metadata}  # dicts keep insertion order, so tensor order is kept too
    offset = 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # spaces so the data starts 8-byte aligned

    # Write next to the target and rename over it, so a crash never leaves half a file behind.
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(header_bytes)))
            f.write(header_bytes)
            for _, _, _, raw in tensors:
                f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_config(text):
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as f:
            text = f.read()
    config = json.loads(text)
    if not isinstance(config, dict) or config.get("model") not in ("CfC", "LTC"):
        raise SystemExit('config: "model" must be "CfC" or "LTC"')
    args = config.get("constructor_args")
    if not isinstance(args, dict) or "input_size" not in args or "units" not in args:
        raise SystemExit('config: "constructor_args" must be an object with at least "input_size" and "units"')
    units = args["units"]
    if isinstance(units, dict):
        wiring = units.get("wiring")
        if not isinstance(wiring, dict) or wiring.get("kind") not in WIRING_KINDS:
            raise SystemExit('config: "units" must be an int or {"wiring": {"kind": one of %s, "args": {...}}}' % (WIRING_KINDS,))
    elif not isinstance(units, int) or isinstance(units, bool):
        raise SystemExit('config: "units" must be an int or a wiring object')
    return config


def build_model(config):
    from ncps import torch as ncps_torch  # imported late so --help works without ncps
    from ncps import wirings

    args = dict(config["constructor_args"])
    units = args.pop("units")
    if isinstance(units, dict):
        spec = units["wiring"]
        units = getattr(wirings, spec["kind"])(**spec.get("args", {}))
    model_class = ncps_torch.CfC if config["model"] == "CfC" else ncps_torch.LTC
    return model_class(units=units, **args)


ACTIVATIONS = {"LeCun": "lecun_tanh", "SiLU": "silu", "ReLU": "relu", "Tanh": "tanh", "GELU": "gelu"}


def wiring_spec(wiring):
    """The ncps-ts wiring spec of a live ncps wiring: its class and constructor arguments, or its matrices."""
    kind = type(wiring).__name__
    if kind in ("AutoNCP", "FullyConnected", "Random"):
        return {"kind": kind, "args": wiring.get_config()}
    # NCP's own get_config loses its seed, and a user's subclass has no known constructor: store the
    # matrices themselves (the base class config) and the layers, which rebuild the same wiring.
    from ncps import wirings

    args = wirings.Wiring.get_config(wiring)
    args["layers"] = [[int(n) for n in wiring.get_neurons_of_layer(l)] for l in range(wiring.num_layers)]
    return {"kind": "Wiring", "args": args}


def config_from_module(model):
    """{model, constructor_args} of a live ncps.torch CfC or LTC, read from the module itself."""
    kind = type(model).__name__
    if kind not in ("CfC", "LTC"):
        raise ValueError("export: expected an ncps.torch CfC or LTC, got %s" % kind)
    args = {
        "input_size": int(model.input_size),
        "return_sequences": bool(model.return_sequences),
        "batch_first": bool(model.batch_first),
        "mixed_memory": bool(model.use_mixed),
    }
    units = model.wiring_or_units
    if kind == "CfC":
        cell = model.rnn_cell
        if getattr(model, "wired_mode", False):
            args["units"] = {"wiring": wiring_spec(model.wiring)}
            args["mode"] = cell._layers[0].mode
        else:
            args["units"] = int(units)
            args["mode"] = cell.mode
            layers = int(cell.backbone_layers)
            args["backbone_layers"] = layers
            if layers > 0:
                modules = list(cell.backbone)
                args["backbone_units"] = int(modules[0].out_features)
                name = type(modules[1]).__name__
                if name not in ACTIVATIONS:
                    raise ValueError("export: unknown backbone activation module %s" % name)
                args["activation"] = ACTIVATIONS[name]
                drops = [m.p for m in modules if type(m).__name__ == "Dropout"]
                args["backbone_dropout"] = float(drops[0]) if drops else 0.0
        args["proj_size"] = None if model.proj_size is None else int(model.proj_size)
    else:
        cell = model.rnn_cell
        args["units"] = int(units) if isinstance(units, int) else {"wiring": wiring_spec(units)}
        args["input_mapping"] = cell._input_mapping
        args["output_mapping"] = cell._output_mapping
        args["ode_unfolds"] = int(cell._ode_unfolds)
        args["epsilon"] = float(cell._epsilon)
        args["implicit_param_constraints"] = bool(cell._implicit_param_constraints)
    return {"model": kind, "constructor_args": args}


def _float32_tensor(name, value):
    import torch

    flat = value.detach().to(torch.float32).cpu().reshape(-1).tolist()
    return (name, "F32", tuple(value.shape), struct.pack("<%df" % len(flat), *flat))


def export(model, path, example_input=None, timespans=None):
    """Write a live ncps.torch CfC/LTC to `path` for ncps-ts: weights, config read from the module and,
    with example_input, a probe (the input, its timespans and the model's output for them)."""
    import torch

    config = config_from_module(model)
    tensors = [_float32_tensor(name, value) for name, value in model.state_dict().items()]
    if example_input is not None:
        was_training = model.training
        model.eval()
        from load_in_torch import forward_per_sample  # beside this file

        with torch.no_grad():
            output, _ = forward_per_sample(model, example_input, timespans)
        model.train(was_training)
        tensors.append(_float32_tensor("probe.input", example_input))
        if timespans is not None:
            tensors.append(_float32_tensor("probe.timespans", timespans))
        tensors.append(_float32_tensor("probe.output", output))
    metadata = dict(FORMAT_METADATA, config=json.dumps(config, separators=(",", ":")))
    write_safetensors(path, tensors, metadata)
    return config


def load_state_dict(path, strip_prefix):
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)  # no arbitrary pickles
    except TypeError:  # torch older than 1.13 has no weights_only
        state = torch.load(path, map_location="cpu")
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # e.g. a Lightning checkpoint
    if strip_prefix:
        state = {k[len(strip_prefix):] if k.startswith(strip_prefix) else k: v for k, v in state.items()}
    return state


def main(argv=None):
    parser = argparse.ArgumentParser(description="Export a PyTorch ncps CfC/LTC model to safetensors for ncps-ts.")
    parser.add_argument("--out", required=True, help="output .safetensors path")
    parser.add_argument("--config", required=True, help="model config JSON, or @file")
    parser.add_argument("--state-dict", help="torch.save'd state_dict to load into the model")
    parser.add_argument("--strip-prefix", default="", help="remove this prefix from state_dict keys (e.g. 'model.')")
    parser.add_argument("--seed", type=int, default=0, help="torch seed for a freshly initialised model")
    opts = parser.parse_args(argv)

    import torch

    config = load_config(opts.config)
    torch.manual_seed(opts.seed)
    model = build_model(config)
    if opts.state_dict:
        # strict=True: names and shapes must match the configured model exactly, so a wrong
        # config is caught here rather than when ncps-ts loads the file.
        model.load_state_dict(load_state_dict(opts.state_dict, opts.strip_prefix), strict=True)

    # A probe of one sequence (batch 1, where ncps's own forward handles timespans): `ncps verify` runs it.
    steps = 5
    size = config["constructor_args"]["input_size"]
    shape = (1, steps, size) if model.batch_first else (steps, 1, size)
    x = torch.randn(*shape)
    ts = torch.rand(1, steps) + 0.5 if model.batch_first else torch.rand(steps, 1) + 0.5
    written = export(model, opts.out, example_input=x, timespans=ts)
    print("wrote %s (%s, with a probe) to %s" % (written["model"], json.dumps(written["constructor_args"])[:200], opts.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

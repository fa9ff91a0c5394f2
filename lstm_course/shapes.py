"""The shapes an LSTM produces, worked out from its configuration alone.

``lstm_shapes(module_or_config, input_shape)`` answers "what shapes will I get?" for an
``nn.LSTM``, a ``HandLSTM`` or a dict of ``nn.LSTM``'s constructor arguments, without running
anything: the shapes of ``output``, ``h_n``, ``c_n`` and of every parameter, and the parameter
count. Notebook 04 checks every rule here against a real ``nn.LSTM``. ``final_states`` finds
the last layer's final states in what an ``nn.LSTM`` returns, in ``output`` and in ``h_n``.

The rules, with ``D = 2 if bidirectional else 1`` and ``H_out = proj_size or hidden_size``:

- ``output``: ``(seq, batch, D * H_out)``, or ``(batch, seq, D * H_out)`` with ``batch_first``;
  ``(seq, D * H_out)`` for an unbatched input ``(seq, input_size)``.
- ``h_n``: ``(num_layers * D, batch, H_out)`` and ``c_n``: ``(num_layers * D, batch, hidden_size)``,
  whatever ``batch_first`` says; without a batch, the middle dim is dropped.
- per layer ``l`` and direction: ``weight_ih_l{l}`` ``(4 * hidden_size, in_l)`` where ``in_0 =
  input_size`` and ``in_l = D * H_out`` above it, ``weight_hh_l{l}`` ``(4 * hidden_size, H_out)``,
  ``bias_ih_l{l}`` and ``bias_hh_l{l}`` ``(4 * hidden_size,)`` when ``bias``, ``weight_hr_l{l}``
  ``(proj_size, hidden_size)`` when ``proj_size > 0``; the backward direction adds ``_reverse``.
"""

import math
import numbers

import torch
from torch import nn

from lstm_course.hand_lstm import HandLSTM

# nn.LSTM's constructor arguments and their defaults (input_size and hidden_size have none).
CONFIG_DEFAULTS = {
    "num_layers": 1,
    "bias": True,
    "batch_first": False,
    "dropout": 0.0,
    "bidirectional": False,
    "proj_size": 0,
    "device": None,
    "dtype": None,
}
REQUIRED = ("input_size", "hidden_size")
CONFIG_KEYS = REQUIRED + tuple(CONFIG_DEFAULTS)
SHAPE_KEYS = ("output", "h_n", "c_n")


# ----------------------------------------------------------------------------- configuration


def _int(name, value, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} should be an int, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} should be at least {minimum}, got {value}")
    return int(value)


def _bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name} should be True or False, got {type(value).__name__}: {value!r}")
    return value


def _config_from_module(module):
    config = {key: getattr(module, key) for key in CONFIG_KEYS if key not in ("device", "dtype")}
    config["bidirectional"] = bool(config["bidirectional"])  # nn.LSTM accepts 0 / 1 here
    return config


def lstm_config(module_or_config):
    """The configuration as a complete, checked dict of ``nn.LSTM``'s constructor arguments.

    Accepts an ``nn.LSTM``, a ``HandLSTM`` or a dict such as ``{"input_size": 10, "hidden_size": 20,
    "num_layers": 2}``; missing keys take ``nn.LSTM``'s defaults. Raises TypeError or ValueError
    naming the argument that is wrong, what it should be and what it was.
    """
    if isinstance(module_or_config, (nn.LSTM, HandLSTM)):
        config = _config_from_module(module_or_config)
    elif isinstance(module_or_config, dict):
        unknown = [key for key in module_or_config if key not in CONFIG_KEYS]
        if unknown:
            raise TypeError(
                f"unknown nn.LSTM argument{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                f"nn.LSTM takes {', '.join(CONFIG_KEYS)}"
            )
        missing = [key for key in REQUIRED if key not in module_or_config]
        if missing:
            raise TypeError(f"the config is missing {' and '.join(missing)}: nn.LSTM has no default for them")
        config = {**CONFIG_DEFAULTS, **module_or_config}
    else:
        kind = type(module_or_config).__name__
        extra = " (only LSTMs: a GRU or RNN has other shapes)" if isinstance(module_or_config, nn.RNNBase) else ""
        raise TypeError(
            f"expected an nn.LSTM, a HandLSTM or a dict of nn.LSTM's constructor arguments, got {kind}{extra}"
        )

    checked = {
        "input_size": _int("input_size", config["input_size"], 1),
        "hidden_size": _int("hidden_size", config["hidden_size"], 1),
        "num_layers": _int("num_layers", config["num_layers"], 1),
        "bias": _bool("bias", config["bias"]),
        "batch_first": _bool("batch_first", config["batch_first"]),
        "bidirectional": _bool("bidirectional", config["bidirectional"]),
        "proj_size": _int("proj_size", config["proj_size"], 0),
    }
    dropout = config["dropout"]
    if not isinstance(dropout, numbers.Real) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError(f"dropout should be a probability in [0, 1], got {dropout!r}")
    checked["dropout"] = float(dropout)
    if checked["proj_size"] >= checked["hidden_size"]:
        raise ValueError(
            f"proj_size should be smaller than hidden_size={checked['hidden_size']} (or 0 for no projection), "
            f"got {checked['proj_size']}"
        )
    return checked


# ----------------------------------------------------------------------------- parameters


def num_directions(config):
    return 2 if config["bidirectional"] else 1


def output_width(config):
    """The width of ``h`` and of each direction's part of ``output``: ``proj_size or hidden_size``."""
    return config["proj_size"] or config["hidden_size"]


def parameter_shapes(module_or_config):
    """Parameter name -> shape tuple, in the order ``nn.LSTM(...).named_parameters()`` gives them."""
    config = lstm_config(module_or_config)
    H, P, D = config["hidden_size"], config["proj_size"], num_directions(config)
    H_out = output_width(config)
    shapes = {}
    for layer in range(config["num_layers"]):
        layer_input = config["input_size"] if layer == 0 else D * H_out  # both directions' outputs below
        for suffix in (f"_l{layer}", f"_l{layer}_reverse")[:D]:
            shapes["weight_ih" + suffix] = (4 * H, layer_input)  # rows: gates i, f, g, o
            shapes["weight_hh" + suffix] = (4 * H, H_out)
            if config["bias"]:
                shapes["bias_ih" + suffix] = (4 * H,)
                shapes["bias_hh" + suffix] = (4 * H,)
            if P:
                shapes["weight_hr" + suffix] = (P, H)
    return shapes


def lstm_num_parameters(module_or_config):
    """How many numbers the LSTM learns; the same as ``sum(p.numel() for p in lstm.parameters())``."""
    return sum(math.prod(shape) for shape in parameter_shapes(module_or_config).values())


# ----------------------------------------------------------------------------- input and states


def _input_dims(input_shape, config):
    """(seq, batch) from an input shape; batch is None for an unbatched input."""
    if isinstance(input_shape, torch.Tensor):
        raise TypeError("input_shape should be a shape such as (seq, batch, input_size), got a Tensor: pass x.shape")
    if not isinstance(input_shape, (tuple, list, torch.Size)):
        raise TypeError(f"input_shape should be a tuple of ints such as (seq, batch, input_size), got {type(input_shape).__name__}: {input_shape!r}")
    for size in input_shape:
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 0:
            raise TypeError(f"input_shape should hold sizes (ints >= 0), got {tuple(input_shape)!r}")
    shape = tuple(int(size) for size in input_shape)
    layout = "(batch, seq, input_size)" if config["batch_first"] else "(seq, batch, input_size)"
    if len(shape) not in (2, 3):
        raise ValueError(
            f"input_shape should have 3 dims {layout}, or 2 dims (seq, input_size) without a batch, "
            f"got {len(shape)} dims: {shape}"
        )
    if shape[-1] != config["input_size"]:
        raise ValueError(f"input_shape's last dim should be input_size={config['input_size']}, got {shape[-1]} (input_shape {shape})")
    if len(shape) == 2:
        seq, batch = shape[0], None
    else:
        seq, batch = (shape[1], shape[0]) if config["batch_first"] else (shape[0], shape[1])
    if seq == 0:
        raise ValueError(f"input_shape {shape} has an empty sequence (seq = 0); an LSTM needs at least one time step")
    return seq, batch


def state_shapes(module_or_config, batch=None):
    """The shapes of ``(h_0, c_0)``, which are also those of ``(h_n, c_n)``; without a batch if None."""
    config = lstm_config(module_or_config)
    layers = config["num_layers"] * num_directions(config)
    if batch is None:
        return (layers, output_width(config)), (layers, config["hidden_size"])
    return (layers, batch, output_width(config)), (layers, batch, config["hidden_size"])


def lstm_shapes(module_or_config, input_shape):
    """The shapes ``nn.LSTM`` gives for an input of shape ``input_shape``, computed, not run.

    ``module_or_config``: an ``nn.LSTM``, a ``HandLSTM`` or a dict of ``nn.LSTM``'s constructor
    arguments. ``input_shape``: ``(seq, batch, input_size)``, ``(batch, seq, input_size)`` with
    ``batch_first=True``, or ``(seq, input_size)`` without a batch.

    Returns a dict: ``output``, ``h_n``, ``c_n`` (shape tuples), ``parameters`` (name -> shape,
    in ``named_parameters()`` order) and ``num_parameters``.
    """
    config = lstm_config(module_or_config)
    seq, batch = _input_dims(input_shape, config)
    width = num_directions(config) * output_width(config)  # both directions, concatenated
    if batch is None:
        output = (seq, width)
    else:
        output = (batch, seq, width) if config["batch_first"] else (seq, batch, width)
    h_n, c_n = state_shapes(config, batch)  # batch_first never applies to the states
    parameters = parameter_shapes(config)
    return {
        "output": output,
        "h_n": h_n,
        "c_n": c_n,
        "parameters": parameters,
        "num_parameters": sum(math.prod(shape) for shape in parameters.values()),
    }


# ----------------------------------------------------------------------------- states in the results


def final_states(output, h_n, num_layers, bidirectional, batch_first):
    """The last layer's final states in an ``nn.LSTM``'s results, found twice: in ``output`` and in ``h_n``.

    ``output``: ``(batch, seq, D * H)`` with ``batch_first``, else ``(seq, batch, D * H)``; ``h_n``:
    ``(num_layers * D, batch, H)`` either way. Returns ``(from_output, from_h_n)``, each ``(batch, D * H)``:
    forward, then backward when bidirectional (the order of ``output``).
    """
    D = 2 if bidirectional else 1
    H = h_n.shape[-1]
    steps = output if batch_first else output.transpose(0, 1)  # (batch, seq, D * H)
    ends = [steps[:, -1, :H]]  # the forward direction ends at the last step
    if bidirectional:
        ends.append(steps[:, 0, H:])  # the backward direction ends at t = 0
    last_layer = h_n.reshape(num_layers, D, *h_n.shape[1:])[-1]  # (D, batch, H): layers outside, directions inside
    return torch.cat(ends, dim=1), torch.cat(list(last_layer), dim=1)


def config_text(module_or_config):
    """``nn.LSTM(10, 20, num_layers=2, bidirectional=True)``: the arguments that differ from the defaults."""
    config = lstm_config(module_or_config)
    text = f"{config['input_size']}, {config['hidden_size']}"
    for key, default in CONFIG_DEFAULTS.items():
        if key in config and config[key] != default:
            text += f", {key}={config[key]}"
    return f"nn.LSTM({text})"


def shapes_table(module_or_config, input_shape, parameters=True):
    """The shapes as an aligned text table: the tensors, then (optionally) every parameter."""
    shapes = lstm_shapes(module_or_config, input_shape)
    rows = [("input", tuple(input_shape))] + [(key, shapes[key]) for key in SHAPE_KEYS]
    if parameters:
        rows += list(shapes["parameters"].items())
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {shape}" for name, shape in rows]
    if parameters:
        lines.append(f"{'parameters':<{width}}  {shapes['num_parameters']:,} in all")
    return "\n".join(lines)

"""The hand-set LSTM counter.

Each input is ``[x1, x2, x3, 1]``: a number, a store (``x2 = 1``) or forget (``x2 = -1``)
signal, a reveal signal (``x3 = 1``), and a constant 1 that plays the part of a bias.
The cell adds ``x1`` to its memory when told to store, empties it when told to forget,
and shows it only when told to reveal.
"""

import numpy as np
import torch

from lstm_course import numpy_lstm


def _read_only(array):
    """A read-only copy of ``array`` whose flag cannot be turned back on: for the package's constants."""
    return np.frombuffer(np.ascontiguousarray(array).tobytes(), dtype=array.dtype).reshape(array.shape)


# The sequence the course uses, written as a program (see `parse_program`).
COUNTER_PROGRAM = "1 +3 2 +4 2 ?1 !3 +6 ?1"

# Rows in PyTorch's gate order i, f, g, o; columns x1, x2, x3, 1.
COUNTER_W_IH = _read_only(np.array(
    [
        [0, 100, 0, -10],  # i: open (sigmoid(90) ~ 1) only when x2 = 1
        [0, 100, 0, 10],  # f: closed (sigmoid(-90) ~ 0) only when x2 = -1
        [1, 0, 0, 0],  # g: the candidate is x1 itself
        [0, 0, 100, -10],  # o: open only when x3 = 1
    ],
    dtype=np.float64,
))  # read-only: `counter_weights()` hands out copies to change

# What the textbook form prints for COUNTER_PROGRAM.
TEXTBOOK_OUTPUTS = (0, 0, 0, 0, 0, 7, 0, 0, 6)

_PREFIXES = {"+": (1, 0), "!": (-1, 0), "?": (0, 1), "": (0, 0)}
PROGRAM_HELP = (
    "a program is numbers separated by spaces, each with an optional prefix: "
    "'+5' stores 5, '!' forgets, '?' reveals, '2' just passes by (e.g. '1 +3 2 +4 ?1 ! +6 ?')"
)


def parse_program(text):
    """Turn a program such as ``"+3 +4 ?1 ! +6 ?"`` into inputs ``(seq, 4)``."""
    if not isinstance(text, str):
        raise TypeError(f"the program should be a str, got {type(text).__name__}: {PROGRAM_HELP}")
    rows = []
    for token in text.split():
        prefix = token[0] if token[0] in "+!?" else ""
        number = token[len(prefix):] or "0"
        try:
            x1 = float(number)
        except ValueError:
            raise ValueError(f"cannot read {token!r}: {PROGRAM_HELP}") from None
        x2, x3 = _PREFIXES[prefix]
        rows.append([x1, x2, x3, 1.0])
    if not rows:
        raise ValueError(f"the program is empty: {PROGRAM_HELP}")
    return np.array(rows)


def format_program(inputs):
    """The program text for inputs ``(seq, 4)``: the inverse of `parse_program`."""
    prefixes = {(x2, x3): p for p, (x2, x3) in _PREFIXES.items()}
    tokens = []
    for x1, x2, x3, _ in np.asarray(inputs):
        if (x2, x3) not in prefixes:
            raise ValueError(f"no program token writes x2={x2:g}, x3={x3:g}: {PROGRAM_HELP}")
        tokens.append(prefixes[(x2, x3)] + f"{x1:g}")
    return " ".join(tokens)


COUNTER_INPUTS = _read_only(parse_program(COUNTER_PROGRAM))


def counter_weights():
    """Fresh copies of the counter's parameters, shaped as ``nn.LSTMCell(4, 1)`` holds them."""
    return {
        "w_ih": COUNTER_W_IH.copy(),  # (4 * hidden, input) = (4, 4)
        "w_hh": np.zeros((4, 1)),  # the counter never looks at its own output
        "b_ih": np.zeros(4),  # the bias lives in the constant input x4 = 1
        "b_hh": np.zeros(4),
    }


def _as_inputs(inputs):
    inputs = np.asarray(inputs, dtype=np.float64)
    if inputs.ndim != 2 or inputs.shape[1] != 4:
        raise ValueError(f"counter inputs should have shape (seq, 4) as [x1, x2, x3, 1], got {inputs.shape}")
    return inputs


def textbook_counter(inputs=COUNTER_INPUTS, weights=None):
    """The textbook form: gates rounded to 0 or 1, identity in place of both tanh.

    ``weights`` is a dict as `counter_weights` returns (the counter's own by default).
    Returns a dict ``{"i", "f", "g", "o", "c", "h"}`` of arrays ``(seq,)``.
    """
    inputs = _as_inputs(inputs)
    weights = counter_weights() if weights is None else weights
    w_ih, w_hh = np.asarray(weights["w_ih"], dtype=np.float64), np.asarray(weights["w_hh"], dtype=np.float64)
    bias = np.asarray(weights["b_ih"], dtype=np.float64) + np.asarray(weights["b_hh"], dtype=np.float64)
    trace = {name: np.zeros(len(inputs)) for name in ("i", "f", "g", "o", "c", "h")}
    h, c = np.zeros(1), 0.0  # h: (hidden,) = (1,)
    for t, x in enumerate(inputs):
        z_i, z_f, z_g, z_o = w_ih @ x + w_hh @ h + bias  # the four pre-activations at this step
        i, f, o = np.round(numpy_lstm.sigmoid(np.array([z_i, z_f, z_o])))  # each exactly 0 or 1
        c = f * c + i * z_g
        h = np.array([o * c + 0.0])  # + 0.0: a closed gate on a negative memory shows 0, not -0
        for name, value in zip("ifgoch", (i, f, z_g, o, c, h[0])):
            trace[name][t] = value
    return trace


def real_counter(inputs=COUNTER_INPUTS, weights=None):
    """The same weights in a real LSTM (sigmoid gates, tanh), run by `numpy_lstm`.

    Returns a dict ``{"i", "f", "g", "o", "c", "h"}`` of arrays ``(seq,)``.
    """
    inputs = _as_inputs(inputs)
    weights = counter_weights() if weights is None else weights
    state = np.zeros((1, 1))  # (batch, hidden) = (1, 1)
    _, _, gates = numpy_lstm.lstm_forward(inputs[None], state, state, return_gates=True, **weights)
    return {name: values[0, :, 0] for name, values in gates.items()}


def _set_parameters(module, suffix, dtype):
    """Copy the counter's weights into an nn.LSTMCell (suffix '') or nn.LSTM (suffix '_l0')."""
    with torch.no_grad():
        for name, value in counter_weights().items():
            torch_name = {"w": "weight", "b": "bias"}[name[0]] + name[1:] + suffix
            getattr(module, torch_name).copy_(torch.tensor(value, dtype=dtype))
    return module


def counter_lstm_cell(dtype=torch.float64):
    """An ``nn.LSTMCell(4, 1)`` holding the counter's weights, biases zeroed."""
    return _set_parameters(torch.nn.LSTMCell(4, 1, dtype=dtype), "", dtype)


def counter_lstm(dtype=torch.float64):
    """An ``nn.LSTM(4, 1, batch_first=True)`` holding the counter's weights, biases zeroed."""
    return _set_parameters(torch.nn.LSTM(4, 1, batch_first=True, dtype=dtype), "_l0", dtype)

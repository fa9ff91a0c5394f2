"""An LSTM in NumPy, in PyTorch's gate order ``i, f, g, o``.

Shapes follow ``nn.LSTM(batch_first=True)``: ``x`` is ``(batch, seq, input_size)``,
``h`` and ``c`` are ``(batch, hidden_size)``, ``w_ih`` is ``(4 * hidden_size, input_size)``,
``w_hh`` is ``(4 * hidden_size, hidden_size)``, ``b_ih`` and ``b_hh`` are ``(4 * hidden_size,)``.
"""

from typing import NamedTuple

import numpy as np

GATE_NAMES = ("i", "f", "g", "o")


def sigmoid(x):
    """1 / (1 + exp(-x)), without overflow at any input.

    exp is only taken of -|x|, which lies in (0, 1]: for x >= 0 the usual form,
    for x < 0 the equal form exp(x) / (1 + exp(x)).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    with np.errstate(under="ignore"):
        z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))[()]  # [()]: a scalar for a scalar


class GateValues(NamedTuple):
    """Everything one time step computes, each ``(batch, hidden_size)``."""

    i: np.ndarray  # input gate
    f: np.ndarray  # forget gate
    g: np.ndarray  # candidate cell state
    o: np.ndarray  # output gate
    c: np.ndarray  # new cell state
    h: np.ndarray  # new hidden state


def _check_shape(name, array, expected):
    if array.shape != expected:
        raise ValueError(f"{name} should have shape {expected}, got {array.shape}")


def _as_params(x, h, w_ih, w_hh, b_ih, b_hh):
    """Check the weights against x and h and return them as arrays, biases zero if None."""
    w_ih, w_hh = np.asarray(w_ih), np.asarray(w_hh)
    if w_ih.ndim != 2 or w_ih.shape[0] % 4:
        raise ValueError(f"w_ih should have shape (4 * hidden_size, input_size), got {w_ih.shape}")
    hidden_size = w_ih.shape[0] // 4
    batch, input_size = h.shape[0], x.shape[-1]
    _check_shape("w_ih", w_ih, (4 * hidden_size, input_size))
    _check_shape("w_hh", w_hh, (4 * hidden_size, hidden_size))
    _check_shape("h", h, (batch, hidden_size))
    biases = []
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        b = np.zeros(4 * hidden_size, dtype=w_ih.dtype) if b is None else np.asarray(b)
        _check_shape(name, b, (4 * hidden_size,))
        biases.append(b)
    return w_ih, w_hh, *biases


def _as_state(name, array):
    array = np.asarray(array)
    if array.ndim != 2:
        raise ValueError(f"{name} should have shape (batch, hidden_size), got {array.shape}")
    return array


def gate_values(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step with every gate returned: x ``(batch, input_size)``, h and c ``(batch, hidden)``."""
    x = np.asarray(x)
    h, c = _as_state("h", h), _as_state("c", c)
    if x.ndim != 2:
        raise ValueError(f"x should have shape (batch, input_size), got {x.shape}")
    _check_shape("c", c, h.shape)
    if x.shape[0] != h.shape[0]:
        raise ValueError(f"x has batch size {x.shape[0]} but h has batch size {h.shape[0]}")
    w_ih, w_hh, b_ih, b_hh = _as_params(x, h, w_ih, w_hh, b_ih, b_hh)

    return _step(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, c)


def _step(z, c):
    """Gates, cell and hidden state from the pre-activations z ``(batch, 4 * hidden_size)``."""
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)  # each (batch, hidden_size)
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return GateValues(i, f, g, o, c_new, h_new)


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: returns the new ``(h, c)``, each ``(batch, hidden_size)``."""
    step = gate_values(x, h, c, w_ih, w_hh, b_ih, b_hh)
    return step.h, step.c


def lstm_forward(x, h_0, c_0, w_ih, w_hh, b_ih=None, b_hh=None, return_gates=False):
    """Run one layer over a sequence.

    Returns ``output`` ``(batch, seq, hidden)`` and ``(h_n, c_n)`` each ``(1, batch, hidden)``,
    the shapes ``nn.LSTM(batch_first=True)`` returns. With ``return_gates=True`` a third item
    is a dict ``{"i", "f", "g", "o", "c", "h"}`` of arrays ``(batch, seq, hidden)``.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x should have shape (batch, seq, input_size), got {x.shape}")
    h, c = _as_state("h_0", h_0), _as_state("c_0", c_0)
    _check_shape("c_0", c, h.shape)
    if x.shape[0] != h.shape[0]:
        raise ValueError(f"x has batch size {x.shape[0]} but h_0 has batch size {h.shape[0]}")
    if x.shape[1] == 0:
        raise ValueError("x has an empty sequence (seq = 0); an LSTM needs at least one step")

    w_ih, w_hh, b_ih, b_hh = _as_params(x, h, w_ih, w_hh, b_ih, b_hh)

    x_proj = x @ w_ih.T + (b_ih + b_hh)  # all input projections at once: (batch, seq, 4 * hidden)
    steps = []
    for t in range(x.shape[1]):
        step = _step(x_proj[:, t] + h @ w_hh.T, c)  # one matmul per step for the recurrence
        h, c = step.h, step.c
        steps.append(step)
    output = np.stack([s.h for s in steps], axis=1)
    result = (output, (h[None], c[None]))
    if not return_gates:
        return result
    gates = {name: np.stack([getattr(s, name) for s in steps], axis=1) for name in GateValues._fields}
    return (*result, gates)

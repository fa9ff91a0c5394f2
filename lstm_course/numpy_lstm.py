"""An LSTM in NumPy, in PyTorch's gate order ``i, f, g, o``.

Shapes follow ``nn.LSTM(batch_first=True)``: ``x`` is ``(batch, seq, input_size)``,
``h`` and ``c`` are ``(batch, hidden_size)``, ``w_ih`` is ``(4 * hidden_size, input_size)``,
``w_hh`` is ``(4 * hidden_size, hidden_size)``, ``b_ih`` and ``b_hh`` are ``(4 * hidden_size,)``.
``lstm_step_backward`` and ``lstm_backward`` are the backward pass, by hand, and ``clip_by_norm``
clips their gradients (notebook 06).
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


# ----------------------------------------------------------------------------- backward
#
# The forward step, with z = x @ w_ih.T + h_prev @ w_hh.T + b_ih + b_hh split into z_i, z_f, z_g, z_o:
#     i, f, g, o = sigmoid(z_i), sigmoid(z_f), tanh(z_g), sigmoid(z_o)
#     c = f * c_prev + i * g
#     h = o * tanh(c)
# The backward runs these lines in reverse. `dh` is dL/dh (the same shape as h), and so on.


def lstm_step_backward(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh):
    """The gradients of one step, given what comes back from above.

    ``dh``, ``dc``: dL/dh_t and dL/dc_t from above (the later steps and this step's output),
    each ``(batch, hidden)``. ``x`` ``(batch, input_size)``, ``h_prev``, ``c_prev``
    ``(batch, hidden)``: this step's inputs. ``step``: this step's ``GateValues`` (from
    ``gate_values``), the forward's cache. Returns ``(dx, dh_prev, dc_prev, dw_ih, dw_hh, db)``,
    each shaped like its array; ``db`` ``(4 * hidden,)`` is the gradient of ``b_ih`` and of ``b_hh`` alike.
    """
    i, f, g, o, c, _ = step
    tanh_c = np.tanh(c)
    do = dh * tanh_c  # h = o * tanh(c)
    dc = dc + dh * o * (1 - tanh_c**2)  # the total dL/dc_t: c reaches the loss directly and through h
    di, df, dg = dc * g, dc * c_prev, dc * i  # c = f * c_prev + i * g
    dz = np.concatenate(  # through each activation: sigmoid' = s(1 - s), tanh' = 1 - tanh^2
        [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
    )  # (batch, 4 * hidden), gate order i, f, g, o
    return dz @ w_ih, dz @ w_hh, dc * f, dz.T @ x, dz.T @ h_prev, dz.sum(axis=0)


def lstm_backward(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh):
    """Backpropagation through time over a whole sequence, in NumPy.

    ``d_output`` ``(batch, seq, hidden)``: dL/d``output``; ``d_h_n``, ``d_c_n``: dL/d``h_n``,
    dL/d``c_n``, shaped ``(batch, hidden)`` or ``(1, batch, hidden)`` like ``h_n``; ``None``
    for any of the three means zero. ``x``, ``h_0``, ``c_0``, ``w_ih``, ``w_hh``: what the
    forward was given; ``gates``: the dict ``lstm_forward(..., return_gates=True)`` returned.
    Returns ``(dx, dh_0, dc_0, dw_ih, dw_hh, db)``, each shaped like its array; ``db``
    ``(4 * hidden,)`` is the gradient of ``b_ih`` and of ``b_hh`` alike.
    """
    x, h_0, c_0 = np.asarray(x), np.asarray(h_0), np.asarray(c_0)
    w_ih, w_hh = np.asarray(w_ih), np.asarray(w_hh)
    batch, seq, _ = x.shape
    hidden = w_hh.shape[1]
    dtype = np.result_type(x, h_0, c_0, w_ih, w_hh, 1.0)  # float64 unless all are float32

    def zeros_or(grad, shape):
        return np.zeros(shape, dtype) if grad is None else np.asarray(grad, dtype).reshape(shape)

    d_output = zeros_or(d_output, (batch, seq, hidden))
    dh = zeros_or(d_h_n, (batch, hidden))  # what flows back into h_t from later steps
    dc = zeros_or(d_c_n, (batch, hidden))  # ... and into c_t
    h_prev = np.concatenate([h_0[:, None], gates["h"][:, :-1]], axis=1)  # h_{t-1}: (batch, seq, hidden)
    c_prev = np.concatenate([c_0[:, None], gates["c"][:, :-1]], axis=1)  # c_{t-1}: (batch, seq, hidden)

    dx = np.zeros(x.shape, dtype)
    dw_ih, dw_hh, db = np.zeros(w_ih.shape, dtype), np.zeros(w_hh.shape, dtype), np.zeros(4 * hidden, dtype)
    for t in reversed(range(seq)):
        step = GateValues(*(gates[name][:, t] for name in GateValues._fields))
        # h_t feeds both the output at step t and the next step
        dx[:, t], dh, dc, dw_ih_t, dw_hh_t, db_t = lstm_step_backward(
            dh + d_output[:, t], dc, x[:, t], h_prev[:, t], c_prev[:, t], step, w_ih, w_hh
        )
        dw_ih, dw_hh, db = dw_ih + dw_ih_t, dw_hh + dw_hh_t, db + db_t  # the same weights at every step: add up
    return dx, dh, dc, dw_ih, dw_hh, db


def clip_by_norm(grads, max_norm):
    """The arrays ``grads`` scaled together so that their total norm is at most ``max_norm``.

    The total norm is sqrt(sum of every element squared, over all arrays); below ``max_norm``
    the arrays come back unchanged, above it each is multiplied by ``max_norm / total``, so
    the direction of the whole gradient is kept. Returns a new list; ``grads`` is not changed.
    """
    total = np.sqrt(sum(np.sum(np.square(g)) for g in grads))
    scale = max_norm / total if total > max_norm else 1.0
    return [g * scale for g in grads]

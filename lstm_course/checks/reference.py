"""The checks' one LSTM: a step and a sequence, in NumPy or PyTorch, right or with one typical mistake.

What an answer with a known mistake computes is this reference with that mistake switched on, so
that a check can recognise it (`judge.diagnose`). PyTorch's gate order ``i, f, g, o``; shapes as in
``lstm_course.numpy_lstm``.
"""

import itertools

import numpy as np
import torch

from lstm_course.numpy_lstm import GateValues as Step  # what one step computes: i, f, g, o, c, h
from lstm_course.numpy_lstm import sigmoid as _numpy_sigmoid

PYTORCH_ORDER = "ifgo"
DIAGRAM_ORDER = "figo"  # the order of most diagrams: f, i, C~ (= g), o
GATE_WORDS = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o"}
OTHER_ORDERS = tuple(order for order in map("".join, itertools.permutations(PYTORCH_ORDER)) if order != PYTORCH_ORDER)


def _ops(x):
    """``(sigmoid, tanh, stack)`` of the library ``x`` comes from."""
    if isinstance(x, torch.Tensor):
        return torch.sigmoid, torch.tanh, torch.stack
    return _numpy_sigmoid, np.tanh, np.stack


def step(x, h, c, w_ih, w_hh, b_ih, b_hh, *, order=PYTORCH_ORDER, g_activation="tanh", x_used=True, h_used=True,
         b_ih_used=True, b_hh_used=True, forget=True, input_gate=True, forget_scales_h=False, tanh_on_c=True,
         h_from_old_c=False, o_activation="sigmoid"):
    """One LSTM step (a `Step`), with the learner's typical mistakes switched on by the keywords.

    ``order``: the order in which the answer reads the four blocks of rows; ``g_activation``:
    "tanh", "sigmoid" or "none" (``o_activation`` alike); the other keywords leave out or misplace one part of the
    equations.
    """
    sigmoid, tanh, _ = _ops(x)
    z = (x @ w_ih.T if x_used else 0) + (h @ w_hh.T if h_used else 0)
    z = z + (b_ih if b_ih_used else 0) + (b_hh if b_hh_used else 0)
    hidden = z.shape[-1] // 4
    blocks = {gate: z[..., k * hidden:(k + 1) * hidden] for k, gate in enumerate(order)}
    activations = {"tanh": tanh, "sigmoid": sigmoid, "none": lambda z: z}
    i, f = sigmoid(blocks["i"]), sigmoid(blocks["f"])
    g, o = activations[g_activation](blocks["g"]), activations[o_activation](blocks["o"])
    kept = (h if forget_scales_h else c) * (f if forget else 1)
    c_new = kept + (i if input_gate else 1) * g
    c_shown = c if h_from_old_c else c_new  # the cell state h is read from
    h_new = o * (tanh(c_shown) if tanh_on_c else c_shown)
    return Step(i, f, g, o, c_new, h_new)


def sequence(x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, *, reverse=False, zero_states=False, h_reset=False,
             state_reset=False, output_before_step=False, **step_mistakes):
    """One layer, one direction over ``x`` ``(batch, seq, input_size)``: ``(output, h_n, c_n, steps)``.

    ``output`` is ``(batch, seq, hidden)`` in the input's time order (also when ``reverse``); ``h_n``
    and ``c_n`` are ``(batch, hidden)``; ``steps`` the `Step` of each time index. The keywords are the
    typical mistakes of a loop: starting from zeros, restarting from ``h_0`` (or both states) at every
    step, storing the state from before the step; ``step_mistakes`` go to `step`.
    """
    if zero_states:
        h_0, c_0 = h_0 * 0, c_0 * 0
    h, c = h_0, c_0
    seq = x.shape[1]
    outputs, steps = [None] * seq, [None] * seq
    for t in reversed(range(seq)) if reverse else range(seq):
        h_prev = h_0 if h_reset or state_reset else h
        c_prev = c_0 if state_reset else c
        steps[t] = step(x[:, t], h_prev, c_prev, w_ih, w_hh, b_ih, b_hh, **step_mistakes)
        h, c = steps[t].h, steps[t].c
        outputs[t] = h_prev if output_before_step else h
    return _ops(x)[2](outputs, 1), h, c, steps


def gate_row(hidden):
    """A ``where`` for a ``(4 * hidden, ...)`` array: "in row 5 (row 1 of the forget gate f), column 2"."""

    def where(index):
        row, gate = index[0], PYTORCH_ORDER[index[0] // hidden]
        place = f"in row {row} (row {row % hidden} of the {GATE_WORDS[gate]})"
        return place + (f", column {index[1]}" if len(index) > 1 else "")

    return where


def order_message(order):
    """What reading the gates' blocks of rows in ``order`` instead of i, f, g, o means."""
    if order == DIAGRAM_ORDER:
        return (
            "Your input and forget gates are swapped: PyTorch's rows are i, f, g, o. The first hidden_size rows "
            "of w_ih, w_hh, b_ih and b_hh belong to the input gate i, the next hidden_size rows to the forget "
            "gate f (many diagrams list f first)."
        )
    return (
        f"You read the four blocks of rows as {', '.join(order)}; PyTorch's rows are i, f, g, o (blocks of "
        "hidden_size rows each, in that order)."
    )


Z_EQUATION = "z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh."

# (message, keywords of `step`): what a step with each typical mistake computes, most telling first.
STEP_MISTAKES = (
    *((order_message(order), {"order": order}) for order in OTHER_ORDERS),
    ("The candidate g goes through sigmoid; it needs tanh, g = tanh(z_g), so that it can be negative and the "
     "cell can move down as well as up.", {"g_activation": "sigmoid"}),
    ("The candidate g has no activation: g = tanh(z_g).", {"g_activation": "none"}),
    ("Your h = o * c is missing the tanh on the cell state: h = o * tanh(c).", {"tanh_on_c": False}),
    ("The output gate o goes through tanh; it is a gate, o = sigmoid(z_o), between 0 and 1.", {"o_activation": "tanh"}),
    (f"The bias b_ih is missing: PyTorch adds both biases, {Z_EQUATION}", {"b_ih_used": False}),
    (f"The bias b_hh is missing: PyTorch adds both biases, {Z_EQUATION}", {"b_hh_used": False}),
    (f"Both biases are missing: {Z_EQUATION}", {"b_ih_used": False, "b_hh_used": False}),
    (f"The input x is missing from the gates: {Z_EQUATION}", {"x_used": False}),
    (f"The previous hidden state h is missing from the gates: {Z_EQUATION}", {"h_used": False}),
    ("Your forget gate multiplies h; it should multiply the previous cell state: c_new = f * c + i * g.",
     {"forget_scales_h": True}),
    ("The forget gate is not applied: c_new = f * c + i * g, not c + i * g.", {"forget": False}),
    ("The input gate is not applied: c_new = f * c + i * g, not f * c + g.", {"input_gate": False}),
    ("Your h is computed from the previous cell state; use the new one: h = o * tanh(c_new).",
     {"h_from_old_c": True}),
)

# (message, keywords of `sequence`): the mistakes of the loop over time.
LOOP_MISTAKES = (
    ("You started from zeros: start from the given initial_states (h_0, c_0).", {"zero_states": True}),
    ("Each step starts from h_0 instead of the previous step's h: carry h from step to step.", {"h_reset": True}),
    ("Each step starts from (h_0, c_0) instead of the previous step's (h, c): carry both from step to step.",
     {"state_reset": True}),
    ("output[:, t] holds the h from before step t (output[:, 0] is h_0): store h after computing step t.",
     {"output_before_step": True}),
)

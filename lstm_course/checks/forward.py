"""Checks for notebook 03: ``lstm_forward``, the reverse direction and two stacked layers, against ``nn.LSTM``.

Each check runs the learner's function on sizes the notebook does not use and compares it with
``nn.LSTM`` in float64. When an answer differs, the check compares it with what the typical
mistakes give (`_run` builds one in) and names the one it matches.
"""

import itertools

import numpy as np
import torch

from lstm_course.checks._core import FLOAT32_ATOL, FLOAT32_RTOL, Mistake, as_array, call, check, expect_close, is_low_precision, with_hint

ATOL = 1e-9  # float64 against float64: nn.LSTM and a correct answer differ by about 1e-15
FORWARD_SIGNATURE = "lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh)"
REVERSE_SIGNATURE = "lstm_forward_reverse(input, initial_states, w_ih, w_hh, b_ih, b_hh)"
TWO_LAYER_SIGNATURE = "two_layer_forward(input, initial_states, weights_layer0, weights_layer1)"
FORWARD_HINT = "Compare your loop with the equations, one step at a time."
REVERSE_HINT = "Compare your loop with lstm_forward's, one step at a time: only the order of the steps differs."
ONE_LAYER_SHAPES = (
    "Check each product's shapes: w_ih is (4 * hidden, input_size) and w_hh is (4 * hidden, hidden), "
    "so the inputs meet w_ih.T and h meets w_hh.T, as in the equations."
)
TWO_LAYER_SHAPES = (
    "Layer 0's w_ih is (4 * hidden, input_size), layer 1's is (4 * hidden, hidden): layer 1 reads layer 0's output. "
    "h_0 and c_0 are (2, batch, hidden): layer k starts from h_0[k] and c_0[k]."
)

# (batch, seq, input_size, hidden_size), none of them the notebook's; batch 1, seq 1, hidden 1, input_size != hidden
ONE_LAYER_SIZES = [(2, 5, 3, 4), (1, 4, 2, 3), (3, 1, 4, 2), (2, 3, 3, 1)]
TWO_LAYER_SIZES = [(2, 4, 3, 3), (1, 3, 2, 4), (3, 1, 4, 2)]  # the first with input_size == hidden, where mistakes compute silently

PYTORCH_ORDER = "ifgo"
GATE_NAMES = {"i": "input", "f": "forget", "g": "candidate", "o": "output"}


# ----------------------------------------------------------------------------- the cases


def _case(sizes, seed, num_layers=1, bidirectional=False):
    """A float64 nn.LSTM, an input, initial states and nn.LSTM's results, without touching the caller's random state."""
    batch, seq, input_size, hidden = sizes
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        lstm = torch.nn.LSTM(input_size, hidden, num_layers, batch_first=True, bidirectional=bidirectional, dtype=torch.float64)
        x = torch.randn(batch, seq, input_size, dtype=torch.float64)
        rows = num_layers * (2 if bidirectional else 1)
        h_0, c_0 = torch.randn(2, rows, batch, hidden, dtype=torch.float64)
    with torch.no_grad():
        output, (h_n, c_n) = lstm(x, (h_0, c_0))
    return lstm, x, (h_0, c_0), (output, h_n, c_n)


def _weights(lstm, suffix):
    return tuple(getattr(lstm, name + suffix).detach() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def _label(number, sizes):
    batch, seq, input_size, hidden = sizes
    return f"Case {number} (batch {batch}, seq {seq}, input_size {input_size}, hidden {hidden})"


# ----------------------------------------------------------------------------- what typical mistakes compute


def _run(x, h, c, w_ih, w_hh, b_ih, b_hh, mistake=None, order=PYTORCH_ORDER, reverse=False):
    """One layer, one direction, with one typical mistake built in: what such an answer returns.

    ``mistake`` is None (a correct pass) or one of `MISTAKES`; ``order`` is the order in which the
    answer reads the four gates' rows. Returns ``output`` ``(batch, seq, hidden)``, ``h``, ``c``.
    """
    h_0, c_0 = h, c
    if mistake == "zero states":
        h, c = torch.zeros_like(h), torch.zeros_like(c)
    b_ih = torch.zeros_like(b_ih) if mistake == "no b_ih" else b_ih
    b_hh = torch.zeros_like(b_hh) if mistake == "no b_hh" else b_hh
    outputs = [None] * x.shape[1]
    for t in reversed(range(x.shape[1])) if reverse else range(x.shape[1]):
        h_prev = h_0 if mistake in ("h reset", "state reset") else h
        c_prev = c_0 if mistake == "state reset" else c
        z = dict(zip(order, (x[:, t] @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh).chunk(4, dim=1)))
        g = torch.sigmoid(z["g"]) if mistake == "sigmoid g" else torch.tanh(z["g"])
        c = torch.sigmoid(z["f"]) * c_prev + torch.sigmoid(z["i"]) * g
        h = torch.sigmoid(z["o"]) * (c if mistake == "no tanh c" else torch.tanh(c))
        outputs[t] = h_prev if mistake == "output before step" else h
    return torch.stack(outputs, dim=1), h, c


MISTAKES = {
    "no b_hh": "you left out b_hh: PyTorch adds both biases, b_ih and b_hh, to every gate.",
    "no b_ih": "you left out b_ih: PyTorch adds both biases, b_ih and b_hh, to every gate.",
    "no tanh c": "h_t = o * tanh(c_t): you left out the tanh on the cell state.",
    "sigmoid g": "the candidate g takes tanh, not sigmoid: g = tanh(z_g), so that it can be negative.",
    "zero states": "you started from zeros: start from the given initial_states (h_0, c_0).",
    "h reset": "each step starts from h_0 instead of the previous step's h: carry h from step to step.",
    "state reset": "each step starts from (h_0, c_0) instead of the previous step's (h, c): carry both from step to step.",
    "output before step": "output[:, t] holds the h from before step t (output[:, 0] is h_0): store h after computing step t.",
}


def _order_message(order):
    names = ", ".join(order)
    diagrams = " (the order of most diagrams)" if order == "figo" else ""
    return (
        f"you read the gates in the order {names}{diagrams}, but PyTorch stacks their rows as i, f, g, o "
        f"({', '.join(GATE_NAMES[gate] for gate in PYTORCH_ORDER)})."
    )


def _single_mistakes(x, states, weights, reverse=False):
    """``(message, output, h, c)`` for each typical mistake of one layer, in the order a diagnosis tries them."""
    for order in ("".join(p) for p in itertools.permutations(PYTORCH_ORDER)):
        if order != PYTORCH_ORDER:
            yield (_order_message(order), *_run(x, *states, *weights, order=order, reverse=reverse))
    for mistake, message in MISTAKES.items():
        yield (message, *_run(x, *states, *weights, mistake=mistake, reverse=reverse))


# ----------------------------------------------------------------------------- comparing


def _close(got, expected):
    """True when ``got`` equals ``expected`` to its own precision (float32 answers at float32 tolerance)."""
    tolerance = {"atol": FLOAT32_ATOL, "rtol": FLOAT32_RTOL} if is_low_precision(got) else {"atol": ATOL, "rtol": 0}
    got, expected = as_array("the answer", got), np.asarray(expected, dtype=np.float64)
    return got.shape == expected.shape and bool(np.allclose(got, expected, **tolerance))


def _unpack(result):
    try:
        output, (h_n, c_n) = result
    except (TypeError, ValueError):
        raise Mistake(f"return output, (h_n, c_n), as nn.LSTM does; got {type(result).__name__}") from None
    return output, h_n, c_n


def _where(index):
    return f"at batch {index[0]}, time step {index[1]}, unit {index[2]}"


def _float32_inside(name, got, expected):
    """A float64 answer that agrees only to float32 precision was computed in float32 somewhere."""
    if not is_low_precision(got) and _close(torch.as_tensor(as_array(name, got), dtype=torch.float32), expected):
        raise Mistake(
            f"{name} agrees with nn.LSTM only to float32 precision: somewhere your function computes in float32 "
            "(a tensor made with torch.zeros(...) or torch.tensor(...) without dtype=, or .float()). "
            "Keep the input's dtype, float64 here: torch.zeros_like(...) or dtype=input.dtype."
        )


def _judge_output(got, expected, mistakes, hint=FORWARD_HINT):
    """``output`` against ``expected`` ``(batch, seq, hidden)``; ``mistakes()`` yields ``(message, output, ...)``."""
    batch, seq, hidden = expected.shape
    got_shape = tuple(getattr(got, "shape", ()))
    if got_shape == (seq, batch, hidden) and (batch, seq) != (seq, batch):
        raise Mistake(
            f"output has shape (seq, batch, hidden) = {got_shape}; nn.LSTM(batch_first=True) returns (batch, seq, hidden) "
            f"= {(batch, seq, hidden)}: stack the steps along dim 1."
        )
    if got_shape != (batch, seq, hidden):
        expect_close("output", got, expected, hint=f"It is (batch, seq, hidden) = {(batch, seq, hidden)}: h of every step.")
    if _close(got, expected):
        return
    if _close(got, expected.transpose(0, 1).reshape(batch, seq, hidden)):
        raise Mistake("output holds the right numbers in the wrong places: reshape and view do not swap dims; stack the steps along dim 1.")
    if _close(got, expected.flip(1)):
        raise Mistake("output is in reversed time order: output[:, t] must be the h computed at input step t.")
    for message, output, *_ in mistakes():
        if _close(got, output):
            raise Mistake(message)
    _float32_inside("output", got, expected)
    expect_close("output", got, expected, atol=ATOL, hint=hint, where=_where)


def _judge_state(name, got, expected, other_name, other, first_step=None):
    """``h_n`` or ``c_n`` against ``expected`` ``(layers, batch, hidden)``."""
    rows, batch, hidden = expected.shape
    got_shape = tuple(getattr(got, "shape", ()))
    layout = "(1, batch, hidden)" if rows == 1 else f"(num_layers, batch, hidden) = ({rows}, batch, hidden)"
    if got_shape == (batch, hidden) and rows == 1:
        raise Mistake(f"{name} should have shape {layout} = {tuple(expected.shape)}, as nn.LSTM returns it, got {got_shape}: add the leading dim of the layer.")
    if got_shape != tuple(expected.shape):
        expect_close(name, got, expected, hint=f"It is {layout}, as nn.LSTM returns it.")
    if _close(got, expected):
        return
    if _close(got, other):
        raise Mistake(f"{name} holds {other_name}: return output, (h_n, c_n) in that order.")
    if first_step is not None and _close(got, first_step):
        raise Mistake(f"{name} is the state after the first step; it should be the state after the last step computed.")
    _float32_inside(name, got, expected)
    expect_close(name, got, expected, atol=ATOL, where=lambda k: f"at layer {k[0]}, batch {k[1]}, unit {k[2]}")


def _in_case(label, judge, *args):
    try:
        return judge(*args)
    except Mistake as mistake:
        raise Mistake(f"{label}: {mistake}") from None


def _call(function, signature, shape_hint, label, *args):
    try:
        return _unpack(call(function, *args))
    except Mistake as mistake:
        raise Mistake(f"{label}: {with_hint(mistake, signature, shape_hint)}") from None


# ----------------------------------------------------------------------------- lstm_forward


@check("Write lstm_forward")
def check_lstm_forward(lstm_forward):
    """``lstm_forward(input, (h_0, c_0), w_ih, w_hh, b_ih, b_hh)`` -> ``output, (h_n, c_n)`` as nn.LSTM(batch_first=True)."""
    for number, sizes in enumerate(ONE_LAYER_SIZES, start=1):
        lstm, x, (h_0, c_0), (output, h_n, c_n) = _case(sizes, seed=100 + number)
        states, weights, label = (h_0[0], c_0[0]), _weights(lstm, "_l0"), _label(number, sizes)
        got_output, got_h_n, got_c_n = _call(lstm_forward, FORWARD_SIGNATURE, ONE_LAYER_SHAPES, label, x, states, *weights)
        _in_case(label, _judge_output, got_output, output, lambda: _single_mistakes(x, states, weights))
        _in_case(label, _judge_state, "h_n", got_h_n, h_n, "c_n", c_n, output[None, :, 0])
        _in_case(label, _judge_state, "c_n", got_c_n, c_n, "h_n", h_n)
    return f"your lstm_forward equals nn.LSTM on {len(ONE_LAYER_SIZES)} sizes you had not seen, batch 1, seq 1 and hidden 1 among them."


# ----------------------------------------------------------------------------- the reverse direction


def _reverse_mistakes(x, states, weights):
    """The reverse direction's typical mistakes: walking forwards in time first, then those of one layer."""
    yield ("you walked forwards in time: the reverse direction starts at the last step, t = seq - 1, and goes down to t = 0.",
           *_run(x, *states, *weights))
    yield from _single_mistakes(x, states, weights, reverse=True)


def _judge_reverse_h_n(got, expected, output):
    if _close(got, output[None, :, -1]) and not _close(got, expected):
        raise Mistake("h_n is the state at the last time index; the reverse direction ends at time step 0: h_n equals output[:, 0].")


@check("Run the sequence backwards")
def check_lstm_forward_reverse(lstm_forward_reverse):
    """``lstm_forward_reverse(input, (h_0, c_0), w_ih, w_hh, b_ih, b_hh)`` -> ``output, (h_n, c_n)``
    with output in the input's time order, like the reverse half of a bidirectional nn.LSTM."""
    for number, sizes in enumerate(ONE_LAYER_SIZES[:3], start=1):
        lstm, x, (h_0, c_0), (output, h_n, c_n) = _case(sizes, seed=200 + number, bidirectional=True)
        hidden = sizes[3]
        states, weights, label = (h_0[1], c_0[1]), _weights(lstm, "_l0_reverse"), _label(number, sizes)
        output, h_n, c_n = output[..., hidden:], h_n[1:], c_n[1:]  # the reverse direction's half
        got_output, got_h_n, got_c_n = _call(lstm_forward_reverse, REVERSE_SIGNATURE, ONE_LAYER_SHAPES, label, x, states, *weights)
        _in_case(label, _judge_output, got_output, output, lambda: _reverse_mistakes(x, states, weights), REVERSE_HINT)
        _in_case(label, _judge_reverse_h_n, got_h_n, h_n, output)
        _in_case(label, _judge_state, "h_n", got_h_n, h_n, "c_n", c_n)
        _in_case(label, _judge_state, "c_n", got_c_n, c_n, "h_n", h_n)
    return "your loop matches the reverse half of a bidirectional nn.LSTM."


# ----------------------------------------------------------------------------- two stacked layers


def _two_layer_mistakes(x, h_0, c_0, weights0, weights1):
    """``(message, output)`` for the typical mistakes of stacking two layers."""
    out0, h0, c0 = _run(x, h_0[0], c_0[0], *weights0)
    if x.shape[-1] == weights1[0].shape[-1]:  # these two only compute when input_size == hidden
        yield "layer 1 read the input instead of layer 0's output: feed layer 0's output to layer 1.", _run(x, h_0[1], c_0[1], *weights1)[0]
        yield "layer 1 used layer 0's weights: layer 1 has its own, weights_layer1.", _run(out0, h_0[1], c_0[1], *weights0)[0]
    yield "layer 1 started from h_0[0], c_0[0]: layer k starts from h_0[k] and c_0[k].", _run(out0, h_0[0], c_0[0], *weights1)[0]
    yield ("layer 1 started from layer 0's final state: each layer starts from its own initial state, layer k from h_0[k] and c_0[k].",
           _run(out0, h0, c0, *weights1)[0])
    yield "output is layer 0's output: the stack's output is the top layer's, layer 1's.", out0


def _judge_layers(name, got, expected):
    """The final states of a stack: one row per layer, in layer order."""
    got_shape = tuple(getattr(got, "shape", ()))
    _, batch, hidden = expected.shape
    for k in (0, 1):
        if got_shape in ((1, batch, hidden), (batch, hidden)) and _close(got, expected[k].reshape(got_shape)):
            raise Mistake(f"{name} holds only layer {k}'s final state: nn.LSTM returns one per layer, (2, batch, hidden) = {tuple(expected.shape)}, layer 0 first.")
    if got_shape == (2, 1, batch, hidden):
        raise Mistake(f"{name} should have shape (2, batch, hidden) = {tuple(expected.shape)}, got {got_shape}: join the layers' (1, batch, hidden) states along dim 0 without adding a dim.")
    if _close(got, expected.flip(0)):
        raise Mistake(f"{name} has the layers in the wrong order: {name}[0] is layer 0's final state, {name}[1] layer 1's.")


@check("Stack two layers")
def check_two_layer_forward(two_layer_forward):
    """``two_layer_forward(input, (h_0, c_0), weights_layer0, weights_layer1)`` -> ``output, (h_n, c_n)``
    as a 2-layer nn.LSTM(batch_first=True); h_0, c_0, h_n, c_n are ``(2, batch, hidden)``."""
    for number, sizes in enumerate(TWO_LAYER_SIZES, start=1):
        lstm, x, (h_0, c_0), (output, h_n, c_n) = _case(sizes, seed=300 + number, num_layers=2)
        weights0, weights1, label = _weights(lstm, "_l0"), _weights(lstm, "_l1"), _label(number, sizes)
        got_output, got_h_n, got_c_n = _call(two_layer_forward, TWO_LAYER_SIGNATURE, TWO_LAYER_SHAPES, label, x, (h_0, c_0), weights0, weights1)
        mistakes = lambda: _two_layer_mistakes(x, h_0, c_0, weights0, weights1)  # noqa: E731
        _in_case(label, _judge_output, got_output, output, mistakes)
        for name, got, expected, other_name, other in (("h_n", got_h_n, h_n, "c_n", c_n), ("c_n", got_c_n, c_n, "h_n", h_n)):
            _in_case(label, _judge_layers, name, got, expected)
            _in_case(label, _judge_state, name, got, expected, other_name, other)
    return "your two layers equal a 2-layer nn.LSTM on sizes you had not seen."

"""Notebook 02, the hand-set counter: answers to its two exercises."""

import functools

import numpy as np
import torch

from lstm_course import counter
from lstm_course.checks import check_count_to_seven, check_counter_weights
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

counter_weights, count_to_seven = notebook_definitions(  # the notebook's solutions
    "02_hand_counter", "counter_weights", "count_to_seven"
)

# ----------------------------------------------------------------------------- Exercise 1: the counter's weights

ROWS = [[0, 100, 0, -10], [0, 100, 0, 10], [1, 0, 0, 0], [0, 0, 100, -10]]  # i, f, g, o; columns x1, x2, x3, 1


def weights(rows=ROWS, **others):
    """An answer: ``w_ih`` from ``rows``, the rest zeros unless given."""
    return lambda: {"w_ih": np.array(rows, dtype=np.float64), "w_hh": np.zeros((4, 1)), "b_ih": np.zeros(4), "b_hh": np.zeros(4), **others}


def with_row(gate, row):
    """An answer with one gate's row of w_ih replaced."""
    return weights([row if k == "ifgo".index(gate) else r for k, r in enumerate(ROWS)])


SHARED_WEIGHTS = counter_weights()


def drifting():
    """A global dict whose g row it halves on every call."""
    SHARED_WEIGHTS["w_ih"][2] *= 0.5
    return SHARED_WEIGHTS


def edits_the_constant():
    w_ih = counter.COUNTER_W_IH
    w_ih[0, 3] = -10.0  # the same value, written in place
    return {"w_ih": w_ih, "w_hh": np.zeros((4, 1)), "b_ih": np.zeros(4), "b_hh": np.zeros(4)}


def from_the_course_cell():
    cell = counter.counter_lstm_cell()
    return {name: getattr(cell, f"{'weight' if name[0] == 'w' else 'bias'}{name[1:]}").detach().numpy() for name in ("w_ih", "w_hh", "b_ih", "b_hh")}


# ----------------------------------------------------------------------------- Exercise 2: make a real LSTM count to 7


def scaled(scale, decode=lambda h, scale: np.arctanh(h) / scale):
    """A real counter with x1 scaled by ``scale``, its output decoded by ``decode(h, scale)``."""

    def answer(inputs):
        weights = counter.counter_weights()
        weights["w_ih"][2] *= scale
        return decode(counter.real_counter(inputs, weights)["h"], scale)

    return answer


def in_torch(inputs):
    """nn.LSTM in float32, another scale, torch's atanh, a tensor returned."""
    scale, lstm = 0.005, counter.counter_lstm(torch.float32)
    with torch.no_grad():
        lstm.weight_ih_l0[2] *= scale
        output, _ = lstm(torch.tensor(inputs, dtype=torch.float32)[None])  # (1, seq, 1)
    return torch.atanh(output[0, :, 0]) / scale


def step_by_step(inputs):
    """numpy_lstm.lstm_cell one step at a time, the scale in the input rather than the weights."""
    from lstm_course import numpy_lstm

    h = c = np.zeros((1, 1))
    outputs = []
    for x in inputs * np.array([0.002, 1, 1, 1]):
        h, c = numpy_lstm.lstm_cell(x[None], h, c, **counter.counter_weights())
        outputs.append(h.item())
    return np.arctanh(outputs) / 0.002


def leaky(inputs):
    """Shows 1 at step 3, where the output gate is closed."""
    out = count_to_seven(inputs)
    out[2] = 1.0
    return out


def empty_shows_one(inputs):
    """Shows 1 where it reveals an empty memory."""
    out = count_to_seven(inputs)
    out[(inputs[:, 2] == 1) & (np.abs(out) < 0.5)] = 1.0
    return out


GLOBAL_WEIGHTS = counter.counter_weights()


def compounding(inputs):
    """Scales a global weights dict on every call."""
    GLOBAL_WEIGHTS["w_ih"][2] *= 0.01
    return np.arctanh(counter.real_counter(inputs, GLOBAL_WEIGHTS)["h"]) / 0.01


def scales_the_constant(inputs):
    w_ih = counter.COUNTER_W_IH  # not a copy
    w_ih[2] *= 0.01
    return np.arctanh(counter.real_counter(inputs, {**counter.counter_weights(), "w_ih": w_ih})["h"]) / 0.01


def textbook_alias(inputs):
    from lstm_course.counter import textbook_counter as exact

    return exact(inputs)["h"]


def the_check_s_count(inputs):
    from lstm_course.checks.hand_counter import count

    return count(inputs)


def counts_without_an_lstm(inputs):
    """The program's meaning in plain Python: right numbers, no LSTM."""
    memory, outputs = 0.0, []
    for x1, x2, x3, _ in inputs:
        memory = 0.0 if x2 == -1 else memory + (x1 if x2 == 1 else 0.0)
        outputs.append(memory if x3 == 1 else 0.0)
    return np.array(outputs)


ANSWERS = [
    Answers(
        check=check_counter_weights,
        solution=counter_weights,
        others=[
            weights([[0, 20, 0, 0], [0, 20, 0, 0], [1, 0, 0, 0], [0, 0, 20, 0]], b_ih=np.array([-10.0, 10, 0, -10])),  # constants in b_ih
            lambda: {"w_ih": torch.tensor(ROWS, dtype=torch.float64), "w_hh": torch.zeros(4, 1),  # tensors, biases split
                     "b_ih": torch.tensor([-5.0, 5, 0, -5]), "b_hh": torch.tensor([5.0, -5, 0, 5])},
        ],
        wrong=[
            (weights([ROWS[1], ROWS[0], ROWS[2], ROWS[3]]), "gate order f, i, g, o"),
            (weights([ROWS[0], ROWS[1], ROWS[3], ROWS[2]]), "gate order i, f, o, g"),
            (weights(np.array(ROWS).T), "Your w_ih is transposed"),
            (with_row("f", [0, 0, 0, 10]), "never forgets: at time step 11 ('!25') the forget gate is open"),
            (with_row("f", [0, 100, 0, 110]), "never forgets: at time step 11 ('!25') the forget gate is open"),
            (with_row("f", [0, 100, 0, -10]), "forgets without x2 = -1: at time step 3 ('?17')"),
            (with_row("f", [0, 0, 0, -10]), "forgets all the time"),
            (weights(w_hh=np.array([[0.0], [-100], [0], [0]])), "forgets without x2 = -1: at time step 4 ('+-30')"),  # reads h
            (with_row("o", [0, 0, 100, 10]), "reveals all the time"),
            (with_row("o", [0, 0, 0, -10]), "never reveals"),
            (with_row("i", [0, 100, 0, 110]), "stores all the time"),
            (with_row("i", [0, 100, 0, 10]), "stores without x2 = 1"),
            (with_row("i", [1, 100, 0, -10]), "stores without x2 = 1"),  # the gate also reads x1
            (with_row("i", [0, 0, 0, -10]), "never stores"),
            (with_row("i", [1, 100, 0, -70]), "does not store: at time step 4 ('+-30')"),  # closed where x1 is very negative
            (with_row("g", [2, 0, 0, 0]), "the candidate g is 32, it should be x1 = 16"),
            (with_row("g", [1, 1, 0, 0]), "the candidate g is 17, it should be x1 = 16"),
            (with_row("i", [0, 1, 0, -0.5]), "the input gate is 0.622 before rounding"),
            (lambda: np.array(ROWS, dtype=float), "a dict with the keys w_ih, w_hh, b_ih and b_hh, got ndarray"),
            (lambda: {"w_ih": np.array(ROWS, dtype=float)}, "got one without w_hh, b_ih, b_hh"),
            (weights(w_hh=np.zeros(4)), "`weights['w_hh']` should have shape (4, 1), got (4,)"),
            (weights(b_ih=np.full(4, np.nan)), "`weights['b_ih']` holds NaN"),
            (drifting, "gave different results on two calls with the same input (weights['w_ih'] changed)"),
            (lambda: 1 / 0, "raised ZeroDivisionError"),
            (lambda: None, "returned None"),
            (counter_weights(), "Expected a function"),
        ],
        course=[counter.counter_weights, from_the_course_cell, edits_the_constant],
    ),
    Answers(
        check=check_count_to_seven,
        solution=count_to_seven,
        others=[in_torch, step_by_step],
        wrong=[
            (lambda inputs: counter.real_counter(inputs)["h"], "never leave [-1, 1]"),
            (scaled(0.01, decode=lambda h, scale: h), "same factor 0.01"),
            (scaled(0.01, decode=lambda h, scale: h / scale), "squashed by the last tanh"),
            (scaled(0.02, decode=lambda h, scale: h / scale), "squashed by the last tanh"),
            (scaled(0.01, decode=lambda h, scale: np.arctanh(h) / 0.02), "same factor 0.5"),
            (scaled(0.03), "Use a smaller scale"),
            (scaled(0.3), "Use a smaller scale"),
            (leaky, "time step 3 ('2'): expected 0, got 1. The output gate is closed there"),
            (empty_shows_one, "time step 8 ('?0'): expected 0, got 1. The memory is empty there"),
            (lambda inputs: np.array(counter.TEXTBOOK_OUTPUTS, dtype=float), "never ran an LSTM"),
            (lambda inputs: count_to_seven(inputs)[:-1], "Expected one output per step, shape (9,), got (8,)"),
            (lambda inputs: count_to_seven(inputs) * np.nan, "Your answer holds NaN at time step 1 ('1')"),
            (compounding, "time step 6 ('?1'): 6.996, then 0.07"),
            (scales_the_constant, "is read-only, so that no answer can change it"),
            (lambda inputs: 1 / 0, "raised ZeroDivisionError"),
            (lambda inputs: None, "returned None"),
            (counts_without_an_lstm, "never ran an LSTM"),
        ],
        course=[textbook_alias, functools.partial(lambda inputs, which: counter.textbook_counter(inputs)[which], which="h"), the_check_s_count],
    ),
]

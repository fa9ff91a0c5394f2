"""Checks for notebook 02, the hand-set counter.

What a counter should print is defined here, by what its program says (`count`), never read from the
package's weights: an answer that changes those cannot change what is expected.
"""

import inspect
from collections import namedtuple
from itertools import permutations

import numpy as np
import torch

from lstm_course import counter, numpy_lstm
from lstm_course.checks.judge import Mistake, call, check, expect_finite, expect_shape, in_case, numbers
from lstm_course.counter import COUNTER_PROGRAM, format_program, parse_program, textbook_counter
from lstm_course.numpy_lstm import sigmoid

# A program the notebook does not show, with every kind of token: store (+), forget (!), reveal (?), pass;
# numbers up to ±30.
WEIGHT_PROGRAM = ("+16 +25 ?17 +-30 ?-7 17 +15 +11 18 8 !25 !27 ?4 +15 +-28 8 +6 +21 +-29 ?28 -27 +2 -29 -20 +27 "
                  "?13 !7 +24 4 25 -15 +-8 +-24 -30 ?-17 +-23 !30 ?1 +18 -30 +4 !-7")
COUNT_PROGRAMS = (
    COUNTER_PROGRAM,  # the course's
    "+2 +5 ?0 ! +-3 ?0 ! ? +4 +4 +4 ?",  # a negative number, a bigger total, a reveal of 0
    "?4 ?-2 -1 +-5 !2 -3 !4 +3 1 +2 ?3 ?4",
    "!-4 +3 +1 ?2 -5 -2 -1 -1 +-3 ?4 !3 +-5",
)
SHARED = ("`{name}` gave different results on two calls with the same input ({where}). It changes something it shares "
          "between calls, such as a global weights dict scaled in place with `*=`, or draws random numbers (an "
          "nn.LSTM starts with random weights and biases: set them all). {fix}")


def count(inputs):
    """What a counter prints for inputs ``(seq, 4)``: the memory at every reveal, 0 elsewhere."""
    memory, outputs = 0.0, []
    for x1, x2, x3, _ in np.asarray(inputs, dtype=np.float64):
        memory = 0.0 if x2 == -1 else memory + (x1 if x2 == 1 else 0.0)  # x2 = 1 stores, -1 forgets
        outputs.append(memory if x3 == 1 else 0.0)  # x3 = 1 reveals
    return np.array(outputs)


def _token(inputs, t):
    """Step ``t`` in the learner's words: "time step 3 ('?')"."""
    return f"time step {t + 1} ({format_program(inputs[t:t + 1])!r})"


# ----------------------------------------------------------------------------- Exercise 1: the counter's weights

SHAPES = {"w_ih": (4, 4), "w_hh": (4, 1), "b_ih": (4,), "b_hh": (4,)}
WEIGHT_SHAPES = ("One hidden unit, four inputs: w_ih is (4 * hidden_size, input_size) = (4, 4), w_hh (4, 1), b_ih and "
                 "b_hh (4,), rows in the order i, f, g, o.")
GATE_TOLERANCE = 0.01  # the notebook's real LSTM does not round: its gates must be this close to 0 or 1


# What a gate does in the counter, in the learner's words (`doing`: its value while it does its job; see GATES).
_GateJob = namedtuple("_GateJob", "name job doing when working idle")


GATES = {
    "i": _GateJob("input gate", "store", 1, "x2 = 1", "open", "closed"),
    "o": _GateJob("output gate", "reveal", 1, "x3 = 1", "open", "closed"),
    "f": _GateJob("forget gate", "forget", 0, "x2 = -1", "closed (0 wipes the memory)", "open (1 keeps the memory)"),
}
INPUTS = parse_program(WEIGHT_PROGRAM)  # (seq, 4)
WANTED = {  # each gate's value at every step, rounded
    "i": (INPUTS[:, 1] == 1) * 1.0,
    "f": (INPUTS[:, 1] != -1) * 1.0,
    "g": INPUTS[:, 0],
    "o": (INPUTS[:, 2] == 1) * 1.0,
}


def _weights(answer):
    """The contract: a dict of four finite arrays of the shapes nn.LSTMCell(4, 1) holds; kept as float64 copies."""
    if not isinstance(answer, dict) or set(SHAPES) - set(answer):
        missing = ", ".join(key for key in SHAPES if key not in answer) if isinstance(answer, dict) else ""
        got = f"one without {missing}" if missing else type(answer).__name__
        raise Mistake(f"`counter_weights()` should return a dict with the keys w_ih, w_hh, b_ih and b_hh, got {got}.")
    weights = {key: numbers(f"`weights[{key!r}]`", answer[key], keep_float32=False).copy() for key in SHAPES}
    for key, shape in SHAPES.items():
        expect_shape(f"`weights[{key!r}]`", weights[key], shape, WEIGHT_SHAPES)
        expect_finite(f"`weights[{key!r}]`", weights[key])
    return weights


def _wrong_gate(weights):
    """The first gate whose rounded values are wrong, ``(gate, its values, the first wrong step)``, or None."""
    gates = textbook_counter(INPUTS, weights)
    for gate in "ifgo":
        wrong = ~np.isclose(gates[gate], WANTED[gate], rtol=0, atol=1e-9)
        if gate == "g":
            wrong &= WANTED["i"] == 1  # g only matters where it is stored
        if wrong.any():
            return gate, gates[gate], int(np.flatnonzero(wrong)[0])
    return None


def _layouts(weights):
    """(message, the weights laid out right) for each other layout of the rows: w_ih transposed, another gate order."""
    yield ("Your w_ih is transposed: its rows are the gates i, f, g, o, its columns x1, x2, x3, 1.",
           {**weights, "w_ih": weights["w_ih"].T})
    for order in permutations(range(4)):
        if order != (0, 1, 2, 3):
            gate_order = ", ".join("ifgo"[k] for k in np.argsort(order))
            yield (f"Your rows are in the gate order {gate_order}; PyTorch's order is i, f, g, o.",
                   {key: value[list(order)] for key, value in weights.items()})


def _gate_mistake(weights, gate, got, t):
    """In the counter's words: the layout of the rows, the number stored, or the job of the gate wrong at step ``t``."""
    layout = next((message for message, moved in _layouts(weights) if _wrong_gate(moved) is None), None)
    if layout:
        return layout
    where, wanted, row = _token(INPUTS, t), WANTED[gate][t], f"row {'ifgo'.index(gate)} of the weights"
    if gate == "g":
        return (f"Your counter stores the wrong number: at {where} the candidate g is {got[t]:.6g}, it should be "
                f"x1 = {wanted:g} itself ({row}).")
    job = GATES[gate]
    should = wanted == job.doing  # at step t the gate should do its job
    always = not np.any((WANTED[gate] == wanted) & (got == wanted))  # wrong wherever it should be `wanted`
    if always:
        head = f"never {job.job}s" if should else f"{job.job}s all the time"
    else:
        head = f"does not {job.job}" if should else f"{job.job}s without {job.when}"
    state = f"{job.idle} although {job.when}" if should else job.working
    return f"Your counter {head}: at {where} the {job.name} is {state} ({row}: the {job.name})."


def _loose_gate(weights):
    """What the first gate more than GATE_TOLERANCE from 0 or 1 before rounding says, else None."""
    h_before = np.concatenate([[0.0], textbook_counter(INPUTS, weights)["h"][:-1]])  # h_{t-1}: (seq,)
    z = INPUTS @ weights["w_ih"].T + h_before[:, None] @ weights["w_hh"].T + weights["b_ih"] + weights["b_hh"]
    gates = sigmoid(z[:, [0, 1, 3]])  # i, f, o: (seq, 3)
    loose = np.abs(gates - np.round(gates)) > GATE_TOLERANCE
    if not loose.any():
        return None
    t, column = (int(position) for position in np.argwhere(loose)[0])
    return (f"Rounded, your gates count right, but at {_token(INPUTS, t)} the {('input', 'forget', 'output')[column]} "
            f"gate is {gates[t, column]:.3g} before rounding. The notebook goes on to run these weights in a real "
            "LSTM, which does not round: make that row's weights larger, so that each gate is within "
            f"{GATE_TOLERANCE} of 0 or 1.")


def _reads_course_weights(function):
    """True when ``function`` reads `counter.COUNTER_W_IH`: the course's answer, read rather than called."""
    unwrapped = inspect.unwrap(getattr(function, "func", function))  # .func: a functools.partial
    code = getattr(unwrapped, "__code__", None)
    return "COUNTER_W_IH" in getattr(code, "co_names", ())


@check("The counter's weights", refuse=(counter.counter_weights, counter.counter_lstm_cell, counter.counter_lstm),
       instead="Write your own rows.")
def check_counter_weights(counter_weights):
    """``counter_weights() -> {"w_ih", "w_hh", "b_ih", "b_hh"}``: a counter, on a program it has not seen."""
    if _reads_course_weights(counter_weights):
        raise Mistake("Your `counter_weights` reads `counter.COUNTER_W_IH`: that is the course's own version of what "
                      "this exercise asks you to write, so the check cannot tell what you wrote. Write your own rows.")
    weights = _weights(call(counter_weights, signature="counter_weights()"))
    again = _weights(call(counter_weights, signature="counter_weights()"))
    changed = [key for key in SHAPES if not np.array_equal(weights[key], again[key])]
    if changed:
        where = f"weights[{changed[0]!r}] changed"
        raise Mistake(SHARED.format(name="counter_weights", where=where, fix="Build the arrays inside the function."))
    wrong = _wrong_gate(weights)
    message = _gate_mistake(weights, *wrong) if wrong else _loose_gate(weights)
    if message:
        raise Mistake(message)
    shown = " ".join(f"{value:g}" for value in textbook_counter(parse_program(COUNTER_PROGRAM), weights)["h"])
    return (f"Your weights store, forget and reveal on a program of {len(INPUTS)} steps you have not seen; the "
            f"course's program prints {shown}")


# ----------------------------------------------------------------------------- Exercise 2: make a real LSTM count to 7

COUNT_TOLERANCE = 0.05
# what runs a real LSTM (sigmoid gates, tanh): the course's counter, its NumPy LSTM, PyTorch's
REAL_LSTMS = (counter.real_counter, numpy_lstm.lstm_forward, numpy_lstm.lstm_cell, numpy_lstm.gate_values, torch.lstm,
              torch.lstm_cell)
NO_LSTM = ("`count_to_seven` never ran an LSTM: run the inputs through a real one with your weights, "
           "`counter.real_counter(inputs, weights)`, then decode its output.")


def _squashed_output(inputs, scale):
    """What a counter prints whose outputs are still squashed by the last tanh."""
    return np.tanh(scale * count(inputs)) / scale


def _squashed_input(inputs, scale):
    """What a counter prints that stores tanh(scale * x1) / scale for x1."""
    return count(np.column_stack([np.tanh(scale * inputs[:, 0]) / scale, inputs[:, 1:]]))


# (message, what an answer with that mistake prints at a scale): each falls short the more, the larger the count
FITS = (
    ("Your outputs are still squashed by the last tanh (h = o * tanh(c)): the larger the count, the more it falls "
     "short. Undo it with np.arctanh(h) before you divide by the scale.", _squashed_output),
    ("Each number you store falls short, the more the larger it is: tanh(scale * x1) is close to scale * x1 only "
     "while scale * x1 is small. Use a smaller scale.", _squashed_input),
)


def _outputs(count_to_seven, inputs):
    """The contract: one finite number per step."""
    read_only = ("The package's `counter.COUNTER_W_IH` is read-only, so that no answer can change it: start from "
                 "`counter.counter_weights()`, which returns copies you may change.")
    result = call(count_to_seven, inputs, signature="count_to_seven(inputs)", error_hints={"read-only": read_only},
                  require=(NO_LSTM, *REAL_LSTMS))
    got = numbers("Your answer", result, keep_float32=False)
    if got.shape != (len(inputs),):
        raise Mistake(f"Expected one output per step, shape {(len(inputs),)}, got {got.shape}.")
    expect_finite("Your answer", got, where=lambda index: f"at {_token(inputs, index[0])}")
    return got


def _fits(printed, inputs, got, revealed):
    """True when ``printed(inputs, scale)`` gives the revealed outputs ``got`` at some scale from 0.001 to 1."""
    misses = (np.abs(printed(inputs, scale)[revealed] - got[revealed]).max() for scale in np.geomspace(1e-3, 1, 400))
    return any(miss <= COUNT_TOLERANCE / 2 for miss in misses)


def _count_mistake(inputs, got, expected):
    """What the first output more than COUNT_TOLERANCE off says about the answer."""
    t = int(np.flatnonzero(np.abs(got - expected) > COUNT_TOLERANCE)[0])
    said = f"At {_token(inputs, t)}: expected {expected[t]:g}, got {got[t]:.4g}."
    if expected[t] == 0:
        why = "The memory is empty" if inputs[t, 2] == 1 else "The output gate is closed"
        return f"{said} {why} there, so the output should stay 0."
    revealed = expected != 0
    if len(np.unique(np.abs(expected[revealed]))) > 1:  # with one count revealed, any curve fits
        for message, printed in FITS:
            if _fits(printed, inputs, got, revealed):
                return f"{said} {message}"
    ratios = got[revealed] / expected[revealed]
    if np.ptp(ratios) < 0.02 * np.abs(ratios).mean() and abs(ratios.mean() - 1) > 0.05:
        return (f"{said} Every revealed value is off by the same factor {ratios.mean():.2g}: divide by the scale you "
                "multiplied in (after np.arctanh).")
    if np.abs(got).max() <= 1 < np.abs(expected).max():
        return (f"{said} Your outputs never leave [-1, 1]: h = o * tanh(c) cannot, and g = tanh(x1) saturates for "
                "x1 >= 3. Hint: scale x1 down in the g row of w_ih so tanh stays nearly linear, then decode h back "
                "(undo tanh, then the scale).")
    return (f"{said} Hint: a small scale (say 0.01) keeps tanh nearly linear; decode with np.arctanh, then divide by "
            "the scale. In an nn.LSTM, set every weight and bias: it starts with random ones.")


@check("Make a real LSTM count to 7", refuse=(counter.textbook_counter, count),
       instead="Run a real LSTM, then decode its output.")
def check_count_to_seven(count_to_seven):
    """``count_to_seven(inputs (seq, 4)) -> outputs (seq,)`` prints what the program counts, within COUNT_TOLERANCE."""
    for program in COUNT_PROGRAMS:
        inputs = parse_program(program)
        with in_case(f"The program {program!r}"):
            expected = count(inputs)
            got, again = _outputs(count_to_seven, inputs), _outputs(count_to_seven, inputs)
            if not np.allclose(got, again, rtol=0, atol=1e-9):  # an answer that scales a global dict in place drifts
                t = int(np.argmax(np.abs(got - again)))
                where = f"{_token(inputs, t)}: {got[t]:.4g}, then {again[t]:.4g}"
                fix = "Build what you change inside the function: `counter.counter_weights()` returns fresh copies."
                raise Mistake(SHARED.format(name="count_to_seven", where=where, fix=fix))
            if np.abs(got - expected).max() > COUNT_TOLERANCE:
                raise Mistake(_count_mistake(inputs, got, expected))
            if program == COUNTER_PROGRAM:  # the course's program comes first
                shown = " ".join(f"{value:.2f}" for value in got)
    return f"Your real LSTM counts: {shown}"

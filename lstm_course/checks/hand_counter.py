"""Checks for notebook 02, the hand-set counter.

What a counter should print is defined here, by what its program says (`count`), never read
from the package's weights: an answer that changes those cannot change what is expected.
"""

import itertools

import numpy as np

from lstm_course.checks._core import Mistake, as_array, call, check, sentence
from lstm_course.counter import COUNTER_PROGRAM, format_program, parse_program, textbook_counter
from lstm_course.numpy_lstm import sigmoid

READ_ONLY_HINT = (
    "The package's `counter.COUNTER_W_IH` is read-only, so that no answer can change it for the cells "
    "and checks that use it: start from `counter.counter_weights()`, which returns copies you may change."
)


def count(inputs):
    """What a counter prints for inputs ``(seq, 4)``: the memory at every reveal, 0 elsewhere.

    ``x2 = 1`` adds ``x1`` to the memory, ``x2 = -1`` empties it, ``x3 = 1`` shows it.
    """
    memory, outputs = 0.0, []
    for x1, x2, x3, _ in np.asarray(inputs, dtype=np.float64):
        memory = 0.0 if x2 == -1 else memory + (x1 if x2 == 1 else 0.0)
        outputs.append(memory if x3 == 1 else 0.0)
    return np.array(outputs)


def random_program(rng, length, largest, most_stores=None):
    """A program of ``length`` tokens with every kind in it: store, forget, reveal, pass.

    Numbers are nonzero integers up to ``largest``; ``most_stores`` caps the stores between two forgets.
    """
    kinds = list(rng.choice(["+", "!", "?", ""], size=length, p=[0.35, 0.15, 0.3, 0.2]))
    for kind, place in zip(["+", "!", "?", ""], rng.choice(length, size=4, replace=False)):
        kinds[place] = kind
    tokens, stores = [], 0
    for kind in kinds:
        stores = 0 if kind == "!" else stores + (kind == "+")
        if most_stores is not None and stores > most_stores:
            kind, stores = "", most_stores
        number = int(rng.integers(1, largest + 1)) * int(rng.choice([-1, 1]))
        tokens.append(f"{kind}{number}")
    return " ".join(tokens)


def _call(function, *args):
    """`call`, with a hint when the answer tried to write into a read-only package constant."""
    try:
        return call(function, *args)
    except Mistake as mistake:
        if "read-only" in str(mistake) or "WRITEABLE" in str(mistake):
            raise Mistake(f"{sentence(str(mistake))} {READ_ONLY_HINT}") from None
        raise


def _shared_state(name, where):
    """A Mistake for an answer whose second call on the same input differs from its first."""
    return Mistake(
        f"`{name}` gave different results on two calls with the same input ({where}). It changes "
        "something it shares between calls, such as a global weights dict scaled in place with `*=`. "
        "Build what you change inside the function: `counter.counter_weights()` returns fresh copies."
    )


def _token(inputs, t):
    return f"time step {t + 1} ({format_program(inputs[t:t + 1])!r})"


# ---------------------------------------------------------------------------------------------
# Exercise 1: the counter's weights

WEIGHT_SHAPES = {"w_ih": (4, 4), "w_hh": (4, 1), "b_ih": (4,), "b_hh": (4,)}
WEIGHT_PROGRAMS = tuple(random_program(np.random.default_rng(seed), 14, largest=30) for seed in (11, 12, 13))
GATE_TOLERANCE = 0.01  # the notebook's real LSTM does not round: its gates must be this close to 0 or 1
_ROW_OF = {"i": "row 0 of w_ih: the input gate", "f": "row 1 of w_ih: the forget gate",
           "g": "row 2 of w_ih: the candidate g", "o": "row 3 of w_ih: the output gate"}
_GATE_NAMES = {"i": "input gate", "f": "forget gate", "o": "output gate"}


def wanted_gates(inputs):
    """The rounded gates ``{"i", "f", "g", "o"}`` (arrays ``(seq,)``) the counter needs at every step."""
    x1, x2, x3 = inputs[:, 0], inputs[:, 1], inputs[:, 2]
    return {"i": (x2 == 1) * 1.0, "f": (x2 != -1) * 1.0, "g": x1.copy(), "o": (x3 == 1) * 1.0}


def _weights_from(answer):
    if not isinstance(answer, dict):
        raise Mistake(f"`counter_weights()` should return a dict with the keys w_ih, w_hh, b_ih, b_hh, got {type(answer).__name__}.")
    missing = [key for key in WEIGHT_SHAPES if key not in answer]
    if missing:
        raise Mistake(f"The dict `counter_weights()` returns has no {', '.join(missing)}: it needs w_ih, w_hh, b_ih and b_hh.")
    weights = {key: as_array(f"weights[{key!r}]", answer[key]).copy() for key in WEIGHT_SHAPES}  # copies: kept as returned
    for key, shape in WEIGHT_SHAPES.items():
        if weights[key].shape != shape:
            raise Mistake(
                f"weights[{key!r}] should have shape {shape}, got {weights[key].shape}. One hidden unit, four inputs: "
                "w_ih is (4 * hidden_size, input_size) = (4, 4), w_hh (4, 1), b_ih and b_hh (4,), rows in the order i, f, g, o."
            )
    return weights


def _gates_behave(weights, programs):
    """The first ``(gate, program inputs, wrong steps)`` whose rounded values are wrong, else None."""
    for gate in "ifgo":
        for program in programs:
            inputs = parse_program(program)
            got, wanted = textbook_counter(inputs, weights)[gate], wanted_gates(inputs)[gate]
            stores = wanted_gates(inputs)["i"] == 1
            wrong = ~np.isclose(got, wanted, rtol=0, atol=1e-9) & (stores if gate == "g" else True)
            if wrong.any():
                return gate, inputs, wrong
    return None


def _all_wrong(gate, wanted_value, weights, programs):
    """True when ``gate`` is wrong at every step, over all programs, where it should be ``wanted_value``."""
    for program in programs:
        inputs = parse_program(program)
        got, wanted = textbook_counter(inputs, weights)[gate], wanted_gates(inputs)[gate]
        if np.any((wanted == wanted_value) & (got == wanted_value)):
            return False
    return True


_BEHAVIOUR = {  # (gate, the value it should have had): (said when wrong at every such step, said when wrong at some)
    ("i", 1): ("never stores: the input gate stays closed when x2 = 1, e.g. at {where}",
               "does not store at {where}: the input gate is closed there although x2 = 1"),
    ("i", 0): ("stores all the time: the input gate is open at every step, also without x2 = 1, e.g. at {where}",
               "stores without x2 = 1: at {where} the input gate is open, so x1 is added to the memory"),
    ("f", 0): ("never forgets: the forget gate stays open (1 keeps the memory) when x2 = -1, e.g. at {where}",
               "does not forget at {where}: the forget gate stays open (1 keeps the memory) although x2 = -1"),
    ("f", 1): ("forgets all the time: the forget gate is closed (0 wipes the memory) at every step, also without x2 = -1, e.g. at {where}",
               "forgets without x2 = -1: at {where} the forget gate is closed (0 wipes the memory)"),
    ("o", 1): ("never reveals: the output gate stays closed when x3 = 1, e.g. at {where}",
               "does not reveal at {where}: the output gate is closed there although x3 = 1"),
    ("o", 0): ("reveals all the time: the output gate is open at every step, also without x3 = 1, e.g. at {where}",
               "reveals without x3 = 1: at {where} the output gate is open"),
}


def _gate_mistake(gate, inputs, wrong, weights, programs):
    t = int(np.flatnonzero(wrong)[0])
    where = _token(inputs, t)
    wanted = wanted_gates(inputs)[gate][t]
    if gate == "g":
        got = textbook_counter(inputs, weights)["g"][t]
        return (f"Your counter stores the wrong number: at {where} the candidate g is {got:g}, "
                f"it should be x1 = {wanted:g} itself ({_ROW_OF['g']}).")
    always, once = _BEHAVIOUR[(gate, wanted)]
    said = always if _all_wrong(gate, wanted, weights, programs) else once
    return f"Your counter {said.format(where=where)} ({_ROW_OF[gate]})."


def _layout_mistake(weights, programs):
    """What is wrong with the layout of the answer's rows, when a transpose or another gate order makes it work."""
    if _gates_behave({**weights, "w_ih": weights["w_ih"].T}, programs) is None:
        return "Your w_ih is transposed: its rows are the gates i, f, g, o, its columns the inputs x1, x2, x3, 1."
    for order in itertools.permutations(range(4)):
        moved = {key: value[list(order)] for key, value in weights.items()}  # moved row k = the answer's row order[k]
        if order != (0, 1, 2, 3) and _gates_behave(moved, programs) is None:
            held = ", ".join("ifgo"[k] for k in np.argsort(order))  # the gate each of the answer's rows holds
            return f"Your rows are in the gate order {held}; PyTorch's order, and the counter's, is i, f, g, o."
    return None


def _loose_gate(weights, programs):
    """The first gate value more than GATE_TOLERANCE from 0 or 1 before rounding, as a message, else None."""
    for program in programs:
        inputs = parse_program(program)
        h_before = np.concatenate([[0.0], textbook_counter(inputs, weights)["h"][:-1]])  # h_{t-1}: (seq,)
        z = inputs @ weights["w_ih"].T + h_before[:, None] @ weights["w_hh"].T + weights["b_ih"] + weights["b_hh"]
        for k, gate in ((0, "i"), (1, "f"), (3, "o")):
            gate_values = sigmoid(z[:, k])
            loose = np.abs(gate_values - np.round(gate_values)) > GATE_TOLERANCE
            if loose.any():
                t = int(np.flatnonzero(loose)[0])
                return (
                    f"Rounded, your gates count right, but at {_token(inputs, t)} the {_GATE_NAMES[gate]} "
                    f"is {gate_values[t]:.3g} before rounding. The notebook goes on to run these weights in a real LSTM, "
                    f"which does not round: make that row's weights larger, so that each gate is within {GATE_TOLERANCE} of 0 or 1."
                )
    return None


@check("The counter's weights")
def check_counter_weights(counter_weights):
    """``counter_weights() -> {"w_ih" (4, 4), "w_hh" (4, 1), "b_ih" (4,), "b_hh" (4,)}`` must count on new programs."""
    weights = _weights_from(_call(counter_weights))
    again = _weights_from(_call(counter_weights))
    changed = [key for key in WEIGHT_SHAPES if not np.array_equal(weights[key], again[key], equal_nan=True)]
    if changed:
        raise _shared_state("counter_weights", f"weights[{changed[0]!r}] changed")
    wrong = _gates_behave(weights, WEIGHT_PROGRAMS)
    if wrong is not None:
        raise Mistake(_layout_mistake(weights, WEIGHT_PROGRAMS) or _gate_mistake(*wrong, weights, WEIGHT_PROGRAMS))
    for program in WEIGHT_PROGRAMS:
        inputs = parse_program(program)
        got, expected = textbook_counter(inputs, weights)["h"], count(inputs)
        if not np.allclose(got, expected, rtol=0, atol=1e-9):
            t = int(np.flatnonzero(~np.isclose(got, expected, rtol=0, atol=1e-9))[0])
            raise Mistake(f"at {_token(inputs, t)} the counter prints {got[t]:g}, expected {expected[t]:g}.")
    loose = _loose_gate(weights, WEIGHT_PROGRAMS)
    if loose:
        raise Mistake(loose)
    shown = " ".join(f"{v:g}" for v in textbook_counter(parse_program(COUNTER_PROGRAM), weights)["h"])
    return f"Your weights store, forget and reveal on {len(WEIGHT_PROGRAMS)} programs you have not seen; the course's program prints {shown}"


# ---------------------------------------------------------------------------------------------
# Exercise 2: make a real LSTM count to 7

# The course's program, one with a negative number, a bigger total and a reveal of nothing, then new ones.
COUNT_PROGRAMS = (
    COUNTER_PROGRAM,
    "+2 +5 ?0 ! +-3 ?0 ! ? +4 +4 +4 ?",
    *(random_program(np.random.default_rng(seed), 12, largest=5, most_stores=3) for seed in (21, 22)),
)
COUNT_TOLERANCE = 0.05


SCALES = np.geomspace(1e-3, 1.0, 400)  # the scales a diagnosis tries


def _fits(model, got, revealed):
    """True when ``model(scale)`` (an array ``(seq,)``) matches ``got`` at the reveals for some scale."""
    return any(np.abs(model(scale)[revealed] - got[revealed]).max() <= COUNT_TOLERANCE / 2 for scale in SCALES)


def _undecoded(inputs, got, expected):
    """True when ``got`` is tanh(scale * count) / scale: the last tanh was not undone."""
    return _fits(lambda scale: np.tanh(scale * expected) / scale, got, expected != 0)


def _saturated(inputs, got, expected):
    """True when ``got`` counts tanh(scale * x1) / scale in place of x1: the scale is too large for tanh to stay linear."""
    return _fits(lambda scale: count(np.column_stack([np.tanh(scale * inputs[:, 0]) / scale, inputs[:, 1:]])), got, expected != 0)


def _diagnose_count(inputs, got, expected):
    if np.abs(got).max() <= 1 < np.abs(expected).max():
        raise Mistake(
            "Your outputs never leave [-1, 1]: h = o * tanh(c) cannot, and g = tanh(x1) saturates "
            "for x1 >= 3. Hint: scale x1 down in the g row of w_ih so tanh stays nearly linear, "
            "then decode h back (undo tanh, then the scale)."
        )
    t = int(np.flatnonzero(np.abs(got - expected) > COUNT_TOLERANCE)[0])
    message = f"At {_token(inputs, t)}: expected {expected[t]:g}, got {got[t]:.4g}."
    revealed = expected != 0
    if expected[t] == 0:
        raise Mistake(f"{message} The output gate is closed there, so the output should stay 0.")
    if len(np.unique(np.abs(expected[revealed]))) > 1:  # with one count revealed, any curve fits
        if _undecoded(inputs, got, expected):
            raise Mistake(
                f"{message} Your outputs are still squashed by the last tanh (h = o * tanh(c)): the larger the count, "
                "the more it falls short. Undo it with np.arctanh(h) before you divide by the scale."
            )
        if _saturated(inputs, got, expected):
            raise Mistake(
                f"{message} Each number you store falls short, the more the larger it is: tanh(scale * x1) is close to "
                "scale * x1 only while scale * x1 is small. Use a smaller scale."
            )
    ratios = got[revealed] / expected[revealed]
    if np.ptp(ratios) < 0.02 * np.abs(ratios).mean() and abs(ratios.mean() - 1) > 0.05:
        raise Mistake(f"{message} Every revealed value is off by the same factor {ratios.mean():.2g}: divide by the scale you multiplied in.")
    raise Mistake(f"{message} Hint: a small scale (say 0.01) keeps tanh nearly linear; decode with arctanh, then divide by the scale.")


def _count_outputs(count_to_seven, program):
    inputs = parse_program(program)
    got = as_array("the outputs", _call(count_to_seven, inputs))
    if got.shape != (len(inputs),):
        raise Mistake(f"for the program {program!r} ({len(inputs)} steps) expected one output per step, shape {(len(inputs),)}, got {got.shape}")
    return inputs, got


@check("Make a real LSTM count to 7")
def check_count_to_seven(count_to_seven):
    """``count_to_seven(inputs (seq, 4)) -> outputs (seq,)`` must print what the program counts."""
    inputs, first = _count_outputs(count_to_seven, COUNT_PROGRAMS[0])
    _, again = _count_outputs(count_to_seven, COUNT_PROGRAMS[0])
    if not np.allclose(first, again, rtol=0, atol=1e-9, equal_nan=True):
        t = int(np.nanargmax(np.abs(first - again)))  # where the two calls differ most
        raise _shared_state("count_to_seven", f"{_token(inputs, t)}: {first[t]:.4g}, then {again[t]:.4g}")
    for program in COUNT_PROGRAMS:
        inputs, got = _count_outputs(count_to_seven, program)
        expected = count(inputs)
        if not np.abs(got - expected).max() <= COUNT_TOLERANCE:
            _diagnose_count(inputs, got, expected)
    counted = " ".join(f"{v:.2f}" for v in first)
    return f"Your real LSTM counts: {counted}"

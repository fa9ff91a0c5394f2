"""Checks for notebook 00: the worked example ``gate_mix``, the warm-up ``cell_update`` and ``cell_states``."""

import numpy as np

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close, sentence, with_hint

ATOL = 1e-6


def _read_only(array):
    array.flags.writeable = False  # a check's own data: an answer cannot change it
    return array


# (batch = 2, hidden_size = 3). Gates lie in [0, 1], the candidate g in (-1, 1) as tanh gives it;
# the gates include 0 and 1, so "keep everything" and "replace everything" are both tested.
C_PREV = _read_only(np.array([[2.0, -1.0, 0.5], [4.0, 0.0, -3.0]]))
GATE_F = _read_only(np.array([[1.0, 0.0, 0.9], [0.2, 0.5, 0.7]]))
GATE_I = _read_only(np.array([[0.0, 1.0, 0.3], [0.6, 0.1, 0.8]]))
CANDIDATE_G = _read_only(np.array([[0.5, -0.8, 0.9], [-0.3, 0.7, 0.2]]))

ELEMENTWISE_HINT = "Gates act element by element: use `*`, not `@` or `np.dot`."


def _call(function, *arguments, signature="", shape_hint=""):
    """Call the learner's function; a matrix product where gates act elementwise gets a hint."""
    try:
        return call(function, *arguments)
    except Mistake as mistake:
        if "matmul" in str(mistake) or "not aligned" in str(mistake):  # the learner's @ or np.dot
            raise Mistake(f"{sentence(str(mistake))} {ELEMENTWISE_HINT}") from None
        raise Mistake(with_hint(mistake, signature, shape_hint)) from None


def _answer(name, value):
    """The learner's result as an array; + 0.0 turns -0.0 into 0.0, so a message never says "got -0"."""
    return as_array(name, value, keep_float32=True) + np.float32(0.0)


def _close(got, value):
    """True when ``expect_close`` accepts ``got`` as ``value`` (a float32 answer at float32 tolerance)."""
    try:
        expect_close("", got, value, ATOL)
    except Mistake:
        return False
    return True


def _diagnose(name, got, expected, wrong_answers, hint, where):
    """Fail with the diagnosis of the first known wrong answer that ``got`` equals, else a plain one."""
    for formula, diagnosis in wrong_answers:
        if _close(got, formula):
            expect_close(name, got, expected, ATOL, hint=diagnosis, where=where)
    expect_close(name, got, expected, ATOL, hint=hint, where=where)


def _where(**arrays):
    """Name an element for the learner: its place and the inputs there."""

    def where(index):
        inputs = ", ".join(f"{name} = {value[index]:g}" for name, value in arrays.items())
        return f"at batch {index[0]}, unit {index[1]} ({inputs})"

    return where


# ---------------------------------------------------------------------------------------------
# The worked example: one gate blends the old memory with a new value.

OLD, NEW, KEEP = C_PREV, CANDIDATE_G, GATE_F


@check("Example: gate_mix")
def check_gate_mix(gate_mix):
    """``gate_mix(old, new, keep)`` must return ``keep * old + (1 - keep) * new``."""
    old, new, keep = OLD, NEW, KEEP
    got = _answer("The result", _call(gate_mix, old, new, keep, signature="gate_mix(old, new, keep)"))
    wrong_answers = [
        (keep * new + (1 - keep) * old, "The weights are swapped: keep multiplies old (the memory kept), 1 - keep multiplies new."),
        (keep * old + new, "new goes in at full strength: multiply it by 1 - keep, so that the two weights add up to 1."),
        (keep * (old + new), "new is weighted by keep too: its weight is 1 - keep."),
        (keep * old, "new is missing: add (1 - keep) * new."),
        ((1 - keep) * new, "old is missing: add keep * old."),
        ((old + new) / 2, "The result does not depend on keep: weigh old by keep and new by 1 - keep."),
        (old + new, "The result does not depend on keep: weigh old by keep and new by 1 - keep."),
    ]
    expected = keep * old + (1 - keep) * new
    hint = "Hint: keep * old + (1 - keep) * new, element by element."
    _diagnose("The result", got, expected, wrong_answers, hint, _where(old=old, new=new, keep=keep))
    return "keep = 1 keeps old, keep = 0 takes new, and keep = 0.7 keeps 70% of old and takes 30% of new."


# ---------------------------------------------------------------------------------------------
# Exercise 1 (optional, the warm-up): the cell state update of one step.


def update(c, f, i, g):
    """The cell state update, c_t = f * c_prev + i * g: what both exercises are checked against."""
    return f * c + i * g


# (a wrong cell state update, what the learner did), most telling first; shared by both exercises.
UPDATE_MISTAKES = (
    (lambda c, f, i, g: i * c + f * g, "f and i are swapped: the forget gate f scales the old memory c_prev, the input gate i scales the candidate g."),
    (lambda c, f, i, g: f * c + (1 - f) * g, "You used 1 - f where the input gate i belongs: an LSTM has two separate gates, f for c_prev and i for g."),
    (lambda c, f, i, g: np.tanh(f * c + i * g), "No tanh here: c_t is not squashed. tanh comes later, in h_t = o_t * tanh(c_t)."),
    (lambda c, f, i, g: i * g, "The old memory is missing: add f * c_prev."),
    (lambda c, f, i, g: f * c, "The new information is missing: add i * g."),
    (lambda c, f, i, g: f * c + g, "The candidate g goes in unscaled: multiply it by the input gate i."),
    (lambda c, f, i, g: c + i * g, "The old memory goes in unscaled: multiply c_prev by the forget gate f."),
    (lambda c, f, i, g: f * c * i * g, "The two parts are multiplied: add them."),
)
UPDATE_SIGNATURE = "cell_update(c_prev, f, i, g)"


@check("Exercise 1: cell_update")
def check_cell_update(cell_update):
    """``cell_update(c_prev, f, i, g)`` must return the new cell state ``f * c_prev + i * g``."""
    c, f, i, g = C_PREV, GATE_F, GATE_I, CANDIDATE_G
    got = _answer("c_t", _call(cell_update, c, f, i, g, signature=UPDATE_SIGNATURE))
    wrong_answers = [(wrong(c, f, i, g), diagnosis) for wrong, diagnosis in UPDATE_MISTAKES]
    hint = "Hint: c_t = f * c_prev + i * g, element by element."
    _diagnose("c_t", got, update(c, f, i, g), wrong_answers, hint, _where(c_prev=c, f=f, i=i, g=g))
    c, f, i, g = sequence_case(batch=3, seq=1, hidden_size=4, seed=99).values()  # another size
    f, i, g = f[:, 0], i[:, 0], g[:, 0]
    got = _answer("c_t", _call(cell_update, c, f, i, g, signature=UPDATE_SIGNATURE))
    expect_close("c_t", got, update(c, f, i, g), ATOL, hint=hint, where=_where(c_prev=c, f=f, i=i, g=g))
    return (
        "c_t = f * c_prev + i * g. Where f = 1 and i = 0 the memory is kept as it was; "
        "where f = 0 and i = 1 it is replaced by g. The next exercise runs it over a sequence."
    )


# ---------------------------------------------------------------------------------------------
# Exercise 2 (core): the cell state carried over a whole sequence.

SEQUENCE_CASES = ((2, 5, 3), (3, 7, 4), (1, 1, 2))  # (batch, seq, hidden_size): none of them in the notebook
SEQUENCE_SIGNATURE = "cell_states(c_0, f, i, g)"
SEQUENCE_SHAPE_HINT = (
    "Shapes: c_0 (batch, hidden_size); f, i, g (batch, seq, hidden_size), so f[:, t] is step t's forget gate, "
    "(batch, hidden_size); f.shape[1] is the number of steps."
)


def sequence_case(batch, seq, hidden_size, seed):
    """Random arguments for ``cell_states``: gates in (0, 1), the candidate in (-1, 1)."""
    rng = np.random.default_rng(seed)
    gates = {name: rng.uniform(0.0, 1.0, size=(batch, seq, hidden_size)) for name in ("f", "i")}
    return {"c_0": rng.normal(size=(batch, hidden_size)), **gates, "g": rng.uniform(-1.0, 1.0, size=(batch, seq, hidden_size))}


def states_over_time(c_0, f, i, g, step=update, carry=True, start_with_c_0=False):
    """c_1, ..., c_seq stacked ``(batch, seq, hidden_size)``, with the learner's typical mistakes switched on by the keywords."""
    c, states = c_0, []
    for t in range(f.shape[1]):
        new = step(c if carry else c_0, f[:, t], i[:, t], g[:, t])
        states.append(c if start_with_c_0 else new)
        c = new
    return np.stack(states, axis=1)


SEQUENCE_MISTAKES = (
    ({"carry": False}, "Every step starts from c_0. Carry the memory: step t starts from the c that step t - 1 computed."),
    ({"start_with_c_0": True}, "Your states are one step late: the first one is c_0, the state before any step. Store c after each update, c_1 first."),
    *(({"step": wrong}, f"In each step: {diagnosis}") for wrong, diagnosis in UPDATE_MISTAKES),
)


def _where_in_sequence(index):
    return f"at batch {index[0]}, step t = {index[1] + 1}, unit {index[2]}"


def _sequence_shape_mistake(got, expected):
    batch, seq, hidden_size = expected.shape
    if got.shape == (batch, hidden_size):
        return "You return one state; return them all, c_1 to c_seq, stacked along axis 1 (np.stack(states, axis=1))."
    if got.shape == (seq, batch, hidden_size):
        return "Your states are stacked along axis 0; the steps go along axis 1: np.stack(states, axis=1)."
    if got.shape == (batch, batch, hidden_size):
        return "You made one step for each sample of the batch: the steps are f.shape[1], not f.shape[0]."
    if got.shape == (batch, seq + 1, hidden_size):
        return "You return seq + 1 states: leave out c_0, return c_1 to c_seq."
    return SEQUENCE_SHAPE_HINT


@check("Exercise 2: cell_states")
def check_cell_states(cell_states):
    """``cell_states(c_0, f, i, g)`` must return c_1 ... c_seq, ``(batch, seq, hidden_size)``."""
    cases = [sequence_case(*sizes, seed=seed) for seed, sizes in enumerate(SEQUENCE_CASES, start=1)]
    answers = [
        _answer("the states", _call(cell_states, *args.values(), signature=SEQUENCE_SIGNATURE, shape_hint=SEQUENCE_SHAPE_HINT))
        for args in cases
    ]
    for number, (args, got) in enumerate(zip(cases, answers), start=1):
        expected = states_over_time(**args)
        what = f"Case {number} (batch={expected.shape[0]}, seq={expected.shape[1]}, hidden_size={expected.shape[2]})"
        if got.shape != expected.shape:
            raise Mistake(f"{what}: the states should have shape (batch, seq, hidden_size) = {expected.shape}, got {got.shape}. {_sequence_shape_mistake(got, expected)}")
        if _close(got, expected):
            continue
        if _close(got, np.broadcast_to(expected[:, -1:], expected.shape)):
            diagnosis = (
                "Every step holds the same numbers, the last state: you appended one array and then changed it in place "
                "(c *= f or c += ...). Make a new array each step: c = f[:, t] * c + i[:, t] * g[:, t]."
            )
        else:
            diagnosis = next(
                (text for keywords, text in SEQUENCE_MISTAKES if _close(got, states_over_time(**args, **keywords))),
                "Hint: at each step t, c = f[:, t] * c + i[:, t] * g[:, t], starting from c = c_0; return the states of all steps.",
            )
        try:
            expect_close("the states", got, expected, ATOL, hint=diagnosis, where=_where_in_sequence)
        except Mistake as mistake:
            raise Mistake(f"{what}: {mistake}") from None
    longest = max(seq for _, seq, _ in SEQUENCE_CASES)
    return (
        f"Your cell_states is right on {len(cases)} sequences the notebook does not show, up to {longest} steps. "
        "Each step multiplies the old memory by f: where f stays near 1 and i near 0, c_0 survives the whole sequence."
    )

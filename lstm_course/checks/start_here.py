"""Checks for notebook 00: the worked example ``gate_mix`` and the warm-up ``cell_update``."""

import numpy as np

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close, sentence

ATOL = 1e-6

# (batch = 2, hidden_size = 3). Gates lie in [0, 1], the candidate g in (-1, 1) as tanh gives it;
# the gates include 0 and 1, so "keep everything" and "replace everything" are both tested.
C_PREV = np.array([[2.0, -1.0, 0.5], [4.0, 0.0, -3.0]])
GATE_F = np.array([[1.0, 0.0, 0.9], [0.2, 0.5, 0.7]])
GATE_I = np.array([[0.0, 1.0, 0.3], [0.6, 0.1, 0.8]])
CANDIDATE_G = np.array([[0.5, -0.8, 0.9], [-0.3, 0.7, 0.2]])

ELEMENTWISE_HINT = "Gates act element by element: use `*`, not `@` or `np.dot`."


def _call(function, **arguments):
    """Call the learner's function; a matrix product where gates act elementwise gets a hint."""
    try:
        return call(function, *arguments.values())
    except Mistake as mistake:
        if "matmul" in str(mistake) or "not aligned" in str(mistake):  # the learner's @ or np.dot
            raise Mistake(f"{sentence(str(mistake))} {ELEMENTWISE_HINT}") from None
        raise


def _diagnose(name, got, expected, wrong_answers, hint, where):
    """Fail with the diagnosis of the first known wrong answer that ``got`` equals, else a plain one."""
    got = as_array(name, got) + 0.0  # + 0.0 turns -0.0 into 0.0, so a message never says "got -0"
    for formula, diagnosis in wrong_answers:
        if got.shape == expected.shape and np.allclose(got, formula, atol=ATOL, rtol=0):
            expect_close(name, got, expected, ATOL, hint=diagnosis, where=where)
    expect_close(name, got, expected, ATOL, hint=hint, where=where)


def _where(**arrays):
    """Name an element for the learner: its place and the inputs there."""

    def where(index):
        inputs = ", ".join(f"{name} = {value[index]:g}" for name, value in arrays.items())
        return f"at batch {index[0]}, unit {index[1]} ({inputs})"

    return where


# The worked example: one gate blends the old memory with a new value.
OLD, NEW, KEEP = C_PREV, CANDIDATE_G, GATE_F


@check("Example: gate_mix")
def check_gate_mix(gate_mix):
    """``gate_mix(old, new, keep)`` must return ``keep * old + (1 - keep) * new``."""
    old, new, keep = OLD, NEW, KEEP
    got = _call(gate_mix, old=old, new=new, keep=keep)
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


@check("Warm-up: cell_update")
def check_cell_update(cell_update):
    """``cell_update(c_prev, f, i, g)`` must return the new cell state ``f * c_prev + i * g``."""
    c, f, i, g = C_PREV, GATE_F, GATE_I, CANDIDATE_G
    got = _call(cell_update, c_prev=c, f=f, i=i, g=g)
    wrong_answers = [
        (i * c + f * g, "f and i are swapped: the forget gate f scales the old memory c_prev, the input gate i scales the candidate g."),
        (f * c + (1 - f) * g, "You used 1 - f where the input gate i belongs: an LSTM has two separate gates, f for c_prev and i for g."),
        (np.tanh(f * c + i * g), "No tanh here: c_t is not squashed. tanh comes later, in h_t = o_t * tanh(c_t)."),
        (i * g, "The old memory is missing: add f * c_prev."),
        (f * c, "The new information is missing: add i * g."),
        (f * c + g, "The candidate g goes in unscaled: multiply it by the input gate i."),
        (c + i * g, "The old memory goes in unscaled: multiply c_prev by the forget gate f."),
        (f * c * i * g, "The two parts are multiplied: add them."),
    ]
    expected = f * c + i * g
    hint = "Hint: c_t = f * c_prev + i * g, element by element."
    _diagnose("c_t", got, expected, wrong_answers, hint, _where(c_prev=c, f=f, i=i, g=g))
    return (
        "c_t = f * c_prev + i * g. Where f = 1 and i = 0 the memory is kept as it was; "
        "where f = 0 and i = 1 it is replaced by g. Notebook 01 builds a whole time step around this line."
    )

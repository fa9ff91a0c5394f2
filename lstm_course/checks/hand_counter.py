"""Checks for notebook 02, the hand-set counter."""

import numpy as np

from lstm_course.checks._core import Mistake, as_array, call, check
from lstm_course.counter import COUNTER_PROGRAM, format_program, parse_program, textbook_counter

# The course's program, then one with a negative number, a bigger total and a reveal of nothing.
COUNT_PROGRAMS = (COUNTER_PROGRAM, "+2 +5 ?0 ! +-3 ?0 ! ? +4 +4 +4 ?")
COUNT_TOLERANCE = 0.05


def _diagnose_count(inputs, got, expected):
    tokens = format_program(inputs).split()
    if np.abs(got).max() <= 1 < np.abs(expected).max():
        raise Mistake(
            "your outputs never leave [-1, 1]: h = o * tanh(c) cannot, and g = tanh(x1) saturates "
            "for x1 >= 3. Hint: scale x1 down in the g row of w_ih so tanh stays nearly linear, "
            "then decode h back (undo tanh, then the scale)."
        )
    wrong = np.flatnonzero(np.abs(got - expected) > COUNT_TOLERANCE)
    t = wrong[0]
    message = f"time step {t + 1} ({tokens[t]!r}): expected {expected[t]:g}, got {got[t]:.4g}."
    revealed = expected != 0
    if expected[t] == 0 and not revealed[t]:
        raise Mistake(f"{message} The output gate is closed there, so the output should stay 0.")
    ratios = got[revealed] / expected[revealed]
    if revealed.any() and np.ptp(ratios) < 0.02 * np.abs(ratios).mean():
        raise Mistake(f"{message} Every revealed value is off by the same factor {ratios.mean():.2g}: divide by the scale you multiplied in.")
    raise Mistake(f"{message} Hint: a small scale (say 0.01) keeps tanh nearly linear; decode with arctanh, then divide by the scale.")


@check("Make a real LSTM count to 7")
def check_count_to_seven(count_to_seven):
    """``count_to_seven(inputs) -> outputs (seq,)`` must print the textbook counter's numbers."""
    for program in COUNT_PROGRAMS:
        inputs = parse_program(program)
        expected = textbook_counter(inputs)["h"]
        got = as_array("the outputs", call(count_to_seven, inputs.copy()))
        if got.shape != expected.shape:
            raise Mistake(f"for the program {program!r} ({len(inputs)} steps) expected one output per step, shape {expected.shape}, got {got.shape}")
        if np.abs(got - expected).max() > COUNT_TOLERANCE:
            _diagnose_count(inputs, got, expected)
    counted = " ".join(f"{v:.2f}" for v in call(count_to_seven, parse_program(COUNTER_PROGRAM)))
    return f"Your real LSTM counts: {counted}"

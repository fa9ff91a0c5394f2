"""What every exercise check shares: a result that says what is wrong, and how to say it."""

import functools
from dataclasses import dataclass

import numpy as np

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted yet"
_SYMBOLS = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⏳"}


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check. True only when the answer passed."""

    exercise: str
    status: str
    message: str

    def __bool__(self):
        return self.status == PASSED

    def __repr__(self):
        return f"{_SYMBOLS[self.status]} {self.exercise}: {self.status}. {self.message}"


class Mistake(Exception):
    """Raised inside a check to stop at the first thing that is wrong."""


def check(exercise):
    """Turn ``body(answer, ...) -> success message`` into a check that returns a CheckResult.

    The body raises Mistake with a diagnosis; an answer that raises NotImplementedError
    (the learner copy's stub) is "not attempted yet".
    """

    def decorate(body):
        @functools.wraps(body)
        def run(*args, **kwargs):
            try:
                message = body(*args, **kwargs)
            except NotImplementedError:
                return CheckResult(exercise, NOT_ATTEMPTED, "Replace `raise NotImplementedError()` with your answer, run that cell, then this one.")
            except Mistake as mistake:
                return CheckResult(exercise, FAILED, str(mistake))
            return CheckResult(exercise, PASSED, message)

        return run

    return decorate


def call(function, *args, **kwargs):
    """Call the learner's function; an error in it becomes a diagnosis, not a traceback."""
    if not callable(function):
        raise Mistake(f"expected a function, got {type(function).__name__}: pass the function itself, without ()")
    try:
        result = function(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's code, any error: report it, don't crash the check
        raise Mistake(f"`{function.__name__}` raised {type(error).__name__}: {error}") from None
    if result is None:
        raise Mistake(f"`{function.__name__}` returned None: did you forget `return`?")
    return result


def as_array(name, value):
    """The answer as a float array (tensors included), or a Mistake saying what came instead."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mistake(f"{name} should be numbers, got {type(value).__name__}: {value!r:.80}") from None


def expect_close(name, got, expected, atol=1e-6, hint="", where=None):
    """Compare arrays; on a mismatch say which shape or which element, expected versus got.

    ``where(index) -> str`` names an element for the learner, e.g. "time step 3, unit 0".
    """
    got, expected = as_array(name, got), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        raise Mistake(f"{name} should have shape {expected.shape}, got {got.shape}. {hint}".strip())
    wrong = ~np.isclose(got, expected, atol=atol, rtol=0)
    if wrong.any():
        index = tuple(int(k) for k in np.argwhere(wrong)[0])
        place = where(index) if where else (f"at index {index}" if index else "")
        raise Mistake(
            f"{name} {place}: expected {expected[index]:.6g}, got {got[index]:.6g} "
            f"({int(wrong.sum())} of {wrong.size} values differ). {hint}".replace("  ", " ").strip()
        )

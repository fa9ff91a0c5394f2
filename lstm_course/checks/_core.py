"""What every exercise check shares: a result that says what is wrong, and how to say it."""

import functools
import inspect
import linecache
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

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


GRADING_RUNS = ("autograde", "validate")  # what nbgrader puts in NBGRADER_EXECUTION for the kernel it starts


def grading():
    """True when nbgrader runs the notebook (``nbgrader autograde`` or ``validate``).

    nbgrader sets the environment variable ``NBGRADER_EXECUTION`` of the kernel it starts to
    "autograde" or "validate"; a learner's own kernel has no such variable.
    """
    return os.environ.get("NBGRADER_EXECUTION", "") in GRADING_RUNS


class _GradedPass(CheckResult):
    """A pass under nbgrader: printed, not returned as the cell's value, which nbgrader would try to read as points."""

    def _ipython_display_(self):
        print(repr(self))


class CheckFailed(AssertionError):
    """A check that did not pass, under nbgrader: it fails the test cell, with the check's diagnosis."""


class Mistake(Exception):
    """Raised inside a check to stop at the first thing that is wrong."""


def check(exercise):
    """Turn ``body(answer, ...) -> success message`` into a check that returns a CheckResult.

    The body raises Mistake with a diagnosis; an answer that raises NotImplementedError
    (the learner copy's stub) is "not attempted yet". Under nbgrader (``grading()``) a result
    that is not a pass is raised as CheckFailed, so the test cell scores 0 and the feedback
    shows the diagnosis, and a pass is printed; in a learner's own run the result is returned
    and shown as the cell's value.
    """

    def decorate(body):
        @functools.wraps(body)
        def run(*args, **kwargs):
            result = _verdict(exercise, body, args, kwargs)
            if grading():
                if not result:
                    raise CheckFailed(repr(result))
                return _GradedPass(result.exercise, result.status, result.message)
            return result

        return run

    return decorate


def sentence(text):
    """``text`` ending in one full stop, unless it already ends in ., ? or !."""
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def copy_of(value):
    """A copy of an argument, so that a learner's answer that writes into it cannot change the check's data."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, torch.Tensor):
        return value if value.requires_grad else value.clone()
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple takes its fields one by one
        return type(value)(*(copy_of(item) for item in value))
    if isinstance(value, (tuple, list)):
        return type(value)(copy_of(item) for item in value)
    if isinstance(value, dict):
        return {key: copy_of(item) for key, item in value.items()}
    return value


_SHAPE_WORDS = ("shape", "size", "mismatch", "broadcast", "align", "dimension", "mat1", "mat2", "operand")


def _shape_of(value):
    if hasattr(value, "shape"):
        return f"{type(value).__name__} of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)) and value and all(hasattr(item, "shape") for item in value):
        return "(" + ", ".join(str(tuple(item.shape)) for item in value) + ")"
    return None


def _argument_shapes(function, args, kwargs):
    """``"x: ndarray of shape (2, 3), w_ih: ..."`` for the array arguments, by the learner's own names."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs).arguments
    except (TypeError, ValueError):
        bound = {f"input {number}": value for number, value in enumerate(args, start=1)}
    shapes = [f"{name}: {shape}" for name, value in bound.items() if (shape := _shape_of(value))]
    return ", ".join(shapes)


def _failing_line(error):
    """The learner's line where ``error`` was raised: the deepest frame outside this package and the libraries."""
    package_dir = str(Path(__file__).resolve().parents[1])
    line = None
    for frame, number in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if filename.startswith(package_dir) or "site-packages" in filename or filename.startswith("<frozen"):
            continue
        text = linecache.getline(filename, number, frame.f_globals).strip()
        if text:
            line = text
    return line


def describe_error(function, error, args=(), kwargs=None):
    """What a learner's function raised, where, and, for a shape error, the shapes it was given."""
    message = f"`{_name(function)}` raised {type(error).__name__}: {sentence(str(error) or 'no message')}"
    line = _failing_line(error)
    if line:
        message += f" It happened in the line `{line}`."
    if any(word in str(error).lower() for word in _SHAPE_WORDS):
        shapes = _argument_shapes(function, args, kwargs or {})
        if shapes:
            message += f" It was called with {shapes}."
    return message


def with_hint(mistake, signature, shape_hint=""):
    """The message of a Mistake from `call`, with a hint when the error is about arguments or shapes."""
    message = sentence(str(mistake))
    if "positional argument" in message or "keyword argument" in message:
        return f"{message} Keep the signature `{signature}`."
    if shape_hint and any(word in message.lower() for word in _SHAPE_WORDS):
        return f"{message} {shape_hint}"
    return message


def _name(function):
    return getattr(function, "__name__", type(function).__name__)


def _same(before, after):
    if isinstance(before, torch.Tensor):
        return before.shape == after.shape and bool(torch.equal(before, after) or torch.allclose(before, after, equal_nan=True, rtol=0, atol=0))
    if isinstance(before, np.ndarray):
        return before.shape == after.shape and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
    if isinstance(before, (tuple, list)):
        return len(before) == len(after) and all(_same(b, a) for b, a in zip(before, after))
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
    return True


def _changed_in_place(function, originals, given):
    """The learner's name of the first argument the function wrote into, or None."""
    try:
        names = list(inspect.signature(function).bind(*given[0], **given[1]).arguments)
    except (TypeError, ValueError):
        names = [f"number {k}" for k in range(1, len(given[0]) + 1)] + list(given[1])
    values = list(zip(originals[0], given[0])) + [(originals[1][k], given[1][k]) for k in given[1]]
    for name, (before, after) in zip(names, values):
        if not _same(before, after):
            return name
    return None


def _verdict(exercise, body, args, kwargs):
    try:
        message = body(*args, **kwargs)
    except NotImplementedError:
        return CheckResult(exercise, NOT_ATTEMPTED, "Replace `raise NotImplementedError()` with your answer, run that cell, then this one.")
    except Mistake as mistake:
        return CheckResult(exercise, FAILED, str(mistake))
    return CheckResult(exercise, PASSED, message)


def call(function, *args, **kwargs):
    """Call the learner's function on copies of the arguments; an error in it becomes a diagnosis, not a traceback.

    An answer that writes into an argument (``c *= f``) is a Mistake: the caller still needs it.
    """
    if not callable(function):
        raise Mistake(f"expected a function, got {type(function).__name__}: pass the function itself, without ()")
    given = copy_of(args), copy_of(kwargs)
    try:
        result = function(*given[0], **given[1])
    except NotImplementedError:
        raise
    except Exception as error:  # the learner's code, any error: report it, don't crash the check
        raise Mistake(describe_error(function, error, *given)) from None
    changed = _changed_in_place(function, (args, kwargs), given)
    if changed is not None:
        raise Mistake(
            f"`{_name(function)}` changed its argument `{changed}` in place (with `*=`, `+=` or `[...] =`, for example). "
            f"The caller still needs the old `{changed}`: compute a new array instead (`a * b` leaves `a` as it was)."
        )
    if result is None:
        raise Mistake(f"`{_name(function)}` returned None: did you forget `return`?")
    return result


def as_array(name, value, keep_float32=False):
    """The answer as a float array (tensors included), or a Mistake saying what came instead.

    With ``keep_float32``, a float32 answer stays float32, so that ``expect_close`` judges it at float32 tolerance.
    """
    low_precision = keep_float32 and is_low_precision(value)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mistake(f"{name} should be numbers, got {type(value).__name__}: {value!r:.80}") from None
    return array.astype(np.float32) if low_precision else array


FLOAT32_ATOL, FLOAT32_RTOL = 1e-5, 1e-4  # what float32 arithmetic keeps of a float64 answer


def is_low_precision(value):
    """True for a float32 (or float16) array or tensor: its answer is judged at float32 tolerance."""
    dtype = getattr(value, "dtype", None)
    return dtype is not None and str(dtype).split(".")[-1] in ("float32", "float16", "bfloat16")


def expect_close(name, got, expected, atol=1e-6, hint="", where=None):
    """Compare arrays; on a mismatch say which shape or which element, expected versus got.

    ``where(index) -> str`` names an element for the learner, e.g. "time step 3, unit 0".
    A float32 answer is judged at float32 tolerance, and a failing one is told so.
    """
    low_precision = is_low_precision(got)
    got, expected = as_array(name, got), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        raise Mistake(f"{name} should have shape {expected.shape}, got {got.shape}. {hint}".strip())
    rtol = 0.0
    if low_precision:
        atol, rtol = max(atol, FLOAT32_ATOL), FLOAT32_RTOL
    wrong = ~np.isclose(got, expected, atol=atol, rtol=rtol)
    if wrong.any():
        index = tuple(int(k) for k in np.argwhere(wrong)[0])
        place = where(index) if where else (f"at index {index}" if index else "")
        precision = " (your answer is float32; it was compared at float32 tolerance)" if low_precision else ""
        raise Mistake(
            f"{name} {place}: expected {expected[index]:.6g}, got {got[index]:.6g} "
            f"({int(wrong.sum())} of {wrong.size} values differ){precision}. {hint}".replace("  ", " ").strip()
        )

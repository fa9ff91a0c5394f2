"""The one judge every exercise check uses.

A check is a declaration: its cases, its contract (what the answer returns), its known mistakes.
This module does the rest, alike for every exercise:

- the call (`call`): the learner's function gets copies of the arguments; writing into one is named;
  an error in it is reported with the learner's own failing line, and "keep the signature" only when
  the call itself did not fit the signature; the course's own implementation of what the exercise
  asks is refused (`refusing`);
- the contract (`tensor`, `array`, `numbers`, `integer`, `unpack`, `expect_shape`): the return type
  and shape the statement promises, NaN and inf named as such;
- the comparison (`same`, `expect_close`) at the precision the statement promises, an element named
  by its place (`element`);
- the known mistakes (`diagnose`): a message is given only when the answer equals what that mistake
  computes and that differs from the right answer;
- the gradient (`expect_gradient`, `expect_no_backward`) where the answer is part of a model;
- the verdict (`check`): "passed", "not attempted yet" or what is wrong; under nbgrader a verdict
  that is not a pass is raised, so the test cell scores 0 with the diagnosis as its feedback.

Tolerances. A float64 answer is compared at ``|got - expected| <= ATOL + RTOL * |expected|`` with
ATOL = 1e-9 and RTOL = 1e-6: a correct float64 answer differs from PyTorch by about 1e-15, and
PyTorch's own formulas (``clip_grad_norm_`` divides by ``total + 1e-6``) differ by less than 1e-6
relative. A float32 (or half) answer is compared at float32 tolerance, ATOL 1e-5 and RTOL 1e-4,
and told so when it fails.
"""

import contextlib
import contextvars
import functools
import inspect
import linecache
import numbers as _numbers
import os
import random
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted yet"
_SYMBOLS = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⏳"}
ATOL, RTOL = 1e-9, 1e-6
FLOAT32_ATOL, FLOAT32_RTOL = 1e-5, 1e-4


# ----------------------------------------------------------------------------- the verdict


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


GRADING_RUNS = ("autograde", "validate")  # what nbgrader puts in NBGRADER_EXECUTION of the kernel it starts


def grading():
    """True when nbgrader runs the notebook (``nbgrader autograde`` or ``validate``).

    nbgrader sets the environment variable ``NBGRADER_EXECUTION`` of the kernel it starts to
    "autograde" or "validate"; a learner's own kernel has no such variable.
    """
    return os.environ.get("NBGRADER_EXECUTION", "") in GRADING_RUNS


class _GradedPass(CheckResult):
    """A pass under nbgrader: printed, not returned as the cell's value (nbgrader would try to read it as points)."""

    def _ipython_display_(self):
        print(repr(self))


class CheckFailed(AssertionError):
    """A check that did not pass, under nbgrader: it fails the test cell, with the check's diagnosis."""


class Mistake(Exception):
    """Raised inside a check to stop at the first thing that is wrong."""


# (what the running check refuses, what to do instead)
_REFUSED = contextvars.ContextVar("refused", default=((), ""))


def check(exercise, refuse=(), instead="Write yours from the equations, with the operations the exercise names."):
    """Turn ``body(answer, ...) -> success message`` into a check that returns a CheckResult.

    ``refuse``: the course's own implementations of what the exercise asks (functions, classes,
    modules, builtins); an answer that calls one while `call` runs it fails (see `refusing`) with a
    message that ends in ``instead``, what to do instead.
    The body raises Mistake with a diagnosis; an answer that raises NotImplementedError (the learner
    copy's stub) is "not attempted yet". Under nbgrader a result that is not a pass is raised as
    CheckFailed, and a pass is printed; in a learner's own run the result is returned.
    """

    def decorate(body):
        @functools.wraps(body)
        def run(*args, **kwargs):
            token = _REFUSED.set((tuple(refuse), instead))
            try:
                result = _verdict(exercise, body, args, kwargs)
            finally:
                _REFUSED.reset(token)
            if grading():
                if not result:
                    raise CheckFailed(repr(result))
                return _GradedPass(result.exercise, result.status, result.message)
            return result

        run.refused = tuple(refuse)
        return run

    return decorate


def _verdict(exercise, body, args, kwargs):
    """Run the check's body: a pass, a Mistake's diagnosis, or the stub's "not attempted yet"."""
    try:
        message = body(*args, **kwargs)
    except NotImplementedError:
        stub = "Replace `raise NotImplementedError()` with your answer, run that cell, then this one."
        return CheckResult(exercise, NOT_ATTEMPTED, stub)
    except Mistake as mistake:
        return CheckResult(exercise, FAILED, sentence(str(mistake)))
    return CheckResult(exercise, PASSED, sentence(message))


def sentence(text):
    """``text`` starting with a capital and ending in one full stop (unless it ends in ., ? or !)."""
    text = " ".join(str(text).split())
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!", ".)")) else text + "."


@contextlib.contextmanager
def in_case(label):
    """Prefix the message of a Mistake raised inside with its case: ``"Case 2 (batch 1): ..."``."""
    try:
        yield
    except Mistake as mistake:
        raise Mistake(f"{label}: {sentence(str(mistake))}") from None


@contextlib.contextmanager
def own_random(seed):
    """Draw a case's numbers from ``seed``, leaving the learner's random state (torch, NumPy, random) as it was."""
    numpy_state, python_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)


# ----------------------------------------------------------------------------- the course's own code, refused


class _Refusal:
    """The code objects and builtins of the implementations an exercise asks the learner to write."""

    def __init__(self, refuse):
        self.codes, self.builtins = {}, {}
        for item in refuse:
            self._add(item, _dotted(item))

    def _add(self, item, name):
        if isinstance(item, types.ModuleType):
            for value in vars(item).values():
                if _defined_in(item, value):
                    self._add(value, _dotted(value))
        elif inspect.isclass(item):  # its own methods, not those it got elsewhere (a NamedTuple's from collections)
            for value in vars(item).values():
                if inspect.isfunction(value) and value.__module__ == item.__module__:
                    self.codes[value.__code__] = name
        elif isinstance(item, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            self.builtins[id(item)] = name
        else:
            while isinstance(item, functools.partial):
                item = item.func
            code = getattr(inspect.unwrap(getattr(item, "__func__", item)), "__code__", None)
            if code is not None:
                self.codes.setdefault(code, name)  # the first name given to a piece of code is the one told

    def watch(self, seen):
        codes, builtins = self.codes, self.builtins

        def profile(frame, event, arg):
            if event == "call":
                name = codes.get(frame.f_code)
            elif event == "c_call":
                name = builtins.get(id(arg))
            else:
                return
            if name is not None and name not in seen:
                seen.append(name)

        return profile


def _defined_in(module, value):
    """True for a function or class that ``module`` defines itself, not one it imports."""
    is_code = inspect.isfunction(value) or inspect.isclass(value)
    return is_code and getattr(value, "__module__", None) == module.__name__


_FRIENDLY = (  # (the start of a dotted name, what a learner knows it as)
    ("torch.nn.modules.rnn.", "nn."),
    ("torch._VariableFunctionsClass.", "torch."),
    ("torch.autograd.", "torch.autograd."),
)


@functools.lru_cache(maxsize=64)
def _refusal(refuse):
    return _Refusal(refuse)


def _dotted(item):
    """A name a learner recognises: ``nn.LSTM``, ``torch.lstm``, ``lstm_course.numpy_lstm.lstm_cell``."""
    if isinstance(item, types.ModuleType):
        return item.__name__
    while isinstance(item, functools.partial):
        item = item.func
    module = getattr(item, "__module__", None) or "torch"
    qualname = getattr(item, "__qualname__", getattr(item, "__name__", repr(item)))
    name = f"{module}.{qualname}"
    for prefix, short in _FRIENDLY:
        name = name.replace(prefix, short)
    return name


@contextlib.contextmanager
def refusing(refuse):
    """Watch for calls into ``refuse`` while the block runs; yields the list of the names called.

    Python code is recognised by its code object, so aliases, wrappers, ``functools.partial`` and
    imports under another name are all seen; builtins (``torch.lstm``) by identity. What is not seen:
    the same algorithm pasted in as source (it is the learner's own code then) and a call made in
    another thread.
    """
    seen = []
    if not refuse:
        yield seen
        return
    previous = sys.getprofile()
    sys.setprofile(_refusal(tuple(refuse)).watch(seen))
    try:
        yield seen
    finally:
        sys.setprofile(previous)


def _refused_message(function, names, instead):
    whose = "the course's own" if names[0].startswith("lstm_course") else "PyTorch's own"
    return (
        f"Your `{_name(function)}` calls `{names[0]}`: that is {whose} version of what this exercise asks you "
        f"to write, so the check cannot tell what you wrote. {instead}"
    )


# ----------------------------------------------------------------------------- the call


def _mapped(value, leaf):
    """``value`` with each array and tensor in it replaced by ``leaf(it)``, through tuples, NamedTuples, lists and dicts."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return leaf(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple takes its fields one by one
        return type(value)(*(_mapped(item, leaf) for item in value))
    if isinstance(value, (tuple, list)):
        return type(value)(_mapped(item, leaf) for item in value)
    if isinstance(value, dict):
        return {key: _mapped(item, leaf) for key, item in value.items()}
    return value


def copy_of(value):
    """A copy of an argument, so that an answer that writes into it cannot change the check's data.

    A tensor that requires grad is handed over as it is: autograd must reach it from the answer.
    """
    return _mapped(value, lambda a: a.copy() if isinstance(a, np.ndarray) else a if a.requires_grad else a.clone())


def _snapshot(value):
    """What an argument held before the call (tensors that require grad too), to see what the answer wrote into."""
    return _mapped(value, lambda a: a.copy() if isinstance(a, np.ndarray) else a.detach().clone())


_SHAPE_WORDS = ("shape", "size", "mismatch", "broadcast", "align", "dimension", "mat1", "mat2", "operand")


def _name(function):
    """The learner's name of a function (a callable object's class name)."""
    return getattr(function, "__name__", type(function).__name__)


def _shape_of(value):
    """``"ndarray of shape (2, 3)"``, ``"((2, 3), (3,))"`` for a sequence of arrays, or None."""
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
    shapes = ((name, _shape_of(value)) for name, value in bound.items())
    return ", ".join(f"{name}: {shape}" for name, shape in shapes if shape)


_PACKAGE = str(Path(__file__).resolve().parents[1])


def _learner_frames(error):
    """``(filename, line number, text)`` of the traceback's frames outside this package and the libraries."""
    frames = []
    for frame, number in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if filename.startswith(_PACKAGE) or "site-packages" in filename or filename.startswith("<frozen"):
            continue
        frames.append(linecache.getline(filename, number, frame.f_globals).strip())
    return [text for text in frames if text]


def describe_error(function, error, args=(), kwargs=None, shape_hint=""):
    """What a learner's function raised, in which of its lines, and, for a shape error, the shapes it was given."""
    text = " ".join((str(error) or "no message").split())
    if not text.endswith((".", "?", "!")):
        text += "."
    message = f"`{_name(function)}` raised {type(error).__name__}: {text}"
    lines = _learner_frames(error)
    if lines:
        message += f" It happened in the line `{lines[-1]}`."
    if isinstance(error, IndexError) and "out of " in str(error):
        message += " An index went past the end of an array: look at your loop's range and the axis you index."
    elif isinstance(error, (RuntimeError, ValueError)) and _about_shapes(error):
        shapes = _argument_shapes(function, args, kwargs or {})
        if shapes:
            message += f" It was called with {shapes}."
        if shape_hint:
            message += f" {shape_hint}"
    return message


def _about_shapes(error):
    """True when an error's message speaks of shapes, sizes or broadcasting."""
    text = str(error).lower()
    return any(word in text for word in _SHAPE_WORDS)


def _same_value(before, after):
    """True when an argument still holds what it held before the call (NaN where it was NaN)."""
    if isinstance(before, torch.Tensor):
        if before.shape != after.shape:
            return False
        return bool(torch.equal(before, after) or torch.allclose(before, after, equal_nan=True, rtol=0, atol=0))
    if isinstance(before, np.ndarray):
        return before.shape == after.shape and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
    if isinstance(before, (tuple, list)):
        return len(before) == len(after) and all(map(_same_value, before, after))
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(_same_value(before[key], after[key]) for key in before)
    return True


def _changed_in_place(bound, originals):
    """The learner's name of the first argument the function wrote into, or None."""
    for name, value in bound.items():
        if name in originals and not _same_value(originals[name], value):
            return name
    return None


def call(function, *args, signature="", shape_hint="", **kwargs):
    """Call the learner's function on copies of the arguments; whatever goes wrong becomes a Mistake.

    ``signature``: the statement's signature, named when the call does not fit it. ``shape_hint``:
    added to an error about shapes. The course's own code listed by the enclosing `check` is refused.
    """
    if not callable(function):
        raise Mistake(f"Expected a function, got {type(function).__name__}: pass the function itself, without ().")
    given_args, given_kwargs = copy_of(args), copy_of(kwargs)
    try:
        bound = inspect.signature(function).bind(*given_args, **given_kwargs).arguments
    except TypeError as error:
        misfit = f"`{_name(function)}` cannot be called as the statement calls it ({error})."
        raise Mistake(f"{misfit} Keep the signature `{signature}`.") from None
    except ValueError:  # a builtin without a signature
        bound = {}
    originals = dict(zip(bound, _snapshot(tuple(bound.values()))))
    refuse, instead = _REFUSED.get()
    with refusing(refuse) as refused:
        try:
            result = function(*given_args, **given_kwargs)
        except NotImplementedError:
            raise
        except Exception as error:  # the learner's code, any error: report it, don't crash the check
            if refused:
                raise Mistake(_refused_message(function, refused, instead)) from None
            raise Mistake(describe_error(function, error, given_args, given_kwargs, shape_hint)) from None
    if refused:
        raise Mistake(_refused_message(function, refused, instead))
    changed = _changed_in_place(bound, originals)
    if changed is not None:
        raise Mistake(
            f"`{_name(function)}` changed its argument `{changed}` in place (with `*=`, `+=` or `[...] =`, for "
            f"example). The caller still needs the old `{changed}`: compute a new array instead (`a * b` leaves `a` "
            "as it was)."
        )
    if result is None:
        raise Mistake(f"`{_name(function)}` returned None: did you forget `return`?")
    return result


# ----------------------------------------------------------------------------- the contract


def unpack(value, names, how):
    """The parts of a returned tuple, ``len(names)`` of them, or a Mistake saying what came.

    ``how`` shows the return statement, e.g. "return h, c".
    """
    if isinstance(value, (tuple, list)) and len(value) == len(names):
        return tuple(value)
    if isinstance(value, (tuple, list)):
        what = f"a {type(value).__name__} of {len(value)} items"
    elif hasattr(value, "shape"):
        what = f"one {type(value).__name__} of shape {tuple(value.shape)}"
    else:
        what = f"{type(value).__name__} {value!r:.60}"
    raise Mistake(f"Return {len(names)} things, {', '.join(names)} (`{how}`); got {what}.")


def tensor(name, value):
    """The answer as a torch tensor, or a Mistake: the statement asks for a tensor (NumPy is not one)."""
    if isinstance(value, torch.Tensor):
        return value
    what = "a NumPy array" if isinstance(value, np.ndarray) else type(value).__name__
    raise Mistake(
        f"{name} should be a torch tensor, got {what}: keep the computation in PyTorch (torch.* functions, "
        "no .numpy())."
    )


def array(name, value):
    """The answer as it came, or a Mistake when it is a torch tensor: the statement asks for NumPy."""
    if isinstance(value, torch.Tensor):
        raise Mistake(
            f"{name} should be a NumPy array, got a torch tensor: this exercise is in NumPy (np.* functions, no torch)."
        )
    return value


def numbers(name, value, keep_float32=True):
    """The answer as a float array (tensors included), or a Mistake saying what came instead.

    A float32 answer stays float32 (unless ``keep_float32`` is False), so that `expect_close` judges it at
    float32 tolerance.
    """
    low_precision = keep_float32 and is_low_precision(value)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mistake(f"{name} should be numbers, got {type(value).__name__}: {value!r:.80}") from None
    return array.astype(np.float32) if low_precision else array


def integer(name, value):
    """The answer as an int, or a Mistake: a one-element tensor or array, a float or a bool is not an int."""
    if isinstance(value, (torch.Tensor, np.ndarray)) and np.prod(value.shape, dtype=int) == 1:
        raise Mistake(
            f"{name} should be an int, got a one-element {type(value).__name__}: use .item() (or int(...)) to take "
            "the number out."
        )
    if isinstance(value, bool) or not isinstance(value, _numbers.Real):
        raise Mistake(f"{name} should be an int, got {type(value).__name__}: {value!r:.80}")
    if not isinstance(value, _numbers.Integral):
        if not np.isfinite(value):
            raise Mistake(f"{name} should be a whole number, got {value!r}.")
        if value != int(value):
            raise Mistake(f"{name} should be a whole number, got {value!r}.")
        kind = type(value).__name__
        raise Mistake(f"{name} should be an int, got the {kind} {value!r}: use // rather than /, or int(...).")
    return int(value)


def is_low_precision(value):
    """True for a float32 (or float16, bfloat16) array or tensor: its answer is judged at float32 tolerance."""
    dtype = getattr(value, "dtype", None)
    return dtype is not None and str(dtype).split(".")[-1] in ("float32", "float16", "bfloat16")


def _tolerance(got):
    return (FLOAT32_ATOL, FLOAT32_RTOL) if is_low_precision(got) else (ATOL, RTOL)


def same(got, expected):
    """True when ``got`` equals ``expected`` to its own precision (a float32 answer at float32 tolerance).

    Sequences compare element by element; values that cannot be read as numbers are never the same.
    """
    if isinstance(expected, (tuple, list)) and not _is_numeric_sequence(expected):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return False
        return all(map(same, got, expected))
    atol, rtol = _tolerance(got)
    try:
        got = numbers("", got, keep_float32=False)
        expected = np.asarray(numbers("", expected, keep_float32=False))
    except Mistake:
        return False
    return got.shape == expected.shape and bool(np.allclose(got, expected, atol=atol, rtol=rtol, equal_nan=False))


def _is_numeric_sequence(value):
    return all(isinstance(item, _numbers.Number) for item in value)


def expect_shape(name, got, expected, explanation="", axes=""):
    """A Mistake when the array ``got`` does not have the shape ``expected``.

    ``axes`` names the dims, e.g. "(batch, hidden_size)"; ``explanation`` follows the message.
    """
    if tuple(got.shape) != tuple(expected):
        shown = f"{axes} = {expected}" if axes else f"{expected}"
        raise Mistake(f"{name} should have shape {shown}, got {tuple(got.shape)}. {explanation}")


def element(*axes):
    """A ``where`` that names an element by its index along each axis.

    ``element("batch", "unit")((0, 2))`` is "at batch 0, unit 2".
    """

    def where(index):
        return "at " + ", ".join(f"{axis} {position}" for axis, position in zip(axes, index))

    return where


def _first_index(mask):
    """The index of the first True in ``mask``, a tuple of ints; () for a 0-d mask."""
    return tuple(int(k) for k in np.argwhere(mask)[0]) if mask.ndim else ()


def _place(index, where):
    """`` at time step 3`` (``where``'s words, with a space before them), `` at index (3,)``, or "" for a 0-d value."""
    if not index:
        return ""
    place = where(index) if where else f"at index {index}"
    return f" {place}" if place else ""


def expect_finite(name, got, where=None):
    """A Mistake naming the first NaN or inf in ``got``, and what usually makes one."""
    values = numbers(name, got, keep_float32=False)
    bad = ~np.isfinite(values)
    if bad.any():
        index = _first_index(bad)
        kind = "NaN" if np.isnan(values[index]) else "inf"
        raise Mistake(
            f"{name} holds {kind}{_place(index, where)}; {int(bad.sum())} of {bad.size} values are not finite. "
            "NaN comes from 0/0, inf - inf or the log of a negative number; inf from exp of a large number or a "
            "division by 0."
        )


def expect_close(name, got, expected, hint="", where=None):
    """Compare arrays at the answer's precision; on a mismatch say which shape or element, expected versus got.

    ``where(index) -> str`` names an element for the learner, e.g. "at time step 3, unit 0" (see `element`).
    """
    low_precision = is_low_precision(got)
    atol, rtol = _tolerance(got)
    got = numbers(name, got, keep_float32=False)
    expected = np.asarray(numbers(name, expected, keep_float32=False))
    expect_shape(name, got, expected.shape, hint)
    if np.isfinite(expected).all():
        expect_finite(name, got, where)
    wrong = ~np.isclose(got, expected, atol=atol, rtol=rtol)
    if wrong.any():
        index = _first_index(wrong)
        near = abs(got[index] - expected[index]) < 1e-3 * (1 + abs(expected[index]))
        precision = " (your answer is float32; it was compared at float32 tolerance)" if low_precision and near else ""
        raise Mistake(
            f"{name}{_place(index, where)}: expected {_pair(expected[index], got[index])} "
            f"({int(wrong.sum())} of {wrong.size} values differ){precision}. {hint}"
        )


def _pair(expected, got):
    """``"0.3802931, got 0.3802927"``: 6 significant digits, more where 6 would print two equal numbers."""
    digits = next((count for count in range(6, 18) if f"{expected:.{count}g}" != f"{got:.{count}g}"), 17)
    return f"{expected:.{digits}g}, got {got:.{digits}g}"


# ----------------------------------------------------------------------------- the known mistakes


def diagnose(got, expected, mistakes):
    """The message of the first known mistake whose answer ``got`` equals, or None.

    ``mistakes`` yields ``(message, answer)``, lazily if computing answers is costly; a mistake whose
    answer equals the right one on this case is skipped: it cannot be told apart here.
    """
    for message, answer in mistakes:
        if same(got, answer) and not same(answer, expected):
            return message
    return None


def judge(name, got, expected, mistakes=(), hint="", where=None):
    """The whole comparison of one returned value.

    Right; or a known mistake, with the first difference; or the first difference, with ``hint``.
    """
    if same(got, expected):
        return
    diagnosis = diagnose(got, expected, mistakes)
    try:
        expect_close(name, got, expected, hint=diagnosis or hint, where=where)
    except Mistake as mistake:
        if diagnosis and diagnosis not in str(mistake):  # a known mistake that computes NaN or inf is still named
            raise Mistake(f"{sentence(str(mistake))} {diagnosis}") from None
        raise
    # only reached for values that `same` refuses but isclose accepts
    raise Mistake(diagnosis or f"{name} differs from the expected value. {hint}")


# ----------------------------------------------------------------------------- the gradient, in a model


GRADIENT_HINT = "Training needs autograd to reach the weights: compute it from them directly."


def expect_gradient(name, output, parameters, hint=GRADIENT_HINT):
    """``output`` must be a tensor autograd can follow back to every one of ``parameters``."""
    output = tensor(name, output)
    if not output.requires_grad:
        raise Mistake(
            f"{name} carries no gradient: it was computed under torch.no_grad(), detached, or rebuilt from numbers "
            f"(torch.tensor(...), .item(), .numpy()). {hint}"
        )
    parameters = [parameter for parameter in parameters if parameter.requires_grad]
    grads = torch.autograd.grad(output.sum(), parameters, allow_unused=True, retain_graph=True)
    unreached = sum(grad is None for grad in grads)
    if unreached:
        raise Mistake(
            f"{name} does not depend on {unreached} of the {len(parameters)} weight tensors: something was detached "
            "on the way, or left out."
        )


def expect_no_backward(function, parameters):
    """A function that should only return a value must not call backward itself (it would add to the gradients)."""
    if any(parameter.grad is not None for parameter in parameters):
        raise Mistake(
            f"`{_name(function)}` called backward() itself: return the loss and let the training loop call "
            "loss.backward() once."
        )

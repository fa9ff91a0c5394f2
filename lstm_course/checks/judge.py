"""The one judge every exercise check uses.

A check declares its cases, its contract (what the answer returns) and its known mistakes; this
module does the rest alike for every exercise: the call (`call`, the course's own code refused by
`refusing`), the contract (`tensor`, `array`, `numbers`, `integer`, `unpack`, `expect_shape`), the
comparison (`same`, `expect_close`, `judge` with the known mistakes of `diagnose`), the gradient
(`expect_gradient`, `expect_no_backward`) and the verdict (`check`).

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
from torch.utils._pytree import tree_flatten, tree_map

PASSED, FAILED, NOT_ATTEMPTED = "passed", "failed", "not attempted yet"
_SYMBOLS = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⏳"}
STUB = "Replace `raise NotImplementedError()` with your answer, run that cell, then this one."
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


GRADING_RUNS = ("autograde", "validate")  # the values of NBGRADER_EXECUTION under nbgrader


def grading():
    """True when nbgrader runs the notebook: it sets ``NBGRADER_EXECUTION`` in the kernel it starts."""
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
    """Turn ``body(answer, ...) -> success message`` (or a raised Mistake) into a check that returns a CheckResult.

    ``refuse``: the course's own implementations of what the exercise asks, refused while `call` runs the
    answer (`refusing`), with ``instead`` as the advice. Under nbgrader a failure is raised as CheckFailed.
    """

    def decorate(body):
        @functools.wraps(body)
        def run(*args, **kwargs):
            token = _REFUSED.set((tuple(refuse), instead))
            try:
                result = CheckResult(exercise, PASSED, sentence(body(*args, **kwargs)))
            except NotImplementedError:  # the stub
                result = CheckResult(exercise, NOT_ATTEMPTED, STUB)
            except Mistake as mistake:
                result = CheckResult(exercise, FAILED, sentence(str(mistake)))
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
@functools.lru_cache(maxsize=64)
class _Refusal:
    """The code objects and builtins of the implementations an exercise asks the learner to write, by name."""

    def __init__(self, refuse):
        self.codes, self.builtins = {}, {}
        for item in refuse:
            self._add(item, _dotted(item))

    def _add(self, item, name):
        if isinstance(item, types.ModuleType):  # what it defines itself, not what it imports
            for value in vars(item).values():
                if (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == item.__name__:
                    self._add(value, _dotted(value))
        elif inspect.isclass(item):  # its own methods, not those it got elsewhere (a NamedTuple's from collections)
            for value in map(inspect.unwrap, vars(item).values()):  # a decorator's wrapper is shared: its inner code
                if inspect.isfunction(value) and value.__module__ == item.__module__:
                    self.codes[value.__code__] = name
        elif isinstance(item, (types.BuiltinFunctionType, types.BuiltinMethodType)):
            self.builtins[id(item)] = name
        elif isinstance(item, torch._ops.OpOverloadPacket):  # torch.ops.aten.lstm: the packet and each overload
            for op in (item, *(getattr(item, overload) for overload in item.overloads())):
                self.builtins[id(op._op)] = name
        else:
            while isinstance(item, functools.partial):
                item = item.func
            code = getattr(inspect.unwrap(getattr(item, "__func__", item)), "__code__", None)
            if code is not None:
                self.codes.setdefault(code, name)  # the first name given to a piece of code is the one told

    def watch(self, seen):
        codes, builtins = self.codes, self.builtins

        def profile(frame, event, arg):
            name = codes.get(frame.f_code) if event == "call" else builtins.get(id(arg)) if event == "c_call" else None
            if name is not None and name not in seen:
                seen.append(name)

        return profile


# (the start of a dotted name, what a learner knows it as)
_FRIENDLY = (("torch.nn.modules.rnn.", "nn."), ("torch._VariableFunctionsClass.", "torch."))


def _dotted(item):
    """A name a learner recognises: ``nn.LSTM``, ``torch.lstm``, ``lstm_course.numpy_lstm.lstm_cell``."""
    if isinstance(item, types.ModuleType):
        return item.__name__
    if isinstance(item, torch._ops.OpOverloadPacket):  # "aten::lstm"
        return "torch.ops." + item._qualified_op_name.replace("::", ".")
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

    Python code is known by its code object (aliases, wrappers, partials are seen), builtins by identity.
    Not seen: the same algorithm pasted in as source, and a call made in another thread.
    """
    seen = []
    if not refuse:
        yield seen
        return
    previous = sys.getprofile()
    sys.setprofile(_Refusal(tuple(refuse)).watch(seen))
    try:
        yield seen
    finally:
        sys.setprofile(previous)


# ----------------------------------------------------------------------------- the call
def _mapped(value, leaf):
    """``value`` with each array and tensor replaced by ``leaf(it)``, through tuples, NamedTuples, lists and dicts."""
    return tree_map(lambda item: leaf(item) if isinstance(item, (np.ndarray, torch.Tensor)) else item, value)


def copy_of(value):
    """A copy of an argument for the answer; a tensor that requires grad as it is, for autograd to reach."""
    return _mapped(value, lambda a: a.copy() if isinstance(a, np.ndarray) else a if a.requires_grad else a.clone())


_SHAPE_WORDS = ("shape", "size", "mismatch", "broadcast", "align", "dimension", "mat1", "mat2", "operand")


def _name(function):
    """The learner's name of a function (a callable object's class name)."""
    return getattr(function, "__name__", type(function).__name__)


def _argument_shapes(bound):
    """``"x: ndarray of shape (2, 3), states: ((2, 3), (2, 3))"``: arrays and sequences of arrays, by their names."""
    shapes = []
    for name, value in bound.items():
        if hasattr(value, "shape"):
            shapes.append(f"{name}: {type(value).__name__} of shape {tuple(value.shape)}")
        elif isinstance(value, (tuple, list)) and value and all(hasattr(item, "shape") for item in value):
            shapes.append(f"{name}: (" + ", ".join(str(tuple(item.shape)) for item in value) + ")")
    return ", ".join(shapes)


_PACKAGE = str(Path(__file__).resolve().parents[1])


def _learner_lines(error):
    """The text of the traceback's lines outside this package and the libraries, the innermost last."""
    lines = []
    for frame, number in traceback.walk_tb(error.__traceback__):
        filename = frame.f_code.co_filename
        if not (filename.startswith(_PACKAGE) or "site-packages" in filename or filename.startswith("<frozen")):
            lines.append(linecache.getline(filename, number, frame.f_globals).strip())
    return [line for line in lines if line]


def describe_error(function, error, bound, shape_hint="", error_hints=None):
    """What a learner's function raised, in which of its lines, and a hint: the first of ``error_hints`` whose key is
    part of the error's type and text; else, for a shape error, the shapes it was given and ``shape_hint``."""
    text = " ".join((str(error) or "no message").split())
    if not text.endswith((".", "?", "!")):
        text += "."
    message = f"`{_name(function)}` raised {type(error).__name__}: {text}"
    lines = _learner_lines(error)
    if lines:
        message += f" It happened in the line `{lines[-1]}`."
    raised = f"{type(error).__name__}: {error}"
    special = next((hint for part, hint in (error_hints or {}).items() if part in raised), None)
    if special:
        message += f" {special}"
    elif isinstance(error, IndexError) and "out of " in str(error):
        message += " An index went past the end of an array: look at your loop's range and the axis you index."
    elif isinstance(error, (RuntimeError, ValueError)) and any(word in str(error).lower() for word in _SHAPE_WORDS):
        shapes = _argument_shapes(bound)
        if shapes:
            message += f" It was called with {shapes}."
        if shape_hint:
            message += f" {shape_hint}"
    return message


def _same_array(before, after):
    """True for an array or tensor that holds what it held (NaN where it was NaN); True for other leaves."""
    if isinstance(before, torch.Tensor):
        after = after.detach()
        return before.shape == after.shape and bool(torch.equal(before, after) or before.allclose(after, 0, 0, True))
    if isinstance(before, np.ndarray):
        return before.shape == after.shape and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
    return True


def _changed_in_place(bound, originals):
    """The learner's name of the first argument the function wrote into (NaN where it was NaN is kept), or None."""
    for name, value in bound.items():
        (old, old_layout), (new, new_layout) = tree_flatten(originals[name]), tree_flatten(value)
        if old_layout != new_layout or not all(map(_same_array, old, new)):
            return name
    return None


def call(function, *args, signature="", shape_hint="", error_hints=None, require=(), **kwargs):
    """Call the learner's function on copies of the arguments; whatever goes wrong becomes a Mistake.

    ``signature``: named when the call does not fit it; ``shape_hint``: added to an error about shapes;
    ``error_hints``: ``{a part of an error's type and text: the hint for it}``, given instead of the general ones;
    ``require``: ``(message, *functions)``, a Mistake with ``message`` unless the answer calls one of ``functions``.
    """
    if not callable(function):
        raise Mistake(f"Expected a function, got {type(function).__name__}: pass the function itself, without ().")
    given_args, given_kwargs = copy_of(args), copy_of(kwargs)
    try:
        bound = inspect.signature(function).bind(*given_args, **given_kwargs).arguments
    except TypeError as error:
        misfit = f"`{_name(function)}` cannot be called as the statement calls it ({error})."
        raise Mistake(f"{misfit} Keep the signature `{signature}`.") from None
    except ValueError:  # a builtin without a signature: its arguments by position
        bound = {f"input {number}": value for number, value in enumerate(given_args, start=1)}
    # what each argument held before the call, to see what the answer wrote
    originals = _mapped(dict(bound), lambda a: a.copy() if isinstance(a, np.ndarray) else a.detach().clone())
    refuse, instead = _REFUSED.get()
    required = {_dotted(item) for item in require[1:]}
    with refusing(tuple(refuse) + tuple(require[1:])) as seen:
        try:
            result, error = function(*given_args, **given_kwargs), None
        except Exception as raised:  # the learner's code, any error: report it, don't crash the check
            if type(raised) is NotImplementedError and not str(raised):  # the stub: "not attempted yet"
                raise
            result, error = None, raised
    refused = [name for name in seen if name not in required]
    if refused:
        whose = "the course's own" if refused[0].startswith("lstm_course") else "PyTorch's own"
        raise Mistake(f"Your `{_name(function)}` calls `{refused[0]}`: that is {whose} version of what this exercise "
                      f"asks you to write, so the check cannot tell what you wrote. {instead}")
    if error is not None:
        raise Mistake(describe_error(function, error, bound, shape_hint, error_hints))
    changed = _changed_in_place(bound, originals)
    if changed is not None:
        raise Mistake(f"`{_name(function)}` changed its argument `{changed}` in place (with `*=`, `+=` or `[...] =`, "
                      f"for example). The caller still needs the old `{changed}`: compute a new array instead (`a * b` "
                      "leaves `a` as it was).")
    if result is None:
        raise Mistake(f"`{_name(function)}` returned None: did you forget `return`?")
    if required and len(refused) == len(seen):
        raise Mistake(require[0])
    return result


# ----------------------------------------------------------------------------- the contract
def unpack(value, names, how):
    """The parts of a returned tuple, ``len(names)`` of them, or a Mistake that shows ``how``: "return h, c"."""
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
    raise Mistake(f"{name} should be a torch tensor, got {what}: keep the computation in PyTorch (torch.* functions, "
                  "no .numpy()).")


def array(name, value):
    """The answer as it came, or a Mistake when it is a torch tensor: the statement asks for NumPy."""
    if isinstance(value, torch.Tensor):
        raise Mistake(f"{name} should be a NumPy array, got a torch tensor: this exercise is in NumPy (np.* functions, "
                      "no torch).")
    return value


def numbers(name, value, keep_float32=True):
    """The answer as a float64 array, or a Mistake; float32 stays float32 when ``keep_float32``, for its tolerance."""
    low_precision = keep_float32 and is_low_precision(value)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        value = value.double().numpy() if value.is_floating_point() else value.numpy()  # NumPy has no bfloat16
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mistake(f"{name} should be numbers, got {type(value).__name__}: {value!r:.80}") from None
    return array.astype(np.float32) if low_precision else array


def integer(name, value):
    """The answer as an int, or a Mistake: a one-element tensor or array, a float or a bool is not an int."""
    if isinstance(value, (torch.Tensor, np.ndarray)) and np.prod(value.shape, dtype=int) == 1:
        raise Mistake(f"{name} should be an int, got a one-element {type(value).__name__}: use .item() (or int(...)) "
                      "to take the number out.")
    if isinstance(value, bool) or not isinstance(value, _numbers.Real):
        raise Mistake(f"{name} should be an int, got {type(value).__name__}: {value!r:.80}")
    if not isinstance(value, _numbers.Integral):
        if not np.isfinite(value) or value != int(value):
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
    """True when ``got`` equals ``expected`` to its own precision; sequences of arrays element by element."""
    if isinstance(expected, (tuple, list)) and not all(isinstance(item, _numbers.Number) for item in expected):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return False
        return all(map(same, got, expected))
    atol, rtol = _tolerance(got)
    try:
        got, expected = numbers("", got, keep_float32=False), numbers("", expected, keep_float32=False)
    except Mistake:
        return False
    return got.shape == expected.shape and bool(np.allclose(got, expected, atol=atol, rtol=rtol, equal_nan=True))


def expect_shape(name, got, expected, explanation="", axes=""):
    """A Mistake when ``got`` does not have the shape ``expected``; ``axes`` names the dims: "(batch, hidden_size)"."""
    if tuple(got.shape) != tuple(expected):
        shown = f"{axes} = {expected}" if axes else f"{expected}"
        raise Mistake(f"{name} should have shape {shown}, got {tuple(got.shape)}. {explanation}")


def element(*axes):
    """A ``where`` that names an element by its index: ``element("batch", "unit")((0, 2))`` is "at batch 0, unit 2"."""

    def where(index):
        return "at " + ", ".join(f"{axis} {position}" for axis, position in zip(axes, index))

    return where


def _place(mask, where):
    """The index of the first True in ``mask``, and its place: " at time step 3" (``where``'s words) or ""."""
    if not mask.ndim:
        return (), ""
    index = tuple(int(k) for k in np.argwhere(mask)[0])
    place = where(index) if where else f"at index {index}"
    return index, f" {place}" if place else ""


def expect_finite(name, got, where=None):
    """A Mistake naming the first NaN or inf in ``got``, and what usually makes one."""
    values = numbers(name, got, keep_float32=False)
    bad = ~np.isfinite(values)
    if bad.any():
        index, place = _place(bad, where)
        kind = "NaN" if np.isnan(values[index]) else "inf"
        raise Mistake(f"{name} holds {kind}{place}; {int(bad.sum())} of {bad.size} values are not finite. "
                      "NaN comes from 0/0, inf - inf or the log of a negative number; inf from exp of a large number "
                      "or a division by 0; -inf from the log of 0.")


def expect_close(name, got, expected, hint="", where=None):
    """Compare arrays at the answer's precision; on a mismatch say which shape or element, expected versus got.

    ``where(index) -> str`` names an element: "at time step 3, unit 0" (see `element`).
    """
    low_precision = is_low_precision(got) and got.dtype  # its dtype, or False
    atol, rtol = _tolerance(got)
    got, expected = numbers(name, got, keep_float32=False), numbers(name, expected, keep_float32=False)
    expect_shape(name, got, expected.shape, hint)
    if np.isfinite(expected).all():
        expect_finite(name, got, where)
    wrong = ~np.isclose(got, expected, atol=atol, rtol=rtol)
    if wrong.any():
        index, place = _place(wrong, where)
        near = abs(got[index] - expected[index]) < 1e-3 * (1 + abs(expected[index]))
        kind = str(low_precision).split(".")[-1]
        precision = f" (your answer is {kind}; it was compared at float32 tolerance)" if low_precision and near else ""
        count = f" ({int(wrong.sum())} of {wrong.size} values differ)" if wrong.size > 1 else ""
        raise Mistake(f"{name}{place}: expected {_pair(expected[index], got[index])}{count}{precision}. {hint}")


def _pair(expected, got):
    """``"0.3802931, got 0.3802927"``: 6 significant digits, more where 6 would print two equal numbers."""
    digits = next((count for count in range(6, 18) if f"{expected:.{count}g}" != f"{got:.{count}g}"), 17)
    return f"{expected:.{digits}g}, got {got:.{digits}g}"


# ----------------------------------------------------------------------------- the known mistakes
def diagnose(got, expected, mistakes):
    """The message of the first known mistake whose answer ``got`` equals, or None.

    ``mistakes`` yields ``(message, answer)``; one whose answer is right on this case is skipped.
    """
    for message, answer in mistakes:
        if same(got, answer) and not same(answer, expected):
            return message
    return None


def judge(name, got, expected, mistakes=(), hint="", where=None):
    """Right; or a known mistake, with the first difference; or the first difference, with ``hint``."""
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
WRONG_GRADIENT = ("The values are right but their gradient is not: something on the way was detached (a state detached "
                  "between steps cuts the gradient through time) or computed outside autograd.")


def expect_gradient(name, output, parameters, hint=GRADIENT_HINT, names=None, expected=None):
    """``output`` must be a tensor autograd can follow back to every one of ``parameters`` (called ``names``); and
    with ``expected``, the right output computed from the same parameters, give the same gradients."""
    output = tensor(name, output)
    if not output.requires_grad:
        raise Mistake(f"{name} carries no gradient: it was computed under torch.no_grad(), detached, or rebuilt from "
                      f"numbers (torch.tensor(...), .item(), .numpy()). {hint}")
    parameters = [parameter for parameter in parameters if parameter.requires_grad]
    weighting = torch.cos(torch.arange(output.numel(), dtype=output.dtype, device=output.device)).view(output.shape)
    try:  # a fixed weighting of the elements, so that a gradient wrong in one element shows
        grads = torch.autograd.grad((output * weighting).sum(), parameters, allow_unused=True, retain_graph=True)
    except RuntimeError:  # its graph freed by a backward() already
        raise Mistake(f"Autograd cannot follow {name} back to the weights: did your function call backward()? That "
                      "frees the graph. Return the result; the training loop calls backward() once.") from None
    cut = [k for k, grad in enumerate(grads) if grad is None]
    if cut:
        what = f"{len(cut)} of the {len(parameters)} weight tensors"
        what = ", ".join(f"`{names[k]}`" for k in cut) if names else what
        raise Mistake(f"{name} does not depend on {what}: something was detached on the way, or left out.")
    if expected is not None:
        wanted = torch.autograd.grad((expected * weighting).sum(), parameters, retain_graph=True)
        for k, (grad, right) in enumerate(zip(grads, wanted)):
            which = f"`{names[k]}`" if names else f"weight tensor {k}"
            grad = grad.to(output.dtype)  # judged at the output's precision
            expect_close(f"The gradient of {name} with respect to {which}", grad, right, hint=WRONG_GRADIENT)


def expect_no_backward(function, parameters):
    """A function that should only return a value must not call backward itself (it would add to the gradients)."""
    if any(parameter.grad is not None for parameter in parameters):
        raise Mistake(f"`{_name(function)}` called backward() itself: return the loss and let the training loop call "
                      "loss.backward() once.")

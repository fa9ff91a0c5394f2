"""What ``nn.LSTM`` and ``nn.LSTMCell`` reject, checked in their order and said in their words.

``HandLSTM``, ``FastHandLSTM`` and ``HandLSTMCell`` run these checks before they compute anything.
Each error has the type PyTorch raises for the same bad argument, and its message starts with
PyTorch's message, word for word (so that searching it finds PyTorch's documentation and forums,
and code that matches PyTorch's text keeps working); then it says, in the course's words, what
was expected and what came::

    RuntimeError: Expected hidden[0] size (1, 2, 4), got [2, 2, 4]. h_0 should have shape
    (num_layers * num_directions, batch, hidden_size) = (1, 2, 4), got (2, 2, 4)

The checks run in PyTorch's order, so that an argument with two faults gets the message PyTorch
gives for it. ``nn.LSTM``'s order, for a tensor input:

1. the constructor: ``dropout``, ``bias``, ``batch_first``, ``input_size``, ``hidden_size``,
   ``num_layers``, ``proj_size``;
2. ``input``'s dims; ``hx[0]`` and ``hx[1]`` and their dims;
3. ``input``'s dtype, then its last dim (``input_size``);
4. the shapes of ``h_0``, then ``c_0``;
5. (in its C++ code) a pair of states, the devices, a sequence of at least one step.

``nn.LSTMCell``'s: ``input``'s dims, the dims of every entry of ``hx``; then (in C++) a pair of
states, ``input_size``, ``h``'s batch and width, ``c``'s batch and width.

Where PyTorch has no check of its own and fails deeper in, in a compute kernel whose words
depend on the backend (an ``h_0`` of another dtype on a CPU: "get_mkldnn_dtype: unsupported data
type"), in ``range()`` or ``torch.empty`` (a float ``num_layers`` or ``proj_size``), or in its
argument parser (some tensors given as ``hx``), the error has PyTorch's type and the course's
message alone. For a ``PackedSequence`` ``nn.LSTM`` checks nothing before its kernel, so we check
it as a tensor input, in the same words. Two shapes get our ``RuntimeError`` where PyTorch's
kernel fails with an ``IndexError``: a 2-D ``hx`` with a ``PackedSequence``, and for a batched
cell input a 1-D ``h`` as long as the batch. We reject a few things PyTorch lets through:
a ``bidirectional`` that is not a bool, a size given as ``True``, a ``c_0`` (``c``) of another
dtype than the input, which PyTorch promotes, a zero ``hidden_size`` in a cell, and an ``hx`` of
three states, of which PyTorch takes the first two for an unbatched input.

Each exception class also derives from the type HandLSTM raised before PyTorch's types were
matched, so both kinds of ``except`` clause catch it.
"""

import numbers
import warnings

import torch
from torch.nn.utils.rnn import PackedSequence


class LSTMInputError(Exception):
    """Base of the errors for bad input to the hand-written LSTMs."""


class LSTMShapeError(LSTMInputError, RuntimeError, ValueError):
    """A shape or size ``nn.LSTM`` rejects: ``RuntimeError`` for a tensor, ``ValueError`` for a constructor argument
    (and ``nn.LSTMCell``'s dims of ``hx``); a ``ValueError`` too, as HandLSTM raised before."""


class LSTMDtypeError(LSTMInputError, ValueError, RuntimeError, TypeError):
    """Dtypes that differ: ``nn.LSTM`` raises ``ValueError`` (input) or ``RuntimeError`` (states); HandLSTM raised ``TypeError``."""


class LSTMDeviceError(LSTMInputError, RuntimeError, ValueError):
    """Devices that differ: ``nn.LSTM`` raises ``RuntimeError``; HandLSTM raised ``ValueError``."""


class LSTMStateError(LSTMInputError, TypeError, IndexError, RuntimeError, ValueError):
    """``hx`` is not a pair: ``nn.LSTM`` fails with ``IndexError`` or ``RuntimeError``, ``nn.LSTMCell`` with
    ``TypeError``, ``RuntimeError``, ``IndexError`` or ``ValueError``, as the case may be."""


class LSTMTypeError(LSTMInputError, TypeError, AttributeError):
    """Not a tensor where one is wanted: ``nn.LSTM`` fails with ``AttributeError`` on ``.dim()``; HandLSTM raised ``TypeError``."""


def _say(pytorch, ours):
    """PyTorch's words for the error, word for word, then the course's; the course's alone where PyTorch has none."""
    return ours if pytorch is None else f"{pytorch}. {ours}"


# ----------------------------------------------------------------------------- constructors


def _int_argument(name, value):
    """An int (not a bool) above zero, as ``nn.LSTM`` checks input_size and hidden_size."""
    if not isinstance(value, int) or isinstance(value, bool):
        pytorch = None if isinstance(value, bool) else f"{name} should be of type int, got: {type(value).__name__}"  # nn.LSTM takes a bool
        raise TypeError(_say(pytorch, f"{name} should be an int, got {type(value).__name__}: {value!r}"))
    if value <= 0:
        raise LSTMShapeError(_say(f"{name} must be greater than zero", f"{name} should be at least 1, got {value}"))


def _bool_argument(name, value, pytorch_checks=True):
    if not isinstance(value, bool):
        pytorch = f"{name} should be of type bool, got: {type(value).__name__}" if pytorch_checks else None
        raise TypeError(_say(pytorch, f"{name} should be True or False, got {type(value).__name__}: {value!r}"))


def check_lstm_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size):
    """``nn.LSTM``'s constructor checks, in its order; warns, as it does, of a dropout that does nothing."""
    try:
        float(dropout)  # nn.LSTM stores float(dropout) before it checks it
    except (TypeError, ValueError) as error:
        raise type(error)(_say(str(error), f"dropout should be a probability in [0, 1], got {dropout!r}")) from None
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError(
            _say(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed",
                f"dropout should be a probability in [0, 1], got {dropout!r}",
            )
        )
    if dropout > 0 and num_layers == 1:
        pytorch = (
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
            f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}"
        )
        warnings.warn(_say(pytorch, f"dropout={dropout} has no effect with num_layers=1: dropout is applied between stacked layers, after every layer but the last"), stacklevel=3)
    _bool_argument("bias", bias)
    _bool_argument("batch_first", batch_first)
    _bool_argument("bidirectional", bidirectional, pytorch_checks=False)  # nn.LSTM takes any truth value
    _int_argument("input_size", input_size)
    _int_argument("hidden_size", hidden_size)
    if not isinstance(num_layers, int) or isinstance(num_layers, bool):  # nn.LSTM fails later, in range()
        raise TypeError(f"num_layers should be an int, got {type(num_layers).__name__}: {num_layers!r}")
    if num_layers <= 0:
        raise LSTMShapeError(_say("num_layers must be greater than zero", f"num_layers should be at least 1, got {num_layers}"))
    if not isinstance(proj_size, int) or isinstance(proj_size, bool):  # nn.LSTM fails later, in torch.empty
        raise TypeError(f"proj_size should be an int, got {type(proj_size).__name__}: {proj_size!r}")
    if proj_size < 0:
        raise LSTMShapeError(_say("proj_size should be a positive integer or zero to disable projections", f"proj_size should be at least 0, got {proj_size}"))
    if proj_size >= hidden_size:
        raise LSTMShapeError(_say("proj_size has to be smaller than hidden_size", f"proj_size should be smaller than hidden_size={hidden_size}, got {proj_size}"))


def check_cell_arguments(input_size, hidden_size, bias):
    """``nn.LSTMCell`` checks none of these (a negative size fails in ``torch.empty``); we check them as ``nn.LSTM`` does."""
    _int_argument("input_size", input_size)
    _int_argument("hidden_size", hidden_size)
    _bool_argument("bias", bias)


# ----------------------------------------------------------------------------- tensors


def _tensor(name, value):
    """A tensor, where ``nn.LSTM`` first calls ``value.dim()`` (and fails with an AttributeError)."""
    if not isinstance(value, torch.Tensor):
        pytorch = None
        try:
            value.dim  # what nn.LSTM does first with it, in Python's words when it fails
        except AttributeError as error:
            pytorch = str(error)
        raise LSTMTypeError(_say(pytorch, f"{name} should be a torch.Tensor, got {type(value).__name__}"))


def _pair_description(hx):
    length = f" of length {len(hx)}" if isinstance(hx, (tuple, list)) else ""
    return f"{type(hx).__name__}{length}"


def _same_device(name, tensor, reference, reference_name, pytorch):
    if tensor.device != reference.device:
        is_ = "are" if reference_name.endswith("s") else "is"
        raise LSTMDeviceError(
            _say(pytorch, f"{name} is on {tensor.device} but {reference_name} {is_} on {reference.device}: move one of them, e.g. with .to('{reference.device}')")
        )


def _same_dtype(name, tensor, reference, reference_name, pytorch=None):
    if tensor.dtype != reference.dtype:
        has = "have" if reference_name.endswith("s") else "has"
        raise LSTMDtypeError(
            _say(pytorch, f"{name} has dtype {tensor.dtype} but {reference_name} {has} dtype {reference.dtype}: convert one of them, e.g. with .to({reference.dtype})")
        )


# ----------------------------------------------------------------------------- nn.LSTM's forward


def _hx_dims_words(h, c, batched):
    dims = 3 if batched else 2
    if h.dim() == dims and c.dim() == dims:
        return None
    form = "batched 3-D" if batched else "unbatched 2-D"
    return f"For {form} input, hx and cx should also be {dims}-D but got ({h.dim()}-D, {c.dim()}-D) tensors"


def _what_nn_lstm_says_of_hx(hx, batched, packed, sorted_indices):
    """nn.LSTM's words for an ``hx`` that is not a pair, where they are its own.

    For a tensor input it reads ``hx[0]``, ``hx[1]`` and their dims first; a ``PackedSequence`` reads
    them only to reorder them (unsorted sequences), else its C++ code counts the states. A tensor
    ``hx`` that gets past that meets the kernel's argument parser, whose long message we leave out.
    """
    if not packed or sorted_indices is not None:
        try:
            h, c = hx[0], hx[1]
        except (IndexError, TypeError) as error:  # a short tuple, a tensor of one row, a number
            return str(error)
        except KeyError:  # a dict: not worth PyTorch's words
            return None
        if not packed and isinstance(h, torch.Tensor) and isinstance(c, torch.Tensor):
            return _hx_dims_words(h, c, batched)
        return None
    return "lstm expects two hidden states" if isinstance(hx, (tuple, list)) else None


def check_lstm_call(lstm, input, hx):
    """``nn.LSTM.forward``'s checks of ``input`` (a tensor or a ``PackedSequence``) and ``hx``, in its order.

    Returns ``(h_0, c_0)`` with a batch dim, ``(num_layers * num_directions, batch, width)``, or None
    for ``hx=None``.
    """
    packed = isinstance(input, PackedSequence)
    data = input.data if packed else input
    # 2. the input's dims; hx[0] and hx[1] and their dims
    _tensor("input", data)
    layout = "(batch, seq, input_size)" if lstm.batch_first else "(seq, batch, input_size)"
    if not packed and input.dim() not in (2, 3):
        raise ValueError(
            _say(
                f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead",
                f"input should have 3 dims {layout}, or 2 dims (seq, input_size) without a batch, got {input.dim()} dims with shape {tuple(input.shape)}",
            )
        )
    batched = packed or input.dim() == 3
    name = "PackedSequence's data" if packed else "input"
    shapes = _state_shapes(lstm, data, input.batch_sizes if packed else None, batched)
    states = []
    if hx is not None:
        pair = isinstance(hx, (tuple, list)) and len(hx) == 2
        more = isinstance(hx, (tuple, list)) and len(hx) > 2 and not packed  # nn.LSTM checks the first two, then counts
        if not (pair or more):
            words = _what_nn_lstm_says_of_hx(hx, batched, packed, input.sorted_indices if packed else None)
            raise LSTMStateError(_say(words, f"hx should be a pair (h_0, c_0), got {_pair_description(hx)}"))
        for state_name, state in zip(("h_0", "c_0"), hx):
            _tensor(state_name, state)
        words = None if packed else _hx_dims_words(hx[0], hx[1], batched)
        for state_name, state, (expected, state_layout) in zip(("h_0", "c_0"), hx, shapes):
            if words is not None and state.dim() != len(expected):
                raise LSTMShapeError(_say(words, f"{state_name} should have shape {state_layout} = {expected}, got {tuple(state.shape)}"))
            states.append(state if batched else state.unsqueeze(1))

    # 3. the input's dtype, then its last dim
    _same_dtype(
        name,
        data,
        lstm.weight_ih_l0,
        "the module's parameters",
        f"RNN input dtype ({data.dtype}) does not match weight dtype ({lstm.weight_ih_l0.dtype}). "
        f"Convert input: input.to({lstm.weight_ih_l0.dtype}), or convert model: model.to({data.dtype})",
    )
    if data.shape[-1] != lstm.input_size:
        raise LSTMShapeError(
            _say(
                f"input.size(-1) must be equal to input_size. Expected {lstm.input_size}, got {data.shape[-1]}",
                f"{name}'s last dim should be input_size={lstm.input_size}, got {data.shape[-1]} ({name} shape {tuple(data.shape)})",
            )
        )
    # 4. the states' shapes, h_0 first
    for k, (state_name, state, batched_state, (expected, state_layout)) in enumerate(zip(("h_0", "c_0"), hx or (), states, shapes)):
        if tuple(state.shape) != expected:
            pytorch = f"Expected hidden[{k}] size {_batched(expected)}, got {list(batched_state.shape)}"
            raise LSTMShapeError(_say(pytorch, f"{state_name} should have shape {state_layout} = {expected}, got {tuple(state.shape)}"))

    # 5. in nn.LSTM's C++ code: two states, the devices, at least one step; then our check of the states' dtype
    if hx is not None and len(hx) != 2:
        raise LSTMStateError(_say("lstm expects two hidden states", f"hx should be a pair (h_0, c_0), got {_pair_description(hx)}"))
    _same_device(name, data, lstm.weight_ih_l0, "the module's parameters",
                 f"Input and parameter tensors are not at the same device, found input tensor at {data.device} and parameter tensor at {lstm.weight_ih_l0.device}")
    for state_name, state in zip(("h_0", "c_0"), states):
        _same_device(state_name, state, data, name,
                     f"Input and hidden tensors are not at the same device, found input tensor at {data.device} and hidden tensor at {state.device}")
    if not packed and input.shape[-2 if lstm.batch_first and batched else 0] == 0:
        raise LSTMShapeError(_say("Expected sequence length to be larger than 0 in RNN", "input has an empty sequence (length 0); an LSTM needs at least one time step"))
    for state_name, state in zip(("h_0", "c_0"), states):
        _same_dtype(state_name, state, data, name)  # nn.LSTM fails in a kernel, in words that depend on it
    return tuple(states) if hx is not None else None


def _state_shapes(lstm, data, batch_sizes, batched):
    """The shapes h_0 and c_0 should have, as the caller gives them (without a batch dim for an unbatched input), and their layouts."""
    if batch_sizes is not None:
        batch = int(batch_sizes[0])
    else:
        batch = data.shape[0 if lstm.batch_first else 1] if batched else None
    layers = lstm.num_layers * (2 if lstm.bidirectional else 1)
    front = (layers, batch) if batched else (layers,)
    layout = "(num_layers * num_directions, batch, " if batched else "(num_layers * num_directions, "
    h_width = "proj_size)" if lstm.proj_size else "hidden_size)"
    return ((*front, lstm.proj_size or lstm.hidden_size), layout + h_width), ((*front, lstm.hidden_size), layout + "hidden_size)")


def _batched(shape):
    """An unbatched state's expected shape as nn.LSTM reports it, with the batch of 1 it adds."""
    return shape if len(shape) == 3 else (shape[0], 1, shape[1])


# ----------------------------------------------------------------------------- nn.LSTMCell's forward


def _what_nn_lstm_cell_says_of_hx(hx, batched):
    """nn.LSTMCell's words for an ``hx`` that is not a pair: it checks the dims of every entry (of every
    row of a tensor) first, then takes ``hx[0]``, ``hx[1]`` for an unbatched input; its C++ code wants
    a tuple of two."""
    try:
        entries = list(hx)
    except TypeError as error:  # a number, a 0-D tensor
        return str(error)
    for idx, value in enumerate(entries):
        if isinstance(value, torch.Tensor) and value.dim() not in (1, 2):
            return f"LSTMCell: Expected hx[{idx}] to be 1D or 2D, got {value.dim()}D instead"
    if not batched:
        try:
            hx[0], hx[1]
        except (IndexError, TypeError) as error:
            return str(error)
        except KeyError:
            return None
        return None  # nn.LSTMCell goes on with the first two
    if isinstance(hx, torch.Tensor):
        return "lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not Tensor"
    return "lstm_cell expects two hidden states"


def check_cell_call(cell, input, hx):
    """``nn.LSTMCell.forward``'s checks of ``input`` and ``hx``, in its order. Returns ``(h, c)`` each
    ``(batch, hidden_size)`` (a batch of 1 for an unbatched input), or None for ``hx=None``."""
    # in Python: the input's dims, then the dims of hx's entries
    _tensor("input", input)
    if input.dim() not in (1, 2):
        raise ValueError(
            _say(
                f"LSTMCell: Expected input to be 1D or 2D, got {input.dim()}D instead",
                f"input should have 2 dims (batch, input_size), or 1 dim (input_size,) without a batch, got {input.dim()} dims with shape {tuple(input.shape)}",
            )
        )
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)  # (batch, input_size)
    expected, layout = ((x.shape[0], cell.hidden_size), "(batch, hidden_size)") if batched else ((cell.hidden_size,), "(hidden_size,)")
    states = []
    if hx is not None:
        if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise LSTMStateError(_say(_what_nn_lstm_cell_says_of_hx(hx, batched), f"hx should be a pair (h, c), got {_pair_description(hx)}"))
        for k, (name, state) in enumerate(zip(("h", "c"), hx)):
            _tensor(name, state)
            if state.dim() not in (1, 2):
                raise LSTMShapeError(_say(f"LSTMCell: Expected hx[{k}] to be 1D or 2D, got {state.dim()}D instead", f"{name} should have shape {layout} = {expected}, got {tuple(state.shape)}"))
            states.append(state if batched else state.unsqueeze(0))

    # in nn.LSTMCell's C++ code: the input's width, then h's batch and width, then c's
    if x.shape[1] != cell.input_size:
        raise LSTMShapeError(
            _say(
                f"input has inconsistent input_size: got {x.shape[1]} expected {cell.input_size}",
                f"input's last dim should be input_size={cell.input_size}, got {input.shape[-1]} (input shape {tuple(input.shape)})",
            )
        )
    for k, (name, state, as_given) in enumerate(zip(("h", "c"), states, hx or ())):
        if tuple(as_given.shape) != expected:
            if state.shape[0] != x.shape[0]:
                pytorch = f"Input batch size {x.shape[0]} doesn't match hidden{k} batch size {state.shape[0]}"
            elif state.dim() > 1 and state.shape[1] != cell.hidden_size:
                pytorch = f"hidden{k} has inconsistent hidden_size: got {state.shape[1]}, expected {cell.hidden_size}"
            else:
                pytorch = None  # nn.LSTMCell fails further in, in other words
            raise LSTMShapeError(_say(pytorch, f"{name} should have shape {layout} = {expected}, got {tuple(as_given.shape)}"))

    # ours: nn.LSTMCell fails in a kernel, in words that depend on it
    _same_dtype("input", input, cell.weight_ih, "the module's parameters")
    _same_device("input", input, cell.weight_ih, "the module's parameters", None)
    for name, state in zip(("h", "c"), states):
        _same_dtype(name, state, input, "input")
        _same_device(name, state, input, "input", None)
    return tuple(states) if hx is not None else None


# ----------------------------------------------------------------------------- plain checks, for lstm_forward


def require_tensor(name, value):
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} should be a torch.Tensor, got {type(value).__name__}")


def require_like(name, tensor, reference, reference_name):
    """Same dtype and device as the reference."""
    _same_dtype(name, tensor, reference, reference_name)
    _same_device(name, tensor, reference, reference_name, None)


def require_shape(name, tensor, expected, layout):
    if tuple(tensor.shape) != tuple(expected):
        raise LSTMShapeError(f"{name} should have shape {layout} = {tuple(expected)}, got {tuple(tensor.shape)}")

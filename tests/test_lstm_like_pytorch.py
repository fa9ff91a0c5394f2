"""What PyTorch's own LSTM tests check (test/test_nn.py, test/test_modules.py with the LSTM and
LSTMCell inputs and error inputs of torch/testing/_internal/common_modules.py), written again
for HandLSTM, FastHandLSTM and HandLSTMCell, with nn.LSTM and nn.LSTMCell as the control.

Where a check compares with nn.LSTM, nn.LSTM runs the same call first: a case it does not pass
is not a case we owe it.
"""

import copy
import io
import pickle

import pytest
import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.nn.utils._per_sample_grad import call_for_per_sample_grads
from torch.nn.utils.rnn import pack_sequence

from lstm_course import HandLSTM, HandLSTMCell
from lstm_course.fast_lstm import FastHandLSTM
from lstm_course.hand_lstm import LSTMDtypeError, LSTMInputError, LSTMShapeError, LSTMTypeError
from tests.test_hand_lstm import _assert_all_close, _loss

LSTMS = {"HandLSTM": HandLSTM, "FastHandLSTM": FastHandLSTM}
F64 = torch.float64


def _twin(cls, *args, dtype=F64, seed=0, **kwargs):
    """nn.LSTM (or nn.LSTMCell) and ``cls`` built with the same arguments and holding the same weights."""
    torch.manual_seed(seed)
    reference = (nn.LSTMCell if cls is HandLSTMCell else nn.LSTM)(*args, dtype=dtype, **kwargs)
    ours = cls(*args, dtype=dtype, **kwargs)
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def _raised(call):
    """The exception ``call()`` raises (the test fails if it raises none)."""
    with pytest.raises(Exception) as info:
        call()
    return info.value


# ----------------------------------------------------------------------------- errors: PyTorch's type, PyTorch's words first
#
# Each case calls nn.LSTM (nn.LSTMCell) and ours with the same arguments. Where PyTorch rejects it
# with words of its own, ours raises an instance of PyTorch's type whose message starts with
# PyTorch's message, word for word, and goes on in the course's words. Where PyTorch has no words
# of its own for it (it fails in a compute kernel, whose words depend on the backend, or in its
# argument parser), only the type must match; each such case says why.

z = torch.zeros
PACKED = lambda: pack_sequence([z(3, 3), z(2, 3)])  # noqa: E731: two sequences, sorted longest first
PACKED_UNSORTED = lambda: pack_sequence([z(2, 3), z(3, 3)], enforce_sorted=False)  # noqa: E731

# (id, nn.LSTM(3, 4, **kwargs), input, hx)
LSTM_CALLS = [
    ("1-D input", {}, lambda: z(5), None),
    ("0-D input", {}, lambda: z(()), None),
    ("4-D input", {}, lambda: z(1, 2, 5, 3), None),
    ("4-D input, hx of one state", {}, lambda: z(1, 2, 5, 3), lambda: (z(1, 2, 4),)),  # the dims come first
    ("input a list", {}, lambda: [[1.0, 2.0, 3.0]], None),
    ("wrong input_size", {}, lambda: z(5, 2, 6), None),
    ("wrong input_size, unbatched", {}, lambda: z(5, 6), None),
    ("wrong input_size, batch_first", dict(batch_first=True), lambda: z(2, 5, 6), None),
    ("wrong input_size and wrong h_0", {}, lambda: z(5, 2, 6), lambda: (z(2, 2, 4), z(1, 2, 4))),  # the input comes first
    ("input dtype", {}, lambda: z(5, 2, 3, dtype=F64), None),
    ("input of integers", {}, lambda: z(5, 2, 3, dtype=torch.int64), None),
    ("input dtype and wrong input_size", {}, lambda: z(5, 2, 6, dtype=F64), None),  # the dtype comes first
    ("input dtype, 3-D hx for an unbatched input", {}, lambda: z(5, 3, dtype=F64), lambda: (z(1, 1, 4), z(1, 1, 4))),  # hx's dims come first
    ("empty sequence", {}, lambda: z(0, 2, 3), None),
    ("empty sequence, batch_first", dict(batch_first=True), lambda: z(2, 0, 3), None),
    ("empty sequence, unbatched", {}, lambda: z(0, 3), None),
    ("empty sequence, with hx", {}, lambda: z(0, 2, 3), lambda: (z(1, 2, 4), z(1, 2, 4))),
    ("empty sequence, h_0 dtype", {}, lambda: z(0, 2, 3), lambda: (z(1, 2, 4, dtype=F64), z(1, 2, 4))),  # the length comes first
    ("input on another device", {}, lambda: z(5, 2, 3, device="meta"), None),
    ("empty sequence on another device", {}, lambda: z(0, 2, 3, device="meta"), None),  # the device comes first
    ("h_0 on another device", {}, lambda: z(5, 2, 3), lambda: (z(1, 2, 4, device="meta"), z(1, 2, 4))),
    ("c_0 on another device", {}, lambda: z(5, 2, 3), lambda: (z(1, 2, 4), z(1, 2, 4, device="meta"))),
    ("hx a tensor", {}, lambda: z(5, 2, 3), lambda: z(1, 2, 4)),
    ("hx a tensor of two 2-D rows", {}, lambda: z(5, 2, 3), lambda: z(2, 2, 4)),
    ("hx a tensor, unbatched", {}, lambda: z(5, 3), lambda: z(1, 4)),
    ("hx of one state", {}, lambda: z(5, 2, 3), lambda: (z(1, 2, 4),)),
    ("hx of one state, unbatched", {}, lambda: z(5, 3), lambda: (z(1, 4),)),
    ("hx a list of one state", {}, lambda: z(5, 2, 3), lambda: [z(1, 2, 4)]),
    ("hx empty", {}, lambda: z(5, 2, 3), lambda: ()),
    ("hx of three states", {}, lambda: z(5, 2, 3), lambda: (z(1, 2, 4),) * 3),
    ("hx of three states, wrong h_0", {}, lambda: z(5, 2, 3), lambda: (z(2, 2, 4), z(1, 2, 4), z(1, 2, 4))),  # the shapes come first
    ("h_0 a list", {}, lambda: z(5, 2, 3), lambda: ([0.0], z(1, 2, 4))),
    ("c_0 a list", {}, lambda: z(5, 2, 3), lambda: (z(1, 2, 4), [0.0])),
    ("h_0 for 2 layers", {}, lambda: z(5, 2, 3), lambda: (z(2, 2, 4), z(2, 2, 4))),
    ("h_0 for another batch", {}, lambda: z(5, 2, 3), lambda: (z(1, 3, 4), z(1, 3, 4))),
    ("h_0 for another batch, batch_first", dict(batch_first=True), lambda: z(2, 5, 3), lambda: (z(1, 5, 4), z(1, 5, 4))),
    ("c_0 too wide", {}, lambda: z(5, 2, 3), lambda: (z(1, 2, 4), z(1, 2, 5))),
    ("h_0 of hidden_size with proj_size", dict(proj_size=2), lambda: z(5, 2, 3), lambda: (z(1, 2, 4), z(1, 2, 4))),
    ("c_0 of proj_size", dict(proj_size=2), lambda: z(5, 2, 3), lambda: (z(1, 2, 2), z(1, 2, 2))),
    ("bidirectional, h_0 for one direction", dict(bidirectional=True), lambda: z(5, 2, 3), lambda: (z(1, 2, 4), z(1, 2, 4))),
    ("unbatched, h_0 for 2 layers", {}, lambda: z(5, 3), lambda: (z(2, 4), z(1, 4))),
    ("unbatched, c_0 too wide", {}, lambda: z(5, 3), lambda: (z(1, 4), z(1, 5))),
    ("unbatched input, 3-D hx", {}, lambda: z(5, 3), lambda: (z(1, 1, 4), z(1, 1, 4))),
    ("unbatched input, 3-D h_0", {}, lambda: z(5, 3), lambda: (z(1, 1, 4), z(1, 4))),
    ("batched input, 2-D hx", {}, lambda: z(5, 2, 3), lambda: (z(1, 4), z(1, 4))),
    ("batched input, 2-D c_0", {}, lambda: z(5, 2, 3), lambda: (z(1, 2, 4), z(1, 4))),
    ("packed, hx of one state, unsorted", {}, PACKED_UNSORTED, lambda: (z(1, 2, 4),)),
    ("packed, hx of one state, sorted", {}, PACKED, lambda: (z(1, 2, 4),)),
    ("packed, hx a tensor, unsorted", {}, PACKED_UNSORTED, lambda: z(1, 2, 4)),
]

# (id, kwargs, input, hx, why PyTorch's words are not ours): only the type must match
LSTM_CALLS_WITHOUT_PYTORCH_WORDS = [
    ("h_0 dtype", {}, lambda: z(5, 2, 3), lambda: (z(1, 2, 4, dtype=F64), z(1, 2, 4)), "a kernel's: get_mkldnn_dtype on a CPU"),
    ("c_0 dtype", {}, lambda: z(5, 2, 3), lambda: (z(1, 2, 4), z(1, 2, 4, dtype=F64)), "a kernel's: get_mkldnn_dtype on a CPU"),
    ("h_0 dtype, unbatched", {}, lambda: z(5, 3), lambda: (z(1, 4, dtype=F64), z(1, 4)), "a kernel's: get_mkldnn_dtype on a CPU"),
    ("hx a tensor of 3-D rows", {}, lambda: z(5, 2, 3), lambda: z(2, 1, 2, 4), "the argument parser's list of lstm()'s signatures"),
    ("packed, wrong input_size", {}, lambda: pack_sequence([z(3, 5), z(2, 5)]), None, "a matmul's: no check before the kernel for a PackedSequence"),
    ("packed, input dtype", {}, lambda: pack_sequence([z(3, 3, dtype=F64)]), None, "a matmul's"),
    ("packed, h_0 for another batch", {}, PACKED, lambda: (z(1, 3, 4), z(1, 3, 4)), "a kernel's"),
    ("packed, c_0 too wide", {}, PACKED, lambda: (z(1, 2, 4), z(1, 2, 5)), "a kernel's"),
    ("packed, h_0 dtype", {}, PACKED, lambda: (z(1, 2, 4, dtype=F64), z(1, 2, 4)), "a matmul's"),
    ("packed, on another device", {}, lambda: pack_sequence([z(3, 3, device="meta")]), None, "the meta backend's"),
    ("packed, hx a tensor, sorted", {}, PACKED, lambda: z(1, 2, 4), "the argument parser's list of lstm()'s signatures"),
]


def _call(module, make_input, make_hx):
    return _raised(lambda: module(make_input(), make_hx() if make_hx else None))


def _assert_same_type(ours, theirs, what):
    assert isinstance(ours, type(theirs)), f"{what}: PyTorch raised {type(theirs).__name__}: {theirs}; ours {type(ours).__name__}: {ours}"


def _assert_pytorchs_words_first(ours, theirs, what):
    _assert_same_type(ours, theirs, what)
    assert str(ours).startswith(str(theirs)), f"{what}: PyTorch says {str(theirs)!r}; ours {str(ours)!r}"
    assert len(str(ours)) > len(str(theirs)) + 10, f"{what}: the course's explanation is missing: {str(ours)!r}"


@pytest.mark.parametrize("module", list(LSTMS))
@pytest.mark.parametrize("name, kwargs, make_input, make_hx", LSTM_CALLS, ids=[case[0] for case in LSTM_CALLS])
def test_bad_calls_raise_nn_lstms_type_with_its_message_first(module, name, kwargs, make_input, make_hx):
    theirs = _call(nn.LSTM(3, 4, **kwargs), make_input, make_hx)
    ours = _call(LSTMS[module](3, 4, **kwargs), make_input, make_hx)
    _assert_pytorchs_words_first(ours, theirs, name)
    assert isinstance(ours, (LSTMInputError, ValueError))


@pytest.mark.parametrize("module", list(LSTMS))
@pytest.mark.parametrize("name, kwargs, make_input, make_hx, why", LSTM_CALLS_WITHOUT_PYTORCH_WORDS, ids=[case[0] for case in LSTM_CALLS_WITHOUT_PYTORCH_WORDS])
def test_bad_calls_pytorch_has_no_words_for_raise_its_type(module, name, kwargs, make_input, make_hx, why):
    theirs = _call(nn.LSTM(3, 4, **kwargs), make_input, make_hx)
    ours = _call(LSTMS[module](3, 4, **kwargs), make_input, make_hx)
    _assert_same_type(ours, theirs, name)
    assert isinstance(ours, LSTMInputError)


# (id, input, hx) for nn.LSTMCell(3, 5)
CELL_CALLS = [
    ("3-D input", lambda: z(2, 2, 3), None),
    ("0-D input", lambda: z(()), None),
    ("3-D input, 4-D hx", lambda: z(2, 2, 3), lambda: (z(2, 1, 1, 5), z(2, 5))),  # the input comes first
    ("input a list", lambda: [1.0, 2.0, 3.0], None),
    ("wrong input_size", lambda: z(2, 4), None),
    ("wrong input_size, unbatched", lambda: z(4), None),
    ("wrong input_size and dtype", lambda: z(2, 4, dtype=F64), None),  # the size comes first
    ("wrong input_size, h for another batch", lambda: z(2, 4), lambda: (z(3, 5), z(3, 5))),  # the input comes first
    ("hx a tensor", lambda: z(2, 3), lambda: z(2, 5)),
    ("hx a 3-D tensor", lambda: z(2, 3), lambda: z(2, 2, 5)),
    ("hx a 1-D tensor", lambda: z(2, 3), lambda: z(5)),
    ("hx a 4-D tensor", lambda: z(2, 3), lambda: z(2, 2, 1, 5)),
    ("hx a tensor, unbatched", lambda: z(3), lambda: z(1, 5)),
    ("hx of one state", lambda: z(2, 3), lambda: (z(2, 5),)),
    ("hx of one state, unbatched", lambda: z(3), lambda: (z(5),)),
    ("hx a list of one state, unbatched", lambda: z(3), lambda: [z(5)]),
    ("hx empty", lambda: z(2, 3), lambda: ()),
    ("hx of three states", lambda: z(2, 3), lambda: (z(2, 5),) * 3),
    ("hx of three states, wrong input_size", lambda: z(2, 4), lambda: (z(2, 5),) * 3),  # the count comes first
    ("hx of three states, the third 4-D", lambda: z(2, 3), lambda: (z(2, 5), z(2, 5), z(1, 1, 1, 1))),
    ("h a list", lambda: z(2, 3), lambda: ([0.0], z(2, 5))),
    ("c a list", lambda: z(2, 3), lambda: (z(2, 5), [0.0])),
    ("h for another batch", lambda: z(2, 3), lambda: (z(3, 5), z(3, 5))),
    ("c for another batch", lambda: z(2, 3), lambda: (z(2, 5), z(3, 5))),
    ("h too wide", lambda: z(2, 3), lambda: (z(2, 6), z(2, 6))),
    ("c too wide", lambda: z(2, 3), lambda: (z(2, 5), z(2, 6))),
    ("h too wide, c for another batch", lambda: z(2, 3), lambda: (z(2, 6), z(3, 5))),  # h comes first
    ("h for another batch, too wide", lambda: z(2, 3), lambda: (z(3, 6), z(2, 5))),  # its batch comes first
    ("4-D h", lambda: z(2, 3), lambda: (z(2, 1, 1, 5), z(2, 1, 1, 5))),
    ("4-D c", lambda: z(2, 3), lambda: (z(2, 5), z(2, 1, 1, 5))),
    ("batched input, 1-D h", lambda: z(2, 3), lambda: (z(5), z(2, 5))),
    ("unbatched input, 2-D h", lambda: z(3), lambda: (z(1, 5), z(5))),
    ("unbatched input, 2-D c", lambda: z(3), lambda: (z(5), z(1, 5))),
    ("unbatched input, h too wide", lambda: z(3), lambda: (z(6), z(5))),
]

CELL_CALLS_WITHOUT_PYTORCH_WORDS = [
    ("input dtype", lambda: z(2, 3, dtype=F64), None, "a matmul's, which differ with and without a bias"),
    ("h dtype", lambda: z(2, 3), lambda: (z(2, 5, dtype=F64), z(2, 5)), "a matmul's"),
    ("input on another device", lambda: z(2, 3, device="meta"), None, "the meta backend's"),
    ("h on another device", lambda: z(2, 3), lambda: (z(2, 5, device="meta"), z(2, 5)), "the meta backend's"),
]


@pytest.mark.parametrize("name, make_input, make_hx", CELL_CALLS, ids=[case[0] for case in CELL_CALLS])
def test_bad_cell_calls_raise_nn_lstm_cells_type_with_its_message_first(name, make_input, make_hx):
    theirs = _call(nn.LSTMCell(3, 5), make_input, make_hx)
    ours = _call(HandLSTMCell(3, 5), make_input, make_hx)
    _assert_pytorchs_words_first(ours, theirs, name)


@pytest.mark.parametrize("name, make_input, make_hx, why", CELL_CALLS_WITHOUT_PYTORCH_WORDS, ids=[case[0] for case in CELL_CALLS_WITHOUT_PYTORCH_WORDS])
def test_bad_cell_calls_pytorch_has_no_words_for_raise_its_type(name, make_input, make_hx, why):
    theirs = _call(nn.LSTMCell(3, 5), make_input, make_hx)
    _assert_same_type(_call(HandLSTMCell(3, 5), make_input, make_hx), theirs, name)


CONSTRUCTORS = [  # common_modules.py's construction errors for the recurrent modules, and more
    dict(hidden_size=0), dict(hidden_size=-1), dict(hidden_size=5.0), dict(hidden_size="5"),
    dict(input_size=0), dict(input_size=-1), dict(input_size=3.0), dict(input_size="10"),
    dict(num_layers=0), dict(num_layers=-2),
    dict(bias=0), dict(bias=1), dict(bias="True"), dict(bias=None),
    dict(batch_first=0), dict(batch_first=1), dict(batch_first="False"),
    dict(dropout=1.5), dict(dropout=-0.1), dict(dropout=float("nan")), dict(dropout=True), dict(dropout="0.5"),
    dict(dropout=None), dict(dropout="a half"),  # float() fails first, with Python's words
    dict(proj_size=-1), dict(proj_size=5), dict(proj_size=6),
    dict(bias=0, hidden_size=0), dict(hidden_size=0, dropout=2.0), dict(input_size=0, hidden_size=0),  # in nn.LSTM's order
]
CONSTRUCTORS_WITHOUT_PYTORCH_WORDS = [  # nn.LSTM has no check for these: it fails further in, in range() or torch.empty
    dict(num_layers=2.0), dict(num_layers="2"), dict(proj_size=2.0), dict(proj_size="1"),
]


@pytest.mark.parametrize("module", list(LSTMS))
@pytest.mark.parametrize("kwargs", CONSTRUCTORS, ids=str)
def test_bad_constructor_arguments_raise_nn_lstms_type_with_its_message_first(module, kwargs):
    arguments = {"input_size": 3, "hidden_size": 5, **kwargs}
    theirs = _raised(lambda: nn.LSTM(**arguments))
    _assert_pytorchs_words_first(_raised(lambda: LSTMS[module](**arguments)), theirs, str(kwargs))


@pytest.mark.parametrize("module", list(LSTMS))
@pytest.mark.parametrize("kwargs", CONSTRUCTORS_WITHOUT_PYTORCH_WORDS, ids=str)
def test_bad_constructor_arguments_pytorch_has_no_words_for_raise_its_type(module, kwargs):
    arguments = {"input_size": 3, "hidden_size": 5, **kwargs}
    _assert_same_type(_raised(lambda: LSTMS[module](**arguments)), _raised(lambda: nn.LSTM(**arguments)), str(kwargs))


@pytest.mark.parametrize("kwargs", [dict(hidden_size=-1), dict(input_size=-1), dict(hidden_size=5.0), dict(input_size=3.0)], ids=str)
def test_bad_cell_constructor_arguments_raise_the_type_nn_lstm_cell_raises(kwargs):
    """nn.LSTMCell checks none of its arguments and fails in torch.empty; ours says what nn.LSTM would."""
    arguments = {"input_size": 3, "hidden_size": 5, **kwargs}
    ours = _raised(lambda: HandLSTMCell(**arguments))
    _assert_same_type(ours, _raised(lambda: nn.LSTMCell(**arguments)), str(kwargs))
    assert str(ours).startswith(str(_raised(lambda: nn.LSTM(**arguments))))


@pytest.mark.parametrize("module", list(LSTMS))
def test_the_dropout_warning_starts_with_nn_lstms(module):
    with pytest.warns(UserWarning) as theirs:
        nn.LSTM(3, 5, dropout=0.2)
    with pytest.warns(UserWarning) as ours:
        LSTMS[module](3, 5, dropout=0.2)
    assert str(ours[0].message).startswith(str(theirs[0].message))
    assert ours[0].filename == __file__  # the warning points at the caller's line


def test_old_and_new_except_clauses_both_catch_our_errors():
    hand = HandLSTM(3, 4)
    for caught in (RuntimeError, ValueError, LSTMShapeError):
        with pytest.raises(caught, match="input's last dim should be input_size=3, got 6"):
            hand(torch.zeros(5, 2, 6))
    for caught in (ValueError, TypeError, LSTMDtypeError):
        with pytest.raises(caught, match="input has dtype torch.float64 but the module's parameters have dtype torch.float32"):
            hand(torch.zeros(5, 2, 3, dtype=F64))
    for caught in (AttributeError, TypeError, LSTMTypeError):  # nn.LSTM's type, and the one HandLSTM raised before
        with pytest.raises(caught, match="input should be a torch.Tensor, got list"):
            hand([[1.0, 2.0, 3.0]])


# ----------------------------------------------------------------------------- forward and gradients


@pytest.mark.parametrize("module", list(LSTMS))
def test_a_batch_of_zero_sequences_gives_empty_results_as_nn_lstm(module):
    reference, ours = _twin(LSTMS[module], 3, 4, num_layers=2, bidirectional=True, proj_size=2)
    results = []
    for lstm in (reference, ours):
        x = torch.zeros(5, 0, 3, dtype=F64, requires_grad=True)
        output, (h_n, c_n) = lstm(x)
        (output.sum() + h_n.sum() + c_n.sum()).backward()
        results.append([output, h_n, c_n, x.grad, *(p.grad for p in lstm.parameters())])
    _assert_all_close(results[1], results[0], 0, "batch 0")


def test_a_cell_takes_a_batch_of_zero_rows():
    reference, ours = _twin(HandLSTMCell, 3, 5)
    _assert_all_close(list(ours(torch.zeros(0, 3, dtype=F64))), list(reference(torch.zeros(0, 3, dtype=F64))), 0, "cell batch 0")


def _function_of(module, *inputs_after_x):
    """``module``'s outputs as a function of x and every parameter, for gradcheck."""
    names = [name for name, _ in module.named_parameters()]

    def outputs(x, *parameters):
        output, (h_n, c_n) = functional_call(module, dict(zip(names, parameters)), (x, *inputs_after_x))
        return output, h_n, c_n

    return outputs


GRADCHECK_CONFIGS = [  # small, as test_modules.py's test_grad and test_gradgrad take them
    (dict(num_layers=2), (3, 2, 2)),
    (dict(num_layers=2, bidirectional=True, proj_size=2, batch_first=True), (2, 3, 2)),
    (dict(bias=False), (3, 2)),  # unbatched
]


@pytest.mark.parametrize("module", list(LSTMS))
@pytest.mark.parametrize("config, shape", GRADCHECK_CONFIGS)
def test_gradients_and_second_derivatives_pass_gradcheck(module, config, shape):
    lstm = LSTMS[module](2, 3, dtype=F64, **config)
    x = torch.randn(*shape, dtype=F64, requires_grad=True)
    inputs = (x, *lstm.parameters())
    # check_batched_grad: a batch of gradients at once under vmap, as test_modules.py asks
    assert torch.autograd.gradcheck(_function_of(lstm), inputs, check_batched_grad=True)
    assert torch.autograd.gradgradcheck(_function_of(lstm), inputs, check_batched_grad=True)


@pytest.mark.parametrize("module", list(LSTMS))
def test_gradcheck_through_a_packed_sequence(module):
    lstm = LSTMS[module](2, 3, bidirectional=True, dtype=F64)
    sequences = [torch.randn(n, 2, dtype=F64, requires_grad=True) for n in (2, 3, 1)]
    names = [name for name, _ in lstm.named_parameters()]

    def outputs(*tensors):
        packed = pack_sequence(list(tensors[:3]), enforce_sorted=False)
        output, (h_n, c_n) = functional_call(lstm, dict(zip(names, tensors[3:])), (packed,))
        return output.data, h_n, c_n

    inputs = (*sequences, *lstm.parameters())
    assert torch.autograd.gradcheck(outputs, inputs, check_batched_grad=True)
    assert torch.autograd.gradgradcheck(outputs, inputs, check_batched_grad=True)


def test_the_cell_passes_gradcheck_and_gradgradcheck():
    cell = HandLSTMCell(2, 3, dtype=F64)
    x, h, c = (torch.randn(4, n, dtype=F64, requires_grad=True) for n in (2, 3, 3))
    names = [name for name, _ in cell.named_parameters()]

    def outputs(x, h, c, *parameters):
        return functional_call(cell, dict(zip(names, parameters)), (x, (h, c)))

    assert torch.autograd.gradcheck(outputs, (x, h, c, *cell.parameters()), check_batched_grad=True)
    assert torch.autograd.gradgradcheck(outputs, (x, h, c, *cell.parameters()), check_batched_grad=True)


@pytest.mark.parametrize("module", list(LSTMS))
def test_double_backward_equals_nn_lstms(module):
    """A gradient penalty (create_graph=True) gives nn.LSTM's second-order gradients, not zeros."""
    reference, ours = _twin(LSTMS[module], 3, 4, num_layers=2)
    results = []
    for lstm in (reference, ours):
        x = torch.randn(5, 2, 3, dtype=F64, generator=torch.Generator().manual_seed(1), requires_grad=True)
        (d_x,) = torch.autograd.grad(_loss(*_flat(lstm(x))), x, create_graph=True)
        results.append(torch.autograd.grad((d_x**2).sum(), [x, *lstm.parameters()]))
    assert results[0][0].abs().max() > 0
    _assert_all_close(list(results[1]), list(results[0]), 1e-10, "second order")


def _flat(result):
    output, (h_n, c_n) = result
    return output, h_n, c_n


@pytest.mark.parametrize("module", list(LSTMS))
def test_non_contiguous_input_and_states_give_the_same_results(module):
    _, lstm = _twin(LSTMS[module], 3, 4, num_layers=2, bidirectional=True)
    x = torch.randn(2, 5, 3, dtype=F64).transpose(0, 1)  # (seq, batch, input_size), not contiguous
    h_0, c_0 = (torch.randn(2, 4, 4, dtype=F64).transpose(0, 1) for _ in range(2))  # (4, 2, 4)
    assert not (x.is_contiguous() or h_0.is_contiguous())
    dense = [t.contiguous().requires_grad_() for t in (x, h_0, c_0)]
    strided = [t.requires_grad_() for t in (x, h_0, c_0)]
    results = []
    for x, h, c in (dense, strided):
        out = _flat(lstm(x, (h, c)))
        results.append([*out, *torch.autograd.grad(_loss(*out), [x, h, c, *lstm.parameters()])])
    _assert_all_close(results[1], results[0], 1e-12, "non-contiguous")


@pytest.mark.parametrize("module", list(LSTMS))
def test_no_hx_is_zero_hx(module):
    lstm = LSTMS[module](3, 4, num_layers=2, proj_size=2)
    x = torch.randn(5, 2, 3)
    zeros = (torch.zeros(2, 2, 2), torch.zeros(2, 2, 4))
    _assert_all_close(_flat(lstm(x)), _flat(lstm(x, zeros)), 0, "hx=None")


@pytest.mark.parametrize("module", list(LSTMS))
def test_backward_twice_with_retain_graph(module):
    lstm = LSTMS[module](3, 4)
    output, _ = lstm(torch.randn(5, 2, 3))
    output.sum().backward(retain_graph=True)
    first = lstm.weight_hh_l0.grad.clone()
    output.sum().backward()
    torch.testing.assert_close(lstm.weight_hh_l0.grad, 2 * first)


@pytest.mark.parametrize("module", list(LSTMS))
@pytest.mark.parametrize("p", [0.0, 1.0])
def test_dropout_of_zero_and_one_as_nn_lstm(module, p):
    reference, ours = _twin(LSTMS[module], 3, 4, num_layers=3, dropout=p)
    x = torch.randn(5, 2, 3, dtype=F64)
    _assert_all_close(_flat(ours(x)), _flat(reference(x)), 1e-12, f"dropout={p}")


# ----------------------------------------------------------------------------- the module


@pytest.mark.parametrize("module", list(LSTMS))
def test_flat_weights_and_all_weights_as_nn_lstm(module):
    reference, ours = _twin(LSTMS[module], 3, 5, num_layers=2, bidirectional=True, proj_size=2, bias=False)
    assert ours._flat_weights_names == reference._flat_weights_names
    assert ours._all_weights == reference._all_weights
    assert [[w.shape for w in ws] for ws in ours.all_weights] == [[w.shape for w in ws] for ws in reference.all_weights]
    assert all(a is getattr(ours, name) for a, name in zip(ours._flat_weights, ours._flat_weights_names))
    assert ours.mode == reference.mode == "LSTM"
    for names in ours.all_weights:  # an initialisation loop written for nn.LSTM
        for weight in names:
            nn.init.constant_(weight, 0.5)
    assert all((p == 0.5).all() for p in ours.parameters())


@pytest.mark.parametrize("module", list(LSTMS))
@pytest.mark.parametrize("name", ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "weight_hr_l0"])
def test_weight_norm_reparametrises_one_weight(module, name):
    """test_nn.py's test_rnn_weight_norm: the reparametrised weight leaves _flat_weights' Parameters, and comes back."""
    lstm = LSTMS[module](3, 5, proj_size=2)
    x = torch.randn(4, 2, 3)
    before = lstm(x)[0]
    torch.nn.utils.weight_norm(lstm, name=name)
    assert sum(isinstance(w, nn.Parameter) for w in lstm._flat_weights) == 4
    torch.testing.assert_close(lstm(x)[0], before)  # w = g * v / |v| is w at first
    torch.nn.utils.remove_weight_norm(lstm, name=name)
    assert sum(isinstance(w, nn.Parameter) for w in lstm._flat_weights) == 5
    assert name in lstm._parameters and name + "_g" not in dict(lstm.named_parameters())


@pytest.mark.parametrize("module", list(LSTMS))
def test_tied_weights_stay_one_parameter(module):
    lstm = LSTMS[module](4, 4, num_layers=2)
    lstm.weight_hh_l1 = lstm.weight_hh_l0  # weight tying, as in language models
    lstm(torch.randn(3, 2, 4))[0].sum().backward()
    assert lstm.weight_hh_l1 is lstm.weight_hh_l0 and lstm.weight_hh_l0.grad is not None
    assert len(list(lstm.parameters())) == 7


@pytest.mark.parametrize("cls", [HandLSTM, FastHandLSTM, HandLSTMCell])
def test_pickle_deepcopy_and_torch_save_keep_the_results(cls):
    module = cls(3, 4)
    x = torch.randn(5, 2, 3) if cls is not HandLSTMCell else torch.randn(2, 3)
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    buffer.seek(0)
    loaded = cls(3, 4)
    loaded.load_state_dict(torch.load(buffer, weights_only=True))
    for copy_ in (pickle.loads(pickle.dumps(module)), copy.deepcopy(module), loaded):
        torch.testing.assert_close(copy_(x), module(x))


@pytest.mark.parametrize("cls", [HandLSTM, FastHandLSTM, HandLSTMCell])
def test_factory_kwargs_and_to_as_nn(cls):
    module = cls(3, 4, dtype=F64, device="meta")
    assert all(p.dtype == F64 and p.device.type == "meta" for p in module.parameters())
    module = cls(3, 4).to(F64)
    x = torch.randn(5, 2, 3, dtype=F64) if cls is not HandLSTMCell else torch.randn(2, 3, dtype=F64)
    assert all(t.dtype == F64 for t in torch.utils._pytree.tree_leaves(module(x)))


@pytest.mark.parametrize("cls", [HandLSTM, FastHandLSTM])
def test_train_and_eval_differ_only_with_dropout(cls):
    lstm = cls(3, 4, num_layers=2, dropout=0.5)
    x = torch.randn(5, 2, 3)
    torch.manual_seed(0)
    train = lstm(x)[0]
    lstm.eval()
    assert not torch.allclose(lstm(x)[0], train)
    torch.testing.assert_close(lstm(x)[0], lstm(x)[0])


# ----------------------------------------------------------------------------- per-sample gradients and vmap


@pytest.mark.parametrize("module", list(LSTMS))
@pytest.mark.parametrize("batch_first", [True, False])
def test_per_sample_gradients_equal_nn_lstms(module, batch_first):
    reference, ours = _twin(LSTMS[module], 3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = torch.randn(5, 6, 3, dtype=F64)  # batch 5 or 6, by batch_first
    samples = []
    for lstm in (reference, ours):
        output, _ = call_for_per_sample_grads(lstm, batch_first=batch_first)(x)
        output.sin().sum().backward()
        samples.append([p.grad_sample for p in lstm.parameters()])
    assert samples[1][0].shape[0] == (5 if batch_first else 6)
    _assert_all_close(samples[1], samples[0], 1e-10, "grad_sample")


@pytest.mark.parametrize("module", list(LSTMS))
def test_vmap_of_grad_gives_each_samples_gradient(module):
    lstm = LSTMS[module](3, 4, num_layers=2, dtype=F64)
    params = {name: p.detach() for name, p in lstm.named_parameters()}
    x = torch.randn(4, 5, 3, dtype=F64)  # (batch, seq, input_size); each sample unbatched

    def loss(params, sample):
        return functional_call(lstm, params, (sample,))[0].sin().sum()

    per_sample = vmap(grad(loss), in_dims=(None, 0))(params, x)
    for k in range(4):
        one = grad(loss)(params, x[k])
        for name in params:
            torch.testing.assert_close(per_sample[name][k], one[name])
    lstm.zero_grad()
    functional_call(lstm, {n: p.requires_grad_() for n, p in params.items()}, (x[0],))[0].sin().sum().backward()
    torch.testing.assert_close(params["weight_hh_l0"].grad, per_sample["weight_hh_l0"][0])  # and autograd agrees

"""The checks of notebook 03: stubs are not attempted, typical wrong answers are named, right answers pass."""

import numpy as np
import pytest
import torch

import lstm_course
from lstm_course import numpy_lstm
from lstm_course.checks import check_lstm_forward, check_lstm_forward_reverse, check_two_layer_forward
from lstm_course.hand_lstm import lstm_forward_tiled


def stub(*args):
    raise NotImplementedError()


def assert_fails_naming(result, words):
    """The check failed, its message holds each of ``words`` and ends in one punctuation mark."""
    assert result.status == "failed", result
    for word in words:
        assert word in result.message, (word, result.message)
    assert result.message[-1] in ".?" and result.message[-2] not in ".?"


def lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh, order="ifgo", mistake=None, reverse=False):
    """The notebook's solution, with one typical mistake switched on by ``mistake``."""
    h, c = initial_states
    x_proj = (input @ w_ih if mistake == "transposed w_ih" else input @ w_ih.T) + b_ih
    x_proj = x_proj if mistake == "no b_hh" else x_proj + b_hh
    outputs = [None] * input.shape[1]
    for t in reversed(range(input.shape[1])) if reverse else range(input.shape[1]):
        h_prev = initial_states[0] if mistake == "h reset" else h
        gates = dict(zip(order, (x_proj[:, t] + h_prev @ w_hh.T).chunk(4, dim=1)))
        c = torch.sigmoid(gates["f"]) * c + torch.sigmoid(gates["i"]) * torch.tanh(gates["g"])
        h_new = torch.sigmoid(gates["o"]) * (c if mistake == "no tanh c" else torch.tanh(c))
        outputs[t] = h_prev if mistake == "output starts at h_0" else h_new
        h = h_new
    output = torch.stack(outputs, dim=0 if mistake == "seq first" else 1)
    if mistake == "reversed output":
        output = output.flip(1)
    h_n = h if mistake == "h_n without layer dim" else h[None]
    if mistake == "h_n from the end":
        h_n = output[None, :, -1]
    return output, (h_n, c[None])


def with_mistake(mistake=None, order="ifgo", reverse=False):
    def answer(input, initial_states, w_ih, w_hh, b_ih, b_hh):
        return lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh, order=order, mistake=mistake, reverse=reverse)

    return answer


def split_and_preallocate(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """A differently written correct answer: torch.split, a preallocated output, F.linear."""
    h, c = initial_states
    batch, seq, _ = input.shape
    hidden = w_hh.shape[1]
    x_proj = torch.nn.functional.linear(input, w_ih, b_ih + b_hh)  # (batch, seq, 4 * hidden)
    output = torch.empty(batch, seq, hidden, dtype=input.dtype)
    for t in range(seq):
        i, f, g, o = torch.split(x_proj[:, t] + h @ w_hh.T, hidden, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        output[:, t] = h
    return output, (h.unsqueeze(0), c.unsqueeze(0))


def in_numpy(input, initial_states, *weights):
    """A correct answer that converts to NumPy and back (the package's NumPy twin)."""
    return numpy_lstm.lstm_forward(input.numpy(), *(s.numpy() for s in initial_states), *(w.numpy() for w in weights))


def in_float32(input, initial_states, *weights):
    """A correct answer computed and returned in float32: judged at float32 tolerance."""
    return lstm_forward(input.float(), [s.float() for s in initial_states], *(w.float() for w in weights))


# --- lstm_forward -----------------------------------------------------------------------------


def test_forward_stub_is_not_attempted():
    assert check_lstm_forward(stub).status == "not attempted yet"


@pytest.mark.parametrize(
    "answer",
    [lstm_forward, split_and_preallocate, in_numpy, in_float32, lstm_course.lstm_forward, lstm_forward_tiled],
    ids=["solution", "split-preallocated", "numpy", "float32", "package", "tiled"],
)
def test_forward_right_answers_pass(answer):
    result = check_lstm_forward(answer)
    assert result, result


def _float32_inside(input, initial_states, *weights):
    output, (h_n, c_n) = lstm_forward(input.float(), [s.float() for s in initial_states], *(w.float() for w in weights))
    return output.double(), (h_n.double(), c_n.double())


def _ignores_its_arguments(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """Computes with weights of the notebook's size, not the ones it is given."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(4, 6, batch_first=True, dtype=torch.float64)
    return lstm(torch.randn(3, 5, 4, dtype=torch.float64))


@pytest.mark.parametrize(
    "answer, words",
    [
        (with_mistake(order="figo"), ["order f, i, g, o", "most diagrams", "i, f, g, o"]),
        (with_mistake(order="ifog"), ["order i, f, o, g"]),
        (with_mistake("no b_hh"), ["left out b_hh"]),
        (with_mistake("no tanh c"), ["tanh on the cell state"]),
        (with_mistake("h reset"), ["starts from h_0", "carry h"]),
        (with_mistake("output starts at h_0"), ["output[:, 0] is h_0", "after computing step t"]),
        (with_mistake("seq first"), ["(seq, batch, hidden) = (5, 2, 4)", "along dim 1"]),
        (with_mistake("h_n without layer dim"), ["h_n should have shape (1, batch, hidden) = (1, 2, 4)", "got (2, 4)", "leading dim"]),
        (with_mistake("transposed w_ih"), ["mat1 and mat2 shapes cannot be multiplied", "in the line `x_proj = (input @ w_ih",
                                           "w_ih: Tensor of shape (16, 3)", "w_ih.T"]),
        (with_mistake("reversed output"), ["reversed time order"]),
        (_float32_inside, ["only to float32 precision", "dtype"]),
        (_ignores_its_arguments, ["Case 1 (batch 2, seq 5, input_size 3, hidden 4)", "should have shape"]),
        (lambda x, s, *w: lstm_forward(x, s, *w)[0], ["return output, (h_n, c_n)"]),
        (lambda x, s, *w: (lstm_forward(x, s, *w)[0], lstm_forward(x, s, *w)[1][::-1]), ["h_n holds c_n"]),
        (lambda x, s, *w: None, ["returned None"]),
        (lambda x, s, w_ih, w_hh, b_ih, b_hh: lstm_forward(x, s, w_ih, w_hh, b_ih, b_hh.add_(1)), ["changed its argument `b_hh` in place"]),
    ],
    ids=["gates-fi", "gates-og", "no-b_hh", "no-tanh-c", "h-reset", "off-by-one", "seq-first", "h_n-shape", "transposed",
         "reversed", "float32-inside", "notebook-globals", "no-states", "h-c-swapped", "no-return", "in-place"],
)
def test_forward_wrong_answers_are_named(answer, words):
    assert_fails_naming(check_lstm_forward(answer), words)


def test_forward_unseen_sizes_catch_an_answer_that_only_fits_the_first():
    """Right on batch 2, wrong where batch is 1: the check says which case."""
    def squeezes(input, initial_states, *weights):
        output, (h_n, c_n) = lstm_forward(input, initial_states, *weights)
        return output.squeeze(), (h_n, c_n)

    result = check_lstm_forward(squeezes)
    assert not result and "Case 2 (batch 1, seq 4, input_size 2, hidden 3)" in result.message


def test_an_answer_that_edits_its_weights_cannot_pass_and_the_check_stays_right():
    def scales_w_hh(input, initial_states, w_ih, w_hh, b_ih, b_hh):
        w_hh *= 0
        return lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh)

    assert "changed its argument `w_hh` in place" in check_lstm_forward(scales_w_hh).message
    assert check_lstm_forward(lstm_forward)  # the check's data is its own, untouched


def test_the_check_leaves_the_callers_random_state_alone():
    torch.manual_seed(7)
    expected = torch.randn(3)
    torch.manual_seed(7)
    check_lstm_forward(lstm_forward)
    assert torch.equal(torch.randn(3), expected)


# --- lstm_forward_reverse ---------------------------------------------------------------------


def test_reverse_stub_is_not_attempted():
    assert check_lstm_forward_reverse(stub).status == "not attempted yet"


def flip_run_flip(input, initial_states, *weights):
    """A differently written correct answer: run forwards over the flipped sequence, flip the output back."""
    output, states = lstm_course.lstm_forward(input.flip(1), initial_states, *weights)
    return output.flip(1), states


@pytest.mark.parametrize("answer", [with_mistake(reverse=True), flip_run_flip], ids=["solution", "flip-run-flip"])
def test_reverse_right_answers_pass(answer):
    result = check_lstm_forward_reverse(answer)
    assert result, result


@pytest.mark.parametrize(
    "answer, words",
    [
        (with_mistake(), ["walked forwards in time", "t = seq - 1"]),
        (with_mistake(order="figo", reverse=True), ["order f, i, g, o"]),
        (with_mistake("no b_hh", reverse=True), ["left out b_hh"]),
        (with_mistake("reversed output", reverse=True), ["reversed time order"]),
        (with_mistake("h_n from the end", reverse=True), ["ends at time step 0", "output[:, 0]"]),
        (lambda *a: with_mistake(reverse=True)(*a)[0], ["return output, (h_n, c_n)"]),
    ],
    ids=["forwards", "gates-fi", "no-b_hh", "reversed-output", "h_n-from-end", "no-states"],
)
def test_reverse_wrong_answers_are_named(answer, words):
    assert_fails_naming(check_lstm_forward_reverse(answer), words)


def test_a_reverse_gate_mistake_is_not_told_to_walk_backwards():
    message = check_lstm_forward_reverse(with_mistake(order="figo", reverse=True)).message
    assert "forwards" not in message and "seq - 1" not in message


def test_an_unknown_reverse_mistake_gets_expected_versus_got():
    message = check_lstm_forward_reverse(lambda *a: (1.5 * with_mistake(reverse=True)(*a)[0], with_mistake(reverse=True)(*a)[1])).message
    assert "output at batch 0, time step 0, unit 0: expected" in message and "only the order of the steps differs" in message


# --- two_layer_forward ------------------------------------------------------------------------


def two_layer_forward(input, initial_states, weights_layer0, weights_layer1, mistake=None):
    """The notebook's solution, with one typical mistake switched on by ``mistake``."""
    h_0, c_0 = initial_states  # (2, batch, hidden) each
    output0, (h_n0, c_n0) = lstm_course.lstm_forward(input, (h_0[0], c_0[0]), *weights_layer0)
    layer1_input = input if mistake == "input to layer 1" else output0
    layer1_weights = weights_layer0 if mistake == "layer 0 weights twice" else weights_layer1
    start = (h_n0[0], c_n0[0]) if mistake == "chained states" else (h_0[1], c_0[1])
    output1, (h_n1, c_n1) = lstm_course.lstm_forward(layer1_input, start, *layer1_weights)
    if mistake == "top state only":
        return output1, (h_n1, c_n1)
    if mistake == "stacked with a new dim":
        return output1, (torch.stack([h_n0, h_n1]), torch.stack([c_n0, c_n1]))
    if mistake == "layers swapped":
        return output1, (torch.cat([h_n1, h_n0]), torch.cat([c_n1, c_n0]))
    return (output0 if mistake == "layer 0 output" else output1), (torch.cat([h_n0, h_n1]), torch.cat([c_n0, c_n1]))


def two_layers_by_hand(input, initial_states, weights_layer0, weights_layer1):
    """A differently written correct answer: a loop over the layers, the states collected in lists, NumPy inside."""
    x, h_n, c_n = input.numpy(), [], []
    for k, weights in enumerate((weights_layer0, weights_layer1)):
        x, (h, c) = numpy_lstm.lstm_forward(x, initial_states[0][k].numpy(), initial_states[1][k].numpy(), *(w.numpy() for w in weights))
        h_n.append(h[0])
        c_n.append(c[0])
    return torch.from_numpy(x), (torch.from_numpy(np.stack(h_n)), torch.from_numpy(np.stack(c_n)))


def two_layer_with(mistake):
    return lambda *args: two_layer_forward(*args, mistake=mistake)


def test_two_layer_stub_is_not_attempted():
    assert check_two_layer_forward(stub).status == "not attempted yet"


@pytest.mark.parametrize("answer", [two_layer_forward, two_layers_by_hand], ids=["solution", "numpy-loop"])
def test_two_layer_right_answers_pass(answer):
    result = check_two_layer_forward(answer)
    assert result, result


@pytest.mark.parametrize(
    "answer, words",
    [
        (two_layer_with("input to layer 1"), ["Case 1", "layer 1 read the input instead of layer 0's output"]),
        (two_layer_with("layer 0 weights twice"), ["Case 1", "layer 1 used layer 0's weights"]),
        (two_layer_with("chained states"), ["started from layer 0's final state", "h_0[k]"]),
        (two_layer_with("top state only"), ["h_n holds only layer 1's final state", "(2, batch, hidden) = (2, 2, 3)"]),
        (two_layer_with("stacked with a new dim"), ["got (2, 1, 2, 3)", "without adding a dim"]),
        (two_layer_with("layers swapped"), ["wrong order", "h_n[0] is layer 0's"]),
        (two_layer_with("layer 0 output"), ["output is layer 0's output", "top layer's"]),
    ],
    ids=["input-to-layer-1", "weights-twice", "chained-states", "top-only", "new-dim", "layers-swapped", "layer-0-output"],
)
def test_two_layer_wrong_answers_are_named(answer, words):
    assert_fails_naming(check_two_layer_forward(answer), words)


def test_two_layer_shape_errors_get_the_layers_shapes():
    """Where input_size != hidden, feeding layer 1 the input raises inside lstm_forward: the hint names the layers' shapes."""
    def whole_states(input, initial_states, weights_layer0, weights_layer1):
        return lstm_course.lstm_forward(input, initial_states, *weights_layer0)

    message = check_two_layer_forward(whole_states).message
    assert "h_0" in message and "layer k starts from h_0[k] and c_0[k]" in message
    assert "Keep the signature `two_layer_forward(" in check_two_layer_forward(lambda input, states: None).message

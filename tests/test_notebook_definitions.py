"""Functions a notebook builds in front of the learner must behave like the package's own."""

import torch

from tests.notebooks import notebook_definitions

import lstm_course
from lstm_course.hand_lstm import lstm_forward_tiled


def _lstm_case(num_layers=1, bidirectional=False):
    """A float64 nn.LSTM and a HandLSTM with its weights, an input and initial states of other sizes than the notebook's."""
    torch.manual_seed(0)
    config = dict(input_size=5, hidden_size=7, num_layers=num_layers, bidirectional=bidirectional, batch_first=True, dtype=torch.float64)
    hand = lstm_course.HandLSTM(**config)
    hand.load_state_dict(torch.nn.LSTM(**config).state_dict())
    rows = num_layers * (2 if bidirectional else 1)
    x = torch.randn(4, 6, 5, dtype=torch.float64)
    states = (torch.randn(rows, 4, 7, dtype=torch.float64), torch.randn(rows, 4, 7, dtype=torch.float64))
    return hand, x, states


def _weights(module, suffix):
    return [getattr(module, name + suffix).detach() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def _assert_same(got, expected, name):
    (output, (h_n, c_n)), (want_output, (want_h_n, want_c_n)) = got, expected
    for part, a, b in (("output", output, want_output), ("h_n", h_n, want_h_n), ("c_n", c_n, want_c_n)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12, msg=f"notebook's {name}: {part} differs")


def test_notebook_03_forward_functions_match_the_package():
    """The learner's lstm_forward (the solution) and the package's clean and tiled forms all equal HandLSTM."""
    (lstm_forward,) = notebook_definitions("03_lstm_forward", "lstm_forward")
    hand, x, (h_0, c_0) = _lstm_case()
    states, weights = (h_0[0], c_0[0]), _weights(hand, "_l0")
    expected = lstm_course.lstm_forward(x, states, *weights)
    _assert_same(hand(x, (h_0, c_0)), expected, "HandLSTM")
    _assert_same(lstm_forward(x, states, *weights), expected, "lstm_forward")
    _assert_same(lstm_forward_tiled(x, states, *weights), expected, "lstm_forward_tiled")


def test_notebook_03_reverse_direction_matches_handlstm():
    (reverse,) = notebook_definitions("03_lstm_forward", "lstm_forward_reverse")
    hand, x, (h_0, c_0) = _lstm_case(bidirectional=True)
    output, (h_n, c_n) = hand(x, (h_0, c_0))
    got = reverse(x, (h_0[1], c_0[1]), *_weights(hand, "_l0_reverse"))
    _assert_same(got, (output[..., 7:], (h_n[1:], c_n[1:])), "lstm_forward_reverse")


def test_notebook_03_two_layers_match_handlstm():
    (two_layer_forward,) = notebook_definitions("03_lstm_forward", "two_layer_forward")
    hand, x, states = _lstm_case(num_layers=2)
    got = two_layer_forward(x, states, _weights(hand, "_l0"), _weights(hand, "_l1"))
    _assert_same(got, hand(x, states), "two_layer_forward")

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_course.numpy_lstm import gate_values, lstm_cell, lstm_forward, sigmoid


def test_sigmoid_has_no_warning_across_plus_minus_1e4():
    x = np.linspace(-1e4, 1e4, 200_001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = sigmoid(x)
    assert np.all((y >= 0) & (y <= 1))
    assert y[0] == 0.0 and y[-1] == 1.0


def test_sigmoid_is_symmetric_to_rounding():
    x = np.linspace(-50, 50, 10_001)
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), rtol=0, atol=2 * np.finfo(float).eps)


def test_sigmoid_matches_torch_and_keeps_dtype():
    x = np.linspace(-30, 30, 301)
    np.testing.assert_allclose(sigmoid(x), torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-14, atol=1e-300)
    assert sigmoid(np.float32(1)).dtype == np.float32
    assert isinstance(sigmoid(0), np.floating) and sigmoid(0) == 0.5


def _torch_lstm(input_size, hidden_size, seed):
    torch.manual_seed(seed)
    return torch.nn.LSTM(input_size, hidden_size, batch_first=True, dtype=torch.float64)


def _numpy_params(lstm):
    return [p.detach().numpy() for p in (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)]


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 4),
    seq=st.integers(1, 6),
    input_size=st.integers(1, 5),
    hidden_size=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_lstm_forward_equals_nn_lstm(batch, seq, input_size, hidden_size, seed):
    lstm = _torch_lstm(input_size, hidden_size, seed)
    x = torch.randn(batch, seq, input_size, dtype=torch.float64)
    h_0 = torch.randn(1, batch, hidden_size, dtype=torch.float64)
    c_0 = torch.randn(1, batch, hidden_size, dtype=torch.float64)
    expected, (h_n, c_n) = lstm(x, (h_0, c_0))

    output, (h_got, c_got) = lstm_forward(x.numpy(), h_0[0].numpy(), c_0[0].numpy(), *_numpy_params(lstm))
    np.testing.assert_allclose(output, expected.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_got, h_n.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_got, c_n.detach().numpy(), rtol=0, atol=1e-12)


def test_lstm_cell_equals_nn_lstm_cell_and_gates_are_consistent():
    torch.manual_seed(1)
    cell = torch.nn.LSTMCell(3, 2, dtype=torch.float64)
    x, h, c = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64)
    h_exp, c_exp = cell(x, (h, c))
    params = [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    h_got, c_got = lstm_cell(x.numpy(), h.numpy(), c.numpy(), *params)
    np.testing.assert_allclose(h_got, h_exp.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(c_got, c_exp.detach().numpy(), atol=1e-12)
    step = gate_values(x.numpy(), h.numpy(), c.numpy(), *params)
    np.testing.assert_allclose(step.c, step.f * c.numpy() + step.i * step.g)
    np.testing.assert_allclose(step.h, step.o * np.tanh(step.c))


def test_missing_biases_mean_zero_biases():
    rng = np.random.default_rng(0)
    x, h, c = rng.normal(size=(2, 3)), rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    w_ih, w_hh = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    zeros = np.zeros(8)
    np.testing.assert_array_equal(lstm_cell(x, h, c, w_ih, w_hh), lstm_cell(x, h, c, w_ih, w_hh, zeros, zeros))


def test_gate_traces_line_up_with_outputs():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 3))
    w_ih, w_hh = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    output, (h_n, c_n), gates = lstm_forward(x, np.zeros((2, 2)), np.zeros((2, 2)), w_ih, w_hh, return_gates=True)
    assert set(gates) == {"i", "f", "g", "o", "c", "h"}
    assert all(v.shape == (2, 5, 2) for v in gates.values())
    np.testing.assert_array_equal(gates["h"], output)
    np.testing.assert_array_equal(gates["c"][:, -1], c_n[0])
    np.testing.assert_array_equal(output[:, -1], h_n[0])


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(x=np.zeros((2, 3))), r"x should have shape \(batch, seq, input_size\), got \(2, 3\)"),
        (dict(h_0=np.zeros((3, 2)), c_0=np.zeros((3, 2))), r"x has batch size 2 but h_0 has batch size 3"),
        (dict(c_0=np.zeros((2, 3))), r"c_0 should have shape \(2, 2\), got \(2, 3\)"),
        (dict(w_ih=np.zeros((7, 3))), r"w_ih should have shape \(4 \* hidden_size, input_size\), got \(7, 3\)"),
        (dict(w_ih=np.zeros((8, 4))), r"w_ih should have shape \(8, 3\), got \(8, 4\)"),
        (dict(w_hh=np.zeros((8, 3))), r"w_hh should have shape \(8, 2\), got \(8, 3\)"),
        (dict(b_ih=np.zeros(4)), r"b_ih should have shape \(8,\), got \(4,\)"),
        (dict(h_0=np.zeros(2)), r"h_0 should have shape \(batch, hidden_size\), got \(2,\)"),
        (dict(x=np.zeros((2, 0, 3))), r"empty sequence"),
    ],
)
def test_bad_shapes_say_what_was_expected(change, message):
    args = dict(x=np.zeros((2, 4, 3)), h_0=np.zeros((2, 2)), c_0=np.zeros((2, 2)), w_ih=np.zeros((8, 3)), w_hh=np.zeros((8, 2)), b_ih=None, b_hh=None)
    args.update(change)
    with pytest.raises(ValueError, match=message):
        lstm_forward(**args)

"""The NumPy backward pass against PyTorch's autograd and against centred finite differences."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_course.numpy_lstm import gate_values, lstm_backward, lstm_cell_backward, lstm_forward

NAMES = ("x", "h_0", "c_0", "w_ih", "w_hh", "b_ih", "b_hh")


def _case(batch, seq, input_size, hidden_size, seed):
    """Random float64 arguments of lstm_forward, and random upstream gradients."""
    rng = np.random.default_rng(seed)
    rows = 4 * hidden_size
    args = {
        "x": rng.normal(size=(batch, seq, input_size)),
        "h_0": rng.normal(size=(batch, hidden_size)),
        "c_0": rng.normal(size=(batch, hidden_size)),
        "w_ih": rng.normal(scale=0.5, size=(rows, input_size)),
        "w_hh": rng.normal(scale=0.5, size=(rows, hidden_size)),
        "b_ih": rng.normal(size=rows),
        "b_hh": rng.normal(size=rows),
    }
    upstream = {
        "d_output": rng.normal(size=(batch, seq, hidden_size)),
        "d_h_n": rng.normal(size=(1, batch, hidden_size)),
        "d_c_n": rng.normal(size=(1, batch, hidden_size)),
    }
    return args, upstream


def _loss(args, upstream):
    """L = <d_output, output> + <d_h_n, h_n> + <d_c_n, c_n>: its gradients are exactly the upstream ones."""
    output, (h_n, c_n) = lstm_forward(**args)
    return np.sum(upstream["d_output"] * output) + np.sum(upstream["d_h_n"] * h_n) + np.sum(upstream["d_c_n"] * c_n)


def _numpy_grads(args, upstream):
    _, _, gates = lstm_forward(**args, return_gates=True)
    weights = {name: args[name] for name in ("x", "h_0", "c_0", "w_ih", "w_hh")}
    return lstm_backward(upstream["d_output"], upstream["d_h_n"], upstream["d_c_n"], gates=gates, **weights)


def _torch_grads(args, upstream):
    lstm = torch.nn.LSTM(args["x"].shape[2], args["h_0"].shape[1], batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
            getattr(lstm, f"{name.replace('w_', 'weight_').replace('b_', 'bias_')}_l0").copy_(torch.tensor(args[name]))
    x = torch.tensor(args["x"], requires_grad=True)
    h_0 = torch.tensor(args["h_0"][None], requires_grad=True)  # (1, batch, hidden)
    c_0 = torch.tensor(args["c_0"][None], requires_grad=True)
    output, (h_n, c_n) = lstm(x, (h_0, c_0))
    torch.autograd.backward(
        (output, h_n, c_n), tuple(torch.tensor(upstream[k]) for k in ("d_output", "d_h_n", "d_c_n"))
    )
    return {
        "x": x.grad, "h_0": h_0.grad[0], "c_0": c_0.grad[0],
        "w_ih": lstm.weight_ih_l0.grad, "w_hh": lstm.weight_hh_l0.grad,
        "b_ih": lstm.bias_ih_l0.grad, "b_hh": lstm.bias_hh_l0.grad,
    }


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 4),
    seq=st.integers(1, 7),
    input_size=st.integers(1, 5),
    hidden_size=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_backward_equals_autograd_of_nn_lstm(batch, seq, input_size, hidden_size, seed):
    args, upstream = _case(batch, seq, input_size, hidden_size, seed)
    got, expected = _numpy_grads(args, upstream), _torch_grads(args, upstream)
    for name in NAMES:
        assert got[name].shape == args[name].shape, name
        # float64 throughout: the two differ only by rounding
        np.testing.assert_allclose(got[name], expected[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def _finite_difference(args, upstream, name, eps=1e-6):
    """Centred differences (L(a + eps) - L(a - eps)) / 2 eps, one element of args[name] at a time."""
    grad = np.zeros_like(args[name])
    for index in np.ndindex(args[name].shape):
        saved = args[name][index]
        args[name][index] = saved + eps
        up = _loss(args, upstream)
        args[name][index] = saved - eps
        down = _loss(args, upstream)
        args[name][index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize(
    "batch, seq, input_size, hidden_size",
    [(1, 1, 1, 1), (2, 3, 4, 3), (3, 8, 2, 5), (1, 20, 3, 2)],
)
def test_backward_equals_centred_finite_differences(batch, seq, input_size, hidden_size):
    args, upstream = _case(batch, seq, input_size, hidden_size, seed=seq)
    got = _numpy_grads(args, upstream)
    for name in NAMES:
        error = relative_error(got[name], _finite_difference(args, upstream, name))
        # eps = 1e-6 in float64: truncation ~ eps^2 and rounding ~ 1e-16 / eps, both far below 1e-7
        assert error < 1e-7, f"{name}: relative error {error:.2e}"


def test_cell_backward_is_one_step_of_the_sequence_backward():
    args, upstream = _case(2, 1, 3, 4, seed=5)
    step = gate_values(args["x"][:, 0], args["h_0"], args["c_0"], args["w_ih"], args["w_hh"], args["b_ih"], args["b_hh"])
    back = lstm_cell_backward(
        upstream["d_output"][:, 0] + upstream["d_h_n"][0], upstream["d_c_n"][0],
        args["x"][:, 0], args["h_0"], args["c_0"], step, args["w_ih"], args["w_hh"],
    )
    whole = _numpy_grads(args, upstream)
    np.testing.assert_allclose(back["x"], whole["x"][:, 0], rtol=1e-13)
    np.testing.assert_allclose(back["h_prev"], whole["h_0"], rtol=1e-13)
    np.testing.assert_allclose(back["c_prev"], whole["c_0"], rtol=1e-13)
    for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
        np.testing.assert_allclose(back[name], whole[name], rtol=1e-13)
    assert back["z"].shape == (2, 16)


def test_pre_activation_gradient_is_in_pytorch_gate_order():
    """dL/dz of the output gate alone: only o's block (the last quarter) is non-zero when dc = 0 and c is kept."""
    args, _ = _case(3, 1, 2, 2, seed=7)
    step = gate_values(args["x"][:, 0], args["h_0"], args["c_0"], args["w_ih"], args["w_hh"], args["b_ih"], args["b_hh"])
    dh = np.ones((3, 2))
    back = lstm_cell_backward(dh, np.zeros((3, 2)), args["x"][:, 0], args["h_0"], args["c_0"], step, args["w_ih"], args["w_hh"])
    dz_i, dz_f, dz_g, dz_o = np.split(back["z"], 4, axis=1)
    np.testing.assert_allclose(dz_o, dh * np.tanh(step.c) * step.o * (1 - step.o))
    tanh_grad = dh * step.o * (1 - np.tanh(step.c) ** 2)
    np.testing.assert_allclose(dz_f, tanh_grad * args["c_0"] * step.f * (1 - step.f))
    np.testing.assert_allclose(dz_i, tanh_grad * step.g * step.i * (1 - step.i))
    np.testing.assert_allclose(dz_g, tanh_grad * step.i * (1 - step.g**2))


def test_missing_upstream_gradients_mean_zero():
    args, upstream = _case(2, 4, 3, 2, seed=3)
    _, _, gates = lstm_forward(**args, return_gates=True)
    weights = {name: args[name] for name in ("x", "h_0", "c_0", "w_ih", "w_hh")}
    only_output = lstm_backward(upstream["d_output"], None, None, gates=gates, **weights)
    zeros = lstm_backward(upstream["d_output"], np.zeros((1, 2, 2)), np.zeros((2, 2)), gates=gates, **weights)
    for name in NAMES:
        np.testing.assert_array_equal(only_output[name], zeros[name])
    nothing = lstm_backward(None, None, None, gates=gates, **weights)
    assert all(not grad.any() for grad in nothing.values())


def test_float32_in_float32_out():
    args, upstream = _case(2, 3, 2, 2, seed=4)
    args = {k: v.astype(np.float32) for k, v in args.items()}
    grads = _numpy_grads(args, upstream)
    assert all(grad.dtype == np.float32 for grad in grads.values())
    expected = _numpy_grads({k: v.astype(np.float64) for k, v in args.items()}, upstream)
    for name in NAMES:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-4, atol=1e-5)

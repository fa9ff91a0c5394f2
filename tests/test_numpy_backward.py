"""The NumPy backward pass against PyTorch's autograd and against centred finite differences."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_course.numpy_lstm import clip_by_norm, gate_values, lstm_backward, lstm_forward, lstm_step_backward

NAMES = ("x", "h_0", "c_0", "w_ih", "w_hh", "b_ih", "b_hh")
RETURNED = ("x", "h_0", "c_0", "w_ih", "w_hh", "b")  # what lstm_backward returns, in order: db serves b_ih and b_hh


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
    grads = dict(zip(RETURNED, lstm_backward(upstream["d_output"], upstream["d_h_n"], upstream["d_c_n"], gates=gates, **weights)))
    grads["b_ih"] = grads["b_hh"] = grads.pop("b")
    return grads


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


def test_step_backward_is_one_step_of_the_sequence_backward():
    args, upstream = _case(2, 1, 3, 4, seed=5)
    step = gate_values(args["x"][:, 0], args["h_0"], args["c_0"], args["w_ih"], args["w_hh"], args["b_ih"], args["b_hh"])
    back = lstm_step_backward(
        upstream["d_output"][:, 0] + upstream["d_h_n"][0], upstream["d_c_n"][0],
        args["x"][:, 0], args["h_0"], args["c_0"], step, args["w_ih"], args["w_hh"],
    )
    whole = _numpy_grads(args, upstream)
    expected = (whole["x"][:, 0], whole["h_0"], whole["c_0"], whole["w_ih"], whole["w_hh"], whole["b_ih"])
    for got, want in zip(back, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13)


def test_pre_activation_gradient_is_in_pytorch_gate_order():
    """With dc = 0 and one input and hidden unit, db is dL/dz: its blocks are the gates' in order i, f, g, o."""
    args, _ = _case(3, 1, 2, 2, seed=7)
    step = gate_values(args["x"][:, 0], args["h_0"], args["c_0"], args["w_ih"], args["w_hh"], args["b_ih"], args["b_hh"])
    dh = np.ones((3, 2))
    *_, db = lstm_step_backward(dh, np.zeros((3, 2)), args["x"][:, 0], args["h_0"], args["c_0"], step, args["w_ih"], args["w_hh"])
    dz_i, dz_f, dz_g, dz_o = np.split(db, 4)  # db = dL/dz summed over the batch
    np.testing.assert_allclose(dz_o, (dh * np.tanh(step.c) * step.o * (1 - step.o)).sum(axis=0))
    tanh_grad = dh * step.o * (1 - np.tanh(step.c) ** 2)
    np.testing.assert_allclose(dz_f, (tanh_grad * args["c_0"] * step.f * (1 - step.f)).sum(axis=0))
    np.testing.assert_allclose(dz_i, (tanh_grad * step.g * step.i * (1 - step.i)).sum(axis=0))
    np.testing.assert_allclose(dz_g, (tanh_grad * step.i * (1 - step.g**2)).sum(axis=0))


def test_missing_upstream_gradients_mean_zero():
    args, upstream = _case(2, 4, 3, 2, seed=3)
    _, _, gates = lstm_forward(**args, return_gates=True)
    weights = {name: args[name] for name in ("x", "h_0", "c_0", "w_ih", "w_hh")}
    only_output = lstm_backward(upstream["d_output"], None, None, gates=gates, **weights)
    zeros = lstm_backward(upstream["d_output"], np.zeros((1, 2, 2)), np.zeros((2, 2)), gates=gates, **weights)
    for got, expected in zip(only_output, zeros, strict=True):
        np.testing.assert_array_equal(got, expected)
    nothing = lstm_backward(None, None, None, gates=gates, **weights)
    assert all(not grad.any() for grad in nothing)


def test_float32_in_float32_out():
    args, upstream = _case(2, 3, 2, 2, seed=4)
    args = {k: v.astype(np.float32) for k, v in args.items()}
    grads = _numpy_grads(args, upstream)
    assert all(grad.dtype == np.float32 for grad in grads.values())
    expected = _numpy_grads({k: v.astype(np.float64) for k, v in args.items()}, upstream)
    for name in NAMES:
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-4, atol=1e-5)


def test_clip_by_norm_scales_all_arrays_together_and_only_above_the_bar():
    grads = [np.array([3.0, 0.0]), np.array([[0.0], [4.0]])]  # total norm 5
    clipped = clip_by_norm(grads, 1.0)
    np.testing.assert_allclose(clipped[0], [0.6, 0.0])
    np.testing.assert_allclose(clipped[1], [[0.0], [0.8]])
    assert np.isclose(np.sqrt(sum(np.sum(g**2) for g in clipped)), 1.0)
    kept = clip_by_norm(grads, 10.0)
    assert all(np.array_equal(a, b) for a, b in zip(kept, grads))
    assert grads[0][0] == 3.0  # the arguments are untouched


def test_clip_by_norm_equals_torch_clip_grad_norm():
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(4, 3)), rng.normal(size=7)]
    params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for param, grad in zip(params, grads):
        param.grad = torch.tensor(grad)
    torch.nn.utils.clip_grad_norm_(params, 0.5)
    for got, param in zip(clip_by_norm(grads, 0.5), params):
        np.testing.assert_allclose(got, param.grad.numpy(), rtol=1e-5)  # torch adds 1e-6 to the norm

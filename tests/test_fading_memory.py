"""The measurement notebook 01 opens with: how long a network feels a change of its first input."""

import numpy as np
import pytest
import torch

from lstm_course import fading_memory
from lstm_course.numpy_lstm import lstm_cell


def test_rnn_cell_is_nn_rnn_cell():
    weights = fading_memory.random_weights(3, 5, 1, np.random.default_rng(0))
    cell = torch.nn.RNNCell(3, 5, dtype=torch.float64)
    with torch.no_grad():
        for name, value in weights.items():
            getattr(cell, name.replace("w_", "weight_").replace("b_", "bias_")).copy_(torch.from_numpy(value))
    x, h = np.random.default_rng(1).normal(size=(2, 2, 3))[0], np.random.default_rng(2).normal(size=(2, 5))
    expected = cell(torch.from_numpy(x), torch.from_numpy(h)).detach().numpy()
    np.testing.assert_allclose(fading_memory.rnn_cell(x, h, **weights), expected, rtol=0, atol=1e-12)


def test_weights_are_drawn_as_pytorch_draws_them():
    weights = fading_memory.random_weights(3, 16, 4, np.random.default_rng(0))
    assert {name: w.shape for name, w in weights.items()} == {"w_ih": (64, 3), "w_hh": (64, 16), "b_ih": (64,), "b_hh": (64,)}
    assert all(np.abs(w).max() <= 0.25 for w in weights.values())


def test_the_forget_bias_moves_only_the_forget_rows_of_a_copy():
    weights = fading_memory.random_weights(3, 4, 4, np.random.default_rng(0))
    shifted = fading_memory.with_forget_bias(weights, 5.0)
    difference = shifted["b_ih"] - weights["b_ih"]
    np.testing.assert_array_equal(difference, np.r_[np.zeros(4), np.full(4, 5.0), np.zeros(8)])
    assert shifted["w_ih"] is weights["w_ih"] and not np.shares_memory(shifted["b_ih"], weights["b_ih"])


def test_run_follows_the_package_cell_from_zero_states():
    rng = np.random.default_rng(3)
    weights, inputs = fading_memory.random_weights(3, 4, 4, rng), rng.normal(size=(6, 3))
    states = fading_memory.run(weights, inputs)
    h = c = np.zeros((1, 4))
    for t, x in enumerate(inputs):
        h, c = lstm_cell(x[None], h, c, **weights)
        np.testing.assert_allclose(states["h"][t], h[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(states["c"][t], c[0], rtol=0, atol=1e-12)
    assert states["f"].shape == (6, 4) and ((states["f"] > 0) & (states["f"] < 1)).all()


def test_a_linear_memory_keeps_exactly_its_factor_per_step():
    """With w_hh = 0.5 I and inputs small enough for tanh to be nearly linear, the change halves each step."""
    weights = {"w_ih": np.eye(2) * 1e-4, "w_hh": np.eye(2) * 0.5, "b_ih": np.zeros(2), "b_hh": np.zeros(2)}
    effect = fading_memory.first_input_effect(weights, np.zeros((8, 2)), np.array([1.0, 0.0]))["h"]
    np.testing.assert_allclose(effect / effect[0], 0.5 ** np.arange(8), rtol=1e-6)


def test_no_change_has_no_effect_and_the_inputs_are_left_alone():
    rng = np.random.default_rng(4)
    weights, inputs = fading_memory.random_weights(3, 4, 1, rng), rng.normal(size=(5, 3))
    before = inputs.copy()
    assert not fading_memory.first_input_effect(weights, inputs, np.zeros(3))["h"].any()
    fading_memory.first_input_effect(weights, inputs, np.ones(3))
    np.testing.assert_array_equal(inputs, before)


@pytest.mark.parametrize("seed", range(5))
def test_the_plain_rnn_forgets_and_the_lstm_with_f_near_1_remembers(seed):
    """What notebook 01 asserts, on every draw it shows."""
    results = fading_memory.compare_memories(seed=seed)
    assert list(results) == list(fading_memory.MODELS)
    for effect in results.values():
        assert effect["h"].shape == (30,) and effect["h"][0] == 1.0
    assert results["plain RNN"]["h"][-1] < 1e-6
    assert results["LSTM as initialised"]["h"][-1] < 1e-4 and 0.45 < results["LSTM as initialised"]["f_mean"] < 0.55
    assert results["LSTM, forget gate near 1"]["h"][-1] > 0.1 and results["LSTM, forget gate near 1"]["f_mean"] > 0.99

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from lstm_course import memory_task as mt


def test_batches_are_one_hot_and_start_with_the_target():
    x, target = mt.make_batch(16, gap=7, generator=torch.Generator().manual_seed(0))
    assert x.shape == (16, 8, mt.INPUT_SIZE) and target.shape == (16,)
    assert torch.equal(x.sum(dim=2), torch.ones(16, 8))  # one symbol per step
    assert torch.equal(x[:, 0].argmax(dim=1), target)
    assert (x[:, 1:].argmax(dim=2) >= mt.NUM_SYMBOLS).all()  # the gap holds only noise symbols
    assert (target < mt.NUM_SYMBOLS).all()


def test_the_test_batch_does_not_depend_on_the_global_seed():
    torch.manual_seed(1)
    a = mt.test_batch(32)
    torch.manual_seed(2)
    b = mt.test_batch(32)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_models_and_forget_bias():
    lstm = mt.make_model("lstm", hidden_size=5, forget_bias=1.0)
    assert lstm(torch.zeros(3, 4, mt.INPUT_SIZE)).shape == (3, mt.NUM_SYMBOLS)
    b = (lstm.recurrent.bias_ih_l0 + lstm.recurrent.bias_hh_l0).detach()
    assert torch.equal(b[5:10], torch.ones(5))  # rows H:2H are the forget gate's
    default = mt.make_model("lstm", hidden_size=5)
    assert torch.equal(lstm.recurrent.bias_ih_l0[:5], default.recurrent.bias_ih_l0[:5])  # the other gates untouched
    assert isinstance(mt.make_model("rnn").recurrent, torch.nn.RNN)
    with pytest.raises(ValueError, match="only an LSTM"):
        mt.make_model("rnn", forget_bias=1.0)
    assert isinstance(mt.make_model("gru").recurrent, torch.nn.GRU)
    with pytest.raises(ValueError, match="'rnn', 'lstm' or 'gru', got 'lstmcell'"):
        mt.RecallModel("lstmcell")


def test_parameter_counts_of_the_three_models():
    counts = {kind: sum(p.numel() for p in mt.make_model(kind).parameters()) for kind in ("rnn", "lstm", "gru")}
    readout = 32 * mt.NUM_SYMBOLS + mt.NUM_SYMBOLS
    assert counts == {kind: gates * (32 * mt.INPUT_SIZE + 32 * 32 + 2 * 32) + readout for kind, gates in (("rnn", 1), ("lstm", 4), ("gru", 3))}


def test_a_larger_recurrent_matrix_makes_the_rnn_gradient_explode_going_back():
    x, target = mt.test_batch(64)
    rnn = mt.make_model("rnn")
    scaled = mt.scaled_recurrence(rnn, 4.0)
    assert torch.equal(scaled.recurrent.weight_hh_l0, 4.0 * rnn.recurrent.weight_hh_l0)  # a copy: rnn untouched
    assert np.isclose(mt.spectral_radius(scaled), 4.0 * mt.spectral_radius(rnn), rtol=1e-5)
    assert mt.spectral_radius(rnn) < 1 < mt.spectral_radius(scaled)
    norms = mt.input_gradient_norms(scaled, x, target)
    assert norms[0] > 1e3 * norms[-1]  # grows going back in time, where the default's fades


def test_input_gradient_norms_are_the_per_step_norms_of_autograd():
    model = mt.make_model("lstm", hidden_size=4)
    x, target = mt.test_batch(8, gap=5)
    norms = mt.input_gradient_norms(model, x, target)
    assert norms.shape == (6,) and norms.dtype == np.float64
    assert all(p.grad is None and p.dtype == torch.float32 for p in model.parameters())  # the model is untouched
    x = x.clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(model(x), target).backward()
    np.testing.assert_allclose(norms, x.grad.norm(dim=(0, 2)).numpy(), rtol=1e-5)


def test_at_initialisation_the_rnn_gradient_vanishes_and_forget_bias_1_keeps_more():
    x, target = mt.test_batch(64)
    rnn = mt.input_gradient_norms(mt.make_model("rnn"), x, target)
    lstm = mt.input_gradient_norms(mt.make_model("lstm"), x, target)
    biased = mt.input_gradient_norms(mt.make_model("lstm", forget_bias=1.0), x, target)
    assert rnn[0] < 1e-10 * rnn[-1]  # about 13 orders of magnitude over 50 steps
    assert lstm[0] < 1e-8 * lstm[-1]  # f ~ 0.5: 0.5 ** 50 ~ 1e-15
    assert biased[0] > 1e4 * lstm[0]  # f ~ sigmoid(1) = 0.73: 0.73 ** 50 ~ 1e-7


def test_training_is_reproducible_and_records_its_history():
    runs = [mt.train(mt.make_model("lstm", hidden_size=8), steps=20, max_gap=5, eval_every=10) for _ in range(2)]
    assert runs[0] == runs[1]
    assert runs[0]["step"] == [10, 20] and len(runs[0]["loss"]) == 2
    assert all(0 <= a <= 1 for a in runs[0]["accuracy"])
    assert len(runs[0]["grad_norm"]) == 20 and all(n > 0 for n in runs[0]["grad_norm"])


def test_the_recorded_gradient_norm_is_before_clipping_and_clip_none_does_not_clip():
    clipped = mt.train(mt.make_model("rnn", hidden_size=8), steps=5, clip=1e-3, eval_every=5)
    free = mt.train(mt.make_model("rnn", hidden_size=8), steps=5, clip=None, eval_every=5)
    assert clipped["grad_norm"][0] == free["grad_norm"][0] > 1e-3  # the same first batch, measured before clipping
    assert clipped["grad_norm"][1:] != free["grad_norm"][1:]  # the first update differed


def test_training_stops_at_the_bar_and_steps_to_reach():
    history = mt.train(mt.make_model("lstm", hidden_size=8), steps=50, max_gap=2, eval_every=5, stop_at=0.0)
    assert history["step"] == [5]
    assert mt.steps_to_reach({"step": [5, 10, 15], "accuracy": [0.2, 0.99, 1.0]}, 0.99) == 10
    assert mt.steps_to_reach({"step": [5], "accuracy": [0.2]}, 0.99) is None


def test_a_short_run_learns_a_short_gap():
    model = mt.make_model("lstm", hidden_size=16)
    mt.train(model, steps=150, max_gap=3, eval_every=150)
    assert mt.accuracy_by_gap(model, [1, 2, 3]).min() > 0.9
    x, target = mt.test_batch(200, gap=2)
    counts = mt.answers_by_symbol(model, x, target)
    assert counts.shape == (mt.NUM_SYMBOLS, mt.NUM_SYMBOLS) and counts.sum() == 200
    assert np.array_equal(counts.sum(axis=1), np.bincount(target.numpy(), minlength=mt.NUM_SYMBOLS))
    assert np.trace(counts) / 200 == pytest.approx(mt.accuracy(model, x, target))


def test_plots_draw_one_line_per_model():
    norms = {"RNN": np.logspace(-15, -2, 51), "LSTM": np.logspace(-13, -2, 51)}
    fig = mt.plot_gradient_norms({"at initialisation": norms, "after training": norms})
    assert len(fig.axes) == 2 and all(ax.get_yscale() == "log" and len(ax.get_lines()) == 2 for ax in fig.axes)
    history = {"step": [1, 2], "loss": [1.0, 0.5], "accuracy": [0.3, 0.9]}
    fig2 = mt.plot_training({"RNN": history, "LSTM": history})
    assert len(fig2.axes[0].get_lines()) == 3  # two models and the chance line
    history["grad_norm"] = [0.5, 3.0]
    fig3 = mt.plot_gradient_norm_in_training({"RNN": history, "GRU": history})
    assert len(fig3.axes[0].get_lines()) == 3 and fig3.axes[0].get_yscale() == "log"  # two models and the clip line
    plt.close("all")


def test_format_sequence():
    x, target = mt.make_batch(1, gap=3, generator=torch.Generator().manual_seed(0))
    text = mt.format_sequence(x[0])
    assert len(text.split()) == 4 and text[0] == "ABCD"[target[0]] and set(text[2:].split()) <= set("wxyz")

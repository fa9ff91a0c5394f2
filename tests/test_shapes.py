"""lstm_shapes against what nn.LSTM and HandLSTM really produce, over random configurations."""

import itertools
import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_course import HandLSTM
from lstm_course.shapes import config_text, final_states, lstm_config, lstm_num_parameters, lstm_shapes, shapes_table, state_shapes


@st.composite
def configs(draw):
    hidden_size = draw(st.integers(1, 6))
    return {
        "input_size": draw(st.integers(1, 5)),
        "hidden_size": hidden_size,
        "num_layers": draw(st.integers(1, 3)),
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "bidirectional": draw(st.booleans()),
        "proj_size": draw(st.integers(0, hidden_size - 1)),
    }


def _input_shape(config, seq, batch):
    if batch is None:
        return (seq, config["input_size"])
    return (batch, seq, config["input_size"]) if config["batch_first"] else (seq, batch, config["input_size"])


def _run(module, input_shape):
    """What the module really gives: shapes of output, h_n, c_n and of its parameters."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # "LSTM with projections is not supported with oneDNN" on some CPUs
        output, (h_n, c_n) = module(torch.zeros(input_shape))
    return {
        "output": tuple(output.shape),
        "h_n": tuple(h_n.shape),
        "c_n": tuple(c_n.shape),
        "parameters": {name: tuple(p.shape) for name, p in module.named_parameters()},
        "num_parameters": sum(p.numel() for p in module.parameters()),
    }


def _assert_same(computed, real):
    assert set(computed) == {"output", "h_n", "c_n", "parameters", "num_parameters"}
    for key in ("output", "h_n", "c_n", "num_parameters"):
        assert computed[key] == real[key], f"{key}: computed {computed[key]}, nn.LSTM gives {real[key]}"
    assert list(computed["parameters"].items()) == list(real["parameters"].items())  # names, shapes and order


@settings(max_examples=150, deadline=None)
@given(config=configs(), seq=st.integers(1, 4), batch=st.one_of(st.none(), st.integers(0, 3)))
def test_lstm_shapes_match_nn_lstm_and_hand_lstm(config, seq, batch):
    input_shape = _input_shape(config, seq, batch)
    torch_lstm = torch.nn.LSTM(**config)
    real = _run(torch_lstm, input_shape)
    _assert_same(lstm_shapes(config, input_shape), real)  # from the dict
    _assert_same(lstm_shapes(torch_lstm, input_shape), real)  # from the module
    hand = HandLSTM(**config)
    _assert_same(_run(hand, input_shape), real)
    _assert_same(lstm_shapes(hand, input_shape), real)


@settings(max_examples=50, deadline=None)
@given(config=configs(), batch=st.integers(1, 3))
def test_state_shapes_are_what_nn_lstm_accepts_as_h_0_and_c_0(config, batch):
    torch_lstm = torch.nn.LSTM(**config)
    h_shape, c_shape = state_shapes(config, batch)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        _, (h_n, c_n) = torch_lstm(torch.zeros(_input_shape(config, 2, batch)), (torch.zeros(h_shape), torch.zeros(c_shape)))
    assert (tuple(h_n.shape), tuple(c_n.shape)) == (h_shape, c_shape)
    assert state_shapes(config) == (h_shape[::2], c_shape[::2])  # unbatched: the batch dim dropped


def test_a_worked_example():
    shapes = lstm_shapes({"input_size": 10, "hidden_size": 20, "num_layers": 2, "bidirectional": True, "batch_first": True}, (3, 7, 10))
    assert shapes["output"] == (3, 7, 40)  # (batch, seq, 2 * hidden_size)
    assert shapes["h_n"] == shapes["c_n"] == (4, 3, 20)  # (num_layers * 2, batch, hidden_size): not batch first
    assert shapes["parameters"]["weight_ih_l1"] == (80, 40)  # layer 1 reads both directions: 2 * hidden_size
    assert shapes["num_parameters"] == 2 * (80 * 10 + 80 * 20 + 160) + 2 * (80 * 40 + 80 * 20 + 160)


def test_projection_narrows_h_but_not_c():
    shapes = lstm_shapes({"input_size": 4, "hidden_size": 6, "proj_size": 2, "num_layers": 2}, (5, 3, 4))
    assert shapes["output"] == (5, 3, 2) and shapes["h_n"] == (2, 3, 2) and shapes["c_n"] == (2, 3, 6)
    assert shapes["parameters"]["weight_hr_l0"] == (2, 6)
    assert shapes["parameters"]["weight_hh_l0"] == (24, 2)
    assert shapes["parameters"]["weight_ih_l1"] == (24, 2)


def test_input_shape_may_be_a_torch_size_or_a_list():
    config = {"input_size": 3, "hidden_size": 4}
    assert lstm_shapes(config, torch.Size([5, 2, 3]))["output"] == lstm_shapes(config, [5, 2, 3])["output"] == (5, 2, 4)


def test_num_parameters_and_config_text():
    lstm = torch.nn.LSTM(8, 64, batch_first=True)
    assert lstm_num_parameters(lstm) == sum(p.numel() for p in lstm.parameters()) == 4 * 64 * (8 + 64) + 8 * 64
    assert lstm_num_parameters({"input_size": 8, "hidden_size": 64, "bias": False}) == 4 * 64 * 72
    assert config_text(lstm) == "nn.LSTM(8, 64, batch_first=True)"
    assert config_text({"input_size": 3, "hidden_size": 5, "num_layers": 2, "proj_size": 2}) == "nn.LSTM(3, 5, num_layers=2, proj_size=2)"


def test_shapes_table_lists_tensors_then_parameters():
    table = shapes_table({"input_size": 3, "hidden_size": 4, "bidirectional": True}, (5, 2, 3))
    lines = table.splitlines()
    assert lines[:4] == ["input                 (5, 2, 3)", "output                (5, 2, 8)",
                         "h_n                   (2, 2, 4)", "c_n                   (2, 2, 4)"]
    assert lines[-1] == "parameters            " + f"{2 * (16 * 3 + 16 * 4 + 32)} in all"
    assert "weight_hh_l0_reverse  (16, 4)" in lines
    assert len(shapes_table({"input_size": 3, "hidden_size": 4}, (5, 3), parameters=False).splitlines()) == 4


def test_modules_are_read_not_run():
    lstm = torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5, bidirectional=1)  # nn.LSTM takes 1 for True
    assert lstm_config(lstm) == {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bias": True, "batch_first": False,
                                 "bidirectional": True, "proj_size": 0, "dropout": 0.5}
    assert math.prod(lstm_shapes(lstm, (2, 3))["output"]) == 2 * 8


# ----------------------------------------------------------------------------- every configuration of notebook 04

GRID = [dict(num_layers=L, bidirectional=bi, batch_first=bf, proj_size=P)
        for L, bi, bf, P in itertools.product([1, 2, 3], [False, True], [False, True], [0, 2])]


@pytest.mark.parametrize("option", GRID, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_hand_lstm_lstm_shapes_and_final_states_agree_with_nn_lstm(option):
    """Notebook 04's claims for every mix of its options: HandLSTM gives nn.LSTM's results, batched and for one
    unbatched sequence, lstm_shapes predicts their shapes, and final_states finds the same states in output and h_n."""
    torch.manual_seed(4)
    reference = torch.nn.LSTM(3, 5, **option)
    hand = HandLSTM(3, 5, **option)
    hand.load_state_dict(reference.state_dict())
    x = torch.randn(2, 5, 3)  # (batch, seq, input_size): batch != seq, so that a swap shows
    batched = x if option["batch_first"] else x.transpose(0, 1)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # "LSTM with projections is not supported with oneDNN" on some CPUs
        for inputs in (batched, x[0]):  # x[0]: one sequence, (seq, input_size)
            expected_output, (expected_h, expected_c) = reference(inputs)
            got_output, (got_h, got_c) = hand(inputs)
            torch.testing.assert_close(got_output, expected_output)
            torch.testing.assert_close(got_h, expected_h)
            torch.testing.assert_close(got_c, expected_c)
            predicted = lstm_shapes(hand, tuple(inputs.shape))
            assert (predicted["output"], predicted["h_n"], predicted["c_n"]) == (got_output.shape, got_h.shape, got_c.shape)
        output, (h_n, _) = reference(batched)
    from_output, from_h_n = final_states(output, h_n, option["num_layers"], option["bidirectional"], option["batch_first"])
    D, width = (2 if option["bidirectional"] else 1), option["proj_size"] or 5
    assert from_output.shape == (2, D * width)
    torch.testing.assert_close(from_output, from_h_n, rtol=0, atol=0)  # the same numbers, not just close
    torch.testing.assert_close(from_h_n[:, :width], h_n[-D])  # forward first


# ----------------------------------------------------------------------------- errors

BASE = {"input_size": 3, "hidden_size": 4}


@pytest.mark.parametrize(
    "config, error, pattern",
    [
        ({"hidden_size": 4}, TypeError, r"missing input_size: nn\.LSTM has no default"),
        ({}, TypeError, r"missing input_size and hidden_size"),
        ({**BASE, "hiden_size": 4}, TypeError, r"unknown nn\.LSTM argument 'hiden_size'; nn\.LSTM takes input_size, hidden_size, num_layers"),
        ({**BASE, "num_layers": 0}, ValueError, r"^num_layers should be at least 1, got 0$"),
        ({**BASE, "num_layers": 2.0}, TypeError, r"^num_layers should be an int, got float: 2\.0$"),
        ({**BASE, "hidden_size": "4"}, TypeError, r"^hidden_size should be an int, got str: '4'$"),
        ({**BASE, "input_size": 0}, ValueError, r"^input_size should be at least 1, got 0$"),
        ({**BASE, "proj_size": 4}, ValueError, r"^proj_size should be smaller than hidden_size=4 \(or 0 for no projection\), got 4$"),
        ({**BASE, "proj_size": -1}, ValueError, r"^proj_size should be at least 0, got -1$"),
        ({**BASE, "bidirectional": "yes"}, TypeError, r"^bidirectional should be True or False, got str: 'yes'$"),
        ({**BASE, "batch_first": None}, TypeError, r"^batch_first should be True or False, got NoneType: None$"),
        ({**BASE, "dropout": 1.5}, ValueError, r"^dropout should be a probability in \[0, 1\], got 1\.5$"),
    ],
)
def test_bad_configurations_are_named(config, error, pattern):
    with pytest.raises(error, match=pattern):
        lstm_shapes(config, (5, 2, 3))


def test_other_things_than_an_lstm_are_refused():
    with pytest.raises(TypeError, match=r"expected an nn\.LSTM, a HandLSTM or a dict .*got GRU \(only LSTMs"):
        lstm_shapes(torch.nn.GRU(3, 4), (5, 2, 3))
    with pytest.raises(TypeError, match=r"got tuple$"):
        lstm_shapes((3, 4), (5, 2, 3))


@pytest.mark.parametrize(
    "config, input_shape, error, pattern",
    [
        (BASE, (5, 2, 7), ValueError, r"^input_shape's last dim should be input_size=3, got 7 \(input_shape \(5, 2, 7\)\)$"),
        (BASE, (5, 2, 3, 1), ValueError, r"^input_shape should have 3 dims \(seq, batch, input_size\), or 2 dims \(seq, input_size\) without a batch, got 4 dims: \(5, 2, 3, 1\)$"),
        ({**BASE, "batch_first": True}, (3,), ValueError, r"3 dims \(batch, seq, input_size\).*got 1 dims: \(3,\)$"),
        (BASE, (0, 2, 3), ValueError, r"empty sequence \(seq = 0\)"),
        ({**BASE, "batch_first": True}, (2, 0, 3), ValueError, r"empty sequence"),
        (BASE, (5, -1, 3), TypeError, r"sizes \(ints >= 0\), got \(5, -1, 3\)"),
        (BASE, (5.0, 2, 3), TypeError, r"sizes \(ints >= 0\)"),
        (BASE, torch.zeros(5, 2, 3), TypeError, r"got a Tensor: pass x\.shape$"),
        (BASE, 5, TypeError, r"^input_shape should be a tuple of ints .*got int: 5$"),
    ],
)
def test_bad_input_shapes_are_named(config, input_shape, error, pattern):
    with pytest.raises(error, match=pattern):
        lstm_shapes(config, input_shape)


def test_the_errors_agree_with_nn_lstm_about_what_is_wrong():
    """Where lstm_shapes refuses an input shape, nn.LSTM refuses the input too."""
    lstm = torch.nn.LSTM(3, 4)
    for bad in [(5, 2, 7), (0, 2, 3)]:
        with pytest.raises(ValueError):
            lstm_shapes(lstm, bad)
        with pytest.raises(RuntimeError):
            lstm(torch.zeros(bad))

"""HandLSTM, HandLSTMCell and lstm_forward against torch.nn, after a state_dict round trip."""

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_course import HandLSTM, HandLSTMCell, lstm_forward
from lstm_course.hand_lstm import lstm_forward_tiled

TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}


def _pair(config, dtype, seed, module=HandLSTM):
    """nn.LSTM(**config) and a `module` of the same config holding its weights."""
    torch.manual_seed(seed)
    reference = torch.nn.LSTM(**config, dtype=dtype)
    hand = module(**config, dtype=dtype)
    hand.load_state_dict(reference.state_dict())
    return reference, hand


def _inputs(config, batch, seq, batched, with_hx, dtype):
    """x, and hx or None, shaped for the config; every tensor requires grad."""
    layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
    h_width = config["proj_size"] or config["hidden_size"]
    if batched:
        x_shape, state_batch = ((batch, seq) if config["batch_first"] else (seq, batch)), (batch,)
    else:
        x_shape, state_batch = (seq,), ()
    x = torch.randn(*x_shape, config["input_size"], dtype=dtype, requires_grad=True)
    if not with_hx:
        return x, None
    h_0 = torch.randn(layers, *state_batch, h_width, dtype=dtype, requires_grad=True)
    c_0 = torch.randn(layers, *state_batch, config["hidden_size"], dtype=dtype, requires_grad=True)
    return x, (h_0, c_0)


def _loss(output, h_n, c_n):
    """A loss that weighs every output differently, so that a wrong gradient cannot hide."""
    weights = torch.linspace(0.5, 1.5, output.numel()).reshape(output.shape).to(output)
    return (output.sin() * weights).sum() + h_n.cos().sum() + (c_n**2).sum()


def _outputs_and_gradients(module, x, hx):
    leaves = [x, *(hx or ())]
    output, (h_n, c_n) = module(x, hx)
    grads = torch.autograd.grad(_loss(output, h_n, c_n), leaves + list(module.parameters()))
    return [output, h_n, c_n, *grads]


def _assert_all_close(got, expected, tol, what):
    assert len(got) == len(expected)
    for k, (a, b) in enumerate(zip(got, expected)):
        assert a.shape == b.shape, f"{what}: item {k} has shape {tuple(a.shape)}, expected {tuple(b.shape)}"
        torch.testing.assert_close(a, b, rtol=tol, atol=tol, msg=lambda m: f"{what}, item {k}: {m}")


configs = st.fixed_dictionaries(
    {
        "input_size": st.integers(1, 5),
        "hidden_size": st.integers(2, 6),
        "num_layers": st.integers(1, 3),
        "bias": st.booleans(),
        "batch_first": st.booleans(),
        "bidirectional": st.booleans(),
        "proj_size": st.integers(0, 1),
    }
)


@settings(max_examples=200, deadline=None, derandomize=True)  # the same 200 examples every run
@given(
    config=configs,
    batch=st.integers(1, 3),
    seq=st.integers(1, 5),
    batched=st.booleans(),
    with_hx=st.booleans(),
    dtype=st.sampled_from([torch.float64, torch.float32]),
    seed=st.integers(0, 2**16),
)
def test_hand_lstm_equals_nn_lstm(config, batch, seq, batched, with_hx, dtype, seed):
    if config["proj_size"]:
        config["proj_size"] = config["hidden_size"] - 1
    reference, hand = _pair(config, dtype, seed)
    x, hx = _inputs(config, batch, seq, batched, with_hx, dtype)
    expected = _outputs_and_gradients(reference, x, hx)
    got = _outputs_and_gradients(hand, x, hx)
    _assert_all_close(got, expected, TOLERANCE[dtype], f"{config}, batched={batched}, hx={with_hx}")


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batched", [False, True])
def test_dropout_between_layers_matches_in_training_and_is_off_in_eval(bidirectional, batched):
    config = dict(input_size=3, hidden_size=4, num_layers=3, dropout=0.5, bidirectional=bidirectional)
    reference, hand = _pair(config, torch.float64, 0)
    x = torch.randn(6, 2, 3, dtype=torch.float64) if batched else torch.randn(6, 3, dtype=torch.float64)
    torch.manual_seed(7)
    expected, _ = reference(x)
    torch.manual_seed(7)  # the same random masks, drawn the same way
    got, _ = hand(x)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)
    torch.manual_seed(8)
    assert not torch.allclose(hand(x)[0], got), "dropout should draw new masks"
    reference.eval(), hand.eval()
    torch.testing.assert_close(hand(x)[0], reference(x)[0], rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(hand(x)[0], hand(x)[0])  # eval: no randomness


def test_state_dict_round_trip_both_ways_and_same_names():
    config = dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True, proj_size=2)
    reference, hand = _pair(config, torch.float32, 1)
    assert [(n, p.shape) for n, p in hand.named_parameters()] == [(n, p.shape) for n, p in reference.named_parameters()]
    fresh = torch.nn.LSTM(**config)
    fresh.load_state_dict(hand.state_dict())
    x = torch.randn(4, 2, 3)
    torch.testing.assert_close(fresh(x)[0], hand(x)[0])


def test_default_initialisation_draws_from_the_same_range():
    hand = HandLSTM(3, 16, num_layers=2)
    for name, p in hand.named_parameters():
        assert p.abs().max() <= 0.25, name  # 1 / sqrt(16)
    assert repr(hand) == "HandLSTM(3, 16, num_layers=2)"


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(3,), (4, 3)])
def test_hand_lstm_cell_equals_nn_lstm_cell(dtype, bias, shape):
    torch.manual_seed(2)
    reference = torch.nn.LSTMCell(3, 5, bias=bias, dtype=dtype)
    hand = HandLSTMCell(3, 5, bias=bias, dtype=dtype)
    hand.load_state_dict(reference.state_dict())
    x = torch.randn(*shape, dtype=dtype, requires_grad=True)
    state_shape = (*shape[:-1], 5)
    hx = (torch.randn(state_shape, dtype=dtype, requires_grad=True), torch.randn(state_shape, dtype=dtype, requires_grad=True))
    for states in (None, hx):
        results = []
        for module in (reference, hand):
            h, c = module(x, states)
            grads = torch.autograd.grad(_loss(h, h, c), [x, *(states or ())] + list(module.parameters()))
            results.append([h, c, *grads])
        _assert_all_close(results[1], results[0], TOLERANCE[dtype], f"LSTMCell {shape} bias={bias}")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("function", [lstm_forward, lstm_forward_tiled], ids=["clean", "tiled"])
def test_lstm_forward_equals_batch_first_nn_lstm(function, bias):
    if function is lstm_forward_tiled and not bias:
        pytest.skip("the tiled form always takes biases")
    torch.manual_seed(3)
    reference = torch.nn.LSTM(4, 6, batch_first=True, bias=bias, dtype=torch.float64)
    x = torch.randn(3, 7, 4, dtype=torch.float64)
    h_0, c_0 = torch.randn(3, 6, dtype=torch.float64), torch.randn(3, 6, dtype=torch.float64)
    weights = [reference.weight_ih_l0, reference.weight_hh_l0] + ([reference.bias_ih_l0, reference.bias_hh_l0] if bias else [None, None])
    expected = reference(x, (h_0[None], c_0[None]))
    got = function(x, (h_0, c_0), *weights)
    _assert_all_close([got[0], *got[1]], [expected[0], *expected[1]], 1e-12, function.__name__)


def _hand(**kwargs):
    return HandLSTM(**{"input_size": 3, "hidden_size": 4, **kwargs})


BAD_CONSTRUCTORS = [  # nn.LSTM's message first (test_lstm_like_pytorch.py compares it with nn.LSTM's), then ours
    (dict(input_size=0), ValueError, "input_size must be greater than zero. input_size should be at least 1, got 0"),
    (dict(hidden_size=2.5), TypeError, "hidden_size should be of type int, got: float. hidden_size should be an int, got float: 2.5"),
    (dict(num_layers=0), ValueError, "num_layers must be greater than zero. num_layers should be at least 1, got 0"),
    (
        dict(dropout=1.5),
        ValueError,
        "dropout should be a number in range [0, 1] representing the probability of an element being zeroed. dropout should be a probability in [0, 1], got 1.5",
    ),
    (
        dict(dropout=-0.1),
        ValueError,
        "dropout should be a number in range [0, 1] representing the probability of an element being zeroed. dropout should be a probability in [0, 1], got -0.1",
    ),
    (dict(dropout=None), TypeError, "float() argument must be a string or a real number, not 'NoneType'. dropout should be a probability in [0, 1], got None"),
    (dict(proj_size=4), ValueError, "proj_size has to be smaller than hidden_size. proj_size should be smaller than hidden_size=4, got 4"),
    (dict(proj_size=-1), ValueError, "proj_size should be a positive integer or zero to disable projections. proj_size should be at least 0, got -1"),
    (dict(batch_first="yes"), TypeError, "batch_first should be of type bool, got: str. batch_first should be True or False, got str: 'yes'"),
    (dict(bias=1), TypeError, "bias should be of type bool, got: int. bias should be True or False, got int: 1"),
    # nn.LSTM has no check of its own for these (it accepts any bidirectional; a float num_layers fails in range())
    (dict(bidirectional=None), TypeError, "bidirectional should be True or False, got NoneType: None"),
    (dict(num_layers=2.0), TypeError, "num_layers should be an int, got float: 2.0"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_CONSTRUCTORS)
def test_bad_constructor_arguments_are_named(kwargs, error, message):
    with pytest.raises(error) as info:
        _hand(**kwargs)
    assert str(info.value) == message


def test_dropout_with_one_layer_warns_like_pytorch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1.*has no effect with num_layers=1"):
        _hand(dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _hand(dropout=0.2, num_layers=2)


# The course's part of each message, after PyTorch's (test_lstm_like_pytorch.py checks that part and
# PyTorch's types); caught here as the types HandLSTM raised before, which its errors still are.
BAD_CALLS = [
    (dict(), lambda: [[1.0, 2.0, 3.0]], None, TypeError, "input should be a torch.Tensor, got list"),
    (dict(), lambda: torch.zeros(5), None, ValueError, r"input should have 3 dims \(seq, batch, input_size\), or 2 dims .*got 1 dims with shape \(5,\)"),
    (dict(batch_first=True), lambda: torch.zeros(1, 2, 5, 3), None, ValueError, r"3 dims \(batch, seq, input_size\).*got 4 dims"),
    (dict(), lambda: torch.zeros(5, 2, 6), None, ValueError, r"input's last dim should be input_size=3, got 6"),
    (dict(), lambda: torch.zeros(5, 2, 3, dtype=torch.float64), None, TypeError, "input has dtype torch.float64 but the module's parameters have dtype torch.float32"),
    (dict(), lambda: torch.zeros(0, 2, 3), None, ValueError, "empty sequence"),
    (dict(), lambda: torch.zeros(5, 2, 3), lambda: torch.zeros(1, 2, 4), TypeError, "hx should be a pair \\(h_0, c_0\\), got Tensor"),
    (dict(), lambda: torch.zeros(5, 2, 3), lambda: (torch.zeros(1, 2, 4),), TypeError, "got tuple of length 1"),
    (dict(), lambda: torch.zeros(5, 2, 3), lambda: (torch.zeros(2, 2, 4), torch.zeros(2, 2, 4)), ValueError, r"h_0 should have shape \(num_layers \* num_directions, batch, hidden_size\) = \(1, 2, 4\), got \(2, 2, 4\)"),
    (dict(), lambda: torch.zeros(5, 2, 3), lambda: (torch.zeros(1, 3, 4), torch.zeros(1, 3, 4)), ValueError, r"h_0 should have shape .* = \(1, 2, 4\), got \(1, 3, 4\)"),
    (dict(proj_size=2), lambda: torch.zeros(5, 2, 3), lambda: (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4)), ValueError, r"h_0 should have shape \(num_layers \* num_directions, batch, proj_size\) = \(1, 2, 2\), got \(1, 2, 4\)"),
    (dict(proj_size=2), lambda: torch.zeros(5, 2, 3), lambda: (torch.zeros(1, 2, 2), torch.zeros(1, 2, 2)), ValueError, r"c_0 should have shape .*hidden_size\) = \(1, 2, 4\), got \(1, 2, 2\)"),
    (dict(), lambda: torch.zeros(5, 3), lambda: (torch.zeros(1, 1, 4), torch.zeros(1, 1, 4)), ValueError, r"h_0 should have shape \(num_layers \* num_directions, hidden_size\) = \(1, 4\), got \(1, 1, 4\)"),
    (dict(), lambda: torch.zeros(5, 2, 3), lambda: (torch.zeros(1, 2, 4, dtype=torch.float64), torch.zeros(1, 2, 4)), TypeError, "h_0 has dtype torch.float64 but input has dtype torch.float32"),
    (dict(), lambda: torch.zeros(5, 2, 3), lambda: (torch.zeros(1, 2, 4), [0.0]), TypeError, "c_0 should be a torch.Tensor, got list"),
]


@pytest.mark.parametrize("kwargs, make_input, make_hx, error, message", BAD_CALLS)
def test_bad_inputs_say_what_was_expected_and_what_came(kwargs, make_input, make_hx, error, message):
    with pytest.raises(error, match=message):
        _hand(**kwargs)(make_input(), make_hx() if make_hx else None)


def test_device_mismatch_is_named():
    hand = _hand()
    x = torch.zeros(5, 2, 3, device="meta")
    with pytest.raises(ValueError, match="input is on meta but the module's parameters are on cpu"):
        hand(x)


@pytest.mark.parametrize(
    "make_input, make_hx, error, message",
    [
        (lambda: torch.zeros(2, 2, 3), None, ValueError, r"2 dims \(batch, input_size\), or 1 dim .*got 3 dims"),
        (lambda: torch.zeros(2, 4), None, ValueError, "input's last dim should be input_size=3, got 4"),
        (lambda: torch.zeros(2, 3), lambda: (torch.zeros(2, 5),), TypeError, r"hx should be a pair \(h, c\)"),
        (lambda: torch.zeros(2, 3), lambda: (torch.zeros(3, 5), torch.zeros(3, 5)), ValueError, r"h should have shape \(batch, hidden_size\) = \(2, 5\), got \(3, 5\)"),
        (lambda: torch.zeros(3), lambda: (torch.zeros(5), torch.zeros(1, 5)), ValueError, r"c should have shape \(hidden_size,\) = \(5,\), got \(1, 5\)"),
    ],
)
def test_cell_bad_inputs_are_named(make_input, make_hx, error, message):
    with pytest.raises(error, match=message):
        HandLSTMCell(3, 5)(make_input(), make_hx() if make_hx else None)


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(input=torch.zeros(2, 3)), ValueError, r"input should have 3 dims \(batch, seq, input_size\), got shape \(2, 3\)"),
        (dict(h_0=torch.zeros(1, 2, 4)), ValueError, r"h_0 should have shape \(batch, hidden\) = \(2, 4\), got \(1, 2, 4\)"),
        (dict(w_ih=torch.zeros(16, 5)), ValueError, r"w_ih should have shape \(4 \* hidden, input_size\) = \(16, 3\), got \(16, 5\)"),
        (dict(b_hh=None), ValueError, "give both biases b_ih and b_hh, or neither"),
    ],
)
def test_lstm_forward_bad_inputs_are_named(change, error, message):
    args = dict(input=torch.zeros(2, 5, 3), h_0=torch.zeros(2, 4), c_0=torch.zeros(2, 4), w_ih=torch.zeros(16, 3), w_hh=torch.zeros(16, 4), b_ih=torch.zeros(16), b_hh=torch.zeros(16))
    args.update(change)
    with pytest.raises(error, match=message):
        lstm_forward(args["input"], (args["h_0"], args["c_0"]), args["w_ih"], args["w_hh"], args["b_ih"], args["b_hh"])

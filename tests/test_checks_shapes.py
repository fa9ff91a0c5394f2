"""The checks of notebook 04: stubs are not attempted, typical wrong answers are named, solutions pass."""

import pytest
import torch

from lstm_course.checks import check_backward_final_state, check_initial_states, check_last_layer_states


def stub(*args):
    raise NotImplementedError()


# --- backward_final_state(output, hidden_size) ---------------------------------------------


def backward_final_state(output, hidden_size):
    return output[:, 0, hidden_size:]


def test_backward_stub_is_not_attempted():
    result = check_backward_final_state(stub)
    assert result.status == "not attempted yet" and not result


def test_backward_solution_passes():
    result = check_backward_final_state(backward_final_state)
    assert result and "output[:, 0, H:] = h_n[-1]" in result.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda output, H: output[:, -1, H:], ["output[:, -1, H:]", "FIRST step", "ends at t = 0", "output[:, 0, H:]"]),
        (lambda output, H: output[:, -1, :H], ["FORWARD direction's final state", "h_n[-2]"]),
        (lambda output, H: output[:, 0, :H], ["forward direction's first step", "second half"]),
        (lambda output, H: output[:, 0], ["both directions at t = 0", "backward half"]),
        (lambda output, H: output[:, -1], ["both directions at the last step"]),
        (lambda output, H: output[:, :, H:], ["every step", "t = 0"]),
        (lambda output, H: output[0, :, H:], ["dim 0 as time", "batch_first=True dim 0 is the batch", "sample 0"]),
        (lambda output, H: output[-1, :, H:], ["dim 0 as time", "last sample"]),
    ],
    ids=["last-step-backward", "forward-final", "forward-first", "both-halves-t0", "both-halves-last", "all-steps",
         "time-as-dim0", "last-as-dim0"],
)
def test_backward_wrong_answers_are_named(answer, words):
    result = check_backward_final_state(answer)
    assert result.status == "failed", result
    assert result.message.startswith("Case 1: output of shape (2, 5, 8)")
    for word in words:
        assert word in result.message, (word, result.message)


def test_backward_other_errors_say_expected_versus_got():
    result = check_backward_final_state(lambda output, H: 2 * output[:, 0, H:])
    assert not result and "at sample 0, unit 0: expected" in result.message and "expected h_n[-1] = output[:, 0, H:]" in result.message
    result = check_backward_final_state(lambda output, H: output[:, 0, H:][:, :1])
    assert not result and "should have shape (2, 4), got (2, 1)" in result.message
    assert "returned None" in check_backward_final_state(lambda output, H: None).message
    assert "raised IndexError" in check_backward_final_state(lambda output, H: output[:, 99]).message


def test_backward_numpy_answers_are_accepted():
    assert check_backward_final_state(lambda output, H: output.numpy()[:, 0, H:])


# --- last_layer_states(h_n, num_layers, bidirectional) ---------------------------------------


def last_layer_states(h_n, num_layers, bidirectional):
    if bidirectional:
        return torch.cat([h_n[-2], h_n[-1]], dim=1)
    return h_n[-1]


def test_summary_stub_is_not_attempted():
    assert check_last_layer_states(stub).status == "not attempted yet"


def test_summary_solutions_pass():
    assert check_last_layer_states(last_layer_states)

    def by_view(h_n, num_layers, bidirectional):
        directions = 2 if bidirectional else 1
        last = h_n.view(num_layers, directions, h_n.shape[1], h_n.shape[2])[-1]  # (directions, batch, H)
        return last.permute(1, 0, 2).reshape(h_n.shape[1], -1)

    assert check_last_layer_states(by_view)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda h_n, L, bi: h_n[-1], ["h_n[-1], the backward direction alone", "torch.cat([h_n[-2], h_n[-1]], dim=1)"]),
        (lambda h_n, L, bi: h_n[-2] if bi else h_n[-1], ["h_n[-2], the forward direction alone"]),
        (lambda h_n, L, bi: torch.cat([h_n[-1], h_n[-2]], 1), ["backward state first", "forward then backward"]),
        (lambda h_n, L, bi: h_n[-2:].reshape(h_n.shape[1], -1), ["mixes samples", "dim 0 of h_n[-2:] is the direction", "permute(1, 0, 2)"]),
        (lambda h_n, L, bi: torch.cat([h_n[0], h_n[1]], 1), ["h_n[0] and h_n[1], layer 0", "k = layer * 2 + direction"]),
        (lambda h_n, L, bi: torch.cat(list(h_n.view(2, L, h_n.shape[1], -1)[:, -1]), 1),
         ["(num_directions, num_layers, batch, H)", "h_n.view(num_layers, num_directions, batch, H)[-1]"]),
        (lambda h_n, L, bi: h_n[0], ["h_n[0], layer 0's forward state"]),
    ],
    ids=["backward-only", "forward-only", "swapped", "reshape-mixes", "first-layer", "view-order", "h_n-0"],
)
def test_summary_wrong_answers_are_named(answer, words):
    result = check_last_layer_states(answer)
    assert result.status == "failed", result
    assert result.message.startswith("Case 1: num_layers=2, bidirectional=True, h_n of shape (4, 4, 3)")
    for word in words:
        assert word in result.message, (word, result.message)


def test_summary_unknown_mistakes_say_expected_versus_got():
    result = check_last_layer_states(lambda h_n, L, bi: torch.cat([h_n[-2], h_n[-2]], 1))
    assert not result and "at sample 0, unit 3: expected" in result.message and "forward then backward" in result.message


def test_summary_one_direction_mistakes_are_named():
    always_both = lambda h_n, L, bi: torch.cat([h_n[-2], h_n[-1]], dim=1)  # noqa: E731
    result = check_last_layer_states(always_both)
    assert not result and result.message.startswith("Case 4: num_layers=2, bidirectional=False")
    assert "one direction: the last layer's final state is h_n[-1] alone" in result.message
    first = lambda h_n, L, bi: torch.cat([h_n[-2], h_n[-1]], 1) if bi else h_n[0]  # noqa: E731
    assert "h_n[0], the first layer's state" in check_last_layer_states(first).message


def test_summary_index_error_for_one_layer_one_direction_gets_a_hint():
    def careful_except_one_layer(h_n, L, bi):
        if bi:
            return torch.cat([h_n[-2], h_n[-1]], dim=1)
        return h_n[-1] if L > 1 else h_n[-2]

    result = check_last_layer_states(careful_except_one_layer)
    assert not result and result.message.startswith("Case 5") and "raised IndexError" in result.message
    assert "one state per layer" in result.message


# --- initial_states(lstm, batch) -------------------------------------------------------------


def initial_states(lstm, batch):
    directions = 2 if lstm.bidirectional else 1
    h_0 = torch.zeros(lstm.num_layers * directions, batch, lstm.proj_size or lstm.hidden_size)
    c_0 = torch.zeros(lstm.num_layers * directions, batch, lstm.hidden_size)
    return h_0, c_0


def test_initial_stub_is_not_attempted():
    assert check_initial_states(stub).status == "not attempted yet"


def test_initial_solution_passes():
    result = check_initial_states(initial_states)
    assert result and "proj_size" in result.message


def _states(h_shape, c_shape):
    return torch.zeros(h_shape), torch.zeros(c_shape)


def _layers(lstm):
    return lstm.num_layers * (2 if lstm.bidirectional else 1)


@pytest.mark.parametrize(
    "answer, case, words",
    [
        (lambda lstm, b: _states((b, lstm.hidden_size), (b, lstm.hidden_size)), 1,
         ["h_0 is (batch, 4)", "without the layers dim", "(1, 2, 4)", "unsqueeze(0)"]),
        (lambda lstm, b: _states((_layers(lstm), lstm.hidden_size), (_layers(lstm), lstm.hidden_size)), 1,
         ["h_0 has no batch dim"]),
        (lambda lstm, b: _states((b, _layers(lstm), lstm.hidden_size), (b, _layers(lstm), lstm.hidden_size))
         if lstm.batch_first else initial_states(lstm, b), 2,
         ["h_0 is (3, 2, 4), batch first", "batch_first=True changes input and output only", "(2, 3, 4)"]),
        (lambda lstm, b: _states((lstm.num_layers, b, lstm.proj_size or lstm.hidden_size), (lstm.num_layers, b, lstm.hidden_size)), 3,
         ["num_layers = 2 entries", "layer AND direction", "num_layers * 2 = 4"]),
        (lambda lstm, b: _states((_layers(lstm), b, lstm.hidden_size), (_layers(lstm), b, lstm.hidden_size)), 4,
         ["proj_size=2, h is proj_size wide", "(6, 2, 2)", "c keeps hidden_size"]),
        (lambda lstm, b: _states((_layers(lstm), b, lstm.proj_size or lstm.hidden_size), (_layers(lstm), b, lstm.proj_size or lstm.hidden_size)), 4,
         ["c_0 should be (6, 2, 5)", "only h is projected"]),
        (lambda lstm, b: tuple(torch.ones_like(s) for s in initial_states(lstm, b)), 1, ["not all zeros", "torch.zeros"]),
        (lambda lstm, b: initial_states(lstm, b)[0], 1, ["return the pair (h_0, c_0), got one tensor of shape (1, 2, 4)"]),
    ],
    ids=["no-layers-dim", "no-batch-dim", "batch-first", "no-directions", "h-not-projected", "c-projected", "ones", "one-tensor"],
)
def test_initial_wrong_answers_are_named(answer, case, words):
    result = check_initial_states(answer)
    assert result.status == "failed", result
    assert result.message.startswith(f"Case {case}: nn.LSTM(")
    for word in words:
        assert word in result.message, (word, result.message)


def test_checks_leave_the_learners_random_numbers_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_backward_final_state(backward_final_state)
    check_last_layer_states(last_layer_states)
    check_initial_states(initial_states)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)

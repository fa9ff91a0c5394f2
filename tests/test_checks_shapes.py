"""The checks of notebook 04: stubs are not attempted, typical wrong answers are named, solutions pass."""

import pytest
import torch

from lstm_course.checks import check_backward_final_state, check_final_states, check_initial_states
from lstm_course.checks.shapes import FINAL_STATE_CASES
from lstm_course.shapes import final_states as reference_final_states


def stub(*args):
    raise NotImplementedError()


def _ends_in_one_mark(message):
    return message[-1] in ".?!" and message[-2] not in ".?!"


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
    assert _ends_in_one_mark(result.message), result.message
    assert result.message.startswith("Case 1: output of shape (3, 4, 6)")
    for word in words:
        assert word in result.message, (word, result.message)


def test_backward_other_errors_say_expected_versus_got():
    result = check_backward_final_state(lambda output, H: 2 * output[:, 0, H:])
    assert not result and "at sample 0, unit 0: expected" in result.message and "expected h_n[-1] = output[:, 0, H:]" in result.message
    result = check_backward_final_state(lambda output, H: output[:, 0, H:][:, :1])
    assert not result and "should have shape (3, 3), got (3, 1)" in result.message
    assert "returned None" in check_backward_final_state(lambda output, H: None).message
    assert "raised IndexError" in check_backward_final_state(lambda output, H: output[:, 99]).message


def test_backward_numpy_answers_and_other_correct_forms_pass():
    assert check_backward_final_state(lambda output, H: output.numpy()[:, 0, H:])
    assert check_backward_final_state(lambda output, H: output.chunk(2, dim=-1)[1][:, :1].squeeze(1))


def test_backward_answer_that_writes_into_output_cannot_pass():
    def zeroes_then_slices(output, hidden_size):
        answer = output[:, 0, hidden_size:].clone()
        output[:, -1] = 0
        return answer

    result = check_backward_final_state(zeroes_then_slices)
    assert not result and "changed its argument `output` in place" in result.message


# --- final_states(output, h_n, num_layers, bidirectional, batch_first) -------------------------


def final_states(output, h_n, num_layers, bidirectional, batch_first):
    """The notebook's solution."""
    D = 2 if bidirectional else 1
    H = h_n.shape[-1]
    if not batch_first:
        output = output.transpose(0, 1)  # (batch, seq, D * H)
    ends = [output[:, -1, :H]]
    if bidirectional:
        ends.append(output[:, 0, H:])
    last_layer = [h_n[k] for k in range((num_layers - 1) * D, num_layers * D)]
    return torch.cat(ends, dim=1), torch.cat(last_layer, dim=1)


def by_view_and_numpy(output, h_n, num_layers, bidirectional, batch_first):
    """Differently written: a view of h_n, movedim, halves by chunk, NumPy results."""
    D = 2 if bidirectional else 1
    steps = output if batch_first else output.movedim(0, 1)
    halves = steps.chunk(D, dim=-1)
    from_output = torch.cat([halves[0][:, -1]] + [half[:, 0] for half in halves[1:]], dim=-1)
    last = h_n.view(num_layers, D, h_n.shape[1], h_n.shape[2])[-1]  # (D, batch, H)
    return from_output.numpy(), last.permute(1, 0, 2).reshape(h_n.shape[1], -1).numpy()


def test_final_states_stub_is_not_attempted():
    assert check_final_states(stub).status == "not attempted yet"


@pytest.mark.parametrize("answer", [final_states, by_view_and_numpy, reference_final_states], ids=["solution", "by-view", "package"])
def test_final_states_correct_answers_pass(answer):
    result = check_final_states(answer)
    assert result and "12 LSTMs" in result.message, result


def test_final_states_cases_cover_every_layout_and_not_the_notebooks_sizes():
    layouts = {(c["num_layers"], c["bidirectional"], c["batch_first"]) for c, _, _ in FINAL_STATE_CASES}
    assert len(layouts) == 12
    assert any(c["proj_size"] for c, _, _ in FINAL_STATE_CASES) and not all(c["proj_size"] for c, _, _ in FINAL_STATE_CASES)
    for config, batch, seq in FINAL_STATE_CASES:
        layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
        assert len({batch, seq, layers}) == 3 and batch >= 2
        assert (config["hidden_size"], batch, seq) != (4, 2, 5)


def _first_case(bidirectional=None, batch_first=None, min_layers=1):
    """The number of the first case with these properties."""
    for number, (config, _, _) in enumerate(FINAL_STATE_CASES, start=1):
        if (bidirectional in (None, config["bidirectional"]) and batch_first in (None, config["batch_first"])
                and config["num_layers"] >= min_layers):
            return number
    raise AssertionError("no such case")


def _steps(output, batch_first):
    return output if batch_first else output.transpose(0, 1)


def _output_part(wrong):
    """An answer right about h_n whose from_output is ``wrong(output, h_n, L, bi, bf)``."""
    return lambda o, h, L, bi, bf: (wrong(o, h, L, bi, bf), reference_final_states(o, h, L, bi, bf)[1])


def _h_n_part(wrong):
    """An answer right about output whose from_h_n is ``wrong(output, h_n, L, bi, bf)``."""
    return lambda o, h, L, bi, bf: (reference_final_states(o, h, L, bi, bf)[0], wrong(o, h, L, bi, bf))


def _both_directions_from_h_n(wrong):
    return _h_n_part(lambda o, h, L, bi, bf: wrong(h, L) if bi else h[-1])


WRONG_FINAL_STATES = [
    ("h_n-last-is-backward", _both_directions_from_h_n(lambda h, L: h[-1]), 1,
     ["from_h_n: you returned h_n[-1] alone", "BACKWARD direction", "h_n[-2]"]),
    ("h_n-forward-only", _both_directions_from_h_n(lambda h, L: h[-2]), 1, ["h_n[-2] alone, the last layer's forward direction"]),
    ("h_n-backward-first", _both_directions_from_h_n(lambda h, L: torch.cat([h[-1], h[-2]], 1)), 1,
     ["from_h_n: you put the backward state first"]),
    ("h_n-reshape-mixes", _both_directions_from_h_n(lambda h, L: h[-2:].reshape(h.shape[1], -1)), 1,
     ["mixes samples", "dim 0 of h_n[-2:] is the direction", "permute(1, 0, 2)"]),
    ("h_n-stacked", _both_directions_from_h_n(lambda h, L: h[-2:]), 1, ["stacked, (2, batch, H)", "side by side"]),
    ("h_n-layer-0", _both_directions_from_h_n(lambda h, L: torch.cat([h[0], h[1]], 1)), 1,
     ["h_n[0] and h_n[1], layer 0", "k = layer * D + direction"]),
    ("view-swapped", _both_directions_from_h_n(lambda h, L: torch.cat(list(h.view(2, L, h.shape[1], -1)[-1]), 1)), 1,
     ["(num_directions, num_layers, batch, H)", "h_n.view(num_layers, num_directions, batch, H)[-1]", "without an error"]),
    ("view-swapped-columns", _both_directions_from_h_n(lambda h, L: torch.cat(list(h.view(2, L, h.shape[1], -1)[:, -1]), 1)), 1,
     ["(num_directions, num_layers, batch, H)"]),
    ("h_n-read-batch-first", _h_n_part(lambda o, h, L, bi, bf: torch.cat([h[:, -2], h[:, -1]], 1)), 1,
     ["from_h_n has num_layers * D = 6 rows", "batch_first does not apply to h_n", "input and output only"]),
    ("h_n-transposed", _h_n_part(lambda o, h, L, bi, bf: torch.cat(list((h.transpose(0, 1) if bf else h).reshape(L, 2 if bi else 1, h.shape[1], -1)[-1]), 1)), 1,
     ["from_h_n: batch_first does not apply to h_n", "without transposing it"]),
    ("output-last-step-for-backward", _output_part(lambda o, h, L, bi, bf: _steps(o, bf)[:, -1]), 1,
     ["from_output: you took output[:, -1], both halves at the last step", "backward direction's FIRST step", "ends at t = 0"]),
    ("output-backward-first", _output_part(lambda o, h, L, bi, bf: torch.cat([_steps(o, bf)[:, 0, o.shape[-1] // 2:], _steps(o, bf)[:, -1, :o.shape[-1] // 2]], 1)), 1,
     ["from_output: you put the backward state first"]),
    ("output-forward-only", _output_part(lambda o, h, L, bi, bf: _steps(o, bf)[:, -1, :h.shape[-1]]), 1,
     ["only the forward direction's final state, output[:, -1, :H]"]),
    ("output-t0-both", _output_part(lambda o, h, L, bi, bf: _steps(o, bf)[:, 0]), 1,
     ["output[:, 0], both halves at t = 0", "forward direction's FIRST step"]),
    ("output-ignores-batch-first", lambda o, h, L, bi, bf: reference_final_states(o, h, L, bi, True), _first_case(batch_first=False),
     ["from_output has seq = 6 rows", "with batch_first=False, output is (seq, batch, D * H)", "transpose(0, 1)"]),
    ("output-read-as-seq-first", _output_part(lambda o, h, L, bi, bf: reference_final_states(o, h, L, bi, False)[0]), 1,
     ["from_output has seq = 2 rows", "with batch_first=True, output is (batch, seq, D * H), so time is dim 1"]),
    ("one-direction-two-states", _h_n_part(lambda o, h, L, bi, bf: torch.cat([h[-2], h[-1]], 1)), _first_case(bidirectional=False, min_layers=2),
     ["from_h_n: this LSTM has one direction", "h_n[-1] alone", "the layer below"]),
    ("one-direction-first-layer", _h_n_part(lambda o, h, L, bi, bf: reference_final_states(o, h, L, bi, bf)[1] if bi else h[0]),
     _first_case(bidirectional=False, min_layers=2), ["h_n[0], layer 0's forward state"]),
    ("one-direction-halves", _output_part(lambda o, h, L, bi, bf: reference_final_states(o, h, L, bi, bf)[0] if bi else torch.cat(
        [_steps(o, bf)[:, -1, :o.shape[-1] // 2], _steps(o, bf)[:, 0, o.shape[-1] // 2:]], 1)), _first_case(bidirectional=False),
     ["from_output: this LSTM has one direction", "no backward half"]),
    ("one-direction-first-step", _output_part(lambda o, h, L, bi, bf: _steps(o, bf)[:, 0] if not bi else reference_final_states(o, h, L, bi, bf)[0]),
     _first_case(bidirectional=False), ["from_output: you took output[:, 0], the first step", "final state is at the last step"]),
    ("both-from-h_n", lambda o, h, L, bi, bf: (reference_final_states(o, h, L, bi, bf)[1],) * 2, 1,
     ["from_output: this is what h_n holds, not output", "two different inputs"]),
    ("both-from-output", lambda o, h, L, bi, bf: (reference_final_states(o, h, L, bi, bf)[0],) * 2, 1,
     ["from_h_n: this is what output holds, not h_n"]),
    ("one-tensor", lambda o, h, L, bi, bf: reference_final_states(o, h, L, bi, bf)[0], 1,
     ["return the pair (from_output, from_h_n), got one tensor of shape (5, 6)"]),
]


@pytest.mark.parametrize("answer, case, words", [w[1:] for w in WRONG_FINAL_STATES], ids=[w[0] for w in WRONG_FINAL_STATES])
def test_final_states_wrong_answers_are_named(answer, case, words):
    result = check_final_states(answer)
    assert result.status == "failed", result
    assert _ends_in_one_mark(result.message), result.message
    assert result.message.startswith(f"Case {case}: num_layers="), result.message
    for word in words:
        assert word in result.message, (word, result.message)


def test_final_states_case_1_is_three_layers_two_directions_batch_first():
    """The diagnoses above rely on it: the swapped view only shows with three layers."""
    config, batch, seq = FINAL_STATE_CASES[0]
    assert (config["num_layers"], config["bidirectional"], config["batch_first"], batch, seq) == (3, True, True, 5, 2)


def test_final_states_errors_and_unknown_mistakes_are_diagnosed():
    result = check_final_states(lambda o, h, L, bi: (o, h))
    assert not result and "raised TypeError" in result.message
    assert "Keep the signature `final_states(output, h_n, num_layers, bidirectional, batch_first)`" in result.message
    always_two = lambda o, h, L, bi, bf: reference_final_states(o, h, L, True, bf)  # noqa: E731  view fails on one direction
    result = check_final_states(always_two)
    assert not result and result.message.startswith(f"Case {_first_case(bidirectional=False)}") and "is invalid for input of size" in result.message
    assert "h_n is (num_layers * D, batch, H) either way" in result.message
    scaled = _h_n_part(lambda o, h, L, bi, bf: 2 * reference_final_states(o, h, L, bi, bf)[1])
    result = check_final_states(scaled)
    assert not result and "from_h_n at sample 0, unit 0: expected" in result.message and "forward then backward" in result.message
    assert "returned None" in check_final_states(lambda o, h, L, bi, bf: None).message


def test_final_states_that_asserts_agreement_is_told_why_it_fails():
    def asserts(output, h_n, num_layers, bidirectional, batch_first):
        from_output, from_h_n = reference_final_states(output, h_n, num_layers, bidirectional, batch_first)
        torch.testing.assert_close(from_output, from_h_n)
        return from_output, from_h_n

    result = check_final_states(asserts)
    assert not result and "raised AssertionError" in result.message and "need not agree here" in result.message
    assert _ends_in_one_mark(result.message)


def test_final_states_answer_that_writes_into_h_n_cannot_pass():
    def zeroes_h_n(output, h_n, num_layers, bidirectional, batch_first):
        answer = reference_final_states(output, h_n.clone(), num_layers, bidirectional, batch_first)
        h_n.zero_()
        return answer

    result = check_final_states(zeroes_h_n)
    assert not result and "changed its argument `h_n` in place" in result.message


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


def test_initial_states_written_otherwise_pass():
    def from_the_weights(lstm, batch):
        first = lstm.weight_hh_l0  # (4 * hidden_size, width of h)
        layers = len([name for name, _ in lstm.named_parameters() if name.startswith("weight_hh")])  # one per layer and direction
        return first.new_zeros(layers, batch, first.shape[1]).numpy(), first.new_zeros(layers, batch, first.shape[0] // 4).numpy()

    assert check_initial_states(from_the_weights)


def _states(h_shape, c_shape):
    return torch.zeros(h_shape), torch.zeros(c_shape)


def _layers(lstm):
    return lstm.num_layers * (2 if lstm.bidirectional else 1)


@pytest.mark.parametrize(
    "answer, case, words",
    [
        (lambda lstm, b: _states((b, lstm.hidden_size), (b, lstm.hidden_size)), 1,
         ["h_0 is (batch, 3)", "without the layers dim", "(1, 4, 3)", "unsqueeze(0)"]),
        (lambda lstm, b: _states((_layers(lstm), lstm.hidden_size), (_layers(lstm), lstm.hidden_size)), 1,
         ["h_0 has no batch dim"]),
        (lambda lstm, b: _states((b, _layers(lstm), lstm.hidden_size), (b, _layers(lstm), lstm.hidden_size))
         if lstm.batch_first else initial_states(lstm, b), 2,
         ["h_0 is (3, 2, 5), batch first", "batch_first=True changes input and output only", "(2, 3, 5)"]),
        (lambda lstm, b: _states((lstm.num_layers, b, lstm.proj_size or lstm.hidden_size), (lstm.num_layers, b, lstm.hidden_size)), 3,
         ["num_layers = 3 entries", "layer AND direction", "num_layers * 2 = 6"]),
        (lambda lstm, b: _states((_layers(lstm), b, lstm.hidden_size), (_layers(lstm), b, lstm.hidden_size)), 4,
         ["proj_size=3, h is proj_size wide", "(4, 2, 3)", "c keeps hidden_size"]),
        (lambda lstm, b: _states((_layers(lstm), b, lstm.proj_size or lstm.hidden_size), (_layers(lstm), b, lstm.proj_size or lstm.hidden_size)), 4,
         ["c_0 should be (4, 2, 5)", "only h is projected"]),
        (lambda lstm, b: tuple(torch.ones_like(s) for s in initial_states(lstm, b)), 1, ["not all zeros", "torch.zeros"]),
        (lambda lstm, b: initial_states(lstm, b)[0], 1, ["return the pair (h_0, c_0), got one tensor of shape (1, 4, 3)"]),
    ],
    ids=["no-layers-dim", "no-batch-dim", "batch-first", "no-directions", "h-not-projected", "c-projected", "ones", "one-tensor"],
)
def test_initial_wrong_answers_are_named(answer, case, words):
    result = check_initial_states(answer)
    assert result.status == "failed", result
    assert _ends_in_one_mark(result.message), result.message
    assert result.message.startswith(f"Case {case}: nn.LSTM(")
    for word in words:
        assert word in result.message, (word, result.message)


def test_initial_states_that_change_the_lstm_cannot_pass():
    def drops_the_projection(lstm, batch):
        lstm.proj_size = 0  # now hidden_size wide states "fit" this module
        return initial_states(lstm, batch)

    result = check_initial_states(drops_the_projection)
    assert not result and result.message.startswith("Case 4") and "proj_size=3, h is proj_size wide" in result.message

    def fewer_layers(lstm, batch):
        lstm.num_layers = 1
        return initial_states(lstm, batch)

    result = check_initial_states(fewer_layers)
    assert not result and result.message.startswith("Case 2") and "should have shape (2, 3, 5)" in result.message


def test_checks_leave_the_learners_random_numbers_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_backward_final_state(backward_final_state)
    check_final_states(final_states)
    check_initial_states(initial_states)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)

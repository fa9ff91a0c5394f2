import numpy as np
import pytest
import torch

from lstm_course import counter
from lstm_course.checks import check_count_to_seven, check_counter_weights
from lstm_course.checks.hand_counter import COUNT_PROGRAMS, WEIGHT_PROGRAMS, count, random_program
from lstm_course.counter import COUNTER_PROGRAM, TEXTBOOK_OUTPUTS, counter_weights, parse_program, real_counter, textbook_counter

PRISTINE_W_IH = counter.COUNTER_W_IH.copy()
GOOD_ROWS = [[0, 100, 0, -10], [0, 100, 0, 10], [1, 0, 0, 0], [0, 0, 100, -10]]


def stub(*args):
    raise NotImplementedError()


def _weights(rows=GOOD_ROWS, **others):
    """A weights answer: ``w_ih`` from ``rows``, the rest zero unless given."""
    weights = {"w_ih": np.array(rows, dtype=np.float64), "w_hh": np.zeros((4, 1)), "b_ih": np.zeros(4), "b_hh": np.zeros(4)}
    return lambda: {**weights, **others}


def _with_row(gate, row):
    rows = [list(r) for r in GOOD_ROWS]
    rows["ifgo".index(gate)] = row
    return _weights(rows)


# --- what the checks expect: their own count, on programs the notebook does not show ------------


def test_count_agrees_with_the_textbook_counter_on_random_programs():
    for seed in range(20):
        inputs = parse_program(random_program(np.random.default_rng(seed), 15, largest=30))
        np.testing.assert_array_equal(count(inputs), textbook_counter(inputs)["h"])
    np.testing.assert_array_equal(count(parse_program(COUNTER_PROGRAM)), TEXTBOOK_OUTPUTS)


def test_random_programs_hold_every_kind_of_token_and_are_not_the_notebooks():
    for program in WEIGHT_PROGRAMS + COUNT_PROGRAMS[2:]:
        x2, x3 = parse_program(program)[:, 1], parse_program(program)[:, 2]
        assert {1, -1} <= set(x2) and 1 in x3 and np.any((x2 == 0) & (x3 == 0)), program
        assert program != COUNTER_PROGRAM


# --- Exercise 1: the counter's weights ----------------------------------------------------------


def test_weights_stub_is_not_attempted():
    result = check_counter_weights(stub)
    assert result.status == "not attempted yet" and not result


@pytest.mark.parametrize(
    "answer",
    [
        _weights(),
        counter_weights,  # the package's
        # differently written: the constants in b_ih instead of the constant input, smaller weights
        _weights([[0, 20, 0, 0], [0, 20, 0, 0], [1, 0, 0, 0], [0, 0, 20, 0]], b_ih=np.array([-10.0, 10, 0, -10])),
        # as torch tensors, the bias split between b_ih and b_hh
        lambda: {"w_ih": torch.tensor(GOOD_ROWS, dtype=torch.float64), "w_hh": torch.zeros(4, 1),
                 "b_ih": torch.tensor([-5.0, 5, 0, -5]), "b_hh": torch.tensor([5.0, -5, 0, 5])},
    ],
    ids=["solution", "package", "biases-in-b_ih", "torch-split-biases"],
)
def test_correct_weights_pass(answer):
    result = check_counter_weights(answer)
    assert result, result.message
    assert "0 0 0 0 0 7 0 0 6" in result.message and "not seen" in result.message


@pytest.mark.parametrize(
    "answer, words",
    [
        (_weights([GOOD_ROWS[1], GOOD_ROWS[0], GOOD_ROWS[2], GOOD_ROWS[3]]), ["gate order f, i, g, o", "i, f, g, o"]),
        (_weights([GOOD_ROWS[0], GOOD_ROWS[1], GOOD_ROWS[3], GOOD_ROWS[2]]), ["gate order i, f, o, g"]),
        (_with_row("f", [0, 0, 0, 10]), ["never forgets", "x2 = -1", "time step 11 ('!25')", "forget gate"]),
        (_with_row("f", [0, 100, 0, 110]), ["never forgets"]),
        (_with_row("f", [0, 100, 0, -10]), ["forgets without x2 = -1", "time step 3 ('?17')"]),
        (_with_row("f", [0, 0, 0, -10]), ["forgets all the time", "time step 1 ('+16')"]),
        (_with_row("o", [0, 0, 100, 10]), ["reveals all the time", "time step 1 ('+16')", "output gate"]),
        (_with_row("o", [0, 0, 0, -10]), ["never reveals", "x3 = 1"]),
        (_with_row("i", [0, 100, 0, 110]), ["stores all the time", "input gate"]),
        (_with_row("i", [0, 100, 0, 10]), ["stores without x2 = 1", "time step 3 ('?17')"]),
        (_with_row("i", [1, 100, 0, -10]), ["stores without x2 = 1"]),  # the gate also reads x1
        (_with_row("i", [0, 0, 0, -10]), ["never stores"]),
        (_with_row("g", [2, 0, 0, 0]), ["stores the wrong number", "g is 32", "x1 = 16"]),
        (_with_row("g", [1, 1, 0, 0]), ["stores the wrong number"]),
        (_with_row("i", [0, 1, 0, -0.5]), ["before rounding", "0.622", "within 0.01"]),
        (lambda: np.array(GOOD_ROWS, dtype=float), ["should return a dict", "got ndarray"]),
        (lambda: {"w_ih": np.array(GOOD_ROWS, dtype=float)}, ["has no w_hh, b_ih, b_hh"]),
        (_weights(w_hh=np.zeros(4)), ["weights['w_hh'] should have shape (4, 1), got (4,)"]),
        (_weights(np.array(GOOD_ROWS).T), ["w_ih is transposed", "columns the inputs"]),  # transposed: rows are inputs, columns gates
    ],
    ids=["f-i-swapped", "g-o-swapped", "no-forget", "forget-too-weak", "forgets-without-x2", "forgets-always", "reveals-always",
         "never-reveals", "stores-always", "stores-on-x2-0", "gate-reads-x1", "never-stores", "g-doubled",
         "g-reads-x2", "gates-not-saturated", "not-a-dict", "keys-missing", "w_hh-shape", "transposed"],
)
def test_wrong_weights_get_their_own_diagnosis(answer, words):
    result = check_counter_weights(answer)
    assert not result
    for word in words:
        assert word in result.message, result.message
    assert result.message.endswith(".") and not result.message.endswith("..")


def test_weights_that_change_between_calls_are_named():
    shared = {"w_ih": np.array(GOOD_ROWS, dtype=float), "w_hh": np.zeros((4, 1)), "b_ih": np.zeros(4), "b_hh": np.zeros(4)}

    def drifting():
        shared["w_ih"][2] *= 0.5
        return shared

    result = check_counter_weights(drifting)
    assert not result and "different results on two calls" in result.message and "w_ih" in result.message


def test_weights_that_edit_the_package_constant_cannot_pass_and_leave_it_intact():
    def edits_the_constant():
        w_ih = counter.COUNTER_W_IH
        w_ih[0, 3] = -10.0  # the same value, written in place
        return {**counter_weights(), "w_ih": w_ih}

    def turns_the_flag_back_on():
        counter.COUNTER_W_IH.flags.writeable = True
        return counter_weights()

    for answer in (edits_the_constant, turns_the_flag_back_on):
        result = check_counter_weights(answer)
        assert not result and "read-only" in result.message and "counter.counter_weights()" in result.message
    np.testing.assert_array_equal(counter.COUNTER_W_IH, PRISTINE_W_IH)
    assert not counter.COUNTER_W_IH.flags.writeable


def test_weights_errors_are_diagnosed():
    assert "raised ZeroDivisionError" in check_counter_weights(lambda: 1 / 0).message
    assert "returned None" in check_counter_weights(lambda: None).message
    assert "expected a function" in check_counter_weights(counter_weights()).message


# --- Exercise 2: make a real LSTM count to 7 ----------------------------------------------------


def _scaled_counter(inputs, scale):
    weights = counter_weights()
    weights["w_ih"][2] *= scale
    return real_counter(inputs, weights)["h"]


def solution(inputs):
    return np.arctanh(_scaled_counter(inputs, 0.01)) / 0.01


def torch_answer(inputs):
    """Differently written: nn.LSTM in float32, another scale, torch's atanh."""
    scale, lstm = 0.005, counter.counter_lstm(torch.float32)
    with torch.no_grad():
        lstm.weight_ih_l0[2] *= scale
        output, _ = lstm(torch.tensor(inputs, dtype=torch.float32)[None])  # (1, seq, 1)
    return torch.atanh(output[0, :, 0]) / scale


def test_count_stub_is_not_attempted():
    result = check_count_to_seven(stub)
    assert result.status == "not attempted yet" and not result


@pytest.mark.parametrize("answer", [solution, torch_answer], ids=["solution", "torch-float32"])
def test_correct_counts_pass(answer):
    result = check_count_to_seven(answer)
    assert result and "7.00" in repr(result), result.message


def test_unscaled_lstm_is_told_about_saturation():
    result = check_count_to_seven(lambda inputs: real_counter(inputs)["h"])
    assert not result and "never leave [-1, 1]" in result.message and "scale" in result.message


def test_undecoded_output_is_told_to_decode():
    result = check_count_to_seven(lambda inputs: _scaled_counter(inputs, 0.01))
    assert not result and "decode" in result.message


@pytest.mark.parametrize("scale", [0.01, 0.02])
def test_a_forgotten_arctanh_is_named(scale):
    result = check_count_to_seven(lambda inputs: _scaled_counter(inputs, scale) / scale)
    assert not result and "squashed by the last tanh" in result.message and "np.arctanh" in result.message
    assert "same factor" not in result.message


def test_decoding_by_the_wrong_factor_is_named():
    result = check_count_to_seven(lambda inputs: np.arctanh(_scaled_counter(inputs, 0.01)) / 0.02)
    assert not result and "same factor 0.5" in result.message and "time step 6 ('?1')" in result.message


@pytest.mark.parametrize("scale", [0.03, 0.3])
def test_too_large_a_scale_is_named(scale):
    result = check_count_to_seven(lambda inputs: np.arctanh(_scaled_counter(inputs, scale)) / scale)
    assert not result and "Use a smaller scale" in result.message and "expected" in result.message


def test_output_where_the_gate_is_closed_is_named():
    def leaky(inputs):
        out = solution(inputs)
        out[2] = 1.0
        return out

    result = check_count_to_seven(leaky)
    assert not result and "time step 3" in result.message and "output gate is closed" in result.message


def test_answers_for_the_notebooks_program_only_fail():
    result = check_count_to_seven(lambda inputs: np.array(TEXTBOOK_OUTPUTS, dtype=float))
    assert not result and "expected one output per step" in result.message


def test_a_global_weights_dict_scaled_on_every_call_is_named():
    weights = counter_weights()

    def compounding(inputs):
        weights["w_ih"][2] *= 0.01
        return np.arctanh(real_counter(inputs, weights)["h"]) / 0.01

    result = check_count_to_seven(compounding)
    assert not result and "different results on two calls" in result.message and "global weights dict" in result.message
    assert "time step 6 ('?1'): 6.996, then 0.07" in result.message


def test_scaling_the_package_constant_in_place_cannot_pass_and_leaves_it_intact():
    def scales_the_constant(inputs):  # the old notebook's `w_ih = counter.COUNTER_W_IH`, then the hint
        w_ih = counter.COUNTER_W_IH
        w_ih[2] *= 0.01
        return np.arctanh(real_counter(inputs, {**counter_weights(), "w_ih": w_ih})["h"]) / 0.01

    result = check_count_to_seven(scales_the_constant)
    assert not result and "read-only" in result.message and "w_ih[2] *= 0.01" in result.message
    np.testing.assert_array_equal(counter.COUNTER_W_IH, PRISTINE_W_IH)
    np.testing.assert_array_equal(textbook_counter()["h"], TEXTBOOK_OUTPUTS)


def test_the_expected_counts_do_not_come_from_the_package_weights(monkeypatch):
    """Even with the package's weights corrupted, the check expects what the programs count."""
    corrupted = PRISTINE_W_IH.copy()
    corrupted[2] *= 2
    monkeypatch.setattr(counter, "COUNTER_W_IH", corrupted)
    result = check_count_to_seven(lambda inputs: textbook_counter(inputs)["h"])  # 0 ... 14 ... 12
    assert not result and "expected 7, got 14" in result.message


def test_wrong_length_and_errors_are_diagnosed():
    assert "expected one output per step" in check_count_to_seven(lambda inputs: solution(inputs)[:-1]).message
    assert "raised ZeroDivisionError" in check_count_to_seven(lambda inputs: 1 / 0).message
    assert "returned None" in check_count_to_seven(lambda inputs: None).message

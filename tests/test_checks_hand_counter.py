import numpy as np

from lstm_course.checks import check_count_to_seven
from lstm_course.counter import counter_weights, real_counter


def _scaled_counter(inputs, scale):
    weights = counter_weights()
    weights["w_ih"][2] *= scale
    return real_counter(inputs, weights)["h"]


def solution(inputs):
    return np.arctanh(_scaled_counter(inputs, 0.01)) / 0.01


def stub(inputs):
    raise NotImplementedError()


def test_stub_is_not_attempted():
    result = check_count_to_seven(stub)
    assert result.status == "not attempted yet" and not result


def test_solution_passes():
    result = check_count_to_seven(solution)
    assert result and "7.00" in repr(result)


def test_unscaled_lstm_is_told_about_saturation():
    result = check_count_to_seven(lambda inputs: real_counter(inputs)["h"])
    assert not result and "never leave [-1, 1]" in result.message and "scale" in result.message


def test_undecoded_output_is_told_to_decode():
    result = check_count_to_seven(lambda inputs: _scaled_counter(inputs, 0.01))
    assert not result and "decode" in result.message


def test_decoding_by_the_wrong_factor_is_named():
    result = check_count_to_seven(lambda inputs: np.arctanh(_scaled_counter(inputs, 0.01)) / 0.02)
    assert not result and "same factor 0.5" in result.message and "time step 6 ('?1')" in result.message


def test_too_large_a_scale_names_the_step():
    result = check_count_to_seven(lambda inputs: np.arctanh(_scaled_counter(inputs, 0.3)) / 0.3)
    assert not result and "time step 6 ('?1'): expected 7" in result.message


def test_output_where_the_gate_is_closed_is_named():
    def leaky(inputs):
        out = solution(inputs)
        out[2] = 1.0
        return out

    result = check_count_to_seven(leaky)
    assert not result and "time step 3" in result.message and "output gate is closed" in result.message


def test_wrong_length_and_errors_are_diagnosed():
    assert "expected one output per step" in check_count_to_seven(lambda inputs: solution(inputs)[:-1]).message
    assert "raised ZeroDivisionError" in check_count_to_seven(lambda inputs: 1 / 0).message
    assert "returned None" in check_count_to_seven(lambda inputs: None).message

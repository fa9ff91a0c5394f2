import numpy as np
import pytest
import torch

from lstm_course.counter import (
    COUNTER_INPUTS,
    COUNTER_PROGRAM,
    COUNTER_W_IH,
    TEXTBOOK_OUTPUTS,
    counter_lstm,
    counter_lstm_cell,
    counter_weights,
    format_program,
    parse_program,
    real_counter,
    textbook_counter,
)


def test_textbook_counter_prints_the_textbook_numbers():
    np.testing.assert_array_equal(textbook_counter()["h"], TEXTBOOK_OUTPUTS)
    assert TEXTBOOK_OUTPUTS == (0, 0, 0, 0, 0, 7, 0, 0, 6)


def test_real_counter_saturates_at_0964_and_0762():
    h = real_counter()["h"]
    assert np.round(h[5], 3) == 0.964 and np.round(h[8], 3) == 0.762
    np.testing.assert_allclose(h[[0, 1, 2, 3, 4, 6, 7]], 0, atol=1e-3)


def test_numpy_lstm_cell_and_lstm_agree_to_1e_6():
    numpy_h = real_counter()["h"]
    cell, h, c = counter_lstm_cell(), torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    cell_h = []
    for x in torch.tensor(COUNTER_INPUTS):  # one step at a time: x is (input_size,) -> (1, input_size)
        h, c = cell(x[None], (h, c))
        cell_h.append(h.item())
    output, _ = counter_lstm()(torch.tensor(COUNTER_INPUTS)[None])  # (1, seq, 1)
    np.testing.assert_allclose(cell_h, numpy_h, rtol=0, atol=1e-6)
    np.testing.assert_allclose(output.detach().numpy()[0, :, 0], numpy_h, rtol=0, atol=1e-6)


def test_float32_modules_agree_with_numpy_to_1e_6():
    output, _ = counter_lstm(torch.float32)(torch.tensor(COUNTER_INPUTS, dtype=torch.float32)[None])
    np.testing.assert_allclose(output.detach().numpy()[0, :, 0], real_counter()["h"], rtol=0, atol=1e-6)


def test_modules_have_zero_biases():
    cell = counter_lstm_cell()
    assert torch.count_nonzero(cell.bias_ih) == 0 and torch.count_nonzero(cell.bias_hh) == 0
    assert torch.count_nonzero(counter_lstm().bias_hh_l0) == 0


def test_program_round_trip():
    assert format_program(parse_program(COUNTER_PROGRAM)) == COUNTER_PROGRAM
    np.testing.assert_array_equal(parse_program("+3 ! ?"), [[3, 1, 0, 1], [0, -1, 0, 1], [0, 0, 1, 1]])


def test_store_forget_reveal_in_a_new_program():
    h = textbook_counter(parse_program("+2 +5 ?0 ! +-3 ?0"))["h"]
    np.testing.assert_array_equal(h, [0, 0, 7, 0, 0, -3])


@pytest.mark.parametrize("program, message", [("+3 x", "cannot read 'x'"), ("", "the program is empty"), ("+a", "cannot read '\\+a'")])
def test_bad_programs_say_how_to_write_one(program, message):
    with pytest.raises(ValueError, match=message) as error:
        parse_program(program)
    assert "'+5' stores 5" in str(error.value)


def test_program_must_be_text():
    with pytest.raises(TypeError, match="should be a str, got list"):
        parse_program([1, 2])


def test_inputs_must_have_four_columns():
    with pytest.raises(ValueError, match=r"shape \(seq, 4\).*got \(9, 3\)"):
        textbook_counter(COUNTER_INPUTS[:, :3])


def test_a_row_no_token_can_write_is_named():
    with pytest.raises(ValueError, match="no program token writes x2=1, x3=1"):
        format_program([[3, 1, 1, 1]])


@pytest.mark.parametrize("constant", [COUNTER_W_IH, COUNTER_INPUTS], ids=["COUNTER_W_IH", "COUNTER_INPUTS"])
def test_package_constants_are_read_only_for_good(constant):
    before = constant.copy()
    with pytest.raises(ValueError, match="read-only"):
        constant[0] *= 0.01
    with pytest.raises(ValueError, match="WRITEABLE"):
        constant.flags.writeable = True
    np.testing.assert_array_equal(constant, before)


def test_counter_weights_are_fresh_copies_to_change():
    weights = counter_weights()
    weights["w_ih"][2] *= 0.01
    assert weights["w_ih"].flags.writeable and counter_weights()["w_ih"][2, 0] == 1
    np.testing.assert_array_equal(textbook_counter()["h"], TEXTBOOK_OUTPUTS)


def test_textbook_counter_adds_the_biases_and_the_recurrent_weights():
    moved = {**counter_weights(), "w_ih": COUNTER_W_IH * [1, 1, 1, 0], "b_ih": np.array([-5.0, 5, 0, -5]), "b_hh": np.array([-5.0, 5, 0, -5])}
    np.testing.assert_array_equal(textbook_counter(COUNTER_INPUTS, moved)["h"], TEXTBOOK_OUTPUTS)
    echo = {**counter_weights(), "w_hh": np.array([[0.0], [0], [1], [0]])}  # g also adds the last output
    np.testing.assert_array_equal(textbook_counter(parse_program("+3 ?0 +1 ?0"), echo)["h"], [0, 3, 0, 7])

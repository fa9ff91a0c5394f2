"""The one judge every check uses: calling the learner's code, its contract, comparing, wording, refusing the course's code."""

import functools

import numpy as np
import pytest
import torch

from lstm_course import numpy_lstm
from lstm_course.checks.judge import Mistake, call, check, expect_close, expect_finite, in_case, integer, numbers, same, sentence, tensor, unpack


def test_sentence_starts_with_a_capital_and_ends_in_one_stop():
    assert sentence("did you forget `return`?") == "Did you forget `return`?"
    assert sentence("a shape.") == "A shape."
    assert sentence("  a   shape ") == "A shape."
    assert sentence("`h` is right") == "`h` is right."


def test_in_case_names_the_case_before_the_message():
    with pytest.raises(Mistake, match=r"^Case 2 \(batch=3\): The states differ\.$"):
        with in_case("Case 2 (batch=3)"):
            raise Mistake("the states differ")


def test_a_shape_error_names_the_line_and_the_shapes():
    def forward(x, w_ih):
        z = x @ w_ih  # should be w_ih.T
        return z

    with pytest.raises(Mistake) as raised:
        call(forward, torch.zeros(2, 3), torch.zeros(8, 3), shape_hint="Use w_ih.T.")
    message = str(raised.value)
    assert "`forward` raised RuntimeError" in message
    assert "in the line `z = x @ w_ih  # should be w_ih.T`" in message
    assert "x: Tensor of shape (2, 3), w_ih: Tensor of shape (8, 3)" in message and message.endswith("Use w_ih.T.")
    assert "Keep the signature" not in message  # the call fitted: the error is inside the function


def test_keep_the_signature_only_when_the_call_does_not_fit_it():
    with pytest.raises(Mistake, match=r"cannot be called as the statement calls it .* Keep the signature `f\(x, y\)`"):
        call(lambda x: x, 1, 2, signature="f(x, y)")


def test_an_index_past_the_end_gets_its_own_hint_not_the_shape_hint():
    def one_step_too_far(x):
        return [x[t] for t in range(len(x) + 1)]

    with pytest.raises(Mistake) as raised:
        call(one_step_too_far, np.zeros(3), shape_hint="A matmul hint.")
    message = str(raised.value)
    assert "raised IndexError" in message and "look at your loop's range" in message and "matmul" not in message


def test_writing_into_an_argument_is_a_mistake_and_the_caller_keeps_its_data():
    def doubles_in_place(c):
        c *= 2
        return c

    for data in (np.ones(3), torch.ones(3)):
        with pytest.raises(Mistake, match="changed its argument `c` in place"):
            call(doubles_in_place, data)
        assert (data == 1).all()


def test_a_missing_return_is_said_once():
    with pytest.raises(Mistake) as raised:
        call(lambda x: None, 1)
    assert str(raised.value).endswith("did you forget `return`?")
    assert str(raised.value).count("return") == 2


def test_a_value_instead_of_a_function_is_named():
    with pytest.raises(Mistake, match="Expected a function, got float"):
        call(0.5, 1)


def test_float32_answers_are_judged_at_float32_tolerance():
    expected = np.random.default_rng(0).normal(size=(4, 5))
    assert same(torch.tensor(expected, dtype=torch.float32), expected)
    expect_close("h", torch.tensor(expected, dtype=torch.float32), expected)
    with pytest.raises(Mistake, match="compared at float32 tolerance"):
        expect_close("h", torch.tensor(expected + 1e-3, dtype=torch.float32), expected)
    assert not same(expected + 1e-6, expected)  # float64 keeps its own tolerance
    assert same(expected * (1 + 1e-7), expected)  # PyTorch's own formulas differ by less than 1e-6 relative


def test_numbers_keeps_float32_only_for_float32_answers():
    assert numbers("h", torch.ones(2, dtype=torch.float32)).dtype == np.float32
    assert numbers("h", torch.ones(2, dtype=torch.float32), keep_float32=False).dtype == np.float64
    assert numbers("h", [1, 2]).dtype == np.float64
    with pytest.raises(Mistake, match="h should be numbers, got str"):
        numbers("h", "c")


def test_expect_finite_names_the_first_nan_or_inf():
    with pytest.raises(Mistake, match=r"h holds NaN at unit 1; 1 of 3 values are not finite"):
        expect_finite("h", np.array([0.0, np.nan, 1.0]), where=lambda k: f"at unit {k[0]}")
    with pytest.raises(Mistake, match="h holds inf"):
        expect_finite("h", torch.tensor([1.0, float("inf")]))
    expect_finite("h", np.ones(3))


def test_integer_refuses_a_one_element_tensor_a_float_and_a_bool():
    assert integer("n", 5) == 5 and integer("n", np.int64(5)) == 5
    with pytest.raises(Mistake, match=r"one-element Tensor: use \.item\(\)"):
        integer("n", torch.tensor(5))
    with pytest.raises(Mistake, match="one-element ndarray"):
        integer("n", np.array([5]))
    with pytest.raises(Mistake, match="got the float 5.0: use // rather than /"):
        integer("n", 5.0)
    with pytest.raises(Mistake, match="should be a whole number, got 5.5"):
        integer("n", 5.5)
    with pytest.raises(Mistake, match="should be an int, got bool"):
        integer("n", True)


def test_tensor_refuses_numpy_where_a_tensor_is_asked():
    assert tensor("loss", torch.ones(1)) is not None
    with pytest.raises(Mistake, match="loss should be a torch tensor, got a NumPy array"):
        tensor("loss", np.ones(1))


def test_unpack_says_what_came_instead_of_the_tuple():
    assert unpack((1, 2), ("h", "c"), "return h, c") == (1, 2)
    with pytest.raises(Mistake, match=r"Return 2 things, h, c \(`return h, c`\); got one ndarray of shape \(1, 2\)"):
        unpack(np.zeros((1, 2)), ("h", "c"), "return h, c")
    with pytest.raises(Mistake, match="got a tuple of 3 items"):
        unpack((1, 2, 3), ("h", "c"), "return h, c")


# ----------------------------------------------------------------------------- the course's own code, refused


def _course_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    return numpy_lstm.lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh)


@check("a step", refuse=(numpy_lstm.lstm_cell, torch.nn.LSTMCell, torch.lstm_cell))
def _check_a_step(step):
    rng = np.random.default_rng(0)
    args = [rng.normal(size=size) for size in ((1, 3), (1, 2), (1, 2), (8, 3), (8, 2), (8,), (8,))]
    call(step, *args)
    return "Passed."


def _alias(*args):
    from lstm_course.numpy_lstm import lstm_cell as my_cell

    return my_cell(*args)


def _builtin(x, h, c, *weights):
    h, c = torch.lstm_cell(torch.from_numpy(x), [torch.from_numpy(h), torch.from_numpy(c)], *map(torch.from_numpy, weights))
    return h.numpy(), c.numpy()


def _module(x, h, c, w_ih, w_hh, b_ih, b_hh):
    cell = torch.nn.LSTMCell(3, 2, dtype=torch.float64)
    return cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))


def _raises_after_calling_it(*args):
    numpy_lstm.lstm_cell(*args)
    raise ValueError("something else")


@pytest.mark.parametrize(
    "answer, name",
    [
        (numpy_lstm.lstm_cell, "lstm_course.numpy_lstm.lstm_cell"),
        (_alias, "lstm_course.numpy_lstm.lstm_cell"),
        (_course_step, "lstm_course.numpy_lstm.lstm_cell"),
        (functools.partial(numpy_lstm.lstm_cell), "lstm_course.numpy_lstm.lstm_cell"),
        (_builtin, "torch.lstm_cell"),
        (_module, "nn.LSTMCell"),
        (_raises_after_calling_it, "lstm_course.numpy_lstm.lstm_cell"),
    ],
    ids=["itself", "alias", "wrapper", "partial", "builtin", "module", "then raises"],
)
def test_the_course_s_own_code_is_refused_however_it_is_reached(answer, name):
    result = _check_a_step(answer)
    assert result.status == "failed" and f"calls `{name}`" in result.message, result.message
    assert ("the course's own" if name.startswith("lstm_course") else "PyTorch's own") in result.message


def test_refusal_watches_only_while_the_learner_s_function_runs():
    def own_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
        return x @ w_ih.T + h @ w_hh.T, c

    assert _check_a_step(own_step)
    numpy_lstm.lstm_cell(*(np.zeros(size) for size in ((1, 3), (1, 2), (1, 2), (8, 3), (8, 2))))  # outside a check: allowed

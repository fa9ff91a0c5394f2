"""The machinery every check shares: calling the learner's code, comparing, wording."""

import numpy as np
import pytest
import torch

from lstm_course.checks._core import Mistake, call, expect_close, sentence, with_hint


def test_sentence_ends_in_one_stop():
    assert sentence("did you forget `return`?") == "did you forget `return`?"
    assert sentence("a shape.") == "a shape."
    assert sentence("a shape ") == "a shape."


def test_a_shape_error_names_the_line_and_the_shapes():
    def forward(x, w_ih):
        z = x @ w_ih  # should be w_ih.T
        return z

    with pytest.raises(Mistake) as raised:
        call(forward, torch.zeros(2, 3), torch.zeros(8, 3))
    message = str(raised.value)
    assert "`forward` raised RuntimeError" in message
    assert "in the line `z = x @ w_ih  # should be w_ih.T`" in message
    assert "x: Tensor of shape (2, 3), w_ih: Tensor of shape (8, 3)" in message


def test_writing_into_an_argument_is_a_mistake_and_the_caller_keeps_its_data():
    data = np.ones(3)

    def doubles_in_place(c):
        c *= 2
        return c

    with pytest.raises(Mistake, match="changed its argument `c` in place"):
        call(doubles_in_place, data)
    assert np.array_equal(data, np.ones(3))
    tensor = torch.ones(3)
    with pytest.raises(Mistake, match="changed its argument `c` in place"):
        call(doubles_in_place, tensor)
    assert torch.equal(tensor, torch.ones(3))


def test_a_missing_return_is_said_once():
    with pytest.raises(Mistake) as raised:
        call(lambda x: None, 1)
    assert str(raised.value).endswith("did you forget `return`?")
    assert with_hint(raised.value, "f(x)").endswith("`return`?")


def test_float32_answers_are_judged_at_float32_tolerance():
    expected = np.random.default_rng(0).normal(size=(4, 5))
    expect_close("h", torch.tensor(expected, dtype=torch.float32), expected, atol=1e-10)
    with pytest.raises(Mistake, match="float32"):
        expect_close("h", torch.tensor(expected + 1e-3, dtype=torch.float32), expected, atol=1e-10)
    with pytest.raises(Mistake):
        expect_close("h", expected + 1e-8, expected, atol=1e-10)  # float64 keeps its own tolerance


def test_under_nbgrader_a_check_that_does_not_pass_raises_its_diagnosis(monkeypatch):
    from lstm_course.checks import check_cell_update
    from lstm_course.checks._core import CheckFailed

    def stub(*args):
        raise NotImplementedError()

    def wrong(c_prev, f, i, g):
        return i * c_prev + f * g

    assert check_cell_update(wrong).status == "failed"  # a learner's own run: returned, not raised
    for run in ("autograde", "validate"):
        monkeypatch.setenv("NBGRADER_EXECUTION", run)
        with pytest.raises(CheckFailed, match="f and i are swapped"):
            check_cell_update(wrong)
        with pytest.raises(AssertionError, match="not attempted yet"):
            check_cell_update(stub)
        assert check_cell_update(lambda c_prev, f, i, g: f * c_prev + i * g)  # a pass is returned


def test_as_array_keeps_float32_only_when_asked():
    from lstm_course.checks._core import as_array

    value = torch.ones(2, dtype=torch.float32)
    assert as_array("h", value).dtype == np.float64
    assert as_array("h", value, keep_float32=True).dtype == np.float32
    assert as_array("h", np.ones(2), keep_float32=True).dtype == np.float64
    assert as_array("h", [1, 2], keep_float32=True).dtype == np.float64

import itertools

import numpy as np
import pytest
import torch

from lstm_course.checks import check_cell_update, check_gate_mix
from lstm_course.checks.start_here import C_PREV, CANDIDATE_G, GATE_F, GATE_I


def stub(*args):
    raise NotImplementedError()


def gate_mix(old, new, keep):
    return keep * old + (1 - keep) * new


def cell_update(c_prev, f, i, g):
    return f * c_prev + i * g


def test_stubs_are_not_attempted():
    for check in (check_gate_mix, check_cell_update):
        result = check(stub)
        assert result.status == "not attempted yet" and not result
        assert "NotImplementedError" in result.message


def test_solutions_pass_in_any_equivalent_form():
    assert check_gate_mix(gate_mix)
    assert check_gate_mix(lambda old, new, keep: new + keep * (old - new))  # one multiply, same values
    assert check_cell_update(cell_update)
    assert check_cell_update(lambda c_prev, f, i, g: torch.as_tensor(f) * torch.as_tensor(c_prev) + torch.as_tensor(i * g))
    assert "keep = 1 keeps old" in repr(check_gate_mix(gate_mix))
    assert "Notebook 01" in repr(check_cell_update(cell_update))


GATE_MIX_MISTAKES = {
    "swapped": (lambda old, new, keep: keep * new + (1 - keep) * old, ["weights are swapped", "keep multiplies old"]),
    "new unweighted": (lambda old, new, keep: keep * old + new, ["full strength", "1 - keep"]),
    "both weighted by keep": (lambda old, new, keep: keep * (old + new), ["weighted by keep too"]),
    "no new": (lambda old, new, keep: keep * old, ["new is missing"]),
    "no old": (lambda old, new, keep: (1 - keep) * new, ["old is missing"]),
    "average": (lambda old, new, keep: (old + new) / 2, ["does not depend on keep"]),
    "sum": (lambda old, new, keep: old + new, ["does not depend on keep"]),
}

CELL_UPDATE_MISTAKES = {
    "f and i swapped": (lambda c, f, i, g: i * c + f * g, ["f and i are swapped", "forget gate f scales the old memory"]),
    "coupled gates": (lambda c, f, i, g: f * c + (1 - f) * g, ["1 - f", "two separate gates"]),
    "tanh": (lambda c, f, i, g: np.tanh(f * c + i * g), ["No tanh here", "h_t = o_t * tanh(c_t)"]),
    "no old memory": (lambda c, f, i, g: i * g, ["old memory is missing", "f * c_prev"]),
    "no new information": (lambda c, f, i, g: f * c, ["new information is missing", "i * g"]),
    "g unscaled": (lambda c, f, i, g: f * c + g, ["g goes in unscaled", "input gate i"]),
    "c_prev unscaled": (lambda c, f, i, g: c + i * g, ["old memory goes in unscaled", "forget gate f"]),
    "product": (lambda c, f, i, g: f * c * i * g, ["multiplied: add them"]),
}


MISTAKE_CASES = [
    pytest.param(check, *mistakes[name], id=f"{check.__name__}: {name}")
    for check, mistakes in [(check_gate_mix, GATE_MIX_MISTAKES), (check_cell_update, CELL_UPDATE_MISTAKES)]
    for name in mistakes
]


@pytest.mark.parametrize("check, answer, words", MISTAKE_CASES)
def test_mistakes_get_their_diagnosis(check, answer, words):
    result = check(answer)
    assert result.status == "failed" and not result
    assert "expected" in result.message and "got" in result.message and "at batch" in result.message
    for word in words:
        assert word in result.message, result.message


def test_the_test_values_tell_every_mistake_apart():
    """Each known mistake gives values different from the solution and from every other mistake."""
    for answer, mistakes, args in (
        (gate_mix, GATE_MIX_MISTAKES, (C_PREV, CANDIDATE_G, GATE_F)),
        (cell_update, CELL_UPDATE_MISTAKES, (C_PREV, GATE_F, GATE_I, CANDIDATE_G)),
    ):
        outputs = {"solution": answer(*args)} | {name: wrong(*args) for name, (wrong, _) in mistakes.items()}
        for (a, x), (b, y) in itertools.combinations(outputs.items(), 2):
            if {a, b} != {"average", "sum"}:  # these two share their diagnosis
                assert np.abs(x - y).max() > 0.05, (a, b)


def test_the_diagnosis_names_the_element_and_its_inputs():
    message = check_cell_update(CELL_UPDATE_MISTAKES["f and i swapped"][0]).message
    assert message.startswith("c_t at batch 0, unit 0 (c_prev = 2, f = 1, i = 0, g = 0.5): expected 2, got 0.5")


def test_no_negative_zero_in_messages():
    message = check_cell_update(CELL_UPDATE_MISTAKES["no new information"][0]).message
    assert "got 0 " in message and "-0 " not in message


def test_unknown_mistakes_get_expected_versus_got_and_a_hint():
    result = check_cell_update(lambda c, f, i, g: f * c - i * g)
    assert not result and "expected -0.8, got 0.8" in result.message and "Hint: c_t = f * c_prev + i * g" in result.message
    result = check_gate_mix(lambda old, new, keep: keep * old - (1 - keep) * new)
    assert not result and "Hint: keep * old + (1 - keep) * new" in result.message


def test_wrong_shapes_types_and_errors_are_diagnosed():
    assert "should have shape (2, 3), got ()" in check_cell_update(lambda c, f, i, g: np.sum(f * c + i * g)).message
    assert "returned None" in check_cell_update(lambda c, f, i, g: None).message
    assert "should be numbers" in check_cell_update(lambda c, f, i, g: "c").message
    assert "expected a function" in check_gate_mix(gate_mix(1.0, 2.0, 0.5)).message
    message = check_cell_update(lambda c, f, i, g: f @ c + i * g).message
    assert "raised ValueError" in message and "not `@` or `np.dot`" in message
    message = check_cell_update(lambda c, f, i, g: np.dot(f, c) + i * g).message
    assert "raised ValueError" in message and "not `@` or `np.dot`" in message
    message = check_gate_mix(lambda old, new, keep: undefined_name).message  # noqa: F821
    assert "raised NameError" in message and "np.dot" not in message


def test_changing_an_argument_in_place_is_named():
    def in_place(c_prev, f, i, g):
        c_prev *= f
        c_prev += i * g
        return c_prev

    message = check_cell_update(in_place).message
    assert "changed its argument `c_prev` in place" in message


def test_a_check_never_changes_its_own_test_values():
    before = [a.copy() for a in (C_PREV, GATE_F, GATE_I, CANDIDATE_G)]
    check_cell_update(lambda c_prev, f, i, g: c_prev.__imul__(f))
    for a, b in zip(before, (C_PREV, GATE_F, GATE_I, CANDIDATE_G)):
        np.testing.assert_array_equal(a, b)

import itertools

import numpy as np
import pytest
import torch

from lstm_course.checks import check_cell_states, check_cell_update, check_gate_mix
from lstm_course.checks import start_here
from lstm_course.checks.start_here import C_PREV, CANDIDATE_G, GATE_F, GATE_I, SEQUENCE_CASES, sequence_case, states_over_time


def stub(*args):
    raise NotImplementedError()


def gate_mix(old, new, keep):
    return keep * old + (1 - keep) * new


def cell_update(c_prev, f, i, g):
    return f * c_prev + i * g


def cell_states(c_0, f, i, g):
    c = c_0
    states = []
    for t in range(f.shape[1]):
        c = f[:, t] * c + i[:, t] * g[:, t]
        states.append(c)
    return np.stack(states, axis=1)


def test_stubs_are_not_attempted():
    for check in (check_gate_mix, check_cell_update, check_cell_states):
        result = check(stub)
        assert result.status == "not attempted yet" and not result
        assert "NotImplementedError" in result.message


def test_solutions_pass_in_any_equivalent_form():
    assert check_gate_mix(gate_mix)
    assert check_gate_mix(lambda old, new, keep: new + keep * (old - new))  # one multiply, same values
    assert check_cell_update(cell_update)
    assert check_cell_update(lambda c_prev, f, i, g: torch.as_tensor(f) * torch.as_tensor(c_prev) + torch.as_tensor(i * g))
    assert "keep = 1 keeps old" in repr(check_gate_mix(gate_mix))
    assert "next exercise runs it over a sequence" in repr(check_cell_update(cell_update))


def test_float32_answers_are_judged_at_float32_tolerance():
    def in_float32(answer):
        return lambda *args: answer(*(np.asarray(a, dtype=np.float32) for a in args))

    assert check_gate_mix(in_float32(gate_mix))
    assert check_cell_update(in_float32(cell_update))
    assert check_cell_states(in_float32(cell_states))
    result = check_cell_update(in_float32(lambda c, f, i, g: i * c + f * g))
    assert not result and "f and i are swapped" in result.message and "float32" in result.message


def test_the_check_data_is_read_only_and_an_answer_cannot_change_it():
    before = C_PREV.copy()

    def changes_the_checks_data(c_prev, f, i, g):
        start_here.C_PREV[...] = 0.0  # the check's own array, reached through the module
        return f * c_prev + i * g

    result = check_cell_update(changes_the_checks_data)
    assert not result and "raised ValueError" in result.message and "read-only" in result.message
    np.testing.assert_array_equal(C_PREV, before)
    assert not any(a.flags.writeable for a in (C_PREV, GATE_F, GATE_I, CANDIDATE_G))


def test_cell_update_is_also_checked_on_a_size_the_first_case_does_not_have():
    first_case_only = cell_update(C_PREV, GATE_F, GATE_I, CANDIDATE_G)
    result = check_cell_update(lambda c_prev, f, i, g: first_case_only)  # right numbers, (2, 3) only
    assert not result and "should have shape (3, 4), got (2, 3)" in result.message


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


# --- exercise 2: cell_states over a sequence ----------------------------------------------------


def cell_states_in_torch(c_0, f, i, g):  # another way to write it: tensors, unbind, addcmul
    c, states = torch.as_tensor(c_0), []
    for f_t, i_t, g_t in zip(*(torch.as_tensor(a).unbind(dim=1) for a in (f, i, g))):
        c = torch.addcmul(f_t * c, i_t, g_t)
        states.append(c)
    return torch.stack(states, dim=1)


def test_cell_states_solution_and_another_form_pass():
    for answer in (cell_states, cell_states_in_torch):
        result = check_cell_states(answer)
        assert result, repr(result)
        assert "3 sequences the notebook does not show, up to 7 steps" in result.message


def test_the_reference_keeps_c_0_where_f_is_1_and_i_is_0():
    c_0 = np.array([[1.5, -2.0]])
    ones, zeros = np.ones((1, 4, 2)), np.zeros((1, 4, 2))
    np.testing.assert_array_equal(states_over_time(c_0, ones, zeros, zeros), np.repeat(c_0[:, None], 4, axis=1))


def only_last(c_0, f, i, g):
    return cell_states(c_0, f, i, g)[:, -1]


def stacked_on_axis_0(c_0, f, i, g):
    return np.stack(list(cell_states(c_0, f, i, g).transpose(1, 0, 2)))


def not_carried(c_0, f, i, g):
    return np.stack([f[:, t] * c_0 + i[:, t] * g[:, t] for t in range(f.shape[1])], axis=1)


def one_step_late(c_0, f, i, g):
    c, states = c_0, []
    for t in range(f.shape[1]):
        states.append(c)
        c = f[:, t] * c + i[:, t] * g[:, t]
    return np.stack(states, axis=1)


def with_c_0_in_front(c_0, f, i, g):
    return np.concatenate([c_0[:, None], cell_states(c_0, f, i, g)], axis=1)


def gates_swapped(c_0, f, i, g):
    return cell_states(c_0, i, f, g)


def candidate_unscaled(c_0, f, i, g):
    return cell_states(c_0, f, np.ones_like(i), g)


def one_array_changed_in_place(c_0, f, i, g):
    c, states = c_0.copy(), []
    for t in range(f.shape[1]):
        c *= f[:, t]
        c += i[:, t] * g[:, t]
        states.append(c)  # the same array every time
    return np.stack(states, axis=1)


def loops_over_the_batch(c_0, f, i, g):
    c, states = c_0, []
    for t in range(f.shape[0]):
        c = f[t] * c + i[t] * g[t]  # f[t] is sequence t, (seq, hidden_size)
        states.append(c)
    return np.stack(states, axis=1)


@pytest.mark.parametrize(
    "answer, words",
    [
        (only_last, ["got (2, 3)", "You return one state", "np.stack(states, axis=1)"]),
        (stacked_on_axis_0, ["got (5, 2, 3)", "stacked along axis 0"]),
        (with_c_0_in_front, ["got (2, 6, 3)", "leave out c_0"]),
        (not_carried, ["Every step starts from c_0", "Carry the memory", "step t = 2"]),
        (one_step_late, ["one step late", "the first one is c_0", "step t = 1"]),
        (gates_swapped, ["In each step: f and i are swapped"]),
        (candidate_unscaled, ["In each step: The candidate g goes in unscaled"]),
        (one_array_changed_in_place, ["Every step holds the same numbers", "in place", "new array each step"]),
        (loops_over_the_batch, ["raised ValueError", "f[:, t] is step t's forget gate", "f.shape[1] is the number of steps"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_cell_states_mistakes_get_their_diagnosis(answer, words):
    result = check_cell_states(answer)
    assert result.status == "failed" and not result
    for word in words:
        assert word in result.message, result.message


def test_cell_states_names_the_case_and_expected_versus_got():
    message = check_cell_states(not_carried).message
    assert message.startswith("Case 1 (batch=2, seq=5, hidden_size=3): the states at batch 0, step t = 2, unit 0: expected")
    assert "got" in message and message.endswith(".")


def test_cell_states_writing_into_c_0_is_named():
    def into_c_0(c_0, f, i, g):
        c, states = c_0, []
        for t in range(f.shape[1]):
            c *= f[:, t]  # c is c_0 itself
            c += i[:, t] * g[:, t]
            states.append(c.copy())
        return np.stack(states, axis=1)

    assert "changed its argument `c_0` in place" in check_cell_states(into_c_0).message


def test_cell_states_must_work_beyond_the_first_case():
    first = sequence_case(*SEQUENCE_CASES[0], seed=1)
    right_for_case_1 = cell_states(*first.values())
    result = check_cell_states(lambda c_0, f, i, g: right_for_case_1)
    assert not result and "Case 2 (batch=3, seq=7, hidden_size=4)" in result.message


def test_cell_states_unknown_mistakes_get_the_hint_and_errors_are_diagnosed():
    result = check_cell_states(lambda c_0, f, i, g: cell_states(c_0, f, i, g) * 1.1)
    assert not result and "Hint: at each step t" in result.message
    assert "returned None" in check_cell_states(lambda c_0, f, i, g: None).message
    assert "Keep the signature `cell_states(c_0, f, i, g)`" in check_cell_states(lambda c_0, f: c_0).message

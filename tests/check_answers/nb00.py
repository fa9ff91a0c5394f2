"""Notebook 00: the worked example gate_mix, cell_update and cell_states."""

import numpy as np
import torch

from lstm_course.checks import check_cell_states, check_cell_update, check_gate_mix
from lstm_course.checks import start_here
from lstm_course.checks.start_here import update as course_update
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

gate_mix, cell_update, cell_states = notebook_definitions(  # the notebook's solutions
    "00_start_here", "gate_mix", "cell_update", "cell_states"
)


def in_float32(answer):
    """The same answer computed in float32: judged at float32 tolerance."""
    return lambda *args: answer(*(np.asarray(a, dtype=np.float32) for a in args))


# ----------------------------------------------------------------------------- gate_mix


def uses_an_undefined_name(old, new, keep):
    return keep * old + (1 - keep) * undefined_name  # noqa: F821


def the_checks_own_update(old, new, keep):
    return course_update(old, keep, 1 - keep, new)


GATE_MIX = Answers(
    check=check_gate_mix,
    solution=gate_mix,
    others=[lambda old, new, keep: new + keep * (old - new), in_float32(gate_mix), lambda old, new, keep: torch.lerp(torch.as_tensor(new), torch.as_tensor(old), torch.as_tensor(keep))],
    wrong=[
        (lambda old, new, keep: keep * new + (1 - keep) * old, "The weights are swapped"),
        (lambda old, new, keep: keep * old + new, "goes in at full strength"),
        (lambda old, new, keep: keep * (old + new), "weighted by keep too"),
        (lambda old, new, keep: keep * old, "The new value is missing"),
        (lambda old, new, keep: (1 - keep) * new, "The old value is missing"),
        (lambda old, new, keep: (old + new) / 2, "does not depend on keep"),
        (lambda old, new, keep: old + new, "does not depend on keep"),
        (lambda old, new, keep: keep * old - (1 - keep) * new, "Hint: keep * old + (1 - keep) * new"),
        (lambda old, new, keep: gate_mix(old, new, keep) * np.nan, "holds NaN at batch 0, unit 0 (old = 2, new = 0.5, keep = 1)"),
        (uses_an_undefined_name, "raised NameError"),
        (gate_mix(1.0, 2.0, 0.5), "Expected a function, got float"),
        (lambda old, new, keep: np.where(keep > 0.5, old, new), "expected 0.54, got 0.5 (4 of 6 values differ)"),
        (lambda old, new, keep: np.round(keep * old + (1 - keep) * new, 2), "Case 2 (batch=3, hidden_size=4)"),
    ],
    course=[the_checks_own_update, lambda old, new, keep: start_here.GATE_MIX_MISTAKES[0][1](new, old, keep), lambda *args: start_here.update(args[0], args[2], 1 - args[2], args[1])],
)


# ----------------------------------------------------------------------------- cell_update


def in_place(c_prev, f, i, g):
    c_prev *= f
    c_prev += i * g
    return c_prev


def right_on_the_first_case_only(c_prev, f, i, g):
    return cell_update(*start_here.first_case().values())


CELL_UPDATE = Answers(
    check=check_cell_update,
    solution=cell_update,
    others=[
        lambda c_prev, f, i, g: torch.as_tensor(f) * torch.as_tensor(c_prev) + torch.as_tensor(i * g),
        in_float32(cell_update),
        lambda c_prev, f, i, g: np.add(np.multiply(f, c_prev), np.multiply(i, g)),
    ],
    wrong=[
        (lambda c, f, i, g: i * c + f * g, "`c_t` at batch 0, unit 0 (c_prev = 2, f = 1, i = 0, g = 0.5): expected 2, got 0.5 (6 of 6 values differ). The gates f and i are swapped"),
        (in_float32(lambda c, f, i, g: f * c + (1 - f) * g), "You used 1 - f where the input gate i belongs"),
        (lambda c, f, i, g: np.tanh(f * c + i * g), "No tanh here"),
        (lambda c, f, i, g: i * g, "The old memory is missing"),
        (lambda c, f, i, g: f * c, "expected -0.8, got 0 (5 of 6 values differ). The new information is missing"),  # 0 * -1 is -0: shown as 0
        (lambda c, f, i, g: f * c + g, "The candidate g goes in unscaled"),
        (lambda c, f, i, g: c + i * g, "The old memory goes in unscaled"),
        (lambda c, f, i, g: f * c * i * g, "The two parts are multiplied"),
        (lambda c, f, i, g: f * c - i * g, "`c_t` at batch 0, unit 1 (c_prev = -1, f = 0, i = 1, g = -0.8): expected -0.8, got 0.8 (5 of 6 values differ). Hint: c_t = f * c_prev + i * g"),
        (right_on_the_first_case_only, "Case 2 (batch=3, hidden_size=4): `c_t` should have shape (3, 4), got (2, 3)"),
        (lambda c, f, i, g: np.sum(f * c + i * g), "should have shape (2, 3), got ()"),
        (lambda c, f, i, g: None, "returned None"),
        (lambda c, f, i, g: "c", "should be numbers, got str"),
        (lambda c, f, i, g: f @ c + i * g, "is different from 3). It was called with c: ndarray of shape (2, 3), f: ndarray of shape (2, 3), i: ndarray of shape (2, 3), g: ndarray of shape (2, 3). If you used `@` or `np.dot`: gates act element by element, use `*`."),
        (lambda c, f, i, g: np.dot(f, c) + i * g, "not aligned: 3 (dim 1) != 2 (dim 0). It was called with"),
        (in_place, "changed its argument `c_prev` in place"),
    ],
    course=[course_update, lambda c_prev, f, i, g: start_here.UPDATE_MISTAKES[0][1](c_prev, i, f, g), lambda c_prev, f, i, g: start_here.states_over_time(c_prev, f[:, None], i[:, None], g[:, None])[:, 0]],
)


# ----------------------------------------------------------------------------- cell_states


def cell_states_in_torch(c_0, f, i, g):
    """Written another way: tensors, unbind, addcmul."""
    c, states = torch.as_tensor(c_0), []
    for f_t, i_t, g_t in zip(*(torch.as_tensor(a).unbind(dim=1) for a in (f, i, g))):
        c = torch.addcmul(f_t * c, i_t, g_t)
        states.append(c)
    return torch.stack(states, dim=1)


def not_carried(c_0, f, i, g):
    return np.stack([f[:, t] * c_0 + i[:, t] * g[:, t] for t in range(f.shape[1])], axis=1)


def one_step_late(c_0, f, i, g):
    c, states = c_0, []
    for t in range(f.shape[1]):
        states.append(c)
        c = f[:, t] * c + i[:, t] * g[:, t]
    return np.stack(states, axis=1)


def one_array_changed_in_place(c_0, f, i, g):
    c, states = c_0.copy(), []
    for t in range(f.shape[1]):
        c *= f[:, t]
        c += i[:, t] * g[:, t]
        states.append(c)  # the same array every time
    return np.stack(states, axis=1)


def into_c_0(c_0, f, i, g):
    c, states = c_0, []
    for t in range(f.shape[1]):
        c *= f[:, t]  # c is c_0 itself
        c += i[:, t] * g[:, t]
        states.append(c.copy())
    return np.stack(states, axis=1)


def loops_over_the_batch(c_0, f, i, g):
    c, states = c_0, []
    for t in range(f.shape[0]):
        c = f[t] * c + i[t] * g[t]  # f[t] is sequence t, (seq, hidden_size)
        states.append(c)
    return np.stack(states, axis=1)


def one_step_per_sample(c_0, f, i, g):
    c, states = c_0, []
    for t in range(len(f)):  # len(f) is the batch, not the number of steps
        c = f[:, t] * c + i[:, t] * g[:, t]
        states.append(c)
    return np.stack(states, axis=1)


def right_on_the_first_sequence_only(c_0, f, i, g):
    return cell_states(*start_here.random_case(2, 5, 3, seed=1).values())


def the_checks_own_loop(c_0, f, i, g):
    from lstm_course.checks.start_here import states_over_time as my_states

    return my_states(c_0, f, i, g)


def cell_states_one_step_short(c_0, f, i, g):
    """The loop runs range(seq - 1)."""
    c, states = c_0, []
    for t in range(f.shape[1] - 1):
        c = f[:, t] * c + i[:, t] * g[:, t]
        states.append(c)
    return np.stack(states, axis=1)


def divided_by_the_running_product(c_0, f, i, g):
    """A closed form that divides by the product of the forget gates: NaN where a gate is closed (f = 0)."""
    kept = np.cumprod(f, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # as a learner's notebook would show them, once
        return kept * (c_0[:, None] + np.cumsum(i * g / kept, axis=1))


CELL_STATES = Answers(
    check=check_cell_states,
    solution=cell_states,
    others=[cell_states_in_torch, in_float32(cell_states), lambda c_0, f, i, g: np.stack(list(cell_states(c_0, f, i, g).transpose(1, 0, 2)), axis=1)],
    wrong=[
        (lambda c_0, f, i, g: cell_states(c_0, f, i, g)[:, -1], "got (2, 3). You return one state"),
        (lambda c_0, f, i, g: cell_states(c_0, f, i, g).transpose(1, 0, 2), "got (5, 2, 3). Your states are stacked along axis 0"),
        (lambda c_0, f, i, g: np.concatenate([c_0[:, None], cell_states(c_0, f, i, g)], axis=1), "got (2, 6, 3). You return seq + 1 states"),
        (not_carried, "Case 1 (batch=2, seq=5, hidden_size=3): The returned array at batch 0, step t = 2, unit 0: expected"),
        (one_step_late, "at batch 0, step t = 1, unit 0: expected 0.26349, got 0.345584 (30 of 30 values differ). Your states are one step late"),
        (lambda c_0, f, i, g: cell_states(c_0, i, f, g), "Each step makes a mistake of the cell update. The gates f and i are swapped"),
        (lambda c_0, f, i, g: cell_states(c_0, f, np.ones_like(i), g), "Each step makes a mistake of the cell update. The candidate g goes in unscaled"),
        (one_array_changed_in_place, "Every step holds the same numbers, the last state"),
        (loops_over_the_batch, "f[:, t] is step t's forget gate"),
        (one_step_per_sample, "got (2, 2, 3). You made one step for each sample of the batch"),
        (into_c_0, "changed its argument `c_0` in place"),
        (right_on_the_first_sequence_only, "Case 2 (batch=3, seq=7, hidden_size=4): The returned array should have shape"),
        (lambda c_0, f, i, g: cell_states(c_0, f, i, g) * 1.1, "(30 of 30 values differ). Hint: start from c = c_0"),
        (lambda c_0, f, i, g: None, "returned None"),
        (lambda c_0, f: c_0, "Keep the signature `cell_states(c_0, f, i, g)`"),
        (lambda c_0, f, i, g: cell_states(c_0, f, i, g) * np.nan, "The returned array holds NaN at batch 0, step t = 1, unit 0"),
        (cell_states_one_step_short, "your loop stops a step short"),
        (divided_by_the_running_product, "The returned array holds NaN at batch 1, step t = 3"),
    ],
    course=[the_checks_own_loop, lambda c_0, f, i, g: np.stack([course_update(c_0, f[:, 0], i[:, 0], g[:, 0])] * f.shape[1], axis=1)],
)

ANSWERS = [GATE_MIX, CELL_UPDATE, CELL_STATES]

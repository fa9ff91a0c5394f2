"""Checks for notebook 00: the worked example ``gate_mix``, the warm-up ``cell_update`` and ``cell_states``."""

import numpy as np

from lstm_course.checks.judge import call, check, element, in_case, judge, numbers

ELEMENTWISE = "If you used `@` or `np.dot`: gates act element by element, use `*`."


# ----------------------------------------------------------------------------- the right answers and the cases
def update(c, f, i, g):
    """One cell update, ``f * c + i * g``; ``gate_mix(old, new, keep)`` is ``update(old, keep, 1 - keep, new)``."""
    return f * c + i * g


def states_over_time(c_0, f, i, g, step=update, carry=True, start_with_c_0=False):
    """The states c_1 ... c_seq, ``(batch, seq, hidden_size)``, made by ``step``; the other keywords are mistakes."""
    c, states = c_0, []
    for t in range(f.shape[1]):
        new = step(c if carry else c_0, f[:, t], i[:, t], g[:, t])
        states.append(c if start_with_c_0 else new)
        c = new
    return np.stack(states, axis=1)


def first_case():
    """The arguments of one update, (batch, hidden_size) = (2, 3), with gates of 0 and 1 among them."""
    rows = dict(c_prev=[[2, -1, 0.5], [4, 0, -3]], f=[[1, 0, 0.9], [0.2, 0.5, 0.7]], i=[[0, 1, 0.3], [0.6, 0.1, 0.8]],
                g=[[0.5, -0.8, 0.9], [-0.3, 0.7, 0.2]])
    return {name: np.array(value, dtype=float) for name, value in rows.items()}


def random_case(batch, seq, hidden_size, seed):
    """The arguments of ``cell_states``: the gates in (0, 1), the candidate in (-1, 1)."""
    rng, shape = np.random.default_rng(seed), (batch, seq, hidden_size)
    return dict(c_0=rng.normal(size=(batch, hidden_size)), f=rng.uniform(0, 1, shape), i=rng.uniform(0, 1, shape),
                g=rng.uniform(-1, 1, shape))


def _one_step_case(seed):
    """The arguments of one update of another size than `first_case`: the first step of a random sequence."""
    sequence = random_case(3, 1, 4, seed)
    return {"c_prev": sequence["c_0"], **{name: sequence[name][:, 0] for name in "fig"}}


def _at_unit(**arrays):
    """A ``where`` for a (batch, hidden_size) result, with the inputs: "at batch 0, unit 2 (old = 0.5, keep = 0.9)"."""
    position = element("batch", "unit")

    def where(index):
        inputs = ", ".join(f"{name} = {values[index]:g}" for name, values in arrays.items())
        return f"{position(index)} ({inputs})"

    return where


# ----------------------------------------------------------------------------- the worked example: gate_mix

NO_KEEP = "The result does not depend on keep: weigh old by keep and new by 1 - keep."
GATE_MIX_MISTAKES = (  # (what the learner did, what that answer computes)
    ("The weights are swapped: keep multiplies old (the memory kept), 1 - keep multiplies new.",
     lambda old, new, keep: keep * new + (1 - keep) * old),
    ("The new value goes in at full strength: multiply new by 1 - keep, so that the two weights add up to 1.",
     lambda old, new, keep: keep * old + new),
    ("The new value is weighted by keep too: its weight is 1 - keep.", lambda old, new, keep: keep * (old + new)),
    ("The new value is missing: add (1 - keep) * new.", lambda old, new, keep: keep * old),
    ("The old value is missing: add keep * old.", lambda old, new, keep: (1 - keep) * new),
    (NO_KEEP, lambda old, new, keep: (old + new) / 2),
    (NO_KEEP, lambda old, new, keep: old + new),
)


@check("Example: gate_mix", refuse=(update, states_over_time, *(wrong for _, wrong in GATE_MIX_MISTAKES)))
def check_gate_mix(gate_mix):
    """``gate_mix(old, new, keep) -> keep * old + (1 - keep) * new``, element by element."""
    for number, case in enumerate((first_case(), _one_step_case(seed=98)), start=1):
        old, new, keep = case["c_prev"], case["g"], case["f"]
        with in_case(f"Case {number} (batch={keep.shape[0]}, hidden_size={keep.shape[1]})"):
            result = call(gate_mix, old, new, keep, signature="gate_mix(old, new, keep)", shape_hint=ELEMENTWISE)
            got = numbers("The result", result) + 0.0  # -0 read as 0
            mistakes = [(message, wrong(old, new, keep)) for message, wrong in GATE_MIX_MISTAKES]
            hint = "Hint: keep * old + (1 - keep) * new, element by element."
            where = _at_unit(old=old, new=new, keep=keep)
            judge("The result", got, update(old, keep, 1 - keep, new), mistakes, hint, where)
    return ("With keep = 1 old stays, with keep = 0 new replaces it, and keep = 0.7 keeps 70% of old and takes 30% "
            "of new.")


# ----------------------------------------------------------------------------- Exercise 1: cell_update

# (what the learner did, what that answer computes), most telling first; shared by both exercises
UPDATE_MISTAKES = (
    ("The gates f and i are swapped: the forget gate f scales the old memory c_prev, the input gate i scales "
     "the candidate g.", lambda c, f, i, g: i * c + f * g),
    ("You used 1 - f where the input gate i belongs: an LSTM has two separate gates, f for c_prev and i for g.",
     lambda c, f, i, g: f * c + (1 - f) * g),
    ("No tanh here: c_t is not squashed; tanh comes later, in h_t = o_t * tanh(c_t).",
     lambda c, f, i, g: np.tanh(f * c + i * g)),
    ("The old memory is missing: add f * c_prev.", lambda c, f, i, g: i * g),
    ("The new information is missing: add i * g.", lambda c, f, i, g: f * c),
    ("The candidate g goes in unscaled: multiply it by the input gate i.", lambda c, f, i, g: f * c + g),
    ("The old memory goes in unscaled: multiply c_prev by the forget gate f.", lambda c, f, i, g: c + i * g),
    ("The two parts are multiplied: add them.", lambda c, f, i, g: f * c * i * g),
)


@check("Exercise 1: cell_update", refuse=(update, states_over_time, *(wrong for _, wrong in UPDATE_MISTAKES)))
def check_cell_update(cell_update):
    """``cell_update(c_prev, f, i, g) -> f * c_prev + i * g``, on `first_case` and one of another size."""
    for number, case in enumerate((first_case(), _one_step_case(seed=99)), start=1):
        batch, hidden_size = case["f"].shape
        with in_case(f"Case {number} (batch={batch}, hidden_size={hidden_size})"):
            result = call(cell_update, *case.values(), signature="cell_update(c_prev, f, i, g)", shape_hint=ELEMENTWISE)
            got = numbers("`c_t`", result) + 0.0
            mistakes = [(message, wrong(*case.values())) for message, wrong in UPDATE_MISTAKES]
            hint = "Hint: c_t = f * c_prev + i * g, element by element."
            judge("`c_t`", got, update(*case.values()), mistakes, hint, _at_unit(**case))
    return ("Your c_t = f * c_prev + i * g is right: where f = 1 and i = 0 the memory stays as it was, where f = 0 "
            "and i = 1 g replaces it. The next exercise runs it over a sequence.")


# ----------------------------------------------------------------------------- Exercise 2: cell_states
def sequence_mistakes(c_0, f, i, g):
    """(what the learner did, what that answer computes), lazily: the shape, the loop, then each step's mistakes."""
    right = states_over_time(c_0, f, i, g)
    yield ("You return one state; return them all, c_1 to c_seq, stacked along axis 1 (np.stack(states, axis=1)).",
           right[:, -1])
    yield ("Your states are stacked along axis 0; the steps go along axis 1: np.stack(states, axis=1).",
           right.transpose(1, 0, 2))
    yield ("You return seq + 1 states: leave out c_0, return c_1 to c_seq.",
           np.concatenate([c_0[:, None], right], axis=1))
    yield "You return seq - 1 states: your loop stops a step short; range(f.shape[1]) runs every step.", right[:, :-1]
    yield ("You made one step for each sample of the batch: the steps are f.shape[1], not f.shape[0].",
           right[:, : len(c_0)])
    yield ("Every step holds the same numbers, the last state: you appended one array and then changed it in place "
           "(c *= f or c += ...). Make a new array each step: c = f[:, t] * c + i[:, t] * g[:, t].",
           np.broadcast_to(right[:, -1:], right.shape))
    yield ("Every step starts from c_0. Carry the memory: step t starts from the c that step t - 1 computed.",
           states_over_time(c_0, f, i, g, carry=False))
    yield ("Your states are one step late: the first one is c_0, the state before any step. Store c after each "
           "update, c_1 first.", states_over_time(c_0, f, i, g, start_with_c_0=True))
    for message, wrong in UPDATE_MISTAKES:
        yield f"Each step makes a mistake of the cell update. {message}", states_over_time(c_0, f, i, g, step=wrong)


SEQUENCE_SHAPES = ("Shapes: c_0 (batch, hidden_size); f, i, g (batch, seq, hidden_size), so f[:, t] is step t's forget "
                   "gate; f.shape[1] is the number of steps.")
SEQUENCE_HINT = ("Hint: start from c = c_0; at each step t, c = f[:, t] * c + i[:, t] * g[:, t]; return c_1 to c_seq "
                 "stacked along axis 1.")


def _at_step(index):
    """Where an element of the states (batch, seq, hidden_size) is, its step counted from t = 1."""
    batch, t, unit = index
    return f"at batch {batch}, step t = {t + 1}, unit {unit}"


@check("Exercise 2: cell_states", refuse=(update, states_over_time, *(wrong for _, wrong in UPDATE_MISTAKES)))
def check_cell_states(cell_states):
    """``cell_states(c_0, f, i, g) -> (batch, seq, hidden_size)``, the states c_1 ... c_seq."""
    sizes = ((2, 5, 3), (3, 7, 4), (1, 1, 2))  # (batch, seq, hidden_size), not the notebook's
    cases = [random_case(*size, seed=seed) for seed, size in enumerate(sizes, start=1)]
    cases[1]["f"][1, 2] = 0.0  # a closed forget gate: sample 1's memory is wiped at step 3
    for number, case in enumerate(cases, start=1):
        batch, seq, hidden_size = case["f"].shape
        with in_case(f"Case {number} (batch={batch}, seq={seq}, hidden_size={hidden_size})"):
            signature = "cell_states(c_0, f, i, g)"
            result = call(cell_states, *case.values(), signature=signature, shape_hint=SEQUENCE_SHAPES)
            got = numbers("The returned array", result) + 0.0
            expected, mistakes = states_over_time(**case), sequence_mistakes(**case)
            judge("The returned array", got, expected, mistakes, SEQUENCE_HINT, _at_step)
    return ("Your cell_states is right on 3 sequences the notebook does not show, up to 7 steps. Each step multiplies "
            "the old memory by f: where f stays near 1 and i near 0, c_0 survives.")

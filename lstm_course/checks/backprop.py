"""Checks for notebook 06: the backward of one step, backpropagation through time, clipping by norm.

Random cases of sizes the notebook does not use. The cache the learner is given comes from the course's
NumPy LSTM; the expected gradients from autograd through PyTorch's own (``torch.lstm_cell``, ``torch.lstm``:
what nn.LSTMCell and nn.LSTM run) in float64.
"""

import collections
import functools

import numpy as np
import torch

from lstm_course import numpy_lstm
from lstm_course.checks import reference
from lstm_course.checks.judge import (Mistake, array, call, check, diagnose, element, in_case, judge, numbers, same,
                                      unpack)

BY_HAND = (reference, torch.autograd.backward, torch.autograd.grad)  # the backward is asked for by hand, not autograd

# outputs: (name, its shape, its kind in `_WHERE`) of each returned array
Case = collections.namedtuple("Case", "label args expected outputs shape_hint")


# ----------------------------------------------------------------------------- the gradients' cases
def _loss(x, h, c, w_ih, w_hh, b_ih, b_hh, *upstream):
    """sum(dh * h_t) + sum(dc * c_t) through PyTorch's LSTM cell; for a sequence, plus sum(d_output * output)."""
    if x.dim() == 2:
        outputs = torch.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    else:  # has_biases, num_layers, dropout, train, bidirectional, batch_first; h_n and c_n without the layers' dim
        outputs = torch.lstm(x, (h[None], c[None]), (w_ih, w_hh, b_ih, b_hh), True, 1, 0.0, False, False, True)
        outputs = (outputs[0], outputs[1][0], outputs[2][0])
    return sum((outer * value).sum() for outer, value in zip(upstream, outputs))


def gradient_case(number, batch, *sizes):
    """Case ``number``: a random step of ``sizes`` (input_size, hidden_size) or sequence (seq, input_size, hidden_size),
    and the gradients of x, h, c, w_ih, w_hh, b_ih by autograd."""
    one_step = len(sizes) == 2
    input_size, hidden_size = sizes[-2:]
    rng = np.random.default_rng(600 + 100 * len(sizes) + number)
    state, rows = (batch, hidden_size), 4 * hidden_size
    arrays = [rng.normal(size=(batch, *sizes[:-1])), rng.normal(size=state), rng.normal(size=state),
              rng.normal(scale=0.6, size=(rows, input_size)), rng.normal(scale=0.6, size=(rows, hidden_size)),
              rng.normal(size=rows), rng.normal(size=rows)]  # x, h, c, w_ih, w_hh, b_ih, b_hh
    # (d_output,) dh, dc
    upstream_shapes = [state, state] if one_step else [(batch, sizes[0], hidden_size), state, state]
    upstream = [rng.normal(size=shape) for shape in upstream_shapes]
    tensors = [torch.tensor(values, requires_grad=True) for values in arrays]
    grads = torch.autograd.grad(_loss(*tensors, *map(torch.tensor, upstream)), tensors[:6])
    expected = [grad.numpy() for grad in grads]
    if one_step:
        label = f"Case {number} (batch {batch}, input_size {input_size}, hidden_size {hidden_size})"
        cache = numpy_lstm.gate_values(*arrays)
        hint = f"dz is (batch, 4 * hidden_size) = ({batch}, {rows}), w_ih is {(rows, input_size)}."
    else:
        label = f"Case {number} (batch {batch}, seq {sizes[0]}, input_size {input_size}, hidden_size {hidden_size})"
        cache = numpy_lstm.lstm_forward(*arrays, return_gates=True)[2]  # {name: (batch, seq, hidden)} for i ... h
        hint = (f"x[:, t] is (batch, input_size) = {(batch, input_size)}, gates[name][:, t] is (batch, hidden_size) = "
                f"{state}.")
    args = (*upstream, *arrays[:3], cache, *arrays[3:5])
    return Case(label, args, expected, STEP_OUTPUTS if one_step else BPTT_OUTPUTS, hint)


# ----------------------------------------------------------------------------- the judgement, alike for the three
_WHERE = {  # {kind: how to name an element, given the expected arrays}: by gate and unit, by batch row, by time step
    "rows": lambda expected: reference.gate_row(expected[-1].shape[0] // 4),  # db is (4 * hidden,)
    "batch": lambda expected: element("batch row", "column"),
    "time": lambda expected: element("batch row", "time step", "column"),
    None: lambda expected: None,
}


def _returned_arrays(function, case, signature, how):
    """The learner's arrays on ``case``, NumPy ones, each of the shape the case expects."""
    names = [name for name, _, _ in case.outputs]
    result = call(function, *case.args, signature=signature, shape_hint=case.shape_hint)
    parts = unpack(result, names, how or "return " + ", ".join(names).replace("`", ""))
    arrays = [numbers(name, array(name, value)) for name, value in zip(names, parts)]
    for (name, shape, _), value, want in zip(case.outputs, arrays, case.expected):
        if value.shape != want.shape:
            raise Mistake(f"{name} should have shape {want.shape}, the shape of {shape}; got {value.shape}.")
    return arrays


def _judge_cases(function, cases, mistakes, signature, explain, how=None):
    """Call ``function`` on every case; then a known mistake that explains every case; in the first wrong case, one
    that explains it, or one output; else ``explain(got, case)``. ``mistakes``: (message, variant(*args))."""
    answers = []
    for case in cases:
        with in_case(case.label):
            answers.append(_returned_arrays(function, case, signature, how))
    known = [[variant(*case.args) for _, variant in mistakes] for case in cases]  # per case, per mistake
    across_cases = [(message, [variants[j] for variants in known]) for j, (message, _) in enumerate(mistakes)]
    whole = diagnose(answers, [case.expected for case in cases], across_cases)
    for case, got, variants in zip(cases, answers, known):
        with in_case(case.label):
            per_case = [(message, variant) for (message, _), variant in zip(mistakes, variants)]
            named = whole or diagnose(got, case.expected, per_case)
            hint = named or explain(got, case)
            for k, (name, _, kind) in enumerate(case.outputs):
                one = () if named else [(message, variant[k]) for message, variant in per_case]
                judge(name, got[k], case.expected[k], one, hint=hint, where=_WHERE[kind](case.expected))


# ----------------------------------------------------------------------------- the backward, right or with a mistake
def _scaled(grads, scale, every):
    """The weight gradients (dw_ih, dw_hh, db: from the fourth on) times ``scale``; every gradient when ``every``."""
    return [grad * (scale if k >= 3 or every else 1) for k, grad in enumerate(grads)]


def step_backward_variant(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh, mistake=None, order="ifgo"):
    """The step backward, right (no ``mistake``) or with one typical mistake: the six gradients."""
    i, f, g, o, c, h = step
    tanh_slope = {  # of h = o * tanh(c)
        "no path through h": 0,
        "1 - c**2": 1 - c**2,
        "tanh slope sign": np.tanh(c) ** 2 - 1,
    }.get(mistake, 1 - np.tanh(c) ** 2)
    dc_total = dc + dh * o * tanh_slope
    c_before = c if mistake == "c instead of c_prev" else c_prev
    slope = (lambda gate: 1) if mistake == "no sigmoid slope" else (lambda gate: gate * (1 - gate))  # of a sigmoid
    dz = {"i": dc_total * g * slope(i), "f": dc_total * c_before * slope(f), "g": dc_total * i * (1 - g**2),
          "o": dh * np.tanh(c) * slope(o)}
    dz = np.concatenate([dz[gate] for gate in order], axis=1)
    dc_prev = {"dc_prev without f": dc_total, "dc_prev from dc alone": dc * f}.get(mistake, dc_total * f)
    h_given = h if mistake == "h instead of h_prev" else h_prev
    grads = [dz @ w_ih, dz @ w_hh, dc_prev, dz.T @ x, dz.T @ h_given, dz.sum(axis=0)]
    scale = {"sign": -1, "mean over the batch": 1 / x.shape[0]}.get(mistake, 1)
    return _scaled(grads, scale, every=mistake == "sign")


def _given_states(initial, states, shifted):
    """The state each step was given: ``initial``, then ``states`` one step late; not ``shifted``: ``states``."""
    return np.concatenate([initial[:, None], states[:, :-1]], axis=1) if shifted else states


def lstm_backward_variant(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh, mistake=None):
    """BPTT over the right step backward, right (no ``mistake``) or with one typical mistake of the loop."""
    seq, h_shifted = x.shape[1], mistake != "h_t for h_prev"
    c_shifted = h_shifted and mistake != "c_t for c_prev"
    h_prev, c_prev = _given_states(h_0, gates["h"], h_shifted), _given_states(c_0, gates["c"], c_shifted)
    if mistake == "d_h_n ignored":
        dh = 0 * d_h_n
    else:
        dh = d_h_n + (d_output[:, -1] if mistake == "output only at the last step" else 0)
    dc = 0 * d_c_n if mistake == "d_c_n ignored" else d_c_n
    dx, dw = np.zeros(x.shape), [0 * w_ih, 0 * w_hh, 0 * w_ih[:, 0]]
    for t in range(seq) if mistake == "forward in time" else reversed(range(seq)):
        last = t == seq - 1
        dh_in = {"no output gradient": dh, "output only at the last step": dh,
                 "dh not carried": d_output[:, t] + d_h_n * last}.get(mistake, dh + d_output[:, t])
        dc_in = {"dc not carried": d_c_n, "dc zero": d_c_n * last}.get(mistake, dc)
        step = numpy_lstm.GateValues(*(gates[name][:, t] for name in numpy_lstm.GateValues._fields))
        dx[:, t], dh, dc, *step_dw = step_backward_variant(dh_in, dc_in, x[:, t], h_prev[:, t], c_prev[:, t], step,
                                                           w_ih, w_hh)
        if not (mistake == "first step only" and t != 0 or mistake == "last step only" and not last):
            dw = [total + share for total, share in zip(dw, step_dw)]
    scale = {"sign": -1, "mean over time": 1 / seq}.get(mistake, 1)
    return _scaled([dx, dh, dc, *dw], scale, every=mistake == "sign")


# ----------------------------------------------------------------------------- exercise 1: one step

STEP_OUTPUTS = (
    ("`dx`", "x (dz @ w_ih)", "batch"),
    ("`dh_prev`", "h_prev (dz @ w_hh)", "batch"),
    ("`dc_prev`", "c_prev", "batch"),
    ("`dw_ih`", "w_ih (dz.T @ x)", "rows"),
    ("`dw_hh`", "w_hh (dz.T @ h_prev)", "rows"),
    ("`db`", "b_ih (dz summed over the batch rows)", "rows"),
)
STEP_HINT = ("Undo the forward line by line: h = o * tanh(c), then c = f * c_prev + i * g, then the activations, then "
             "z = x @ w_ih.T + h_prev @ w_hh.T + b.")
GATE_LINES = {"i": "di = dc * g, times i * (1 - i)", "f": "df = dc * c_prev, times f * (1 - f)",
              "g": "dg = dc * i, times 1 - g**2", "o": "do = dh * tanh(c), times o * (1 - o)"}


def _order_mistake(order):
    """(message, variant) of a step backward that puts the blocks of dz in ``order``."""
    ending = ", the order of many diagrams." if order == reference.DIAGRAM_ORDER else "."
    message = ("Gate order: the rows of w_ih, and so the blocks of dz, are i, f, g, o in PyTorch; you put them in "
               f"the order {', '.join(order)}{ending}")
    return message, functools.partial(step_backward_variant, order=order)


STEP_MISTAKE_MESSAGES = {  # {the `mistake` of step_backward_variant: its message}
    "no path through h": "You left out the path from c_t through h_t = o * tanh(c_t), whose slope is tanh'(c_t): add "
                         "dh * o * (1 - tanh(c)**2) to dc.",
    "1 - c**2": "You used 1 - c**2 for the slope of tanh(c): it is 1 - tanh(c)**2.",
    "tanh slope sign": "Wrong sign in the path through h: tanh'(c) = 1 - tanh(c)**2, not tanh(c)**2 - 1.",
    "c instead of c_prev": "The forget gate multiplies c_prev: c = f * c_prev + i * g, so df = dc * c_prev, not "
                           "dc * c.",
    "no sigmoid slope": "You left out the sigmoid's slope: i, f, o are sigmoids, so multiply di, df, do by "
                        "i * (1 - i), f * (1 - f), o * (1 - o).",
    "dc_prev without f": "dc_prev misses the factor f: c = f * c_prev + i * g, so dc_prev = dc * f (with dc the "
                         "total).",
    "dc_prev from dc alone": "dc_prev should use the total dL/dc_t: the dc that arrived plus the path through h_t, "
                             "then times f.",
    "h instead of h_prev": "dw_hh multiplies the state this step was given: z = ... + h_prev @ w_hh.T, so "
                           "dw_hh = dz.T @ h_prev, not h.",
    "sign": "Wrong sign: these are gradients of the loss, and every step of the chain rule multiplies; nothing is "
            "negated.",
    "mean over the batch": "You averaged over the batch. The loss decides any averaging and dh, dc already include it: "
                           "sum the batch rows.",
}
STEP_MISTAKES = (
    *map(_order_mistake, reference.OTHER_ORDERS),
    *((message, functools.partial(step_backward_variant, mistake=mistake))
      for mistake, message in STEP_MISTAKE_MESSAGES.items()),
)


def _one_gate(got, case):
    """If dx and dh_prev differ exactly as a wrong block of one gate in dz makes them differ: which gate, and where."""
    w = np.concatenate(case.args[6:8], axis=1)  # [w_ih, w_hh], (4 * hidden, input + hidden): dx and dh_prev are dz @ w
    diff = np.concatenate([got[0] - case.expected[0], got[1] - case.expected[1]], axis=1)
    hidden = w.shape[0] // 4
    if not np.isfinite(diff).all() or same(got[:2], case.expected[:2]):
        return STEP_HINT
    for k, gate in enumerate("ifgo"):
        # more columns than rows: a difference that is not this gate's does not fit
        block = w[k * hidden:(k + 1) * hidden]
        d_dz = np.linalg.lstsq(block.T, diff.T, rcond=None)[0].T  # (batch, hidden)
        if np.allclose(d_dz @ block, diff, rtol=1e-6, atol=1e-9):
            row, unit = np.argwhere(np.abs(d_dz) > 1e-9)[0]
            return (f"dx and dh_prev differ as they would if only the block of the {reference.GATE_WORDS[gate]} in dz "
                    f"were wrong (dz's columns {k * hidden} to {(k + 1) * hidden - 1}), first at unit {unit} of batch "
                    f"row {row}; the other gates are right. Look at {GATE_LINES[gate]}.")
    return STEP_HINT


@check("The backward of one LSTM step",
       refuse=(numpy_lstm.lstm_step_backward, numpy_lstm.lstm_backward, step_backward_variant, lstm_backward_variant,
               *BY_HAND),
       instead="Undo the forward yourself, line by line, in NumPy.")
def check_lstm_step_backward(lstm_step_backward):
    """``lstm_step_backward(...) -> (dx, dh_prev, dc_prev, dw_ih, dw_hh, db)``, as autograd computes them."""
    # (batch, input_size, hidden_size): no two sizes coincide
    cases = [gradient_case(1, 1, 2, 3), gradient_case(2, 3, 4, 2), gradient_case(3, 2, 5, 4)]
    _judge_cases(lstm_step_backward, cases, STEP_MISTAKES,
                 "lstm_step_backward(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)", _one_gate)
    return "All six gradients equal autograd's through PyTorch's LSTM cell (float64), on 3 random steps of new sizes."


# ----------------------------------------------------------------------------- exercise 2: through time

BPTT_OUTPUTS = (
    ("`dx`", "x (dx[:, t] is step t's dx)", "time"),
    ("`dh_0`", "h_0 (step 0's dh_prev)", "batch"),
    ("`dc_0`", "c_0 (step 0's dc_prev)", "batch"),
    ("`dw_ih`", "w_ih (summed over steps)", "rows"),
    ("`dw_hh`", "w_hh (summed over steps)", "rows"),
    ("`db`", "b_ih (summed over steps)", "rows"),
)
BPTT_HINT = ("Walk t from seq - 1 down to 0; step t gets dh + d_output[:, t] and dc from step t + 1; add up every "
             "step's weight gradients.")
BPTT_MISTAKE_MESSAGES = {  # {the `mistake` of lstm_backward_variant: its message}
    "last step only": "The weight gradients hold the last step's share only. The same weights act at every step: add "
                      "each step's dw_ih, dw_hh, db (`+=`).",
    "first step only": "The weight gradients hold step 0's share only (the last your loop saw): add each step's dw_ih, "
                       "dw_hh, db (`+=`), don't replace them.",
    "dc not carried": "You did not carry dc back: every step got the same d_c_n. After each step, the dc_prev it "
                      "returned is the dc of the step before.",
    "dc zero": "You did not carry dc back: the steps before the last got dc = 0. The dc_prev a step returns is the dc "
               "of the step before.",
    "no output gradient": "You left out d_output: h_t is also this step's output, so each step's dh is the dh from the "
                          "next step plus d_output[:, t].",
    "output only at the last step": "You added d_output at the last step only: every step's h_t is an output, so add "
                                    "d_output[:, t] at every step t.",
    "dh not carried": "You did not carry dh back: each step's dh is d_output[:, t] plus the dh_prev that step t + 1 "
                      "returned.",
    "d_h_n ignored": "You left out d_h_n: the last step's h is h_n, so its dh starts at d_h_n (plus d_output[:, -1]).",
    "d_c_n ignored": "You left out d_c_n: the last step's c is c_n, so dc starts at d_c_n.",
    "h_t for h_prev": "Off by one step: step t was given h_{t-1} and c_{t-1} (h_0 and c_0 at t = 0), not "
                      "gates['h'][:, t] and gates['c'][:, t].",
    "c_t for c_prev": "Off by one step for c: step t was given c_{t-1} (c_0 at t = 0), not gates['c'][:, t].",
    "forward in time": "Walk backwards, from t = seq - 1 down to 0: the gradient flows from the last step to the "
                       "first.",
    "sign": "Wrong sign: every gradient enters with a plus; nothing is negated.",
    "mean over time": "You averaged over time. The same weights act at every step and each step adds its share: sum, "
                      "don't divide by seq.",
}
BPTT_MISTAKES = tuple((message, functools.partial(lstm_backward_variant, mistake=mistake))
                      for mistake, message in BPTT_MISTAKE_MESSAGES.items())


# The statement has the learner call numpy_lstm.lstm_step_backward at each step: that one is not refused here.
@check("Backpropagation through time",
       refuse=(numpy_lstm.lstm_backward, step_backward_variant, lstm_backward_variant, *BY_HAND),
       instead="Walk back through the steps yourself, calling the step backward once per step.")
def check_lstm_backward(lstm_backward):
    """``lstm_backward(...) -> (dx, dh_0, dc_0, dw_ih, dw_hh, db)``: backpropagation through time, as autograd."""
    # (batch, seq, input_size, hidden_size)
    cases = [gradient_case(1, 2, 4, 3, 2), gradient_case(2, 1, 7, 2, 3), gradient_case(3, 3, 3, 1, 4)]
    signature = "lstm_backward(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh)"
    _judge_cases(lstm_backward, cases, BPTT_MISTAKES, signature, lambda got, case: BPTT_HINT)
    return ("All six gradients equal autograd's through PyTorch's LSTM (float64), on 3 random sequences of lengths 3 "
            "to 7.")


# ----------------------------------------------------------------------------- exercise 3: clipping
def _total(grads):
    """The total norm of a list of arrays: sqrt of the sum of every element squared."""
    return np.sqrt(sum(np.sum(grad**2) for grad in grads))


def clipped(grads, max_norm, norm=_total):
    """The right answer: one factor max_norm / total, only above max_norm (with another ``norm``, a wrong one)."""
    return [grad * (max_norm / norm(grads) if norm(grads) > max_norm else 1.0) for grad in grads]


CLIP_HINT = ("The total norm is sqrt(sum of every element squared, over all the arrays); above max_norm, multiply "
             "every array by max_norm / total.")
CLIP_MISTAKES = (  # (message, what that answer returns, given grads and max_norm)
    ("Your arrays came back unchanged: when their total norm is above max_norm, multiply every array by max_norm / "
     "total.", lambda grads, limit: grads),
    ("Your condition is reversed: scale down only when the total norm is above max_norm.",
     lambda grads, limit: [grad * (1 if _total(grads) > limit else limit / _total(grads)) for grad in grads]),
    ("You clipped each array by its own norm. Clip them together: one total norm, one factor for every array, so the "
     "direction is kept.", lambda grads, limit: [grad * min(1.0, limit / np.linalg.norm(grad)) for grad in grads]),
    ("You scaled even below max_norm: a gradient that is small enough comes back unchanged.",
     lambda grads, limit: [grad * limit / _total(grads) for grad in grads]),
    ("That is clipping by value, element by element, which turns the gradient's direction. Clip by norm: one factor "
     "max_norm / total for all the arrays.", lambda grads, limit: [np.clip(grad, -limit, limit) for grad in grads]),
    ("Your factor is upside down: multiply by max_norm / total, which is below 1 when the total is too large.",
     lambda grads, limit: [grad * (_total(grads) / limit if _total(grads) > limit else 1.0) for grad in grads]),
    ("You added the arrays' norms. The total norm is sqrt of the sum of every element squared, over all the arrays "
     "(laid end to end).", functools.partial(clipped, norm=lambda grads: sum(np.linalg.norm(grad) for grad in grads))),
    ("You forgot the square root: the total norm is sqrt(sum of squares).",
     functools.partial(clipped, norm=lambda grads: _total(grads) ** 2)),
    ("You summed absolute values (an L1 norm): the total norm is sqrt(sum of squares).",
     functools.partial(clipped, norm=lambda grads: sum(abs(grad).sum() for grad in grads))),
    ("You measured the largest element (a max norm): the total norm is sqrt(sum of squares).",
     functools.partial(clipped, norm=lambda grads: max(abs(grad).max() for grad in grads))),
)


def _clip_case(number, grads, max_norm):
    """Case ``number``: clip ``grads`` to ``max_norm``."""
    label = f"Case {number} ({len(grads)} arrays, total norm {_total(grads):.4g}, max_norm {max_norm:g})"
    outputs = [(f"array {k}", f"grads[{k}], multiplied by one number", None) for k in range(len(grads))]
    hint = ("grads holds arrays of different shapes: np.linalg.norm(grads) cannot stack them, so add up each array's "
            "squares. Return one array per array of grads.")
    return Case(label, (grads, max_norm), clipped(grads, max_norm), outputs, hint)


@check("Gradient clipping by norm", refuse=(numpy_lstm.clip_by_norm, clipped, *(answer for _, answer in CLIP_MISTAKES)),
       instead="Compute the total norm and the factor yourself.")
def check_clip_by_norm(clip_by_norm):
    """``clip_by_norm(grads, max_norm) -> list of arrays`` shaped like ``grads``."""
    rng = np.random.default_rng(60)
    grads = [rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=(2, 2))]  # total norm 5.5; new sizes
    clippings = [(grads, 2.0), ([0.1 * grad for grad in grads], 2.0), ([3.0 * grads[0]], 1.5), (grads, 0.25)]
    cases = [_clip_case(number, *clipping) for number, clipping in enumerate(clippings, 1)]
    _judge_cases(clip_by_norm, cases, CLIP_MISTAKES, "clip_by_norm(grads, max_norm)", lambda got, case: CLIP_HINT,
                 how="return [g * scale for g in grads]")
    return ("One total norm over all the arrays, one factor for all of them, and only above max_norm: right on 4 cases "
            "(above, below, one array, far above).")

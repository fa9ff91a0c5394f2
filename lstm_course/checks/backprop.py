"""Checks for notebook 06: the backward of one step, backpropagation through time, clipping by norm.

Random cases of sizes the notebook does not use. The cache the learner is given comes from the checks' reference LSTM; the
expected gradients from autograd through PyTorch's own LSTM (``torch.lstm_cell``, ``torch.lstm``: what nn.LSTMCell and
nn.LSTM run) in float64; a right answer also agrees with finite differences."""

import collections
import functools
import re

import numpy as np
import torch

from lstm_course import numpy_lstm
from lstm_course.checks import reference
from lstm_course.checks.judge import Mistake, call, check, diagnose, in_case, judge, numbers, same, unpack

FD_EPS, FD_TOLERANCE = 1e-6, 1e-6  # centred differences in float64: errors near 1e-10, far below the bar
BY_HAND = (reference, torch.autograd.backward, torch.autograd.grad)  # the backward is asked for by hand, not from autograd

# outputs: (name, its shape, kind of `_where`) of each returned array; loss: (arrays, upstream) of `_loss`, for finite differences.
Case = collections.namedtuple("Case", "label args expected outputs shape_hint loss", defaults=(None,))


# --------------------------------------------------------------------------------------------- the gradients' cases
def _loss(x, h, c, w_ih, w_hh, b_ih, b_hh, *upstream):
    """L = sum(dh * h_t) + sum(dc * c_t) through PyTorch's LSTM cell, or sum(d_output * output) + ... h_n ... c_n through its LSTM."""
    if x.dim() == 2:
        return sum((u * v).sum() for u, v in zip(upstream, torch.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)))
    output, h_n, c_n = torch.lstm(x, (h[None], c[None]), (w_ih, w_hh, b_ih, b_hh), True, 1, 0.0, False, False, True)  # batch first
    return sum((u * v).sum() for u, v in zip(upstream, (output, h_n[0], c_n[0])))


def gradient_case(number, batch, *sizes):
    """Case ``number`` of (batch, input_size, hidden_size), a step, or (batch, seq, input_size, hidden_size), a sequence, drawn at
    random; the expected gradients of x, h, c, w_ih, w_hh, b_ih (= those of b_hh) by autograd through PyTorch's own LSTM."""
    rng, step, state, rows = np.random.default_rng(600 + 100 * len(sizes) + number), len(sizes) == 2, (batch, sizes[-1]), 4 * sizes[-1]
    arrays = [rng.normal(size=(batch, *sizes[:-1])), rng.normal(size=state), rng.normal(size=state), rng.normal(scale=0.6, size=(rows, sizes[-2])),
              rng.normal(scale=0.6, size=(rows, sizes[-1])), rng.normal(size=rows), rng.normal(size=rows)]
    upstream = [rng.normal(size=shape) for shape in ([] if step else [(batch, *sizes[::2])]) + [state, state]]  # (d_output,) dh, dc
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    expected = [g.numpy() for g in torch.autograd.grad(_loss(*tensors, *map(torch.tensor, upstream)), tensors[:6])]
    label = f"Case {number} (batch {batch}, " + ("" if step else f"seq {sizes[0]}, ") + f"input_size {sizes[-2]}, hidden_size {sizes[-1]})"
    cache = numpy_lstm.GateValues(*reference.step(*arrays)) if step else {n: np.stack([getattr(s, n) for s in reference.sequence(*arrays)[3]], 1) for n in "ifgoch"}
    hint = (f"dz is (batch, 4 * hidden_size) = ({batch}, {rows}), w_ih is {(rows, sizes[0])}." if step else
            f"x[:, t] is (batch, input_size) = {(batch, sizes[1])}, gates[name][:, t] is (batch, hidden_size) = {state}.")
    return Case(label, (*upstream, *arrays[:3], cache, *arrays[3:5]), expected, STEP_OUTPUTS if step else BPTT_OUTPUTS, hint, (arrays, upstream))


# --------------------------------------------------------------------------------------------- the judgement, alike for the three
def _where(kind, expected):
    """How to name an element: a row of a 4 * hidden array by its gate and unit, a batch row, a time step."""
    hidden = expected[-1].shape[0] // 4  # db is (4 * hidden,)
    return {"rows": lambda k: f"at row {k[0]} (gate {'ifgo'[k[0] // hidden]}, unit {k[0] % hidden})" + (f", column {k[1]}" if len(k) > 1 else ""),
            "batch": lambda k: f"at batch row {k[0]}, column {k[1]}", "time": lambda k: f"at batch row {k[0]}, time step {k[1]}, column {k[2]}"}.get(kind)


def _judge(name, got, expected, mistakes, hint, where):
    """`judge`, with as many digits as it takes for the expected and the given number to differ (it prints 6)."""
    try:
        judge(name, got, expected, mistakes, hint=hint, where=where)
    except Mistake as mistake:
        if not (shown := re.search(r"expected (\S+), got (\S+) \(", str(mistake))) or shown[1] != shown[2]:
            raise
        g, e = np.ravel(numbers(name, got, False)), np.ravel(expected)
        k = next(k for k in range(e.size) if (f"{e[k]:.6g}", f"{g[k]:.6g}") == shown.groups() and e[k] != g[k])
        d = next(d for d in range(7, 18) if f"{e[k]:.{d}g}" != f"{g[k]:.{d}g}")
        raise Mistake(str(mistake).replace(shown[0], f"expected {e[k]:.{d}g}, got {g[k]:.{d}g} (", 1)) from None


def _finite_differences(names, got, arrays, upstream):
    """A Mistake when a gradient disagrees with (L(a + eps v) - L(a - eps v)) / 2 eps along a random direction v."""
    for k, (name, grad) in enumerate(zip(names, got)):
        v = np.random.default_rng(k).normal(size=arrays[k].shape)
        at = [float(_loss(*(torch.tensor(a + s * FD_EPS * v if j == k else a) for j, a in enumerate(arrays)), *map(torch.tensor, upstream))) for s in (1, -1)]
        numeric, analytic = (at[0] - at[1]) / (2 * FD_EPS), float(np.sum(grad * v))
        if (error := abs(numeric - analytic) / max(abs(numeric) + abs(analytic), 1e-12)) > FD_TOLERANCE:
            raise Mistake(f"Your gradients equal autograd's, but {name} disagrees with finite differences (relative error {error:.1e}). "
                          "Return float64 arrays computed from the arguments.")


def _judge_cases(function, cases, mistakes, signature, explain, how=None):
    """Call ``function`` on every case, then judge: the shapes; a mistake that explains every case; in the first wrong case,
    one that explains it, or one output; else ``explain(got, case)``. ``mistakes``: (message, variant(*args))."""
    answers = []
    for case in cases:
        with in_case(case.label):
            names = [name for name, _, _ in case.outputs]
            got = call(function, *case.args, signature=signature, shape_hint=case.shape_hint)
            got = unpack(got, names, how or "return " + ", ".join(names).replace("`", ""))
            if tensors := [name for name, value in zip(names, got) if isinstance(value, torch.Tensor)]:
                raise Mistake(f"{tensors[0]} should be a NumPy array, got a torch tensor: this exercise is in NumPy (np.* functions, no torch).")
            answers.append([numbers(name, value) for name, value in zip(names, got)])
            for (name, shape, _), value, want in zip(case.outputs, answers[-1], case.expected):
                if value.shape != want.shape:
                    raise Mistake(f"{name} should have shape {want.shape}, the shape of {shape}; got {value.shape}.")
    known = [[variant(*case.args) for _, variant in mistakes] for case in cases]
    whole = diagnose(answers, [case.expected for case in cases], [(m, [k[j] for k in known]) for j, (m, _) in enumerate(mistakes)])
    for case, got, variants in zip(cases, answers, known):
        with in_case(case.label):
            per_case = [(message, answer) for (message, _), answer in zip(mistakes, variants)]
            named = whole or diagnose(got, case.expected, per_case)
            for k, (name, _, kind) in enumerate(case.outputs):
                one = () if named else [(message, answer[k]) for message, answer in per_case]
                _judge(name, got[k], case.expected[k], one, named or explain(got, case), _where(kind, case.expected))
            if case.loss:
                _finite_differences(names, got, *case.loss)


# --------------------------------------------------------------------------------------------- the backward, right or with a typical mistake
def step_backward_variant(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh, mistake=None, order="ifgo"):
    """The step backward, right (no ``mistake``) or with one typical mistake: the six gradients."""
    i, f, g, o, c, h = step
    slope = {"no path through h": 0, "1 - c**2": 1 - c**2, "tanh slope sign": np.tanh(c) ** 2 - 1}.get(mistake, 1 - np.tanh(c) ** 2)
    dc_total, c_before = dc + dh * o * slope, c if mistake == "c instead of c_prev" else c_prev
    dz = {"i": dc_total * g * i * (1 - i), "f": dc_total * c_before * f * (1 - f), "g": dc_total * i * (1 - g**2), "o": dh * np.tanh(c) * o * (1 - o)}
    if mistake == "no sigmoid slope":
        dz.update(i=dc_total * g, f=dc_total * c_before, o=dh * np.tanh(c))
    dz = np.concatenate([dz[gate] for gate in order], axis=1)
    dc_prev = {"dc_prev without f": dc_total, "dc_prev from dc alone": dc * f}.get(mistake, dc_total * f)
    grads = [dz @ w_ih, dz @ w_hh, dc_prev, dz.T @ x, dz.T @ (h if mistake == "h instead of h_prev" else h_prev), dz.sum(axis=0)]
    scale = {"sign": -1, "mean over the batch": 1 / x.shape[0]}.get(mistake, 1)
    return [grad * (scale if k >= 3 or mistake == "sign" else 1) for k, grad in enumerate(grads)]


def lstm_backward_variant(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh, mistake=None):
    """BPTT over the right step backward, right (no ``mistake``) or with one typical mistake of the loop."""
    seq, shifted = x.shape[1], mistake != "h_t for h_prev"
    h_prev, c_prev = (np.concatenate([s[:, None], gates[n][:, :-1]], axis=1) if shifted else gates[n] for s, n in ((h_0, "h"), (c_0, "c")))
    dh = 0 * d_h_n if mistake == "d_h_n ignored" else d_h_n + (d_output[:, -1] if mistake == "output only at the last step" else 0)
    dc, dx, dw = 0 * d_c_n if mistake == "d_c_n ignored" else d_c_n, np.zeros(x.shape), [0 * w_ih, 0 * w_hh, 0 * w_ih[:, 0]]
    for t in range(seq) if mistake == "forward in time" else reversed(range(seq)):
        dh_in = {"no output gradient": dh, "output only at the last step": dh,
                 "dh not carried": d_output[:, t] + d_h_n * (t == seq - 1)}.get(mistake, dh + d_output[:, t])
        dc_in = {"dc not carried": d_c_n, "dc zero": d_c_n * (t == seq - 1)}.get(mistake, dc)
        step = numpy_lstm.GateValues(*(gates[name][:, t] for name in numpy_lstm.GateValues._fields))
        dx[:, t], dh, dc, *step_dw = step_backward_variant(dh_in, dc_in, x[:, t], h_prev[:, t], c_prev[:, t], step, w_ih, w_hh)
        if not (mistake == "first step only" and t != 0 or mistake == "last step only" and t != seq - 1):
            dw = [a + b for a, b in zip(dw, step_dw)]
    grads, scale = [dx, dh, dc, *dw], {"sign": -1, "mean over time": 1 / seq}.get(mistake, 1)
    return [grad * (scale if k >= 3 or mistake == "sign" else 1) for k, grad in enumerate(grads)]


# --------------------------------------------------------------------------------------------- exercise 1: one step
STEP_OUTPUTS = (("`dx`", "x (dz @ w_ih)", "batch"), ("`dh_prev`", "h_prev (dz @ w_hh)", "batch"), ("`dc_prev`", "c_prev", "batch"),
                ("`dw_ih`", "w_ih (dz.T @ x)", "rows"), ("`dw_hh`", "w_hh (dz.T @ h_prev)", "rows"), ("`db`", "b_ih (dz summed over the batch rows)", "rows"))
STEP_HINT = "Undo the forward line by line: h = o * tanh(c), then c = f * c_prev + i * g, then the activations, then z = x @ w_ih.T + h_prev @ w_hh.T + b."
GATE_LINES = {"i": "di = dc * g, times i * (1 - i)", "f": "df = dc * c_prev, times f * (1 - f)", "g": "dg = dc * i, times 1 - g**2",
              "o": "do = dh * tanh(c), times o * (1 - o)"}
STEP_MISTAKES = (
    *((f"Gate order: the rows of w_ih, and so the blocks of dz, are i, f, g, o in PyTorch; you put them in the order {', '.join(order)}"
       + (", the order of many diagrams." if order == reference.DIAGRAM_ORDER else "."), functools.partial(step_backward_variant, order=order))
      for order in reference.OTHER_ORDERS),
    *((message, functools.partial(step_backward_variant, mistake=mistake)) for mistake, message in {
        "no path through h": "You left out the path from c_t through h_t = o * tanh(c_t), whose slope is tanh'(c_t): add dh * o * (1 - tanh(c)**2) to dc.",
        "1 - c**2": "You used 1 - c**2 for the slope of tanh(c): it is 1 - tanh(c)**2.",
        "tanh slope sign": "Wrong sign in the path through h: tanh'(c) = 1 - tanh(c)**2, not tanh(c)**2 - 1.",
        "c instead of c_prev": "The forget gate multiplies c_prev: c = f * c_prev + i * g, so df = dc * c_prev, not dc * c.",
        "no sigmoid slope": "You left out the sigmoid's slope: i, f, o are sigmoids, so multiply di, df, do by i * (1 - i), f * (1 - f), o * (1 - o).",
        "dc_prev without f": "dc_prev misses the factor f: c = f * c_prev + i * g, so dc_prev = dc * f (with dc the total).",
        "dc_prev from dc alone": "dc_prev should use the total dL/dc_t: the dc that arrived plus the path through h_t, then times f.",
        "h instead of h_prev": "dw_hh multiplies the state this step was given: z = ... + h_prev @ w_hh.T, so dw_hh = dz.T @ h_prev, not h.",
        "sign": "Wrong sign: these are gradients of the loss, and every step of the chain rule multiplies; nothing is negated.",
        "mean over the batch": "You averaged over the batch. The loss decides any averaging and dh, dc already include it: sum the batch rows.",
    }.items()),
)


def _one_gate(got, case):
    """If dx and dh_prev differ exactly as a wrong block of one gate in dz makes them differ: which gate, and where."""
    w = np.concatenate(case.args[6:8], axis=1)  # (4 * hidden, input + hidden): dx and dh_prev are dz @ w
    diff, hidden = np.concatenate([got[0] - case.expected[0], got[1] - case.expected[1]], axis=1), w.shape[0] // 4
    for k, gate in enumerate("ifgo" if np.isfinite(diff).all() and not same(got[:2], case.expected[:2]) else ""):
        block = w[k * hidden:(k + 1) * hidden]  # more columns than rows: a difference that is not this gate's does not fit
        d_dz = np.linalg.lstsq(block.T, diff.T, rcond=None)[0].T  # (batch, hidden)
        if np.allclose(d_dz @ block, diff, rtol=1e-6, atol=1e-9):
            row, unit = np.argwhere(np.abs(d_dz) > 1e-9)[0]
            return (f"dx and dh_prev differ as they would if only the block of the {reference.GATE_WORDS[gate]} in dz were wrong (dz's columns "
                    f"{k * hidden} to {(k + 1) * hidden - 1}), first at unit {unit} of batch row {row}; the other gates are right. Look at {GATE_LINES[gate]}.")
    return STEP_HINT


@check("The backward of one LSTM step",
       refuse=(numpy_lstm.lstm_step_backward, numpy_lstm.lstm_backward, step_backward_variant, lstm_backward_variant, *BY_HAND),
       instead="Undo the forward yourself, line by line, in NumPy.")
def check_lstm_step_backward(lstm_step_backward):
    """``lstm_step_backward(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh) -> (dx, dh_prev, dc_prev, dw_ih, dw_hh, db)``."""
    cases = [gradient_case(1, 1, 2, 3), gradient_case(2, 3, 4, 2), gradient_case(3, 2, 5, 4)]  # (batch, input_size, hidden_size): no two sizes coincide
    _judge_cases(lstm_step_backward, cases, STEP_MISTAKES, "lstm_step_backward(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)", _one_gate)
    return "All six gradients equal autograd's through PyTorch's LSTM cell (float64) and agree with finite differences, on 3 random steps of new sizes."


# --------------------------------------------------------------------------------------------- exercise 2: through time
BPTT_OUTPUTS = (("`dx`", "x (dx[:, t] is step t's dx)", "time"), ("`dh_0`", "h_0 (step 0's dh_prev)", "batch"), ("`dc_0`", "c_0 (step 0's dc_prev)", "batch"),
                ("`dw_ih`", "w_ih (summed over steps)", "rows"), ("`dw_hh`", "w_hh (summed over steps)", "rows"), ("`db`", "b_ih (summed over steps)", "rows"))
BPTT_HINT = "Walk t from seq - 1 down to 0; step t gets dh + d_output[:, t] and dc from step t + 1; add up every step's weight gradients."
BPTT_MISTAKES = tuple((message, functools.partial(lstm_backward_variant, mistake=mistake)) for mistake, message in {
    "last step only": "The weight gradients hold the last step's share only. The same weights act at every step: add each step's dw_ih, dw_hh, db (`+=`).",
    "first step only": "The weight gradients hold step 0's share only (the last your loop saw): add each step's dw_ih, dw_hh, db (`+=`), don't replace them.",
    "dc not carried": "You did not carry dc back: every step got the same d_c_n. After each step, the dc_prev it returned is the dc of the step before.",
    "dc zero": "You did not carry dc back: the steps before the last got dc = 0. The dc_prev a step returns is the dc of the step before.",
    "no output gradient": "You left out d_output: h_t is also this step's output, so each step's dh is the dh from the next step plus d_output[:, t].",
    "output only at the last step": "You added d_output at the last step only: every step's h_t is an output, so add d_output[:, t] at every step t.",
    "dh not carried": "You did not carry dh back: each step's dh is d_output[:, t] plus the dh_prev that step t + 1 returned.",
    "d_h_n ignored": "You left out d_h_n: the last step's h is h_n, so its dh starts at d_h_n (plus d_output[:, -1]).",
    "d_c_n ignored": "You left out d_c_n: the last step's c is c_n, so dc starts at d_c_n.",
    "h_t for h_prev": "Off by one step: step t was given h_{t-1} and c_{t-1} (h_0 and c_0 at t = 0), not gates['h'][:, t] and gates['c'][:, t].",
    "forward in time": "Walk backwards, from t = seq - 1 down to 0: the gradient flows from the last step to the first.",
    "sign": "Wrong sign: every gradient enters with a plus; nothing is negated.",
    "mean over time": "You averaged over time. The same weights act at every step and each step adds its share: sum, don't divide by seq.",
}.items())


# The statement has the learner call numpy_lstm.lstm_step_backward at each step: that one is not refused here.
@check("Backpropagation through time", refuse=(numpy_lstm.lstm_backward, step_backward_variant, lstm_backward_variant, *BY_HAND),
       instead="Walk back through the steps yourself, calling the step backward once per step.")
def check_lstm_backward(lstm_backward):
    """``lstm_backward(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh) -> (dx, dh_0, dc_0, dw_ih, dw_hh, db)``."""
    cases = [gradient_case(1, 2, 4, 3, 2), gradient_case(2, 1, 7, 2, 3), gradient_case(3, 3, 3, 1, 4)]  # (batch, seq, input_size, hidden_size)
    _judge_cases(lstm_backward, cases, BPTT_MISTAKES, "lstm_backward(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh)", lambda got, case: BPTT_HINT)
    return "All six gradients equal autograd's through PyTorch's LSTM (float64) and agree with finite differences, on 3 random sequences of lengths 3 to 7."


# --------------------------------------------------------------------------------------------- exercise 3: clipping
def _total(grads):
    return np.sqrt(sum(np.sum(g**2) for g in grads))


def clipped(grads, max_norm, norm=_total):
    """The right answer (with another ``norm``, a wrong one): one factor max_norm / total, only when the total is above max_norm."""
    return [g * (max_norm / norm(grads) if norm(grads) > max_norm else 1.0) for g in grads]


CLIP_HINT = "The total norm is sqrt(sum of every element squared, over all the arrays); above max_norm, multiply every array by max_norm / total."
CLIP_MISTAKES = (
    ("Your arrays came back unchanged: when their total norm is above max_norm, multiply every array by max_norm / total.", lambda grads, m: grads),
    ("Your condition is reversed: scale down only when the total norm is above max_norm.",
     lambda grads, m: [g * (1 if _total(grads) > m else m / _total(grads)) for g in grads]),
    ("You clipped each array by its own norm. Clip them together: one total norm, one factor for every array, so the direction is kept.",
     lambda grads, m: [g * min(1.0, m / np.linalg.norm(g)) for g in grads]),
    ("You scaled even below max_norm: a gradient that is small enough comes back unchanged.", lambda grads, m: [g * m / _total(grads) for g in grads]),
    ("That is clipping by value, element by element, which turns the gradient's direction. Clip by norm: one factor max_norm / total for all the arrays.",
     lambda grads, m: [np.clip(g, -m, m) for g in grads]),
    ("Your factor is upside down: multiply by max_norm / total, which is below 1 when the total is too large.",
     lambda grads, m: [g * (_total(grads) / m if _total(grads) > m else 1.0) for g in grads]),
    ("You added the arrays' norms. The total norm is sqrt of the sum of every element squared, over all the arrays (laid end to end).",
     functools.partial(clipped, norm=lambda grads: sum(np.linalg.norm(a) for a in grads))),
    ("You forgot the square root: the total norm is sqrt(sum of squares).", functools.partial(clipped, norm=lambda grads: _total(grads) ** 2)),
    ("You summed absolute values (an L1 norm): the total norm is sqrt(sum of squares).", functools.partial(clipped, norm=lambda gs: sum(abs(g).sum() for g in gs))),
)


@check("Gradient clipping by norm", refuse=(numpy_lstm.clip_by_norm, clipped, *(answer for _, answer in CLIP_MISTAKES)),
       instead="Compute the total norm and the factor yourself.")
def check_clip_by_norm(clip_by_norm):
    """``clip_by_norm(grads, max_norm) -> list of arrays`` shaped like ``grads``."""
    rng = np.random.default_rng(60)
    grads = [rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=(2, 2))]  # total norm 5.5; sizes the notebook does not use
    cases = [Case(f"Case {n} ({len(g)} arrays, total norm {_total(g):.4g}, max_norm {m:g})", (g, m), clipped(g, m),
                  [(f"array {k}", f"grads[{k}], multiplied by one number", None) for k in range(len(g))], "Return one array per array of grads.")
             for n, (g, m) in enumerate([(grads, 2.0), ([0.1 * g for g in grads], 2.0), ([3.0 * grads[0]], 1.5), (grads, 0.25)], 1)]
    _judge_cases(clip_by_norm, cases, CLIP_MISTAKES, "clip_by_norm(grads, max_norm)", lambda got, case: CLIP_HINT, how="return [g * scale for g in grads]")
    return "One total norm over all the arrays, one factor for all of them, and only above max_norm: right on 4 cases (above, below, one array, far above)."

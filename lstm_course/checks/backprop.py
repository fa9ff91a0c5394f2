"""Checks for notebook 06, backpropagation through time.

Each check builds its own random cases (sizes and numbers the notebook does not show), runs its
own forward in PyTorch (float64), takes the expected gradients from PyTorch's autograd through
``nn.LSTMCell`` or ``nn.LSTM``, and checks the learner's gradients against centred finite
differences as well. When an answer is wrong it is compared with the typical wrong answers,
computed by a reference with that one mistake, to name the mistake.
"""

import numpy as np
import torch

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close, with_hint
from lstm_course.numpy_lstm import GateValues

ATOL = 1e-9
FD_EPS, FD_TOLERANCE = 1e-6, 1e-6  # centred differences in float64: errors near 1e-10, far below the bar


# --------------------------------------------------------------------------------------------- cases


def _sigmoid(z):
    return torch.sigmoid(z)


def _torch_step(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step in PyTorch, the check's own forward: the GateValues of that step (tensors)."""
    z_i, z_f, z_g, z_o = (x @ w_ih.T + b_ih + h_prev @ w_hh.T + b_hh).chunk(4, dim=1)
    i, f, g, o = _sigmoid(z_i), _sigmoid(z_f), torch.tanh(z_g), _sigmoid(z_o)
    c = f * c_prev + i * g
    return GateValues(i, f, g, o, c, o * torch.tanh(c))


def _torch_sequence(x, h_0, c_0, w_ih, w_hh, b_ih, b_hh):
    """The check's own forward over a sequence: a dict of i, f, g, o, c, h, each (batch, seq, hidden)."""
    h, c, steps = h_0, c_0, []
    for t in range(x.shape[1]):
        step = _torch_step(x[:, t], h, c, w_ih, w_hh, b_ih, b_hh)
        h, c = step.h, step.c
        steps.append(step)
    return {name: torch.stack([getattr(s, name) for s in steps], dim=1) for name in GateValues._fields}


def _random_weights(rng, input_size, hidden_size):
    rows = 4 * hidden_size
    return {"w_ih": rng.normal(scale=0.6, size=(rows, input_size)), "w_hh": rng.normal(scale=0.6, size=(rows, hidden_size)),
            "b_ih": rng.normal(size=rows), "b_hh": rng.normal(size=rows)}


def _autograd(module, weights, inputs, upstream, run):
    """Gradients of L = sum(upstream * outputs) by autograd through ``module`` (nn.LSTMCell or nn.LSTM, float64)."""
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    suffix = "_l0" if isinstance(module, torch.nn.LSTM) else ""
    with torch.no_grad():
        for name, key in zip(names, ("w_ih", "w_hh", "b_ih", "b_hh")):
            getattr(module, name + suffix).copy_(torch.tensor(weights[key]))
    tensors = [torch.tensor(a, requires_grad=True) for a in inputs]
    outputs = run(module, *tensors)
    loss = sum((torch.tensor(u) * out).sum() for u, out in zip(upstream, outputs) if u is not None)
    loss.backward()
    params = [getattr(module, name + suffix) for name in names]  # bias_hh's gradient equals bias_ih's
    return [t.grad.numpy() for t in tensors] + [params[0].grad.numpy(), params[1].grad.numpy(), params[2].grad.numpy()]


def step_case(batch, input_size, hidden_size, seed):
    """One random step: the arguments of ``lstm_step_backward`` and autograd's six gradients."""
    rng = np.random.default_rng(600 + seed)
    x = rng.normal(size=(batch, input_size))
    h_prev, c_prev = rng.normal(size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size))
    weights = _random_weights(rng, input_size, hidden_size)
    dh, dc = rng.normal(size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size))
    tensors = {k: torch.tensor(v) for k, v in weights.items()}
    step = _torch_step(torch.tensor(x), torch.tensor(h_prev), torch.tensor(c_prev), **tensors)
    step = GateValues(*(value.numpy() for value in step))
    cell = torch.nn.LSTMCell(input_size, hidden_size, dtype=torch.float64)
    expected = _autograd(cell, weights, (x, h_prev, c_prev), (dh, dc), lambda m, x, h, c: m(x, (h, c)))
    args = {"dh": dh, "dc": dc, "x": x, "h_prev": h_prev, "c_prev": c_prev, "step": step, "w_ih": weights["w_ih"], "w_hh": weights["w_hh"]}
    return {"args": args, "weights": weights, "expected": expected, "inputs": (x, h_prev, c_prev), "loss": _step_loss}


def sequence_case(batch, seq, input_size, hidden_size, seed):
    """One random sequence: the arguments of ``lstm_backward`` and autograd's six gradients through ``nn.LSTM``."""
    rng = np.random.default_rng(700 + seed)
    x = rng.normal(size=(batch, seq, input_size))
    h_0, c_0 = rng.normal(size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size))
    weights = _random_weights(rng, input_size, hidden_size)
    d_output = rng.normal(size=(batch, seq, hidden_size))
    d_h_n, d_c_n = rng.normal(size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size))
    tensors = {k: torch.tensor(v) for k, v in weights.items()}
    gates = {k: v.numpy() for k, v in _torch_sequence(torch.tensor(x), torch.tensor(h_0), torch.tensor(c_0), **tensors).items()}
    lstm = torch.nn.LSTM(input_size, hidden_size, batch_first=True, dtype=torch.float64)

    def run(module, x, h_0, c_0):
        output, (h_n, c_n) = module(x, (h_0[None], c_0[None]))
        return output, h_n[0], c_n[0]

    expected = _autograd(lstm, weights, (x, h_0, c_0), (d_output, d_h_n, d_c_n), run)
    args = {"d_output": d_output, "d_h_n": d_h_n, "d_c_n": d_c_n, "x": x, "h_0": h_0, "c_0": c_0, "gates": gates,
            "w_ih": weights["w_ih"], "w_hh": weights["w_hh"]}
    return {"args": args, "weights": weights, "expected": expected, "inputs": (x, h_0, c_0), "loss": _sequence_loss}


# --------------------------------------------------------------------------------------------- finite differences


def _step_loss(values, args, weights):
    """L = sum(dh * h_t) + sum(dc * c_t), from the check's own forward."""
    t = {k: torch.tensor(v) for k, v in values.items()}
    step = _torch_step(t["x"], t["h_prev"], t["c_prev"], t["w_ih"], t["w_hh"], t["b"], torch.tensor(weights["b_hh"]))
    return float((torch.tensor(args["dh"]) * step.h).sum() + (torch.tensor(args["dc"]) * step.c).sum())


def _sequence_loss(values, args, weights):
    """L = sum(d_output * output) + sum(d_h_n * h_n) + sum(d_c_n * c_n), from the check's own forward."""
    t = {k: torch.tensor(v) for k, v in values.items()}
    gates = _torch_sequence(t["x"], t["h_prev"], t["c_prev"], t["w_ih"], t["w_hh"], t["b"], torch.tensor(weights["b_hh"]))
    return float((torch.tensor(args["d_output"]) * gates["h"]).sum() + (torch.tensor(args["d_h_n"]) * gates["h"][:, -1]).sum()
                 + (torch.tensor(args["d_c_n"]) * gates["c"][:, -1]).sum())


def _finite_difference_errors(loss, values, grads, seed):
    """For each array: the relative error between <grad, v> and (L(a + eps v) - L(a - eps v)) / 2 eps, v random."""
    rng = np.random.default_rng(seed)
    errors = {}
    for (name, value), grad in zip(values.items(), grads):
        v = rng.normal(size=value.shape)
        up, down = dict(values), dict(values)
        up[name], down[name] = value + FD_EPS * v, value - FD_EPS * v
        numeric = (loss(up) - loss(down)) / (2 * FD_EPS)
        analytic = float(np.sum(grad * v))
        errors[name] = abs(numeric - analytic) / max(abs(numeric) + abs(analytic), 1e-12)
    return errors


# --------------------------------------------------------------------------------------------- the shared judgement


def _rows(hidden_size):
    """``where`` for an array with 4 * hidden rows: name the gate and unit of a row."""

    def where(index):
        gate, unit = "ifgo"[index[0] // hidden_size], index[0] % hidden_size
        return f"at row {index[0]} (gate {gate}, unit {unit})" + (f", column {index[1]}" if len(index) == 2 else "")

    return where


def _batch_rows(index):
    return f"at batch row {index[0]}" + (f", column {index[1]}" if len(index) > 1 else "")


def _as_outputs(got, names):
    """The learner's result as a list of float arrays, one per name, or a Mistake saying what came instead."""
    if isinstance(got, dict) or not isinstance(got, (tuple, list)) or len(got) != len(names):
        what = f"a {type(got).__name__}" + (f" of {len(got)} items" if isinstance(got, (tuple, list)) else "")
        raise Mistake(f"Return the {len(names)} gradients as one tuple, `return {', '.join(names)}`; got {what}.")
    return [as_array(name, value) for name, value in zip(names, got)]


def _judge(got, expected, names, wrong_answers, shapes, hints, where):
    """Name the mistake (a whole wrong answer, then output by output), or say which element differs."""
    for name, value, want in zip(names, got, expected):
        if value.shape != want.shape:
            raise Mistake(f"{name} should have shape {want.shape}, got {value.shape}. {shapes[name]}")

    def equal(a, b):
        return a.shape == b.shape and np.allclose(a, b, rtol=0, atol=ATOL)

    if all(equal(a, b) for a, b in zip(got, expected)):
        return
    for wrong, diagnosis in wrong_answers:
        differs = [k for k in range(len(names)) if not equal(wrong[k], expected[k])]
        if differs and all(equal(got[k], wrong[k]) for k in range(len(names))):
            raise Mistake(diagnosis)
    for k, name in enumerate(names):  # the first output that is wrong: one mistake may explain it alone
        if equal(got[k], expected[k]):
            continue
        for wrong, diagnosis in wrong_answers:
            if not equal(wrong[k], expected[k]) and equal(got[k], wrong[k]):
                raise Mistake(f"{name} is wrong (the others up to it are right). {diagnosis}")
        expect_close(name, got[k], expected[k], atol=ATOL, hint=hints[name], where=where[name])


def _check_case(function, case, seed, signature, names, variant, mistakes, hints, error_hint):
    """Call the learner's function on one case and judge it: autograd, the named mistakes, finite differences.

    ``hints``: (shapes, hint, where) for the outputs, as ``_judge`` takes them; ``variant(*args, mistake=m)``
    computes the answer with mistake ``m``; ``case["loss"]`` is the loss of a dict of perturbed values.
    """
    args = case["args"]
    try:
        got = call(function, *args.values())
    except Mistake as mistake:
        raise Mistake(with_hint(mistake, signature, error_hint)) from None
    got = _as_outputs(got, names)
    shapes, hint, where = hints
    wrong = [(variant(*args.values(), mistake=m), text) for m, text in mistakes.items()]
    _judge(got, case["expected"], names, wrong, shapes, dict.fromkeys(names, hint), where)
    values = dict(zip(("x", "h_prev", "c_prev"), case["inputs"]), w_ih=args["w_ih"], w_hh=args["w_hh"], b=case["weights"]["b_ih"])
    _finite_difference_agree(lambda v: case["loss"](v, args, case["weights"]), values, got, seed)


def _finite_difference_agree(loss, values, got, seed):
    errors = _finite_difference_errors(loss, values, got, seed)
    worst = max(errors, key=errors.get)
    if errors[worst] > FD_TOLERANCE:
        raise Mistake(f"Your gradients equal autograd's, but the gradient of {worst} disagrees with finite differences "
                      f"(relative error {errors[worst]:.1e}). Return float64 arrays computed from the arguments.")


# --------------------------------------------------------------------------------------------- exercise 1: one step

STEP_SIGNATURE = "lstm_step_backward(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)"
STEP_NAMES = ("dx", "dh_prev", "dc_prev", "dw_ih", "dw_hh", "db")
STEP_CASES = ((1, 2, 3), (3, 4, 2), (2, 5, 4))  # (batch, input_size, hidden_size): no two sizes coincide
STEP_HINT = ("Undo the forward line by line: h = o * tanh(c), then c = f * c_prev + i * g, then the activations, "
             "then z = x @ w_ih.T + h_prev @ w_hh.T + b.")


def step_backward_variant(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh, mistake=None):
    """The step backward, right (``mistake=None``) or with one typical mistake: the six gradients."""
    i, f, g, o, c, h = step
    tanh_slope = 1 - np.tanh(c) ** 2
    through_h = {"no path through h": 0, "1 - c**2": dh * o * (1 - c**2), "tanh slope sign": -dh * o * tanh_slope}
    dc_total = dc + through_h.get(mistake, dh * o * tanh_slope)
    c_before = c if mistake == "c instead of c_prev" else c_prev
    di, df, dg, do = dc_total * g, dc_total * c_before, dc_total * i, dh * np.tanh(c)
    blocks = [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)]
    if mistake == "no sigmoid slope":
        blocks = [di, df, blocks[2], do]
    orders = {"order f, i, g, o": (1, 0, 2, 3), "order i, f, o, g": (0, 1, 3, 2), "order f, i, o, g": (1, 0, 3, 2)}
    dz = np.concatenate([blocks[k] for k in orders.get(mistake, (0, 1, 2, 3))], axis=1)
    dc_prev = {"dc_prev without f": dc_total, "dc_prev from dc alone": dc * f}.get(mistake, dc_total * f)
    h_used = h if mistake == "h instead of h_prev" else h_prev
    grads = [dz @ w_ih, dz @ w_hh, dc_prev, dz.T @ x, dz.T @ h_used, dz.sum(axis=0)]
    if mistake == "sign":
        grads = [-grad for grad in grads]
    if mistake == "mean over the batch":
        grads[3:] = [grad / x.shape[0] for grad in grads[3:]]
    return grads


STEP_MISTAKES = {
    "no path through h": "You left out the path from c_t through h_t. c_t reaches the loss directly (dc) and through "
    "h_t = o * tanh(c_t), whose slope is tanh'(c_t): add dh * o * (1 - tanh(c)**2) to dc before you use it.",
    "1 - c**2": "You used 1 - c**2 for the slope of tanh(c): it is 1 - tanh(c)**2.",
    "tanh slope sign": "Wrong sign in the path through h: tanh'(c) = 1 - tanh(c)**2, not tanh(c)**2 - 1.",
    "c instead of c_prev": "The forget gate multiplies c_prev: c = f * c_prev + i * g, so df = dc * c_prev, not dc * c.",
    "no sigmoid slope": "You left out the sigmoid's slope: i, f and o are sigmoids, so multiply di, df, do by "
    "i * (1 - i), f * (1 - f), o * (1 - o) to reach the pre-activations.",
    "order f, i, g, o": "Gate order: the rows of w_ih and of dz are i, f, g, o in PyTorch; you put f before i.",
    "order i, f, o, g": "Gate order: the rows of w_ih and of dz are i, f, g, o in PyTorch; you put o before g.",
    "order f, i, o, g": "Gate order: the rows of w_ih and of dz are i, f, g, o in PyTorch; you used f, i, o, g, the order of many diagrams.",
    "dc_prev without f": "dc_prev misses the factor f: c = f * c_prev + i * g, so dc_prev = dc * f (with dc the total).",
    "dc_prev from dc alone": "dc_prev should use the total dL/dc_t: the dc that arrived plus the path through h_t, then times f.",
    "h instead of h_prev": "dw_hh multiplies the state this step was given: z = ... + h_prev @ w_hh.T, so dw_hh = dz.T @ h_prev, not h.",
    "sign": "Wrong sign: these are gradients of the loss, and every step of the chain rule multiplies; nothing is negated.",
    "mean over the batch": "You averaged over the batch. The loss decides any averaging and dh, dc already include it: sum the batch rows.",
}


def _step_shapes(args):
    x, h, w_ih = args["x"], args["h_prev"], args["w_ih"]
    return {
        "dx": f"dx is shaped like x {x.shape}: dz @ w_ih.",
        "dh_prev": f"dh_prev is shaped like h_prev {h.shape}: dz @ w_hh.",
        "dc_prev": f"dc_prev is shaped like c_prev {h.shape}: elementwise.",
        "dw_ih": f"dw_ih is shaped like w_ih {w_ih.shape}: dz.T @ x.",
        "dw_hh": f"dw_hh is shaped like w_hh {args['w_hh'].shape}: dz.T @ h_prev.",
        "db": f"db is shaped like b_ih ({w_ih.shape[0]},): sum dz over the batch rows.",
    }


def _step_where(hidden_size):
    rows = _rows(hidden_size)
    return {"dx": _batch_rows, "dh_prev": _batch_rows, "dc_prev": _batch_rows, "dw_ih": rows, "dw_hh": rows, "db": rows}


@check("The backward of one LSTM step")
def check_lstm_step_backward(lstm_step_backward):
    """``lstm_step_backward(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh) -> (dx, dh_prev, dc_prev, dw_ih, dw_hh, db)``."""
    for seed, sizes in enumerate(STEP_CASES):
        case = step_case(*sizes, seed)
        args = case["args"]
        error_hint = (f"dz is (batch, 4 * hidden_size) = ({args['x'].shape[0]}, {args['w_ih'].shape[0]}), w_ih is "
                      f"{args['w_ih'].shape}; each gradient has the shape of its array.")
        hints = (_step_shapes(args), STEP_HINT, _step_where(sizes[2]))
        _check_case(lstm_step_backward, case, seed, STEP_SIGNATURE, STEP_NAMES, step_backward_variant, STEP_MISTAKES, hints, error_hint)
    return ("All six gradients equal autograd's through nn.LSTMCell (float64) and agree with centred finite differences, "
            "on 3 random steps of sizes the notebook does not use.")


# --------------------------------------------------------------------------------------------- exercise 2: through time

BPTT_SIGNATURE = "lstm_backward(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh)"
BPTT_NAMES = ("dx", "dh_0", "dc_0", "dw_ih", "dw_hh", "db")
BPTT_CASES = ((2, 4, 3, 2), (1, 7, 2, 3), (3, 3, 1, 4))  # (batch, seq, input_size, hidden_size)
BPTT_HINT = ("Walk t from seq - 1 down to 0; give each step dh (from the next step) + d_output[:, t] and dc from "
             "the next step; add every step's weight gradients.")


def lstm_backward_variant(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh, mistake=None):
    """BPTT over the check's step backward, right (``mistake=None``) or with one typical mistake."""
    batch, seq, _ = x.shape
    h_prev = np.concatenate([h_0[:, None], gates["h"][:, :-1]], axis=1)
    c_prev = np.concatenate([c_0[:, None], gates["c"][:, :-1]], axis=1)
    if mistake == "h_t for h_prev":
        h_prev, c_prev = gates["h"], gates["c"]
    dh = np.zeros_like(h_0) if mistake == "d_h_n ignored" else d_h_n
    dc = np.zeros_like(c_0) if mistake == "d_c_n ignored" else d_c_n
    if mistake == "output only at the last step":
        dh = dh + d_output[:, -1]
    dx, dw = np.zeros(x.shape), [np.zeros(w_ih.shape), np.zeros(w_hh.shape), np.zeros(w_ih.shape[0])]
    order = range(seq) if mistake == "forward in time" else reversed(range(seq))
    for t in order:
        dh_in = {"no output gradient": dh, "output only at the last step": dh, "dh not carried": d_output[:, t] + (
            d_h_n if t == seq - 1 else 0)}.get(mistake, dh + d_output[:, t])
        dc_in = {"dc not carried": d_c_n, "dc zero": d_c_n if t == seq - 1 else np.zeros_like(c_0)}.get(mistake, dc)
        step = GateValues(*(gates[name][:, t] for name in GateValues._fields))
        dx[:, t], dh, dc, *step_dw = step_backward_variant(dh_in, dc_in, x[:, t], h_prev[:, t], c_prev[:, t], step, w_ih, w_hh)
        if mistake == "first step only" and t != 0 or mistake == "last step only" and t != seq - 1:
            continue
        dw = [a + b for a, b in zip(dw, step_dw)]
    grads = [dx, dh, dc, *dw]
    if mistake == "sign":
        grads = [-grad for grad in grads]
    if mistake == "mean over time":
        grads[3:] = [grad / seq for grad in grads[3:]]
    return grads


BPTT_MISTAKES = {
    "last step only": "The weight gradients hold the last step's share only. The same w_ih, w_hh, b act at every "
    "step: add each step's dw_ih, dw_hh, db (`+=`), over all steps.",
    "first step only": "The weight gradients hold step 0's share only (the last one your loop saw): the same weights "
    "act at every step, so add each step's dw_ih, dw_hh, db (`+=`) instead of replacing them.",
    "dc not carried": "You did not carry dc back: every step got the same d_c_n. After each step, the dc_prev it "
    "returned is the dc of the step before.",
    "dc zero": "You did not carry dc back: the steps before the last got dc = 0. The dc_prev a step returns is the "
    "dc of the step before; the cell state is the path the gradient survives on.",
    "no output gradient": "You left out d_output: h_t is also this step's output, so each step's dh is the dh from the "
    "next step plus d_output[:, t].",
    "output only at the last step": "You added d_output at the last step only: every step's h_t is an output, so add "
    "d_output[:, t] at every step t.",
    "dh not carried": "You did not carry dh back: each step's dh is d_output[:, t] plus the dh_prev that step t + 1 returned.",
    "d_h_n ignored": "You left out d_h_n: the last step's h is h_n, so its dh starts at d_h_n (plus d_output[:, -1]).",
    "d_c_n ignored": "You left out d_c_n: the last step's c is c_n, so dc starts at d_c_n.",
    "h_t for h_prev": "Off by one step: step t was given h_{t-1} and c_{t-1} (h_0 and c_0 at t = 0), not gates['h'][:, t] "
    "and gates['c'][:, t], which it computed.",
    "forward in time": "Walk backwards, from t = seq - 1 down to 0: the gradient flows from the last step to the first.",
    "sign": "Wrong sign: every gradient enters with a plus; nothing is negated.",
    "mean over time": "You averaged over time. The same weights act at every step and each step adds its share: sum, don't divide by seq.",
}


def _bptt_shapes(args):
    x, h = args["x"], args["h_0"]
    return {
        "dx": f"dx is shaped like x {x.shape}: step t's dx goes to dx[:, t].",
        "dh_0": f"dh_0 is shaped like h_0 {h.shape}: the dh_prev of step 0.",
        "dc_0": f"dc_0 is shaped like c_0 {h.shape}: the dc_prev of step 0.",
        "dw_ih": f"dw_ih is shaped like w_ih {args['w_ih'].shape}, summed over the steps.",
        "dw_hh": f"dw_hh is shaped like w_hh {args['w_hh'].shape}, summed over the steps.",
        "db": f"db is shaped like b_ih ({args['w_ih'].shape[0]},), summed over the steps.",
    }


def _bptt_where(hidden_size):
    rows = _rows(hidden_size)

    def in_time(index):
        return f"at batch row {index[0]}, time step {index[1]}, column {index[2]}"

    return {"dx": in_time, "dh_0": _batch_rows, "dc_0": _batch_rows, "dw_ih": rows, "dw_hh": rows, "db": rows}


@check("Backpropagation through time")
def check_lstm_backward(lstm_backward):
    """``lstm_backward(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh) -> (dx, dh_0, dc_0, dw_ih, dw_hh, db)``."""
    for seed, sizes in enumerate(BPTT_CASES):
        case = sequence_case(*sizes, seed)
        args = case["args"]
        error_hint = (f"x[:, t] is (batch, input_size) = {args['x'][:, 0].shape}, gates[name][:, t] is (batch, hidden_size) = "
                      f"{args['h_0'].shape}; each gradient has the shape of its array.")
        hints = (_bptt_shapes(args), BPTT_HINT, _bptt_where(sizes[3]))
        _check_case(lstm_backward, case, seed, BPTT_SIGNATURE, BPTT_NAMES, lstm_backward_variant, BPTT_MISTAKES, hints, error_hint)
    return ("All six gradients equal autograd's through nn.LSTM (float64) and agree with centred finite differences, "
            "on 3 random sequences of lengths 3 to 7 the notebook does not use.")


# --------------------------------------------------------------------------------------------- exercise 3: clipping

CLIP_SIGNATURE = "clip_by_norm(grads, max_norm)"
CLIP_HINT = "The total norm is sqrt(sum of every element squared, over all the arrays); above max_norm, multiply every array by max_norm / total."


def _total_norm(arrays):
    return np.sqrt(sum(np.sum(a**2) for a in arrays))


def clip_cases():
    """(grads, max_norm) pairs: above the bar, below it, one array alone; sizes the notebook does not use."""
    rng = np.random.default_rng(60)
    grads = [rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=(2, 2))]  # total norm about 5
    small = [0.1 * g for g in grads]
    return [(grads, 2.0), (small, 2.0), ([3.0 * grads[0]], 1.5), (grads, 0.25)]


def clip_wrong_answers(grads, max_norm):
    total = _total_norm(grads)
    return [
        ([g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads], "You clipped each array by its own norm. Clip "
         "them together: one total norm over all the arrays, and the same factor for every array, so the direction is kept."),
        ([g * max_norm / total for g in grads], "You scaled even when the total norm was below max_norm: a gradient "
         "that is already small enough comes back unchanged."),
        ([np.clip(g, -max_norm, max_norm) for g in grads], "That is clipping by value, element by element, which turns "
         "the gradient's direction. Clip by norm: one factor max_norm / total for all the arrays."),
        ([g * (total / max_norm if total > max_norm else 1.0) for g in grads], "Your factor is upside down: multiply by "
         "max_norm / total, which is below 1 when the total is too large."),
        ([g * (max_norm / s if (s := sum(np.linalg.norm(a) for a in grads)) > max_norm else 1.0) for g in grads],
         "You added the arrays' norms. The total norm is sqrt of the sum of every element squared, over all the arrays "
         "(the norm of all of them laid end to end)."),
        ([g * (max_norm / s if (s := sum(np.sum(a**2) for a in grads)) > max_norm else 1.0) for g in grads],
         "You forgot the square root: the total norm is sqrt(sum of squares), not the sum of squares."),
        ([g * (max_norm / s if (s := sum(np.abs(a).sum() for a in grads)) > max_norm else 1.0) for g in grads],
         "You summed absolute values (an L1 norm). The total norm is sqrt(sum of every element squared)."),
        ([g * (1.0 if total > max_norm else max_norm / total) for g in grads], "Your condition is reversed: scale down "
         "only when the total norm is above max_norm."),
    ]


@check("Gradient clipping by norm")
def check_clip_by_norm(clip_by_norm):
    """``clip_by_norm(grads, max_norm) -> list of arrays`` shaped like ``grads``."""
    for grads, max_norm in clip_cases():
        total = _total_norm(grads)
        expected = [g * (max_norm / total if total > max_norm else 1.0) for g in grads]
        try:
            got = call(clip_by_norm, [g.copy() for g in grads], max_norm)
        except Mistake as mistake:
            raise Mistake(with_hint(mistake, CLIP_SIGNATURE, "Return a list with one array per array of grads, each of its shape.")) from None
        names = tuple(f"array {k}" for k in range(len(grads)))
        if not isinstance(got, (tuple, list)) or len(got) != len(grads):
            raise Mistake(f"Return a list of {len(grads)} arrays, one per array of grads, scaled; got {type(got).__name__}"
                          + (f" of {len(got)} items." if isinstance(got, (tuple, list)) else "."))
        got = [as_array(name, g) for name, g in zip(names, got)]
        shapes = {name: f"Each array keeps its shape, {g.shape}: multiply it by one number." for name, g in zip(names, grads)}
        where = dict.fromkeys(names, None)
        hints = dict.fromkeys(names, f"Here the total norm is {total:.3g} and max_norm {max_norm:g}. {CLIP_HINT}")
        _judge(got, expected, names, clip_wrong_answers(grads, max_norm), shapes, hints, where)
    return "One total norm over all the arrays, one factor for all of them, and only above max_norm: right on 4 cases."

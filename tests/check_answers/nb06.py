"""Notebook 06, backpropagation through time: the answers its three checks are tried with."""

import functools

import numpy as np
import torch

from lstm_course import numpy_lstm
from lstm_course.checks import backprop
from lstm_course.checks.backprop import check_clip_by_norm, check_lstm_backward, check_lstm_step_backward
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

step_solution, bptt_solution, clip_solution = notebook_definitions(  # the notebook's solutions
    "06_backprop_through_time", "lstm_step_backward", "lstm_backward", "clip_by_norm"
)

# ----------------------------------------------------------------------------- exercise 1: the backward of one step


def step_answer(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh, mistake=None):
    """A learner's step backward, unpacking the cache: right, or with the named mistake."""
    i, f, g, o, c, h = step
    slope = {"no path through h": 0, "1 - c**2": 1 - c**2, "tanh slope sign": np.tanh(c) ** 2 - 1}.get(mistake, 1 - np.tanh(c) ** 2)
    dc_t = dc + dh * o * slope
    df = dc_t * (c if mistake == "c instead of c_prev" else c_prev)
    dz_i, dz_f, dz_o = (dc_t * g, df, dh * np.tanh(c)) if mistake == "no sigmoid slope" else (dc_t * g * i * (1 - i), df * f * (1 - f), dh * np.tanh(c) * o * (1 - o))
    dz_g = dc_t * i * ((1 - g) if mistake == "g slope" else (1 - g**2))
    blocks = {"i": dz_i, "f": dz_f, "g": dz_g, "o": dz_o}
    dz = np.hstack([blocks[gate] for gate in (mistake if mistake in ("figo", "fiog") else "ifgo")])  # a mistake may be an order
    dc_prev = {"no f": dc_t, "dc alone": dc * f}.get(mistake, dc_t * f)
    return dz @ w_ih, dz @ w_hh, dc_prev, dz.T @ x, dz.T @ (h if mistake == "h" else h_prev), dz.sum(axis=0)


def step_written_otherwise(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh):
    """Einsum, slices of one dz array, tanh(c) from h / o."""
    hidden = h_prev.shape[1]
    tanh_c = step.h / step.o  # h = o * tanh(c)
    dc_t = dc + dh * step.o * (1 - tanh_c * tanh_c)
    dz = np.empty((x.shape[0], 4 * hidden))
    dz[:, :hidden] = dc_t * step.g * step.i * (1 - step.i)
    dz[:, hidden : 2 * hidden] = dc_t * c_prev * step.f * (1 - step.f)
    dz[:, 2 * hidden : 3 * hidden] = dc_t * step.i * (1 - step.g**2)
    dz[:, 3 * hidden :] = dh * tanh_c * step.o * (1 - step.o)
    return (np.einsum("bk,ki->bi", dz, w_ih), np.einsum("bk,kh->bh", dz, w_hh), step.f * dc_t,
            np.einsum("bk,bi->ki", dz, x), np.einsum("bk,bh->kh", dz, h_prev), np.einsum("bk->k", dz))


def with_mistake(answer, mistake):
    return lambda *args: answer(*args, mistake=mistake)


def replaced(answer, index, change):
    """``answer`` with its output ``index`` changed by ``change(output, *args)``."""

    def wrong(*args):
        grads = list(answer(*args))
        grads[index] = change(grads[index], *args)
        return tuple(grads)

    return wrong


def step_in_place(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh):
    grads = step_solution(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)
    step.c[...] = 0.0  # spoils the cache for the steps before
    return grads


def step_row_by_row(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh):
    dx = np.zeros_like(x)
    for b in range(x.shape[0] + 1):  # one row too many
        dx[b] = step_solution(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)[0][b]
    return (dx, *step_solution(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)[1:])


def step_shapes_mixed_up(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh):
    return (x @ w_ih,) * 6


def step_by_autograd(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh):
    """Autograd through nn.LSTMCell, its bias recovered from the cache's gates: the right numbers, by PyTorch's backward."""
    logit = lambda s: np.log(s / (1 - s))  # noqa: E731
    z = np.concatenate([logit(step.i), logit(step.f), np.arctanh(step.g), logit(step.o)], axis=1)
    cell = torch.nn.LSTMCell(x.shape[1], h_prev.shape[1], dtype=torch.float64)
    with torch.no_grad():
        for parameter, value in zip(cell.parameters(), (w_ih, w_hh, (z - x @ w_ih.T - h_prev @ w_hh.T)[0], 0 * w_ih[:, 0])):
            parameter.copy_(torch.tensor(value))
    inputs = [torch.tensor(a, requires_grad=True) for a in (x, h_prev, c_prev)]
    h, c = cell(inputs[0], (inputs[1], inputs[2]))
    loss = (torch.tensor(dh) * h).sum() + (torch.tensor(dc) * c).sum()
    return tuple(g.numpy() for g in torch.autograd.grad(loss, [*inputs, cell.weight_ih, cell.weight_hh, cell.bias_ih]))


def step_through_the_course_s_bptt(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh):
    gates = {name: value[:, None] for name, value in step._asdict().items()}
    return numpy_lstm.lstm_backward(dh[:, None] * 0, dh, dc, x[:, None], h_prev, c_prev, gates, w_ih, w_hh)


# ----------------------------------------------------------------------------- exercise 2: through time


def bptt_answer(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh, mistake=None):
    """A learner's BPTT loop over the package's step backward: right, or with the named mistake."""
    seq = x.shape[1]
    dx = np.zeros_like(x)
    dw_ih, dw_hh, db = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros(w_ih.shape[0])
    dh, dc = d_h_n, d_c_n
    for t in range(seq) if mistake == "forward" else reversed(range(seq)):
        h_prev = gates["h"][:, t] if mistake == "h_t" else h_0 if t == 0 else gates["h"][:, t - 1]
        c_prev = gates["c"][:, t] if mistake in ("h_t", "c_t") else c_0 if t == 0 else gates["c"][:, t - 1]
        step = numpy_lstm.GateValues(*(gates[name][:, t] for name in "ifgoch"))
        dh_in = {"no output": dh, "dh not carried": d_output[:, t] + (d_h_n if t == seq - 1 else 0)}.get(mistake, dh + d_output[:, t])
        dc_in = {"dc not carried": d_c_n, "dc zero": d_c_n if t == seq - 1 else 0 * dc}.get(mistake, dc)
        dx[:, t], dh, dc, dw_ih_t, dw_hh_t, db_t = numpy_lstm.lstm_step_backward(dh_in, dc_in, x[:, t], h_prev, c_prev, step, w_ih, w_hh)
        if mistake == "replace" or mistake == "last only" and t == seq - 1:
            dw_ih, dw_hh, db = dw_ih_t, dw_hh_t, db_t
        elif mistake != "last only":
            dw_ih, dw_hh, db = dw_ih + dw_ih_t, dw_hh + dw_hh_t, db + db_t
    return dx, dh, dc, dw_ih, dw_hh, db


def bptt_written_otherwise(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh):
    """Lists of per-step gradients, summed at the end."""
    states_h = [h_0] + [gates["h"][:, t] for t in range(x.shape[1])]
    states_c = [c_0] + [gates["c"][:, t] for t in range(x.shape[1])]
    dh, dc, shares, dxs = d_h_n + 0, d_c_n + 0, [], []
    for t in range(x.shape[1] - 1, -1, -1):
        step = numpy_lstm.GateValues(gates["i"][:, t], gates["f"][:, t], gates["g"][:, t], gates["o"][:, t], gates["c"][:, t], gates["h"][:, t])
        dxt, dh, dc, *share = numpy_lstm.lstm_step_backward(d_output[:, t] + dh, dc, x[:, t], states_h[t], states_c[t], step, w_ih, w_hh)
        dxs.insert(0, dxt)
        shares.append(share)
    return (np.stack(dxs, axis=1), dh, dc, *(sum(parts) for parts in zip(*shares)))


def bptt_with_own_step(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh):
    """The loop over the learner's own step backward (exercise 1's solution) instead of the package's."""
    dx, dws, dh, dc = np.zeros_like(x), [0, 0, 0], d_h_n, d_c_n
    for t in reversed(range(x.shape[1])):
        step = numpy_lstm.GateValues(*(gates[name][:, t] for name in "ifgoch"))
        prev = (h_0, c_0) if t == 0 else (gates["h"][:, t - 1], gates["c"][:, t - 1])
        dx[:, t], dh, dc, *share = step_solution(dh + d_output[:, t], dc, x[:, t], *prev, step, w_ih, w_hh)
        dws = [a + b for a, b in zip(dws, share)]
    return (dx, dh, dc, *dws)


def bptt_shapes_mixed_up(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh):
    return (gates["h"] @ w_ih,) * 6


def bptt_in_place(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh):
    gates["f"] *= 0.5
    return bptt_solution(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh)


# ----------------------------------------------------------------------------- exercise 3: clipping


def clip_written_otherwise(grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    return [g * min(1.0, max_norm / total) for g in grads]


def clip_as_pytorch_does(grads, max_norm):
    """PyTorch's own formula: max_norm / (total + 1e-6), clamped at 1."""
    total = np.sqrt(sum(np.sum(g * g) for g in grads))
    return [g * min(max_norm / (total + 1e-6), 1.0) for g in grads]


def clip_with_clip_grad_norm(grads, max_norm):
    """torch.nn.utils.clip_grad_norm_ on tensors made from the arrays."""
    parameters = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for parameter, g in zip(parameters, grads):
        parameter.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_(parameters, max_norm)
    return [parameter.grad.numpy() for parameter in parameters]


def clip_with_factor(factor):
    """A clip that multiplies every array by ``factor(total, max_norm)``, total the norm of all the arrays laid end to end."""

    def answer(grads, max_norm):
        total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
        return [g * factor(total, max_norm) for g in grads]

    return answer


def clip_by_the_largest_element(grads, max_norm):
    largest = max(np.abs(grad).max() for grad in grads)
    return [grad * (max_norm / largest if largest > max_norm else 1.0) for grad in grads]


def clip_in_place(grads, max_norm):
    total = np.sqrt(sum((g**2).sum() for g in grads))
    for g in grads:
        g *= min(1.0, max_norm / total)
    return grads


ANSWERS = [
    Answers(
        check=check_lstm_step_backward,
        solution=step_solution,
        others=[step_answer, step_written_otherwise],
        wrong=[
            (with_mistake(step_answer, "no path through h"), "left out the path from c_t through h_t"),
            (with_mistake(step_answer, "1 - c**2"), "You used 1 - c**2"),
            (with_mistake(step_answer, "tanh slope sign"), "Wrong sign in the path through h"),
            (with_mistake(step_answer, "no f"), "dc_prev misses the factor f"),
            (with_mistake(step_answer, "dc alone"), "dc_prev should use the total"),
            (with_mistake(step_answer, "c instead of c_prev"), "not dc * c."),
            (with_mistake(step_answer, "no sigmoid slope"), "left out the sigmoid's slope"),
            (with_mistake(step_answer, "figo"), "in the order f, i, g, o, the order of many diagrams"),
            (with_mistake(step_answer, "fiog"), "in the order f, i, o, g."),
            (with_mistake(step_answer, "h"), "dw_hh = dz.T @ h_prev, not h"),
            (with_mistake(step_answer, "g slope"), "only the block of the candidate g in dz were wrong"),
            (lambda *a: tuple(-g for g in step_answer(*a)), "every step of the chain rule multiplies"),
            (lambda *a: (*step_answer(*a)[:3], *(g / a[2].shape[0] for g in step_answer(*a)[3:])), "You averaged over the batch"),
            (replaced(step_answer, 5, lambda db, dh, *a: db / dh.shape[0]), "You averaged over the batch"),
            (replaced(step_answer, 3, lambda dw, *a: dw.T), "`dw_ih` should have shape"),
            (replaced(step_answer, 5, lambda db, *a: db[None] * np.ones((2, 1))), "`db` should have shape"),
            (replaced(step_answer, 0, lambda dx, *a: dx * 1.001), "Undo the forward line by line"),
            (replaced(step_answer, 1, lambda dh_prev, *a: dh_prev * np.nan), "`dh_prev` holds NaN"),
            (replaced(step_answer, 4, lambda dw, *a: torch.tensor(dw)), "`dw_hh` should be a NumPy array, got a torch tensor"),
            (lambda *a: dict(zip("abcdef", step_answer(*a))), "got dict"),
            (lambda *a: step_answer(*a)[:5], "got a tuple of 5 items"),
            (step_shapes_mixed_up, "dz is (batch, 4 * hidden_size)"),
            (step_row_by_row, "An index went past the end"),
            (lambda dh, dc, x, step, w_ih, w_hh: None, "Keep the signature `lstm_step_backward("),
            (lambda *a: None, "returned None"),
            (step_in_place, "changed its argument `step` in place"),
        ],
        course=[numpy_lstm.lstm_step_backward, step_through_the_course_s_bptt, step_by_autograd],
    ),
    Answers(
        check=check_lstm_backward,
        solution=bptt_solution,
        others=[bptt_written_otherwise, bptt_with_own_step],
        wrong=[
            (with_mistake(bptt_answer, "replace"), "step 0's share only"),
            (with_mistake(bptt_answer, "last only"), "the last step's share only"),
            (with_mistake(bptt_answer, "dc not carried"), "every step got the same d_c_n"),
            (with_mistake(bptt_answer, "dc zero"), "the steps before the last got dc = 0"),
            (with_mistake(bptt_answer, "no output"), "You left out d_output"),
            (with_mistake(bptt_answer, "dh not carried"), "You did not carry dh back"),
            (with_mistake(bptt_answer, "h_t"), "Off by one step: step t was given h_{t-1} and c_{t-1}"),
            (with_mistake(bptt_answer, "c_t"), "Off by one step for c"),
            (with_mistake(bptt_answer, "forward"), "Walk backwards"),
            (lambda *a: tuple(-g for g in bptt_answer(*a)), "every gradient enters with a plus"),
            (replaced(bptt_answer, 4, lambda dw, d_output, *a: dw / d_output.shape[1]), "You averaged over time"),
            (lambda d_output, d_h_n, *a: bptt_answer(d_output, 0 * d_h_n, *a), "You left out d_h_n"),
            (lambda d_output, d_h_n, d_c_n, *a: bptt_answer(d_output, d_h_n, 0 * d_c_n, *a), "You left out d_c_n"),
            (replaced(bptt_answer, 0, lambda dx, *a: dx[:, ::-1]), "Walk t from seq - 1 down to 0"),
            (replaced(bptt_answer, 1, lambda dh, *a: dh[None]), "`dh_0` should have shape"),
            (replaced(bptt_answer, 2, lambda dc, *a: dc + np.inf), "`dc_0` holds inf"),
            (replaced(bptt_answer, 3, lambda dw, *a: torch.tensor(dw)), "`dw_ih` should be a NumPy array, got a torch tensor"),
            (bptt_shapes_mixed_up, "gates[name][:, t] is (batch, hidden_size)"),
            (lambda d_output, x, h_0, c_0, gates, w_ih, w_hh: None, "Keep the signature `lstm_backward("),
            (bptt_in_place, "changed its argument `gates` in place"),
        ],
        course=[numpy_lstm.lstm_backward, functools.partial(numpy_lstm.lstm_backward), backprop.lstm_backward_variant],
    ),
    Answers(
        check=check_clip_by_norm,
        solution=clip_solution,
        others=[clip_written_otherwise, clip_as_pytorch_does, clip_with_clip_grad_norm],
        wrong=[
            (clip_with_factor(lambda total, m: 1.0), "came back unchanged"),
            (clip_with_factor(lambda total, m: 1.0 if total > m else m / total), "condition is reversed"),
            (lambda grads, m: [g * min(1.0, m / np.linalg.norm(g)) for g in grads], "each array by its own norm"),
            (clip_with_factor(lambda total, m: m / total), "You scaled even below max_norm"),
            (lambda grads, m: [np.clip(g, -m, m) for g in grads], "clipping by value"),
            (clip_with_factor(lambda total, m: max(1.0, total / m)), "upside down"),
            (lambda grads, m: [g * min(1.0, m / sum(np.linalg.norm(a) for a in grads)) for g in grads], "added the arrays' norms"),
            (clip_with_factor(lambda total, m: min(1.0, m / total**2)), "forgot the square root"),
            (lambda grads, m: [g * min(1.0, m / sum(np.abs(a).sum() for a in grads)) for g in grads], "an L1 norm"),
            (lambda grads, m: clip_solution(grads, m)[:-1], "got a list of 2 items"),
            (lambda grads, m: [g.sum() for g in clip_solution(grads, m)], "multiplied by one number"),
            (clip_with_factor(lambda total, m: 0.9 * min(1.0, m / total)), "The total norm is sqrt(sum of every element squared, over all the arrays)"),
            (lambda grads, m: [g * np.inf for g in grads], "holds inf"),
            (lambda grads, m: [torch.tensor(g) for g in clip_solution(grads, m)], "got a torch tensor"),
            (clip_in_place, "changed its argument `grads` in place"),
            (clip_by_the_largest_element, "You measured the largest element"),
            (lambda grads, max_norm: [grad * min(1.0, max_norm / np.linalg.norm(grads)) for grad in grads], "np.linalg.norm(grads) cannot stack them"),
        ],
        course=[numpy_lstm.clip_by_norm, lambda grads, max_norm: numpy_lstm.clip_by_norm(grads, max_norm), backprop.clipped],
    ),
]

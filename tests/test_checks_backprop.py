"""The checks of notebook 06: the stub is not attempted, each typical mistake gets its own diagnosis, right answers pass."""

import numpy as np
import pytest

from lstm_course import numpy_lstm
from lstm_course.checks import check_clip_by_norm, check_lstm_backward, check_lstm_step_backward
from lstm_course.checks.backprop import sequence_case, step_case


def stub(*args):
    raise NotImplementedError()


def _failed_with(result, words):
    assert not result and result.status == "failed", result
    for word in words:
        assert word in result.message, (word, result.message)
    assert result.message.endswith((".", "?", "!")) and not result.message.endswith(("..", ".?", ".!")), result.message


# ----------------------------------------------------------------------------- one step


def step_answer(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh, mistake=None):
    """A learner's step backward: right, or with the named mistake."""
    i, f, g, o, c, h = step
    do = dh * np.tanh(c)
    if mistake == "no path through h":
        dc_t = dc
    elif mistake == "1 - c**2":
        dc_t = dc + dh * o * (1 - c**2)
    else:
        dc_t = dc + dh * o * (1 - np.tanh(c) ** 2)
    di, df, dg = dc_t * g, dc_t * c_prev, dc_t * i
    dz_i, dz_f, dz_g, dz_o = di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)
    if mistake == "gate order":
        dz = np.hstack([dz_f, dz_i, dz_g, dz_o])
    elif mistake == "diagram order":
        dz = np.hstack([dz_f, dz_i, dz_o, dz_g])
    else:
        dz = np.hstack([dz_i, dz_f, dz_g, dz_o])
    dc_prev = dc_t if mistake == "no f" else dc_t * f
    dw_hh = dz.T @ (h if mistake == "h" else h_prev)
    return dz @ w_ih, dz @ w_hh, dc_prev, dz.T @ x, dw_hh, dz.sum(axis=0)


def step_written_otherwise(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh):
    """A right answer in another form: einsum, slices of one dz array, tanh'(c) from h / o."""
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


def _replace(answer, index, change):
    def wrong(*args):
        grads = list(answer(*args))
        grads[index] = change(grads[index], *args)
        return tuple(grads)

    return wrong


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda *a: step_answer(*a, mistake="no path through h"), ["left out the path from c_t through h_t", "tanh'"]),
        (lambda *a: step_answer(*a, mistake="1 - c**2"), ["1 - c**2", "1 - tanh(c)**2"]),
        (lambda *a: step_answer(*a, mistake="no f"), ["dc_prev misses the factor f"]),
        (lambda *a: step_answer(*a, mistake="gate order"), ["Gate order", "f before i"]),
        (lambda *a: step_answer(*a, mistake="diagram order"), ["Gate order", "f, i, o, g"]),
        (lambda *a: step_answer(*a, mistake="h"), ["dw_hh multiplies the state this step was given", "h_prev"]),
        (lambda *a: tuple(-g for g in step_answer(*a)), ["Wrong sign"]),
        (_replace(step_answer, 5, lambda db, dh, *a: db / dh.shape[0]), ["db is wrong", "sum the batch rows"]),
        (_replace(step_answer, 3, lambda dw, *a: dw.T), ["dw_ih should have shape", "dz.T @ x"]),
        (_replace(step_answer, 5, lambda db, *a: db[None] * np.ones((2, 1))), ["db should have shape", "sum dz over the batch"]),
        (_replace(step_answer, 0, lambda dx, *a: dx * 1.001), ["dx at batch row 0", "expected", "Undo the forward"]),
        (lambda *a: dict(zip("abcdef", step_answer(*a))), ["one tuple", "got a dict"]),
        (lambda *a: step_answer(*a)[:5], ["one tuple", "5 items"]),
        (lambda dh, dc, x, h_prev, c_prev, step, w_ih, w_hh: (x @ w_ih,) * 6, ["raised ValueError", "x: ndarray of shape", "dz is (batch, 4 * hidden_size)"]),
        (lambda dh, dc, x, step, w_ih, w_hh: None, ["Keep the signature `lstm_step_backward("]),
        (lambda *a: None, ["returned None"]),
    ],
)
def test_step_mistakes_are_named(answer, words):
    _failed_with(check_lstm_step_backward(answer), words)


def test_a_step_answer_that_writes_into_the_cache_cannot_pass_and_the_check_stays_intact():
    def in_place(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh):
        grads = step_answer(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)
        step.c[...] = 0.0  # spoils the cache for the steps before
        return grads

    _failed_with(check_lstm_step_backward(in_place), ["changed its argument `step` in place"])
    assert check_lstm_step_backward(step_answer)  # the check's own data were copies


def test_step_cases_are_sizes_the_notebook_does_not_use_and_autograd_agrees_with_the_package():
    for seed, sizes in enumerate([(1, 2, 3), (3, 4, 2), (2, 5, 4)]):
        case = step_case(*sizes, seed)
        for got, expected in zip(numpy_lstm.lstm_step_backward(*case["args"].values()), case["expected"], strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- through time


def bptt_answer(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh, mistake=None):
    """A learner's BPTT loop over the package's step backward: right, or with the named mistake."""
    seq = x.shape[1]
    dx = np.zeros_like(x)
    dw_ih, dw_hh, db = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros(w_ih.shape[0])
    dh, dc = d_h_n, d_c_n
    for t in reversed(range(seq)):
        h_prev = h_0 if t == 0 else gates["h"][:, t - 1]
        c_prev = c_0 if t == 0 else gates["c"][:, t - 1]
        step = numpy_lstm.GateValues(*(gates[name][:, t] for name in "ifgoch"))
        dh_in = dh if mistake == "no output" else dh + d_output[:, t]
        dc_in = d_c_n if mistake == "dc not carried" else dc
        dx[:, t], dh, dc, dw_ih_t, dw_hh_t, db_t = numpy_lstm.lstm_step_backward(dh_in, dc_in, x[:, t], h_prev, c_prev, step, w_ih, w_hh)
        if mistake == "replace":
            dw_ih, dw_hh, db = dw_ih_t, dw_hh_t, db_t
        else:
            dw_ih, dw_hh, db = dw_ih + dw_ih_t, dw_hh + dw_hh_t, db + db_t
    return dx, dh, dc, dw_ih, dw_hh, db


def bptt_written_otherwise(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh):
    """A right answer in another form: lists of per-step gradients, summed at the end."""
    states_h = [h_0] + [gates["h"][:, t] for t in range(x.shape[1])]
    states_c = [c_0] + [gates["c"][:, t] for t in range(x.shape[1])]
    dh, dc, shares, dxs = d_h_n + 0, d_c_n + 0, [], []
    for t in range(x.shape[1] - 1, -1, -1):
        step = numpy_lstm.GateValues(gates["i"][:, t], gates["f"][:, t], gates["g"][:, t], gates["o"][:, t], gates["c"][:, t], gates["h"][:, t])
        dxt, dh, dc, *share = numpy_lstm.lstm_step_backward(d_output[:, t] + dh, dc, x[:, t], states_h[t], states_c[t], step, w_ih, w_hh)
        dxs.insert(0, dxt)
        shares.append(share)
    return (np.stack(dxs, axis=1), dh, dc, *(sum(parts) for parts in zip(*shares)))


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda *a: bptt_answer(*a, mistake="replace"), ["step 0's share only", "+="]),
        (lambda *a: bptt_answer(*a, mistake="dc not carried"), ["did not carry dc back", "same d_c_n"]),
        (lambda *a: bptt_answer(*a, mistake="no output"), ["left out d_output", "d_output[:, t]"]),
        (lambda *a: tuple(-g for g in bptt_answer(*a)), ["Wrong sign"]),
        (_replace(bptt_answer, 4, lambda dw, d_output, *a: dw / d_output.shape[1]), ["dw_hh is wrong", "averaged over time"]),
        (lambda d_output, d_h_n, *a: bptt_answer(d_output, 0 * d_h_n, *a), ["left out d_h_n"]),
        (_replace(bptt_answer, 0, lambda dx, *a: dx[:, ::-1]), ["dx at batch row 0, time step 0", "Walk t from seq - 1"]),
        (_replace(bptt_answer, 1, lambda dh, *a: dh[None]), ["dh_0 should have shape", "dh_prev of step 0"]),
        (lambda d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh: (gates["h"] @ w_ih,) * 6, ["raised ValueError", "gates[name][:, t] is (batch, hidden_size)"]),
        (lambda d_output, x, h_0, c_0, gates, w_ih, w_hh: None, ["Keep the signature `lstm_backward("]),
    ],
)
def test_bptt_mistakes_are_named(answer, words):
    _failed_with(check_lstm_backward(answer), words)


def test_a_bptt_answer_that_writes_into_the_gates_cannot_pass():
    def in_place(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh):
        gates["f"] *= 0.5
        return bptt_answer(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, w_ih, w_hh)

    _failed_with(check_lstm_backward(in_place), ["changed its argument `gates` in place"])
    assert check_lstm_backward(bptt_answer)


def test_the_sequence_cases_gates_are_nn_lstm_states():
    case = sequence_case(2, 4, 3, 2, seed=0)
    args = case["args"]
    output, (h_n, c_n) = numpy_lstm.lstm_forward(args["x"], args["h_0"], args["c_0"], **case["weights"])
    np.testing.assert_allclose(args["gates"]["h"], output, rtol=1e-12)
    np.testing.assert_allclose(args["gates"]["c"][:, -1], c_n[0], rtol=1e-12)


# ----------------------------------------------------------------------------- clipping


def clip_solution(grads, max_norm):
    total = np.sqrt(sum((g**2).sum() for g in grads))
    return [g * (max_norm / total) for g in grads] if total > max_norm else [g.copy() for g in grads]


def clip_written_otherwise(grads, max_norm):
    total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
    return [g * min(1.0, max_norm / total) for g in grads]


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda grads, m: [g * min(1.0, m / np.linalg.norm(g)) for g in grads], ["each array by its own norm"]),
        (lambda grads, m: [g * m / np.sqrt(sum((a**2).sum() for a in grads)) for g in grads], ["even when the total norm was below"]),
        (lambda grads, m: [np.clip(g, -m, m) for g in grads], ["clipping by value"]),
        (lambda grads, m: [g * max(1.0, np.sqrt(sum((a**2).sum() for a in grads)) / m) for g in grads], ["upside down"]),
        (lambda grads, m: [g * min(1.0, m / sum(np.linalg.norm(a) for a in grads)) for g in grads], ["added the arrays' norms"]),
        (lambda grads, m: [g * min(1.0, m / sum((a**2).sum() for a in grads)) for g in grads], ["square root"]),
        (lambda grads, m: clip_solution(grads, m)[:-1], ["Return a list of", "one per array"]),
        (lambda grads, m: [g.sum() for g in clip_solution(grads, m)], ["should have shape", "keeps its shape"]),
        (lambda grads, m: [g * 0.9 for g in clip_solution(grads, m)], ["expected", "total norm", "max_norm / total"]),
    ],
)
def test_clip_mistakes_are_named(answer, words):
    _failed_with(check_clip_by_norm(answer), words)


def test_a_clip_that_scales_in_place_cannot_pass():
    def in_place(grads, max_norm):
        total = np.sqrt(sum((g**2).sum() for g in grads))
        for g in grads:
            g *= min(1.0, max_norm / total)
        return grads

    _failed_with(check_clip_by_norm(in_place), ["changed its argument `grads` in place"])
    assert check_clip_by_norm(clip_solution)


@pytest.mark.parametrize(
    "check, right_answers",
    [
        (check_lstm_step_backward, [step_answer, step_written_otherwise, numpy_lstm.lstm_step_backward]),
        (check_lstm_backward, [bptt_answer, bptt_written_otherwise, numpy_lstm.lstm_backward]),
        (check_clip_by_norm, [clip_solution, clip_written_otherwise, numpy_lstm.clip_by_norm]),
    ],
    ids=["step", "bptt", "clip"],
)
def test_the_stub_is_not_attempted_and_right_answers_pass(check, right_answers):
    """The solution, an answer written another way, and the package's version, which the notebook goes on with."""
    assert check(stub).status == "not attempted yet"
    for answer in right_answers:
        result = check(answer)
        assert result and "passed" in repr(result), result

"""The checks of notebook 06: the stub is not attempted, each typical mistake gets its diagnosis, the solution passes."""

import numpy as np
import pytest

from lstm_course.checks import check_cell_state_backward, check_output_gate_backward, check_w_hh_gradient
from lstm_course.numpy_lstm import sigmoid


def stub(*args):
    raise NotImplementedError()


# ----------------------------------------------------------------------------- the output gate


def output_gate_solution(dh, o, c):
    return dh * np.tanh(c) * o * (1 - o)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda dh, o, c: dh * np.tanh(c), ["dL/do", "o * (1 - o)"]),  # forgot the sigmoid's derivative
        (lambda dh, o, c: dh * c * o * (1 - o), ["used c", "tanh(c)"]),
        (lambda dh, o, c: -output_gate_solution(dh, o, c), ["Wrong sign"]),
        (lambda dh, o, c: dh * np.tanh(c) * (1 - o**2), ["tanh's derivative", "o is a sigmoid"]),
        (lambda dh, o, c: dh * np.tanh(c) * sigmoid(o) * (1 - sigmoid(o)), ["sigmoid to o again"]),
        (lambda dh, o, c: np.tanh(c) * o * (1 - o), ["left out dh"]),
        (lambda dh, o, c: dh * o * (1 - np.tanh(c) ** 2), ["flows into c"]),
        (lambda dh, o, c: output_gate_solution(dh, o, c) * (1 - np.tanh(c) ** 2), ["tanh'(c)", "only the path into c"]),
        (lambda dh, o, c: output_gate_solution(dh, o, c).sum(axis=0), ["shape", "elementwise"]),
        (lambda dh, o, c: output_gate_solution(dh, o, c) + 1e-3, ["expected", "got", "at batch row 0, unit 0", "Chain rule"]),
        (lambda dh, o: dh, ["raised TypeError", "Keep the signature `output_gate_backward(dh, o, c)`"]),
        (lambda dh, o, c: None, ["returned None"]),
    ],
)
def test_output_gate_mistakes_are_named(answer, words):
    result = check_output_gate_backward(answer)
    assert not result and result.status == "failed"
    for word in words:
        assert word in result.message, (word, result.message)


def test_output_gate_stub_and_solution():
    assert check_output_gate_backward(stub).status == "not attempted yet"
    result = check_output_gate_backward(output_gate_solution)
    assert result and "passed" in repr(result)


# ----------------------------------------------------------------------------- the previous cell state


def cell_state_solution(dh, dc, f, o, c):
    return f * (dc + dh * o * (1 - np.tanh(c) ** 2))


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda dh, dc, f, o, c: dc + dh * o * (1 - np.tanh(c) ** 2), ["dL/dc_t", "multiply by f"]),
        (lambda dh, dc, f, o, c: dc * f, ["left out the path through h"]),
        (lambda dh, dc, f, o, c: dh * o * (1 - np.tanh(c) ** 2) * f, ["left out dc", "later steps"]),
        (lambda dh, dc, f, o, c: -cell_state_solution(dh, dc, f, o, c), ["Wrong sign"]),
        (lambda dh, dc, f, o, c: f * (dc + dh * o * (1 - c**2)), ["1 - c**2", "1 - tanh(c)**2"]),
        (lambda dh, dc, f, o, c: f * (dc + dh * o), ["tanh's derivative"]),
        (lambda dh, dc, f, o, c: f * (dc + dh * np.tanh(c) * (1 - np.tanh(c) ** 2)), ["where the forward has o"]),
        (lambda dh, dc, f, o, c: cell_state_solution(dh, dc, f, o, c) * (1 - f), ["sigmoid's derivative"]),
        (lambda dh, dc, f, o, c: (1 - f) * (dc + dh * o * (1 - np.tanh(c) ** 2)), ["not (1 - f)"]),
        (lambda dh, dc, f, o, c: cell_state_solution(dh, dc, f, o, c)[:, :1], ["shape"]),
        (lambda dh, dc, f, o, c: cell_state_solution(dh, dc, f, o, c) * 1.5, ["dL/dc_{t-1} at batch row", "Two paths meet"]),
    ],
)
def test_cell_state_mistakes_are_named(answer, words):
    result = check_cell_state_backward(answer)
    assert not result and result.status == "failed"
    for word in words:
        assert word in result.message, (word, result.message)


def test_cell_state_stub_and_solution():
    assert check_cell_state_backward(stub).status == "not attempted yet"
    assert check_cell_state_backward(cell_state_solution)


# ----------------------------------------------------------------------------- w_hh over time


def _h_prev(h_0, output):
    return np.concatenate([h_0[:, None], output[:, :-1]], axis=1)  # (batch, seq, hidden)


def w_hh_solution(dz, h_0, output):
    h_prev = _h_prev(h_0, output)
    return sum(dz[:, t].T @ h_prev[:, t] for t in range(dz.shape[1]))


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda dz, h_0, out: np.einsum("btk,bth->kh", dz, out), ["Off by one step", "h_0"]),
        (lambda dz, h_0, out: dz[:, -1].T @ _h_prev(h_0, out)[:, -1], ["last step only", "adds up every step"]),
        (lambda dz, h_0, out: dz[:, 0].T @ h_0, ["first step only"]),
        (lambda dz, h_0, out: w_hh_solution(dz, h_0, out) - dz[:, 0].T @ h_0, ["left out the first step", "h_0"]),
        (lambda dz, h_0, out: w_hh_solution(dz, h_0, out) / dz.shape[1], ["averaged over time"]),
        (lambda dz, h_0, out: w_hh_solution(dz, h_0, out) / dz.shape[0], ["averaged over the batch"]),
        (lambda dz, h_0, out: -w_hh_solution(dz, h_0, out), ["Wrong sign"]),
        (lambda dz, h_0, out: w_hh_solution(dz, h_0, out).T, ["transposed", "(4 * hidden, hidden)"]),
        (lambda dz, h_0, out: w_hh_solution(dz, h_0, out)[:1], ["should have shape"]),
        (lambda dz, h_0, out: w_hh_solution(dz, h_0, out) * 1.01, ["dL/dw_hh at row", "gate", "expected", "got"]),
        (lambda dz, h_0: dz, ["Keep the signature `w_hh_gradient(dz, h_0, output)`"]),
    ],
)
def test_w_hh_mistakes_are_named(answer, words):
    result = check_w_hh_gradient(answer)
    assert not result and result.status == "failed"
    for word in words:
        assert word in result.message, (word, result.message)


def test_w_hh_stub_and_solution():
    assert check_w_hh_gradient(stub).status == "not attempted yet"
    assert check_w_hh_gradient(w_hh_solution)
    assert check_w_hh_gradient(lambda dz, h_0, out: np.einsum("btk,bth->kh", dz, _h_prev(h_0, out)))


def test_a_tensor_answer_is_accepted():
    torch = pytest.importorskip("torch")
    result = check_output_gate_backward(lambda dh, o, c: torch.tensor(output_gate_solution(dh, o, c)))
    assert result

"""Checks for notebook 06, backpropagation through time.

Each check builds random LSTM steps with ``lstm_course.numpy_lstm``, takes the expected answer
from its backward (which the tests hold equal to PyTorch's autograd), and compares. When the
learner's answer is wrong, it is compared with the typical wrong answers, to name the mistake.
"""

import numpy as np

from lstm_course import numpy_lstm
from lstm_course.checks._core import Mistake, as_array, call, check, expect_close

ATOL = 1e-9
CASES = ((1, 2, 3), (3, 4, 2), (2, 3, 5))  # (batch, input_size, hidden_size): no two sizes coincide


def random_step(batch, input_size, hidden_size, seed=0):
    """One forward step on random weights and states: the cache a backward works from."""
    rng = np.random.default_rng(seed)
    rows = 4 * hidden_size
    x = rng.normal(size=(batch, input_size))
    h_prev, c_prev = rng.normal(size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size))
    w_ih, w_hh = rng.normal(size=(rows, input_size)), rng.normal(size=(rows, hidden_size))
    b_ih, b_hh = rng.normal(size=rows), rng.normal(size=rows)
    step = numpy_lstm.gate_values(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh)
    # what comes back from above: dL/dh_t and dL/dc_t (the latter through c_{t+1})
    dh, dc = rng.normal(size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size))
    back = numpy_lstm.lstm_cell_backward(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)
    return {"step": step, "dh": dh, "dc": dc, "back": back, "hidden_size": hidden_size}


def _where(index):
    return f"at batch row {index[0]}, unit {index[1]}" if len(index) == 2 else f"at index {index}"


def _name_the_mistake(got, expected, wrong_answers, shape_hint):
    """Raise the diagnosis of the first wrong answer that ``got`` equals, if any."""
    got = as_array("your answer", got)
    if got.shape != expected.shape:
        raise Mistake(f"Your answer should have shape {expected.shape}, got {got.shape}. {shape_hint}")
    if np.allclose(got, expected, rtol=0, atol=ATOL):
        return  # right: a wrong answer that happens to coincide with it here says nothing
    for wrong, diagnosis in wrong_answers:
        if wrong.shape == got.shape and np.allclose(got, wrong, rtol=0, atol=ATOL):
            raise Mistake(diagnosis)


def _call(function, signature, *args):
    """``call``, with the expected signature named when the learner's function takes other arguments."""
    try:
        return call(function, *args)
    except Mistake as mistake:
        if "argument" in str(mistake):
            raise Mistake(f"{str(mistake).rstrip('.')}. Keep the signature `{signature}`.") from None
        raise


# ---------------------------------------------------------------------------------------------
# Exercise 1: the backward of the output gate

OUTPUT_GATE_SIGNATURE = "output_gate_backward(dh, o, c)"
OUTPUT_GATE_HINT = "Chain rule: h = o * tanh(c) gives dL/do = dh * tanh(c); then o = sigmoid(z_o) gives dL/dz_o = dL/do * o * (1 - o)."


def output_gate_wrong_answers(dh, o, c):
    """The typical wrong answers for dL/dz_o, each with the diagnosis it gets."""
    tanh_c = np.tanh(c)
    return [
        (dh * tanh_c, "You returned dL/do, the gradient of the gate's value. One more step: o = sigmoid(z_o), "
         "so multiply by the sigmoid's derivative o * (1 - o) to reach the pre-activation z_o."),
        (-dh * tanh_c * o * (1 - o), "Wrong sign: every factor enters with a plus. h = o * tanh(c) and "
         "sigmoid' = o * (1 - o) are both products; nothing is subtracted from the gradient."),
        (dh * c * o * (1 - o), "You used c where the forward uses tanh(c): h = o * tanh(c), so dL/do = dh * tanh(c)."),
        (dh * tanh_c * (1 - o**2), "You used tanh's derivative 1 - o**2, but o is a sigmoid: its derivative is o * (1 - o)."),
        (dh * tanh_c * numpy_lstm.sigmoid(o) * (1 - numpy_lstm.sigmoid(o)),
         "You applied the sigmoid to o again: o is already sigmoid(z_o), so its derivative is simply o * (1 - o)."),
        (tanh_c * o * (1 - o), "You left out dh, the gradient arriving from above: the chain rule multiplies by it."),
        (dh * o * (1 - tanh_c**2), "That is the gradient that flows into c through h (dh * o * tanh'(c)), "
         "not the one that reaches the output gate. The output gate gets dh * tanh(c) * o * (1 - o)."),
        (dh * tanh_c * o * (1 - o) * (1 - tanh_c**2), "You multiplied by tanh'(c) = 1 - tanh(c)**2 as well: "
         "only the path into c needs it. For the output gate, tanh(c) is a constant factor."),
    ]


@check("The backward of the output gate")
def check_output_gate_backward(output_gate_backward):
    """``output_gate_backward(dh, o, c) -> dL/dz_o`` ``(batch, hidden)``."""
    for seed, (batch, input_size, hidden_size) in enumerate(CASES):
        case = random_step(batch, input_size, hidden_size, seed)
        step, dh = case["step"], case["dh"]
        expected = np.split(case["back"]["z"], 4, axis=1)[3]  # the o block of dL/dz, in order i, f, g, o
        got = _call(output_gate_backward, OUTPUT_GATE_SIGNATURE, dh.copy(), step.o.copy(), step.c.copy())
        shapes = f"dh, o and c are (batch, hidden) = {dh.shape}, and so is dL/dz_o: multiply elementwise (*), not with @."
        _name_the_mistake(got, expected, output_gate_wrong_answers(dh, step.o, step.c), shapes)
        expect_close("dL/dz_o", got, expected, atol=ATOL, hint=OUTPUT_GATE_HINT, where=_where)
    return "dL/dz_o = dh * tanh(c) * o * (1 - o), equal to the package's backward (and so to autograd) on 3 random steps."


# ---------------------------------------------------------------------------------------------
# Exercise 2: the gradient that reaches the previous cell state

CELL_SIGNATURE = "cell_state_backward(dh, dc, f, o, c)"
CELL_HINT = "Two paths meet at c_t: dc from later steps, and dh * o * (1 - tanh(c)**2) through h_t = o * tanh(c_t). Add them, then c_t = f * c_{t-1} + i * g gives the factor f."


def cell_state_wrong_answers(dh, dc, f, o, c):
    """The typical wrong answers for dL/dc_{t-1}, each with the diagnosis it gets."""
    through_h = dh * o * (1 - np.tanh(c) ** 2)
    total = dc + through_h  # dL/dc_t
    return [
        (total, "You returned dL/dc_t. One step further back: c_t = f * c_{t-1} + i * g, so multiply by f."),
        (dc * f, "You left out the path through h: c_t also reaches the loss through h_t = o * tanh(c_t). "
         "Add dh * o * (1 - tanh(c)**2) to dc before multiplying by f."),
        (through_h * f, "You left out dc, the gradient that comes back from later steps through c_{t+1}. "
         "Both paths meet at c_t: add dc to dh * o * (1 - tanh(c)**2)."),
        (-total * f, "Wrong sign: the gradient of c_{t-1} is + f * dL/dc_t."),
        ((dc + dh * o * (1 - c**2)) * f, "You used 1 - c**2, but the forward applies tanh to c: "
         "the derivative of tanh(c) is 1 - tanh(c)**2."),
        ((dc + dh * o) * f, "The path through h needs tanh's derivative: h = o * tanh(c), so dh reaches c as "
         "dh * o * (1 - tanh(c)**2)."),
        ((dc + dh * np.tanh(c) * (1 - np.tanh(c) ** 2)) * f, "You multiplied dh by tanh(c) where the forward "
         "has o: h = o * tanh(c), so dh/dc = o * (1 - tanh(c)**2)."),
        (total * f * (1 - f), "f * (1 - f) is the sigmoid's derivative, for the forget gate's pre-activation. "
         "c_{t-1} is multiplied by f itself, so its gradient is f * dL/dc_t."),
        (total * (1 - f), "c_t keeps f * c_{t-1}, not (1 - f) * c_{t-1}: multiply by f."),
    ]


@check("The gradient that reaches the previous cell state")
def check_cell_state_backward(cell_state_backward):
    """``cell_state_backward(dh, dc, f, o, c) -> dL/dc_{t-1}`` ``(batch, hidden)``."""
    for seed, (batch, input_size, hidden_size) in enumerate(CASES):
        case = random_step(batch, input_size, hidden_size, seed)
        step, dh, dc = case["step"], case["dh"], case["dc"]
        expected = case["back"]["c_prev"]
        got = _call(cell_state_backward, CELL_SIGNATURE, dh.copy(), dc.copy(), step.f.copy(), step.o.copy(), step.c.copy())
        shapes = f"dh, dc, f, o and c are (batch, hidden) = {dh.shape}, and so is dL/dc_{{t-1}}: use elementwise *."
        _name_the_mistake(got, expected, cell_state_wrong_answers(dh, dc, step.f, step.o, step.c), shapes)
        expect_close("dL/dc_{t-1}", got, expected, atol=ATOL, hint=CELL_HINT, where=_where)
    return "dL/dc_{t-1} = f * (dc + dh * o * (1 - tanh(c)**2)), equal to the package's backward on 3 random steps."


# ---------------------------------------------------------------------------------------------
# Exercise 3: the gradient of w_hh, summed over time

W_HH_SIGNATURE = "w_hh_gradient(dz, h_0, output)"
W_HH_CASES = ((2, 5, 3), (1, 4, 2), (3, 6, 1))  # (batch, seq, hidden_size)
W_HH_HINT = "Step t computes z_t = ... + h_{t-1} @ w_hh.T, so it adds dz_t.T @ h_{t-1}; sum that over every step t."


def bptt_case(batch, seq, hidden_size, seed=0):
    """A random sequence's forward and backward: dL/dz at every step, h_0, output, and dL/dw_hh."""
    rng = np.random.default_rng(100 + seed)
    input_size, rows = 2, 4 * hidden_size
    x = rng.normal(size=(batch, seq, input_size))
    h_0, c_0 = rng.normal(size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size))
    w_ih, w_hh = rng.normal(size=(rows, input_size)), rng.normal(size=(rows, hidden_size))
    output, _, gates = numpy_lstm.lstm_forward(x, h_0, c_0, w_ih, w_hh, rng.normal(size=rows), rng.normal(size=rows), return_gates=True)
    d_output = rng.normal(size=output.shape)
    grads = numpy_lstm.lstm_backward(d_output, None, None, x, h_0, c_0, gates, w_ih, w_hh)
    return {"dz": grads["z"], "h_0": h_0, "output": output, "w_hh": grads["w_hh"]}


def w_hh_wrong_answers(dz, h_0, output):
    """The typical wrong answers for dL/dw_hh, each with the diagnosis it gets."""
    batch, seq, _ = dz.shape
    h_prev = np.concatenate([h_0[:, None], output[:, :-1]], axis=1)  # h_{t-1} at every step
    right = np.einsum("btk,bth->kh", dz, h_prev)
    return [
        (np.einsum("btk,bth->kh", dz, output), "Off by one step: z_t uses the previous hidden state h_{t-1}, "
         "not h_t. At step 0 that is h_0; at step t > 0 it is output[:, t - 1]."),
        (dz[:, -1].T @ h_prev[:, -1], "You used the last step only. w_hh is the same matrix at every step, "
         "so its gradient adds up every step's share dz_t.T @ h_{t-1}."),
        (dz[:, 0].T @ h_0, "You used the first step only. w_hh is the same matrix at every step, "
         "so its gradient adds up every step's share dz_t.T @ h_{t-1}."),
        (np.einsum("btk,bth->kh", dz[:, 1:], h_prev[:, 1:]), "You left out the first step, whose previous "
         "hidden state is h_0: add dz[:, 0].T @ h_0."),
        (right / seq, "You averaged over time. The same w_hh acts at every step, and each step adds its "
         "share: sum over time, don't divide by seq."),
        (right / batch, "You averaged over the batch. The loss decides any averaging and dz already "
         "includes it: sum over the batch rows."),
        (-right, "Wrong sign: each step adds + dz_t.T @ h_{t-1}."),
    ]


@check("The gradient of w_hh, summed over time")
def check_w_hh_gradient(w_hh_gradient):
    """``w_hh_gradient(dz, h_0, output) -> dL/dw_hh`` ``(4 * hidden, hidden)``."""
    for seed, (batch, seq, hidden_size) in enumerate(W_HH_CASES):
        case = bptt_case(batch, seq, hidden_size, seed)
        got = _call(w_hh_gradient, W_HH_SIGNATURE, case["dz"].copy(), case["h_0"].copy(), case["output"].copy())
        expected = case["w_hh"]
        got_array = as_array("your answer", got)
        if got_array.shape == expected.shape[::-1] and expected.shape[0] != expected.shape[1]:
            raise Mistake(f"Your answer has shape {got_array.shape}, transposed: w_hh is (4 * hidden, hidden) "
                          f"= {expected.shape}, so its gradient is dz_t.T @ h_{{t-1}}, not h_{{t-1}}.T @ dz_t.")
        shapes = f"dz is (batch, seq, 4 * hidden) = {case['dz'].shape}, h_0 is (batch, hidden), output is (batch, seq, hidden)."
        _name_the_mistake(got, expected, w_hh_wrong_answers(case["dz"], case["h_0"], case["output"]), shapes)
        expect_close("dL/dw_hh", got, expected, atol=ATOL, hint=W_HH_HINT,
                     where=lambda index: f"at row {index[0]} (gate {'ifgo'[index[0] // hidden_size]}), column {index[1]}")
    return "dL/dw_hh = sum over t of dz_t.T @ h_{t-1}, equal to the package's BPTT on 3 random sequences."

"""Notebook 01: lstm_step, to_pytorch_order, lstm_num_parameters."""

import functools

import numpy as np
import torch
from torch import nn

from lstm_course import numpy_lstm, shapes
from lstm_course.checks import check_lstm_num_parameters, check_lstm_step, check_to_pytorch_order
from lstm_course.checks import gate_equations
from lstm_course.numpy_lstm import lstm_cell as my_lstm_step
from lstm_course.numpy_lstm import sigmoid
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

lstm_step, to_pytorch_order, lstm_num_parameters = notebook_definitions(  # the notebook's solutions
    "01_gate_equations", "lstm_step", "to_pytorch_order", "lstm_num_parameters"
)

# ----------------------------------------------------------------------------- lstm_step


def step(x, h, c, w_ih, w_hh, b_ih, b_hh, order="ifgo", g_activation=np.tanh, b_ih_used=True, b_hh_used=True, forget=True,
         input_gate=True, forget_scales_h=False, tanh_on_c=True, h_from_old_c=False, x_used=True, h_used=True):
    """A learner's step with one typical mistake switched on by the keywords."""
    z = (x @ w_ih.T if x_used else 0) + (h @ w_hh.T if h_used else 0) + (b_ih if b_ih_used else 0) + (b_hh if b_hh_used else 0)
    blocks = dict(zip(order, np.split(z, 4, axis=1)))
    i, f, o, g = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"]), g_activation(blocks["g"])
    c_new = (h if forget_scales_h else c) * (f if forget else 1) + (i if input_gate else 1) * g
    shown = c if h_from_old_c else c_new
    return o * (np.tanh(shown) if tanh_on_c else shown), c_new


def with_mistake(**mistake):
    return lambda x, h, c, w_ih, w_hh, b_ih, b_hh: step(x, h, c, w_ih, w_hh, b_ih, b_hh, **mistake)


def gate_by_gate(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """Written another way: each gate from its own rows."""
    H = h.shape[1]

    def gate(k, activation):
        rows = slice(k * H, (k + 1) * H)
        return activation(x @ w_ih[rows].T + b_ih[rows] + h @ w_hh[rows].T + b_hh[rows])

    i, f, g, o = gate(0, sigmoid), gate(1, sigmoid), gate(2, np.tanh), gate(3, sigmoid)
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


def in_torch_float32(*args):
    """Written another way: PyTorch, in float32, judged at float32 tolerance."""
    x, h, c, w_ih, w_hh, b_ih, b_hh = (torch.from_numpy(a).float() for a in args)
    z_i, z_f, z_g, z_o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=1)
    c_new = torch.sigmoid(z_f) * c + torch.sigmoid(z_i) * torch.tanh(z_g)
    return torch.sigmoid(z_o) * torch.tanh(c_new), c_new


def in_float32(answer):
    return lambda *args: answer(*(a.astype(np.float32) for a in args))


def unbatched(x, h, c, w_ih, w_hh, b_ih, b_hh):
    z = w_ih @ x + b_ih + w_hh @ h + b_hh  # fails: x is (batch, input_size)
    return z, z


def writes_into_c(x, h, c, w_ih, w_hh, b_ih, b_hh):
    h_new, c_new = lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh)
    c[...] = c_new
    return h_new, c


def only_batch_one(*args):
    h, c = lstm_step(*args)
    return (h, c) if len(h) == 1 else (h[:1], c[:1])


def replaces_the_package_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """Rebinds numpy_lstm.lstm_cell while it runs: the check does not compare with it, so nothing changes."""
    original, numpy_lstm.lstm_cell = numpy_lstm.lstm_cell, lambda *args, **kwargs: (np.zeros_like(h), np.zeros_like(c))
    try:
        return np.zeros_like(h), np.zeros_like(c)
    finally:
        numpy_lstm.lstm_cell = original


def with_nn_lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    cell = nn.LSTMCell(x.shape[1], h.shape[1], dtype=torch.float64)
    with torch.no_grad():
        for parameter, value in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), (w_ih, w_hh, b_ih, b_hh)):
            parameter.copy_(torch.from_numpy(value))
    h_new, c_new = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    return h_new.detach().numpy(), c_new.detach().numpy()


def with_torch_lstm_cell(x, h, c, *weights):
    h_new, c_new = torch.lstm_cell(torch.from_numpy(x), [torch.from_numpy(h), torch.from_numpy(c)], *map(torch.from_numpy, weights))
    return h_new.numpy(), c_new.numpy()


def output_gate_through_tanh(x, h, c, w_ih, w_hh, b_ih, b_hh):
    z_i, z_f, z_g, z_o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
    c_new = sigmoid(z_f) * c + sigmoid(z_i) * np.tanh(z_g)
    return np.tanh(z_o) * np.tanh(c_new), c_new


def with_an_unsafe_sigmoid(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """exp(z) / (1 + exp(z)): inf / inf, NaN, for a large pre-activation."""
    unsafe = lambda z: np.exp(z) / (1 + np.exp(z))  # noqa: E731
    z_i, z_f, z_g, z_o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=1)
    with np.errstate(over="ignore", invalid="ignore"):  # as a learner's notebook would show them, once
        c_new = unsafe(z_f) * c + unsafe(z_i) * np.tanh(z_g)
        return unsafe(z_o) * np.tanh(c_new), c_new


def with_aten_lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    x, h, c, w_ih, w_hh, b_ih, b_hh = map(torch.as_tensor, (x, h, c, w_ih, w_hh, b_ih, b_hh))
    h_new, c_new = torch.ops.aten.lstm_cell(x, [h, c], w_ih, w_hh, b_ih, b_hh)
    return h_new.numpy(), c_new.numpy()


LSTM_STEP = Answers(
    check=check_lstm_step,
    solution=lstm_step,
    others=[gate_by_gate, in_float32(lstm_step), in_torch_float32, with_mistake()],
    wrong=[
        (with_mistake(order="figo"), "Your input and forget gates are swapped"),
        (in_float32(with_mistake(order="ifog")), "You read the four blocks of rows as i, f, o, g"),
        (with_mistake(g_activation=sigmoid), "The candidate g goes through sigmoid"),
        (with_mistake(g_activation=lambda z: z), "The candidate g has no activation"),
        (with_mistake(tanh_on_c=False), "The new hidden state `h` at sample 0, unit 0: expected -0.178667, got -0.187118 (2 of 2 values differ). Your h = o * c"),
        (with_mistake(b_ih_used=False), "The bias b_ih is missing"),
        (with_mistake(x_used=False), "The input x is missing from the gates"),
        (with_mistake(h_used=False), "The previous hidden state h is missing from the gates"),
        (with_mistake(b_hh_used=False), "The bias b_hh is missing"),
        (with_mistake(b_ih_used=False, b_hh_used=False), "Both biases are missing"),
        (with_mistake(forget_scales_h=True), "Your forget gate multiplies h"),
        (with_mistake(forget=False), "The forget gate is not applied"),
        (with_mistake(input_gate=False), "The input gate is not applied"),
        (with_mistake(h_from_old_c=True), "Your h is computed from the previous cell state"),
        (lambda *args: lstm_step(*args)[::-1], "You return (c, h)"),
        (lambda *args: lstm_step(*args)[0], "Return 2 things, h, c (`return h, c`); got one ndarray of shape (1, 2)"),
        (unbatched, "It happened in the line `z = w_ih @ x + b_ih + w_hh @ h + b_hh # fails: x is (batch, input_size)`. It was called with x: ndarray of shape (1, 3)"),
        (lambda x, h, c: (h, c), "Keep the signature `lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh)`"),
        (writes_into_c, "changed its argument `c` in place"),
        (lambda *args: (lstm_step(*args)[0] * 1.01, lstm_step(*args)[1]), "`c` is right. Hint: h = o * tanh(c_new)"),
        (lambda *args: (lstm_step(*args)[0], lstm_step(*args)[1] + 0.1), "The new cell state `c` at sample 0, unit 0: expected -0.378469, got -0.278469"),
        (only_batch_one, "Case 2 (batch=3, input_size=4, hidden_size=5): `h` should have shape (batch, hidden_size) = (3, 5), got (1, 5)"),
        (replaces_the_package_cell, "expected -0.378469, got 0 (2 of 2 values differ). Hint: c_new = f * c + i * g"),
        (lambda *args: (lstm_step(*args)[0], lstm_step(*args)[1] * np.nan), "The new cell state `c` holds NaN at sample 0, unit 0"),
        (output_gate_through_tanh, "The output gate o goes through tanh"),
        (with_an_unsafe_sigmoid, "Case 3 (batch=2, input_size=1, hidden_size=3): The new cell state `c` holds NaN"),
    ],
    course=[my_lstm_step, with_aten_lstm_cell, lambda x, h, c, w_ih, w_hh, b_ih, b_hh: numpy_lstm._step(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, c)[:-3:-1], with_nn_lstm_cell, with_torch_lstm_cell],
)

# ----------------------------------------------------------------------------- to_pytorch_order


def by_a_list_of_rows(w):
    H = len(w) // 4
    return w[[*range(H, 2 * H), *range(H), *range(2 * H, 4 * H)]]


def swap_through_views(w):
    H = len(w) // 4
    w = w.copy()
    w[:H], w[H:2 * H] = w[H:2 * H], w[:H]  # the second assignment reads the overwritten rows
    return w


def reorder_in_place(w):
    w[...] = to_pytorch_order(w)
    return w


TO_PYTORCH_ORDER = Answers(
    check=check_to_pytorch_order,
    solution=to_pytorch_order,
    others=[by_a_list_of_rows, lambda w: np.asarray(w).reshape(4, -1)[[1, 0, 2, 3]].reshape(np.shape(w)), lambda w: torch.cat([torch.as_tensor(w).chunk(4)[k] for k in (1, 0, 2, 3)])],
    wrong=[
        (lambda w: w.copy(), "The rows come back unchanged"),
        (lambda w: w[[1, 0, *range(2, len(w))]], "in row 0 (row 0 of the input gate i), column 0: expected -0.536953, got -1.30316 (12 of 24 values differ). Move whole blocks"),
        (swap_through_views, "Your blocks hold i, i, g, o: the rows of f are lost"),
        (lambda w: np.concatenate(np.split(w, 4)[::-1]), "Your blocks come out as o, g, i, f"),
        (reorder_in_place, "changed its argument `w` in place"),
        (lambda w: to_pytorch_order(w).T, "The result should have the shape of w, (8, 3), got (3, 8)"),
        (lambda w: to_pytorch_order(w) * 2, "Copy the rows as they are"),
        (lambda w: to_pytorch_order(w) * np.nan, "The result holds NaN in row 0 (row 0 of the input gate i)"),
    ],
    course=[gate_equations.to_ifgo, functools.partial(gate_equations.to_ifgo)],
)

# ----------------------------------------------------------------------------- lstm_num_parameters


def closed_form(input_size, hidden_size, num_layers=1, bidirectional=False):
    D, H = 1 + bidirectional, hidden_size
    first = 4 * H * (input_size + H) + 8 * H
    later = 4 * H * (D * H + H) + 8 * H
    return D * (first + (num_layers - 1) * later)


def counting(biases=2, gates=4, later_inputs=None, directions=None, layers=None):
    """A learner's count with one typical mistake switched on by the keywords."""
    def count(input_size, hidden_size, num_layers=1, bidirectional=False):
        H, D = hidden_size, (2 if bidirectional else 1) if directions is None else directions
        total = 0
        for layer in range(num_layers if layers is None else layers):
            inputs = input_size if layer == 0 else (D * H if later_inputs is None else later_inputs(input_size, H))
            total += D * (gates * H * (inputs + H) + biases * gates * H)
        return total

    return count


def by_counting_an_nn_lstm(input_size, hidden_size, num_layers=1, bidirectional=False):
    lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)
    return sum(p.numel() for p in lstm.parameters())


def with_the_course_s_shapes(input_size, hidden_size, num_layers=1, bidirectional=False):
    return shapes.lstm_num_parameters({"input_size": input_size, "hidden_size": hidden_size, "num_layers": num_layers, "bidirectional": bidirectional})


def hidden_size_inputs_everywhere(input_size, hidden_size, num_layers=1, bidirectional=False):
    """Every layer counted as if its input were hidden_size wide."""
    per_layer = 4 * hidden_size * (hidden_size + hidden_size) + 8 * hidden_size
    return (2 if bidirectional else 1) * num_layers * per_layer


def biases_once_per_layer(input_size, hidden_size, num_layers=1, bidirectional=False):
    directions, total = 2 if bidirectional else 1, 0
    for layer in range(num_layers):
        inputs = input_size if layer == 0 else directions * hidden_size
        total += directions * 4 * hidden_size * (inputs + hidden_size) + 8 * hidden_size
    return total


LSTM_NUM_PARAMETERS = Answers(
    check=check_lstm_num_parameters,
    solution=lstm_num_parameters,
    others=[closed_form, counting(), lambda *args, **kwargs: np.int64(lstm_num_parameters(*args, **kwargs))],
    wrong=[
        (counting(layers=1), "`nn.LSTM(input_size=10, hidden_size=20, num_layers=2, bidirectional=False)` has 5,920 parameters; your function says 2,560. You count one layer only"),
        (counting(biases=1), "has 18,944 parameters; your function says 18,688. You count one bias per gate"),
        (counting(biases=0), "You leave out the biases"),
        (counting(gates=1), "one block per gate i, f, g, o"),
        (counting(later_inputs=lambda input_size, H: input_size), "Layers after the first take the layer below's output"),
        (counting(later_inputs=lambda input_size, H: H), "num_layers=2, bidirectional=True)` has"),
        (counting(directions=1), "num_layers=1, bidirectional=True)` has 5,120 parameters; your function says 2,560. A bidirectional LSTM has a second full set"),
        (lambda *args, **kwargs: lstm_num_parameters(*args, **kwargs) / 1, "should be an int, got the float 18944.0: use // rather than /"),
        (lambda *args, **kwargs: lstm_num_parameters(*args, **kwargs) / 3, "should be a whole number, got 6314.666666666667"),
        (lambda *args, **kwargs: torch.tensor(lstm_num_parameters(*args, **kwargs)), "got a one-element Tensor: use .item()"),
        (lambda *args, **kwargs: float("nan"), "holds NaN"),
        (lambda *args, **kwargs: str(lstm_num_parameters(*args, **kwargs)), "should be an int, got str"),
        (lambda *args, **kwargs: lstm_num_parameters(*args, **kwargs) + 1, "has 18,944 parameters; your function says 18,945. Per layer and direction"),
        (lambda input_size, hidden_size: 0, "(got an unexpected keyword argument 'num_layers'). Keep the signature"),
        (hidden_size_inputs_everywhere, "has 18,944 parameters; your function says 33,280"),
        (biases_once_per_layer, "You count the biases once per layer"),
    ],
    course=[by_counting_an_nn_lstm, with_the_course_s_shapes, functools.partial(gate_equations.torch_num_parameters)],
)

ANSWERS = [LSTM_STEP, TO_PYTORCH_ORDER, LSTM_NUM_PARAMETERS]

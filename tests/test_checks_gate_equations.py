from types import MappingProxyType

import nbformat
import numpy as np
import pytest
import torch

from lstm_course import numpy_lstm
from lstm_course.checks import check_lstm_num_parameters, check_lstm_step, check_to_pytorch_order, gate_equations
from lstm_course.checks.gate_equations import COUNT_CONFIGS, counted, step_case, torch_num_parameters, wrong_step
from lstm_course.numpy_lstm import lstm_cell, sigmoid
from tests.notebooks import NOTEBOOKS_DIR

# --- exercise 1: lstm_step ------------------------------------------------------------------


def step_solution(x, h, c, w_ih, w_hh, b_ih, b_hh):
    z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh  # (batch, 4 * hidden_size)
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


def step_stub(x, h, c, w_ih, w_hh, b_ih, b_hh):
    raise NotImplementedError()


def test_step_stub_is_not_attempted():
    result = check_lstm_step(step_stub)
    assert result.status == "not attempted yet" and not result


def test_step_solution_passes():
    result = check_lstm_step(step_solution)
    assert result, repr(result)
    assert "matches numpy_lstm.lstm_cell" in result.message


def test_step_solution_on_torch_tensors_passes():
    def in_torch(*args):
        cell = torch.nn.LSTMCell(args[0].shape[1], args[1].shape[1], dtype=torch.float64)
        with torch.no_grad():
            for parameter, value in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), args[3:]):
                parameter.copy_(torch.from_numpy(value))
        h, c = cell(torch.from_numpy(args[0]), (torch.from_numpy(args[1]), torch.from_numpy(args[2])))
        return h.detach(), c.detach()

    assert check_lstm_step(in_torch)


def test_step_written_gate_by_gate_passes():
    def gate_by_gate(x, h, c, w_ih, w_hh, b_ih, b_hh):
        H = h.shape[1]

        def gate(k, activation):
            rows = slice(k * H, (k + 1) * H)
            return activation(x @ w_ih[rows].T + b_ih[rows] + h @ w_hh[rows].T + b_hh[rows])

        i, f, g, o = gate(0, sigmoid), gate(1, sigmoid), gate(2, np.tanh), gate(3, sigmoid)
        c_new = f * c + i * g
        return o * np.tanh(c_new), c_new

    assert check_lstm_step(gate_by_gate)


def _in_float32(answer):
    return lambda *args: answer(*(a.astype(np.float32) for a in args))


def test_a_float32_step_is_judged_at_float32_tolerance():
    assert check_lstm_step(_in_float32(step_solution))

    def in_torch_float32(*args):
        x, h, c, w_ih, w_hh, b_ih, b_hh = (torch.from_numpy(a).float() for a in args)
        z_i, z_f, z_g, z_o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=1)
        c_new = torch.sigmoid(z_f) * c + torch.sigmoid(z_i) * torch.tanh(z_g)
        return torch.sigmoid(z_o) * torch.tanh(c_new), c_new

    assert check_lstm_step(in_torch_float32)
    result = check_lstm_step(_in_float32(_with(order="figo")))
    assert not result and "input and forget gates are swapped" in result.message and "float32" in result.message


def test_an_answer_that_replaces_the_package_cell_cannot_pass(monkeypatch):
    def replaces_the_reference(x, h, c, w_ih, w_hh, b_ih, b_hh):
        monkeypatch.setattr(numpy_lstm, "lstm_cell", lambda *args, **kwargs: (np.zeros_like(h), np.zeros_like(c)))
        return np.zeros_like(h), np.zeros_like(c)

    assert not check_lstm_step(replaces_the_reference)


def test_nothing_an_answer_can_reach_in_the_check_module_is_mutable():
    """The checks of notebook 01 draw their cases afresh; their constants are tuples, strings and read-only mappings."""
    for name, value in vars(gate_equations).items():
        if name.lstrip("_").isupper():
            assert isinstance(value, (tuple, str, int, float, MappingProxyType)), name


def test_wrong_step_without_mistakes_is_the_package_cell():
    args = step_case(3, 4, 5, seed=7)
    for got, expected in zip(wrong_step(**args), lstm_cell(**args)):
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def _with(**keywords):
    def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
        return wrong_step(x, h, c, w_ih, w_hh, b_ih, b_hh, **keywords)

    return lstm_step


@pytest.mark.parametrize(
    "keywords, words",
    [
        ({"order": "figo"}, ["input and forget gates are swapped", "i, f, g, o"]),
        ({"order": "ifog"}, ["i, f, o, g", "PyTorch's rows are i, f, g, o"]),
        ({"g_activation": sigmoid}, ["candidate g goes through sigmoid", "tanh"]),
        ({"g_activation": lambda z: z}, ["candidate g has no activation"]),
        ({"tanh_on_c": False}, ["missing the tanh on the cell state", "h at sample"]),
        ({"use_b_ih": False}, ["b_ih is missing", "both biases"]),
        ({"use_b_hh": False}, ["b_hh is missing", "both biases"]),
        ({"use_b_ih": False, "use_b_hh": False}, ["Both biases are missing"]),
        ({"cell_from_h": True}, ["forget gate multiplies h", "previous cell state"]),
        ({"forget": False}, ["forget gate is not applied"]),
        ({"input_gate": False}, ["input gate is not applied"]),
        ({"h_from_old_c": True}, ["previous cell state", "new one"]),
    ],
)
def test_typical_step_mistakes_are_diagnosed(keywords, words):
    result = check_lstm_step(_with(**keywords))
    assert not result
    for word in words:
        assert word in result.message, result.message
    assert "expected" in result.message and "got" in result.message and "Case 1" in result.message


def test_step_returning_c_h_is_told_the_order():
    result = check_lstm_step(lambda *args: step_solution(*args)[::-1])
    assert not result and "You return (c, h)" in result.message and "(h, c)" in result.message


def test_step_returning_one_array_is_told_to_return_a_pair():
    result = check_lstm_step(lambda *args: step_solution(*args)[0])
    assert not result and "the pair (h, c)" in result.message and "(1, 2)" in result.message


def test_unbatched_step_gets_the_shapes():
    def unbatched(x, h, c, w_ih, w_hh, b_ih, b_hh):
        z = w_ih @ x + b_ih + w_hh @ h + b_hh  # fails: x is (batch, input_size)
        return z, z

    result = check_lstm_step(unbatched)
    assert not result and "raised ValueError" in result.message and "x (batch, input_size)" in result.message


def test_wrong_signature_is_named():
    result = check_lstm_step(lambda x, h, c: (h, c))
    assert not result and "Keep the signature `lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh)`" in result.message


def test_step_writing_into_c_is_caught():
    def in_place(x, h, c, w_ih, w_hh, b_ih, b_hh):
        h_new, c_new = step_solution(x, h, c, w_ih, w_hh, b_ih, b_hh)
        c[...] = c_new
        return h_new, c

    result = check_lstm_step(in_place)
    assert not result and "changed its argument `c` in place" in result.message


def test_unknown_step_mistakes_name_the_quantity():
    wrong_h = check_lstm_step(lambda *args: (step_solution(*args)[0] * 1.01, step_solution(*args)[1]))
    assert not wrong_h and "c is right but the new hidden state h at sample 0, unit 0" in wrong_h.message
    wrong_c = check_lstm_step(lambda *args: (step_solution(*args)[0], step_solution(*args)[1] + 0.1))
    assert not wrong_c and "the new cell state c at sample 0, unit 0" in wrong_c.message


def test_a_mistake_in_a_later_case_names_that_case():
    def only_batch_one(*args):
        h, c = step_solution(*args)
        return (h, c) if len(h) == 1 else (h[:1], c[:1])

    result = check_lstm_step(only_batch_one)
    assert not result and "Case 2 (batch=3, input_size=4, hidden_size=5)" in result.message and "(3, 5)" in result.message


# --- exercise 2: to_pytorch_order --------------------------------------------------------------


def order_solution(w):
    f, i, g, o = np.split(w, 4)  # blocks of hidden_size rows
    return np.concatenate([i, f, g, o])


def order_stub(w):
    raise NotImplementedError()


def test_order_stub_is_not_attempted():
    assert check_to_pytorch_order(order_stub).status == "not attempted yet"


def test_order_solution_passes():
    result = check_to_pytorch_order(order_solution)
    assert result, repr(result)


def test_order_solution_makes_the_diagram_weights_give_pytorchs_step():
    args = step_case(2, 3, 4, seed=1)
    diagram = {name: order_solution(order_solution(args[name])) for name in ("w_ih", "w_hh", "b_ih", "b_hh")}
    np.testing.assert_array_equal(diagram["w_ih"], args["w_ih"])  # the swap is its own inverse
    as_diagram = {**args, **{name: order_solution(args[name]) for name in ("w_ih", "w_hh", "b_ih", "b_hh")}}
    np.testing.assert_allclose(wrong_step(**as_diagram, order="figo")[0], lstm_cell(**args)[0], rtol=0, atol=1e-12)


def test_unchanged_rows_are_diagnosed():
    result = check_to_pytorch_order(lambda w: w.copy())
    assert not result and "unchanged" in result.message and "f, i, g, o" in result.message


def test_swapping_single_rows_is_diagnosed():
    result = check_to_pytorch_order(lambda w: w[[1, 0, *range(2, len(w))]])
    assert not result and "not single rows" in result.message and "row 0 should be row 0 of the input gate i" in result.message


def test_swap_through_views_is_diagnosed():
    def through_views(w):
        H = len(w) // 4
        w = w.copy()
        w[:H], w[H : 2 * H] = w[H : 2 * H], w[:H]  # the second assignment reads the overwritten rows
        return w

    result = check_to_pytorch_order(through_views)
    assert not result and "i, i, g, o" in result.message and "rows of f are lost" in result.message and "views" in result.message


def test_wrong_block_order_is_named():
    result = check_to_pytorch_order(lambda w: np.concatenate(np.split(w, 4)[::-1]))
    assert not result and "come out as o, g, i, f" in result.message


def test_in_place_reorder_is_diagnosed():
    def in_place(w):
        w[...] = order_solution(w)
        return w

    result = check_to_pytorch_order(in_place)
    assert not result and "changed its argument `w` in place" in result.message


def test_transposed_result_is_diagnosed():
    result = check_to_pytorch_order(lambda w: order_solution(w).T)
    assert not result and "same shape (8, 3), got (3, 8)" in result.message


# --- exercise 3: lstm_num_parameters -------------------------------------------------------------


def count_solution(input_size, hidden_size, num_layers=1, bidirectional=False):
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        inputs = input_size if layer == 0 else directions * hidden_size
        total += directions * (4 * hidden_size * (inputs + hidden_size) + 8 * hidden_size)
    return total


def count_stub(input_size, hidden_size, num_layers=1, bidirectional=False):
    raise NotImplementedError()


@pytest.mark.parametrize("config", [*COUNT_CONFIGS, (5, 7, 4, True)])
def test_torch_num_parameters_is_what_nn_lstm_holds(config):
    input_size, hidden_size, num_layers, bidirectional = config
    lstm = torch.nn.LSTM(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)
    assert torch_num_parameters(*config) == sum(p.numel() for p in lstm.parameters()) == count_solution(*config)


def test_torch_num_parameters_draws_no_random_numbers():
    state = torch.random.get_rng_state()
    torch_num_parameters(300, 128, 3, True)
    assert torch.equal(state, torch.random.get_rng_state())


def test_count_stub_is_not_attempted():
    assert check_lstm_num_parameters(count_stub).status == "not attempted yet"


def test_count_solution_passes():
    result = check_lstm_num_parameters(count_solution)
    assert result and "8 configurations" in result.message


def test_one_layer_formula_fails_at_the_first_two_layer_config():
    def one_layer(input_size, hidden_size, num_layers=1, bidirectional=False):
        return 4 * hidden_size * (input_size + hidden_size) + 8 * hidden_size

    result = check_lstm_num_parameters(one_layer)
    assert not result
    assert "nn.LSTM(input_size=10, hidden_size=20, num_layers=2, bidirectional=False) has 5,920" in result.message
    assert "your function says 2,560" in result.message and "every layer" in result.message


@pytest.mark.parametrize(
    "keywords, config, words",
    [
        ({"biases": 1}, "input_size=8, hidden_size=64", ["two, bias_ih and bias_hh", "18,688"]),
        ({"biases": 0}, "input_size=8, hidden_size=64", ["leave out the biases"]),
        ({"gates": 1}, "input_size=8, hidden_size=64", ["4 * hidden_size rows, one block per gate"]),
        ({"later_inputs": lambda input_size, H: input_size}, "num_layers=2, bidirectional=False", ["not input_size"]),
        ({"later_inputs": lambda input_size, H: H}, "num_layers=2, bidirectional=True", ["2 * hidden_size inputs"]),
        ({"directions": 1}, "num_layers=1, bidirectional=True", ["second full set", "_reverse"]),
    ],
)
def test_typical_count_mistakes_are_diagnosed(keywords, config, words):
    result = check_lstm_num_parameters(lambda *args, **kwargs: counted(*args, **kwargs, **keywords))
    assert not result and config in result.message, result.message
    for word in words:
        assert word in result.message, result.message


def test_a_float_count_is_told_to_be_an_int():
    result = check_lstm_num_parameters(lambda *args, **kwargs: count_solution(*args, **kwargs) / 1)
    assert not result and "18944.0, a float" in result.message and "return an int" in result.message


def test_an_unknown_count_mistake_gets_the_general_hint():
    result = check_lstm_num_parameters(lambda *args, **kwargs: count_solution(*args, **kwargs) + 1)
    assert not result and "has 18,944 parameters; your function says 18,945" in result.message
    assert "weight_ih (4H, inputs)" in result.message


def test_a_count_without_num_layers_is_told_the_signature():
    result = check_lstm_num_parameters(lambda input_size, hidden_size: 0)
    assert not result and "unexpected keyword argument 'num_layers'" in result.message and "Keep the signature" in result.message


# --- the notebook's own solutions ------------------------------------------------------------------


def test_the_notebooks_solutions_pass_their_checks():
    namespace = {"np": np, "sigmoid": sigmoid}
    names = ("lstm_step", "to_pytorch_order", "lstm_num_parameters")
    for cell in nbformat.read(NOTEBOOKS_DIR / "01_gate_equations.ipynb", as_version=4).cells:
        if cell.cell_type == "code" and cell.source.startswith(tuple(f"def {name}(" for name in names)):
            exec(cell.source, namespace)
    assert check_lstm_step(namespace["lstm_step"])
    assert check_to_pytorch_order(namespace["to_pytorch_order"])
    assert check_lstm_num_parameters(namespace["lstm_num_parameters"])


# --- correct answers written another way ------------------------------------------------------------


def test_order_by_a_list_of_rows_passes():
    def by_rows(w):
        H = len(w) // 4
        return w[[*range(H, 2 * H), *range(H), *range(2 * H, 4 * H)]]

    assert check_to_pytorch_order(by_rows)
    assert check_to_pytorch_order(lambda w: torch.cat([torch.as_tensor(w).chunk(4)[k] for k in (1, 0, 2, 3)]))


def test_count_in_closed_form_passes():
    def closed_form(input_size, hidden_size, num_layers=1, bidirectional=False):
        D, H = 1 + bidirectional, hidden_size
        first = 4 * H * (input_size + H) + 8 * H
        later = 4 * H * (D * H + H) + 8 * H
        return D * (first + (num_layers - 1) * later)

    assert check_lstm_num_parameters(closed_form)

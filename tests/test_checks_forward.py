import torch
import torch.nn.functional as F

from lstm_course.checks.forward import check_input_projections, check_lstm_forward_reverse
from lstm_course.hand_lstm import _run_direction


def stub(*args):
    raise NotImplementedError()


def projections(input, w_ih, b_ih, b_hh):
    return input @ w_ih.T + b_ih + b_hh


def reverse(input, initial_states, w_ih, w_hh, b_ih, b_hh, flip_back=True, final_from_end=False):
    x_proj = F.linear(input, w_ih, b_ih)  # (batch, seq, 4 * hidden)
    outputs, h, c = _run_direction(x_proj.unbind(1), *initial_states, w_hh, b_hh, reverse=True)
    output = torch.stack(outputs, dim=1)  # (batch, seq, hidden) in time order
    if not flip_back:
        output = output.flip(1)
    if final_from_end:
        h = output[:, -1]
    return output, (h[None], c[None])


def test_stubs_are_not_attempted():
    assert check_input_projections(stub).status == "not attempted yet"
    assert check_lstm_forward_reverse(stub).status == "not attempted yet"


def test_solutions_pass():
    assert check_input_projections(projections)
    assert check_lstm_forward_reverse(reverse)


def test_projection_mistakes_are_named():
    assert "w_ih.T" in check_input_projections(lambda x, w, bi, bh: torch.einsum("bsi,ij->bsj", x, w[:3, :3])).message
    assert "left out b_hh" in check_input_projections(lambda x, w, bi, bh: x @ w.T + bi).message
    wrong_row = check_input_projections(lambda x, w, bi, bh: x @ w.T + bi + bh * 2)
    assert "batch 0, time step 0, row 0" in wrong_row.message and "expected" in wrong_row.message


def test_reverse_mistakes_are_named():
    assert "reversed time order" in check_lstm_forward_reverse(lambda *a: reverse(*a, flip_back=False)).message
    assert "ends at time step 0" in check_lstm_forward_reverse(lambda *a: reverse(*a, final_from_end=True)).message
    forwards = check_lstm_forward_reverse(lambda x, s, *w: __import__("lstm_course").lstm_forward(x, s, *w))
    assert not forwards and "walk t from seq - 1 down to 0" in forwards.message
    assert "return output, (h_n, c_n)" in check_lstm_forward_reverse(lambda *a: reverse(*a)[0]).message

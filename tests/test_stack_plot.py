"""The stacked-LSTM picture: which cells a slice comes from, checked against real tensors."""

import matplotlib

matplotlib.use("Agg")  # no screen needed

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_course import stack_plot
from lstm_course.stack_plot import draw_stacked_lstm, select_slice

BI2 = {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True}
BI2_BF = {**BI2, "batch_first": True}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize(
    "config, highlight, cells, words",
    [
        (BI2, "h_n[-1]", [(1, 1, 0)], ["layer 1 (the last), backward ←, at t=0 (its final step)", "output[0, :, H:] holds the same numbers"]),
        (BI2, "h_n[-2]", [(1, 0, 3)], ["forward →, at t=3 (its final step)", "output[3, :, :H]"]),
        (BI2, "h_n[0]", [(0, 0, 3)], ["layer 0, forward"]),
        (BI2_BF, "output[:, 0, H:]", [(1, 1, 0)], ["its final step", "h_n[3] holds the same numbers"]),
        (BI2_BF, "output[:, -1, H:]", [(1, 1, 3)], ["its FIRST step: its final step is t=0"]),
        (BI2, "output[:, 0, H:]", [(1, 1, t) for t in range(4)], ["backward ←, at t=0…3"]),  # seq first: dim 1 is the batch
        (BI2, "c_n[-1]", [(1, 1, 0)], ["c is never part of output"]),
        (BI2, "h_n.view(num_layers, num_directions, batch, H)[-1]", [(1, 0, 3), (1, 1, 0)], []),
        (BI2, "h_n.view(num_layers, num_directions, batch, H)[0, 1]", [(0, 1, 0)], []),
        ({"input_size": 3, "hidden_size": 4}, "h_n[-1]", [(0, 0, 3)], ["layer 0, at t=3 (its final step); output[3] holds"]),
        ({**BI2_BF, "proj_size": 2}, "output[..., H:]", [(1, 1, t) for t in range(4)], []),
    ],
)
def test_select_slice_names_the_cells(config, highlight, cells, words):
    selection = select_slice(config, highlight)
    assert selection["cells"] == cells
    for word in words:
        assert word in selection["description"], selection["description"]


def _label_tensors(config, seq_len, batch):
    """A real nn.LSTM's output and h_n on a random input."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(**config)
    shape = (batch, seq_len, config["input_size"]) if config.get("batch_first") else (seq_len, batch, config["input_size"])
    with torch.no_grad():
        output, (h_n, c_n) = lstm(torch.randn(shape))
    return output, h_n


@settings(max_examples=40, deadline=None)
@given(num_layers=st.integers(1, 3), bidirectional=st.booleans(), batch_first=st.booleans(), seq_len=st.integers(2, 5),
       which=st.integers(0, 5))
def test_a_final_step_in_output_is_the_state_the_picture_says(num_layers, bidirectional, batch_first, seq_len, which):
    """When the picture says an output slice "holds the same numbers" as h_n[k], the real tensors agree."""
    config = {"input_size": 2, "hidden_size": 3, "num_layers": num_layers, "bidirectional": bidirectional, "batch_first": batch_first}
    D = 2 if bidirectional else 1
    k = (num_layers - 1) * D + which % D  # a state of the last layer
    selection = select_slice(config, f"h_n[{k}]", seq_len=seq_len)
    (layer, direction, t), = selection["cells"]
    assert layer == num_layers - 1 and t == (seq_len - 1 if direction == 0 else 0)
    where = selection["description"].split("; ")[-1].removesuffix(" holds the same numbers")
    output, h_n = _label_tensors(config, seq_len, batch=2)
    H = 3
    picked = eval(where, {"output": output, "H": H})  # the description is valid PyTorch indexing
    torch.testing.assert_close(picked, h_n[k], rtol=0, atol=0)


@pytest.mark.parametrize(
    "highlight, error, pattern",
    [
        ("foo", ValueError, r"highlight should be 'output', 'h_n' or 'c_n'"),
        ("h_n[4]", ValueError, r"index 4 is out of bounds for axis 0 with size 4 \(h_n has shape \(4, 1, 4\) here, with batch=1\)"),
        ("h_n[x]", ValueError, r"cannot read 'x' .*names H, num_layers, num_directions, batch, seq"),
        ("h_n.view(3, 3)", ValueError, r"cannot be viewed as \(3, 3\)"),
        ("h_n[1:1]", ValueError, r"is empty"),
        ("__import__('os').getcwd()", ValueError, r"highlight should be"),
        ("output[:, 0", ValueError, r"highlight should be"),
        (3, TypeError, r"highlight should be"),
    ],
)
def test_bad_highlights_are_explained(highlight, error, pattern):
    with pytest.raises(error, match=pattern):
        select_slice(BI2, highlight)


def test_sizes_are_checked():
    with pytest.raises(ValueError, match=r"seq_len should be between 1 and 8 for the picture, got 9"):
        draw_stacked_lstm(BI2, seq_len=9)
    with pytest.raises(ValueError, match=r"at most 4 layers"):
        draw_stacked_lstm({**BI2, "num_layers": 5})
    with pytest.raises(TypeError, match=r"batch should be an int"):
        select_slice(BI2, "h_n", batch=1.5)


def _face(fig, gid):
    patch = fig.findobj(lambda artist: artist.get_gid() == gid)[0]
    return mcolors.to_hex(patch.get_facecolor())


@pytest.mark.parametrize("config", [{"input_size": 3, "hidden_size": 4}, BI2, {**BI2_BF, "num_layers": 3, "dropout": 0.2}])
def test_every_cell_and_state_is_drawn(config):
    fig = draw_stacked_lstm(config, seq_len=4)
    D = 2 if config.get("bidirectional") else 1
    L = config.get("num_layers", 1)
    for layer in range(L):
        for d in range(D):
            assert all(fig.findobj(lambda a, gid=f"cell_l{layer}_d{d}_t{t}": a.get_gid() == gid) for t in range(4))
            assert fig.findobj(lambda a, gid=f"state_{layer * D + d}": a.get_gid() == gid)
    texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    assert f"h_n[{L * D - 1}]" in texts and "c_n[0]" in texts
    assert ("output[:, 3]" if config.get("batch_first") else "output[3]") in texts
    if config.get("dropout"):
        assert "dropout p=0.2" in texts


def test_highlight_fills_the_cells_and_states_it_names():
    fig = draw_stacked_lstm(BI2, highlight="h_n[-1]")
    assert _face(fig, "cell_l1_d1_t0") == stack_plot.HIGHLIGHT_FILL
    assert _face(fig, "state_3") == stack_plot.HIGHLIGHT_FILL
    assert _face(fig, "cell_l1_d1_t3") == "#ffffff"
    assert _face(fig, "state_2") == "#ffffff"
    fig = draw_stacked_lstm(BI2_BF, highlight="output[:, 0, H:]")
    assert _face(fig, "bar_l1_d1_t0") == stack_plot.HIGHLIGHT_FILL
    assert _face(fig, "bar_l1_d0_t0") != stack_plot.HIGHLIGHT_FILL
    assert _face(fig, "cell_l1_d1_t0") == stack_plot.HIGHLIGHT_FILL
    texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    assert "highlight output[:, 0, H:]: layer 1 (the last), backward" in texts


def test_draws_into_a_given_axes():
    fig, ax = plt.subplots(figsize=(8, 5))
    assert draw_stacked_lstm(BI2, ax=ax) is fig


def _one(fig, gid):
    found = fig.findobj(lambda artist: artist.get_gid() == gid)
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


@pytest.mark.parametrize("num_layers", [2, 3])
def test_each_cell_above_layer_0_reads_both_halves_of_the_bar_below(num_layers):
    """weight_ih_l1 is (4H, 2H): the picture must not show a cell fed by one half of the bar only."""
    fig = draw_stacked_lstm({**BI2, "num_layers": num_layers}, seq_len=3)
    fig.canvas.draw()  # an arrow's path is known once drawn
    for layer in range(1, num_layers):
        for t in range(3):
            forward_half, backward_half = (_one(fig, f"bar_l{layer - 1}_d{d}_t{t}") for d in (0, 1))
            bar_left = forward_half.get_x()
            bar_right = backward_half.get_x() + backward_half.get_width()
            bar_top = forward_half.get_y() + forward_half.get_height()
            bracket = _one(fig, f"feed_l{layer}_t{t}")
            xs, ys = np.asarray(bracket.get_xdata(), float), np.asarray(bracket.get_ydata(), float)
            assert np.nanmin(xs) == pytest.approx(bar_left) and np.nanmax(xs) == pytest.approx(bar_right)
            assert np.nanmin(ys) >= bar_top  # it sits on the bar, spanning both halves
            stem_top = (xs[np.nanargmax(ys)], np.nanmax(ys))
            for d in (0, 1):
                cell = _one(fig, f"cell_l{layer}_d{d}_t{t}").get_path().get_extents(
                    _one(fig, f"cell_l{layer}_d{d}_t{t}").get_patch_transform())
                tail, *rest = _one(fig, f"feed_l{layer}_d{d}_t{t}").get_path().vertices[:-1]
                assert tuple(tail) == pytest.approx(stem_top), (layer, d, t)  # the arrow starts at the bracket
                tip = max(rest, key=lambda vertex: vertex[1])
                assert tip[1] == pytest.approx(cell.y0, abs=0.05) and cell.x0 < tip[0] < cell.x1  # ... and ends at the cell

"""The shape explorer, driven without a browser: its state function and its controls."""

import matplotlib

matplotlib.use("Agg")  # no screen needed

import matplotlib.pyplot as plt
import pytest
import torch

from lstm_course.shape_explorer import ShapeExplorer, shape_explorer_state, shapes_text


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_state_holds_the_shapes_of_a_real_lstm():
    state = shape_explorer_state(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=True,
                                 proj_size=0, batch=2, seq_len=5)
    assert state["error"] is None and state["title"] == "nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)"
    output, (h_n, c_n) = torch.nn.LSTM(**state["config"])(torch.zeros(state["input_shape"]))
    assert state["input_shape"] == (2, 5, 3)
    assert (state["shapes"]["output"], state["shapes"]["h_n"], state["shapes"]["c_n"]) == (tuple(output.shape), tuple(h_n.shape), tuple(c_n.shape))


def test_table_names_each_dim():
    table = shape_explorer_state(proj_size=2, batch=2, seq_len=4)["table"]
    lines = table.splitlines()
    assert lines[1] == "output  (batch, seq, 2 * proj_size)            (2, 4, 4)"
    assert lines[2] == "h_n     (num_layers * 2, batch, proj_size)     (4, 2, 2)"
    assert lines[3] == "c_n     (num_layers * 2, batch, hidden_size)   (4, 2, 4)"
    assert "layer 1: weight_ih (16, 4), weight_hh (16, 2), bias_ih (16,), bias_hh (16,), weight_hr (2, 4)" in lines
    assert "_reverse of the same shape" in table and lines[-1] == "512 parameters in all"
    one = shapes_text({"input_size": 3, "hidden_size": 4}, (5, 3))  # unbatched
    assert one.splitlines()[:2] == ["input   (seq, input_size)                      (5, 3)",
                                    "output  (seq, hidden_size)                     (5, 4)"]


def test_bad_choices_come_back_as_messages():
    assert "proj_size should be smaller than hidden_size=4" in shape_explorer_state(proj_size=4)["error"]
    state = shape_explorer_state(highlight="h_n[9]")
    assert "index 9 is out of bounds" in state["error"] and state["table"] is not None
    assert "FIRST step" in shape_explorer_state(highlight="output[:, -1, H:]")["highlight"]


def test_moving_the_controls_updates_the_table():
    explorer = ShapeExplorer(show_figure=False)
    assert "h_n     (num_layers * 2, batch, hidden_size)   (4, 2, 4)" in explorer.table.value
    explorer.controls["num_layers"].value = 3
    assert "(6, 2, 4)" in explorer.table.value and "num_layers=3" in explorer.table.value
    explorer.controls["bidirectional"].value = False
    assert "h_n     (num_layers, batch, hidden_size)       (3, 2, 4)" in explorer.table.value
    assert "_reverse" not in explorer.table.value
    explorer.controls["batch_first"].value = False
    assert "output  (seq, batch, hidden_size)              (4, 2, 4)" in explorer.table.value
    explorer.controls["batch"].value = 5
    explorer.controls["seq_len"].value = 7
    assert "input   (seq, batch, input_size)               (7, 5, 3)" in explorer.table.value
    explorer.controls["proj_size"].value = 3
    assert "h_n     (num_layers, batch, proj_size)         (3, 5, 3)" in explorer.table.value
    assert explorer.state["shapes"]["c_n"] == (3, 5, 4)


def test_the_highlight_box_explains_or_reports():
    explorer = ShapeExplorer(show_figure=False)
    assert "h_n[-1]: layer 1 (the last), backward" in explorer.note.value
    explorer.controls["highlight"].value = "output[:, -1, H:]"
    assert "FIRST step" in explorer.note.value
    explorer.controls["highlight"].value = "h_n["
    assert "highlight should be" in explorer.note.value and "b00020" in explorer.note.value
    assert "nn.LSTM(3, 4" in explorer.table.value  # the table stays
    explorer.controls["highlight"].value = ""
    assert explorer.note.value.endswith("#7a5c00\"></pre>")  # empty


def test_the_picture_is_redrawn(monkeypatch):
    drawn = []
    import lstm_course.shape_explorer as module

    original = module.draw_stacked_lstm
    monkeypatch.setattr(module, "draw_stacked_lstm", lambda *args, **kwargs: drawn.append(kwargs) or original(*args, **kwargs))
    explorer = ShapeExplorer()
    explorer.controls["seq_len"].value = 3
    assert [call["seq_len"] for call in drawn] == [4, 3]
    assert drawn[-1]["highlight"] == "h_n[-1]"
    explorer.controls["highlight"].value = "nonsense"
    assert drawn[-1]["highlight"] is None  # a highlight that cannot be read is not drawn


def test_repr_is_stable_and_says_the_controls():
    assert repr(ShapeExplorer(show_figure=False)) == (
        "ShapeExplorer(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=True, "
        "proj_size=0, batch=2, seq_len=4, highlight='h_n[-1]')"
    )


def test_a_bad_start_raises():
    with pytest.raises(ValueError, match="proj_size should be smaller"):
        ShapeExplorer(proj_size=4, show_figure=False)

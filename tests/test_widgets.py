import matplotlib

matplotlib.use("Agg")  # no screen needed

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lstm_course import counter, widgets

unit = st.floats(0, 1)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- gate_explorer_state ----------------------------------------------------------------


def test_forget_gate_open_and_input_gate_shut_keep_the_memory():
    state = widgets.gate_explorer_state(c_prev=1.7, i=0.0, f=1.0, g=0.9, o=1.0)
    assert state["c"] == 1.7
    assert state["h"] == pytest.approx(math.tanh(1.7), abs=1e-12)
    assert state["dominant"] == "f"


def test_forget_gate_shut_and_input_gate_open_write_the_candidate():
    state = widgets.gate_explorer_state(c_prev=2.0, i=1.0, f=0.0, g=0.5, o=0.3)
    assert state["c"] == 0.5
    assert state["h"] == pytest.approx(0.3 * math.tanh(0.5), abs=1e-12)
    assert state["dominant"] == "i"


@given(c_prev=st.floats(-10, 10), i=unit, f=unit, g=st.floats(-1, 1), o=unit)
def test_cell_update_matches_the_equations(c_prev, i, f, g, o):
    state = widgets.gate_explorer_state(c_prev, i, f, g, o)
    assert state["c"] == pytest.approx(f * c_prev + i * g, abs=1e-12)
    assert state["h"] == pytest.approx(o * math.tanh(state["c"]), abs=1e-12)
    assert state["kept"] + state["written"] == pytest.approx(state["c"], abs=1e-12)
    assert abs(state["h"]) <= o  # the output gate bounds what is shown


def test_explanation_says_what_the_gates_do():
    text = widgets.gate_explorer_state(c_prev=1.0, i=0.5, f=0.9, g=0.8, o=0.7)["explanation"]
    assert "forget gate dominates: it keeps 90% of the old memory" in text
    assert "c_t = f·c_prev + i·g = 1.300" in text
    assert "h_t = 0.70 × tanh(1.300) = 0.603" in text
    text = widgets.gate_explorer_state(c_prev=0.5, i=1.0, f=0.1, g=-0.9, o=0.05)["explanation"]
    assert "input gate writes 100% of the candidate" in text
    assert "nearly shut" in text


@pytest.mark.parametrize(
    "arguments, name, value",
    [
        (dict(i=1.5), "i", "1.5"),
        (dict(f=-0.1), "f", "-0.1"),
        (dict(o=2.0), "o", "2.0"),
        (dict(g=-1.2), "g", "-1.2"),
        (dict(i=float("nan")), "i", "nan"),
        (dict(c_prev=float("inf")), "c_prev", "inf"),
    ],
)
def test_values_out_of_range_are_named(arguments, name, value):
    values = dict(c_prev=0.0, i=0.5, f=0.5, g=0.0, o=0.5) | arguments
    with pytest.raises(ValueError, match=rf"^{name} should .*got {value}"):
        widgets.gate_explorer_state(**values)


# --- the gate explorer widget -------------------------------------------------------------


def test_gate_explorer_updates_its_readout_when_a_slider_moves():
    explorer = widgets.gate_explorer()
    assert "c_t = 1.300" in explorer.readout.value
    explorer.sliders["f"].value = 0.0
    explorer.sliders["i"].value = 1.0
    assert explorer.state["c"] == pytest.approx(0.8)
    assert "c_t = 0.800" in explorer.readout.value
    assert "new input dominates" in explorer.readout.value
    assert plt.get_fignums() == []  # each figure is closed once shown


def test_gate_explorer_rejects_starting_values_out_of_range():
    with pytest.raises(ValueError, match="g should"):
        widgets.gate_explorer(g=3.0)
    with pytest.raises(ValueError, match="c_prev should"):
        widgets.gate_explorer(c_prev=10.0)


def test_gate_explorer_sliders_keep_gates_in_range():
    explorer = widgets.GateExplorer(show_figure=False)
    assert {name: (s.min, s.max) for name, s in explorer.sliders.items()} == {
        "c_prev": widgets.C_PREV_RANGE, **widgets.GATE_RANGES
    }


def test_explorer_figure_highlights_the_dominant_part():
    fig = widgets._explorer_figure(widgets.gate_explorer_state(0.5, 1.0, 0.1, -0.9, 0.05))
    assert len(fig.axes) == 2
    bars = [bar.get_height() for bar in fig.axes[1].containers[0]]
    np.testing.assert_allclose(bars, [0.05, -0.9, -0.85, 0.05 * math.tanh(-0.85)])


def no_random_ids(text):
    return not re.search(r"0x[0-9a-f]+|[0-9a-f]{32}", text)


def test_widget_reprs_are_short_and_stable():
    explorer = widgets.GateExplorer(show_figure=False)
    assert repr(explorer) == "GateExplorer(c_prev=1.00, i=0.50, f=0.90, g=0.80, o=0.70)"
    assert explorer._repr_mimebundle_()["text/plain"] == repr(explorer)
    playground = widgets.CounterPlayground("+2 ?0", show_figure=False)
    assert repr(playground) == "CounterPlayground(program='+2 ?0')"
    assert no_random_ids(playground.table.value)


# --- counter_playground_state -------------------------------------------------------------


def test_playground_state_of_the_course_program():
    state = widgets.counter_playground_state(counter.COUNTER_PROGRAM)
    assert state["error"] is None
    assert tuple(state["textbook"]) == (0, 0, 0, 0, 0, 7, 0, 0, 6)
    assert state["real"][5] == pytest.approx(0.964, abs=5e-4)
    assert state["real"][8] == pytest.approx(0.762, abs=5e-4)
    hidden = np.delete(state["real"], [5, 8])
    assert np.abs(hidden).max() < 1e-4  # a shut output gate leaks almost nothing
    np.testing.assert_array_equal(state["inputs"], counter.COUNTER_INPUTS)
    assert state["tokens"] == counter.COUNTER_PROGRAM.split()
    assert set(state["real_trace"]) == {"i", "f", "g", "o", "c", "h"}
    assert state["summary"] == "9 steps; reveals at step 6, 9: textbook 7, 6, real LSTM 0.964, 0.762"


def test_playground_state_without_a_reveal_says_so():
    assert "nothing revealed" in widgets.counter_playground_state("+3 +4")["summary"]


@pytest.mark.parametrize(
    "program, message",
    [("1 +x 2", "cannot read '+x'"), ("   ", "the program is empty"), (None, "should be a str")],
)
def test_a_bad_program_gives_the_parser_message_instead_of_raising(program, message):
    state = widgets.counter_playground_state(program)
    assert message in state["error"]
    assert "'+5' stores 5" in state["error"]  # the parser's help comes with it
    assert state["inputs"] is None and state["real"] is None and state["summary"] is None


# --- the counter playground widget --------------------------------------------------------


def test_counter_playground_shows_the_table_and_follows_the_text_box():
    playground = widgets.counter_playground()
    assert "<td>?1</td><td>7</td><td>0.964</td>" in playground.table.value
    playground.program.value = "+2 +5 ?0"
    assert playground.state["textbook"].tolist() == [0, 0, 7]
    assert "<td>?0</td><td>7</td>" in playground.table.value
    assert "0.964" not in playground.table.value
    assert plt.get_fignums() == []


def test_counter_playground_shows_an_error_for_a_bad_program():
    playground = widgets.CounterPlayground(show_figure=False)
    playground.program.value = "+3 ?oops"
    assert "cannot read &#x27;?oops&#x27;" in playground.table.value  # escaped for HTML
    assert "<table>" not in playground.table.value
    playground.program.value = "+3 ?0"
    assert "<table>" in playground.table.value

import matplotlib

matplotlib.use("Agg")  # no screen needed

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from lstm_course import counter, plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def edge(fig, gid):
    return to_rgba(plots.artist_by_gid(fig, gid).get_edgecolor())


def muted(fig, gid):
    return edge(fig, gid) == to_rgba(plots.MUTED)


# --- draw_lstm_cell ---------------------------------------------------------------------


@pytest.mark.parametrize("highlight", plots.HIGHLIGHTS)
def test_cell_diagram_is_one_axes_for_every_highlight(highlight):
    fig = plots.draw_lstm_cell(highlight)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1


def test_no_highlight_mutes_nothing_and_gives_each_gate_its_colour():
    fig = plots.draw_lstm_cell()
    for gate in "ifgo":
        assert edge(fig, f"gate_{gate}") == to_rgba(plots.PART_COLOURS[gate])
    assert to_rgba(plots.artist_by_gid(fig, "cell_out").get_facecolor()) == to_rgba(plots.PART_COLOURS["c"])


@pytest.mark.parametrize("gate", "ifgo")
def test_highlighting_a_gate_colours_it_and_mutes_the_other_gates(gate):
    fig = plots.draw_lstm_cell(gate)
    assert edge(fig, f"gate_{gate}") == to_rgba(plots.PART_COLOURS[gate])
    assert edge(fig, f"arrow_{gate}") == to_rgba(plots.PART_COLOURS[gate])
    for other in set("ifgo") - {gate}:
        assert muted(fig, f"gate_{other}"), other
        assert muted(fig, f"arrow_{other}"), other
    assert muted(fig, "cell_in")


def test_highlighting_the_cell_state_colours_its_line_and_nodes_only():
    fig = plots.draw_lstm_cell("c")
    for gid in ("cell_in", "cell_mid", "cell_out", "node_forget", "node_add"):
        assert edge(fig, gid) == to_rgba(plots.PART_COLOURS["c"]), gid
    for gid in ("gate_i", "gate_f", "gate_g", "gate_o", "tanh_c", "h_out"):
        assert muted(fig, gid), gid


def test_highlighting_h_colours_the_tanh_branch_and_the_output():
    fig = plots.draw_lstm_cell("h")
    for gid in ("arrow_tanh", "tanh_c", "node_output", "h_out"):
        assert edge(fig, gid) == to_rgba(plots.PART_COLOURS["h"]), gid
    assert muted(fig, "gate_o")
    assert muted(fig, "cell_out")


def test_highlighted_lines_are_thicker_than_muted_ones():
    fig = plots.draw_lstm_cell("f")
    width = {gid: plots.artist_by_gid(fig, gid).get_linewidth() for gid in ("arrow_f", "arrow_i")}
    assert width["arrow_f"] > width["arrow_i"]


@pytest.mark.parametrize("bad", ["x", "F", "forget", 1, ("i",)])
def test_bad_highlight_names_the_allowed_values_and_what_was_given(bad):
    with pytest.raises(ValueError) as error:
        plots.draw_lstm_cell(bad)
    message = str(error.value)
    for allowed in ("None", "'i'", "'f'", "'g'", "'o'", "'c'", "'h'"):
        assert allowed in message
    assert repr(bad) in message


def test_cell_diagram_draws_on_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert plots.draw_lstm_cell("o", ax=right) is fig
    assert not left.patches
    assert plots.artist_by_gid(fig, "gate_o").axes is right


def test_artist_by_gid_names_a_missing_gid():
    with pytest.raises(KeyError, match="gate_z"):
        plots.artist_by_gid(plots.draw_lstm_cell(), "gate_z")


def _text_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.axes[0].texts if t.get_text().strip()]
    return {t.get_text(): t.get_window_extent(renderer) for t in texts}


@pytest.mark.parametrize("highlight", [None, "g"])
def test_no_two_labels_of_the_diagram_overlap(highlight):
    boxes = _text_boxes(plots.draw_lstm_cell(highlight))
    assert len(boxes) > 15
    for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"


@pytest.mark.parametrize("highlight", [None, "f"])
def test_labels_of_a_gate_fit_inside_its_box(highlight):
    fig = plots.draw_lstm_cell(highlight)
    boxes = _text_boxes(fig)
    renderer = fig.canvas.get_renderer()
    for gate, name in zip("ifgo", ("input gate", "forget gate", "candidate", "output gate")):
        gate_box = plots.artist_by_gid(fig, f"gate_{gate}").get_window_extent(renderer)
        label = boxes[name]
        assert gate_box.x0 < label.x0 and label.x1 < gate_box.x1, name


def test_arrows_meet_the_gate_boxes():
    fig = plots.draw_lstm_cell()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()

    def extent(gid):
        return plots.artist_by_gid(fig, gid).get_window_extent(renderer)

    for gate in "ifgo":
        box = extent(f"gate_{gate}")
        # the feed's arrow head ends at the box's bottom edge (its stroke covers the last pixels)
        assert 0 <= box.y0 - extent(f"feed_{gate}").y1 < 4, gate
        # the gate's output leaves from the box's top edge
        assert extent(f"arrow_{gate}").y0 == pytest.approx(box.y1, abs=1), gate


# --- plot_gate_traces -------------------------------------------------------------------


def texts_of(ax):
    return [t.get_text() for t in ax.texts]


def bar_heights(ax):
    (bars,) = ax.containers
    return [bar.get_height() for bar in bars]


def test_gate_traces_have_four_panels_and_mark_the_real_outputs():
    fig = plots.plot_gate_traces(counter.real_counter(), counter.COUNTER_INPUTS, title="real")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4
    ax_gates, ax_g, ax_c, ax_h = fig.axes
    assert texts_of(ax_h) == ["0.964", "0.762"]  # only where the output gate is open
    assert ax_gates.get_title() == "real"
    labelled = [line for line in ax_gates.lines if not line.get_label().startswith("_")]
    assert len(labelled) == 3  # i, f, o
    assert sorted(t.get_text() for t in ax_gates.get_legend().get_texts()) == ["f forget", "i input", "o output"]


def test_gate_traces_show_the_program_tokens_under_the_steps():
    fig = plots.plot_gate_traces(counter.textbook_counter(), counter.COUNTER_INPUTS)
    labels = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    assert labels[0] == "1\n1"
    assert labels[1] == "2\n+3"
    assert labels[5] == "6\n?1"
    assert labels[6] == "7\n!3"
    assert texts_of(fig.axes[-1]) == ["7", "6"]


def test_gate_traces_without_inputs_show_step_numbers():
    fig = plots.plot_gate_traces(counter.real_counter())
    labels = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
    assert labels == [str(t) for t in range(1, 10)]


def test_gate_traces_plot_the_trace_values():
    trace = counter.real_counter()
    fig = plots.plot_gate_traces(trace)
    ax_gates, ax_g, ax_c, ax_h = fig.axes
    np.testing.assert_allclose(ax_c.lines[0].get_ydata(), trace["c"])
    np.testing.assert_allclose(bar_heights(ax_h), trace["h"])


def test_missing_trace_keys_are_named():
    trace = counter.real_counter()
    del trace["c"], trace["o"]
    with pytest.raises(ValueError, match=r"missing the keys \['o', 'c'\]"):
        plots.plot_gate_traces(trace)


def test_unequal_trace_lengths_are_reported():
    trace = counter.real_counter()
    trace["g"] = trace["g"][:5]
    with pytest.raises(ValueError, match=r"same length.*'g': 5"):
        plots.plot_gate_traces(trace)


def test_trace_arrays_must_be_one_dimensional():
    trace = {key: values[None] for key, values in counter.real_counter().items()}
    with pytest.raises(ValueError, match=r"trace\['i'\] should be 1-D"):
        plots.plot_gate_traces(trace)


def test_inputs_must_match_the_trace_length():
    with pytest.raises(ValueError, match=r"\(9, 4\)"):
        plots.plot_gate_traces(counter.real_counter(), counter.COUNTER_INPUTS[:4])


def test_program_tokens_round_trip_and_mark_rows_no_token_writes():
    assert plots.program_tokens(counter.COUNTER_INPUTS) == counter.COUNTER_PROGRAM.split()
    assert plots.program_tokens([[2, 1, 1, 1]]) == ["·"]  # store and reveal at once


# --- plot_counter_comparison ------------------------------------------------------------


def test_counter_comparison_shows_textbook_beside_real_outputs():
    fig = plots.plot_counter_comparison(counter.COUNTER_INPUTS)
    assert len(fig.axes) == 2
    textbook, real = (bar_heights(ax) for ax in fig.axes)
    assert textbook == list(counter.TEXTBOOK_OUTPUTS)
    np.testing.assert_allclose(real, counter.real_counter()["h"])
    assert texts_of(fig.axes[0]) == ["7", "6"]
    assert texts_of(fig.axes[1]) == ["0.964", "0.762"]
    assert "textbook" in fig.axes[0].get_title() and "real" in fig.axes[1].get_title()


def test_counter_comparison_takes_a_program_text():
    fig = plots.plot_counter_comparison("+2 +5 ?0")
    assert bar_heights(fig.axes[0]) == [0, 0, 7]
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert labels == ["1\n+2", "2\n+5", "3\n?0"]


def test_counter_comparison_keeps_the_zero_line_at_the_bottom_for_positive_outputs():
    # a closed output gate leaks a tiny negative h; the axis should not dip below 0 for it
    fig = plots.plot_counter_comparison("+2 +5 ?0 ! -3 +1.5 ?0")
    assert fig.axes[1].get_ylim()[0] == 0


def test_time_ratio_bars_show_every_measured_ratio():
    results = {
        "tutorial": {"shape": (32, 10, 8, 64), "ratios": {"tiled": {"forward": 3.0}, "numpy": {"forward": 1.5}}},
        "medium": {"shape": (64, 100, 128, 256), "ratios": {"tiled": {"forward": 12.0}, "numpy": {"forward": 2.5}}},
    }
    fig = plots.plot_time_ratios(results)
    ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    assert heights == [1.5, 2.5, 3.0, 12.0]
    assert ax.get_legend_handles_labels()[1] == ["tiled", "numpy"]
    plt.close(fig)


# --- plot_first_input_effect -------------------------------------------------------------


def test_first_input_effect_plots_h_for_every_model_and_c_for_the_lstms():
    from lstm_course.fading_memory import MODELS, compare_memories

    results = compare_memories(seq=12)
    fig = plots.plot_first_input_effect(results)
    (ax,) = fig.axes
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == [f"{MODELS[0]}: $h_t$"] + [f"{model}: ${name}_t$" for model in MODELS[1:] for name in "hc"]
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.arange(1, 13))
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), results[MODELS[0]]["h"])

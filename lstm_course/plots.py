"""Figures of the course: the LSTM cell diagram, gates over time, the counter's outputs (the palette and
the shapes the diagrams share are in `lstm_course.drawing`).

Every function returns a matplotlib ``Figure`` and never calls ``plt.show()``.
"""

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle

from lstm_course import counter, drawing
from lstm_course.drawing import INK, MUTED, MUTED_TEXT, PART_COLOURS

HIGHLIGHTS = (None, "i", "f", "g", "o", "c", "h")
TRACE_KEYS = ("i", "f", "g", "o", "c", "h")

# --- the cell diagram -------------------------------------------------------------------
# Data coordinates: 12 wide, 9 high (the 4:3 of the default figure).
_R = 0.27  # radius of the ×, + nodes
_BOX_W, _BOX_H = 1.4, 1.1
_GATE_X = {"i": 3.0, "f": 4.6, "g": 6.2, "o": 7.8}  # PyTorch's order, left to right
_GATE_Y = 3.2
_BOX_TOP, _BOX_BOTTOM = _GATE_Y + _BOX_H / 2, _GATE_Y - _BOX_H / 2
_BUS_Y, _CELL_Y, _WRITE_Y, _H_Y = 1.6, 7.0, 5.1, 4.4
_TANH_X, _TANH_Y = 8.9, 5.8
_X_IN, _LEFT, _RIGHT = 2.2, 0.3, 11.7
_GATE_TEXT = {
    "i": ("$i$  σ", "input gate"),
    "f": ("$f$  σ", "forget gate"),
    "g": ("$g$  tanh", "candidate"),
    "o": ("$o$  σ", "output gate"),
}


class _Painter:
    """Colours and line widths of the diagram's parts for one ``highlight``."""

    def __init__(self, highlight, scale=1.0):
        self.highlight = highlight
        self.scale = scale  # font sizes are chosen for the default figure size

    def font(self, size):
        return size * self.scale

    def is_strong(self, parts):
        return self.highlight is None or self.highlight in parts

    def colour(self, parts):
        if not self.is_strong(parts):
            return MUTED
        part = self.highlight or parts[0]
        return PART_COLOURS.get(part, INK)

    def text_colour(self, parts):
        return self.colour(parts) if self.is_strong(parts) else MUTED_TEXT

    def width(self, parts):
        if self.highlight is None:
            return 1.6
        return 2.8 if self.highlight in parts else 1.2


def _arrow(ax, paint, points, parts, gid, head=True):
    """A polyline through ``points``, with an arrow head at the end if ``head``."""
    return drawing.arrow(ax, points, paint.colour(parts), paint.width(parts), head=head,
                         head_size=paint.font(12 + 3 * (paint.highlight in parts)), zorder=1, gid=gid)


def _box(ax, paint, centre, size, lines, parts, gid):
    """A rounded box with one or two lines of text: a gate or the tanh of the cell state."""
    (x, y), (w, h) = centre, size
    patch = drawing.box(ax, centre, w, h, paint.colour(parts), linewidth=paint.width(parts), rounding=0.15, zorder=2,
                        gid=gid)
    style = dict(ha="center", va="center", color=paint.text_colour(parts), zorder=3)
    if len(lines) == 1:
        ax.text(x, y, lines[0], fontsize=paint.font(11), **style)
    else:  # the symbol above, the name below in small print
        ax.text(x, y + 0.17, lines[0], fontsize=paint.font(11.5), **style)
        ax.text(x, y - 0.27, lines[1], fontsize=paint.font(7), **style)
    return patch


def _node(ax, paint, centre, symbol, parts, gid):
    """A circle holding × or +: a pointwise operation."""
    colour = paint.colour(parts)
    patch = Circle(centre, _R, facecolor="white", edgecolor=colour,
                   linewidth=paint.width(parts), zorder=2, gid=gid)
    ax.add_patch(patch)
    ax.text(*centre, symbol, ha="center", va="center", fontsize=paint.font(12),
            color=paint.text_colour(parts), zorder=3)
    return patch


def _dot(ax, paint, centre, parts):
    ax.add_patch(Circle(centre, 0.07, color=paint.colour(parts), zorder=2))


def _label(ax, paint, xy, text, parts, **kwargs):
    ax.text(*xy, text, fontsize=paint.font(13), color=paint.text_colour(parts), zorder=3, **kwargs)


def _draw_inputs(ax, paint):
    """h_{t-1} from the left and x_t from below join a bus that feeds every gate."""
    parts = ("inputs",)
    _arrow(ax, paint, [(_LEFT, _BUS_Y), (_GATE_X["o"], _BUS_Y)], parts, "input_h", head=False)
    _arrow(ax, paint, [(_X_IN, 0.2), (_X_IN, _BUS_Y)], parts, "input_x", head=False)
    _dot(ax, paint, (_X_IN, _BUS_Y), parts)
    _label(ax, paint, (_LEFT, _BUS_Y + 0.15), "$h_{t-1}$", parts, ha="left", va="bottom")
    _label(ax, paint, (_X_IN + 0.15, 0.3), "$x_t$", parts, ha="left", va="center")
    for gate, x in _GATE_X.items():
        _arrow(ax, paint, [(x, _BUS_Y), (x, _BOX_BOTTOM)], (gate,), f"feed_{gate}")
        if gate != "o":
            _dot(ax, paint, (x, _BUS_Y), parts)


def _draw_gates(ax, paint):
    for gate, x in _GATE_X.items():
        _box(ax, paint, (x, _GATE_Y), (_BOX_W, _BOX_H), _GATE_TEXT[gate], (gate,), f"gate_{gate}")


def _hop(x, y, r=0.2, n=9):
    """Points of a half circle over (x, y): one line jumping over another."""
    angles = np.linspace(np.pi, 0, n)
    return [(x + r * np.cos(a), y + r * np.sin(a)) for a in angles]


def _draw_cell_state(ax, paint):
    """c_{t-1} → × f → + i⊙g → c_t along the top."""
    x_f, x_g = _GATE_X["f"], _GATE_X["g"]
    _arrow(ax, paint, [(_LEFT, _CELL_Y), (x_f - _R, _CELL_Y)], ("c",), "cell_in")
    _arrow(ax, paint, [(x_f + _R, _CELL_Y), (x_g - _R, _CELL_Y)], ("c",), "cell_mid")
    _arrow(ax, paint, [(x_g + _R, _CELL_Y), (_RIGHT, _CELL_Y)], ("c",), "cell_out")
    _node(ax, paint, (x_f, _CELL_Y), "×", ("f", "c"), "node_forget")
    _node(ax, paint, (x_g, _CELL_Y), "+", ("c", "i", "g"), "node_add")
    _label(ax, paint, (_LEFT, _CELL_Y + 0.15), "$c_{t-1}$", ("c",), ha="left", va="bottom")
    _label(ax, paint, (_RIGHT, _CELL_Y + 0.15), "$c_t$", ("c",), ha="right", va="bottom")


def _draw_gate_outputs(ax, paint):
    """f scales the old memory, i⊙g is added to it, o scales tanh(c_t) into h_t."""
    x_i, x_f, x_g, x_o = (_GATE_X[k] for k in "ifgo")
    _arrow(ax, paint, [(x_f, _BOX_TOP), (x_f, _CELL_Y - _R)], ("f",), "arrow_f")
    i_path = [(x_i, _BOX_TOP), (x_i, _WRITE_Y), *_hop(x_f, _WRITE_Y), (x_g - _R, _WRITE_Y)]
    _arrow(ax, paint, i_path, ("i",), "arrow_i")
    _arrow(ax, paint, [(x_g, _BOX_TOP), (x_g, _WRITE_Y - _R)], ("g",), "arrow_g")
    _node(ax, paint, (x_g, _WRITE_Y), "×", ("write", "i", "g"), "node_write")  # i ⊙ g
    _arrow(ax, paint, [(x_g, _WRITE_Y + _R), (x_g, _CELL_Y - _R)], ("write", "i", "g"), "arrow_write")
    # tanh(c_t), gated by o, is h_t
    tanh_h = 0.6
    _dot(ax, paint, (_TANH_X, _CELL_Y), ("h", "c"))
    _arrow(ax, paint, [(_TANH_X, _CELL_Y), (_TANH_X, _TANH_Y + tanh_h / 2)], ("h",), "arrow_tanh")
    _box(ax, paint, (_TANH_X, _TANH_Y), (1.1, tanh_h), ("tanh",), ("h",), "tanh_c")
    _arrow(ax, paint, [(_TANH_X, _TANH_Y - tanh_h / 2), (_TANH_X, _H_Y + _R)], ("h",), "arrow_tanh_out")
    _arrow(ax, paint, [(x_o, _BOX_TOP), (x_o, _H_Y), (_TANH_X - _R, _H_Y)], ("o",), "arrow_o")
    _node(ax, paint, (_TANH_X, _H_Y), "×", ("o", "h"), "node_output")
    _arrow(ax, paint, [(_TANH_X + _R, _H_Y), (_RIGHT, _H_Y)], ("h",), "h_out")
    _label(ax, paint, (_RIGHT, _H_Y + 0.15), "$h_t$", ("h",), ha="right", va="bottom")


def _font_scale(ax):
    """The diagram's size on ``ax`` relative to its size on a default figure of its own."""
    box = ax.get_position()
    width, height = box.width * ax.figure.get_figwidth(), box.height * ax.figure.get_figheight()
    inches_per_unit = min(width / 12, height / 9)
    return float(np.clip(inches_per_unit / (0.98 * 6.4 / 12), 0.4, 2.0))


def draw_lstm_cell(highlight=None, ax=None):
    """Draw one LSTM cell, the gates in PyTorch's order ``i, f, g, o``.

    ``highlight`` is None or one of "i", "f", "g", "o", "c" (the cell-state path) or "h":
    that part is drawn in a strong colour and the rest muted. Each patch has a gid such as
    ``"gate_f"``, ``"arrow_f"``, ``"node_forget"``, ``"cell_out"``, ``"h_out"``.
    """
    if highlight not in HIGHLIGHTS:
        allowed = ", ".join(repr(h) for h in HIGHLIGHTS)
        raise ValueError(f"highlight should be one of {allowed}; got {highlight!r}")
    if ax is None:
        fig, ax = plt.subplots()
        ax.set_position([0.01, 0.01, 0.98, 0.98])
    paint = _Painter(highlight, _font_scale(ax))
    drawing.box(ax, (5.9, 4.325), 8.8, 6.85, "#dddddd", fill="#f6f6f6", linewidth=1.0, rounding=0.4, zorder=0,
                gid="cell_body")
    _draw_inputs(ax, paint)
    _draw_gates(ax, paint)
    _draw_cell_state(ax, paint)
    _draw_gate_outputs(ax, paint)
    equations = r"$c_t = f \odot c_{t-1} + i \odot g$        $h_t = o \odot \tanh(c_t)$"
    ax.text(6, 8.45, equations, ha="center", va="center", fontsize=paint.font(12), color=INK)
    caption = "gates in PyTorch's order i, f, g, o (the row blocks of weight_ih)"
    ax.text(10.3, 0.45, caption, ha="right", va="center", fontsize=paint.font(7.5), color="#777777")
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 9)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax.figure


def artist_by_gid(fig, gid):
    """The first artist of ``fig`` whose gid is ``gid`` (for tests and curious learners)."""
    found = fig.findobj(lambda artist: artist.get_gid() == gid)
    if not found:
        raise KeyError(f"no artist with gid {gid!r} in the figure")
    return found[0]


# --- gates over time --------------------------------------------------------------------


def _check_trace(trace):
    """The trace as a dict of 1-D float arrays of one length ``seq``."""
    if not isinstance(trace, Mapping):
        raise TypeError(f"trace should be a dict with keys {TRACE_KEYS}, got {type(trace).__name__}")
    missing = [key for key in TRACE_KEYS if key not in trace]
    if missing:
        raise ValueError(f"trace is missing the keys {missing}; it needs {list(TRACE_KEYS)}")
    arrays = {key: np.asarray(trace[key], dtype=np.float64) for key in TRACE_KEYS}
    for key, values in arrays.items():
        if values.ndim != 1:
            raise ValueError(f"trace[{key!r}] should be 1-D (seq,), got shape {values.shape}")
    lengths = {key: len(values) for key, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"the trace arrays should all have the same length, got lengths {lengths}")
    return arrays


def program_tokens(inputs):
    """One program token per row of counter inputs ``(seq, 4)``, e.g. ``['1', '+3', '?1']``.

    Rows that no program token can write (both store and reveal, say) are shown as ``'·'``.
    """
    tokens = []
    for row in np.asarray(inputs, dtype=np.float64):
        try:
            tokens.append(counter.format_program(row[None]))
        except ValueError:
            tokens.append("·")
    return tokens


def _step_labels(seq, inputs):
    steps = [str(t) for t in range(1, seq + 1)]
    if inputs is None:
        return steps
    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or len(inputs) != seq:
        raise ValueError(f"inputs should have shape ({seq}, 4) to match the trace, got {inputs.shape}")
    return [f"{step}\n{token}" for step, token in zip(steps, program_tokens(inputs))]


def plot_gate_traces(trace, inputs=None, title=None):
    """Gates, cell state and output of a one-unit LSTM over time, in four stacked panels.

    ``trace`` is the dict ``{"i", "f", "g", "o", "c", "h"}`` of arrays ``(seq,)`` that
    `counter.textbook_counter` and `counter.real_counter` return; ``inputs`` ``(seq, 4)``
    puts the program tokens under the step numbers. Steps where the output gate is open
    (o > 0.5) are shaded, and h is written on them.
    """
    trace = _check_trace(trace)
    seq = len(trace["h"])
    labels = _step_labels(seq, inputs)  # checks inputs before any figure is made
    steps = np.arange(1, seq + 1)
    fig, axes = plt.subplots(4, 1, sharex=True, figsize=(7.5, 6.5), height_ratios=[1.3, 1, 1, 1])
    ax_gates, ax_g, ax_c, ax_h = axes

    # wide lines under narrow ones, so that gates with equal values all stay visible
    for key, name, width, size, marker, style in _GATE_STYLES:
        ax_gates.plot(steps, trace[key], marker=marker, markersize=size, linewidth=width,
                      linestyle=style, color=PART_COLOURS[key], label=name)
    ax_gates.set_ylim(-0.1, 1.1)
    ax_gates.set_yticks([0, 0.5, 1])
    ax_gates.set_ylabel("gates")
    ax_gates.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)

    ax_g.plot(steps, trace["g"], marker="o", markersize=5, color=PART_COLOURS["g"])
    ax_g.set_ylabel("g\ncandidate")
    ax_c.plot(steps, trace["c"], marker="o", markersize=5, color=PART_COLOURS["c"])
    ax_c.set_ylabel("c\ncell state")
    ax_h.bar(steps, trace["h"], width=0.5, color=PART_COLOURS["h"])
    ax_h.set_ylabel("h\noutput")
    _annotate_open_steps(ax_h, steps, trace)

    for ax in axes:
        ax.axhline(0, color="#999999", linewidth=0.6, zorder=0)
        ax.grid(axis="y", alpha=0.3)
        for t in steps[trace["o"] > 0.5]:
            ax.axvspan(t - 0.4, t + 0.4, color=PART_COLOURS["o"], alpha=0.08, linewidth=0)
    ax_h.set_xticks(steps, labels)
    ax_h.set_xlim(0.4, seq + 0.6)
    ax_h.set_xlabel("time step" if inputs is None else "time step and program token")
    if title:
        ax_gates.set_title(title)
    fig.align_ylabels(axes)
    fig.tight_layout()
    _fit_to_steps(ax_h, labels)
    fig.tight_layout()
    return fig


_GATE_STYLES = (  # key, legend, line width, marker size, marker, line style
    ("f", "f forget", 3.2, 8, "s", "-"),
    ("i", "i input", 1.8, 6, "o", "-"),
    ("o", "o output", 1.2, 4.5, "^", "--"),
)


def _bar_limits(ax, values, pad=0.25):
    """y limits around bars from 0 to ``values``, with room for their labels.

    Values below 0 by less than 0.1% of the range (a closed gate's leak) count as 0.
    """
    low, high = min(values.min(), 0), max(values.max(), 0)
    span = high - low or 1
    if low > -1e-3 * span:
        low = 0
    ax.set_ylim(low - pad * span * (low < 0), high + pad * span)


def _label_bars(ax, steps, values, **kwargs):
    for t, value in zip(steps, values):
        ax.annotate(f"{value:.3g}", (t, value), xytext=(0, 3 if value >= 0 else -3),
                    textcoords="offset points", ha="center",
                    va="bottom" if value >= 0 else "top", fontsize=9, **kwargs)


def _fit_to_steps(ax, labels):
    """Size the step labels and the bar labels to the room each step has on the axis.

    Tick labels shrink, down to 7 points, then only every k-th step is labelled. Call it
    after a first ``tight_layout``: the room is measured on the laid-out axes.
    """
    per_step = ax.get_position().width * ax.figure.get_figwidth() / len(labels)  # inches
    widest = max(len(line) for label in labels for line in label.split("\n"))

    def tick_fontsize(every):  # 10 points need about 0.09 inch a character
        return min(10.0, 10 * every * per_step / (0.09 * widest + 0.05))

    every = next(k for k in range(1, len(labels) + 1) if tick_fontsize(k) >= 7 or k == len(labels))
    shown = [label if t % every == 0 else "" for t, label in enumerate(labels)]
    ax.set_xticks(np.arange(1, len(labels) + 1), shown, fontsize=tick_fontsize(every))
    # values over the bars, such as "0.964": 9 points need about 0.4 inch between neighbours
    steps_apart = np.diff(sorted(text.xy[0] for text in ax.texts)).min(initial=len(labels))
    for text in ax.texts:
        text.set_fontsize(float(np.clip(9 * steps_apart * per_step / 0.4, 6, 9)))


def _annotate_open_steps(ax, steps, trace):
    """Write h on the steps where the output gate is open, with room above the bars."""
    h, open_steps = trace["h"], trace["o"] > 0.5
    _bar_limits(ax, h)
    _label_bars(ax, steps[open_steps], h[open_steps], color=PART_COLOURS["h"])


# --- the counter ------------------------------------------------------------------------


def plot_counter_comparison(inputs=counter.COUNTER_INPUTS):
    """The counter's outputs h, textbook form beside the real LSTM, for one program.

    ``inputs`` is ``(seq, 4)`` or a program text such as ``"+3 +4 ?1"``.
    """
    if isinstance(inputs, str):
        inputs = counter.parse_program(inputs)
    outputs = {
        "textbook: rounded gates, no tanh": counter.textbook_counter(inputs)["h"],
        "real LSTM: sigmoid gates, tanh": counter.real_counter(inputs)["h"],
    }
    steps = np.arange(1, len(inputs) + 1)
    labels = _step_labels(len(inputs), inputs)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (name, h), colour in zip(axes, outputs.items(), (INK, PART_COLOURS["h"])):
        ax.bar(steps, h, width=0.6, color=colour)
        shown = np.abs(h) > 1e-3  # label the outputs, not a closed gate's leak
        _label_bars(ax, steps[shown], h[shown])
        _bar_limits(ax, h, pad=0.2)
        ax.axhline(0, color="#999999", linewidth=0.6)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("time step and program token")
        ax.set_ylabel("output h")
        ax.set_xticks(steps, labels)
    fig.tight_layout()
    for ax in axes:
        _fit_to_steps(ax, labels)
    fig.tight_layout()
    return fig


def plot_time_ratios(results):
    """Bars of time / nn.LSTM's time, one group per size, from ``benchmark.time_ratios``.

    One panel per mode (forward, forward+backward); a dashed line marks 1 (as fast as nn.LSTM).
    """
    sizes = list(results)
    modes = list(dict.fromkeys(m for r in results.values() for ratios in r["ratios"].values() for m in ratios))
    names = list(dict.fromkeys(n for r in results.values() for n in r["ratios"]))
    fig, axes = plt.subplots(1, len(modes), figsize=(5.5 * len(modes), 3.6), squeeze=False)
    width = 0.8 / len(names)
    for ax, mode in zip(axes[0], modes):
        for k, name in enumerate(names):
            values = [results[size]["ratios"].get(name, {}).get(mode, np.nan) for size in sizes]
            positions = np.arange(len(sizes)) + (k - (len(names) - 1) / 2) * width
            bars = ax.bar(positions, values, width, label=name)
            ax.bar_label(bars, labels=["" if np.isnan(v) else f"{v:.1f}" for v in values], fontsize=7, padding=1)
        ax.axhline(1, color=INK, linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.set_xticks(range(len(sizes)), [f"{s}\n{results[s]['shape']}" for s in sizes], fontsize=8)
        ax.set_ylabel("time / nn.LSTM's time")
        ax.set_title(mode)
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle("Lower is faster; 1 = as fast as nn.LSTM. Sizes: (batch, seq, input, hidden)", fontsize=9)
    fig.tight_layout()
    return fig


# --- why gates: how long the first input is remembered --------------------------------------

_MEMORY_COLOURS = ("#777777", PART_COLOURS["f"], PART_COLOURS["h"])  # plain RNN, LSTM as initialised, f near 1


def plot_first_input_effect(results):
    """What is left of the first input at each step, log scale, from ``fading_memory.compare_memories``.

    A solid line per model for h_t, a dashed one for an LSTM's cell state c_t.
    """
    fig, ax = plt.subplots(figsize=(7, 4))
    for (model, effect), colour in zip(results.items(), _MEMORY_COLOURS):
        steps = np.arange(1, len(effect["h"]) + 1)
        ax.plot(steps, effect["h"], color=colour, marker="o", markersize=3, label=f"{model}: $h_t$")
        if "c" in effect:
            ax.plot(steps, effect["c"], color=colour, linestyle="--", linewidth=1, label=f"{model}: $c_t$")
    ax.set_yscale("log")
    ax.set_xlabel("time step t (the first input enters at t = 1)")
    ax.set_ylabel("change at step t\n(1 = the change at step 1)")
    ax.set_title("Change the first input: how much does step t still feel it?", fontsize=10)
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=8, loc="lower left")  # the lines start at 1, top left, and fall to the right
    fig.tight_layout()
    return fig

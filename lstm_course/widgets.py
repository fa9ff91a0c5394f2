"""Interactive front ends for the notebooks: the gate explorer and the counter playground.

The logic lives in plain functions (`gate_explorer_state`, `counter_playground_state`) that
tests call without a browser; the widgets only show what those return.
"""

import html
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from lstm_course import counter, plots

# --- gate explorer ------------------------------------------------------------------------

GATE_RANGES = {"i": (0.0, 1.0), "f": (0.0, 1.0), "g": (-1.0, 1.0), "o": (0.0, 1.0)}
_GATE_RANGE_WHY = {"i": "a sigmoid", "f": "a sigmoid", "g": "a tanh", "o": "a sigmoid"}
C_PREV_RANGE = (-3.0, 3.0)  # the slider's range; the function takes any finite c_prev


def _check_inputs(c_prev, gates):
    if not math.isfinite(c_prev):
        raise ValueError(f"c_prev should be a finite number, got {c_prev!r}")
    for name, value in gates.items():
        low, high = GATE_RANGES[name]
        if not low <= value <= high:  # also False for nan
            why = f"the output of {_GATE_RANGE_WHY[name]}"
            raise ValueError(f"{name} should be in [{low:g}, {high:g}] ({why}), got {value!r}")


def _explain(c_prev, i, f, g, o, kept, written, c, h):
    """Four short lines: what dominates, the two parts of c_t and their sum, what the output shows."""
    if abs(kept) >= abs(written):
        lead = f"the forget gate dominates: it keeps {f:.0%} of the old memory"
    else:
        lead = f"new input dominates: the input gate writes {i:.0%} of the candidate"
    shown = "is nearly shut, so h_t stays near 0" if o < 0.1 else f"shows {o:.0%} of tanh(c_t)"
    return (
        f"{lead}.\n"
        f"f·c_prev = {f:.2f} × {c_prev:.2f} = {kept:.3f};  i·g = {i:.2f} × {g:.2f} = {written:.3f}\n"
        f"c_t = f·c_prev + i·g = {c:.3f}\n"
        f"output gate {shown}: h_t = {o:.2f} × tanh({c:.3f}) = {h:.3f}"
    )


def gate_explorer_state(c_prev, i, f, g, o):
    """One cell update from gate values you choose.

    ``c = f * c_prev + i * g`` and ``h = o * tanh(c)``. Gates ``i, f, o`` lie in [0, 1],
    the candidate ``g`` in [-1, 1]. Returns a dict with ``c``, ``h``, the two parts of ``c``
    (``kept`` = f·c_prev, ``written`` = i·g), ``dominant`` (the diagram part that moves c
    the most: "f" or "i") and a short ``explanation``.
    """
    c_prev, i, f, g, o = (float(v) for v in (c_prev, i, f, g, o))
    _check_inputs(c_prev, {"i": i, "f": f, "g": g, "o": o})
    kept, written = f * c_prev, i * g
    c = kept + written
    h = o * math.tanh(c)
    return {
        "c": c,
        "h": h,
        "kept": kept,
        "written": written,
        "dominant": "f" if abs(kept) >= abs(written) else "i",
        "explanation": _explain(c_prev, i, f, g, o, kept, written, c, h),
    }


def _explorer_figure(state):
    """The cell diagram with the dominant part highlighted, beside bars of c's parts and h."""
    fig = plt.figure(figsize=(10, 4.6))
    ax_cell = fig.add_axes((0, 0, 0.62, 1))  # placed before drawing: the diagram sizes its text to it
    ax_bars = fig.add_axes((0.69, 0.1, 0.29, 0.8))
    plots.draw_lstm_cell(highlight=state["dominant"], ax=ax_cell)
    names = ["f·c_prev", "i·g", "c_t", "h_t"]
    values = [state["kept"], state["written"], state["c"], state["h"]]
    colours = [plots.PART_COLOURS[k] for k in ("f", "i", "c", "h")]
    ax_bars.bar(names, values, color=colours)
    ax_bars.axhline(0, color="#999999", linewidth=0.6)
    ax_bars.set_ylim(-4.2, 4.2)  # fixed, so that moving a slider moves the bars, not the axis
    for x, value in enumerate(values):
        ax_bars.annotate(f"{value:.2f}", (x, value), xytext=(0, 3 if value >= 0 else -3),
                         textcoords="offset points", ha="center", va="bottom" if value >= 0 else "top")
    ax_bars.set_title("the parts of c_t, and h_t", fontsize=10)
    return fig


def _show_figure(output, fig):
    """Replace what ``output`` shows by ``fig``, then close it so it is shown only once."""
    output.clear_output(wait=True)
    with output:
        display(fig)
    plt.close(fig)


def pre_html(text, colour=None, wrap=True):
    """Text as preformatted HTML for a widgets.HTML, optionally coloured.

    With ``wrap`` long lines break at spaces (JupyterLab would otherwise break them inside
    numbers); without it lines stay whole and scroll sideways, which keeps a table's columns.
    """
    style = "white-space:pre-wrap;word-break:normal" if wrap else "white-space:pre;overflow-x:auto"
    if colour:
        style += f";color:{colour}"
    return f"<pre style=\"{style}\">{html.escape(text)}</pre>"


class GateExplorer(widgets.VBox):
    """Sliders for c_prev, i, f, g, o; the resulting c_t, h_t as text and as a figure.

    Drive it without a browser: ``explorer.sliders["f"].value = 0.2`` calls `update`, after
    which ``explorer.state`` and ``explorer.readout.value`` hold the new numbers.
    """

    def __init__(self, c_prev=1.0, i=0.5, f=0.9, g=0.8, o=0.7, show_figure=True):
        start = {"c_prev": c_prev, "i": i, "f": f, "g": g, "o": o}
        gate_explorer_state(**start)  # a ValueError for a gate out of range
        if not C_PREV_RANGE[0] <= c_prev <= C_PREV_RANGE[1]:
            raise ValueError(f"c_prev should be in [{C_PREV_RANGE[0]:g}, {C_PREV_RANGE[1]:g}] "
                             f"for the slider, got {c_prev!r}")
        ranges = {"c_prev": C_PREV_RANGE, **GATE_RANGES}
        sliders = {
            name: widgets.FloatSlider(value=value, min=ranges[name][0], max=ranges[name][1], step=0.01,
                                      description=name, continuous_update=False, readout_format=".2f")
            for name, value in start.items()
        }
        readout, output = widgets.HTML(), widgets.Output()
        super().__init__([widgets.HBox([widgets.VBox(list(sliders.values())), readout]), output])
        self.sliders, self.readout, self.output = sliders, readout, output
        self.show_figure = show_figure
        self.state = None
        for slider in sliders.values():
            slider.observe(self.update, names="value")
        self.update()

    def slider_values(self):
        return {name: slider.value for name, slider in self.sliders.items()}

    def update(self, change=None):
        """Recompute from the sliders and redraw; the sliders' observer."""
        self.state = gate_explorer_state(**self.slider_values())
        self.readout.value = pre_html(
            f"c_t = {self.state['c']:.3f}    h_t = {self.state['h']:.3f}\n\n{self.state['explanation']}"
        )
        if self.show_figure:
            _show_figure(self.output, _explorer_figure(self.state))

    def __repr__(self):
        values = ", ".join(f"{name}={value:.2f}" for name, value in self.slider_values().items())
        return f"GateExplorer({values})"


def gate_explorer(c_prev=1.0, i=0.5, f=0.9, g=0.8, o=0.7):
    """A widget to move gate values and watch c_t and h_t (see `GateExplorer`)."""
    return GateExplorer(c_prev, i, f, g, o)


# --- counter playground -------------------------------------------------------------------


def _summary(tokens, textbook, real, reveals):
    if not reveals.any():
        return f"{len(tokens)} steps, nothing revealed: add a '?' token to show the memory"
    steps = np.flatnonzero(reveals) + 1
    shown_textbook = ", ".join(f"{v:g}" for v in textbook[reveals])
    shown_real = ", ".join(f"{v:.3f}" for v in real[reveals])
    return (f"{len(tokens)} steps; reveals at step {', '.join(map(str, steps))}: "
            f"textbook {shown_textbook}, real LSTM {shown_real}")


def counter_playground_state(program_text):
    """Run a counter program through the textbook and the real LSTM.

    Returns a dict: ``program``, ``inputs`` ``(seq, 4)``, ``tokens``, ``textbook`` and
    ``real`` (the outputs h, each ``(seq,)``), ``real_trace`` (every gate of the real LSTM),
    ``summary`` (one line) and ``error`` (None). A program that cannot be read gives the
    parser's message in ``error`` and None elsewhere, instead of raising.
    """
    state = {"program": program_text, "inputs": None, "tokens": None, "textbook": None,
             "real": None, "real_trace": None, "summary": None, "error": None}
    try:
        inputs = counter.parse_program(program_text)
    except (ValueError, TypeError) as error:
        state["error"] = str(error)
        return state
    textbook = counter.textbook_counter(inputs)["h"]
    real_trace = counter.real_counter(inputs)
    tokens = plots.program_tokens(inputs)
    reveals = inputs[:, 2] == 1  # x3 = 1
    state.update(inputs=inputs, tokens=tokens, textbook=textbook, real=real_trace["h"],
                 real_trace=real_trace, summary=_summary(tokens, textbook, real_trace["h"], reveals))
    return state


def _outputs_table(state):
    """An HTML table: step, token, textbook h, real h; the reveal steps in bold."""
    rows = ["<tr><th>step</th><th>token</th><th>textbook h</th><th>real LSTM h</th></tr>"]
    for t, (token, book, real, x) in enumerate(zip(state["tokens"], state["textbook"], state["real"],
                                                   state["inputs"]), start=1):
        weight = "bold" if x[2] == 1 else "normal"
        rows.append(f'<tr style="font-weight:{weight}"><td>{t}</td><td>{html.escape(token)}</td>'
                    f"<td>{book:g}</td><td>{real:.3f}</td></tr>")
    return f"<p>{html.escape(state['summary'])}</p><table>{''.join(rows)}</table>"


class CounterPlayground(widgets.VBox):
    """A text box for a counter program; a table of textbook versus real outputs and the gates.

    Drive it without a browser: ``playground.program.value = "+2 ?0"`` calls `update`, after
    which ``playground.state`` and ``playground.table.value`` hold the new results.
    """

    def __init__(self, program=counter.COUNTER_PROGRAM, show_figure=True):
        text = widgets.Text(value=program, description="program", continuous_update=False,
                            layout=widgets.Layout(width="90%"))
        help_text = widgets.HTML(pre_html(counter.PROGRAM_HELP, colour="#666666"))
        table, output = widgets.HTML(), widgets.Output()
        super().__init__([text, help_text, widgets.HBox([table, output])])
        self.program, self.table, self.output = text, table, output
        self.show_figure = show_figure
        self.state = None
        text.observe(self.update, names="value")
        self.update()

    def update(self, change=None):
        """Run the program in the text box and redraw; the text box's observer."""
        self.state = counter_playground_state(self.program.value)
        if self.state["error"]:
            self.table.value = pre_html(self.state["error"], colour="#b00020")
            self.output.clear_output()
            return
        self.table.value = _outputs_table(self.state)
        if self.show_figure:
            fig = plots.plot_gate_traces(self.state["real_trace"], self.state["inputs"], title="real LSTM")
            _show_figure(self.output, fig)

    def __repr__(self):
        return f"CounterPlayground(program={self.program.value!r})"


def counter_playground(program=counter.COUNTER_PROGRAM):
    """A widget to run your own counter program (see `CounterPlayground`)."""
    return CounterPlayground(program)


# --- sampling explorer (notebook 07) ------------------------------------------------------


def sample_explorer_state(lm, prompt, temperature, length, seed):
    """What ``lm.sample`` writes for these settings: a dict with ``text`` and ``error`` (the ValueError's message, or None)."""
    state = {"prompt": prompt, "temperature": temperature, "length": length, "seed": seed, "text": None, "error": None}
    try:
        state["text"] = lm.sample(prompt, length=length, temperature=temperature, seed=seed)
    except ValueError as error:
        state["error"] = str(error)
    return state


class SampleExplorer(widgets.VBox):
    """A prompt, a temperature, a length and a seed; the text the model writes from them.

    Drive it without a browser: ``explorer.prompt.value = "The"`` calls `update`, after which
    ``explorer.state`` and ``explorer.readout.value`` hold the new text.
    """

    def __init__(self, lm, prompt="The film", temperature=0.8, length=200, seed=0):
        self.lm = lm
        self.prompt = widgets.Text(value=prompt, description="prompt", continuous_update=False)
        self.temperature = widgets.FloatSlider(value=temperature, min=0.05, max=2.0, step=0.05, description="temperature",
                                               continuous_update=False, readout_format=".2f",
                                               style={"description_width": "initial"})
        self.length = widgets.IntSlider(value=length, min=0, max=600, step=10, description="length", continuous_update=False)
        self.seed = widgets.IntText(value=seed, description="seed")
        self.readout = widgets.HTML()
        controls = [self.prompt, self.temperature, self.length, self.seed]
        super().__init__([widgets.HBox(controls[:2]), widgets.HBox(controls[2:]), self.readout])
        self.state = None
        for control in controls:
            control.observe(self.update, names="value")
        self.update()

    def update(self, change=None):
        """Write a new text from the controls' values; their observer."""
        self.state = sample_explorer_state(self.lm, self.prompt.value, self.temperature.value, self.length.value, self.seed.value)
        if self.state["error"]:
            self.readout.value = pre_html(self.state["error"], colour="#b00020")
            return
        written = self.state["text"][len(self.state["prompt"]):]
        self.readout.value = (f"<pre style=\"white-space:pre-wrap;word-break:normal\"><b>{html.escape(self.state['prompt'])}</b>"
                              f"{html.escape(written)}</pre>")

    def __repr__(self):
        return (f"SampleExplorer(prompt={self.prompt.value!r}, temperature={self.temperature.value:.2f}, "
                f"length={self.length.value}, seed={self.seed.value})")

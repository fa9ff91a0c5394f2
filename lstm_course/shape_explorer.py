"""The shape explorer of notebook 04: choose an LSTM's configuration, see its shapes and its picture.

The logic lives in `shape_explorer_state`, a plain function that tests call without a browser;
`ShapeExplorer` only shows what it returns.
"""


import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display

from lstm_course.shapes import config_text, lstm_config, lstm_shapes, num_directions
from lstm_course.stack_plot import MAX_LAYERS, MAX_SEQ_LEN, draw_stacked_lstm, select_slice
from lstm_course.widgets import pre_html

MAX_BATCH = 8


def _layouts(config, batched):
    """The name of each dim, as PyTorch's documentation writes them."""
    D = num_directions(config)
    h = "proj_size" if config["proj_size"] else "hidden_size"
    layers = "num_layers * 2" if D == 2 else "num_layers"
    out = f"2 * {h}" if D == 2 else h
    if not batched:
        return {"input": "(seq, input_size)", "output": f"(seq, {out})",
                "h_n": f"({layers}, {h})", "c_n": f"({layers}, hidden_size)"}
    first = "batch, seq" if config["batch_first"] else "seq, batch"
    return {"input": f"({first}, input_size)", "output": f"({first}, {out})",
            "h_n": f"({layers}, batch, {h})", "c_n": f"({layers}, batch, hidden_size)"}


def shapes_text(config, input_shape):
    """A text table: each tensor's layout and shape, then the parameters of layer 0 and the count."""
    config = lstm_config(config)
    shapes = lstm_shapes(config, input_shape)
    layouts = _layouts(config, batched=len(input_shape) == 3)
    sizes = {"input": tuple(input_shape), **{key: shapes[key] for key in ("output", "h_n", "c_n")}}
    lines = [f"{name:<7} {layouts[name]:<38} {sizes[name]}" for name in sizes]
    lines.append("")
    for layer in range(config["num_layers"]):
        names = [name for name in shapes["parameters"] if name.endswith(f"_l{layer}")]
        lines.append(f"layer {layer}: " + ", ".join(f"{name.split('_l')[0]} {shapes['parameters'][name]}" for name in names))
    if config["bidirectional"]:
        lines.append("(each has a twin ..._reverse of the same shape for the backward direction)")
    lines.append(f"{shapes['num_parameters']:,} parameters in all")
    return "\n".join(lines)


def shape_explorer_state(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=True,
                         proj_size=0, batch=2, seq_len=4, highlight=""):
    """Everything the shape explorer shows, for one choice of its controls.

    Returns a dict: ``config`` (nn.LSTM's arguments), ``title`` (``nn.LSTM(...)``), ``input_shape``,
    ``shapes`` (from `lstm_shapes`), ``table`` (text), ``highlight`` (the slice's description, or
    None) and ``error`` (None). A choice nn.LSTM would refuse (such as ``proj_size >= hidden_size``)
    or a highlight that cannot be read gives its message in ``error`` instead of raising.
    """
    state = {"config": None, "title": None, "input_shape": None, "shapes": None, "table": None,
             "highlight": None, "error": None}
    config = {"input_size": input_size, "hidden_size": hidden_size, "num_layers": num_layers,
              "bidirectional": bidirectional, "batch_first": batch_first, "proj_size": proj_size}
    try:
        config = lstm_config(config)
        input_shape = (batch, seq_len, input_size) if batch_first else (seq_len, batch, input_size)
        state.update(config=config, title=config_text(config), input_shape=input_shape,
                     shapes=lstm_shapes(config, input_shape), table=shapes_text(config, input_shape))
        if highlight and highlight.strip():
            state["highlight"] = select_slice(config, highlight, seq_len=seq_len, batch=batch)["description"]
    except (TypeError, ValueError) as error:
        state["error"] = str(error)
    return state


class ShapeExplorer(widgets.VBox):
    """Controls for an LSTM's configuration and input; its shapes as a table and as a picture.

    Drive it without a browser: ``explorer.controls["num_layers"].value = 3`` calls `update`, after
    which ``explorer.state`` and ``explorer.table.value`` hold the new shapes.
    """

    def __init__(self, input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=True,
                 proj_size=0, batch=2, seq_len=4, highlight="h_n[-1]", show_figure=True):
        start = shape_explorer_state(input_size, hidden_size, num_layers, bidirectional, batch_first,
                                     proj_size, batch, seq_len, highlight)
        if start["error"]:
            raise ValueError(start["error"])
        self.input_size, self.hidden_size = input_size, hidden_size

        def slider(value, low, high, description):
            return widgets.IntSlider(value=value, min=low, max=high, description=description, continuous_update=False)

        self.controls = {
            "num_layers": slider(num_layers, 1, MAX_LAYERS, "num_layers"),
            "bidirectional": widgets.Checkbox(value=bidirectional, description="bidirectional"),
            "batch_first": widgets.Checkbox(value=batch_first, description="batch_first"),
            "proj_size": slider(proj_size, 0, hidden_size - 1, "proj_size"),
            "batch": slider(batch, 1, MAX_BATCH, "batch"),
            "seq_len": slider(seq_len, 1, MAX_SEQ_LEN, "seq_len"),
            "highlight": widgets.Text(value=highlight, description="highlight", continuous_update=False,
                                      placeholder="e.g. h_n[-1] or output[:, 0, H:]"),
        }
        heading = widgets.HTML(pre_html(f"input_size = {input_size}\nhidden_size = {hidden_size}", colour="#666666"))
        self.table, self.note, self.output = widgets.HTML(), widgets.HTML(), widgets.Output()
        column = widgets.VBox([heading, *self.controls.values()])
        super().__init__([widgets.HBox([column, widgets.VBox([self.table, self.note])]), self.output])
        self.show_figure = show_figure
        self.state = None
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.update()

    def values(self):
        return {name: control.value for name, control in self.controls.items()}

    def update(self, change=None):
        """Recompute from the controls and redraw; every control's observer."""
        self.state = shape_explorer_state(self.input_size, self.hidden_size, **self.values())
        if self.state["error"]:
            self.note.value = pre_html(self.state["error"], colour="#b00020")
            if self.state["table"] is None:
                return
        else:
            self.note.value = pre_html(self.state["highlight"] or "", colour="#7a5c00")
        self.table.value = pre_html(f"{self.state['title']}\n\n{self.state['table']}", wrap=False)
        if self.show_figure:
            highlight = self.controls["highlight"].value if self.state["highlight"] else None
            values = self.values()
            fig = draw_stacked_lstm(self.state["config"], seq_len=values["seq_len"], batch=values["batch"], highlight=highlight)
            self.output.clear_output(wait=True)
            with self.output:
                display(fig)
            plt.close(fig)

    def __repr__(self):
        values = ", ".join(f"{name}={value!r}" for name, value in self.values().items())
        return f"ShapeExplorer(input_size={self.input_size}, hidden_size={self.hidden_size}, {values})"


def shape_explorer(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=True,
                   proj_size=0, batch=2, seq_len=4, highlight="h_n[-1]"):
    """A widget to choose an LSTM's configuration and see its shapes and picture (see `ShapeExplorer`)."""
    return ShapeExplorer(input_size, hidden_size, num_layers, bidirectional, batch_first, proj_size, batch, seq_len, highlight)

"""A picture of a stacked, bidirectional LSTM: which cell feeds which, and where each slice comes from.

``draw_stacked_lstm(config, seq_len=4, highlight=None)`` unrolls an LSTM over time as a grid of
cells, layers × directions × time, and shows which cells make up ``output``, ``h_n`` and ``c_n``.
``select_slice(config, highlight)`` is the logic behind ``highlight``: it says which cells a slice
such as ``"h_n[-1]"`` or ``"output[:, 0, H:]"`` comes from, without drawing anything.

What ``highlight`` understands: ``"output"``, ``"h_n"`` or ``"c_n"``, optionally indexed as in
PyTorch (ints, negative ints, slices, ``...``), and optionally ``.view(...)`` first:

- ``output`` has the LSTM's layout: ``(seq, batch, D * H)``, or ``(batch, seq, D * H)`` with
  ``batch_first=True``; so ``"output[:, 0, H:]"`` means "time step 0, backward half" when
  batch first, and "every step of sample 0, backward half" when not. Its last dim holds the
  forward direction's ``H`` units, then the backward direction's.
- ``h_n`` and ``c_n`` are ``(num_layers * D, batch, H)`` whatever ``batch_first`` says; entry
  ``k`` is layer ``k // D``, direction ``k % D`` (0 forward, 1 backward).
- In an index, ``H`` is the width of one direction of that tensor (``proj_size or hidden_size``
  for ``output`` and ``h_n``, ``hidden_size`` for ``c_n``); ``num_layers``, ``num_directions``,
  ``batch`` and ``seq`` may be used too, e.g. ``"h_n.view(num_layers, num_directions, batch, H)[-1, 1]"``.

Here ``D`` is 2 when bidirectional, else 1. The picture shows one sample (``batch`` only sizes the
arrays an index is checked against).
"""

import ast
import operator
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from lstm_course import drawing
from lstm_course.drawing import DIRECTION_COLOURS, HIGHLIGHT_EDGE, HIGHLIGHT_FILL, INK, MUTED, MUTED_TEXT
from lstm_course.shapes import config_text, lstm_config, num_directions, output_width

TENSORS = ("output", "h_n", "c_n")
MAX_SEQ_LEN, MAX_LAYERS = 8, 4
DIRECTION_NAMES = ("forward", "backward")
ARROWS = ("→", "←")
INPUT_COLOUR = "#495057"

# ----------------------------------------------------------------------------- the logic


def _directional_final_step(direction, seq_len):
    """The time step at which a direction ends: the last one forward, t = 0 backward."""
    return seq_len - 1 if direction == 0 else 0


def _codes(tensor, config, seq_len, batch):
    """An array shaped like ``tensor`` whose every element holds the number of the cell it comes from.

    Cells are numbered ``(layer * D + direction) * seq_len + t``.
    """
    D, L = num_directions(config), config["num_layers"]
    if tensor == "output":
        W = output_width(config)
        t = np.arange(seq_len)[:, None, None]
        direction = (np.arange(D * W) // W)[None, None, :]
        codes = ((L - 1) * D + direction) * seq_len + t + np.zeros((1, batch, 1), dtype=int)  # (seq, batch, D * W)
        return codes.transpose(1, 0, 2) if config["batch_first"] else codes
    W = output_width(config) if tensor == "h_n" else config["hidden_size"]
    k = np.arange(L * D)  # layer * D + direction
    final = np.where(k % D == 0, seq_len - 1, 0)
    return np.broadcast_to((k * seq_len + final)[:, None, None], (L * D, batch, W)).copy()


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}


def _number(node, names, text):
    """An int from a small expression of ints and the names in ``names``; nothing else is run."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(node.operand, names, text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_number(node.left, names, text), _number(node.right, names, text))
    raise ValueError(
        f"cannot read {ast.unparse(node)!r} in highlight {text!r}: use ints, slices (a:b), ... and the names "
        f"{', '.join(names)}"
    )


def _index_part(node, names, text):
    if isinstance(node, ast.Slice):
        return slice(*(None if part is None else _number(part, names, text) for part in (node.lower, node.upper, node.step)))
    if isinstance(node, ast.Constant) and node.value is Ellipsis:
        return Ellipsis
    return _number(node, names, text)


def _parse(text):
    """(tensor name, view arguments or None, index node or None) of a highlight string."""
    usage = f"highlight should be 'output', 'h_n' or 'c_n', optionally indexed like 'h_n[-1]' or 'output[:, 0, H:]'; got {text!r}"
    if not isinstance(text, str):
        raise TypeError(usage)
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(usage) from None
    index = None
    if isinstance(node, ast.Subscript):
        node, index = node.value, node.slice
    view = None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("view", "reshape"):
        if node.keywords:
            raise ValueError(usage)
        node, view = node.func.value, node.args
    if not (isinstance(node, ast.Name) and node.id in TENSORS):
        raise ValueError(usage)
    return node.id, view, index


def _steps_text(steps):
    steps = sorted(steps)
    if len(steps) > 2 and steps == list(range(steps[0], steps[-1] + 1)):
        return f"t={steps[0]}…{steps[-1]}"
    return "t=" + ", ".join(map(str, steps))


def _group_text(layer, direction, steps, seq_len, num_layers, D):
    name = f"layer {layer}" + (" (the last)" if layer == num_layers - 1 and num_layers > 1 else "")
    if D == 2:
        name += f", {DIRECTION_NAMES[direction]} {ARROWS[direction]}"
    text = f"{name}, at {_steps_text(steps)}"
    if len(steps) == 1:
        final = _directional_final_step(direction, seq_len)
        if steps[0] == final:
            text += " (its final step)"
        elif seq_len > 1 and steps[0] == seq_len - 1 - final:
            text += f" (its FIRST step: its final step is t={final})"
        else:
            text += f" (its final step is t={final})"
    return text


def _same_values(tensor, cell, config, seq_len):
    """Where else the numbers of one final-step cell of the last layer appear, if anywhere."""
    layer, direction, t = cell
    D = num_directions(config)
    if tensor == "c_n":
        return "; c is never part of output"
    if layer != config["num_layers"] - 1 or t != _directional_final_step(direction, seq_len):
        return ""
    if tensor == "output":
        return f"; h_n[{layer * D + direction}] holds the same numbers"
    if D == 1:
        where = f"output[:, {t}]" if config["batch_first"] else f"output[{t}]"
    else:
        part = ":H" if direction == 0 else "H:"
        where = f"output[:, {t}, {part}]" if config["batch_first"] else f"output[{t}, :, {part}]"
    return f"; {where} holds the same numbers"


def select_slice(module_or_config, highlight, seq_len=4, batch=1):
    """Which cells of the unrolled LSTM the slice ``highlight`` is made of (see the module's doc).

    Returns a dict: ``tensor`` (``"output"``, ``"h_n"`` or ``"c_n"``), ``shape`` (of the slice),
    ``cells`` (sorted ``(layer, direction, t)``: direction 0 forward, 1 backward), ``states`` (the
    entries ``k`` of ``h_n`` / ``c_n`` it touches), ``outputs`` (the ``(t, direction)`` halves of
    ``output`` it touches) and ``description`` (one line of English).
    """
    config = lstm_config(module_or_config)
    _check_sizes(config, seq_len, batch)
    tensor, view, index = _parse(highlight)
    D, L = num_directions(config), config["num_layers"]
    H = config["hidden_size"] if tensor == "c_n" else output_width(config)
    names = {"H": H, "num_layers": L, "num_directions": D, "batch": batch, "seq": seq_len}
    codes = _codes(tensor, config, seq_len, batch)
    if view is not None:
        shape = tuple(_number(arg, names, highlight) for arg in view)
        try:
            codes = codes.reshape(shape)
        except ValueError:
            raise ValueError(f"{highlight!r}: {tensor} of shape {codes.shape} cannot be viewed as {shape}") from None
    if index is not None:
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        try:
            codes = codes[tuple(_index_part(part, names, highlight) for part in parts)]
        except IndexError as error:
            raise ValueError(f"{highlight!r}: {error} ({tensor} has shape {codes.shape} here, with batch={batch})") from None
    if codes.size == 0:
        raise ValueError(f"{highlight!r} is empty: it selects no element of {tensor}")

    cells = sorted({(int(c) // seq_len // D, int(c) // seq_len % D, int(c) % seq_len) for c in np.unique(codes)})
    groups = {}
    for layer, direction, t in cells:
        groups.setdefault((layer, direction), []).append(t)
    description = "; ".join(_group_text(l, d, steps, seq_len, L, D) for (l, d), steps in groups.items())
    if len(cells) == 1:
        description += _same_values(tensor, cells[0], config, seq_len)
    return {
        "tensor": tensor,
        "shape": tuple(np.shape(codes)),
        "cells": cells,
        "states": sorted({l * D + d for l, d, _ in cells}) if tensor != "output" else [],
        "outputs": sorted({(t, d) for _, d, t in cells}) if tensor == "output" else [],
        "description": f"{highlight}: {description}",
    }


def _check_sizes(config, seq_len, batch):
    for name, value, low, high in (("seq_len", seq_len, 1, MAX_SEQ_LEN), ("batch", batch, 1, None)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} should be an int, got {type(value).__name__}: {value!r}")
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high else f"at least {low}"
            raise ValueError(f"{name} should be {bounds} for the picture, got {value}")


# ----------------------------------------------------------------------------- the drawing
# Data coordinates: one time step every _DX units, one layer every _layer_height() units.

_DX = {1: 1.7, 2: 2.3}
_CELL_W, _CELL_H = 0.62, 0.5
_OFFSET = 0.36  # bidirectional: forward cells sit left of the column, backward cells right
_BAR_W, _BAR_H = 1.0, 0.28
_BRACKET_GAP, _BRACKET_STEM = 0.08, 0.12  # the bracket over a bar that a layer above reads, and its stem
_INCH_PER_UNIT = 0.62


def _layer_height(D):
    return 2.85 if D == 2 else 1.55


class _Layout:
    def __init__(self, config, seq_len):
        self.D, self.L, self.T = num_directions(config), config["num_layers"], seq_len
        self.dx = _DX[self.D]
        self.offset = _OFFSET if self.D == 2 else 0.0

    def x(self, t, direction=None):
        return t * self.dx + (0 if direction is None else (-self.offset if direction == 0 else self.offset))

    def cell_y(self, layer, direction):
        base = 1.35 + layer * _layer_height(self.D)
        return base + (0.95 * direction if self.D == 2 else 0)

    def bar_y(self, layer):
        return self.cell_y(layer, self.D - 1) + (0.9 if self.D == 2 else 0.8)

    def bar_half_x(self, t, direction):
        if self.D == 1:
            return self.x(t)
        return self.x(t) + (-1 if direction == 0 else 1) * _BAR_W / 4


class _Painter:
    def __init__(self, selection):
        self.selection = selection

    def on(self):
        return self.selection is None

    def cell(self, layer, direction, t):
        return self.selection is not None and (layer, direction, t) in self.selection["cells"]


def _input_label(config, t):
    return f"input[:, {t}]" if config["batch_first"] else f"input[{t}]"


def _output_label(config, t):
    return f"output[:, {t}]" if config["batch_first"] else f"output[{t}]"


def _draw_inputs(ax, lay, config, muted):
    for t in range(lay.T):
        drawing.box(ax, (lay.x(t), 0.35), 1.0 if lay.D == 2 else 0.95, 0.36, MUTED if muted else INPUT_COLOUR, gid=f"input_t{t}")
        ax.text(lay.x(t), 0.35, _input_label(config, t), ha="center", va="center", fontsize=7.5,
                color=MUTED_TEXT if muted else INPUT_COLOUR, zorder=4)


def _draw_cells(ax, lay, paint):
    for layer in range(lay.L):
        for d in range(lay.D):
            colour = DIRECTION_COLOURS[d]
            for t in range(lay.T):
                picked = paint.cell(layer, d, t)
                edge = HIGHLIGHT_EDGE if picked else (colour if paint.on() else MUTED)
                fill = HIGHLIGHT_FILL if picked else "white"
                drawing.box(ax, (lay.x(t, d), lay.cell_y(layer, d)), _CELL_W, _CELL_H, edge, fill,
                            linewidth=2.4 if picked else 1.4, gid=f"cell_l{layer}_d{d}_t{t}")
                text_colour = HIGHLIGHT_EDGE if picked else (colour if paint.on() else MUTED_TEXT)
                ax.text(lay.x(t, d), lay.cell_y(layer, d), ARROWS[d] if lay.D == 2 else "LSTM", ha="center", va="center",
                        fontsize=11 if lay.D == 2 else 7, color=text_colour, zorder=4, fontweight="bold")
            # the recurrence: h and c carried to the next step, right for forward, left for backward
            y = lay.cell_y(layer, d)
            for t in range(lay.T - 1):
                a, b = (t, t + 1) if d == 0 else (t + 1, t)
                sign = 1 if d == 0 else -1
                start = (lay.x(a, d) + sign * _CELL_W / 2, y)
                end = (lay.x(b, d) - sign * _CELL_W / 2, y)
                drawing.arrow(ax, (start, end), colour if paint.on() else MUTED, 1.3, zorder=5, halo=True)


def _draw_feeds(ax, lay, paint):
    """What goes up into each cell, and what each cell sends up into its half of the bar above.

    Layer 0 reads the whole input box. A layer above reads the WHOLE bar below it: when
    bidirectional, a bracket spans both halves of the bar, and from its middle one arrow goes to
    each cell of the step. Artists carry gids ``"feed_l{layer}_t{t}"`` (the bracket and its stem)
    and ``"feed_l{layer}_d{d}_t{t}"`` (the arrow into one cell).
    """
    for layer in range(lay.L):
        colour = INK if paint.on() else MUTED
        for t in range(lay.T):
            if layer == 0:
                fork = (lay.x(t), 0.35 + 0.18)  # the top middle of the input box
            elif lay.D == 1:
                fork = (lay.x(t), lay.bar_y(layer - 1) + _BAR_H / 2)  # the top middle of the one-part bar
            else:
                bar_top = lay.bar_y(layer - 1) + _BAR_H / 2
                left, right = lay.x(t) - _BAR_W / 2, lay.x(t) + _BAR_W / 2
                y = bar_top + _BRACKET_GAP
                fork = (lay.x(t), y + _BRACKET_STEM)
                xs = [left, left, right, right, np.nan, lay.x(t), lay.x(t)]
                ys = [bar_top + 0.02, y, y, bar_top + 0.02, np.nan, y, fork[1]]
                ax.plot(xs, ys, color=colour, linewidth=1.0, zorder=1, solid_capstyle="butt", gid=f"feed_l{layer}_t{t}")
            for d in range(lay.D):
                bottom = (lay.x(t, d), lay.cell_y(layer, d) - _CELL_H / 2)
                drawing.arrow(ax, (fork, bottom), colour, 0.9, zorder=1, gid=f"feed_l{layer}_d{d}_t{t}")
                top = (lay.x(t, d), lay.cell_y(layer, d) + _CELL_H / 2)
                bar = (lay.bar_half_x(t, d), lay.bar_y(layer) - _BAR_H / 2)
                shown = layer == lay.L - 1 and paint.selection is not None and (t, d) in paint.selection["outputs"]
                up = HIGHLIGHT_EDGE if shown else (DIRECTION_COLOURS[d] if paint.on() else MUTED)
                drawing.arrow(ax, (top, bar), up, 1.6 if shown else 0.9, zorder=6 if shown else 1, halo=shown)


def _draw_bars(ax, lay, config, selection):
    """Each layer's output at each step: the forward half, then the backward half."""
    H = output_width(config)
    for layer in range(lay.L):
        last = layer == lay.L - 1
        y = lay.bar_y(layer)
        for t in range(lay.T):
            for d in range(lay.D):
                width = _BAR_W / lay.D
                x = lay.bar_half_x(t, d)
                picked = last and selection is not None and (t, d) in selection["outputs"]
                on = selection is None or picked
                fill = HIGHLIGHT_FILL if picked else ("#f1f3f5" if on else "white")
                edge = HIGHLIGHT_EDGE if picked else (DIRECTION_COLOURS[d] if on else MUTED)
                ax.add_patch(Rectangle((x - width / 2, y - _BAR_H / 2), width, _BAR_H, facecolor=fill, edgecolor=edge,
                                       linewidth=2.2 if picked else 1.1, zorder=3, gid=f"bar_l{layer}_d{d}_t{t}"))
                if lay.D == 2:
                    part = ":H" if d == 0 else "H:"
                    ax.text(x, y, part, ha="center", va="center", fontsize=6.5, zorder=4,
                            color=HIGHLIGHT_EDGE if picked else (DIRECTION_COLOURS[d] if on else MUTED_TEXT))
            if last:
                picked = selection is not None and any(s == t for s, _ in selection["outputs"])
                colour = HIGHLIGHT_EDGE if picked else (INK if selection is None else MUTED_TEXT)
                ax.text(lay.x(t), y + _BAR_H / 2 + 0.12, _output_label(config, t), ha="center", va="bottom", fontsize=8,
                        color=colour, fontweight="bold" if picked else "normal", zorder=4)
        width = f"{lay.D}H = {lay.D * H}" if lay.D == 2 else f"H = {H}"
        if last:
            text = f"output: the last\nlayer, {width} wide"
        else:
            text = f"layer {layer} out, {width} wide:\nthe input of layer {layer + 1}"
            if config["dropout"] > 0:
                text += f"\n(dropout p={config['dropout']:g} here)"
        ax.text(_label_right(lay), y, text, ha="right", va="center", fontsize=7.5, color=INK if selection is None else MUTED_TEXT)


def _label_right(lay):
    """Where the row labels end: left of the h_n boxes of backward rows and the h_0 labels of forward rows."""
    return -lay.dx / 2 - 1.15


def _left_margin(lay):
    return _label_right(lay) - 2.45


def _draw_states(ax, lay, paint, selection):
    """h_0[k] where each row starts, h_n[k], c_n[k] where it ends: right for forward, left for backward."""
    for layer in range(lay.L):
        for d in range(lay.D):
            k = layer * lay.D + d
            y = lay.cell_y(layer, d)
            final = _directional_final_step(d, lay.T)
            sign = 1 if d == 0 else -1  # the side the row ends on
            end_x = lay.x(final, d) + sign * _CELL_W / 2
            box_x = lay.x(final) + sign * (lay.dx / 2 + 0.55)
            picked = selection is not None and k in selection["states"]
            on = paint.on() or picked
            colour = DIRECTION_COLOURS[d] if on else MUTED
            drawing.arrow(ax, ((end_x, y), (box_x - sign * 0.42, y)), HIGHLIGHT_EDGE if picked else colour, 1.3, zorder=2)
            drawing.box(ax, (box_x, y), 0.84, 0.5, HIGHLIGHT_EDGE if picked else colour, HIGHLIGHT_FILL if picked else "white",
                        linewidth=2.4 if picked else 1.2, rounding=0.05, gid=f"state_{k}")
            for name, dy in (("h_n", 0.1), ("c_n", -0.11)):
                bold = picked and selection["tensor"] == name
                ax.text(box_x, y + dy, f"{name}[{k}]", ha="center", va="center", fontsize=7.5, zorder=4,
                        color=HIGHLIGHT_EDGE if bold else (INK if paint.on() else ("#868e96" if picked else MUTED_TEXT)),
                        fontweight="bold" if bold else "normal")
            start_x = lay.x(lay.T - 1 - final, d) - sign * _CELL_W / 2
            label_x = lay.x(lay.T - 1 - final) - sign * (lay.dx / 2 + 0.3)
            drawing.arrow(ax, ((label_x, y), (start_x, y)), MUTED, 0.9, zorder=2, dashed=True)
            ax.text(label_x - sign * 0.05, y, f"h_0[{k}]\nc_0[{k}]", ha="right" if d == 0 else "left", va="center",
                    fontsize=6.5, color=MUTED_TEXT, linespacing=1.1)
            name = f"layer {layer}" + (f" {DIRECTION_NAMES[d]} {ARROWS[d]}" if lay.D == 2 else "")
            ax.text(_label_right(lay), y, name, ha="right", va="center", fontsize=8.5,
                    color=DIRECTION_COLOURS[d] if paint.on() else MUTED_TEXT, fontweight="bold")


def _caption(config, lay):
    D, H_out, H = lay.D, output_width(config), config["hidden_size"]
    seq_batch = "batch, seq" if config["batch_first"] else "seq, batch"
    layers = "num_layers * 2" if D == 2 else "num_layers"
    output = f"output ({seq_batch}, {f'2 * {H_out}' if D == 2 else H_out}): the last layer, every step"
    if D == 2:
        output += ", forward | backward concatenated"
    states = f"h_n ({layers}, batch, {H_out}) and c_n ({layers}, batch, {H}): every layer"
    states += " and direction, at its final step (t = 0 for backward)" if D == 2 else ", at the final step"
    return output + "\n" + states


def draw_stacked_lstm(module_or_config, seq_len=4, highlight=None, batch=1, ax=None):
    """Draw the LSTM unrolled over ``seq_len`` steps; return the Figure.

    Rows are layers (layer 0 at the bottom) and, when bidirectional, directions (forward ``→``,
    backward ``←``); columns are time steps. Arrows show what feeds each cell: the input (or the
    layer below's output: a bracket spans both directions' halves, which every cell above reads)
    and the previous step of its own row.
    Each row ends in ``h_n[k]``, ``c_n[k]`` with ``k = layer * D + direction``: on the right for
    the forward direction, on the LEFT (at ``t = 0``) for the backward one. ``highlight`` (see the
    module's doc) fills the cells, output halves and states of one slice; the title says which.
    Patches carry gids such as ``"cell_l1_d1_t0"``, ``"bar_l1_d0_t3"``, ``"state_3"``.
    """
    config = lstm_config(module_or_config)
    if config["num_layers"] > MAX_LAYERS:
        raise ValueError(f"the picture draws at most {MAX_LAYERS} layers, got num_layers={config['num_layers']}")
    selection = None if highlight is None else select_slice(config, highlight, seq_len, batch)
    if selection is None:
        _check_sizes(config, seq_len, batch)
    lay = _Layout(config, seq_len)

    left, right = _left_margin(lay), lay.x(seq_len - 1) + lay.dx / 2 + 1.2
    top = lay.bar_y(lay.L - 1) + 0.75
    bottom = -0.95
    banner = []
    if selection is not None:  # wrapped to the width of the picture, about 0.075 inch a character at 9 points
        width = int((right - left) * _INCH_PER_UNIT / 0.075)
        banner = textwrap.wrap(f"highlight {selection['description']}", width=width)
    if ax is None:
        drawing = (top - bottom) * _INCH_PER_UNIT
        header = 0.5 + (0.2 * len(banner) + 0.12 if banner else 0)  # inches for the title and the banner
        fig = plt.figure(figsize=((right - left) * _INCH_PER_UNIT, drawing + header))
        ax = fig.add_axes((0, 0, 1, drawing / (drawing + header)))
    paint = _Painter(selection)
    _draw_inputs(ax, lay, config, muted=selection is not None)
    _draw_cells(ax, lay, paint)
    _draw_feeds(ax, lay, paint)
    _draw_bars(ax, lay, config, selection)
    _draw_states(ax, lay, paint, selection)
    ax.text(left + 0.1, bottom + 0.05, _caption(config, lay), ha="left", va="bottom", fontsize=7.5, color="#495057", linespacing=1.4)

    title = config_text(config) + f", unrolled over {seq_len} steps"
    height = ax.figure.get_figheight()
    ax.figure.text(0.02, 1 - 0.1 / height, title, ha="left", va="top", fontsize=11, color=INK)
    if banner:
        ax.figure.text(0.02, 1 - 0.45 / height, "\n".join(banner), ha="left", va="top", fontsize=9, color=HIGHLIGHT_EDGE,
                       linespacing=1.3, bbox={"facecolor": HIGHLIGHT_FILL, "edgecolor": "none", "pad": 2})
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax.figure

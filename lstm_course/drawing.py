"""What the course's diagrams share: one palette, and the arrows and rounded boxes they are drawn with.

`plots.draw_lstm_cell` (the cell and its gates) and `stack_plot.draw_stacked_lstm` (a stack of
cells over time) each decide what to highlight; both paint with these colours and shapes.
"""

import matplotlib.patheffects as path_effects
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

# The palette. A part of the LSTM has the same colour in every figure of the course.
PART_COLOURS = {
    "i": "#1f77b4",  # input gate: blue
    "f": "#d62728",  # forget gate: red
    "g": "#2ca02c",  # candidate: green
    "o": "#9467bd",  # output gate: purple
    "c": "#e67e00",  # cell state: orange
    "h": "#008b8b",  # hidden state: teal
}
DIRECTION_COLOURS = ("#1f77b4", "#d9480f")  # forward blue, backward orange
INK = "#343a40"  # lines and text that belong to nothing in particular
MUTED = "#ced4da"  # what a highlight leaves in the background
MUTED_TEXT = "#adb5bd"
HIGHLIGHT_FILL, HIGHLIGHT_EDGE = "#ffd43b", "#212529"  # what is picked out, when the parts' own colours are not enough


def arrow(ax, points, colour, width, head=True, head_size=9, zorder=2, dashed=False, halo=False, gid=None):
    """A line through ``points`` (two or more ``(x, y)``), with an arrow head at the end if ``head``.

    ``halo`` draws a white edge around it, so that where two arrows cross, the one on top reads
    as a bridge. Returns the patch.
    """
    patch = FancyArrowPatch(path=Path(points), arrowstyle="-|>" if head else "-", mutation_scale=head_size,
                            color=colour, linewidth=width, linestyle="--" if dashed else "-", joinstyle="miter",
                            zorder=zorder, gid=gid)
    if halo:
        patch.set_path_effects([path_effects.Stroke(linewidth=width + 3.5, foreground="white"), path_effects.Normal()])
    ax.add_patch(patch)
    return patch


def box(ax, centre, width, height, edge, fill="white", linewidth=1.4, rounding=0.08, zorder=3, gid=None):
    """A rounded rectangle around ``centre``. Returns the patch."""
    x, y = centre
    patch = FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                           boxstyle=f"round,pad=0,rounding_size={rounding}", facecolor=fill, edgecolor=edge,
                           linewidth=linewidth, zorder=zorder, gid=gid)
    ax.add_patch(patch)
    return patch

# %% [markdown]
# # 01 · The gate equations
#
# An LSTM cell reads one input `x_t` per time step and carries two vectors from step to step:
# the **cell state** `c` (its memory) and the **hidden state** `h` (its output, which goes to
# the next layer and back into the cell at the next step). Four small networks decide what the
# memory keeps, what it takes in and what it shows: three *gates* (values between 0 and 1) and a
# *candidate* (values between −1 and 1). This notebook first measures why a network needs them,
# then writes them down and runs them with numbers you can follow.
#
# By the end of this notebook you will be able to:
#
# - measure how fast a plain RNN forgets its first input, and say what the LSTM's gated cell state changes;
# - write the six equations of an LSTM cell, and say what each gate does;
# - write one time step in NumPy and get the same numbers as `nn.LSTMCell`;
# - read PyTorch's `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`: their shapes, their gate
#   order `i, f, g, o`, why there are two biases, and how many parameters they add up to;
# - predict what happens to the memory when you move a gate.

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import lstm_course
from lstm_course import fading_memory, numpy_lstm
from lstm_course.checks import check_lstm_num_parameters, check_lstm_step, check_to_pytorch_order
from lstm_course.numpy_lstm import sigmoid
from lstm_course.plots import draw_lstm_cell, plot_first_input_effect
from lstm_course.widgets import gate_explorer, gate_explorer_state

lstm_course.setup_notebook()  # seeds Python, NumPy and PyTorch; one PyTorch thread; 4-digit printing

# %% [markdown]
# ## 1. Why gates: a plain RNN forgets
#
# A plain recurrent network (RNN, PyTorch's `nn.RNN`) has one state, $h$, and one rule to update it:
#
# $$h_t = \tanh\left(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}\right)$$
#
# Everything it knows about earlier inputs must live in $h_{t-1}$, and every step multiplies
# $h_{t-1}$ by the matrix $W_{hh}$ and squashes the result with tanh. How long does an input survive that?
#
# Let's measure it. Take 30 random inputs of 3 numbers each, and a second sequence equal to the
# first except for the very first number, which is 1 larger. Run both through the same network
# from zero states, and at every step $t$ measure how far apart the two hidden states are (the
# length of their difference). Divided by that distance at step 1, it says how much of the change
# the network still carries at step $t$. `fading_memory.compare_memories` does this for three
# networks with 16 units, their weights drawn as PyTorch initialises them (uniform between
# $\pm 1/\sqrt{16} = \pm 0.25$):
#
# - a plain RNN;
# - an LSTM, the cell this notebook is about, as initialised;
# - the same LSTM with 5 added to the bias of its forget gate $f$ (you will meet it in a moment).
#
# For the LSTMs the table also shows the cell state $c_t$, the LSTM's memory.

# %%
results = fading_memory.compare_memories(seq=30, hidden_size=16, forget_bias=5.0, seed=0)
rnn, lstm_init, lstm_near_1 = (results[model] for model in fading_memory.MODELS)

print(f"{'step t':>6} | {'plain RNN: h_t':>14} | {'LSTM: h_t':>9} {'c_t':>8} | {'f near 1: h_t':>13} {'c_t':>5}")
for t in (1, 2, 3, 5, 10, 20, 30):
    k = t - 1  # the arrays start at step 1
    print(
        f"{t:6d} | {rnn['h'][k]:14.2g} | {lstm_init['h'][k]:9.2g} {lstm_init['c'][k]:8.2g} | "
        f"{lstm_near_1['h'][k]:13.2g} {lstm_near_1['c'][k]:5.2g}"
    )
print(f"forget gate f, the mean over units and steps: {lstm_init['f_mean']:.3f} as initialised, {lstm_near_1['f_mean']:.3f} with 5 added")

# %%
fig = plot_first_input_effect(results)

# %% [markdown]
# The plain RNN loses about half of the change at every step: after 10 steps 0.0012 of it is
# left, after 30 steps 8.4e-10, far too little for anything after it to read. The LSTM as
# initialised does hardly better, 7.8e-07 at step 30: its forget gate sits near 0.5 (0.513 on
# average), so its memory halves at every step too.
#
# What the forget gate scales is the LSTM's memory, the cell state. You wrote its update in
# notebook 00:
#
# $$c_t = f_t \odot c_{t-1} + i_t \odot g_t$$
#
# The old memory is not multiplied by a matrix and squashed: it is only scaled by $f_t$, a number
# between 0 and 1 for each unit, and the new part $i_t \odot g_t$ is added to it. With $f_t$ near 1
# (0.993 on average) the memory passes from step to step almost unchanged, and the first input is
# still felt at step 30: the change in $h_t$ is 3.5 times, in $c_t$ 9.7 times its size at step 1. It
# even grows: the changed $h_{t-1}$ changes what the gates let in, and the cell state adds it up.
#
# One random draw could be lucky. Five draws, at step 30:

# %%
at_step_30 = {model: [] for model in fading_memory.MODELS}
for seed in range(5):
    for model, effect in fading_memory.compare_memories(seed=seed).items():  # 30 steps, 16 units, forget bias + 5
        at_step_30[model].append(effect["h"][-1])
for model, values in at_step_30.items():
    print(f"{model:25}: the change in h_30, relative to step 1, between {min(values):.2g} and {max(values):.2g}")
assert max(at_step_30["plain RNN"]) < 1e-6 < 0.1 < min(at_step_30["LSTM, forget gate near 1"])

# %% [markdown]
# In all five, the plain RNN keeps less than a millionth of the change after 30 steps, and the LSTM
# as initialised at most 3.5e-05 of it; the LSTM with its forget gate near 1 keeps between 0.22 and
# 3.5 times the change it had at step 1.
#
# The gates are what makes the difference, and only when they are set to keep: an LSTM remembers
# in the units whose forget gate is near 1 and whose input gate does not overwrite them. Training
# sets them, unit by unit and step by step; notebook 06 measures it on a memory task and shows what
# it means for the gradients. The rest of this notebook takes the cell apart: its equations, its
# gates and PyTorch's names for its weights.

# %% [markdown]
# ## 2. The equations
#
# At time step $t$ the cell gets the input $x_t$ and its own previous states $h_{t-1}$ and
# $c_{t-1}$. These are PyTorch's equations for `nn.LSTM` and `nn.LSTMCell`:
#
# $$
# \begin{aligned}
# i_t &= \sigma\left(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}\right) && \text{input gate} \\
# f_t &= \sigma\left(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}\right) && \text{forget gate} \\
# g_t &= \tanh\left(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}\right) && \text{candidate} \\
# o_t &= \sigma\left(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}\right) && \text{output gate} \\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t && \text{new cell state} \\
# h_t &= o_t \odot \tanh(c_t) && \text{new hidden state}
# \end{aligned}
# $$
#
# $\sigma$ is the sigmoid and $\odot$ multiplies element by element. Read the last two lines
# as sentences:
#
# - **the new memory** is the old memory scaled by the forget gate $f_t$, plus the candidate
#   $g_t$ scaled by the input gate $i_t$;
# - **the output** is the memory squashed by $\tanh$ and scaled by the output gate $o_t$.
#
# Every gate is a vector of `hidden_size` numbers, one per unit: each unit of the memory has
# its own gates. Many texts call the candidate $\tilde{C}_t$; PyTorch calls it $g_t$.
#
# In $W_{if}$ the first letter says what the matrix multiplies ($i$: the input $x_t$, $h$: the
# hidden state $h_{t-1}$), the second which gate it feeds: $W_{if}$ takes $x_t$ into the forget gate.
#
# | symbol | shape | what it is |
# | --- | --- | --- |
# | $x_t$ | `(input_size,)` | the input at step $t$ |
# | $h_{t-1}$, $c_{t-1}$ | `(hidden_size,)` | the hidden and cell state from the step before |
# | $W_{i\ast}$ | `(hidden_size, input_size)` | weights on the input, one matrix per gate |
# | $W_{h\ast}$ | `(hidden_size, hidden_size)` | weights on the previous hidden state |
# | $b_{i\ast}$, $b_{h\ast}$ | `(hidden_size,)` | two biases per gate (section 6 is about the pair) |

# %% [markdown]
# ## 3. The cell, drawn
#
# The same equations as a picture. The cell state runs along the top: the forget gate
# multiplies it (×), the input gate's share of the candidate is added (+). Below, $h_{t-1}$ and
# $x_t$ feed all four gates. On the right, $\tanh(c_t)$ passes the output gate and leaves as $h_t$.

# %%
fig = draw_lstm_cell()  # a matplotlib Figure

# %% [markdown]
# With one part highlighted you can follow it alone. Here is the forget gate: it reads
# $h_{t-1}$ and $x_t$ and decides, unit by unit, how much of $c_{t-1}$ survives.
# (`draw_lstm_cell` also takes `"i"`, `"g"`, `"o"`, `"c"` and `"h"`: try them.)

# %%
fig = draw_lstm_cell(highlight="f")

# %% [markdown]
# ## 4. Sigmoid and tanh
#
# The gates use the sigmoid $\sigma(x) = 1 / (1 + e^{-x})$, which lies between 0 and 1: a gate
# at 0 is closed, at 1 open. The candidate $g$ and the squashed memory $\tanh(c_t)$ use
# $\tanh$, which lies between -1 and 1: they can be negative, so the memory can move down as
# well as up.

# %%
x_plot = np.linspace(-6, 6, 241)
fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.plot(x_plot, sigmoid(x_plot), label="sigmoid: gates $i, f, o$, in (0, 1)")
ax.plot(x_plot, np.tanh(x_plot), label="tanh: candidate $g$ and $\\tanh(c_t)$, in (-1, 1)")
ax.axhline(0, color="grey", linewidth=0.5)
ax.axvline(0, color="grey", linewidth=0.5)
ax.set_xlabel("x")
ax.legend(loc="lower right", fontsize=9)
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# Written as `1 / (1 + np.exp(-x))`, the sigmoid overflows for large negative `x`:
# `np.exp(1000)` is more than a float can hold. NumPy warns and returns `inf`; the answer
# still comes out as 0, but the other common form `np.exp(x) / (1 + np.exp(x))` gives
# `inf / inf = nan` at `x = 1000`. `with_warnings` runs a formula and records its warnings,
# so that we can print them instead of letting them scroll by:

# %%
def with_warnings(formula, x):
    """formula(x), and the distinct warnings it raised, as 'Category: message' lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # record every warning, even one seen before
        result = formula(x)
    return result, sorted({f"{w.category.__name__}: {w.message}" for w in caught})


x_big = np.array([-1000.0, 1000.0])
formulas = {
    "1 / (1 + exp(-x))": lambda x: 1 / (1 + np.exp(-x)),
    "exp(x) / (1 + exp(x))": lambda x: np.exp(x) / (1 + np.exp(x)),
}
for name, formula in formulas.items():
    result, raised = with_warnings(formula, x_big)
    print(f"{name:22} at x = -1000, 1000: {result}")
    for line in raised:
        print("   ", line)

# %% [markdown]
# The package's `numpy_lstm.sigmoid` only ever takes `exp` of $-|x|$, which lies in $(0, 1]$:
# for $x \ge 0$ it uses $1 / (1 + e^{-x})$, for $x < 0$ the equal $e^{x} / (1 + e^{x})$.
# Nothing overflows. (Run `numpy_lstm.sigmoid??` in a cell to read its source.)

# %%
safe, raised = with_warnings(sigmoid, x_big)
print(f"{'numpy_lstm.sigmoid':22} at x = -1000, 1000: {safe}")
print("    warnings:", len(raised))
assert raised == [] and safe[0] == 0.0 and safe[1] == 1.0

# %% [markdown]
# ## 5. One time step
#
# A cell with `input_size = 3` and `hidden_size = 2`, one example in the batch. PyTorch keeps
# the four gates' weights stacked in one matrix, `weight_ih` of shape
# `(4 * hidden_size, input_size)`, in the order **i, f, g, o**: the first `hidden_size` rows
# belong to the input gate, the next to the forget gate, then the candidate, then the output
# gate. `weight_hh`, `bias_ih` and `bias_hh` are stacked the same way.
#
# Small weights rounded to one decimal, so that you can redo a line on paper:

# %%
input_size, hidden_size = 3, 2
rng = np.random.default_rng(1)  # seeded: the same numbers on every run
w_ih = rng.normal(0, 0.5, size=(4 * hidden_size, input_size)).round(1)   # (8, 3)
w_hh = rng.normal(0, 0.5, size=(4 * hidden_size, hidden_size)).round(1)  # (8, 2)
b_ih = rng.normal(0, 0.5, size=4 * hidden_size).round(1)                 # (8,)
b_hh = rng.normal(0, 0.5, size=4 * hidden_size).round(1)                 # (8,)

x = np.array([[0.5, 0.1, -0.3]])  # (batch, input_size) = (1, 3)
h_0 = np.array([[0.1, -0.2]])     # (batch, hidden_size) = (1, 2)
c_0 = np.array([[0.5, -1.0]])     # (batch, hidden_size) = (1, 2)

H = hidden_size
blocks = {"i": slice(0, H), "f": slice(H, 2 * H), "g": slice(2 * H, 3 * H), "o": slice(3 * H, 4 * H)}
for gate, rows in blocks.items():
    print(f"gate {gate}: rows {rows.start} to {rows.stop - 1} of w_ih\n{w_ih[rows]}")

# %% [markdown]
# Each gate takes its own block of rows from each of the four parameters: the input gate's
# $W_{ii}$ is `w_ih[0:2]`, its $b_{ii}$ is `b_ih[0:2]`, and so on. Now you write the step.
#
# ### Exercise 1 · One LSTM step in NumPy (core)
#
# Each exercise asks for a function: write it in the cell, run the cell, then run the check below
# it. The check says "passed", "not attempted yet", or what is wrong.
#
# *Write `lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh)`: one step of the equations of section 2,
# returning the new `(h, c)`, for any batch size and `hidden_size`. `x` is `(batch, input_size)`,
# `h` and `c` are `(batch, hidden_size)`. The weights and biases are PyTorch's, rows in the order
# i, f, g, o: `w_ih` is `(4 * hidden_size, input_size)`, `w_hh` is `(4 * hidden_size, hidden_size)`,
# `b_ih` and `b_hh` are `(4 * hidden_size,)`. Use `sigmoid` and `np.tanh`; don't change the arrays
# you are given.* The check runs your step on random cases of other sizes than this section's.
# (With one example per row, as here, the equations' $W x$ is `x @ W.T`.)
#
# Hint: the four gates' pre-activations together form one `(batch, 4 * hidden_size)` array, and
# `np.split(z, 4, axis=1)` cuts such an array into its four blocks of `hidden_size` columns.

# %% nbgrader={"grade": false, "grade_id": "nb01_lstm_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step in PyTorch's gate order; returns the new (h, c), each (batch, hidden_size)."""
    ### BEGIN SOLUTION
    z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh    # (batch, 4 * hidden_size)
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)  # each (batch, hidden_size)
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return h_new, c_new
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb01_lstm_step_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_lstm_step(lstm_step)

# %% [markdown]
# From here on we use the package's `numpy_lstm.lstm_cell`, the same step, tested against PyTorch.
# `numpy_lstm.gate_values` is the same step and returns every gate too (run
# `numpy_lstm.gate_values??` to read it). On our numbers:

# %%
step = numpy_lstm.gate_values(x, h_0, c_0, w_ih, w_hh, b_ih, b_hh)  # i, f, g, o, c, h: each (1, 2)
h_1, c_1 = numpy_lstm.lstm_cell(x, h_0, c_0, w_ih, w_hh, b_ih, b_hh)
assert np.array_equal(h_1, step.h) and np.array_equal(c_1, step.c)

for name, value in [("i", step.i), ("f", step.f), ("g", step.g), ("o", step.o),
                    ("f * c_0", step.f * c_0), ("i * g", step.i * step.g), ("c_1", c_1), ("h_1", h_1)]:
    print(f"{name:8} = {value}")

# %% [markdown]
# Read it unit by unit. In the first unit the forget gate keeps half of the old memory 0.5,
# and the candidate is nearly 0, so $c_1 \approx 0.26$. In the second unit the forget gate keeps
# a third of the old -1.0, and the input gate lets in part of a negative candidate:
# $c_1 \approx -0.33 - 0.07 = -0.40$.
#
# PyTorch computes the same step with `nn.LSTMCell` once we copy our weights into it. Its
# parameters are called `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`: exactly our four arrays.
# We ask for `float64`, NumPy's precision, so that the two agree to the last digits.

# %%
cell = nn.LSTMCell(input_size=3, hidden_size=2, dtype=torch.float64)
with torch.no_grad():  # copying weights is not part of training
    cell.weight_ih.copy_(torch.from_numpy(w_ih))  # (8, 3)
    cell.weight_hh.copy_(torch.from_numpy(w_hh))  # (8, 2)
    cell.bias_ih.copy_(torch.from_numpy(b_ih))    # (8,)
    cell.bias_hh.copy_(torch.from_numpy(b_hh))    # (8,)

h_torch, c_torch = cell(torch.from_numpy(x), (torch.from_numpy(h_0), torch.from_numpy(c_0)))
torch.testing.assert_close(h_torch, torch.from_numpy(h_1), rtol=0, atol=1e-12)
torch.testing.assert_close(c_torch, torch.from_numpy(c_1), rtol=0, atol=1e-12)
print("nn.LSTMCell h_1:", h_torch.detach().numpy())
print("numpy_lstm  h_1:", h_1)

# %% [markdown]
# ## 6. One big matrix or two: `W·[h, x] + b` versus `W_ih x + W_hh h`
#
# Diagrams and many texts write each gate as $\sigma(W_f \cdot [h_{t-1}, x_t] + b_f)$: one
# matrix applied to $h_{t-1}$ and $x_t$ stacked into one vector, and one bias. PyTorch keeps
# the part that multiplies $x_t$ (`weight_ih`) apart from the part that multiplies
# $h_{t-1}$ (`weight_hh`). Both are the same computation: put the two matrices side by side
# and the two vectors end to end.

# %%
W = np.concatenate([w_hh, w_ih], axis=1)  # (4 * hidden_size, hidden_size + input_size) = (8, 5)
hx = np.concatenate([h_0, x], axis=1)      # [h, x]: (batch, hidden_size + input_size) = (1, 5)
b = b_ih + b_hh                            # (8,)

z_concat = hx @ W.T + b                    # all four gates at once: (1, 8)
z_pytorch = x @ w_ih.T + b_ih + h_0 @ w_hh.T + b_hh
np.testing.assert_allclose(z_concat, z_pytorch, rtol=0, atol=1e-12)
print("W·[h, x] + b                  :", z_concat)
print("W_ih x + b_ih + W_hh h + b_hh :", z_pytorch)

# %% [markdown]
# So PyTorch has **two biases** per gate, `bias_ih` and `bias_hh`, where the equations need
# one. Only their sum ever enters the cell. (PyTorch keeps both for compatibility with
# NVIDIA's cuDNN library, which has both.) Move any amount from one to the other and
# nothing changes:

# %%
shifted = nn.LSTMCell(input_size=3, hidden_size=2, dtype=torch.float64)
shifted.load_state_dict(cell.state_dict())
with torch.no_grad():
    shifted.bias_ih += 1.0  # the sum bias_ih + bias_hh
    shifted.bias_hh -= 1.0  # stays the same

h_shifted, c_shifted = shifted(torch.from_numpy(x), (torch.from_numpy(h_0), torch.from_numpy(c_0)))
torch.testing.assert_close(h_shifted, h_torch)
torch.testing.assert_close(c_shifted, c_torch)
print("bias_ih changed:", not torch.equal(shifted.bias_ih, cell.bias_ih), "  h_1 the same:", torch.allclose(h_shifted, h_torch))

# %% [markdown]
# Two consequences: a parameter count of `nn.LSTM` includes both biases (section 8), and to
# load weights from a text that has one bias per gate, put it in `bias_ih` and set `bias_hh`
# to zero (or split it between them any way you like).

# %% [markdown]
# ## 7. The gate order: `i, f, g, o` in PyTorch, `f, i, C̃, o` in most diagrams
#
# Most diagrams, and many blog posts, list the forget gate first: $f, i, \tilde{C}, o$.
# PyTorch's rows are in the order **i, f, g, o**. Nothing in the shapes tells the two apart, so
# code that slices PyTorch's rows in the diagram's order runs without an error and silently
# computes something else. Here is that bug, on our numbers:

# %%
z = x @ w_ih.T + b_ih + h_0 @ w_hh.T + b_hh  # (1, 8)
z_f, z_i, z_g, z_o = np.split(z, 4, axis=1)  # WRONG for PyTorch: its first block is i, not f
c_wrong = sigmoid(z_f) * c_0 + sigmoid(z_i) * np.tanh(z_g)
h_wrong = sigmoid(z_o) * np.tanh(c_wrong)

print("rows read as i, f, g, o (right): h_1 =", h_1)
print("rows read as f, i, g, o (wrong): h_1 =", h_wrong)
assert not np.allclose(h_wrong, h_1)

# %% [markdown]
# Input and forget gate trade places: the forget gate's numbers now scale the candidate, and
# the input gate's the old memory. The same trap waits in the other direction: weights written in a
# diagram's order must be reordered before you load them into PyTorch (exercise 2).

# %% [markdown]
# ### Exercise 2 · From a diagram's gate order to PyTorch's (optional)
#
# *You found weights in a paper that stacks the gates as f, i, g, o. Write
# `to_pytorch_order(w)` that returns them in PyTorch's order i, f, g, o. `w` is a weight of
# shape `(4 * hidden_size, columns)` or a bias of shape `(4 * hidden_size,)`; move whole blocks
# of `hidden_size` rows. Return a new array and leave `w` as it is.*

# %% nbgrader={"grade": false, "grade_id": "nb01_to_pytorch_order", "locked": false, "schema_version": 3, "solution": true, "task": false}
def to_pytorch_order(w):
    """Blocks of rows f, i, g, o (a diagram's order) -> i, f, g, o (PyTorch's order)."""
    ### BEGIN SOLUTION
    f, i, g, o = np.split(w, 4)  # blocks of hidden_size rows
    return np.concatenate([i, f, g, o])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb01_to_pytorch_order_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
check_to_pytorch_order(to_pytorch_order)

# %% [markdown]
# ## 8. Parameter shapes and how many there are
#
# An `nn.LSTM` layer holds the same four tensors as `nn.LSTMCell`, with `_l0` for layer 0.
# With `input_size = 8` and `hidden_size = 64`, each has `4 * 64 = 256` rows, one block of 64
# per gate:

# %%
lstm = nn.LSTM(input_size=8, hidden_size=64)
for name, parameter in lstm.named_parameters():
    print(f"{name:13} {tuple(parameter.shape)}")

W_ii, W_if, W_ig, W_io = lstm.weight_ih_l0.chunk(4)  # the blocks of rows, in the order i, f, g, o
print("W_if, the forget gate's weights on x:", tuple(W_if.shape))

# %% [markdown]
# Adding up, with $I$ = `input_size` and $H$ = `hidden_size`:
#
# $$
# \underbrace{4H \cdot I}_{\mathtt{weight\_ih}} + \underbrace{4H \cdot H}_{\mathtt{weight\_hh}}
# + \underbrace{4H}_{\mathtt{bias\_ih}} + \underbrace{4H}_{\mathtt{bias\_hh}}
# = 4H(I + H) + 8H
# $$
#
# for one layer in one direction. Checked against what PyTorch allocates:

# %%
def count_one_layer(input_size, hidden_size):
    return 4 * hidden_size * (input_size + hidden_size) + 8 * hidden_size


for I, H in [(8, 64), (3, 2), (1, 1), (300, 128)]:
    counted = sum(p.numel() for p in nn.LSTM(input_size=I, hidden_size=H).parameters())
    print(f"input_size={I:3}, hidden_size={H:3}:  formula {count_one_layer(I, H):7,}   nn.LSTM {counted:7,}")
    assert count_one_layer(I, H) == counted

# %% [markdown]
# The count does not depend on the sequence length: the same weights serve every time step.
# Exercise 3 extends the formula to stacked and bidirectional LSTMs.

# %% [markdown]
# ### Exercise 3 · Count the parameters of any `nn.LSTM` (core)
#
# *Write `lstm_num_parameters(input_size, hidden_size, num_layers=1, bidirectional=False)` that
# returns the number of parameters of
# `nn.LSTM(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)`,
# without building one.*
#
# Hints: every layer, and with `bidirectional=True` every direction of every layer, has its own
# four tensors. Layer 0 reads `input_size` numbers per step; a later layer reads the output of
# the layer below it. To see the shapes, print
# `[(name, p.shape) for name, p in nn.LSTM(5, 3, num_layers=2, bidirectional=True).named_parameters()]`.

# %% nbgrader={"grade": false, "grade_id": "nb01_lstm_num_parameters", "locked": false, "schema_version": 3, "solution": true, "task": false}
def lstm_num_parameters(input_size, hidden_size, num_layers=1, bidirectional=False):
    """The number of parameters of nn.LSTM(input_size, hidden_size, num_layers, bidirectional=...)."""
    ### BEGIN SOLUTION
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        inputs = input_size if layer == 0 else directions * hidden_size  # what this layer reads per step
        total += directions * (4 * hidden_size * (inputs + hidden_size) + 8 * hidden_size)
    return total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb01_lstm_num_parameters_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_lstm_num_parameters(lstm_num_parameters)


# %% [markdown]
# ## 9. Move the gates yourself
#
# The explorer below skips the weights: you set the gates directly and watch $c_t$ and $h_t$.
# Gates `i`, `f`, `o` go from 0 to 1, the candidate `g` from -1 to 1. The diagram highlights the
# part that moves $c_t$ the most. Things to try:
#
# - `f = 1`, `i = 0`: the memory passes through unchanged, however long you wait;
# - `f = 0`, `i = 1`: the old memory is wiped and replaced by `g`;
# - `o = 0`: the memory is kept but hidden, $h_t = 0$.
#
# (The sliders need a running notebook; on a static page you see only their starting values.)

# %%
# NBVAL_IGNORE_OUTPUT
# (what a widget stores depends on the program that ran the notebook, so the tests skip it)
explorer = gate_explorer()
explorer

# %% [markdown]
# What the explorer shows comes from one plain function, `gate_explorer_state`. For the
# sliders' starting values:

# %%
start = explorer.slider_values()
state = gate_explorer_state(**start)
assert explorer.state == state
print(start)
print(f"c_t = {state['c']:.3f}, h_t = {state['h']:.3f}")

# %% [markdown]
# You can call it yourself too. The three settings from the list above, with an old memory
# $c_{t-1} = 1.5$:

# %%
settings = {
    "keep the memory (f = 1, i = 0)": dict(c_prev=1.5, i=0.0, f=1.0, g=0.8, o=1.0),
    "overwrite it (f = 0, i = 1)": dict(c_prev=1.5, i=1.0, f=0.0, g=-0.6, o=1.0),
    "hide it (o = 0)": dict(c_prev=1.5, i=0.0, f=1.0, g=0.8, o=0.0),
}
for title, gates in settings.items():
    state = gate_explorer_state(**gates)
    print(f"--- {title}: c_t = {state['c']:.3f}, h_t = {state['h']:.3f}")
    print(state["explanation"], end="\n\n")

# %% [markdown]
# The first setting is why LSTMs remember over long sequences (section 1 measured it): with the
# forget gate near 1 and the input gate near 0, $c_t = c_{t-1}$ step after step. The output gate decides separately
# whether the memory is shown; it never changes what is stored.

# %% [markdown]
# ## Summary
#
# - A plain RNN multiplies its state by $W_{hh}$ and squashes it at every step: what its first
#   input changed had fallen to 8.4e-10 of its size after 30 steps. An LSTM's cell state is only
#   scaled by the forget gate and added to; with $f$ near 1 it still carried the first input at step 30.
# - An LSTM cell computes four gates from $x_t$ and $h_{t-1}$: input $i$, forget $f$ and
#   output $o$ through a sigmoid (0 closed, 1 open), the candidate $g$ through tanh. Then
#   $c_t = f \odot c_{t-1} + i \odot g$ and $h_t = o \odot \tanh(c_t)$.
# - PyTorch stacks the gates' weights in `weight_ih` `(4 * hidden_size, input_size)` and
#   `weight_hh` `(4 * hidden_size, hidden_size)`, in the order **i, f, g, o**, not the
#   $f, i, \tilde{C}, o$ of most diagrams. Slicing in the wrong order gives no error, only wrong numbers.
# - `W·[h, x] + b` and `W_ih x + b_ih + W_hh h + b_hh` are the same computation; PyTorch's two
#   biases matter only through their sum.
# - One layer, one direction has $4H(I + H) + 8H$ parameters.
# - A naive `1 / (1 + np.exp(-x))` overflows for large negative `x`; `numpy_lstm.sigmoid` does not.
#
# Next: [02_hand_counter](02_hand_counter.ipynb), where you set an LSTM's weights by hand so that
# it stores, forgets and reveals a number.

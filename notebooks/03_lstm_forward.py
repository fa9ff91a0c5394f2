# %% [markdown]
# # 03 · Writing `lstm_forward` by hand, and proving it equals PyTorch's
#
# In notebook 01 you computed one LSTM step. Here you write the whole forward pass over a batch
# of sequences, the way `nn.LSTM` computes it, then run it backwards and stack two layers; a check
# compares each of your functions with PyTorch on sizes you have not seen.
#
# By the end of this notebook you will be able to:
#
# - say why tiling the weights over the batch and calling `bmm` at every step is slow and memory hungry;
# - write the clean form: one matmul for all the input projections, one matmul per step for the recurrence;
# - run an LSTM over a sequence backwards, and stack two layers, as `nn.LSTM` does;
# - check a hand-written LSTM against `nn.LSTMCell` step by step and against `nn.LSTM` as a whole;
# - load an `nn.LSTM`'s `state_dict` into `HandLSTM` and get the same outputs and the same gradients;
# - read a timing comparison as a ratio to `nn.LSTM`, measured on your own machine.

# %%
import numpy as np
import torch

import lstm_course
from lstm_course import HandLSTM, benchmark, numpy_lstm, plots
from lstm_course.checks import check_lstm_forward, check_lstm_forward_reverse, check_two_layer_forward

lstm_course.setup_notebook()  # seeds Python, NumPy and PyTorch; one PyTorch thread; 4-digit printing

# %% [markdown]
# ## 1. The reference: `nn.LSTM` with `batch_first=True`
#
# Throughout, `input` is `(batch, seq, input_size)` and the initial states `h_0`, `c_0` are
# `(batch, hidden_size)` each: one layer, one direction, so our function takes them without the
# layer dimension. `nn.LSTM` wants its states with a leading `num_layers * num_directions`
# dimension, here 1, so we add it with `h_0[None]`. Like `nn.LSTM`, our function *returns*
# `h_n` and `c_n` with that dimension, `(1, batch, hidden_size)`: to continue a sequence from
# where it stopped, pass `h_n[0]` and `c_n[0]` back in.

# %%
batch, seq, input_size, hidden_size = 3, 5, 4, 6
lstm = torch.nn.LSTM(input_size, hidden_size, batch_first=True)
x = torch.randn(batch, seq, input_size)
h_0 = torch.randn(batch, hidden_size)
c_0 = torch.randn(batch, hidden_size)

with torch.no_grad():
    expected_output, (expected_h_n, expected_c_n) = lstm(x, (h_0[None], c_0[None]))
print("output", tuple(expected_output.shape), " h_n", tuple(expected_h_n.shape), " c_n", tuple(expected_c_n.shape))

w_ih, w_hh = lstm.weight_ih_l0.detach(), lstm.weight_hh_l0.detach()  # (4 * hidden, input), (4 * hidden, hidden)
b_ih, b_hh = lstm.bias_ih_l0.detach(), lstm.bias_hh_l0.detach()  # (4 * hidden,) each

# %% [markdown]
# ## 2. A first version: tile the weights, `bmm` at every step
#
# A common first attempt, found in many tutorials, copies the weight matrices once per batch row,
# so that `torch.bmm` can multiply each row's matrix by each row's vector. Here are its two
# products for the first step, next to the plain matmuls that give the same numbers:

# %%
x_t, h_prev = x[:, 0], h_0  # step 0: (batch, input_size), (batch, hidden_size)
w_ih_batch = w_ih.unsqueeze(0).tile(batch, 1, 1)  # (batch, 4 * hidden, input_size): a copy per row!
w_hh_batch = w_hh.unsqueeze(0).tile(batch, 1, 1)  # (batch, 4 * hidden, hidden)
x_part = torch.bmm(w_ih_batch, x_t.unsqueeze(-1)).squeeze(-1)  # (batch, 4 * hidden)
h_part = torch.bmm(w_hh_batch, h_prev.unsqueeze(-1)).squeeze(-1)  # (batch, 4 * hidden)
torch.testing.assert_close(x_part, x_t @ w_ih.T)  # (batch, input_size) @ (input_size, 4 * hidden)
torch.testing.assert_close(h_part, h_prev @ w_hh.T)  # (batch, hidden) @ (hidden, 4 * hidden)
print(f"x_part {tuple(x_part.shape)}, h_part {tuple(h_part.shape)}: the same numbers as one matmul each")

# %% [markdown]
# Put in a loop over the steps, with the gate equations of notebook 01, these products give
# `nn.LSTM`'s results; section 9 times that version. It is correct, and wasteful twice over:
#
# - **Memory.** `tile` makes `batch` copies of both weight matrices. With batch 100, input 6 and
#   hidden 32 that is 100 copies; at the medium size we benchmark below (batch 64, input 128,
#   hidden 256) it is 64 copies of 1.5 MiB.
# - **Speed.** Every row multiplies *the same* matrix. `bmm` does `batch` small matrix-vector
#   products and reads the weights `batch` times; one matrix-matrix product `x @ W.T` reads them
#   once and lets the BLAS library use its fastest kernel.

# %%
for name, shape in {"example": (100, 1, 6, 32), **benchmark.SIZES}.items():
    once, tiled = benchmark.weight_bytes(shape)  # shape: (batch, seq, input_size, hidden_size)
    print(f"{name:12s} weights {once / 2**20:6.2f} MiB, tiled over batch {shape[0]:3d}: {tiled / 2**20:7.2f} MiB")

# %% [markdown]
# ## 3. The clean form
#
# Two observations make the loop lean:
#
# 1. The input part `W_ih x_t + b_ih + b_hh` does not depend on the previous step. So we compute
#    it for **every time step at once**: `input @ w_ih.T` turns `(batch, seq, input_size)` into
#    `(batch, seq, 4 * hidden)` in one matmul.
# 2. Only the recurrent part `W_hh h_{t-1}` must wait for the previous step: **one matmul per step**.
#
# $$
# \begin{aligned}
# Z &= X W_{ih}^\top + b_{ih} + b_{hh} && \text{(batch, seq, 4H), once}\\
# z_t &= Z_{:,t} + h_{t-1} W_{hh}^\top && \text{(batch, 4H), each step}\\
# i, f, g, o &= \sigma(z^{i}), \sigma(z^{f}), \tanh(z^{g}), \sigma(z^{o})\\
# c_t &= f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t)
# \end{aligned}
# $$
#
# ### Exercise 1 · `lstm_forward` in the clean form (core)
#
# Write `lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh)` from these equations:
#
# - `input` is `(batch, seq, input_size)`; `initial_states` is the pair `(h_0, c_0)`, each `(batch, hidden)`;
# - the weights are `nn.LSTM`'s: `w_ih` `(4 * hidden, input_size)`, `w_hh` `(4 * hidden, hidden)`,
#   `b_ih` and `b_hh` `(4 * hidden,)`, their rows the four gates in PyTorch's order `i, f, g, o`;
# - return `output, (h_n, c_n)`: `output` is `(batch, seq, hidden)`, the `h` of every step, and
#   `h_n`, `c_n` are the states after the last step, each `(1, batch, hidden)`, as
#   `nn.LSTM(batch_first=True)` returns them.
#
# Use one matmul for all the input projections, before the loop, and one matmul per step inside
# it, with PyTorch operations only, so that autograd can follow them back to the weights. The check
# runs your function on four sizes this notebook does not use (batch 1, seq 1 and hidden 1 among
# them), compares it with `nn.LSTM`, says which mistake it sees, and counts the operations that use
# `w_ih`: a sequence five times longer must not need more of them.

# %% nbgrader={"grade": false, "grade_id": "nb03_lstm_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """input (batch, seq, input_size), initial_states (h_0, c_0) each (batch, hidden)
    -> output (batch, seq, hidden), (h_n, c_n) each (1, batch, hidden)."""
    ### BEGIN SOLUTION
    h, c = initial_states  # (batch, hidden) each
    x_proj = input @ w_ih.T + b_ih + b_hh  # all input projections at once: (batch, seq, 4 * hidden)
    outputs = []
    for t in range(input.shape[1]):
        gates = x_proj[:, t] + h @ w_hh.T  # one matmul per step: (batch, 4 * hidden)
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (h[None], c[None])  # (batch, seq, hidden), (1, batch, hidden) x 2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb03_lstm_forward_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_lstm_forward(lstm_forward)

# %% [markdown]
# From here on we use the package's `lstm_course.lstm_forward`, the same clean form. It gives
# `nn.LSTM`'s results:

# %%
output, (h_n, c_n) = lstm_course.lstm_forward(x, (h_0, c_0), w_ih, w_hh, b_ih, b_hh)
torch.testing.assert_close(output, expected_output)
torch.testing.assert_close(h_n, expected_h_n)
torch.testing.assert_close(c_n, expected_c_n)
print("output", tuple(output.shape), " h_n", tuple(h_n.shape), " c_n", tuple(c_n.shape))

# %% [markdown]
# `torch.testing.assert_close` passes silently when the tensors agree within float32's
# tolerance (`rtol=1.3e-6`, `atol=1e-5`), and raises with the largest difference when they don't.
#
# The package's version also checks its arguments, and says what is wrong with them (a wrong
# shape, a dtype mismatch) instead of an obscure trace. Here we pass `h_0` with `nn.LSTM`'s layer
# dimension by mistake:

# %%
try:
    lstm_course.lstm_forward(x, (h_0[None], c_0), w_ih, w_hh, b_ih, b_hh)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# ## 4. Step by step against `nn.LSTMCell`
#
# `nn.LSTMCell` computes one step. Given the same four parameters, it must reproduce our
# output at every time step, not only at the end:

# %%
cell = torch.nn.LSTMCell(input_size, hidden_size)
cell.load_state_dict({"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh})

h, c = h_0, c_0
with torch.no_grad():
    for t in range(seq):
        h, c = cell(x[:, t], (h, c))  # (batch, hidden) each
        torch.testing.assert_close(h, output[:, t])  # raises at the first step that differs
print(f"all {seq} steps equal to float32's precision")

# %% [markdown]
# ## 5. The NumPy twin
#
# The package's `numpy_lstm.lstm_forward` is the same computation in NumPy, with the same
# shapes. In float64 it agrees with PyTorch's float32 to float32's precision:

# %%
np_output, (np_h_n, np_c_n) = numpy_lstm.lstm_forward(
    x.double().numpy(), h_0.double().numpy(), c_0.double().numpy(),
    *(p.double().numpy() for p in (w_ih, w_hh, b_ih, b_hh)),
)
np.testing.assert_allclose(np_output, expected_output.numpy(), rtol=1e-5, atol=1e-6)
print("NumPy:", np_output.shape, np_h_n.shape, np_c_n.shape)

# %% [markdown]
# ## 6. The other direction, and a second layer
#
# A bidirectional `nn.LSTM` runs a second LSTM over the sequence, from the last step to the first.
# A stacked one feeds layer 0's outputs, the whole sequence of them, to layer 1 as its input. Each
# of these LSTMs has its own four parameters, named with `_reverse` and `_l1`:

# %%
for name, parameter in torch.nn.LSTM(input_size, hidden_size, num_layers=2, bidirectional=True).named_parameters():
    print(f"{name:24s} {tuple(parameter.shape)}")

# %% [markdown]
# Layer 1 of this stack reads both directions' outputs side by side, `2 * hidden_size = 12` wide.
# In exercise 3 the stack has one direction, so its layer 1 reads `hidden` numbers per step.
#
# ### Exercise 2 · Run the sequence backwards (core)
#
# Write `lstm_forward_reverse(input, initial_states, w_ih, w_hh, b_ih, b_hh)`: the same arguments
# and shapes as `lstm_forward`, but the steps go from the last one, `t = seq - 1`, down to `t = 0`,
# starting from `(h_0, c_0)`. Store each step's `h` at its own time index, so that `output[:, t]`
# belongs to input step `t`; `h_n` and `c_n` are the states after the last step computed, the one
# at `t = 0`. The check compares your function with the reverse half of a bidirectional `nn.LSTM`.

# %% nbgrader={"grade": false, "grade_id": "nb03_lstm_forward_reverse", "locked": false, "schema_version": 3, "solution": true, "task": false}
def lstm_forward_reverse(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """lstm_forward's arguments and results, the steps taken from t = seq - 1 down to t = 0."""
    ### BEGIN SOLUTION
    h, c = initial_states
    x_proj = input @ w_ih.T + b_ih + b_hh  # (batch, seq, 4 * hidden)
    outputs = [None] * input.shape[1]
    for t in reversed(range(input.shape[1])):
        i, f, g, o = (x_proj[:, t] + h @ w_hh.T).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs[t] = h
    return torch.stack(outputs, dim=1), (h[None], c[None])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb03_lstm_forward_reverse_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_lstm_forward_reverse(lstm_forward_reverse)

# %% [markdown]
# ### Exercise 3 · Two stacked layers (core)
#
# Write `two_layer_forward(input, initial_states, weights_layer0, weights_layer1)`, the forward pass
# of `nn.LSTM(input_size, hidden, num_layers=2, batch_first=True)`:
#
# - `input` is `(batch, seq, input_size)`; `initial_states` is `(h_0, c_0)`, each `(2, batch, hidden)`,
#   row `k` for layer `k`, as `nn.LSTM` takes them;
# - `weights_layer0` and `weights_layer1` are each `(w_ih, w_hh, b_ih, b_hh)`; layer 0's `w_ih` is
#   `(4 * hidden, input_size)`, layer 1's `(4 * hidden, hidden)`;
# - return `output, (h_n, c_n)`: `output` is the top layer's, `(batch, seq, hidden)`; `h_n` and
#   `c_n` are each `(2, batch, hidden)`, row `k` the final state of layer `k`.
#
# Call `lstm_course.lstm_forward` once per layer. The check compares your function with a
# two-layer `nn.LSTM` on three sizes.

# %% nbgrader={"grade": false, "grade_id": "nb03_two_layer_forward", "locked": false, "schema_version": 3, "solution": true, "task": false}
def two_layer_forward(input, initial_states, weights_layer0, weights_layer1):
    """input (batch, seq, input_size), initial_states (h_0, c_0) each (2, batch, hidden),
    weights_layerK (w_ih, w_hh, b_ih, b_hh) -> output (batch, seq, hidden), (h_n, c_n) each (2, batch, hidden)."""
    ### BEGIN SOLUTION
    h_0, c_0 = initial_states  # (2, batch, hidden) each
    output_0, (h_n_0, c_n_0) = lstm_course.lstm_forward(input, (h_0[0], c_0[0]), *weights_layer0)
    output_1, (h_n_1, c_n_1) = lstm_course.lstm_forward(output_0, (h_0[1], c_0[1]), *weights_layer1)
    return output_1, (torch.cat([h_n_0, h_n_1]), torch.cat([c_n_0, c_n_1]))  # (batch, seq, hidden), (2, batch, hidden) x 2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb03_two_layer_forward_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_two_layer_forward(two_layer_forward)

# %% [markdown]
# ## 7. `HandLSTM`: a drop-in `nn.LSTM`
#
# `lstm_course.HandLSTM` runs the clean form once per layer and direction, as in these exercises,
# and accepts everything `nn.LSTM` accepts: any number of layers, both directions, `batch_first`,
# `proj_size`, unbatched input, dropout between layers, and a `PackedSequence` of sentences of
# different lengths (notebook 05 packs them), where at step t only the sequences still running
# advance. A bad argument raises the exception type `nn.LSTM` raises, with a message that says what
# was expected. It has the same constructor and the same parameter names and shapes, so a
# `state_dict` moves between the two:

# %%
config = dict(input_size=4, hidden_size=6, num_layers=2, bidirectional=True, batch_first=True)
reference = torch.nn.LSTM(**config)
hand = HandLSTM(**config)
hand.load_state_dict(reference.state_dict())
print(hand)
print([name for name, _ in hand.named_parameters()] == [name for name, _ in reference.named_parameters()])

# %%
x2 = torch.randn(3, 7, 4)  # (batch, seq, input_size)
torch.testing.assert_close(hand(x2)[0], reference(x2)[0])
for got, want in zip(hand(x2)[1], reference(x2)[1]):
    torch.testing.assert_close(got, want)
print("output", tuple(hand(x2)[0].shape), " h_n", tuple(hand(x2)[1][0].shape))

# %% [markdown]
# ## 8. Equal gradients
#
# `HandLSTM` is built only from differentiable tensor operations, so autograd gives it a backward
# pass for free. The gradients must match `nn.LSTM`'s for the input and every parameter. We use
# float64 so that the comparison can be tight:

# %%
reference64 = torch.nn.LSTM(**config, dtype=torch.float64)
hand64 = HandLSTM(**config, dtype=torch.float64)
hand64.load_state_dict(reference64.state_dict())
x64 = torch.randn(3, 7, 4, dtype=torch.float64, requires_grad=True)

gradients = {}
for name, module in (("nn.LSTM", reference64), ("HandLSTM", hand64)):
    output, (h_n, c_n) = module(x64)
    loss = output.pow(2).sum() + h_n.sum()  # any scalar that uses every output
    gradients[name] = torch.autograd.grad(loss, [x64, *module.parameters()])

names = ["input"] + [name for name, _ in hand64.named_parameters()]
for name, a, b in zip(names, *gradients.values()):
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10, msg=f"the gradients of {name} differ")
print(f"{len(names)} gradients equal to within 1e-10: {', '.join(names[:3])}, ...")

# %% [markdown]
# `lstm_course.fast_lstm.FastHandLSTM` is the same module with its backward pass written by hand;
# its docstring says what each change gained, and where. What it speeds up is mostly training,
# the backward pass: compare its forward below with `HandLSTM`'s.
#
# ## 9. How fast is it?
#
# Timings depend on the machine, so we time `nn.LSTM` in the same run and print **ratios**: 2.0
# means twice as slow as `nn.LSTM` (the median of three repeats, one thread). The cell takes about
# 15 seconds, and your ratios will differ a little from run to run.

# %%
# NBVAL_IGNORE_OUTPUT
# (timings change from run to run; the next cell checks what must hold)
implementations = ("tiled", "lstm_forward", "HandLSTM", "FastHandLSTM")
results = benchmark.time_ratios(("tutorial", "medium"), implementations, repeats=3, modes=("forward",), threads=1, min_seconds=0.2)
for size, result in results.items():
    ratios = ", ".join(f"{name} {modes['forward']:.2f}" for name, modes in result["ratios"].items())
    print(f"{size} {result['shape']}: nn.LSTM {result['nn.LSTM seconds']['forward'] * 1e3:.1f} ms; ratios: {ratios}")
fig = plots.plot_time_ratios(results)

# %% [markdown]
# The tiled form is the slowest at both sizes: it multiplies `batch` copies of the weights one
# row at a time. The next cell checks that. `benchmarks/lstm_speed.py` measures more sizes, the
# backward pass and the NumPy version.

# %%
for size, result in results.items():
    ratios = {name: modes["forward"] for name, modes in result["ratios"].items()}
    assert max(ratios, key=ratios.get) == "tiled", f"{size}: tiling the weights should cost the most time, got {ratios}"
print("the tiled form is the slowest at both sizes")

# %% [markdown]
# ## Summary
#
# - Tiling the weights over the batch and calling `bmm` per step gives the right numbers, but
#   makes `batch` copies of the weights and replaces one efficient matmul by `batch` small ones.
# - The clean form projects all inputs at once, `input @ w_ih.T + b_ih + b_hh`, then does one
#   matmul per step for the recurrence, `h @ w_hh.T`.
# - The reverse direction walks `t` from `seq - 1` down to `0` and stores each `h` at its own time
#   index; a second layer reads the first layer's output, and `h_n` holds one row per layer.
# - `torch.testing.assert_close` against `nn.LSTMCell` (step by step) and `nn.LSTM` (whole
#   sequence) is how you prove a hand-written LSTM right.
# - `HandLSTM` loads an `nn.LSTM`'s `state_dict` and gives equal outputs and gradients.
#
# Next: [04_bidirectional_and_stacked](04_bidirectional_and_stacked.ipynb), where the shapes of
# every configuration are made visible.

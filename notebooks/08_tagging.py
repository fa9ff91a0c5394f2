# %% [markdown]
# # 08 · Tagging every token: parts of speech and Chinese words with a BiLSTM
#
# Notebook 05 read a whole sentence and gave one answer. Many tasks need an answer for **every
# token**: the part of speech of each word, the name of each entity, where each word of a
# Chinese text begins and ends. There the answer at word $t$ depends on the words before it and
# after it, and a bidirectional LSTM, which has read both sides when it reaches $t$, earns its
# keep. We tag English words with their parts of speech, and cut Chinese text into words
# (中文分词), with the same kind of model, and we measure it against the simple methods a careful
# engineer tries first.
#
# By the end of this notebook you will be able to:
#
# - produce one output per token with a BiLSTM, and leave padding out of the loss and of the
#   accuracy;
# - turn a segmented sentence into B/M/E/S tags and back;
# - measure a tagger against the most-frequent-tag and longest-match baselines, on all words and
#   on words never seen in training;
# - find the invalid tag sequences a per-token argmax makes, and decode with Viterbi instead.

# %%
import inspect
import time
from collections import Counter

import numpy as np
import torch
from torch import nn

import lstm_course
from lstm_course import tagging
from lstm_course.checks import check_bmes, check_masked_loss_and_accuracy, check_viterbi, check_words_from_bmes

lstm_course.setup_notebook()  # seeds Python, NumPy and PyTorch; one thread; 4-digit printing
notebook_start = time.perf_counter()

# %% [markdown]
# ## 1. One tag per word
#
# The English data are the **UD English Web Treebank**: sentences from weblogs, newsgroups,
# emails, reviews and question-and-answer sites, each word tagged with one of the 17 universal
# parts of speech (UPOS) of the Universal Dependencies project. They ship with the course
# (licence: CC BY-SA 4.0; `lstm_course/data/LICENSE-UD.txt`), in the treebank's own splits.

# %%
pos = {split: tagging.load_pos(split) for split in ("train", "validation", "test")}
for split, sentences in pos.items():
    print(f"{split:10s} {len(sentences):6,} sentences, {sum(len(words) for words, _ in sentences):7,} words")
words, tags = pos["train"][1]
print(list(zip(words, tags)))
training_words = {word for words, _ in pos["train"] for word in words}
test_words = [word for words, _ in pos["test"] for word in words]
print(f"test words never seen in training: {np.mean([word not in training_words for word in test_words]):.1%}")
print(Counter(tag for _, tags in pos["train"] for tag in tags).most_common())

# %% [markdown]
# ## 2. The first thing to try: each word's most frequent tag
#
# Most words have one usual part of speech. Tag each word with the tag it had most often in
# training, and a word never seen with the most frequent tag of all (NOUN). Every figure in this
# notebook is measured on the test split, on all words and on the words never seen in training.

# %%
baseline = tagging.MostFrequentTag(pos["train"])
baseline_scores = tagging.pos_scores(baseline, pos["test"], training_words)
print({name: round(value, 4) for name, value in baseline_scores.items()})
print(baseline.tag(["I", "saw", "her", "duck", "yesterday"]), baseline.tag(["I", "will", "duck"]))

# %% [markdown]
# Already 86 % of the words are right, but only about a third of the unseen ones, and the
# baseline cannot tell "duck" the noun from "duck" the verb: the word alone does not decide.
#
# ## 3. A BiLSTM with one output per token
#
# The model, `tagging.BiLSTMTagger`: each word becomes a row of ids (the word, lowercased; its
# shape, such as `Xxxx` or `dd`; its last three letters), each id an embedding, side by side;
# a bidirectional LSTM reads the sentence (packed, so padding is never read, as in notebook 05);
# a linear layer reads **every** step of the output and scores the 17 tags there. The logits are
# `(batch, seq, tags)`: one row of scores per token.

# %%
ids, lengths, labels = tagging.make_batch([([[3], [4], [5]], [0, 1, 2]), ([[6], [7]], [1, 1])])  # one id per token
print("ids", tuple(ids.shape), " lengths", lengths.tolist(), " labels", labels.tolist())

# %% [markdown]
# Each token is a row of feature ids (here one id per token; the tagger's words have three: the
# word, its shape, its suffix), and each sentence has one label per token. A batch pads its
# sentences to the longest. The padded positions get the label `-100` (`tagging.IGNORE`): they
# are not words and have no tag. Both the loss and the accuracy must leave them out.
#
# - **The loss.** `nn.functional.cross_entropy(..., ignore_index=-100)` skips every position whose
#   label is `-100`, and averages over the others. It wants the classes in dim 1: scores
#   `(N, C)` with labels `(N,)`, or `(batch, C, seq)` with `(batch, seq)`. Our logits are
#   `(batch, seq, tags)`, so flatten them to `(batch * seq, tags)`, or transpose them.
# - **The accuracy.** The argmax at a padded position is some tag, never `-100`. Counted, the
#   padding would pull the accuracy down, and the more so, the longer the batch's longest sentence.
#
# ### Exercise 1 · The masked loss and accuracy (core)
#
# *Write `masked_loss_and_accuracy(logits, labels)`: `logits` `(batch, seq, tags)`, `labels`
# `(batch, seq)` a LongTensor with `-100` at the padding. Return `(loss, accuracy)`: the mean
# cross-entropy over the real tokens, a 0-d tensor that carries the gradient, and the share of
# real tokens whose argmax over the tags is their label, a float.*

# %% nbgrader={"grade": false, "grade_id": "nb08_masked_loss_and_accuracy", "locked": false, "schema_version": 3, "solution": true, "task": false}
def masked_loss_and_accuracy(logits, labels):
    ### BEGIN SOLUTION
    loss = nn.functional.cross_entropy(logits.transpose(1, 2), labels, ignore_index=-100)  # (batch, tags, seq)
    real = labels != -100
    right = (logits.argmax(dim=-1) == labels) & real
    return loss, right.sum().item() / real.sum().item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb08_masked_loss_and_accuracy_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_masked_loss_and_accuracy(masked_loss_and_accuracy)

# %% [markdown]
# The course's task for `training.fit`, `tagging.TokenTagging`, computes its loss the same way:

# %%
print(inspect.getsource(tagging.TokenTagging.loss))

# %% [markdown]
# ## 4. Training the tagger
#
# One epoch over the 12,544 training sentences, on one thread. Words seen only once in training
# are read as `<unk>`, so that the model learns what to do with a word it has no embedding for;
# for such a word, only its shape and suffix are left to go on.

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
tagger = tagging.train_tagger("pos", epochs=1, seed=0)
print(f"trained in {time.perf_counter() - start:.0f} s;", tagger)

# %%
lstm_scores = tagging.pos_scores(tagger, pos["test"], training_words)
for name, scores in (("most frequent tag", baseline_scores), ("BiLSTM", lstm_scores)):
    print(f"{name:18s} accuracy {scores['accuracy']:.4f}, on unseen words {scores['unseen_accuracy']:.4f}")
print(tagger.tag(["I", "saw", "her", "duck", "yesterday"]), tagger.tag(["I", "will", "duck"]))

# %% [markdown]
# ### What helps on unknown words
#
# The same model, reading the word alone, without its shape and suffix:

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
word_only = tagging.train_tagger("pos", epochs=1, features=False, seed=0)
print(f"trained in {time.perf_counter() - start:.0f} s")

# %%
word_only_scores = tagging.pos_scores(word_only, pos["test"], training_words)
print(f"word only          accuracy {word_only_scores['accuracy']:.4f}, "
      f"on unseen words {word_only_scores['unseen_accuracy']:.4f}")

# %% [markdown]
# Without them, an unseen word is one embedding, `<unk>`, whatever it looks like: the context is
# all the model has. With them, `-ly`, `-ed`, a capital or digits say a lot.
#
# ### The errors it makes

# %%
confusions = Counter()
for (words, gold), guess in zip(pos["test"], tagger.tag_many([words for words, _ in pos["test"]])):
    confusions.update((right, wrong) for right, wrong in zip(gold, guess) if right != wrong)
print("most frequent confusions (right tag, tagged as):", confusions.most_common(6))
shown = 0
for words, gold in pos["test"]:
    guess = tagger.tag(words)
    if guess != gold and len(words) <= 14 and shown < 3:  # a few short sentences with a mistake
        shown += 1
        print(" ".join(f"{word}/{tag}" + ("" if tag == right else f"(right: {right})")
                       for word, tag, right in zip(words, guess, gold)))

# %% [markdown]
# The most frequent mistakes are between tags that are hard for people too: a proper noun or a common noun
# (`PROPN`, `NOUN`: is *Apple* the company?), an adjective or a noun (*the **gold** medal*), a
# verb or a noun (*the **killing** of a cleric*).
#
# ## 5. Chinese words: segmentation as tagging
#
# Chinese is written without spaces, so the first step of most Chinese text processing is to cut
# a text into words. It is a tagging task too: each **character** gets one of four tags, **B**
# (begins a word of two or more characters), **M** (in its middle), **E** (ends it) or **S** (a
# word of one character). The data: the words of the **UD Chinese GSDSimp** treebank (Wikipedia,
# simplified characters). Only 1,000 of its sentences ship here, split into 500 for training,
# 250 for validation and 250 for test: far less than a real segmenter learns from, so many test
# words never occur in training.

# %%
segmentation = {split: tagging.load_segmentation(split) for split in ("train", "validation", "test")}
print({split: len(sentences) for split, sentences in segmentation.items()}, "sentences")
print(segmentation["train"][0])

# %% [markdown]
# ### Exercise 2 · B/M/E/S tags of a segmented sentence (core)
#
# *Write `bmes(words)`: `words` is a list of str. Return a list with one tag per character of the
# words, each `"B"`, `"M"`, `"E"` or `"S"`.* For example `bmes(["同样", "的", "结果"])` is
# `['B', 'E', 'S', 'B', 'E']`.

# %% nbgrader={"grade": false, "grade_id": "nb08_bmes", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bmes(words):
    ### BEGIN SOLUTION
    tags = []
    for word in words:
        if len(word) == 1:
            tags.append("S")
        else:
            tags += ["B"] + ["M"] * (len(word) - 2) + ["E"]
    return tags
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb08_bmes_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_bmes(bmes)

# %% [markdown]
# ### Exercise 3 · Words from B/M/E/S tags (core)
#
# *Write `words_from_bmes(text, tags)`: `text` is a str, `tags` a valid list of tags, one per
# character. Return the list of words: a word begins at a B or an S, and ends at an E or an S.*
# For example `words_from_bmes("同样的结果", ['B', 'E', 'S', 'B', 'E'])` is `['同样', '的', '结果']`.

# %% nbgrader={"grade": false, "grade_id": "nb08_words_from_bmes", "locked": false, "schema_version": 3, "solution": true, "task": false}
def words_from_bmes(text, tags):
    ### BEGIN SOLUTION
    words = []
    for character, tag in zip(text, tags):
        if tag in ("B", "S"):
            words.append(character)  # a new word
        else:
            words[-1] += character  # the word goes on
    return words
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb08_words_from_bmes_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
check_words_from_bmes(words_from_bmes)

# %% [markdown]
# From here on we use `tagging.bmes` and `tagging.words_from_bmes`, written the same way (the
# course's version also reads an invalid sequence: see its docstring).
#
# **The first thing to try** is a dictionary: at each place, take the longest word of the
# training vocabulary that starts there, or one character if none does (**forward maximum
# matching**). Segmentations are scored word by word: a word is right when it covers the same
# characters, at the same places, as a word of the reference; precision is the share of the
# words found that are right, recall the share of the reference's words found, F1 their
# harmonic mean.

# %%
segmentation_words = {word for sentence in segmentation["train"] for word in sentence}


def longest_match(text):
    return tagging.forward_max_match(text, segmentation_words)


match_scores = tagging.segmentation_scores(longest_match, segmentation["test"], segmentation_words)
print({name: round(value, 4) for name, value in match_scores.items()})

# %% [markdown]
# The dictionary finds the words it knows and cuts an unknown word into shorter known words or
# single characters: its recall on unseen words is below 10 %.
#
# The BiLSTM reads characters: each character, its kind (Chinese, Latin, digit, punctuation) and
# the two-character string it begins. It trains for 6 epochs and keeps the epoch with the best
# validation accuracy.

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
segmenter = tagging.train_tagger("segment", seed=0)
print(f"trained in {time.perf_counter() - start:.0f} s;", segmenter)

# %% [markdown]
# ## 6. Invalid sequences, and Viterbi
#
# The model gives each character a score for each tag. Taking the best tag at each character on
# its own (the **argmax**) can give a sequence that is no segmentation: an M right after an S, an
# E at the start. How often?

# %%
texts = ["".join(sentence) for sentence in segmentation["test"]]
for decode in ("argmax", "viterbi"):
    share = tagging.invalid_share(segmenter, texts, decode)
    scores = tagging.segmentation_scores(lambda text: segmenter.segment(text, decode), segmentation["test"],
                                         segmentation_words)
    print(f"{decode:8s} invalid in {share:.1%} of the test sentences; F1 {scores['f1']:.4f}, "
          f"recall on unseen words {scores['unseen_recall']:.4f}")

# %% [markdown]
# Most test sentences get at least one invalid step from the argmax. **Viterbi** decoding finds
# the likeliest sequence among the valid ones: with `log_probs[t, k]` the log-probability of tag
# `k` at character `t`, the score of a sequence is the sum of its steps' log-probabilities, and
# `best[t, k]`, the best score of a valid sequence of the first `t + 1` characters that ends in
# tag `k`, is `log_probs[t, k]` plus the best `best[t - 1, j]` over the tags `j` allowed before
# `k`. If we keep, for each `(t, k)`, which `j` gave it, the best sequence can be read back from the end.
#
# ### Exercise 4 · Viterbi over the allowed sequences (optional)
#
# *Write `viterbi(log_probs)`: `log_probs` is a NumPy array `(steps, 4)`, tags in the order B, M,
# E, S. Return the likeliest valid sequence as a list of tag indices (0 to 3): it begins with B or
# S, ends with E or S, and after B or M comes M or E, after E or S comes B or S.*

# %% nbgrader={"grade": false, "grade_id": "nb08_viterbi", "locked": false, "schema_version": 3, "solution": true, "task": false}
def viterbi(log_probs):
    ### BEGIN SOLUTION
    allowed = np.array([[0, 1, 1, 0], [0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1]], dtype=bool)  # [before, after]
    best = log_probs[0] + np.where([True, False, False, True], 0.0, -np.inf)  # B or S first
    back = []
    for step in range(1, len(log_probs)):
        through = best[:, None] + np.where(allowed, 0.0, -np.inf)  # (tag before, tag now)
        back.append(through.argmax(axis=0))
        best = through.max(axis=0) + log_probs[step]
    best = best + np.where([False, False, True, True], 0.0, -np.inf)  # E or S last
    path = [int(best.argmax())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    return path[::-1]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "nb08_viterbi_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
check_viterbi(viterbi)

# %% [markdown]
# Viterbi leaves no sentence invalid, and gains a little F1.
#
# ## 7. One direction or two?
#
# The same segmenter with an LSTM of one direction. When it tags a character it has read the
# characters before it, and, through the pair feature, the next one; nothing further ahead:

# %%
# NBVAL_IGNORE_OUTPUT
start = time.perf_counter()
forward_only = tagging.train_tagger("segment", bidirectional=False, seed=0)
print(f"trained in {time.perf_counter() - start:.0f} s")

# %%
segment_scores = {}
for name, model in (("forward maximum matching", longest_match), ("LSTM, one direction", forward_only),
                    ("BiLSTM, two directions", segmenter)):
    segment_scores[name] = tagging.segmentation_scores(model, segmentation["test"], segmentation_words)
    print(f"{name:26s} " + ", ".join(f"{key} {value:.4f}" for key, value in segment_scores[name].items()))
text = texts[3]
print(" / ".join(segmenter.segment(text)))
print(" / ".join(segmentation["test"][3]))

# %% [markdown]
# Both are far above the dictionary, above all on the words it never saw (both decode with
# Viterbi). The second direction adds about a point of F1 here, about as much as a change of
# seed moves these figures with 500 training sentences: whether a character ends a word depends
# mostly on the character right after it, and the pair feature already shows the one-direction
# model that character.
#
# ## Summary
#
# - A tagger gives one output per token: the logits `(batch, seq, tags)`. Padding gets the label
#   `-100`, which `cross_entropy(ignore_index=-100)` leaves out; the accuracy must skip it too.
# - Measure the baseline first: each word's most frequent tag already gets 86 % of English words
#   right, but only about a third of the unseen ones; a dictionary's longest match segments known words, not new ones.
# - A BiLSTM reads both sides of each token. Word shape and suffix features help most on unseen
#   words.
# - Segmentation is tagging with B/M/E/S. A per-token argmax can give an invalid sequence;
#   Viterbi gives the likeliest valid one.

# %%
# NBVAL_IGNORE_OUTPUT
print(f"notebook ran in {time.perf_counter() - notebook_start:.0f} s")

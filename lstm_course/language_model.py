"""Notebook 07: a character-level language model of the movie-review sentences, and n-gram baselines.

The sentences are notebook 05's (`lstm_course.text`), on the same train / validation / test
split, cleaned to plain ASCII. A split is one stream of characters: every sentence followed by
``"\\n"``, which also stands first, as the start symbol.

    lm = train_char_lm("lstm", seed=0)
    lm.bits_per_char("test")
    lm.sample("The plot", length=80, temperature=0.8, seed=0)
    ngram_bits_per_char(5, "test")
"""

import functools
import math
import re
import unicodedata

import numpy as np
import torch
from torch import nn

from lstm_course import text
from lstm_course.text import default_device
from lstm_course.training import History, fit, load_checkpoint, save_checkpoint

START = "\n"  # ends every sentence, and stands before the first: the start symbol
ALPHABET = START + "".join(chr(code) for code in range(32, 127))  # the newline and printable ASCII: 96 symbols

# ----------------------------------------------------------------------------- characters


class CharVocabulary:
    """Character <-> id. ``start`` (a symbol of the vocabulary, or None) begins a text when a prompt is empty."""

    def __init__(self, symbols=ALPHABET, start=START):
        symbols = list(symbols)
        if len(set(symbols)) != len(symbols) or not all(isinstance(s, str) and len(s) == 1 for s in symbols):
            raise ValueError("a character vocabulary holds single characters, each once")
        if start is not None and start not in symbols:
            raise ValueError(f"the start symbol {start!r} should be one of the symbols")
        self.itos, self.start = symbols, start
        self.stoi = {symbol: index for index, symbol in enumerate(symbols)}

    def __len__(self):
        return len(self.itos)

    def __contains__(self, symbol):
        return symbol in self.stoi

    @property
    def start_id(self):
        return None if self.start is None else self.stoi[self.start]

    def encode(self, characters):
        """A list of ids; a character outside the vocabulary is a ValueError that names it."""
        missing = sorted({c for c in characters if c not in self.stoi})
        if missing:
            raise ValueError(f"{''.join(missing)!r} is not in the vocabulary: it holds {len(self)} symbols, "
                             "the newline and printable ASCII (no accents, no curly quotes)")
        return [self.stoi[c] for c in characters]

    def decode(self, ids):
        """The characters of ``ids``: a list, a tensor or an array of ids."""
        ids = ids.tolist() if hasattr(ids, "tolist") else ids  # plain ints: iterating a tensor makes a tensor of each
        return "".join(self.itos[int(i)] for i in ids)

    def to_json(self):
        return {"symbols": "".join(self.itos), "start": self.start}

    @classmethod
    def from_json(cls, data):
        return cls(data["symbols"], data["start"])


_PLAIN = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                        "\u2014": "--", "\u2011": "-", "\u2026": "...", "\u00bd": "1/2", "\u00e6": "ae"})


def plain(sentence):
    """The sentence in printable ASCII: quotes and dashes straightened, accents dropped, spaces single."""
    decomposed = unicodedata.normalize("NFKD", sentence.translate(_PLAIN))
    kept = "".join(c for c in decomposed if c in ALPHABET or c.isspace())
    return re.sub(r"\s+", " ", kept).strip()


def load_sentences(split):
    """One split of notebook 05's sentences, as plain ASCII strings in the file's order."""
    if split not in text.SPLITS:
        raise ValueError(f"split should be one of {text.SPLITS}, got {split!r}")
    return [plain(review.text) for review in text.load_splits()[split]]


def encode_sentences(sentences, vocab):
    """Each sentence followed by the start symbol, as a LongTensor of ids."""
    return [torch.tensor(vocab.encode(sentence + vocab.start)) for sentence in sentences]


def stream(encoded, vocab):
    """One stream: the start symbol, then every encoded sentence (each ends in the start symbol)."""
    return torch.cat([torch.tensor([vocab.start_id]), *encoded])


# ----------------------------------------------------------------------------- stream batches


def stream_batches(ids, batch_size, seq_len):
    """Yield ``(x, y)``, each (batch_size, <= seq_len): the stream cut into batch_size contiguous rows.

    Row k of a batch continues row k of the batch before, so a state carried from one batch to
    the next is the state of the same row of text. ``y`` is ``x`` shifted one step: the next characters.
    """
    steps = (len(ids) - 1) // batch_size  # steps in each row; a few symbols at the end are left out
    if steps < 1:
        raise ValueError(f"a stream of {len(ids)} symbols is too short for {batch_size} rows")
    rows = ids[: batch_size * steps + 1]
    x = rows[:-1].view(batch_size, steps)
    y = rows[1:].view(batch_size, steps)
    for start in range(0, steps, seq_len):
        yield x[:, start : start + seq_len], y[:, start : start + seq_len]


def number_of_batches(length, batch_size, seq_len):
    return math.ceil(((length - 1) // batch_size) / seq_len)


# ----------------------------------------------------------------------------- the model


class CharLM(nn.Module):
    """Embedding -> LSTM or GRU -> linear layer: ``forward(ids, state=None) -> (logits, state)``.

    ``ids`` (batch, seq) long; ``logits`` (batch, seq, vocab_size): at step t, the scores of the
    character that comes after ``ids[:, t]``. ``state`` is the recurrent layer's ``(h, c)``
    (LSTM) or ``h`` (GRU), None for zeros.
    """

    def __init__(self, vocab_size, cell="lstm", embedding_dim=32, hidden_size=128, num_layers=1, lstm_class=None):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell should be one of {sorted(CELLS)}, got {cell!r}")
        rnn_class = lstm_class if (cell == "lstm" and lstm_class is not None) else CELLS[cell]
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = rnn_class(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        output, state = self.rnn(self.embedding(ids), state)  # (batch, seq, hidden_size)
        return self.fc(output), state


CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


def detach_state(state):
    """The same values, cut from the graph: a tuple ``(h, c)`` (LSTM) or one tensor (GRU)."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def loss_in_bits(logits, targets):
    """Mean cross-entropy in bits per character: ``logits`` (batch, seq, vocab), ``targets`` (batch, seq)."""
    nats = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    return nats / math.log(2)  # PyTorch's log is the natural one: nats -> bits


def stream_loss(model, x, y, state):
    """One batch of a stream: the mean cross-entropy (nats) of predicting ``y`` from ``x`` and ``state``.

    Returns ``(loss, state)``: the loss, still attached to the graph for ``backward()``, and the
    model's final state detached, to carry into the next batch (see notebook 06, truncated BPTT).
    """
    logits, state = model(x, state)  # (batch, seq, vocab), the state after the last step
    loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return loss, detach_state(state)


def sample_next(logits, temperature, generator):
    """One character id drawn from ``softmax(logits / temperature)``; ``logits`` (vocab,).

    The largest logit is subtracted first, so that a tiny temperature gives exp(0) = 1 for the
    best character and exp(-huge) = 0 for the others (greedy), never inf / inf.
    """
    if not temperature > 0:
        raise ValueError(f"temperature should be > 0, got {temperature!r}")
    scaled = (logits.double() - logits.max()) / temperature
    probabilities = torch.softmax(scaled, dim=-1)
    return int(torch.multinomial(probabilities, 1, generator=generator))


# ----------------------------------------------------------------------------- training and scoring


class NextCharacter:
    """The task `training.fit` runs for a language model: stream batches, the state carried and detached.

    ``train``: the encoded training sentences, put into a new order every epoch (the same number of
    batches each time); ``validation``: a stream. The best epoch is the lowest validation loss.
    """

    keep_best = "loss"

    def __init__(self, vocab, seq_len):
        self.vocab, self.seq_len, self.state = vocab, seq_len, None

    def steps(self, train, batch_size):
        return number_of_batches(1 + sum(len(s) for s in train), batch_size, self.seq_len)

    def batches(self, train, batch_size, generator):
        self.state = None  # every epoch starts from zeros
        order = torch.randperm(len(train), generator=generator).tolist()
        return stream_batches(stream([train[k] for k in order], self.vocab), batch_size, self.seq_len)

    def loss(self, model, batch, device):
        x, y = batch
        loss, self.state = stream_loss(model, x.to(device), y.to(device), self.state)
        return loss, y.numel()

    def evaluate(self, model, validation):
        return evaluate_stream(model, validation)


def _pieces(ids, start_id, rows):
    """Cut a stream at start symbols into about ``rows`` pieces: inputs and targets (rows, longest), pads -100."""
    starts = torch.nonzero(ids[:-1] == start_id).flatten()
    wanted = torch.linspace(0, len(ids) - 1, rows + 1)[:-1]
    cuts = torch.unique(starts[torch.searchsorted(starts, wanted).clamp(max=len(starts) - 1)])
    ends = torch.cat([cuts[1:], torch.tensor([len(ids) - 1])])
    longest = int((ends - cuts).max())
    x = torch.full((len(cuts), longest), start_id, dtype=torch.long)
    y = torch.full((len(cuts), longest), -100, dtype=torch.long)  # cross_entropy's ignore_index
    for row, (a, b) in enumerate(zip(cuts.tolist(), ends.tolist())):
        x[row, : b - a], y[row, : b - a] = ids[a:b], ids[a + 1 : b + 1]
    return x, y


EVALUATION_ROWS = 32
EVALUATION_STEPS = 64  # time steps run at once when scoring: the memory used stays small on a whole split


def _chunks(length, steps):
    """Slices of ``range(length)``, ``steps`` at a time."""
    return [slice(start, start + steps) for start in range(0, length, steps)]


@torch.no_grad()
def evaluate_stream(model, ids, rows=EVALUATION_ROWS, steps=EVALUATION_STEPS):
    """(mean cross-entropy in nats, accuracy of the most likely character) over every symbol after the first.

    The stream is cut at start symbols into ``rows`` pieces, run side by side, each from a zero
    state: every symbol is predicted once, from its sentence's beginning on. The pieces are read
    ``steps`` characters at a time, the state carried, so that no (rows, length, ...) tensor is held.
    """
    model.eval()
    device = next(model.parameters()).device
    x, y = _pieces(ids, int(ids[0]), rows)
    state, nats, right = None, 0.0, 0
    for part in _chunks(x.shape[1], steps):
        logits, state = model(x[:, part].to(device), state)
        logits, targets = logits.reshape(-1, logits.shape[-1]), y[:, part].reshape(-1).to(device)
        nats += nn.functional.cross_entropy(logits, targets, ignore_index=-100, reduction="sum").item()
        real = targets != -100
        right += (logits.argmax(dim=1)[real] == targets[real]).sum().item()
    count = int((y != -100).sum())
    return nats / count, right / count


TRAINING = dict(embedding_dim=32, hidden_size=128, epochs=2, lr=0.01, batch_size=32, seq_len=50, clip=1.0)
_RECIPE = ("epochs", "lr", "batch_size", "seq_len", "clip")  # the rest of TRAINING are the model's options


class LanguageModel:
    """A trained CharLM with its vocabulary: ``bits_per_char``, ``sample``, ``save`` and ``load``."""

    def __init__(self, model, vocab, options, history=None):
        self.model, self.vocab, self.options, self.history = model, vocab, options, history

    def __repr__(self):
        size = sum(p.numel() for p in self.model.parameters())
        return f"LanguageModel({self.model.cell!r}, {len(self.vocab)} symbols, {size:,} parameters)"

    @property
    def device(self):
        return next(self.model.parameters()).device

    def bits_per_char(self, split="test"):
        """Bits per character on one split of the course's sentences (or on a list of sentences)."""
        sentences = load_sentences(split) if isinstance(split, str) else split
        loss, _ = evaluate_stream(self.model, stream(encode_sentences(sentences, self.vocab), self.vocab))
        return loss / math.log(2)

    @torch.no_grad()
    def sample(self, prompt="", length=200, temperature=1.0, seed=0):
        """The prompt followed by ``length`` characters drawn one at a time; the same seed gives the same text."""
        if not isinstance(prompt, str):
            raise ValueError(f"prompt should be a str, got {type(prompt).__name__}")
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise ValueError(f"length should be an int >= 0, got {length!r}")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"temperature should be a number > 0 (near 0: always the likeliest character), got {temperature!r}")
        if math.isinf(temperature):
            raise ValueError("temperature should be finite")
        ids = self.vocab.encode(prompt)
        if self.vocab.start is not None:
            ids = [self.vocab.start_id] + ids  # the text starts as a new sentence
        elif not ids:
            raise ValueError("an empty prompt needs a start symbol, and this vocabulary has none: give a prompt")
        self.model.eval()
        generator = torch.Generator().manual_seed(seed)
        logits, state = self.model(torch.tensor([ids], device=self.device))
        new = []
        for _ in range(length):
            new.append(sample_next(logits[0, -1].cpu(), temperature, generator))
            logits, state = self.model(torch.tensor([[new[-1]]], device=self.device), state)
        return prompt + self.vocab.decode(new)

    def save(self, path):
        """A folder with ``weights.pt`` (the state_dict: tensors only) and ``language_model.json`` (plain data)."""
        about = {"cell": self.model.cell, "options": self.options, "vocabulary": self.vocab.to_json()}
        if self.history is not None:
            about["history"] = self.history.__dict__
        return save_checkpoint(path, self.model, about, "language_model.json")

    @classmethod
    def load(cls, path, device=None):
        """Rebuild the model from ``language_model.json``, then load the weights with ``weights_only=True``."""
        def build(about):
            return CharLM(len(about["vocabulary"]["symbols"]), about["cell"], **about["options"])

        model, about = load_checkpoint(path, "language_model.json", build, device or default_device())
        history = History(**about["history"]) if "history" in about else None
        return cls(model.eval(), CharVocabulary.from_json(about["vocabulary"]), about["options"], history)


def train_char_lm(cell="lstm", seed=0, progress=True, limit=None, lstm_class=None, device=None, **changes):
    """Train a CharLM on the course's training sentences; the best epoch chosen on validation.

    ``changes`` override TRAINING (``hidden_size=64``, ``epochs=1``, ``clip=None``, ...);
    ``limit`` trains on the first ``limit`` sentences only (for quick tests); ``lstm_class``
    (e.g. ``FastHandLSTM``) replaces ``nn.LSTM``, starting from the same weights.
    Returns a LanguageModel.
    """
    unknown = set(changes) - set(TRAINING) - {"num_layers"}
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}: choose from {sorted(TRAINING)}")
    settings = {**TRAINING, **changes}
    recipe = {key: settings.pop(key) for key in _RECIPE}
    vocab = CharVocabulary()
    train = encode_sentences(load_sentences("train")[:limit], vocab)
    validation = stream(encode_sentences(load_sentences("validation"), vocab), vocab)
    torch.manual_seed(seed)  # the initial weights
    net = CharLM(len(vocab), cell, **settings)
    if lstm_class is not None:
        reference = net
        net = CharLM(len(vocab), cell, lstm_class=lstm_class, **settings)
        net.load_state_dict(reference.state_dict())
    net = net.to(device or default_device())
    history = fit(net, NextCharacter(vocab, recipe["seq_len"]), train, validation, epochs=recipe["epochs"],
                  lr=recipe["lr"], batch_size=recipe["batch_size"], seed=seed, clip=recipe["clip"], progress=progress,
                  description=f"{cell}, seed {seed}")
    return LanguageModel(net.eval(), vocab, settings, history)


# ----------------------------------------------------------------------------- n-grams


class KneserNey:
    """Interpolated Kneser-Ney character n-grams, counted on one stream of ids.

    The highest order counts n-grams; each lower order counts, for each (k-gram), how many
    different symbols come before it (its *continuation count*). At each order the discount is
    ``D = n1 / (n1 + 2 n2)`` (n1, n2: how many n-grams occur once, twice), and what it frees
    goes to the next lower order; below the unigrams is the uniform distribution.
    """

    def __init__(self, order, ids, vocab_size, start_id=0):
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"order should be an int >= 1, got {order!r}")
        self.order, self.vocab_size, self.start_id = order, vocab_size, start_id
        grams = self._codes(self._padded(ids), order)[order - 1 :]  # every n-gram with a real target
        self.tables = {}
        for m in range(order, 0, -1):
            if m == order:
                codes, counts = np.unique(grams, return_counts=True)
            else:  # continuation counts: distinct symbols before each m-gram, i.e. how many (m+1)-grams end with it
                codes, counts = np.unique(self.tables[m + 1]["codes"] % vocab_size**m, return_counts=True)
            contexts, first = np.unique(codes // vocab_size, return_index=True)
            n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
            self.tables[m] = dict(codes=codes, counts=counts, contexts=contexts,
                                  totals=np.add.reduceat(counts, first), types=np.diff(np.append(first, len(codes))),
                                  discount=n1 / (n1 + 2 * n2) if n1 + n2 else 0.5)

    def _padded(self, ids):
        return np.concatenate([np.full(self.order - 1, self.start_id), np.asarray(ids, dtype=np.int64)])

    def _codes(self, padded, m):
        """The code of the m-gram ending at each position of ``padded`` (base vocab_size; the first m - 1 are partial)."""
        codes = np.zeros(len(padded), dtype=np.int64)
        for j in range(m):
            shifted = np.zeros(len(padded), dtype=np.int64)
            shifted[j:] = padded[: len(padded) - j]
            codes += shifted * self.vocab_size**j
        return codes

    @staticmethod
    def _lookup(keys, values, queries):
        where = np.searchsorted(keys, queries).clip(max=len(keys) - 1)
        return np.where(keys[where] == queries, values[where], 0)

    def _probabilities(self, contexts, targets):
        """P(target | context), with ``contexts`` (n,) codes of the order - 1 symbols before each target."""
        p = np.full(len(targets), 1.0 / self.vocab_size)
        for m in range(1, self.order + 1):
            table = self.tables[m]
            context = contexts % self.vocab_size ** (m - 1)  # the last m - 1 symbols
            count = self._lookup(table["codes"], table["counts"], context * self.vocab_size + targets)
            total = self._lookup(table["contexts"], table["totals"], context)
            types = self._lookup(table["contexts"], table["types"], context)
            seen = total > 0
            d, safe = table["discount"], np.where(seen, total, 1)
            p = np.where(seen, np.maximum(count - d, 0) / safe + d * types / safe * p, p)
        return p

    def probabilities(self, context_ids):
        """The distribution (vocab_size,) of the next symbol after ``context_ids`` (the last order - 1 count)."""
        padded = self._padded(list(context_ids))
        code = self._codes(padded, self.order - 1)[-1] if self.order > 1 else 0
        return self._probabilities(np.full(self.vocab_size, code), np.arange(self.vocab_size))

    def bits_per_char(self, ids):
        """Mean -log2 P over every symbol of the stream ``ids`` after the first, each from the symbols before it."""
        padded = self._padded(ids)
        contexts = self._codes(padded, self.order - 1)[self.order - 1 : -1] if self.order > 1 else np.zeros(len(ids) - 1, dtype=np.int64)
        return float(-np.log2(self._probabilities(contexts, np.asarray(ids[1:], dtype=np.int64))).mean())


@functools.cache
def _split_stream(split):
    vocab = CharVocabulary()
    return stream(encode_sentences(load_sentences(split), vocab), vocab).numpy()


@functools.lru_cache(maxsize=1)
def ngram_model(order):
    """A KneserNey model of the given order, counted on the training split (the last one asked for is kept)."""
    vocab = CharVocabulary()
    return KneserNey(order, _split_stream("train"), len(vocab), vocab.start_id)


def ngram_bits_per_char(order, split="test"):
    """Bits per character of the interpolated Kneser-Ney n-gram model of ``order`` on one split."""
    return ngram_model(order).bits_per_char(_split_stream(split))


# ----------------------------------------------------------------------------- looking inside


@torch.no_grad()
def lstm_state_chunks(model, ids, steps=EVALUATION_STEPS):
    """Yield ``(part, h, c)``: ``part`` a slice of the steps of ``ids`` (batch, seq), ``h`` and ``c``
    (batch, len(part), hidden) after each of those steps, from a one-layer LSTM CharLM.

    ``nn.LSTM`` returns every step's ``h`` but only the last ``c``; the gates of all steps come
    from one matmul, given the ``h`` before each step, and then ``c`` is one line per step.
    The text is read ``steps`` characters at a time, the state carried, so that the gates of a
    long text are never all held at once.
    """
    rnn, state = model.rnn, None
    h_t = c_t = torch.zeros(ids.shape[0], rnn.hidden_size, device=ids.device)  # the state before the first step
    for part in _chunks(ids.shape[1], steps):
        x = model.embedding(ids[:, part])  # (batch, steps, embedding_dim)
        h, state = rnn(x, state)  # (batch, steps, hidden)
        h_prev = torch.cat([h_t[:, None], h[:, :-1]], dim=1)
        z = x @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h_prev @ rnn.weight_hh_l0.T + rnn.bias_hh_l0  # (batch, steps, 4 * hidden)
        i, f, g, o = z.chunk(4, dim=-1)  # PyTorch's gate order
        i, f, g = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g)
        c = torch.empty_like(h)
        for t in range(x.shape[1]):
            c_t = f[:, t] * c_t + i[:, t] * g[:, t]
            c[:, t] = c_t
        h_t = h[:, -1]
        yield part, h, c


def lstm_states(model, ids):
    """``h`` and ``c`` after every step of ``ids`` (batch, seq), each (batch, seq, hidden), from a one-layer LSTM CharLM."""
    chunks = [(h, c) for _, h, c in lstm_state_chunks(model, ids)]
    return torch.cat([h for h, _ in chunks], dim=1), torch.cat([c for _, c in chunks], dim=1)


VOWELS = frozenset("aeiouAEIOU")


def character_features(characters):
    """What each character of a text is: a dict of name -> array (len(characters),), for correlating with cells."""
    letter = np.array([c.isalpha() for c in characters])
    in_word, in_sentence, word, sentence = [], [], 0, 0
    for c, is_letter in zip(characters, letter):
        word = word + 1 if is_letter else 0
        sentence = 0 if c == START else sentence + 1
        in_word.append(word)
        in_sentence.append(sentence)
    return {
        "a letter": letter.astype(float),
        "a vowel": np.array([c in VOWELS for c in characters], dtype=float),
        "position in the word": np.array(in_word, dtype=float),
        "position in the sentence": np.array(in_sentence, dtype=float),
    }


def cell_values_of(lm, sentences):
    """The cell state ``c`` (n, hidden) after each character of the sentences' stream, and those n characters.

    The stream is cut into pieces run side by side (as when scoring); each piece's values are
    written straight into their place in the result, a chunk of steps at a time.
    """
    ids = stream(encode_sentences(sentences, lm.vocab), lm.vocab)
    x, y = _pieces(ids, lm.vocab.start_id, EVALUATION_ROWS)
    real = y != -100  # (rows, longest): each row's characters, then padding
    lengths = real.sum(dim=1).tolist()
    offsets = np.cumsum([0] + lengths)  # where each row's characters begin in the result
    values = np.empty((offsets[-1], lm.model.rnn.hidden_size), dtype=np.float32)
    for part, _, c in lstm_state_chunks(lm.model, x.to(lm.device)):
        c = c.cpu().numpy()
        for row, length in enumerate(lengths):
            n = min(part.stop, length) - part.start  # this row's characters in this chunk
            if n > 0:
                values[offsets[row] + part.start : offsets[row] + part.start + n] = c[row, :n]
    return values, lm.vocab.decode(x[real])


def correlations(values, features, units=16):
    """Pearson correlation of every unit (column of ``values``) with every feature: name -> (hidden,).

    Computed in float64, ``units`` columns at a time, so that no copy of the whole ``values`` is made.
    """
    standard = {name: (f - f.mean()) / (f.std() + 1e-12) for name, f in features.items()}
    result = {name: np.empty(values.shape[1]) for name in features}
    for start in range(0, values.shape[1], units):
        part = values[:, start : start + units].astype(np.float64)
        part = (part - part.mean(axis=0)) / (part.std(axis=0) + 1e-12)
        for name, f in standard.items():
            result[name][start : start + units] = part.T @ f / len(f)
    return result


def plot_values_over_text(characters, rows, labels, width=64, title=None):
    """Each character on a coloured square, one panel per row of ``rows`` (values in [-1, 1]), as in Karpathy's pictures."""
    import matplotlib.pyplot as plt

    characters = characters[: width * max(1, len(characters) // width)]
    lines = math.ceil(len(characters) / width)
    fig, axes = plt.subplots(len(rows), 1, figsize=(width * 0.16, len(rows) * (lines * 0.3 + 0.45)), squeeze=False)
    for ax, values, label in zip(axes[:, 0], rows, labels):
        grid = np.full((lines, width), np.nan)
        grid.flat[: len(characters)] = np.clip(values[: len(characters)], -1, 1)
        ax.imshow(grid, cmap="coolwarm", vmin=-1, vmax=1, aspect="auto")
        for k, c in enumerate(characters):
            ax.text(k % width, k // width, "⏎" if c == START else c, ha="center", va="center", fontsize=8, family="monospace")
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(label, fontsize=9, loc="left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig

"""Notebook 07: a character-level language model of the movie-review sentences.

The sentences are notebook 05's (`lstm_course.reviews`), on the same train / validation / test
split, cleaned to plain ASCII. A split is one stream of characters: every sentence followed by
``"\\n"``, which also stands first, as the start symbol.

    lm = train_char_lm("lstm", seed=0)
    lm.bits_per_char("test")
    lm.sample("The plot", length=80, temperature=0.8, seed=0)

The n-gram baselines are in `lstm_course.ngrams`, the look inside the cells in
`lstm_course.cell_traces`.
"""

import math
import re
import unicodedata

import torch
from torch import nn

from lstm_course import reviews
from lstm_course.training import History, default_device, fit, load_checkpoint, save_checkpoint

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
    if split not in reviews.SPLITS:
        raise ValueError(f"split should be one of {reviews.SPLITS}, got {split!r}")
    return [plain(review.text) for review in reviews.load_splits()[split]]


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


def stream_pieces(ids, start_id, rows):
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


def step_chunks(length, steps):
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
    x, y = stream_pieces(ids, int(ids[0]), rows)
    state, nats, right = None, 0.0, 0
    for part in step_chunks(x.shape[1], steps):
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

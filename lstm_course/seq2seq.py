"""Notebook 10: an encoder-decoder LSTM that rewrites dates as ISO dates, with attention or without.

    translator = train_translator(attention=True, seed=0)
    translator.translate("Thursday, May 3, 1979")          # '1979-05-03', greedy
    translator.translate("一九七九年五月三日", beam_size=3)   # beam search
    translator.attention_weights("3 May 1979")             # (10, 10) array: a row per output character
    exact_match(translator, date_pairs(1000, "test"))      # the share of dates rewritten exactly
    exact_match(parse_date, date_pairs(1000, "test"))      # the rule-based parser, the ceiling

The model, ``Seq2Seq``, reads characters and writes characters:

- **encoder**: embedding -> bidirectional LSTM over the packed source (padding never read);
- **bridge**: the two directions' final ``h`` concatenated, through a linear layer and tanh, is
  the decoder's ``h_0``; the same for ``c`` without the tanh (a cell state is not bounded);
- **decoder**: embedding of the previous character -> one-layer LSTM -> ``tanh(linear([h_t; context_t]))``
  -> linear -> the scores of the next character. Training feeds it the true previous characters
  (teacher forcing); translating feeds it its own (free running), from ``<start>`` to ``<end>``;
- **attention** (``attend``): scaled dot product. The decoder's ``h_t`` is the query, a linear
  projection of each encoder output a key, the encoder output itself the value; padded source
  positions get ``-inf`` before the softmax, so weight exactly 0. This is Luong et al.'s (2015)
  "general" score, scaled by ``1 / sqrt(hidden)`` as a transformer's is. Without attention the
  decoder knows the source only through ``h_0, c_0``: everything must pass the bridge.

The data is `lstm_course.dates`; training is the course's one loop, `training.fit`, given the
task ``DateTranslation``.
"""

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course.dates import TARGET_CHARACTERS, date_pairs, source_characters
from lstm_course.training import History, default_device, fit, load_checkpoint, save_checkpoint

PAD, START, END = "<pad>", "<start>", "<end>"
PAD_ID = 0  # padding is id 0 in both vocabularies

# ----------------------------------------------------------------------------- characters


class Vocabulary:
    """Symbol <-> id: the ``specials`` first (``<pad>`` is id 0), then the characters."""

    def __init__(self, characters, specials=(PAD,)):
        self.itos = list(specials) + sorted(set(characters))
        self.stoi = {symbol: index for index, symbol in enumerate(self.itos)}
        self.specials = list(specials)

    def __len__(self):
        return len(self.itos)

    def __repr__(self):
        return f"Vocabulary({len(self.itos) - len(self.specials)} characters and {self.specials})"

    def id(self, symbol):
        return self.stoi[symbol]

    def encode(self, text):
        """A list of ids; a character outside the vocabulary is a ValueError that names it."""
        unseen = sorted({c for c in text if c not in self.stoi or c in self.specials})
        if unseen:
            known = "".join(self.itos[len(self.specials):])
            raise ValueError(f"{''.join(unseen)!r} is not a character the model can read (no date format writes it, "
                             f"so it has no embedding); the characters it knows are {known!r}")
        return [self.stoi[c] for c in text]

    def decode(self, ids):
        """The characters of ``ids`` up to the first ``<end>``, special symbols left out."""
        characters = []
        for index in (ids.tolist() if hasattr(ids, "tolist") else ids):
            symbol = self.itos[int(index)]
            if symbol == END:
                break
            if symbol not in self.specials:
                characters.append(symbol)
        return "".join(characters)

    def to_json(self):
        return {"characters": "".join(self.itos[len(self.specials):]), "specials": self.specials}

    @classmethod
    def from_json(cls, data):
        return cls(data["characters"], data["specials"])


def date_vocabularies():
    """``(source_vocab, target_vocab)``: every character a date format writes; the ISO date's, <start> and <end>."""
    return Vocabulary(source_characters()), Vocabulary(TARGET_CHARACTERS, specials=(PAD, START, END))


def check_source(source):
    """A ValueError unless ``source`` is a non-empty str."""
    if not isinstance(source, str):
        raise ValueError(f"source should be a str such as '3 May 1979', got {type(source).__name__}: {source!r}")
    if not source:
        raise ValueError("source is an empty string: give a date such as '3 May 1979'")


def encode_sources(sources, vocab):
    """``(ids, lengths)``: ids (batch, longest) padded with 0; lengths (batch,), on the CPU, where packing wants them."""
    encoded = [vocab.encode(source) for source in sources]
    ids = torch.zeros(len(encoded), max(map(len, encoded)), dtype=torch.long)
    for row, symbols in enumerate(encoded):
        ids[row, : len(symbols)] = torch.tensor(symbols)
    return ids, torch.tensor([len(symbols) for symbols in encoded])


class Batch(NamedTuple):
    source: torch.Tensor  # (batch, source_length) ids, padded with 0
    lengths: torch.Tensor  # (batch,) the sources' lengths, on the CPU
    previous: torch.Tensor  # (batch, target_length + 1): <start> and the target: the decoder's inputs
    next: torch.Tensor  # (batch, target_length + 1): the target and <end>: what it should write, padded with 0


def make_batch(pairs, source_vocab, target_vocab):
    """The tensors of a list of ``(source, target)`` pairs (teacher forcing: the decoder reads the true target)."""
    source, lengths = encode_sources([source for source, _ in pairs], source_vocab)
    targets = [target_vocab.encode(target) for _, target in pairs]
    steps = max(map(len, targets)) + 1
    previous = torch.zeros(len(pairs), steps, dtype=torch.long)
    following = torch.zeros(len(pairs), steps, dtype=torch.long)
    for row, target in enumerate(targets):
        previous[row, : len(target) + 1] = torch.tensor([target_vocab.id(START)] + target)
        following[row, : len(target) + 1] = torch.tensor(target + [target_vocab.id(END)])
    return Batch(source, lengths, previous, following)


# ----------------------------------------------------------------------------- the model


class Memory(NamedTuple):
    """What the decoder may look at: the encoder's outputs, their keys, and where the source is real."""

    values: torch.Tensor  # (batch, source_length, 2 * encoder_hidden): the encoder's outputs
    keys: torch.Tensor  # (batch, source_length, decoder_hidden): projected for attention (None without it)
    mask: torch.Tensor  # (batch, source_length) bool: True at the source's characters, False at padding

    def rows(self, index):
        """The memory of the sources ``index`` (a LongTensor), e.g. one source repeated for a beam."""
        return Memory(*(None if part is None else part[index] for part in self))


class Encoder(nn.Module):
    """Embedding -> bidirectional LSTM. ``forward(ids, lengths) -> (outputs, (h_n, c_n))``.

    ``outputs`` (batch, source_length, 2 * hidden_size), zeros at padding; ``h_n``, ``c_n``
    (2, batch, hidden_size): forward direction, then backward. The source is packed, so the
    forward direction stops at each source's last character and the backward one starts there.
    """

    def __init__(self, vocab_size, embedding_dim, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True, bidirectional=True)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(self.embedding(ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_outputs, (h_n, c_n) = self.lstm(packed)
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=ids.shape[1])
        return outputs, (h_n, c_n)


class Bridge(nn.Module):
    """The encoder's final states (2, batch, encoder_hidden) -> the decoder's h_0, c_0 (1, batch, decoder_hidden)."""

    def __init__(self, encoder_hidden, decoder_hidden):
        super().__init__()
        self.h = nn.Linear(2 * encoder_hidden, decoder_hidden)
        self.c = nn.Linear(2 * encoder_hidden, decoder_hidden)

    def forward(self, h_n, c_n):
        both_h = torch.cat([h_n[0], h_n[1]], dim=-1)  # (batch, 2 * encoder_hidden): forward, backward
        both_c = torch.cat([c_n[0], c_n[1]], dim=-1)
        return torch.tanh(self.h(both_h)).unsqueeze(0), self.c(both_c).unsqueeze(0)


def attend(query, keys, values, mask):
    """Scaled dot-product attention with padding masked: ``(context, weights)``.

    ``query`` (batch, steps, d), ``keys`` (batch, source_length, d), ``values`` (batch, source_length, v),
    ``mask`` (batch, source_length) bool, True where the source is real. ``weights`` (batch, steps,
    source_length): each row sums to 1, 0 exactly at padding; ``context`` (batch, steps, v).
    """
    scores = query @ keys.transpose(1, 2) / math.sqrt(query.shape[-1])  # (batch, steps, source_length)
    scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))  # exp(-inf) = 0: padding gets no weight
    weights = torch.softmax(scores, dim=-1)
    return weights @ values, weights


class Decoder(nn.Module):
    """Embedding -> LSTM -> (attention) -> scores of the next character.

    ``forward(previous, state, memory) -> (logits, state, weights)``: ``previous`` (batch, steps)
    ids, all the true previous characters at once (teacher forcing) or one step at a time;
    ``logits`` (batch, steps, vocab_size); ``weights`` (batch, steps, source_length), or None
    without attention.
    """

    def __init__(self, vocab_size, embedding_dim, hidden_size, encoder_size, attention):
        super().__init__()
        self.attention = attention
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.key = nn.Linear(encoder_size, hidden_size, bias=False) if attention else None
        self.combine = nn.Linear(hidden_size + (encoder_size if attention else 0), hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(self, previous, state, memory):
        output, state = self.lstm(self.embedding(previous), state)  # (batch, steps, hidden_size)
        weights = None
        if self.attention:
            context, weights = attend(output, memory.keys, memory.values, memory.mask)
            output = torch.cat([output, context], dim=-1)  # (batch, steps, hidden_size + encoder_size)
        return self.out(torch.tanh(self.combine(output))), state, weights


class Seq2Seq(nn.Module):
    """Encoder, bridge, decoder. ``forward(source, lengths, previous) -> logits``, teacher-forced;
    ``encode`` then ``decode`` step by step to translate."""

    def __init__(self, source_vocab_size, target_vocab_size, embedding_dim=32, encoder_hidden=64, decoder_hidden=128,
                 attention=True):
        super().__init__()
        self.attention = attention
        self.encoder = Encoder(source_vocab_size, embedding_dim, encoder_hidden)
        self.bridge = Bridge(encoder_hidden, decoder_hidden)
        self.decoder = Decoder(target_vocab_size, embedding_dim, decoder_hidden, 2 * encoder_hidden, attention)

    def encode(self, source, lengths):
        """``(state, memory)``: the decoder's initial ``(h_0, c_0)`` and the Memory of the source."""
        outputs, (h_n, c_n) = self.encoder(source, lengths)
        mask = torch.arange(source.shape[1], device=source.device) < lengths.to(source.device).unsqueeze(1)
        keys = self.decoder.key(outputs) if self.attention else None  # once per source, not once per step
        return self.bridge(h_n, c_n), Memory(outputs, keys, mask)

    def decode(self, previous, state, memory):
        return self.decoder(previous, state, memory)

    def forward(self, source, lengths, previous):
        state, memory = self.encode(source, lengths)
        logits, _, _ = self.decode(previous, state, memory)
        return logits


# ----------------------------------------------------------------------------- decoding


@torch.no_grad()
def greedy_decode(model, source, lengths, start_id, end_id, max_length):
    """Free running, the likeliest character at every step: ``(ids, weights)``.

    ``ids`` (batch, steps), steps <= ``max_length`` (<end> included when written); ``weights``
    (batch, steps, source_length), or None without attention. Stops when every row has written <end>.
    """
    state, memory = model.encode(source, lengths)
    previous = torch.full((source.shape[0], 1), start_id, dtype=torch.long, device=source.device)
    written, weights = [], []
    finished = torch.zeros(source.shape[0], dtype=torch.bool, device=source.device)
    for _ in range(max_length):
        logits, state, step_weights = model.decode(previous, state, memory)
        previous = logits[:, -1].argmax(dim=-1, keepdim=True)  # (batch, 1): fed back as the next input
        written.append(previous)
        weights.append(step_weights)
        finished |= previous[:, 0] == end_id
        if finished.all():
            break
    return torch.cat(written, dim=1), (torch.cat(weights, dim=1) if model.attention else None)


class Hypothesis(NamedTuple):
    ids: list  # the characters' ids, <end> included when written
    log_prob: float  # the sum of the log-probabilities of ``ids``


@torch.no_grad()
def beam_search(model, source, lengths, start_id, end_id, max_length, beam_size):
    """The likeliest translation of one source (``source`` (1, source_length)) that a beam finds: a Hypothesis.

    At every step each of the ``beam_size`` living hypotheses is extended by every character, and
    the best extensions, by total log-probability, are walked in order: one among the first
    ``beam_size`` that writes <end> is finished, the others live on, until ``beam_size`` live.
    Search stops when no living hypothesis can beat the best finished one (a log-probability only
    falls as a sequence grows) or at ``max_length``. No length normalisation: every ISO date has
    the same length. With ``beam_size=1`` it is greedy decoding. A wider beam usually finds a
    likelier translation than greedy decoding, but not always: it may prune the prefix that greedy
    decoding follows to its end.
    """
    state, memory = model.encode(source, lengths)
    living, finished = [Hypothesis([], 0.0)], []
    for _ in range(max_length):
        previous = torch.tensor([[h.ids[-1] if h.ids else start_id] for h in living], device=source.device)
        rows = torch.zeros(len(living), dtype=torch.long, device=source.device)  # every hypothesis reads source 0
        logits, state, _ = model.decode(previous, state, memory.rows(rows))
        scores = torch.tensor([h.log_prob for h in living], device=source.device).unsqueeze(1)
        totals = scores + torch.log_softmax(logits[:, -1].double(), dim=-1)  # (living, vocab)
        best = totals.flatten().topk(min(2 * beam_size, totals.numel()))
        extended, parents = [], []
        for rank, (total, flat) in enumerate(zip(best.values.tolist(), best.indices.tolist())):
            parent, symbol = divmod(flat, totals.shape[1])
            hypothesis = Hypothesis(living[parent].ids + [symbol], total)
            if symbol == end_id and rank < beam_size:  # an <end> counts among the beam's best only
                finished.append(hypothesis)
            elif symbol != end_id and len(extended) < beam_size:
                extended.append(hypothesis)
                parents.append(parent)
        best_finished = max((h.log_prob for h in finished), default=-math.inf)
        if not extended or best_finished >= extended[0].log_prob:
            break
        living = extended
        state = tuple(part[:, parents] for part in state)  # each new hypothesis carries its parent's state
    else:
        finished.extend(living)  # max_length reached: the living ones end there, without <end>
    return max(finished, key=lambda h: h.log_prob)


# ----------------------------------------------------------------------------- the trained model


class Translator:
    """A trained Seq2Seq and its vocabularies: ``translate``, ``attention_weights``, ``log_prob``, ``save``, ``load``."""

    def __init__(self, model, source_vocab, target_vocab, max_length, options=None, history=None):
        self.model, self.source_vocab, self.target_vocab = model, source_vocab, target_vocab
        self.max_length, self.options, self.history = max_length, options or {}, history

    def __repr__(self):
        size = sum(p.numel() for p in self.model.parameters())
        kind = "with attention" if self.model.attention else "without attention"
        return f"Translator({kind}, {len(self.source_vocab)} source symbols, {size:,} parameters)"

    @property
    def device(self):
        return next(self.model.parameters()).device

    def _encoded(self, sources):
        for source in sources:
            check_source(source)
        source, lengths = encode_sources(sources, self.source_vocab)
        return source.to(self.device), lengths

    def _greedy(self, sources):
        self.model.eval()
        source, lengths = self._encoded(sources)
        ids, weights = greedy_decode(self.model, source, lengths, self.target_vocab.id(START),
                                     self.target_vocab.id(END), self.max_length)
        return [self.target_vocab.decode(row) for row in ids], weights

    def translate_many(self, sources, batch_size=512):
        """Greedy translations of a list of sources, ``batch_size`` at a time."""
        translations = []
        for start in range(0, len(sources), batch_size):
            translations += self._greedy(list(sources[start : start + batch_size]))[0]
        return translations

    def search(self, source, beam_size=1):
        """The Hypothesis that beam search finds (greedy for ``beam_size=1``), its log-probability with it."""
        if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
            raise ValueError(f"beam_size should be an int >= 1 (1: greedy), got {beam_size!r}")
        self.model.eval()
        ids, lengths = self._encoded([source])
        return beam_search(self.model, ids, lengths, self.target_vocab.id(START), self.target_vocab.id(END),
                           self.max_length, beam_size)

    def translate(self, source, beam_size=1):
        """The ISO date the model writes for ``source``: greedy for ``beam_size=1``, beam search otherwise.

        It may write a date that does not exist ('1979-02-30'): nothing but training keeps it
        to real ones. A source that is not a non-empty str, or holds a character that no date format
        writes (``dates.source_characters()``), is a ValueError.
        """
        if beam_size == 1:
            return self.translate_many([source])[0]
        return self.target_vocab.decode(self.search(source, beam_size).ids)

    def attention_weights(self, source):
        """(target_length, source_length) NumPy array: row t is where the model looked to write character t
        of its greedy translation (the <end> step left out); each row sums to 1."""
        if not self.model.attention:
            raise ValueError("this model has no attention: its decoder sees the source only through the bridge's "
                             "h_0, c_0. Train one with train_translator(attention=True)")
        (translation,), weights = self._greedy([source])
        return weights[0, : len(translation)].cpu().numpy()

    @torch.no_grad()
    def teacher_forced(self, pairs, batch_size=512):
        """``(mean cross-entropy, accuracy)`` of the next symbol given the true previous ones (every target
        character and the <end>), the decoder fed the true target: what training measures."""
        self.model.eval()
        total, right, count = 0.0, 0, 0
        for start in range(0, len(pairs), batch_size):
            batch = make_batch(pairs[start : start + batch_size], self.source_vocab, self.target_vocab)
            logits = self.model(batch.source.to(self.device), batch.lengths, batch.previous.to(self.device))
            targets = batch.next.to(self.device)
            total += nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD_ID,
                                                 reduction="sum").item()
            real = targets != PAD_ID
            right += (logits.argmax(dim=-1)[real] == targets[real]).sum().item()
            count += real.sum().item()
        return total / count, right / count

    @torch.no_grad()
    def log_prob(self, source, target):
        """log P(target, then <end> | source) under the model, the sum over the target's symbols."""
        self.model.eval()
        batch = make_batch([(source, target)], self.source_vocab, self.target_vocab)
        logits = self.model(batch.source.to(self.device), batch.lengths, batch.previous.to(self.device))
        log_probs = torch.log_softmax(logits[0].double(), dim=-1)  # (steps, vocab)
        return log_probs.gather(1, batch.next[0].unsqueeze(1).to(self.device)).sum().item()

    def save(self, path):
        """A folder with ``weights.pt`` (the state_dict: tensors only) and ``translator.json`` (plain data)."""
        about = {"attention": self.model.attention, "options": self.options, "max_length": self.max_length,
                 "source_vocabulary": self.source_vocab.to_json(), "target_vocabulary": self.target_vocab.to_json()}
        if self.history is not None:
            about["history"] = self.history.__dict__
        return save_checkpoint(path, self.model, about, "translator.json")

    @classmethod
    def load(cls, path, device=None):
        """Rebuild the model from ``translator.json``, then load the weights with ``weights_only=True``."""
        def vocabularies(about):
            return (Vocabulary.from_json(about["source_vocabulary"]), Vocabulary.from_json(about["target_vocabulary"]))

        def build(about):
            source_vocab, target_vocab = vocabularies(about)
            return Seq2Seq(len(source_vocab), len(target_vocab), attention=about["attention"], **about["options"])

        model, about = load_checkpoint(path, "translator.json", build, device or default_device())
        history = History(**about["history"]) if "history" in about else None
        return cls(model.eval(), *vocabularies(about), about["max_length"], about["options"], history)


def answers(model_or_function, sources):
    """What a Translator (greedy, batched) or a function ``source -> str or None`` writes for each source."""
    if hasattr(model_or_function, "translate_many"):
        return model_or_function.translate_many(sources)
    if callable(model_or_function):
        return [model_or_function(source) for source in sources]
    raise ValueError(f"model_or_function should be a Translator or a function source -> str, "
                     f"got {type(model_or_function).__name__}")


def exact_match(model_or_function, pairs):
    """The share of ``pairs`` (``(source, target)``) whose target is written exactly, by a Translator or by a
    function such as ``dates.parse_date``."""
    if not pairs:
        raise ValueError("pairs is empty: give a list of (source, target) pairs, e.g. dates.date_pairs(500, 'test')")
    written = answers(model_or_function, [source for source, _ in pairs])
    return sum(answer == target for answer, (_, target) in zip(written, pairs)) / len(pairs)


def exact_match_by(model_or_function, examples, key):
    """``{group: (exact match, count)}``, the examples grouped by ``key(example)``, e.g.
    ``exact_match_by(translator, dates.date_examples(2000, "test"), key=lambda e: e.family)``."""
    written = answers(model_or_function, [example[0] for example in examples])
    groups = {}
    for answer, example in zip(written, examples):
        groups.setdefault(key(example), []).append(answer == example[1])
    return {group: (sum(right) / len(right), len(right)) for group, right in sorted(groups.items())}


# ----------------------------------------------------------------------------- training


class DateTranslation:
    """The task `training.fit` runs: shuffled batches of pairs, teacher-forced cross-entropy, and as the
    validation score the exact match of free-running greedy translations. The best epoch is the most accurate."""

    keep_best = "accuracy"

    def __init__(self, source_vocab, target_vocab, max_length):
        self.source_vocab, self.target_vocab, self.max_length = source_vocab, target_vocab, max_length

    def steps(self, train, batch_size):
        return math.ceil(len(train) / batch_size)

    def batches(self, train, batch_size, generator):
        order = torch.randperm(len(train), generator=generator).tolist()
        for start in range(0, len(train), batch_size):
            pairs = [train[k] for k in order[start : start + batch_size]]
            yield make_batch(pairs, self.source_vocab, self.target_vocab)

    def loss(self, model, batch, device):
        logits = model(batch.source.to(device), batch.lengths, batch.previous.to(device))
        targets = batch.next.to(device)
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD_ID)
        return loss, int((targets != PAD_ID).sum())

    def evaluate(self, model, validation):
        translator = Translator(model, self.source_vocab, self.target_vocab, self.max_length)
        loss, _ = translator.teacher_forced(validation)
        return loss, exact_match(translator, validation)


TRAINING = dict(embedding_dim=32, encoder_hidden=64, decoder_hidden=128, train_size=20000, validation_size=1000,
                epochs=2, lr=3e-3, batch_size=64, clip=1.0)
_MODEL = ("embedding_dim", "encoder_hidden", "decoder_hidden")  # the rest of TRAINING is the recipe
DATA_SEED = 0  # every training run reads the same pairs: a seed changes the initial weights and the batch order


def train_translator(attention=True, seed=0, progress=True, device=None, **changes):
    """Train a Seq2Seq on ``train_size`` training pairs; the epoch kept is the best on ``validation_size``
    validation pairs. ``changes`` override TRAINING (``epochs=1``, ``decoder_hidden=64``, ...). Returns a Translator."""
    unknown = set(changes) - set(TRAINING)
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}: choose from {sorted(TRAINING)}")
    settings = {**TRAINING, **changes}
    train = date_pairs(settings["train_size"], "train", seed=DATA_SEED)
    validation = date_pairs(settings["validation_size"], "validation", seed=DATA_SEED)
    source_vocab, target_vocab = date_vocabularies()
    max_length = max(len(target) for _, target in train) + 2  # room for <end> and one symbol too many
    options = {key: settings[key] for key in _MODEL}
    torch.manual_seed(seed)  # the initial weights
    model = Seq2Seq(len(source_vocab), len(target_vocab), attention=attention, **options).to(device or default_device())
    task = DateTranslation(source_vocab, target_vocab, max_length)
    kind = "with attention" if attention else "without attention"
    history = fit(model, task, train, validation, epochs=settings["epochs"], lr=settings["lr"],
                  batch_size=settings["batch_size"], seed=seed, clip=settings["clip"], progress=progress,
                  description=f"{kind}, seed {seed}")
    return Translator(model.eval(), source_vocab, target_vocab, max_length, options, history)

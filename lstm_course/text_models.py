"""The sentence classifiers of notebook 05: a bidirectional LSTM and its variants, a bag of words.

Every model maps ``ids`` (batch, seq) padded with 0 and ``lengths`` (batch,) to ``logits`` (batch, 2).
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

POOLINGS = ("last", "max")


class LSTMClassifier(nn.Module):
    """Embedding -> LSTM -> one vector per sentence -> linear layer.

    With the defaults it is a common tutorial's classifier: a 2-layer bidirectional LSTM, dropout
    0.3 between the layers, the last layer's two final states concatenated. Variants:

    - ``pooling="max"``: the largest value of each feature over the sentence's real steps;
    - ``packed=False``: the padded batch goes straight into the LSTM (the mistake notebook 05 measures);
    - ``bow=True``: a bag-of-words path beside the LSTM, its logits added to the LSTM's;
    - ``lstm_class=HandLSTM``: the hand-written LSTM, given the same PackedSequence.
    """

    def __init__(self, vocab_size, embedding_dim=128, hidden_size=128, num_layers=2, bidirectional=True,
                 dropout=0.3, pooling="last", packed=True, embedding_dropout=0.0, head_dropout=0.0,
                 bow=False, num_classes=2, lstm_class=nn.LSTM):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling should be one of {POOLINGS}, got {pooling!r}")
        self.pooling, self.packed, self.bidirectional = pooling, packed, bidirectional
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.embedding_dropout = nn.Dropout(embedding_dropout) if embedding_dropout else nn.Identity()
        self.lstm = lstm_class(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True,
                               bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.head_dropout = nn.Dropout(head_dropout) if head_dropout else nn.Identity()
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)
        self.bow = BagOfWords(vocab_size, num_classes) if bow else None

    def _final_states(self, h_n):
        """The last layer's final state, both directions side by side: (batch, num_directions * hidden)."""
        # h_n: (num_layers * num_directions, batch, hidden); the last layer's rows come last
        return torch.cat([h_n[-2], h_n[-1]], dim=1) if self.bidirectional else h_n[-1]

    def sentence_vectors(self, ids, lengths):
        """One vector per sentence: (batch, num_directions * hidden_size)."""
        embedded = self.embedding_dropout(self.embedding(ids))  # (batch, seq, embedding_dim)
        if not self.packed:  # every sentence runs to the batch's longest length, pads included
            output, (h_n, _) = self.lstm(embedded)
            return output.max(dim=1).values if self.pooling == "max" else self._final_states(h_n)
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        output, (h_n, _) = self.lstm(packed)  # h_n comes back in the batch's order
        if self.pooling == "last":
            return self._final_states(h_n)
        output, _ = pad_packed_sequence(output, batch_first=True, padding_value=float("-inf"))
        return output.max(dim=1).values  # -inf at the pads: never the max

    def forward(self, ids, lengths):
        logits = self.fc(self.head_dropout(self.sentence_vectors(ids, lengths)))  # (batch, num_classes)
        if self.bow is not None:
            logits = logits + self.bow(ids, lengths)
        return logits


class BagOfWords(nn.Module):
    """Logistic regression on word counts: each token adds its own weights to the logits.

    ``nn.EmbeddingBag(mode="sum")`` sums one row per token, so this is ``counts @ weight + bias``
    without building the (batch, vocab_size) count matrix. Word order cannot matter.
    """

    def __init__(self, vocab_size, num_classes=2):
        super().__init__()
        self.weight = nn.EmbeddingBag(vocab_size, num_classes, mode="sum", padding_idx=0)
        nn.init.zeros_(self.weight.weight)
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, ids, lengths=None):
        return self.weight(ids) + self.bias  # (batch, num_classes); pads (id 0) add nothing


# name -> (model class, its arguments). "lstm" is the notebook's; "two-layer" is a common tutorial's
# classifier: two layers, final states.
_LSTM = dict(embedding_dim=128, hidden_size=64, num_layers=1, pooling="max", embedding_dropout=0.3, head_dropout=0.3)
MODELS = {
    "bow": (BagOfWords, {}),
    "lstm": (LSTMClassifier, _LSTM),
    "lstm+bow": (LSTMClassifier, {**_LSTM, "bow": True}),
    "two-layer": (LSTMClassifier, dict(embedding_dim=128, hidden_size=128, num_layers=2, dropout=0.3)),
}


def build_model(name, vocab_size, **overrides):
    if name not in MODELS:
        raise ValueError(f"model should be one of {sorted(MODELS)}, got {name!r}")
    cls, arguments = MODELS[name]
    return cls(vocab_size, **{**arguments, **overrides})

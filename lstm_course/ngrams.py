"""Notebook 07's baselines: interpolated Kneser-Ney character n-grams, counted on the training split.

    ngram_bits_per_char(5, "test")   # bits per character of the 5-gram model on the test split
"""

import functools

import numpy as np

from lstm_course.language_model import CharVocabulary, encode_sentences, load_sentences, stream


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



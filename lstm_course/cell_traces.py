"""A look inside notebook 07's LSTM: the cell state after every character, what the characters are, and
which units follow what (correlations), drawn over the text."""

import math

import numpy as np
import torch

from lstm_course.language_model import (EVALUATION_ROWS, EVALUATION_STEPS, START, encode_sentences, step_chunks, stream,
                                        stream_pieces)


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
    for part in step_chunks(ids.shape[1], steps):
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
    x, y = stream_pieces(ids, lm.vocab.start_id, EVALUATION_ROWS)
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

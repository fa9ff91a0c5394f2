"""Checks for notebook 05, the text classifier: a tokenizer, the last real state, a max over real steps."""

import re

import numpy as np
import torch

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close
from lstm_course.text import tokenize

# ---------------------------------------------------------------------------------------------
# Exercise 1: a tokenizer

TOKENIZE_CASES = (
    "Good.",
    "It isn't bad, it's GREAT!",
    "Don't miss it: a 10-minute gem.",
    "I can't say I'd go again...",
    "Sharp, FUNNY and never dull",
)
_WORD = re.compile(r"^[^\W_]+$")


def _tokens_mistake(text, got, expected):
    lowered = [token for token in got if token != token.lower()]
    if lowered:
        return f"{lowered[0]!r} has capitals: lowercase the text first, so 'Good' and 'good' are one token."
    for token in got:
        if token in ("isn't", "don't", "can't", "it's", "i'd") or re.fullmatch(r"[^\W_]+n't", token):
            if token.endswith("n't"):
                return f"{token!r} should be two tokens, {token[:-3]!r} and \"n't\": n't is a token of its own."
            return f"{token!r} should be two tokens, {token[: token.index(chr(39))]!r} and {token[token.index(chr(39)):]!r}."
    if "isn" in got or "don" in got or "'t" in got:
        return "Split before the n: \"isn't\" is 'is' + \"n't\", not 'isn' + \"'t\"."
    if "'" in got and any(t.startswith("'") and len(t) > 1 for t in expected):
        return "'s, 'd, 're, 've, 'll and 'm are tokens of their own, apostrophe included: \"it's\" is 'it' + \"'s\"."
    glued = [t for t in got if len(t) > 1 and not _WORD.match(t) and t not in expected]
    if glued:
        return f"{glued[0]!r} mixes a word and punctuation, or several marks: each punctuation mark is a token by itself."
    if any(not token.strip() for token in got):
        return "An empty or blank token: spaces separate tokens and are never tokens."
    index = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    return f"First difference at token {index}: expected {expected[index:index + 3]}, got {got[index:index + 3]}."


@check("Tokenize with n't split")
def check_tokenize(tokenize_fn):
    """``tokenize_fn(text) -> list of str`` must give the course's tokens."""
    for text in TOKENIZE_CASES:
        got = call(tokenize_fn, text)
        if isinstance(got, str) or not all(isinstance(token, str) for token in got):
            raise Mistake(f"For {text!r} expected a list of strings, got {type(got).__name__}: {got!r:.80}")
        got, expected = list(got), tokenize(text)
        if got != expected:
            raise Mistake(f"For {text!r} expected {expected}, got {got}. {_tokens_mistake(text, got, expected)}")
    return f"{TOKENIZE_CASES[1]!r} -> {tokenize(TOKENIZE_CASES[1])}"


# ---------------------------------------------------------------------------------------------
# Exercise 2 and 3: one vector per sentence from a padded output

LENGTHS = (6, 3, 1, 4)  # the first sentence is the longest: output has 6 steps
FEATURES = 3
ATOL = 1e-6


def padded_output(lengths=LENGTHS, features=FEATURES, seed=0):
    """A batch-first ``output`` (batch, max(lengths), features) with zeros at the pads, as
    ``pad_packed_sequence`` gives it, and the ``lengths`` (batch,) as a LongTensor."""
    generator = torch.Generator().manual_seed(seed)
    output = torch.randn(len(lengths), max(lengths), features, generator=generator)
    for row, length in enumerate(lengths):
        output[row, length:] = 0.0
    return output, torch.tensor(lengths)


def _short_rows(lengths):
    return ", ".join(str(k) for k, n in enumerate(lengths) if n < max(lengths))


def _where(index):
    return f"for sentence {index[0]} (length {LENGTHS[index[0]]}), feature {index[1]}"


def _vectors(function, output, lengths, name):
    try:
        got = as_array(f"`{name}`'s result", call(function, output.clone(), lengths.clone()))
    except Mistake as mistake:
        if "out of bounds" in str(mistake):
            raise Mistake(f"{mistake} Off by one? Steps count from 0, so row k's last real step is lengths[k] - 1.") from None
        raise
    batch, _, features = output.shape
    if got.shape == (batch, batch, features):
        raise Mistake(
            f"the result has shape {got.shape}: every sentence was taken at every sentence's length. "
            "Pair row k with lengths[k]: output[torch.arange(batch), lengths - 1]."
        )
    if got.shape == output.shape:
        raise Mistake(f"the result has shape {got.shape}, the shape of output: reduce the time dimension (dim 1) to one vector per sentence, (batch, features) = {(batch, features)}.")
    return got


@check("The last real state of each sentence")
def check_last_real_states(last_real_states):
    """``last_real_states(output, lengths) -> (batch, features)``: each row at its own last real step."""
    output, lengths = padded_output()
    got = _vectors(last_real_states, output, lengths, "last_real_states")
    expected = output[torch.arange(len(lengths)), lengths - 1].numpy()
    if got.shape == expected.shape and not np.allclose(got, expected, atol=ATOL):
        if np.allclose(got, output[:, -1].numpy(), atol=ATOL):
            raise Mistake(
                f"that is output[:, -1], the last *padded* step: for sentences {_short_rows(LENGTHS)} "
                "it is a pad (here zeros), not their last word. Take step lengths[k] - 1 of row k."
            )
        if np.allclose(got, output[:, 0].numpy(), atol=ATOL):
            raise Mistake("that is output[:, 0], the first step of every sentence. Take step lengths[k] - 1 of row k.")
        shifted = output[torch.arange(len(lengths)), (lengths - 2).clamp(min=0)].numpy()
        if np.allclose(got, shifted, atol=ATOL):
            raise Mistake("that is one step too early: row k's last real step is lengths[k] - 1, counting from 0.")
    expect_close("the last real states", got, expected, atol=ATOL, where=_where,
                 hint="Row k's last real step is lengths[k] - 1.")
    return "Each sentence's state at its own last word, not at the batch's last step."


@check("Max-pooling over the real steps only")
def check_masked_max(masked_max):
    """``masked_max(output, lengths) -> (batch, features)``: the max over each row's real steps."""
    output, lengths = padded_output()
    output = output - 5.0  # every real value negative, so a pad's 0 would win the max
    for row, length in enumerate(LENGTHS):
        output[row, length:] = 0.0
    got = _vectors(masked_max, output, lengths, "masked_max")
    expected = torch.stack([output[k, :n].max(dim=0).values for k, n in enumerate(LENGTHS)]).numpy()
    if got.shape == expected.shape and not np.allclose(got, expected, atol=ATOL):
        if np.allclose(got, output.max(dim=1).values.numpy(), atol=ATOL):
            raise Mistake(
                f"that is output.max(dim=1): the pads (zeros here) count too, and they win wherever a "
                f"sentence's real values are all below 0, in sentences {_short_rows(LENGTHS)}. "
                "Set the padded steps to -inf before taking the max."
            )
        if np.allclose(got, output.mean(dim=1).numpy(), atol=ATOL):
            raise Mistake("that is a mean over time, not a max.")
    expect_close("the max over real steps", got, expected, atol=ATOL, where=_where,
                 hint="Mask the steps t >= lengths[k] of row k with -inf, then take the max over dim 1.")
    return "Pads never win the max."

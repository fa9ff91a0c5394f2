"""Checks for notebook 08, tagging every token: the masked loss and accuracy, B/M/E/S tags and back, Viterbi.

Random cases of sizes the notebook does not use, against `lstm_course.tagging` (the package's
`bmes`, `words_from_bmes`, `viterbi`) and PyTorch's own cross-entropy.
"""

import numpy as np
import torch
from torch import nn

from lstm_course import tagging
from lstm_course.checks.judge import (Mistake, call, check, expect_gradient, in_case, judge, numbers, own_random,
                                      tensor, unpack)

IGNORE = tagging.IGNORE

# ----------------------------------------------------------------------------- Exercise 1: the masked loss and accuracy
# (lengths of the sentences, tags, seed): padding in two rows, a batch of 1 without padding, a sentence of 1 token
MASKED_CASES = (((5, 2, 4), 6, 1), ((3,), 4, 2), ((1, 6), 5, 3))
MASKED_SIGNATURE = "masked_loss_and_accuracy(logits, labels)"
IGNORE_INDEX = ("The padding's label is -100: pass ignore_index=-100 to cross_entropy, which then leaves those "
                "positions out.")  # for an index error, not a loop's range
MASKED_SHAPES = ("cross_entropy takes the classes in dim 1: flatten to (batch * seq, tags) and (batch * seq,), or "
                 "pass logits.transpose(1, 2), (batch, tags, seq).")


def _masked_case(lengths, tags, seed):
    """Logits (batch, seq, tags) that require grad, and labels (batch, seq) with IGNORE at the padding."""
    with own_random(seed):
        logits = (2 * torch.randn(len(lengths), max(lengths), tags, dtype=torch.float64)).requires_grad_()
        labels = torch.randint(tags, (len(lengths), max(lengths)))
    padding = torch.arange(max(lengths))[None] >= torch.tensor(lengths)[:, None]
    labels = labels.masked_fill(padding, IGNORE)
    # some tokens right, some wrong: the argmax is the label at every other real token
    right = (torch.arange(max(lengths))[None] % 2 == 0) & ~padding
    with torch.no_grad():
        logits[right, labels[right]] += 10
    return logits, labels


def _flat_loss(logits, labels, **options):
    return nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), **options).item()


def _loss_mistakes(logits, labels):
    """(message, the loss that answer returns)."""
    real = labels != IGNORE
    per_sentence = [_flat_loss(logits[k:k + 1, :int(row.sum())], labels[k:k + 1, :int(row.sum())])
                    for k, row in enumerate(real)]
    return (
        ("The padding counts in your loss: its labels are -100, which cross_entropy(ignore_index=-100) leaves out; "
         "do not turn them into a real tag.", _flat_loss(logits, labels.clamp(min=0))),
        ("That is the mean of the sentences' losses, which weighs a short sentence as much as a long one: take the "
         "mean over every real token.", float(np.mean(per_sentence))),
        ("That is the sum over the tokens: keep cross_entropy's mean.", _flat_loss(logits, labels, reduction="sum",
                                                                                  ignore_index=IGNORE)),
    )


def _accuracy_mistakes(logits, labels):
    """(message, the accuracy that answer returns)."""
    real = labels != IGNORE
    hits = logits.argmax(dim=-1) == labels
    lengths = real.sum(dim=1)
    return (
        ("Your accuracy counts the padded positions (never right, since their label is -100): divide by the real "
         "tokens only, (labels != -100).sum().", float(hits.float().mean())),
        ("Your accuracy counts the padded positions as right: compare and count at the real tokens only.",
         float((hits | ~real).float().mean())),
        ("That is the mean of the sentences' accuracies, which weighs a short sentence as much as a long one: count "
         "the right tokens over all real tokens.", float(np.mean([(hits[k, :n].float().mean()).item()
                                                                  for k, n in enumerate(lengths.tolist())]))),
    )


@check("The masked per-token loss and accuracy", refuse=(tagging.TokenTagging,),
       instead="Compute the loss and the accuracy yourself, with cross_entropy and a mask.")
def check_masked_loss_and_accuracy(masked_loss_and_accuracy):
    """``masked_loss_and_accuracy(logits, labels) -> (loss, accuracy)``: the mean cross-entropy of the real tokens
    (a tensor that carries the gradient) and the share of real tokens whose argmax is their label."""
    for number, (lengths, tags, seed) in enumerate(MASKED_CASES, start=1):
        logits, labels = _masked_case(lengths, tags, seed)
        with in_case(f"Case {number} (sentences of {list(lengths)} tokens, padded to {max(lengths)}; {tags} tags)"):
            result = call(masked_loss_and_accuracy, logits, labels, signature=MASKED_SIGNATURE,
                          shape_hint=MASKED_SHAPES, error_hints={"-100 is out of bounds": IGNORE_INDEX})
            loss, accuracy = unpack(result, ("loss", "accuracy"), "return loss, accuracy")
            loss = tensor("The loss", loss)
            if loss.dim() != 0:
                raise Mistake(f"The loss should be one number, a 0-d tensor, got shape {tuple(loss.shape)}: keep "
                              "cross_entropy's mean (not reduction='none').")
            detached = logits.detach()
            judge("The loss", loss, _flat_loss(detached, labels, ignore_index=IGNORE),
                  _loss_mistakes(detached, labels), "The mean cross-entropy over the real tokens.")
            expect_gradient("The loss", loss, [logits], hint="Training calls loss.backward() on it.")
            accuracy = numbers("The accuracy", accuracy)
            real = labels != IGNORE
            expected = ((detached.argmax(dim=-1) == labels) & real).sum().item() / real.sum().item()
            judge("The accuracy", accuracy, expected, _accuracy_mistakes(detached, labels),
                  "The share of real tokens (labels != -100) whose argmax over the tags is their label.")
    return "The loss and the accuracy count the real tokens only, every one alike, whatever the padding."


# ----------------------------------------------------------------------------- Exercises 2 and 3: B/M/E/S tags and back


def _kind(value):
    """"a list of int", "a tuple of list", "a str": what came instead of a list of str."""
    if isinstance(value, (list, tuple)):
        other = next((item for item in value if not isinstance(item, str)), None)
        if other is not None:
            return f"a {type(value).__name__} of {type(other).__name__}"
    return f"a {type(value).__name__}"


SEGMENTATIONS = (["同样", "的", "结果"], ["我"], ["维基百科", "是", "一个", "网络", "百科全书"], ["Wikipedia", "的", "A", "条目"],
                 ["三", "个", "人"])


def _tags(words, single="S", last="E"):
    """The B/M/E/S tags of ``words``, with a mistake switched on by the keywords."""
    tags = []
    for word in words:
        tags += [single] if len(word) == 1 else ["B"] + ["M"] * (len(word) - 2) + [last]
    return tags


BMES_MISTAKES = (
    ("A one-character word is S (single), not B: B begins a word of two characters or more.", dict(single="B")),
    ("The last character of a longer word is E (end), not M.", dict(last="M")),
)


@check("B/M/E/S tags of a segmented sentence", refuse=(tagging.bmes, tagging.task_data, _tags),
       instead="Write the tags yourself, a word at a time.")
def check_bmes(bmes):
    """``bmes(words) -> list of str``: one of B, M, E, S per character of the words."""
    for words in SEGMENTATIONS:
        with in_case(f"For {words}"):
            got = call(bmes, list(words), signature="bmes(words)")
            if isinstance(got, str):
                raise Mistake(f"Expected a list of tags, one str per character, got the str {got!r}: return "
                              "list(...) of it, or build a list.")
            if not isinstance(got, (list, tuple)) or not all(isinstance(tag, str) for tag in got):
                raise Mistake(f"Expected a list of str, one tag per character, got {_kind(got)}: {got!r:.80}")
            got, expected = list(got), tagging.bmes(words)
            if len(got) != len(expected):
                per_word = " You gave one tag per word: give one per character." if len(got) == len(words) else ""
                raise Mistake(f"Expected {len(expected)} tags, one per character, got {len(got)}.{per_word}")
            if got != expected:
                known = next((message for message, keywords in BMES_MISTAKES if got == _tags(words, **keywords)), "")
                raise Mistake(f"Expected {expected}, got {got}. {known or BMES_HINT}")
    return "One tag per character: S for a word of one character, B, M ..., E for a longer one."


BMES_HINT = "A word of one character is S; a longer word is B, then M for each middle character, then E."


@check("Words from B/M/E/S tags", refuse=(tagging.words_from_bmes, tagging.Segmenter),
       instead="Cut the text yourself, a character at a time.")
def check_words_from_bmes(words_from_bmes):
    """``words_from_bmes(text, tags) -> list of str`` for a valid tag sequence: the words, joined giving the text."""
    for words in SEGMENTATIONS:
        text, tags = "".join(words), tagging.bmes(words)
        with in_case(f"For {text!r} with the tags {''.join(tags)}"):
            got = call(words_from_bmes, text, list(tags), signature="words_from_bmes(text, tags)")
            if not isinstance(got, (list, tuple)) or not all(isinstance(word, str) for word in got):
                raise Mistake(f"Expected a list of words (str), got {_kind(got)}: {got!r:.80}")
            if list(got) != list(words):
                lost = "" if "".join(got) == text else " Your words, joined, are not the text: no character may be lost."
                raise Mistake(f"Expected {list(words)}, got {list(got)}.{lost} A word begins at a B or an S, and ends "
                              "at an E or an S.")
    return "A word begins at B or S and ends at E or S; joined, the words give the text back."


# ----------------------------------------------------------------------------- Exercise 4 (optional): Viterbi
VITERBI_CASES = ((6, 41), (1, 42), (9, 43), (4, 44))  # (characters, seed)


def _log_probs(steps, seed):
    """Random log-probabilities (steps, 4) whose argmax is an invalid sequence more often than not."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(scale=2.0, size=(steps, 4))
    return scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))


def _score(log_probs, path):
    return float(sum(log_probs[step, tag] for step, tag in enumerate(path)))


@check("Viterbi over the allowed tag sequences", refuse=(tagging.viterbi, tagging.Segmenter),
       instead="Write the dynamic programme yourself: the best score of each tag at each step, and the way back.")
def check_viterbi(viterbi):
    """``viterbi(log_probs) -> list of int``: the likeliest valid B/M/E/S sequence for log_probs (steps, 4)."""
    for steps, seed in VITERBI_CASES:
        log_probs = _log_probs(steps, seed)
        with in_case(f"For {steps} characters"):
            got = call(viterbi, log_probs.copy(), signature="viterbi(log_probs)")
            path = [int(tag) for tag in numbers("The path", got).reshape(-1)] if len(np.shape(got)) else None
            if path is None or len(path) != steps or any(tag not in range(4) for tag in path):
                raise Mistake(f"Expected {steps} tag indices (0 B, 1 M, 2 E, 3 S), one per character, got {got!r:.80}")
            best = tagging.viterbi(log_probs)
            tags = [tagging.BMES[tag] for tag in path]
            if not tagging.is_valid_bmes(tags):
                argmax = path == log_probs.argmax(axis=1).tolist()
                why = " That is the argmax at each step, chosen on its own." if argmax else ""
                raise Mistake(f"Your path {''.join(tags)} is not a valid sequence (it must begin with B or S, end with "
                              f"E or S, and each step must be allowed: B/M -> M/E, E/S -> B/S).{why}")
            if _score(log_probs, path) < _score(log_probs, best) - 1e-9:
                raise Mistake(f"Your path {''.join(tags)} is valid but not the likeliest: "
                              f"{''.join(tagging.BMES[tag] for tag in best)} scores {_score(log_probs, best):.4f} "
                              f"against your {_score(log_probs, path):.4f}. Keep, for every tag at every step, the best "
                              "score of any allowed path that ends there, not only the best path so far.")
    return "The likeliest valid sequence every time, also where the argmax alone is invalid."

"""Notebook 08, tagging every token: answers to the masked loss, B/M/E/S tags and back, and Viterbi."""

import itertools

import numpy as np
import torch
from torch import nn

from lstm_course import tagging
from lstm_course.checks import check_bmes, check_masked_loss_and_accuracy, check_viterbi, check_words_from_bmes
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

masked_loss_and_accuracy, bmes, words_from_bmes, viterbi = notebook_definitions(
    "08_tagging", "masked_loss_and_accuracy", "bmes", "words_from_bmes", "viterbi"
)

# ----------------------------------------------------------------------------- Exercise 1: the masked loss and accuracy


def flat_and_boolean(logits, labels):
    """Written another way: the real tokens picked out first, a 0-d tensor for the accuracy."""
    real = labels != -100
    picked, gold = logits[real], labels[real]  # (tokens, tags), (tokens,)
    return nn.functional.cross_entropy(picked, gold), (picked.argmax(dim=1) == gold).float().mean()


def with_pads_as_tag_0(logits, labels):
    loss = nn.functional.cross_entropy(logits.transpose(1, 2), labels.clamp(min=0))
    return loss, masked_loss_and_accuracy(logits, labels)[1]


def accuracy_over_every_position(logits, labels):
    return masked_loss_and_accuracy(logits, labels)[0], (logits.argmax(dim=-1) == labels).float().mean().item()


def mean_of_sentence_losses(logits, labels):
    lengths = (labels != -100).sum(dim=1)
    losses = [nn.functional.cross_entropy(logits[k, :n], labels[k, :n]) for k, n in enumerate(lengths.tolist())]
    return torch.stack(losses).mean(), masked_loss_and_accuracy(logits, labels)[1]


MASKED = Answers(
    check_masked_loss_and_accuracy,
    solution=masked_loss_and_accuracy,
    others=[flat_and_boolean],
    wrong=[
        (with_pads_as_tag_0, "The padding counts in your loss"),
        (accuracy_over_every_position, "Your accuracy counts the padded positions (never right"),
        (mean_of_sentence_losses, "That is the mean of the sentences' losses"),
        (lambda logits, labels: (nn.functional.cross_entropy(logits, labels, ignore_index=-100), 0.0),
         "cross_entropy takes the classes in dim 1"),
        (lambda logits, labels: (masked_loss_and_accuracy(logits, labels)[0].item(),
                                 masked_loss_and_accuracy(logits, labels)[1]), "should be a torch tensor"),
        (lambda logits, labels: (masked_loss_and_accuracy(logits, labels)[0].detach(),
                                 masked_loss_and_accuracy(logits, labels)[1]), "carries no gradient"),
        (lambda logits, labels: (nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=-1),
                                 0.0), "pass ignore_index=-100 to cross_entropy"),
    ],
    course=[lambda logits, labels: (tagging.TokenTagging().loss(lambda ids, lengths: logits, (None, None, labels),
                                                                 "cpu")[0], masked_loss_and_accuracy(logits, labels)[1])],
)

# ----------------------------------------------------------------------------- Exercise 2: bmes


def bmes_by_position(words):
    """Written another way: each character's place in its word."""
    return ["S" if len(word) == 1 else "B" if k == 0 else "E" if k == len(word) - 1 else "M"
            for word in words for k in range(len(word))]


BMES = Answers(
    check_bmes,
    solution=bmes,
    others=[bmes_by_position, lambda words: tuple(bmes(words))],
    wrong=[
        (lambda words: ["B" if tag == "S" else tag for tag in bmes(words)], "A one-character word is S"),
        (lambda words: ["M" if tag == "E" else tag for tag in bmes(words)], "The last character of a longer word is E"),
        (lambda words: "".join(bmes(words)), "got the str"),
        (lambda words: ["S" if len(word) == 1 else "B" for word in words], "one tag per word"),
    ],
    course=[tagging.bmes, lambda words: tagging.task_data.__globals__["bmes"](words)],
)

# ----------------------------------------------------------------------------- Exercise 3: words_from_bmes


def cut_at_ends(text, tags):
    """Written another way: a word ends at E or S."""
    words, word = [], ""
    for character, tag in zip(text, tags):
        word += character
        if tag in "ES":
            words.append(word)
            word = ""
    return words


def dropping_the_last_word(text, tags):
    words = cut_at_ends(text, tags)
    return words[:-1] if len(words) > 1 else words


WORDS_FROM_BMES = Answers(
    check_words_from_bmes,
    solution=words_from_bmes,
    others=[cut_at_ends],
    wrong=[
        (dropping_the_last_word, "no character may be lost"),
        (lambda text, tags: list(text), "got ['同', '样', '的', '结', '果']"),
        (lambda text, tags: "/".join(words_from_bmes(text, tags)), "Expected a list of words"),
    ],
    course=[tagging.words_from_bmes],
)

# ----------------------------------------------------------------------------- Exercise 4: viterbi


def brute_force(log_probs):
    """Written another way: every sequence tried (only for short ones)."""
    valid = (path for path in itertools.product(range(4), repeat=len(log_probs))
             if tagging.is_valid_bmes([tagging.BMES[tag] for tag in path]))
    return list(max(valid, key=lambda path: sum(log_probs[step, tag] for step, tag in enumerate(path))))


def greedy_valid(log_probs):
    """Greedy: the best allowed tag at each step, given the one before (not the likeliest sequence)."""
    path = []
    for step, scores in enumerate(log_probs):
        allowed = [tag for tag in range(4) if (tagging.STARTS[tag] if step == 0 else tagging.ALLOWED[path[-1], tag])
                   and (step < len(log_probs) - 1 or tagging.ENDS[tag])]
        path.append(max(allowed, key=lambda tag: scores[tag]))
    return path


VITERBI = Answers(
    check_viterbi,
    solution=viterbi,
    others=[brute_force, lambda log_probs: np.array(viterbi(log_probs))],
    wrong=[
        (lambda log_probs: list(np.argmax(log_probs, axis=1)), "That is the argmax at each step"),
        (greedy_valid, "valid but not the likeliest"),
        (lambda log_probs: viterbi(log_probs)[:-1], "one per character"),
    ],
    course=[tagging.viterbi],
)

ANSWERS = [MASKED, BMES, WORDS_FROM_BMES, VITERBI]

"""Checks for notebook 05, the text classifier.

A tokenizer, the last real state, a max over the real steps, the classifier's forward.
"""

import itertools
import re

import torch
from torch import nn

from lstm_course import reviews, text_models
from lstm_course.checks.judge import Mistake, call, check, expect_gradient, in_case, judge, own_random, tensor

# ----------------------------------------------------------------------------- exercise 1: a tokenizer

TOKENIZE_CASES = ("Good.", "It isn't bad, it's GREAT!", "Don't miss it: a 10-minute gem.",  # every clitic of CLITICS
                  "I can't say I'd go again...", "We're sure you'll love it; I've seen it, I'm sold.",
                  "Sharp, FUNNY and never dull", "A 'memorable' film_noir, isn't it?")
CLITICS = ("s", "re", "ve", "ll", "d", "m")  # and n't


def rules(clitics=CLITICS, mark=r"\S", lower=True, pattern=None):
    """The statement's tokenizer, with a rule broken by the keywords, or another ``pattern``."""
    pattern = re.compile(pattern or rf"[^\W_]+(?=n't\b)|n't\b|'(?:{'|'.join(clitics)})\b|[^\W_]+|{mark}")
    return lambda text: pattern.findall(text.lower() if lower else text)


def _clitic_mistakes():
    """(message, tokenizer) for every set of clitics left unsplit."""
    for count in range(1, len(CLITICS) + 1):
        for gone in itertools.combinations(CLITICS, count):
            named = ", ".join(repr("'" + clitic) for clitic in gone)
            verb = "is a token of its own" if len(gone) == 1 else "are tokens of their own"
            yield f"{named} {verb}, apostrophe included.", rules(tuple(set(CLITICS) - set(gone)))


TOKENIZE_MISTAKES = [  # (message, what a tokenizer with that mistake gives)
    ("Lowercase the text first, so that 'Good' and 'good' are one token.", rules(lower=False)),
    ("Splitting on spaces leaves punctuation glued to the words: each mark is a token by itself.",
     rules(pattern=r"\S+")),
    ("n't is a token of its own: \"isn't\" is 'is' + \"n't\" (and \"it's\" is 'it' + \"'s\").",
     rules(pattern=r"[\w']+|[^\w\s]")),
    ("Split before the n: \"isn't\" is 'is' + \"n't\", not 'isn' + \"'\" + 't'.", rules(pattern=r"\w+|[^\w\s]")),
    *_clitic_mistakes(),
    ("Each punctuation mark is a token by itself: \"...\" is three tokens.", rules(mark=r"[^\w\s]+")),
    ("Only 's, 're, 've, 'll, 'd and 'm are tokens with their apostrophe: in \"'memorable'\" the quote marks are "
     "tokens by themselves.", rules(pattern=r"[^\W_]+(?=n't\b)|n't\b|'[^\W_]+|[^\W_]+|\S")),
    ("A word is letters and digits only: an underscore is a mark, a token by itself.",
     rules(pattern=r"\w+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)\b|\w+|\S")),
    ("A clitic is a whole ending, up to the end of the word (\\b): in \"'memorable'\" the m begins a word, so the "
     "quote mark is a token by itself.", rules(pattern=r"[^\W_]+(?=n't\b)|n't\b|'(?:s|re|ve|ll|d|m)|[^\W_]+|\S")),
]


def _tokenize_mistake(got, text, passed):
    """The first known mistake that gives ``got`` for ``text`` and the right tokens for the texts ``passed``, or ""."""
    for message, wrong in TOKENIZE_MISTAKES:
        if wrong(text) == got and all(wrong(earlier) == reviews.tokenize(earlier) for earlier in passed):
            return message
    return ""  # a mistake the cases passed so far rule out is not it


@check("Tokenize with n't split", refuse=(reviews.tokenize, rules()),
       instead="Write your own rules: a regular expression or a loop over the characters.")
def check_tokenize(tokenize_fn):
    """``tokenize_fn(text) -> list of str`` must give the statement's tokens."""
    for case, text in enumerate(TOKENIZE_CASES):
        with in_case(f"For {text!r}"):
            got, expected = call(tokenize_fn, text, signature="my_tokenize(text)"), reviews.tokenize(text)
            if not isinstance(got, (list, tuple)) or not all(isinstance(token, str) for token in got):
                raise Mistake(f"Expected a list of strings, got {type(got).__name__}: {got!r:.80}")
            if list(got) != expected:
                mistake = _tokenize_mistake(list(got), text, TOKENIZE_CASES[:case])
                raise Mistake(f"Expected {expected}, got {list(got)}. {mistake}")
    example = TOKENIZE_CASES[1]
    return f"Every rule and every clitic of the statement: {example!r} -> {reviews.tokenize(example)}"


# ----------------------------------------------------------------------------- exercises 2 and 3: a vector per sentence

# (lengths, steps, features, seed)
POOL_CASES = (((6, 3, 1, 4), 6, 3, 0), ((2, 5, 1, 5, 3), 5, 2, 1), ((6, 3, 1, 4), 8, 3, 0))


def real_max(output, lengths):
    """The right answer of exercise 3: the max over each row's real steps."""
    pads = torch.arange(output.shape[1])[None, :, None] >= lengths[:, None, None]
    return output.masked_fill(pads, float("-inf")).max(dim=1).values


LAST_MISTAKES = (  # (message, what the answer computes from output and lengths)
    ("That is output[:, -1], the last padded step: for sentences {short} it is a pad (zeros here), not their last "
     "word (so is any step at or past lengths[k]).", lambda output, lengths: output[:, -1]),
    ("That is output[:, 0], the first step of every sentence. Take step lengths[k] - 1 of row k.",
     lambda output, lengths: output[:, 0]),
    ("That is one step too early: row k's last real step is lengths[k] - 1, counting from 0.",
     lambda output, lengths: reviews.last_real_states(output, (lengths - 1).clamp(min=1))),
)
MAX_MISTAKES = (
    ("The pads (zeros here) count in the max, and win wherever a sentence's real values are all below 0 (sentences "
     "{short}). Keep every step t >= lengths[k] out of the max: fill them with -inf first.",
     lambda output, lengths: output.max(dim=1).values),
    ("That is a mean over time, not a max.", lambda output, lengths: output.mean(dim=1)),
)


def _pool_case(lengths, steps, features, seed, shift):
    """``(output, lengths)``: random real steps, then pads (zeros, as pad_packed_sequence pads) up to ``steps``."""
    generator = torch.Generator().manual_seed(seed)
    output = torch.randn(len(lengths), max(lengths), features, generator=generator) + shift
    output, lengths = nn.functional.pad(output, (0, 0, 0, steps - max(lengths))), torch.tensor(lengths)
    pads = torch.arange(steps)[None, :, None] >= lengths[:, None, None]
    return output.masked_fill(pads, 0.0), lengths


def _wrong_shapes(batch, steps, features):
    """{a wrong shape of the result: what it says}; where two coincide, the later one."""
    return {(batch, batch, features): "every sentence was taken at every sentence's length. Pair row k with lengths[k]",
            (steps, features): "that reduces dim 0, the sentences. Time is dim 1 of output (batch, seq, features)",
            (batch, steps): "that reduces dim 2, the features. Time is dim 1 of output (batch, seq, features)",
            (batch, steps, features): "output's shape: reduce the time dimension, dim 1",
            (features, batch): "that is transposed: one row per sentence",
            (batch, 1, features): "one dim too many: take the step itself (output[k, t], not output[k, t:t + 1])"}


def _for_sentence(lengths, column="feature"):
    """A ``where`` for a (batch, columns) result: "for sentence 2 (length 3), feature 0"."""
    return lambda index: f"for sentence {index[0]} (length {int(lengths[index[0]])}), {column} {index[1]}"


def _pooling(function, signature, answer, mistakes, hint, shift=0.0):
    """Every case of exercise 2 or 3: ``answer`` is right, ``mistakes`` the known wrong ones, ``(message, answer)``."""
    for case, (lengths, steps, features, seed) in enumerate(POOL_CASES, start=1):
        extra_pads = steps - max(lengths)
        late = ""
        if extra_pads > 0:
            late = (f"This is case 1 plus {extra_pads} steps of pads: count steps with output.shape[1], not "
                    "lengths.max().")
        output, lengths = _pool_case(lengths, steps, features, seed, shift)
        short = ", ".join(str(k) for k, length in enumerate(lengths.tolist()) if length < steps)  # they end on pads
        with in_case(f"Case {case} (lengths {lengths.tolist()}, output of shape {tuple(output.shape)})"):
            got = call(function, output, lengths, signature=signature, shape_hint=late,
                       error_hints={"IndexError": hint})
            if isinstance(got, tuple) and hasattr(got, "indices"):
                raise Mistake("The result is a (values, indices) pair, what `.max(dim=...)` returns: keep its "
                              "`.values`.")
            got, batch = tensor("The result", got), len(lengths)
            wrong = _wrong_shapes(batch, steps, features).get(tuple(got.shape))
            if wrong and got.shape != (batch, features):
                raise Mistake(f"The result has shape {tuple(got.shape)}, expected (batch, features) = "
                              f"{(batch, features)}: {wrong}.")
            known = [] if late else [(message.format(short=short), wrong_answer(output, lengths))
                                     for message, wrong_answer in mistakes]
            judge("The result", got, answer(output, lengths), known, late or hint, _for_sentence(lengths))


@check("The last real state of each sentence", refuse=(reviews.last_real_states,),
       instead="Pick each sentence's last real step yourself.")
def check_last_real_states(last_real_states):
    """``last_real_states(output, lengths) -> (batch, features)``: each row at its own last real step."""
    _pooling(last_real_states, "last_real_states(output, lengths)", reviews.last_real_states, LAST_MISTAKES,
             "Steps count from 0: row k's last real step is lengths[k] - 1.")
    return "Each sentence's state at its own last word, not at the batch's last step, even where a batch ends on pads."


@check("Max-pooling over the real steps only", refuse=(real_max,), instead="Mask the pads and take the max yourself.")
def check_masked_max(masked_max):
    """``masked_max(output, lengths) -> (batch, features)``: the max over each row's real steps."""
    _pooling(masked_max, "masked_max(output, lengths)", real_max, MAX_MISTAKES,
             "Row k's real steps are t = 0 ... lengths[k] - 1; no other step may win its max.",
             shift=-5.0)  # every real value below 0
    return "Pads never win the max, even where a batch ends on pads."


# ----------------------------------------------------------------------------- exercise 4: the classifier's forward

SIZES = dict(vocab_size=23, embedding_dim=5, hidden_size=4)  # not the notebook's sizes
BATCHES = ((3, 7, 1, 5, 2), (4,), (1, 6, 6, 2, 1, 3, 8, 4))  # the lengths: unsorted, length 1, a batch of 1
EXTRA_PADS = 3  # then each batch again, with 3 more pads
ERROR_HINTS = {  # {a part of the error's message: what to do}
    "enforce_sorted": "The batches are not sorted by length: pass enforce_sorted=False, and PyTorch sorts inside.",
    "'lengths' argument should be": "pack_padded_sequence wants the lengths on the CPU, as int64, even for a GPU: pass "
                                    "lengths.cpu().",
    "x4 and 8x2)": "self.fc takes 2 * hidden_size features per sentence, both directions side by side; it got one "
                   "direction's.",
    "and 8x2)": "self.fc takes 2 * hidden_size features per sentence: max-pool output (batch, seq, 2 * hidden_size) "
                "over time, dim 1.",
}


def _logits(model, ids, lengths):
    """The learner's logits (batch, 2), a tensor that carries the gradient, or a Mistake."""
    got = call(model.forward, ids, lengths, signature="forward(self, ids, lengths)", error_hints=ERROR_HINTS)
    expect_gradient("The result of forward", got, model.parameters())
    if got.shape != (len(lengths), 2):
        if got.ndim == 3:
            what = "One pair per step: pool over time first."
        else:
            over_batch = got.ndim >= 1 and got.shape[0] == ids.shape[1]
            what = ("One row per step: the max went over the sentences, not over time. Time is dim 1 only with "
                    "batch_first=True, in pack_padded_sequence and pad_packed_sequence alike.") if over_batch else ""
        raise Mistake(f"The logits should have shape (batch, 2) = {(len(lengths), 2)}, got {tuple(got.shape)}. {what}")
    return got.detach()


def _usual_mistakes(classifier, ids, lengths, expected, leak):
    """(message, logits) of the usual wrong forwards, computed with ``classifier``'s layers."""
    embedded = classifier.embedding(ids)
    unpacked = classifier.lstm(embedded)[0]
    packed_input = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
    packed, (h_n, _) = classifier.lstm(packed_input)
    padded = nn.utils.rnn.pad_packed_sequence(packed, batch_first=True)[0]
    known = (
        ("The LSTM ran over the pads: the batch was not packed (pack_padded_sequence).",
         classifier.fc(unpacked.max(dim=1).values)),
        ("That is output[:, -1] of a batch not packed: for a short sentence, the state after its pads.",
         classifier.fc(unpacked[:, -1])),
        ("The max sees the pads, zeros after pad_packed_sequence: keep them out of the max (exercise 3).",
         classifier.fc(padded.max(dim=1).values)),
        ("Those are the logits of the final states h_n: this model max-pools output over the real steps.",
         classifier.fc(torch.cat([*h_n], dim=1))),
        ("Those are probabilities (a softmax): return the logits; the cross-entropy applies the softmax itself.",
         expected.softmax(dim=1)),
        ("The logits come in the order of the sorted lengths: give them back in the batch's order.",
         expected[lengths.argsort(descending=True, stable=True)]),
    )
    return [(f"{leak} {message}".strip(), logits) for message, logits in known]


def _models(classifier_class):
    """The learner's model and the package's classifier (one bidirectional layer, max-pooling), same weights."""
    try:
        with own_random(0):
            model = classifier_class(**SIZES)
            package_model = text_models.LSTMClassifier(**SIZES, num_layers=1, pooling="max").eval()
        model.load_state_dict(package_model.state_dict())
    except NotImplementedError:
        raise
    except Exception as error:  # the learner may have changed the layers the notebook built, or passed an instance
        fix = "Keep the notebook's __init__ and its layers embedding, lstm, fc."
        if isinstance(classifier_class, nn.Module):
            fix = "Pass the class itself, without ()."
        raise Mistake(f"Building the model with {SIZES} and loading weights failed ({type(error).__name__}: "
                      f"{str(error)[:200]}). {fix}") from None
    return model, package_model


def _leak(batch, got, padded):
    """What the logits of the batch with EXTRA_PADS more pads say when they differ from those without, or ""."""
    for k in range(len(batch)):
        if not torch.allclose(got[k], padded[k], atol=1e-5, rtol=1e-4):
            return (f"The pads leak in: the same batch with {EXTRA_PADS} more pads at the end gave other logits "
                    f"(sentence {k}, length {batch[k]}: {got[k].numpy().round(4)}, then {padded[k].numpy().round(4)}).")
    return ""


@check("The classifier's forward", refuse=(text_models.LSTMClassifier,),
       instead="Write your own module from nn.Embedding, nn.LSTM and nn.Linear.")
def check_classifier_forward(classifier_class):
    """``classifier_class(vocab_size, embedding_dim, hidden_size).forward(ids, lengths)``: the package's logits."""
    model, package_model = _models(classifier_class)
    weights = [value.clone() for value in model.eval().state_dict().values()]
    for seed, batch in enumerate(BATCHES):
        generator = torch.Generator().manual_seed(seed)
        sentences = [torch.randint(1, SIZES["vocab_size"], (length,), generator=generator).tolist() for length in batch]
        ids, lengths = reviews.pad_batch(sentences)
        padded_ids, where = nn.functional.pad(ids, (0, EXTRA_PADS)), _for_sentence(batch, "class")
        with in_case(f"Batch {seed + 1} (lengths {list(batch)})"):
            expected = package_model(ids, lengths).detach()
            got, padded = _logits(model, ids, lengths), _logits(model, padded_ids, lengths)
            if any(not torch.equal(before, after) for before, after in zip(weights, model.state_dict().values())):
                raise Mistake("Your forward changed the model's weights in place: it should only read them.")
            leak = _leak(batch, got, padded)
            hint = f"{leak} Pack the batch, and keep the pads out of the max." if leak else ""
            for logits, batch_ids in ((got, ids), (padded, padded_ids)):
                mistakes = _usual_mistakes(package_model, batch_ids, lengths, expected, leak)
                judge("The logits", logits, expected, mistakes, hint, where)
    if torch.cuda.is_available():  # everything on the GPU, the lengths too, as `.to(device)` leaves them
        with in_case(f"Batch {len(BATCHES)} on the GPU (lengths {list(batch)})"):
            got = _logits(model.cuda(), ids.cuda(), lengths.cuda()).cpu()
            judge("The logits", got, got if torch.allclose(got, expected, atol=1e-3) else expected,
                  where=where)  # 1e-3: cuDNN may use TF32
    on_the_gpu = ", and on the GPU" * torch.cuda.is_available()
    return f"The package classifier's logits on {len(BATCHES)} batches, also with {EXTRA_PADS} more pads{on_the_gpu}."

"""Checks for notebook 05, the text classifier: a tokenizer, the last real state, a max over real
steps, and the classifier's forward."""

import re

import numpy as np
import torch
from torch import nn

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close, with_hint
from lstm_course.reviews import pad_batch, tokenize
from lstm_course.text_models import LSTMClassifier

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
# One vector per sentence from a padded output: the last real state, the max over real steps

CASES = ((6, 3, 1, 4), (2, 5, 1, 5, 3))  # lengths of each test batch: unsorted, with a sentence of length 1
LENGTHS = CASES[0]
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


def _cases(shift=0.0):
    """(output, lengths) of every test batch; ``shift`` moves the real values, the pads stay 0."""
    for seed, lengths in enumerate(CASES):
        output, lengths_tensor = padded_output(lengths, FEATURES - seed, seed)
        yield output + shift * (output != 0), lengths_tensor


def _short_rows(lengths):
    return ", ".join(str(k) for k, n in enumerate(lengths.tolist()) if n < max(lengths))


def _where(lengths):
    return lambda index: f"for sentence {index[0]} (length {int(lengths[index[0]])}), feature {index[1]}"


def _vectors(function, output, lengths, name):
    try:
        got = call(function, output, lengths)
    except Mistake as mistake:
        if "out of bounds" in str(mistake):
            raise Mistake(f"{mistake} Off by one? Steps count from 0, so row k's last real step is lengths[k] - 1.") from None
        raise
    if isinstance(got, tuple) and hasattr(got, "values") and hasattr(got, "indices"):
        raise Mistake("the result is a (values, indices) pair, what `.max(dim=...)` returns: keep its `.values`.")
    got = as_array(f"`{name}`'s result", got)
    batch, seq, features = output.shape
    if got.shape == (batch, batch, features):
        raise Mistake(
            f"the result has shape {got.shape}: every sentence was taken at every sentence's length. "
            "Pair row k with lengths[k], one step per row."
        )
    if got.shape == output.shape:
        raise Mistake(f"the result has shape {got.shape}, the shape of output: reduce the time dimension (dim 1) to one vector per sentence, (batch, features) = {(batch, features)}.")
    if got.shape in ((seq, features), (batch, seq)) and got.shape != (batch, features):
        dim = 0 if got.shape == (seq, features) else 2
        raise Mistake(f"the result has shape {got.shape}: that reduces dim {dim}, {('the sentences', '', 'the features')[dim]}. Time is dim 1 of output (batch, seq, features).")
    return got


@check("The last real state of each sentence")
def check_last_real_states(last_real_states):
    """``last_real_states(output, lengths) -> (batch, features)``: each row at its own last real step."""
    for output, lengths in _cases():
        got = _vectors(last_real_states, output, lengths, "last_real_states")
        rows = torch.arange(len(lengths))
        expected = output[rows, lengths - 1].numpy()
        if got.shape == expected.shape and not np.allclose(got, expected, atol=ATOL):
            if np.allclose(got, output[:, -1].numpy(), atol=ATOL):
                raise Mistake(
                    f"that is output[:, -1], the last *padded* step: for sentences {_short_rows(lengths)} "
                    "it is a pad (here zeros), not their last word. Take step lengths[k] - 1 of row k."
                )
            if np.allclose(got, output[:, 0].numpy(), atol=ATOL):
                raise Mistake("that is output[:, 0], the first step of every sentence. Take step lengths[k] - 1 of row k.")
            if np.allclose(got, output[rows, (lengths - 2).clamp(min=0)].numpy(), atol=ATOL):
                raise Mistake("that is one step too early: row k's last real step is lengths[k] - 1, counting from 0.")
        expect_close("the last real states", got, expected, atol=ATOL, where=_where(lengths),
                     hint="Row k's last real step is lengths[k] - 1.")
    return "Each sentence's state at its own last word, not at the batch's last step."


@check("Max-pooling over the real steps only")
def check_masked_max(masked_max):
    """``masked_max(output, lengths) -> (batch, features)``: the max over each row's real steps."""
    for output, lengths in _cases(shift=-5.0):  # every real value negative, so a pad's 0 would win the max
        got = _vectors(masked_max, output, lengths, "masked_max")
        expected = torch.stack([output[k, :n].max(dim=0).values for k, n in enumerate(lengths.tolist())]).numpy()
        if got.shape == expected.shape and not np.allclose(got, expected, atol=ATOL):
            if np.allclose(got, output.max(dim=1).values.numpy(), atol=ATOL):
                raise Mistake(
                    f"that is output.max(dim=1): the pads (zeros here) count too, and they win wherever a "
                    f"sentence's real values are all below 0, in sentences {_short_rows(lengths)}. "
                    "Keep the padded steps out of the max: fill them with -inf first."
                )
            if np.allclose(got, output.mean(dim=1).numpy(), atol=ATOL):
                raise Mistake("that is a mean over time, not a max.")
        expect_close("the max over real steps", got, expected, atol=ATOL, where=_where(lengths),
                     hint="Row k's real steps are t = 0 ... lengths[k] - 1; no other step may win its max.")
    return "Pads never win the max."


# ---------------------------------------------------------------------------------------------
# The classifier's forward: embedding, pack, LSTM, max-pool, linear

FORWARD_SIZES = dict(vocab_size=23, embedding_dim=5, hidden_size=4)  # not the notebook's sizes
FORWARD_BATCHES = ((3, 7, 1, 5, 2), (4,), (1, 6, 6, 2, 1, 3, 8, 4))  # unsorted, length 1, a batch of 1
EXTRA_PADS = 3  # the same sentences padded further must get the same logits
FORWARD_SIGNATURE = "forward(self, ids, lengths)"


def forward_reference(vocab_size, embedding_dim, hidden_size, seed=0):
    """The package's classifier with these sizes, one bidirectional layer, max-pooling, no dropout."""
    with torch.random.fork_rng(devices=[]):  # the learner's random state stays as it was
        torch.manual_seed(seed)
        return LSTMClassifier(vocab_size, embedding_dim, hidden_size, num_layers=1, pooling="max").eval()


def forward_batch(lengths, vocab_size, seed=0):
    """Random token ids (no pad among the real ones) padded with 0 to max(lengths), and the lengths."""
    generator = torch.Generator().manual_seed(seed)
    return pad_batch([torch.randint(1, vocab_size, (n,), generator=generator).tolist() for n in lengths])


def _forward_error(mistake, hidden_size):
    """A Mistake from the learner's forward, with what usually causes it."""
    message = with_hint(mistake, FORWARD_SIGNATURE)
    if "enforce_sorted" in message:
        return (f"{message} The check's batches, like the course's, are not sorted by length: "
                "pass enforce_sorted=False, and PyTorch sorts inside and gives the results back in the batch's order.")
    if "'lengths' argument should be" in message:
        return (f"{message} pack_padded_sequence wants the lengths on the CPU, as int64, even when the model "
                "runs on a GPU: pass lengths.cpu().")
    if "mat1 and mat2" in message:
        return (f"{message} self.fc takes {2 * hidden_size} features per sentence (2 * hidden_size): the forward "
                "direction's and the backward direction's side by side. Did you keep only one direction?")
    return message


def _build(classifier_class, reference):
    if isinstance(classifier_class, nn.Module):
        raise Mistake(f"expected the class, got an instance of {type(classifier_class).__name__}: pass the class itself, without ().")
    try:
        with torch.random.fork_rng(devices=[]):  # its initial weights are replaced: leave the learner's random state alone
            model = classifier_class(**FORWARD_SIZES)
        model.load_state_dict(reference.state_dict())
    except Exception as error:  # the learner may have changed the layers the notebook built
        raise Mistake(f"building the model with {FORWARD_SIZES} and loading weights failed ({type(error).__name__}: "
                      f"{str(error)[:200]}). Keep the notebook's __init__ and its layers embedding, lstm and fc.") from None
    return model.eval()


def _pads_leak(got, got_padded, lengths):
    """A sentence of the batch whose logits change when the batch gets more pads, or ""."""
    different = ~np.isclose(got, got_padded, atol=1e-5, rtol=1e-4).all(axis=1)
    if not different.any():
        return ""
    k = int(np.flatnonzero(different)[0])
    return (f"the pads leak in: the same batch with {EXTRA_PADS} more pads at the end gave other logits "
            f"(sentence {k}, length {int(lengths[k])}: {np.round(got[k], 4).tolist()}, then {np.round(got_padded[k], 4).tolist()}).")


def _usual_mistakes(reference, ids, lengths):
    """(logits, diagnosis) of the usual wrong forwards, computed with the reference's layers."""
    embedded = reference.embedding(ids)
    unpacked_output, _ = reference.lstm(embedded)
    packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
    packed_output, (h_n, _) = reference.lstm(packed)
    zero_padded, _ = nn.utils.rnn.pad_packed_sequence(packed_output, batch_first=True)
    expected = reference(ids, lengths)
    return [
        (reference.fc(unpacked_output.max(dim=1).values), "The LSTM ran over the pads: the batch was not packed. "
         "pack_padded_sequence stops each sentence at its own length, in both directions; pad_packed_sequence unpacks the output."),
        (reference.fc(unpacked_output[:, -1]), "That is output[:, -1] of a batch that was not packed: for a short sentence, "
         "the state after its pads. Pack the batch, and max-pool over the real steps."),
        (reference.fc(zero_padded.max(dim=1).values), "The max sees the pads: pad_packed_sequence fills them with zeros, "
         "and a zero wins wherever a feature stays below 0 over a whole sentence. Keep the pads out of the max (exercise 3)."),
        (reference.fc(torch.cat([h_n[-2], h_n[-1]], dim=1)), "Those are the logits of the final states h_n. This model "
         "max-pools: the largest value of each feature of output over the sentence's real steps."),
        (torch.softmax(expected, dim=1), "Those are probabilities (a softmax): return the logits, as self.fc gives them; "
         "the cross-entropy applies the softmax itself."),
        (expected[lengths.argsort(descending=True, stable=True)], "The logits come in the order of the sorted lengths: "
         "give them back in the batch's order, or let pack_padded_sequence sort (enforce_sorted=False)."),
    ]


def _diagnosis(reference, ids, lengths, got, leak):
    for values, message in _usual_mistakes(reference, ids, lengths):
        if np.allclose(got, values.numpy(), atol=1e-5, rtol=1e-4):
            return f"{leak} {message}".strip()
    return f"{leak} Pack the batch, and keep the pads out of the max.".strip() if leak else ""


def _gpu():
    """The device of the check's extra case with everything on a GPU, or None without one."""
    return torch.device("cuda") if torch.cuda.is_available() else None


def _logits(model, ids, lengths):
    try:
        return call(model.forward, ids, lengths)
    except Mistake as mistake:
        raise Mistake(_forward_error(mistake, model.fc.in_features // 2)) from None


def _compare(got, expected, lengths, atol=1e-5):
    got = as_array("the logits", got)
    if got.shape != expected.shape:
        per_step = " (one pair per step? pool over time before the linear layer)" if got.ndim == 3 else ""
        raise Mistake(f"the logits should have shape (batch, 2) = {expected.shape}, got {got.shape}{per_step}. "
                      f"The batch had lengths {lengths.tolist()}.")
    expect_close("the logits", got, expected, atol=atol, hint=f"The batch had lengths {lengths.tolist()}.",
                 where=lambda i: f"of sentence {i[0]} (length {int(lengths[i[0]])}), class {i[1]}")


@check("The classifier's forward")
def check_classifier_forward(classifier_class):
    """``classifier_class(vocab_size, embedding_dim, hidden_size)``: its ``forward(ids, lengths)`` gives
    the package classifier's logits (batch, 2) on batches the notebook does not show."""
    reference = forward_reference(**FORWARD_SIZES)
    model = _build(classifier_class, reference)
    weights = {name: value.clone() for name, value in model.state_dict().items()}
    for seed, batch_lengths in enumerate(FORWARD_BATCHES):
        ids, lengths = forward_batch(batch_lengths, FORWARD_SIZES["vocab_size"], seed=seed)
        padded_ids = nn.functional.pad(ids, (0, EXTRA_PADS))
        with torch.no_grad():
            expected = reference(ids, lengths).numpy()
            got, got_padded = _logits(model, ids, lengths), _logits(model, padded_ids, lengths)
        if any(not torch.equal(weights[name], value) for name, value in model.state_dict().items()):
            raise Mistake("forward changed the model's weights in place: it should only read them.")
        values = as_array("the logits", got), as_array("the logits", got_padded)
        leak = _pads_leak(*values, lengths) if values[0].shape == values[1].shape == expected.shape else ""
        for batch_ids, logits, array in ((ids, got, values[0]), (padded_ids, got_padded, values[1])):
            if array.shape == expected.shape and not np.allclose(array, expected, atol=1e-5, rtol=1e-4):
                with torch.no_grad():
                    diagnosis = _diagnosis(reference, batch_ids, lengths, array, leak)
                if diagnosis:
                    raise Mistake(diagnosis)
            _compare(logits, expected, lengths)
    gpu = _gpu()
    if gpu is not None:  # everything on the GPU, the lengths too, as `.to(device)` leaves them
        ids, lengths = forward_batch(FORWARD_BATCHES[0], FORWARD_SIZES["vocab_size"])
        with torch.no_grad():
            expected = reference.to(gpu)(ids.to(gpu), lengths.to(gpu)).cpu().numpy()
            got = _logits(model.to(gpu), ids.to(gpu), lengths.to(gpu))
        _compare(got, expected, lengths, atol=1e-3)  # cuDNN may use TF32: looser than float32
    return (f"The package classifier's logits on {len(FORWARD_BATCHES)} batches (lengths unsorted, 1 to 8, "
            f"a batch of 1), also with {EXTRA_PADS} more pads.")

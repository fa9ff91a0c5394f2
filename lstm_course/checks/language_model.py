"""Checks for notebook 07, the character-level language model: bits from the loss, a stream step, a sampling step."""

import math

import numpy as np
import torch
from torch import nn

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close, with_hint
from lstm_course.language_model import CharLM

LN2 = math.log(2)


def _named(got, guesses, rel_tol):
    """The message of the first (value, message) guess that ``got`` equals, or None."""
    return next((message for value, message in guesses if math.isclose(got, value, rel_tol=rel_tol)), None)

# ---------------------------------------------------------------------------------------------
# Exercise 1: the loss in bits per character

BITS_CASES = ((3, 5, 7, 11), (2, 9, 13, 12), (1, 4, 96, 13))  # batch, seq, vocab, seed: none of them the notebook's
BITS_SIGNATURE = "loss_in_bits(logits, targets)"
BITS_HINT = ("cross_entropy takes scores (N, vocab) and targets (N,): flatten the batch and time dimensions "
             "with logits.reshape(-1, vocab) and targets.reshape(-1).")


def _logits_and_targets(batch, seq, vocab, seed):
    generator = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn(batch, seq, vocab, generator=generator)
    return logits, torch.randint(vocab, (batch, seq), generator=generator)


def _bits_mistake(got, nats, batch, seq):
    """What a wrong number of bits is, when it is one of the usual slips."""
    guesses = (
        (nats, "that is the loss in nats, PyTorch's unit (natural log): divide by ln 2 to get bits."),
        (nats / math.log(10), "that is in base 10 (divided by ln 10): bits are base 2, divide by ln 2."),
        (math.exp(nats), "that is the perplexity, exp(loss): bits per character are loss / ln 2."),
        (2 ** (nats / LN2), "that is the perplexity, 2 ** bits: return the bits themselves."),
        (nats / LN2 * batch * seq, "that is the sum over all characters: take the mean (cross_entropy's default)."),
        (nats / LN2 * seq, "that is a sum over time steps: take the mean over every character."),
        (nats / LN2 * batch, "that is a sum over the batch: take the mean over every character."),
    )
    return _named(got, guesses, rel_tol=1e-4)


@check("Bits per character from the loss")
def check_loss_in_bits(loss_in_bits):
    """``loss_in_bits(logits, targets) -> mean cross-entropy in bits``: logits (batch, seq, vocab), targets (batch, seq)."""
    for batch, seq, vocab, seed in BITS_CASES:
        logits, targets = _logits_and_targets(batch, seq, vocab, seed)
        try:
            got = as_array("the bits per character", call(loss_in_bits, logits, targets))
        except Mistake as mistake:
            raise Mistake(with_hint(mistake, BITS_SIGNATURE, BITS_HINT)) from None
        if got.size != 1:
            raise Mistake(f"expected one number, the mean over all {batch * seq} characters, got shape {got.shape}. "
                          "Keep cross_entropy's mean; do not ask for reduction='none'.")
        nats = nn.functional.cross_entropy(logits.reshape(-1, vocab).double(), targets.reshape(-1)).item()
        value = float(got.reshape(()))
        if not math.isclose(value, nats / LN2, rel_tol=1e-5):
            named = _bits_mistake(value, nats, batch, seq)
            if named:
                raise Mistake(f"For logits of shape {(batch, seq, vocab)}: expected {nats / LN2:.6g} bits, got {value:.6g}: {named}")
        expect_close(f"the bits per character for logits of shape {(batch, seq, vocab)}", got.reshape(()), nats / LN2,
                     atol=1e-5, hint="Mean cross-entropy over every character, divided by ln 2.")
    return "Nats divided by ln 2: bits per character. A model that knows nothing about 96 symbols scores log2(96) = 6.58."


# ---------------------------------------------------------------------------------------------
# Exercise 2: one batch of a stream, the state carried and detached

STREAM_SIGNATURE = "stream_loss(model, x, y, state)"
STREAM_CASES = ((3, 6, 9, 5, 21), (2, 4, 7, 3, 22))  # batch, seq, vocab, hidden, seed


def _stream_case(batch, seq, vocab, hidden, seed):
    """A tiny model, a batch (x, y) and the state a previous batch left, detached."""
    rng_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = CharLM(vocab, "lstm", embedding_dim=4, hidden_size=hidden)
        generator = torch.Generator().manual_seed(seed)
        ids = torch.randint(vocab, (batch, 2 * seq + 1), generator=generator)
        with torch.no_grad():
            _, state = model(ids[:, :seq])  # the batch before this one
    finally:
        torch.random.set_rng_state(rng_state)  # the learner's global generator stays as it was
    return model, ids[:, seq:-1], ids[:, seq + 1 :], state


def _cross_entropy(logits, targets):
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)).item()


def _loss_mistake(got, model, x, y, state):
    """Name the usual slips in the loss of a stream batch, or None."""
    with torch.no_grad():
        logits, _ = model(x, state)
        fresh_logits, _ = model(x)
    expected = _cross_entropy(logits, y)
    guesses = (
        (expected / LN2, "that is in bits: the training loss stays in nats, PyTorch's cross_entropy as it comes."),
        (_cross_entropy(fresh_logits, y), "that is the loss from a zero state: pass the `state` you are given "
                                          "to the model, model(x, state), so each row goes on where the last batch ended."),
        (_cross_entropy(logits, x), "that compares the scores with x: the targets are y, the next characters."),
        (_cross_entropy(logits[:, :-1], y[:, 1:]), "y is already x shifted by one step: compare logits with y as they are, "
                                                   "without shifting again."),
        (_cross_entropy(logits[:, -1:], y[:, -1:]), "that is the loss at the last step only: every step predicts its next character."),
    )
    return _named(got, guesses, rel_tol=1e-5)


@check("One batch of a stream, the state carried and detached")
def check_stream_loss(stream_loss):
    """``stream_loss(model, x, y, state) -> (loss, state)``: the loss attached to the graph, the new state detached."""
    for batch, seq, vocab, hidden, seed in STREAM_CASES:
        model, x, y, state = _stream_case(batch, seq, vocab, hidden, seed)
        try:
            result = call(stream_loss, model, x, y, state)
        except Mistake as mistake:
            raise Mistake(with_hint(mistake, STREAM_SIGNATURE, "x and y are (batch, seq); the model's logits (batch, seq, vocab).")) from None
        if not isinstance(result, tuple) or len(result) != 2:
            raise Mistake(f"expected a pair (loss, state), got {type(result).__name__}: return both, `return loss, state`.")
        loss, new_state = result
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise Mistake(f"the loss should be a one-number tensor, got {type(loss).__name__}: keep the tensor that cross_entropy returns.")
        if loss.grad_fn is None:
            raise Mistake("the loss is cut from the graph (`.item()` or `.detach()` on it?): training calls loss.backward() on it. "
                          "Detach the state, not the loss.")
        with torch.no_grad():
            logits, (h_n, c_n) = model(x, state)
        expected = _cross_entropy(logits, y)
        if not math.isclose(loss.item(), expected, rel_tol=1e-5):
            named = _loss_mistake(loss.item(), model, x, y, state)
            raise Mistake(f"For x of shape {tuple(x.shape)}: expected the loss {expected:.6g}, got {loss.item():.6g}. "
                          + (named or "The mean cross-entropy of the model's scores for y, from model(x, state)."))
        if new_state is None:
            raise Mistake("the state returned is None: return the model's state after this batch, so the next batch goes on from it.")
        if not isinstance(new_state, tuple) or len(new_state) != 2:
            raise Mistake(f"an LSTM's state is a pair (h, c), got {type(new_state).__name__}: return it as the model gives it, detached.")
        if all(torch.equal(a, b) for a, b in zip(new_state, state)):
            raise Mistake("that is the state you were given: return the model's new one, after this batch.")
        for name, got, want in (("h", new_state[0], h_n), ("c", new_state[1], c_n)):
            expect_close(f"the state's {name}", got.detach(), want, atol=1e-6,
                         hint="Return the state that model(x, state) gives back, detached.")
            if got.requires_grad or got.grad_fn is not None:
                raise Mistake(f"the state's {name} is still attached to this batch's graph: the next batch's backward() "
                              "would run into this one, whose graph is freed (notebook 06, truncated BPTT). Detach it: "
                              "tuple(s.detach() for s in state).")
    return "The loss keeps its graph; the state keeps its values and loses its past."


# ---------------------------------------------------------------------------------------------
# Exercise 3: the sampling step with temperature

SAMPLE_SIGNATURE = "sample_next(logits, temperature, generator)"
SAMPLE_LOGITS = (1.5, -0.5, 0.8, 2.2, -2.0, 0.1, 1.1)  # 7 symbols; not the notebook's
SAMPLE_TEMPERATURES = (0.5, 1.0, 2.0)
DRAWS = 2000
Z_LIMIT = 5.0  # a right answer is further than this many standard errors from the truth less than once in a million


def _softmax(logits, temperature):
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    e = np.exp(scaled - scaled.max())
    return e / e.sum()


def _as_id(value, vocab):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, (np.integer,)):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Mistake(f"expected one character id, an int, got {type(value).__name__}: {value!r:.80}. "
                      "torch.multinomial gives a tensor: int(...) turns it into an int.")
    if not 0 <= value < vocab:
        raise Mistake(f"the id {value} is outside 0 ... {vocab - 1}: there are {vocab} symbols.")
    return value


def _draws(sample_next, logits, temperature, seed, n):
    generator = torch.Generator().manual_seed(seed)
    return np.array([_as_id(call(sample_next, logits, temperature, generator), len(logits)) for _ in range(n)])


def _z(frequencies, probabilities, n):
    error = np.sqrt(np.maximum(probabilities * (1 - probabilities), 1e-12) / n)
    return float(np.max(np.abs(frequencies - probabilities) / np.maximum(error, 1 / n)))


def _sampling_mistake(frequencies, temperature):
    """Name the distribution a wrong answer draws from, if it is one of the usual ones."""
    guesses = (
        (np.eye(len(SAMPLE_LOGITS))[int(np.argmax(SAMPLE_LOGITS))], "it always gives the likeliest character: that is "
         "greedy decoding, what a temperature near 0 gives. Draw from the probabilities instead (torch.multinomial)."),
        (_softmax(SAMPLE_LOGITS, 1.0), "the temperature changes nothing: divide the logits by it before the softmax."),
        (_softmax(SAMPLE_LOGITS, 1 / temperature), "it draws as if the temperature were 1 / temperature: "
         "divide the logits by the temperature, do not multiply."),
        (np.full(len(SAMPLE_LOGITS), 1 / len(SAMPLE_LOGITS)), "every character comes equally often: draw from softmax(logits / temperature)."),
    )
    for probabilities, message in guesses:
        if _z(frequencies, probabilities, DRAWS) < Z_LIMIT:
            return message
    return None


@check("The sampling step with temperature")
def check_sample_next(sample_next):
    """``sample_next(logits, temperature, generator) -> int``: a draw from softmax(logits / temperature)."""
    logits = torch.tensor(SAMPLE_LOGITS)
    try:
        first = _draws(sample_next, logits, 1.0, 7, 30)
        again = _draws(sample_next, logits, 1.0, 7, 30)
        if not np.array_equal(first, again):
            raise Mistake("two generators seeded alike gave different characters: draw with the `generator` you are "
                          "given (torch.multinomial(..., generator=generator)), so that a seed gives the same text every time.")
        for temperature in SAMPLE_TEMPERATURES:
            ids = _draws(sample_next, logits, temperature, 100 + int(10 * temperature), DRAWS)
            frequencies = np.bincount(ids, minlength=len(SAMPLE_LOGITS)) / DRAWS
            expected = _softmax(SAMPLE_LOGITS, temperature)
            if _z(frequencies, expected, DRAWS) > Z_LIMIT:
                named = _sampling_mistake(frequencies, temperature)
                worst = int(np.argmax(np.abs(frequencies - expected)))
                raise Mistake(f"At temperature {temperature}, over {DRAWS} draws, character {worst} came "
                              f"{frequencies[worst]:.1%} of the time; softmax(logits / temperature) gives it "
                              f"{expected[worst]:.1%}. " + (named or "Draw from softmax(logits / temperature)."))
        spread = torch.tensor(SAMPLE_LOGITS) * 40  # a temperature near 0 divides these to about 1e5
        greedy = _draws(sample_next, spread, 1e-3, 3, 20)
    except Mistake as mistake:
        message = str(mistake)
        if "nan" in message.lower() or "inf" in message.lower():
            message += (" Dividing by a small temperature makes huge logits, whose exp overflows: subtract the largest "
                        "logit first, or let torch.softmax do it.")
        raise Mistake(with_hint(Mistake(message), SAMPLE_SIGNATURE)) from None
    if not (greedy == int(np.argmax(SAMPLE_LOGITS))).all():
        raise Mistake("at temperature 0.001 the likeliest character should come every time (greedy), "
                      f"but the draws were {sorted(set(greedy.tolist()))}.")
    return "Low temperatures sharpen the distribution, high ones flatten it; near 0 it is greedy."

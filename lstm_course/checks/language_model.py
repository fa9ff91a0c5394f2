"""Checks for notebook 07, the character-level language model: bits from the loss, a stream step, a sampling step."""

import collections
import math

import numpy as np
import torch

from lstm_course import language_model
from lstm_course.checks.judge import (Mistake, call, check, expect_gradient, expect_no_backward, in_case, integer,
                                      judge, own_random, same, tensor, unpack)

LN2 = math.log(2)


def _nats(logits, targets):
    """The mean cross-entropy of ``logits`` (..., vocab) for ``targets`` (...), in nats, a float."""
    flat_logits = logits.detach().double().reshape(-1, logits.shape[-1])
    return torch.nn.functional.cross_entropy(flat_logits, targets.reshape(-1)).item()


# ----------------------------------------------------------------------------- Exercise 1: bits per character

BITS_CASES = ((3, 5, 7, 11), (2, 9, 13, 12), (1, 4, 96, 13))  # batch, seq, vocab, seed: none of them the notebook's
BITS_SHAPES = ("cross_entropy takes scores (N, vocab) and targets (N,): flatten with logits.reshape(-1, vocab) and "
               "targets.reshape(-1).")
BITS_HINT = ("One number: the mean cross-entropy over every character (cross_entropy's mean, not reduction='none'), "
             "divided by ln 2.")


def _bits_mistakes(nats, batch, seq):
    """(message, what that answer returns) for a loss of ``nats``."""
    return (
        ("That is the loss in nats, PyTorch's unit (natural log): divide by ln 2 to get bits.", nats),
        ("That is in base 10 (divided by ln 10): bits are base 2, divide by ln 2.", nats / math.log(10)),
        ("That is the loss multiplied by ln 2: bits are nats divided by ln 2.", nats * LN2),
        ("That is the perplexity, exp(loss) = 2 ** bits: return the bits themselves, loss / ln 2.", math.exp(nats)),
        ("That is the sum over all characters: take the mean (cross_entropy's default).", nats / LN2 * batch * seq),
        ("That is a sum over time steps: take the mean over every character.", nats / LN2 * seq),
        ("That is a sum over the batch: take the mean over every character.", nats / LN2 * batch),
    )


@check("Bits per character from the loss", refuse=(language_model.loss_in_bits, _nats),
       instead="Start from F.cross_entropy yourself.")
def check_loss_in_bits(loss_in_bits):
    """``loss_in_bits(logits (batch, seq, vocab), targets (batch, seq))``: the mean cross-entropy in bits, a tensor."""
    for batch, seq, vocab, seed in BITS_CASES:
        with own_random(seed), in_case(f"For logits of shape {(batch, seq, vocab)}"):
            logits = (2 * torch.randn(batch, seq, vocab, dtype=torch.float64)).requires_grad_()
            targets = torch.randint(vocab, (batch, seq))
            signature = "loss_in_bits(logits, targets)"
            result = call(loss_in_bits, logits, targets, signature=signature, shape_hint=BITS_SHAPES)
            got, nats = tensor("The bits per character", result), _nats(logits, targets)
            judge("The bits per character", got, nats / LN2, _bits_mistakes(nats, batch, seq), BITS_HINT)
            expect_gradient("The bits per character", got, [logits])
    return ("Nats divided by ln 2: bits per character. A model that knows nothing about 96 symbols scores "
            "log2(96) = 6.58.")


# ----------------------------------------------------------------------------- Exercise 2: one batch of a stream

# batch, seq, vocab, hidden, seed, whether a state is carried in
STREAM_CASES = ((3, 6, 9, 5, 21, True), (2, 4, 7, 3, 22, True), (2, 5, 6, 4, 23, False))


# One batch of a stream: state, what the batch before left (None at the start of a stream); logits and new_state,
# what model(x, state) gives; fresh, the logits from a zero state.
_Stream = collections.namedtuple("_Stream", "model x y state logits new_state fresh")


def _stream(batch, seq, vocab, hidden, seed, carried):
    """A random model and stream, the batch x, y at its step ``seq``, and what the model makes of it."""
    with own_random(seed), torch.no_grad():
        model = language_model.CharLM(vocab, "lstm", embedding_dim=4, hidden_size=hidden)
        ids = torch.randint(vocab, (batch, 2 * seq + 1))
        state = model(ids[:, :seq])[1] if carried else None  # the state the batch before left
        x, y = ids[:, seq:-1], ids[:, seq + 1:]
        (logits, new_state), fresh = model(x, state), model(x)[0]
    return _Stream(model, x, y, state, logits, new_state, fresh)


def _stream_mistakes(case, nats):
    """(message, the loss that answer returns)."""
    logits, x, y = case.logits, case.x, case.y
    return (
        ("That is in bits: the training loss stays in nats, cross_entropy's value as it comes.", nats / LN2),
        ("That is the loss from a zero state: give the model the `state` you are given, model(x, state).",
         _nats(case.fresh, y)),
        ("That compares the scores with x: the targets are y, the next characters.", _nats(logits, x)),
        ("Your y is already x shifted by one step: compare the logits with y as they are, without shifting again.",
         _nats(logits[:, :-1], y[:, 1:])),
        ("That is the loss at the last step only: every step predicts its next character.",
         _nats(logits[:, -1], y[:, -1])),
        ("That is the sum over the batch's characters: keep cross_entropy's mean, so that the step does not grow with "
         "the batch.", nats * y.numel()),
        ("That is a sum over the time steps (the mean loss of a sequence): keep cross_entropy's mean over every "
         "character.", nats * y.shape[1]),
    )


def _expect_new_state(new_state, case):
    """The state returned must be model(x, state)'s, detached."""
    if new_state is None:
        raise Mistake("The state returned is None: return the model's state after this batch, so that the next batch "
                      "goes on from it.")
    new_state = unpack(new_state, ("h", "c"), "return loss, (h, c)")
    if case.state is not None and same(new_state, case.state):
        raise Mistake("That is the state you were given: return the model's new one, after this batch.")
    for name, value, want in zip("hc", new_state, case.new_state):
        judge(f"The state's {name}", tensor(f"The state's {name}", value).detach(), want,
              hint="Return the state that model(x, state) gives back.")
        if value.requires_grad:
            raise Mistake(f"The state's {name} is still attached to this batch's graph: the next batch's backward() "
                          "would run into this one, whose graph is freed (notebook 06, truncated BPTT). Detach it: "
                          "tuple(s.detach() for s in state).")


@check("One batch of a stream, the state carried and detached", refuse=(language_model.stream_loss, _nats),
       instead="Run the model and take the loss yourself.")
def check_stream_loss(stream_loss):
    """``stream_loss(model, x, y, state) -> (loss, state)``: the loss attached to the graph, the new state detached."""
    for batch, seq, vocab, hidden, seed, carried in STREAM_CASES:
        case = _stream(batch, seq, vocab, hidden, seed, carried)
        nats = _nats(case.logits, case.y)
        mistakes = _stream_mistakes(case, nats)
        start = "" if carried else " at the start of a stream (state None: model(x, None) starts from zeros)"
        with in_case(f"For x of shape {tuple(case.x.shape)}{start}"):
            result = call(stream_loss, case.model, case.x, case.y, case.state,
                          signature="stream_loss(model, x, y, state)",
                          shape_hint="x and y are (batch, seq); the model's logits (batch, seq, vocab).")
            loss, new_state = unpack(result, ("loss", "state"), "return loss, state")
            expect_no_backward(stream_loss, case.model.parameters())
            if isinstance(loss, torch.Tensor) and not loss.requires_grad:
                raise Mistake("The loss is cut from the graph (.item(), .detach() or torch.no_grad()?): training calls "
                              "loss.backward() on it. Detach the state, not the loss.")
            expect_gradient("The loss", loss, list(case.model.parameters()))
            judge("The loss", loss, nats, mistakes, hint="The mean cross-entropy of the model's scores for y, from "
                  "model(x, state).")
            _expect_new_state(new_state, case)
    return "The loss keeps its graph; the state keeps its values and loses its past."


# ----------------------------------------------------------------------------- Exercise 3: sampling with temperature

SAMPLE_LOGITS = (1.5, -0.5, 0.8, 2.2, -2.0, 0.1, 1.1)  # 7 symbols; not the notebook's
# (temperature, seed, draws); near 0: greedy
SAMPLE_CASES = ((0.5, 100, 2000), (1.0, 110, 2000), (2.0, 120, 2000), (1e-3, 3, 20))
# a right answer is further than Z_LIMIT standard errors from the truth less than once in a million
DRAWS, Z_LIMIT = 2000, 5.0
OVERFLOW = ("Divided by 0.001, the logits reach thousands: exp overflows (inf / inf is NaN). Subtract the largest "
            "logit first, or use torch.softmax.")
UNDERFLOW = ("Near temperature 0, every probability you computed underflowed to 0 (0.4 ** 1000 and exp(-1000) are 0 "
             "in floating point): take softmax(logits / temperature), which keeps the largest at 1.")


def _softmax(temperature):
    """The probabilities of SAMPLE_LOGITS at ``temperature``."""
    return torch.softmax(torch.tensor(SAMPLE_LOGITS, dtype=torch.float64) / temperature, 0).numpy()


SAMPLE_MISTAKES = (  # (message, the probabilities that answer draws from at temperature t)
    ("It always gives the likeliest character: that is greedy decoding, what a temperature near 0 gives. Draw from the "
     "probabilities instead (torch.multinomial).", lambda t: _softmax(1e-9)),
    ("The temperature changes nothing: divide the logits by it before the softmax.", lambda t: _softmax(1.0)),
    ("It draws as if the temperature were 1 / temperature: divide the logits by the temperature, do not multiply.",
     lambda t: _softmax(1 / t)),
    ("Every character comes equally often: draw from softmax(logits / temperature).", lambda t: _softmax(math.inf)),
)


def _draws(sample_next, temperature, seed, n):
    """``n`` character ids the learner's function draws, with a generator seeded with ``seed``."""
    logits, generator, ids = torch.tensor(SAMPLE_LOGITS), torch.Generator().manual_seed(seed), []
    overflow = {"nan": OVERFLOW, "sum of probabilities": UNDERFLOW} if temperature < 0.01 else {}
    for _ in range(n):
        got = call(sample_next, logits, temperature, generator, signature="sample_next(logits, temperature, generator)",
                   error_hints=overflow)
        if isinstance(got, float):  # judge.integer cannot take int(nan), and hints at // for any float
            end = "." if math.isfinite(got) else f", from probabilities without NaN. {overflow.get('nan', '')}"
            raise Mistake(f"The character id should be an int, got the float {got}: return int(...) of the id "
                          f"drawn{end}")
        ids.append(integer("The character id", got))
        if not 0 <= ids[-1] < len(logits):
            raise Mistake(f"The character id {ids[-1]} is outside 0 ... {len(logits) - 1}: there are {len(logits)} "
                          "symbols.")
    return np.array(ids)


def _z(frequencies, probabilities, n):
    """How many standard errors of ``n`` draws the frequencies are from the probabilities, at the worst."""
    standard_errors = np.maximum(np.sqrt(probabilities * (1 - probabilities) / n), 1 / DRAWS)
    return float(np.max(np.abs(frequencies - probabilities) / standard_errors))


def _sampling_mistake(got, expected, temperature, n):
    """What frequencies ``got`` far from ``expected`` say: the worst character, and the mistake that explains them."""
    worst = int(np.argmax(np.abs(got - expected)))
    named = (message for message, probabilities in SAMPLE_MISTAKES
             if _z(got, probabilities(temperature), n) < Z_LIMIT < _z(probabilities(temperature), expected, n))
    otherwise = OVERFLOW if temperature < 0.01 else "Draw from softmax(logits / temperature)."
    if got.max() == 1 and temperature >= 0.5:  # one character every time, and not the likeliest (greedy is named)
        otherwise = ("Every draw gave the same character: a generator seeded again, or made anew, in every call starts "
                     "from the same random numbers each time. Draw with the `generator` you are given, as it comes.")
    return (f"character {worst} came {got[worst]:.1%} of the time; softmax(logits / temperature) gives it "
            f"{expected[worst]:.1%}. {next(named, otherwise)}")


@check("The sampling step with temperature", refuse=(language_model.sample_next, _softmax),
       instead="Scale the logits, take the softmax and draw with the generator yourself.")
def check_sample_next(sample_next):
    """``sample_next(logits, temperature, generator) -> int``: a draw from softmax(logits / temperature)."""
    with own_random(0):  # an answer that draws from the global generator leaves the learner's as it was
        for temperature, seed, n in SAMPLE_CASES:
            with in_case(f"At temperature {temperature}, over {n} draws"):
                ids = _draws(sample_next, temperature, seed, n)
                if temperature == 1.0 and not np.array_equal(ids[:30], _draws(sample_next, temperature, seed, 30)):
                    raise Mistake("two generators seeded alike gave different characters: draw with the `generator` "
                                  "you are given (torch.multinomial(..., generator=generator)), so that a seed gives "
                                  "the same text every time.")
                got, expected = np.bincount(ids, minlength=len(SAMPLE_LOGITS)) / n, _softmax(temperature)
                if _z(got, expected, n) > Z_LIMIT:
                    raise Mistake(_sampling_mistake(got, expected, temperature, n))
    return "Low temperatures sharpen the distribution, high ones flatten it; near 0 it is greedy."

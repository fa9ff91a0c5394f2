"""Notebook 07, the character-level language model: answers to its three exercises."""

import functools
import math

import numpy as np
import torch
from torch import nn
from torch.nn.functional import cross_entropy

from lstm_course import language_model as lm
from lstm_course.checks import check_loss_in_bits, check_sample_next, check_stream_loss
from lstm_course.language_model import loss_in_bits as bits_of_the_course
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

loss_in_bits, stream_loss, sample_next = notebook_definitions(  # the notebook's solutions
    "07_generating_text", "loss_in_bits", "stream_loss", "sample_next"
)

# ----------------------------------------------------------------------------- Exercise 1: loss_in_bits


def flat_nats(logits, targets, **options):
    return cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), **options)


def bits_under_no_grad(logits, targets):
    with torch.no_grad():
        return loss_in_bits(logits, targets)


def misspelt(logits, targets):
    return nn.functional.cross_entopy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)) / math.log(2)


LOSS_IN_BITS = Answers(
    check_loss_in_bits,
    solution=loss_in_bits,
    others=[
        lambda logits, targets: cross_entropy(logits.transpose(1, 2), targets) * math.log2(math.e),
        lambda logits, targets: -torch.log2(torch.softmax(logits, -1).gather(2, targets[..., None])).mean(),
        lambda logits, targets: torch.log2(torch.exp(cross_entropy(logits.flatten(0, 1), targets.flatten()))),
    ],
    wrong=[
        (flat_nats, "That is the loss in nats"),
        (lambda logits, targets: flat_nats(logits, targets) / math.log(10), "in base 10"),
        (lambda logits, targets: flat_nats(logits, targets) * math.log(2), "multiplied by ln 2"),
        (lambda logits, targets: torch.exp(flat_nats(logits, targets)), "That is the perplexity"),
        (lambda logits, targets: flat_nats(logits, targets, reduction="sum") / math.log(2), "the sum over all characters"),
        (lambda logits, targets: loss_in_bits(logits, targets) * targets.shape[1], "a sum over time steps"),
        (lambda logits, targets: loss_in_bits(logits, targets) * targets.shape[0], "a sum over the batch"),
        (lambda logits, targets: cross_entropy(logits, targets) / math.log(2), "flatten with logits.reshape(-1, vocab)"),
        (lambda logits, targets: cross_entropy(logits.transpose(1, 2), targets, reduction="none") / math.log(2), "should have shape (), got (3, 5)"),
        (lambda logits, targets: loss_in_bits(logits, targets).item(), "got float"),
        (lambda logits, targets: loss_in_bits(logits, targets).detach().numpy(), "got a NumPy array"),
        (bits_under_no_grad, "carries no gradient"),
        (lambda logits, targets: loss_in_bits(logits, targets) * math.nan, "holds NaN"),
        (misspelt, "raised AttributeError"),
        (lambda logits, targets: -torch.log2(torch.softmax(logits, dim=-1)).mean(), "expected 3.66896, got 4.3306"),
    ],
    course=[
        lm.loss_in_bits,
        lambda logits, targets: bits_of_the_course(logits, targets),
        functools.partial(lm.loss_in_bits),
    ],
)

# ----------------------------------------------------------------------------- Exercise 2: stream_loss


def stream_loss_from_zeros(model, x, y, state):
    if state is None:  # the start of the stream: zeros of the LSTM's state shape, built by hand
        zeros = torch.zeros(1, x.shape[0], model.rnn.hidden_size)
        state = (zeros, zeros.clone())
    logits, state = model(x, state)
    return cross_entropy(logits.transpose(1, 2), y), lm.detach_state(state)


def with_logits(loss_of):
    """A stream_loss whose loss is ``loss_of(logits, x, y)``, the state as the solution returns it."""

    def answer(model, x, y, state):
        logits, new_state = model(x, state)
        return loss_of(logits, x, y), lm.detach_state(new_state)

    return answer


def left_attached(model, x, y, state):
    logits, state = model(x, state)
    return flat_nats(logits, y), state


def backward_inside(model, x, y, state):
    loss, state = stream_loss(model, x, y, state)
    loss.backward()
    return loss, state


def detaches_the_given_state(model, x, y, state):
    state = tuple(s.detach() for s in state)
    return stream_loss(model, x, y, state)


def summed_over_time(model, x, y, state):
    """The mean loss of a sequence: summed over the characters, divided by the batch."""
    logits, new_state = model(x, state)
    loss = cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum") / x.shape[0]
    return loss, tuple(part.detach() for part in new_state)


STREAM_LOSS = Answers(
    check_stream_loss,
    solution=stream_loss,
    others=[stream_loss_from_zeros],
    wrong=[
        (left_attached, "still attached"),
        (lambda model, x, y, state: (stream_loss(model, x, y, state)[0].detach(), stream_loss(model, x, y, state)[1]),
         "cut from the graph"),
        (lambda model, x, y, state: stream_loss(model, x, y, None), "That is the loss from a zero state"),
        (lambda model, x, y, state: (stream_loss(model, x, y, state)[0], state), "That is the state you were given"),
        (with_logits(lambda logits, x, y: flat_nats(logits, x)), "compares the scores with x"),
        (with_logits(lambda logits, x, y: flat_nats(logits[:, :-1], y[:, 1:])), "without shifting again"),
        (with_logits(lambda logits, x, y: lm.loss_in_bits(logits, y)), "That is in bits"),
        (with_logits(lambda logits, x, y: flat_nats(logits[:, -1:], y[:, -1:])), "at the last step only"),
        (with_logits(lambda logits, x, y: flat_nats(logits, y, reduction="sum")), "keep cross_entropy's mean, so that"),
        (with_logits(lambda logits, x, y: flat_nats(logits, y).detach().numpy()), "should be a torch tensor, got a NumPy array"),
        (lambda model, x, y, state: stream_loss(model, x, y, state)[0], "Return 2 things, loss, state"),
        (lambda model, x, y, state: (stream_loss(model, x, y, state)[0], None), "The state returned is None"),
        (lambda model, x, y, state: (stream_loss(model, x, y, state)[0], stream_loss(model, x, y, state)[1][0]), "Return 2 things, h, c"),
        (backward_inside, "called backward() itself"),
        (detaches_the_given_state, "at the start of a stream (state None"),
        (summed_over_time, "That is a sum over the time steps"),
    ],
    course=[
        lm.stream_loss,
        lambda model, x, y, state: lm.stream_loss(model, x, y, state),
    ],
)

# ----------------------------------------------------------------------------- Exercise 3: sample_next


def inverse_cdf(logits, temperature, generator):
    p = np.exp((logits.double().numpy() - logits.max().item()) / temperature)
    u = torch.rand((), generator=generator, dtype=torch.float64).item() * p.sum()
    return int(min(np.searchsorted(np.cumsum(p), u), len(p) - 1))


def gumbel_max(logits, temperature, generator):
    u = torch.rand(logits.shape, generator=generator, dtype=torch.float64)
    return int(torch.argmax(logits.double() / temperature - torch.log(-torch.log(u))))


def overflowing(logits, temperature, generator):
    e = torch.exp(logits / temperature)
    return int(torch.multinomial(e / e.sum(), 1, generator=generator))


def nan_inverse_cdf(logits, temperature, generator):
    with np.errstate(over="ignore", invalid="ignore"):  # at 0.001 exp overflows: inf / inf is NaN
        p = np.exp(logits.double().numpy() / temperature)
        u = torch.rand((), generator=generator, dtype=torch.float64).item()
        return int(min(np.searchsorted(np.cumsum(p / p.sum()), u), len(p) - 1))


def temperature_after_the_softmax(logits, temperature, generator):
    return int(torch.multinomial(torch.softmax(logits, dim=0) / temperature, 1, generator=generator))


def powers_of_the_probabilities(logits, temperature, generator):
    """softmax(logits) ** (1 / T) is softmax(logits / T) up to a factor, but underflows near T = 0."""
    return int(torch.multinomial(torch.softmax(logits.double(), dim=0) ** (1 / temperature), 1, generator=generator))


def seeded_again(logits, temperature, generator):
    """The generator seeded again in every call: the same draw every time."""
    return int(torch.multinomial(torch.softmax(logits / temperature, 0), 1, generator=generator.manual_seed(0)))


SAMPLE_NEXT = Answers(
    check_sample_next,
    solution=sample_next,
    others=[inverse_cdf, gumbel_max],
    wrong=[
        (lambda logits, temperature, generator: int(logits.argmax()), "greedy decoding"),
        (lambda logits, temperature, generator: sample_next(logits, 1.0, generator), "The temperature changes nothing"),
        (lambda logits, temperature, generator: sample_next(logits, 1 / temperature, generator), "do not multiply"),
        (lambda logits, temperature, generator: sample_next(logits * 0, 1.0, generator), "equally often"),
        (lambda logits, temperature, generator: int(torch.multinomial(torch.softmax(logits / temperature, -1), 1)), "gave different characters"),
        (overflowing, "probability tensor contains"),
        (nan_inverse_cdf, "gives it 0.0%. Divided by 0.001"),
        (lambda logits, temperature, generator: torch.softmax(logits / temperature, -1), "should be an int, got Tensor"),
        (lambda logits, temperature, generator: torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=generator),
         "got a one-element Tensor"),
        (lambda logits, temperature, generator: float(sample_next(logits, temperature, generator)), "return int(...) of the id drawn."),
        (lambda logits, temperature, generator: math.nan, "got the float nan"),
        (lambda logits, temperature, generator: sample_next(logits, temperature, generator) + 1, "is outside 0 ... 6"),
        (temperature_after_the_softmax, "The temperature changes nothing"),
        (powers_of_the_probabilities, "underflowed to 0"),
        (seeded_again, "Every draw gave the same character"),
    ],
    course=[
        lm.sample_next,
        lambda logits, temperature, generator: lm.sample_next(logits, temperature, generator),
    ],
)

ANSWERS = [LOSS_IN_BITS, STREAM_LOSS, SAMPLE_NEXT]

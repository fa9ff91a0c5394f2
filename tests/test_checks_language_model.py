import math

import numpy as np
import torch
from torch import nn

from lstm_course import language_model as lm
from lstm_course.checks import check_loss_in_bits, check_sample_next, check_stream_loss


def stub(*args):
    raise NotImplementedError()


def ce(logits, targets):
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


# ----------------------------------------------------------------------------- loss in bits


def test_loss_in_bits_stub_is_not_attempted():
    result = check_loss_in_bits(stub)
    assert result.status == "not attempted yet" and not result


def test_loss_in_bits_solution_and_another_form_pass():
    assert check_loss_in_bits(lm.loss_in_bits)
    assert check_loss_in_bits(lambda logits, targets: nn.functional.cross_entropy(logits.transpose(1, 2), targets) * math.log2(math.e))
    assert check_loss_in_bits(lambda logits, targets: -torch.log2(torch.softmax(logits, -1).gather(2, targets[..., None])).mean())


def test_nats_are_told_to_divide_by_ln_2():
    result = check_loss_in_bits(ce)
    assert not result and "in nats" in result.message and "divide by ln 2" in result.message


def test_base_10_is_named():
    result = check_loss_in_bits(lambda logits, targets: ce(logits, targets) / math.log(10))
    assert not result and "base 10" in result.message


def test_perplexity_is_named():
    result = check_loss_in_bits(lambda logits, targets: torch.exp(ce(logits, targets)))
    assert not result and "perplexity" in result.message


def test_a_sum_instead_of_the_mean_is_named():
    result = check_loss_in_bits(lambda logits, targets: nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum") / math.log(2))
    assert not result and "sum over all characters" in result.message


def test_unflattened_cross_entropy_gets_the_shape_hint():
    result = check_loss_in_bits(lambda logits, targets: nn.functional.cross_entropy(logits, targets) / math.log(2))
    assert not result and "raised" in result.message and "reshape(-1, vocab)" in result.message


def test_per_character_bits_are_told_to_take_the_mean():
    result = check_loss_in_bits(lambda logits, targets: nn.functional.cross_entropy(
        logits.transpose(1, 2), targets, reduction="none") / math.log(2))
    assert not result and "expected one number" in result.message


# ----------------------------------------------------------------------------- stream loss


def stream_loss(model, x, y, state):
    logits, state = model(x, state)
    loss = nn.functional.cross_entropy(logits.transpose(1, 2), y)
    h, c = state
    return loss, (h.detach(), c.detach())


def test_stream_loss_stub_is_not_attempted():
    assert check_stream_loss(stub).status == "not attempted yet"


def test_stream_loss_solution_and_the_package_pass():
    assert check_stream_loss(stream_loss)
    assert check_stream_loss(lm.stream_loss)


def test_a_state_left_attached_is_named():
    def attached(model, x, y, state):
        logits, state = model(x, state)
        return ce(logits, y), state

    result = check_stream_loss(attached)
    assert not result and "still attached" in result.message and "detach" in result.message.lower()


def test_a_detached_loss_is_named():
    def detached(model, x, y, state):
        loss, state = stream_loss(model, x, y, state)
        return loss.detach(), state

    result = check_stream_loss(detached)
    assert not result and "cut from the graph" in result.message


def test_ignoring_the_state_is_named():
    result = check_stream_loss(lambda model, x, y, state: stream_loss(model, x, y, None))
    assert not result and "zero state" in result.message and "model(x, state)" in result.message


def test_returning_the_old_state_is_named():
    result = check_stream_loss(lambda model, x, y, state: (stream_loss(model, x, y, state)[0], state))
    assert not result and "the state you were given" in result.message


def test_comparing_with_x_and_shifting_twice_are_named():
    def against_x(model, x, y, state):
        logits, state = model(x, state)
        return ce(logits, x), lm.detach_state(state)

    def shifted(model, x, y, state):
        logits, state = model(x, state)
        return ce(logits[:, :-1], y[:, 1:]), lm.detach_state(state)

    assert "compares the scores with x" in check_stream_loss(against_x).message
    assert "without shifting again" in check_stream_loss(shifted).message


def test_bits_as_the_training_loss_are_named():
    def in_bits(model, x, y, state):
        logits, state = model(x, state)
        return lm.loss_in_bits(logits, y), lm.detach_state(state)

    result = check_stream_loss(in_bits)
    assert not result and "that is in bits" in result.message


def test_no_pair_and_a_missing_state_are_named():
    assert "expected a pair" in check_stream_loss(lambda model, x, y, state: stream_loss(model, x, y, state)[0]).message
    assert "is None" in check_stream_loss(lambda model, x, y, state: (stream_loss(model, x, y, state)[0], None)).message


def test_the_check_leaves_the_global_generator_as_it_was():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    check_stream_loss(stream_loss)
    torch.testing.assert_close(torch.rand(3), expected)


# ----------------------------------------------------------------------------- sampling step


def sample_next(logits, temperature, generator):
    probabilities = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probabilities, 1, generator=generator).item()


def inverse_cdf(logits, temperature, generator):
    p = np.exp((logits.double().numpy() - logits.max().item()) / temperature)
    u = torch.rand((), generator=generator, dtype=torch.float64).item() * p.sum()
    return int(min(np.searchsorted(np.cumsum(p), u), len(p) - 1))


def test_sample_next_stub_is_not_attempted():
    assert check_sample_next(stub).status == "not attempted yet"


def test_sample_next_solution_the_package_and_an_inverse_cdf_pass():
    assert check_sample_next(sample_next)
    assert check_sample_next(lm.sample_next)
    assert check_sample_next(inverse_cdf)


def test_greedy_is_named():
    result = check_sample_next(lambda logits, temperature, generator: int(logits.argmax()))
    assert not result and "greedy" in result.message


def test_ignoring_the_temperature_is_named():
    result = check_sample_next(lambda logits, temperature, generator: sample_next(logits, 1.0, generator))
    assert not result and "temperature changes nothing" in result.message


def test_multiplying_by_the_temperature_is_named():
    result = check_sample_next(lambda logits, temperature, generator: sample_next(logits, 1 / temperature, generator))
    assert not result and "do not multiply" in result.message


def test_the_global_generator_is_named():
    result = check_sample_next(lambda logits, temperature, generator: torch.multinomial(torch.softmax(logits / temperature, -1), 1).item())
    assert not result and "generator" in result.message and "seeded alike" in result.message


def test_an_overflowing_softmax_is_told_to_subtract_the_max():
    def overflowing(logits, temperature, generator):
        e = torch.exp(logits / temperature)
        return torch.multinomial(e / e.sum(), 1, generator=generator).item()

    result = check_sample_next(overflowing)
    assert not result and "subtract the largest logit" in result.message


def test_returning_probabilities_is_told_to_return_an_id():
    result = check_sample_next(lambda logits, temperature, generator: torch.softmax(logits / temperature, -1))
    assert not result and "one character id" in result.message

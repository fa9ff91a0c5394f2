"""Notebook 10, from one sequence to another: answers to the attention step and the greedy decoding loop."""

import math

import torch

from lstm_course import seq2seq
from lstm_course.checks import check_attend, check_greedy_decode
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

attend, greedy_decode = notebook_definitions("10_sequence_to_sequence", "attend", "greedy_decode")

# ----------------------------------------------------------------------------- Exercise 1: attend


def scores_of(query, keys, scale=None):
    return query @ keys.transpose(1, 2) / (math.sqrt(query.shape[-1]) if scale is None else scale)


def with_weights(weights_of):
    """An answer whose weights come from ``weights_of(query, keys, mask)``; context = weights @ values."""

    def answer(query, keys, values, mask):
        weights = weights_of(query, keys, mask)
        return weights @ values, weights

    return answer


def einsum_and_where(query, keys, values, mask):
    """Written another way: einsum, a large negative number instead of -inf."""
    scores = torch.einsum("btd,bsd->bts", query, keys) / query.shape[-1] ** 0.5
    scores = torch.where(mask.unsqueeze(1), scores, torch.full_like(scores, -1e9))
    weights = scores.softmax(dim=2)
    return torch.einsum("bts,bsv->btv", weights, values), weights


def exp_by_hand(query, keys, values, mask):
    """Written another way: the softmax by hand, the pads zeroed after exp, the largest score subtracted first."""
    scores = scores_of(query, keys)
    scores = scores - scores.masked_fill(~mask[:, None], -math.inf).amax(dim=-1, keepdim=True)
    exp = torch.exp(scores) * mask[:, None]
    weights = exp / exp.sum(dim=-1, keepdim=True)
    return weights @ values, weights


def under_no_grad(query, keys, values, mask):
    with torch.no_grad():
        return attend(query, keys, values, mask)


ATTEND = Answers(
    check_attend,
    solution=attend,
    others=[einsum_and_where, exp_by_hand],
    wrong=[
        (with_weights(lambda q, k, m: scores_of(q, k).softmax(-1)), "The padded positions got weight"),
        (with_weights(lambda q, k, m: scores_of(q, k).masked_fill(m[:, None], -math.inf).softmax(-1)),
         "mask is the wrong way round"),
        (with_weights(lambda q, k, m: scores_of(q, k).masked_fill(~m[:, None], 0).softmax(-1)), "exp(0) = 1"),
        (with_weights(lambda q, k, m: scores_of(q, k).softmax(-1) * m[:, None]), "You zeroed the pads after"),
        (with_weights(lambda q, k, m: scores_of(q, k, 1.0).masked_fill(~m[:, None], -math.inf).softmax(-1)),
         "Scale the scores by 1 / sqrt(d)"),
        (with_weights(lambda q, k, m: scores_of(q, k, q.shape[-1]).masked_fill(~m[:, None], -math.inf).softmax(-1)),
         "You divided by d"),
        (with_weights(lambda q, k, m: scores_of(q, k).masked_fill(~m[:, None], -math.inf).softmax(1)),
         "The softmax ran over the decoder's steps"),
        (lambda q, k, v, m: attend(q, k, v, m)[::-1], "You returned (weights, context)"),
        (under_no_grad, "carries no gradient"),
        (lambda q, k, v, m: attend(q, k.detach(), v, m), "does not depend on `keys`"),
        (with_weights(lambda q, k, m: scores_of(q, k).masked_fill(~m[:, None], -30.0).softmax(-1)),
         "close to 0, but not 0"),
        (with_weights(lambda q, k, m: scores_of(q, k).masked_fill(~m[:, None], -math.inf).softmax(0)),
         "The softmax ran over the batch"),
        (lambda q, k, v, m: (attend(q, k, v, m)[1] @ k, attend(q, k, v, m)[1]), "context = weights @ values"),
    ],
    course=[
        seq2seq.attend,
        lambda q, k, v, m: (torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m[:, None]),
                            attend(q, k, v, m)[1]),
    ],
)

# ----------------------------------------------------------------------------- Exercise 2: greedy_decode


def loop(model, source, lengths, start_id, end_id, max_length, feed=True, carry=True, stop="all", keep_start=False):
    """A learner's loop, with one typical mistake switched on by the keywords."""
    initial, memory = model.encode(source, lengths)
    state, previous = initial, torch.full((len(source), 1), start_id)
    written = [previous] if keep_start else []
    ended = torch.zeros(len(source), dtype=torch.bool)
    for _ in range(max_length):
        logits, new_state, _ = model.decode(previous, state if carry else initial, memory)
        state, best = new_state, logits[:, -1].argmax(dim=-1, keepdim=True)
        previous = best if feed else previous
        written.append(best)
        ended |= best[:, 0] == end_id
        if (stop == "all" and ended.all()) or (stop == "any" and ended.any()) or (stop == "last row" and ended[-1]):
            break
    return torch.cat(written, dim=1)


def one_row_at_a_time(model, source, lengths, start_id, end_id, max_length):
    """Written another way: each source alone, the rows padded with end_id to one length."""
    rows = []
    for k in range(len(source)):
        state, memory = model.encode(source[k:k + 1, :int(lengths[k])], lengths[k:k + 1])
        previous, row = torch.tensor([[start_id]]), []
        while len(row) < max_length and end_id not in row:
            logits, state, _ = model.decode(previous, state, memory)
            previous = logits.argmax(dim=-1)
            row.append(int(previous))
        rows.append(row)
    width = max(map(len, rows))
    return torch.tensor([row + [end_id] * (width - len(row)) for row in rows])


def from_scratch_each_step(model, source, lengths, start_id, end_id, max_length):
    """Written another way: the whole prefix fed again from the encoder's state at every step (slow, right)."""
    initial, memory = model.encode(source, lengths)
    prefix = torch.full((len(source), 1), start_id)
    for _ in range(max_length):
        logits, _, _ = model.decode(prefix, initial, memory)
        prefix = torch.cat([prefix, logits[:, -1:].argmax(dim=-1)], dim=1)
        if (prefix[:, 1:] == end_id).any(dim=1).all():
            break
    return prefix[:, 1:]


GREEDY_DECODE = Answers(
    check_greedy_decode,
    solution=greedy_decode,
    others=[one_row_at_a_time, from_scratch_each_step, lambda *args: loop(*args, stop="never")],
    wrong=[
        (lambda *args: loop(*args, feed=False), "Every step was fed <start> again"),
        (lambda *args: loop(*args, carry=False), "Every step started from the encoder's state again"),
        (lambda *args: loop(*args, stop="any"), "A row stopped before its <end>"),
        (lambda *args: loop(*args, stop="last row"), "A row stopped before its <end>"),
        (lambda *args: loop(*args)[:, :-1], "A row stopped before its <end>"),
        (lambda *args: loop(*args, keep_start=True)[:, :args[-1]], "Your rows begin with <start>"),
        (lambda *args: loop(*args[:-1], args[-1] + 1, stop="never"), "more than max_length"),
        (lambda *args: loop(*args).float(), "should be integers"),
        (lambda *args: loop(*args).T, "should be (batch, steps)"),
        (lambda *args: loop(*args).tolist(), "should be a torch tensor"),
    ],
    course=[
        lambda *args: seq2seq.greedy_decode(*args)[0],
        lambda model, source, lengths, start_id, end_id, max_length: torch.stack([
            torch.tensor(seq2seq.beam_search(model, source[k:k + 1], lengths[k:k + 1], start_id, end_id, max_length,
                                             1).ids) for k in range(len(source))]),
    ],
)

ANSWERS = [ATTEND, GREEDY_DECODE]

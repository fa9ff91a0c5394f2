"""Checks for notebook 10, from one sequence to another: the attention step and the greedy decoding loop.

Random cases of sizes the notebook does not use, against the package's `seq2seq.attend` and
`seq2seq.greedy_decode`, with the typical mistakes of each.
"""

import math

import torch
from torch import nn

from lstm_course import seq2seq
from lstm_course.checks.judge import (Mistake, call, check, element, expect_gradient, in_case, judge, own_random,
                                      tensor, unpack)

# ----------------------------------------------------------------------------- Exercise 1: the attention step
# (lengths of the sources, steps, d, d_v): every row ends with padding; batch 1 and one step; a source of 1 character
ATTENTION_CASES = (((5, 3), 3, 4, 5), ((4,), 1, 2, 3), ((1, 6, 4), 2, 3, 2))
ATTENTION_SIGNATURE = "attend(query, keys, values, mask)"
ATTENTION_HINT = ("scores = query @ keys.transpose(1, 2) / sqrt(d); -inf where mask is False; softmax over the source "
                  "positions (the last dim); context = weights @ values.")
BY_HAND = (seq2seq.attend, nn.MultiheadAttention, nn.functional.scaled_dot_product_attention,
           nn.functional.multi_head_attention_forward)


def weighted(query, keys, values, mask, scale=None, fill=-math.inf, dim=-1, masked=True, renormalised=True,
             inverted=False):
    """``(context, weights)`` of dot-product attention, with the typical mistakes switched on by the keywords.

    ``scale``: what the scores are divided by (None: sqrt(d); "d": d).
    """
    d = query.shape[-1]
    scores = query @ keys.transpose(1, 2) / {None: math.sqrt(d), "d": d}.get(scale, scale)
    mask = ~mask if inverted else mask
    if masked and fill is not None:
        scores = scores.masked_fill(~mask[:, None], fill)
    weights = torch.softmax(scores, dim=dim)
    if masked and fill is None:  # the pads zeroed after the softmax
        weights = weights * mask[:, None]
        if renormalised:
            weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights @ values, weights


ATTENTION_MISTAKES = (  # (message, keywords of `weighted`)
    ("The padded positions got weight: fill their scores with -inf (scores.masked_fill(~mask, float('-inf'))) before "
     "the softmax, so that exp gives exactly 0 there.", dict(masked=False)),
    ("Your mask is the wrong way round: mask is True where the source is real, so fill the scores where it is False "
     "(~mask) with -inf.", dict(inverted=True)),
    ("You set the padded scores to 0, but exp(0) = 1 still gives them weight: fill them with -inf.", dict(fill=0.0)),
    ("You zeroed the pads after the softmax, so the real positions' weights no longer sum to 1: fill the scores with "
     "-inf before the softmax instead.", dict(fill=None, renormalised=False)),
    ("Scale the scores by 1 / sqrt(d), with d = query.shape[-1]: without it they grow with d and the softmax "
     "saturates.", dict(scale=1.0)),
    ("You divided by d; the scale is 1 / sqrt(d).", dict(scale="d")),
    ("The softmax ran over the decoder's steps (dim 1); each step's weights are over the source positions, the last "
     "dim.", dict(dim=1)),
    ("The softmax ran over the batch (dim 0); each step's weights are over the source positions, the last dim.",
     dict(dim=0)),
)


def _attention_case(number, lengths, steps, d, v):
    """Random float64 ``(query, keys, values, mask)``; those of the last case require grad."""
    batch, source_length = len(lengths), max(lengths) + 1  # one position of padding at least, in every row
    with own_random(1000 + number):
        tensors = [torch.randn(batch, steps, d), torch.randn(batch, source_length, d),
                   torch.randn(batch, source_length, v)]
    tensors = [(2 * value).double().requires_grad_(number == len(ATTENTION_CASES)) for value in tensors]
    mask = torch.arange(source_length)[None] < torch.tensor(lengths)[:, None]
    return (*tensors, mask)


@check("The attention step", refuse=BY_HAND,
       instead="Write the scores, the mask, the softmax and the context yourself, with torch operations.")
def check_attend(attend):
    """``attend(query, keys, values, mask) -> (context, weights)``, as `seq2seq.attend` computes them."""
    for number, (lengths, steps, d, v) in enumerate(ATTENTION_CASES, start=1):
        query, keys, values, mask = _attention_case(number, lengths, steps, d, v)
        label = (f"Case {number} (batch {len(lengths)}, steps {steps}, source lengths {list(lengths)} padded to "
                 f"{mask.shape[1]}, d {d}, d_v {v})")
        with in_case(label):
            result = call(attend, query, keys, values, mask, signature=ATTENTION_SIGNATURE,
                          shape_hint="query (batch, steps, d), keys (batch, source_length, d), values (batch, "
                                     "source_length, d_v), mask (batch, source_length).")
            parts = unpack(result, ("context", "weights"), "return context, weights")
            context, weights = (tensor(f"`{name}`", part) for name, part in zip(("context", "weights"), parts))
            expected = seq2seq.attend(query, keys, values, mask)
            if context.shape == expected[1].shape and weights.shape == expected[0].shape != expected[1].shape:
                raise Mistake("You returned (weights, context): return context, weights, in that order.")
            arrays = (query.detach(), keys.detach(), values.detach(), mask)
            mistakes = [(message, weighted(*arrays, **keywords)) for message, keywords in ATTENTION_MISTAKES]
            at_step = element("batch", "step", "source position")
            judge("`weights`", weights, expected[1], [(message, wrong[1]) for message, wrong in mistakes],
                  ATTENTION_HINT, at_step)
            padded = weights.detach()[(~mask)[:, None].expand_as(weights)]
            if padded.abs().max() > 0:
                raise Mistake(f"Padding got a weight of {padded.abs().max().item():.3g}: close to 0, but not 0. Fill "
                              "the padded scores with float('-inf'), so that exp gives exactly 0.")
            judge("`context`", context, expected[0], hint="context = weights @ values: (batch, steps, d_v).",
                  where=element("batch", "step", "feature"))
            if query.requires_grad:
                expect_gradient("`context`", context, [query, keys, values], names=("query", "keys", "values"))
    return ("Your attention equals the course's on 3 cases: padding gets weight exactly 0, each row sums to 1, and the "
            "gradient reaches the query, the keys and the values.")


# ----------------------------------------------------------------------------- Exercise 2: the greedy decoding loop
GREEDY_SIGNATURE = "greedy_decode(model, source, lengths, start_id, end_id, max_length)"
# (source lengths, max_length, seed): rows that end at different steps (the last row last, then the first row last),
# batch 1, rows cut at max_length
GREEDY_CASES = (((4, 7, 2), 6, 2), ((6, 3, 5), 6, 3), ((5,), 5, 4), ((3, 6), 4, 10))
SOURCE_VOCAB, TARGET_VOCAB = 11, 9


def decoded(model, source, lengths, start_id, end_id, max_length, feed_back=True, carry_state=True):
    """The greedy ids ``(batch, steps)``, with the typical mistakes of the loop switched off by the keywords."""
    initial, memory = model.encode(source, lengths)
    state, previous = initial, torch.full((len(source), 1), start_id)
    written, finished = [], torch.zeros(len(source), dtype=torch.bool)
    for _ in range(max_length):
        logits, new_state, _ = model.decode(previous, state if carry_state else initial, memory)
        state, best = new_state, logits[:, -1].argmax(dim=-1, keepdim=True)
        previous = best if feed_back else previous
        written.append(best)
        finished |= best[:, 0] == end_id
        if finished.all():
            break
    return torch.cat(written, dim=1)


def _greedy_case(lengths, max_length, seed):
    """A random Seq2Seq with attention, a batch of random sources, and the end_id it writes in one row early on."""
    with own_random(seed):
        model = seq2seq.Seq2Seq(SOURCE_VOCAB, TARGET_VOCAB, embedding_dim=5, encoder_hidden=4, decoder_hidden=6).eval()
        for parameter in model.parameters():  # larger than at initialisation, so that each step's input matters
            nn.init.normal_(parameter, std=1.5)
        source = torch.randint(1, SOURCE_VOCAB, (len(lengths), max(lengths)))
    lengths = torch.tensor(lengths)
    source = source.masked_fill(torch.arange(source.shape[1])[None] >= lengths[:, None], seq2seq.PAD_ID)
    start_id = 1
    with torch.no_grad():  # a symbol row 0 writes at step 3 and not before: the end, so that the rows end apart
        written = decoded(model, source, lengths, start_id, -1, max_length)[0].tolist()
    end_id = next((symbol for symbol in written[2:] if symbol not in written[:2]), TARGET_VOCAB - 1)
    return model, source, lengths, start_id, end_id


def _rows(ids, end_id):
    """Each row up to its first ``end_id``, included: what a translation reads."""
    rows = []
    for row in ids.tolist():
        rows.append(row[:row.index(end_id) + 1] if end_id in row else row)
    return rows


GREEDY_MISTAKES = (
    ("Every step was fed <start> again: feed back the character just written, previous = the argmax of this step.",
     dict(feed_back=False)),
    ("Every step started from the encoder's state again: carry the state decode returns to the next step.",
     dict(carry_state=False)),
)


def _greedy_mistake(got, model, args, expected):
    """What a known mistake of the loop says about the rows ``got``, or None."""
    start_id, end_id = args[2], args[3]
    if all(row[:1] == [start_id] and row[1:] == right[:len(row) - 1] for row, right in zip(got, expected)):
        return "Your rows begin with <start>: it is the first input, not a character written. Return what was written."
    with torch.no_grad():
        for message, keywords in GREEDY_MISTAKES:
            if got == _rows(decoded(model, *args, **keywords), end_id) != expected:
                return message
    if all(right[:len(row)] == row and len(row) < len(right) for row, right in zip(got, expected) if row != right):
        return ("A row stopped before its <end>: stop only when every row has written <end> (or at max_length); a "
                "row that ended may go on writing, what follows its <end> is not read.")
    return None


@check("The greedy decoding loop", refuse=(seq2seq.greedy_decode, seq2seq.beam_search, seq2seq.Translator, decoded),
       instead="Write the loop yourself, with model.encode and model.decode.")
def check_greedy_decode(greedy_decode):
    """``greedy_decode(model, source, lengths, start_id, end_id, max_length) -> ids (batch, steps)``, read up to each
    row's first end_id, as `seq2seq.greedy_decode` writes them."""
    for number, (lengths, max_length, seed) in enumerate(GREEDY_CASES, start=1):
        model, source, lengths, start_id, end_id = _greedy_case(lengths, max_length, seed)
        args = (source, lengths, start_id, end_id, max_length)
        with in_case(f"Case {number} (batch {len(lengths)}, source lengths {lengths.tolist()}, max_length "
                     f"{max_length}, start_id {start_id}, end_id {end_id})"):
            with torch.no_grad():
                result = call(greedy_decode, model, *args, signature=GREEDY_SIGNATURE)
            ids = tensor("The ids", result)
            if ids.dim() != 2 or ids.shape[0] != len(lengths):
                raise Mistake(f"The ids should be (batch, steps) = ({len(lengths)}, steps), got {tuple(ids.shape)}: "
                              "one row per source, one column per step (torch.cat the steps' (batch, 1) along dim 1).")
            if ids.dtype != torch.long:
                raise Mistake(f"The ids should be integers (torch.long), got {ids.dtype}: keep the argmax's ids.")
            if ids.shape[1] > max_length:
                raise Mistake(f"{ids.shape[1]} steps written, more than max_length = {max_length}: stop there even "
                              "when a row has not written <end>; each step adds one column, its ids (batch, 1).")
            expected = _rows(seq2seq.greedy_decode(model, source, lengths, start_id, end_id, max_length)[0], end_id)
            got = _rows(ids, end_id)
            if got != expected:
                row = next(k for k, (mine, right) in enumerate(zip(got, expected)) if mine != right)
                said = f"Row {row}: expected {expected[row]}, got {got[row]}."
                raise Mistake(f"{said} {_greedy_mistake(got, model, args, expected) or GREEDY_HINT}")
    return ("Your loop writes what the course's greedy decoding writes, row by row up to each <end>, on 4 random "
            "models: rows that end at different steps, batch 1, and rows cut at max_length.")


GREEDY_HINT = ("Encode once; then from previous = <start> (batch, 1), call decode, take the argmax of the last step, "
               "append it, feed it back, and carry the state; stop when every row has written <end> or at max_length.")

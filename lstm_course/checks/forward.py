"""Checks for notebook 03: ``lstm_forward``, the reverse direction and two stacked layers, in float64 on sizes the notebook does not use,
against the checks' one LSTM (`reference.sequence`, equal to ``nn.LSTM``) and its typical mistakes; autograd must reach the weights."""

import torch
from torch import nn
from torch.utils._pytree import tree_leaves

from lstm_course import fast_lstm, hand_lstm, numpy_lstm
from lstm_course.checks import reference
from lstm_course.checks.judge import Mistake, call, check, expect_gradient, in_case, judge, own_random, same, tensor, unpack

# The exercises ask for the LSTM by hand: the course's LSTMs, the checks' own and PyTorch's are refused.
REFUSED = (hand_lstm, fast_lstm, numpy_lstm.lstm_forward, numpy_lstm.lstm_cell, numpy_lstm.gate_values, reference,
           nn.LSTM, nn.LSTMCell, torch.lstm, torch.lstm_cell)
# Stacking asks for the stack, not the layer: the course's one layer is allowed, its stacked LSTMs are not.
STACKS_REFUSED = (hand_lstm.HandLSTM, fast_lstm, reference, nn.LSTM, torch.lstm)
# (batch, seq, input_size, hidden), none of them the notebook's: batch 1, seq 1, hidden 1 and input_size != hidden among them
SIZES = [(2, 5, 3, 4), (1, 4, 2, 3), (2, 1, 4, 2), (2, 3, 3, 1)]
TWO_LAYER_SIZES = [(2, 4, 3, 3), (1, 3, 2, 4), (3, 1, 4, 2)]  # the first with input_size == hidden, where mistakes compute silently
SHAPES = ("Check each product's shapes: w_ih is (4 * hidden, input_size) and w_hh is (4 * hidden, hidden), "
          "so the inputs meet w_ih.T and h meets w_hh.T, as in the equations.")
TWO_LAYERS = ("Layer 0's w_ih is (4 * hidden, input_size), layer 1's is (4 * hidden, hidden): layer 1 reads layer 0's output. "
              "h_0 and c_0 are (2, batch, hidden): layer k starts from h_0[k] and c_0[k].")
FLOAT32 = ("{} agrees only to float32 precision: somewhere your function computes in float32 (a tensor made with torch.zeros(...) or "
           "torch.tensor(...) without dtype=, or .float()). Keep the input's dtype, float64 here: torch.zeros_like(...) or dtype=input.dtype.")


def _judge_all(got, expected, mistakes, hint, first):
    """``got``, ``expected``: ``(output, h_n, c_n)``; ``mistakes``: ``(message, output)``; ``first``: the first step's time index."""
    (output, h_n, c_n), (batch, seq, hidden) = expected, expected[0].shape
    float32 = lambda name, got, want: [(FLOAT32.format(name), got)] * (got.dtype == torch.float64 and same(got.float(), want))  # noqa: E731
    judge("`output`", got[0], output, [
        (f"`output` is (seq, batch, hidden) = {(seq, batch, hidden)}; nn.LSTM(batch_first=True) returns (batch, seq, hidden): "
         "stack the steps along dim 1.", output.transpose(0, 1)),
        ("`output` holds the right numbers in the wrong places: reshape and view do not swap dims; stack the steps along dim 1.",
         output.transpose(0, 1).reshape(batch, seq, hidden)),
        ("`output` is in reversed time order: output[:, t] must be the h computed at input step t.", output.flip(1)),
        *mistakes, *float32("`output`", got[0], output)], hint, lambda k: f"at batch {k[0]}, time step {k[1]}, unit {k[2]}")
    for name, value, right, other, other_value in (("h_n", got[1], h_n, "c_n", c_n), ("c_n", got[2], c_n, "h_n", h_n)):
        mistakes = [(f"`{name}` holds {other}: return output, (h_n, c_n) in that order.", other_value), *float32(f"`{name}`", value, right)]
        if len(right) == 1:  # one layer
            mistakes += [("Add the leading dim of the layer, (1, batch, hidden), as nn.LSTM returns it.", right[0])] + [
                (f"`h_n` is the h of the first step computed, output[:, {first}]; it should be the state after the last one, "
                 f"output[:, {-1 - first}].", output[None, :, first])] * (name == "h_n")
        else:
            mistakes += [*((f"`{name}` holds only layer {k}'s final state: nn.LSTM returns one per layer, (2, batch, hidden), layer 0 "
                            "first.", answer) for k in (0, 1) for answer in (right[k], right[k:k + 1])),
                         (f"`{name}` has a dim too many: join the layers' (1, batch, hidden) states along dim 0 (torch.cat).", right[:, None]),
                         (f"`{name}` has the layers in the wrong order: {name}[0] is layer 0's final state, {name}[1] layer 1's.", right.flip(0))]
        judge(f"`{name}`", value, right, mistakes, where=lambda k: f"at layer {k[0]}, batch {k[1]}, unit {k[2]}")


class _InputProjections(torch.overrides.TorchFunctionMode):
    """Counts the torch operations that combine w_ih with anything but the weights: the input projections. A tensor made from the weights alone
    (a view, a copy, ``w_ih.T``, ``torch.cat([w_ih, w_hh], 1)``) stands for them; tensors are told apart by ``untyped_storage().data_ptr()``."""
    memory = staticmethod(lambda t: t.untyped_storage().data_ptr())

    def __init__(self, weights):
        super().__init__()
        self.count, self.kept, self.weights, self.from_w_ih = 0, list(weights), set(map(self.memory, weights)), {self.memory(weights[0])}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        given = {self.memory(t) for t in tree_leaves((args, kwargs)) if torch.is_tensor(t)}
        made = [t for t in tree_leaves(result) if torch.is_tensor(t)]
        if given and given <= self.weights:  # made from the weights alone: it stands for them
            self.kept += made  # alive meanwhile, so that no other tensor takes their memory
            (self.from_w_ih if given & self.from_w_ih else set()).update(map(self.memory, made))
            self.weights.update(map(self.memory, made))
        self.count += bool(given & self.from_w_ih and not given <= self.weights)
        return result


def _run(function, signature, sizes, outcome, hint, shape_hint=SHAPES, first=0):
    """Judge ``function`` on a case of each size against ``outcome(x, h_0, c_0, weights) -> (expected, mistakes)``; its input projections."""
    layers, counts, how = 1 + signature.startswith("two"), {}, "return output, (h_n, c_n)"
    for number, (batch, seq, input_size, hidden) in enumerate(sizes, start=1):
        grad = number == len(sizes)
        with own_random(100 * layers + number):
            x, (h_0, c_0) = torch.randn(batch, seq, input_size, dtype=torch.float64), torch.randn(2, layers, batch, hidden, dtype=torch.float64)
            weights = [tuple((0.5 * torch.randn(*shape, dtype=torch.float64)).requires_grad_(grad) for shape in ((4 * hidden, hidden if layer
                             else input_size), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,))) for layer in range(layers)]
        arguments = (x, (h_0, c_0), *weights) if layers == 2 else (x, (h_0[0], c_0[0]), *weights[0])
        with in_case(f"Case {number} (batch {batch}, seq {seq}, input_size {input_size}, hidden {hidden}{'; weights that require grad' * grad})"):
            with _InputProjections(weights[0]) as projections:
                output, states = unpack(call(function, *arguments, signature=signature, shape_hint=shape_hint), ("output", "(h_n, c_n)"), how)
            got = [tensor(f"`{name}`", value) for name, value in zip(("output", "h_n", "c_n"), (output, *unpack(states, ("h_n", "c_n"), how)))]
            _judge_all(got, *outcome(x, h_0, c_0, weights), hint, first)
            if grad:
                expect_gradient("`output`", output, [w for layer in weights for w in layer])
        counts[batch, seq] = projections.count
    return counts


def _one_layer(x, h_0, c_0, weights, reverse=False):
    """One layer's ``(output, h_n, c_n)`` and what its typical mistakes give (in reverse: walking forwards first)."""
    run = lambda walk=reverse, **keywords: reference.sequence(x, h_0[0], c_0[0], *weights[0], reverse=walk, **keywords)  # noqa: E731
    forwards = [("You walked forwards in time: the reverse direction goes from the last step, t = seq - 1, down to t = 0.", {"walk": False})]
    mistakes = ((message.replace("output[:, 0] is h_0", "output[:, seq - 1] is h_0") if reverse else message, run(**keywords)[0])
                for message, keywords in forwards * reverse + list(reference.STEP_MISTAKES + reference.LOOP_MISTAKES))
    output, h, c, _ = run()
    return (output, h[None], c[None]), mistakes


@check("Write lstm_forward", refuse=REFUSED)
def check_lstm_forward(lstm_forward):
    """``lstm_forward(input, (h_0, c_0), w_ih, w_hh, b_ih, b_hh)`` -> ``output, (h_n, c_n)`` as nn.LSTM(batch_first=True),
    in the clean form: in each case `_InputProjections` (a TorchFunctionMode) counts the torch operations that combine w_ih
    (or a view, a copy, a join of it with the other weights) with anything else, the input. A clean answer does as many
    for seq 1 (case 3) as for seq 5 (case 1, the same batch); one that projects each step's input inside the loop does more."""
    counts = _run(lstm_forward, "lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh)", SIZES, _one_layer,
                  "`output` is (batch, seq, hidden), the h of every step. Compare your loop with the equations, one step at a time.")
    if counts[(2, 5)] > counts[(2, 1)]:
        raise Mistake(f"Your lstm_forward computes the input projection inside the loop: w_ih meets the input in {counts[(2, 1)]} torch "
                      f"operation(s) for a sequence of 1 step and in {counts[(2, 5)]} for 5 steps. Compute input @ w_ih.T + b_ih + b_hh "
                      "once, before the loop: (batch, seq, 4 * hidden); step t reads x_proj[:, t], and only h @ w_hh.T waits for the previous step.")
    return "Your lstm_forward equals nn.LSTM on 4 new sizes, projects the inputs once, before the loop, and lets autograd reach the weights."


@check("Run the sequence backwards", refuse=REFUSED)
def check_lstm_forward_reverse(lstm_forward_reverse):
    """lstm_forward's arguments and results, as the reverse half of a bidirectional nn.LSTM; the clean form is not asked again."""
    _run(lstm_forward_reverse, "lstm_forward_reverse(input, initial_states, w_ih, w_hh, b_ih, b_hh)", SIZES, lambda *case: _one_layer(*case, True),
         "Compare your loop with lstm_forward's, one step at a time: only the order of the steps differs.", first=-1)
    return "Your loop matches the reverse half of a bidirectional nn.LSTM, and lets autograd reach the weights."


def _two_layers(x, h_0, c_0, weights):
    """A 2-layer stack's ``(output, h_n, c_n)``; what the mistakes of stacking give, then those of one layer made in both."""
    (w0, w1), run = weights, lambda *args, **keywords: reference.sequence(*args, **keywords)[0]  # noqa: E731
    out0, h0, c0, _ = reference.sequence(x, h_0[0], c_0[0], *w0)
    output, h1, c1, _ = reference.sequence(out0, h_0[1], c_0[1], *w1)

    def mistakes():
        if x.shape[-1] == w1[0].shape[-1]:  # these two only compute when input_size == hidden
            yield "Layer 1 read the input instead of layer 0's output: feed layer 0's output to layer 1.", run(x, h_0[1], c_0[1], *w1)
            yield "Layer 1 used layer 0's weights: layer 1 has its own, weights_layer1.", run(out0, h_0[1], c_0[1], *w0)
        yield "Layer 1 started from h_0[0], c_0[0]: layer k starts from h_0[k] and c_0[k].", run(out0, h_0[0], c_0[0], *w1)
        yield "Layer 1 started from layer 0's final state: layer k starts from its own initial state, h_0[k] and c_0[k].", run(out0, h0, c0, *w1)
        yield "`output` is layer 0's output: the stack's output is the top layer's, layer 1's.", out0
        for message, keywords in reference.STEP_MISTAKES + reference.LOOP_MISTAKES:
            yield message, run(run(x, h_0[0], c_0[0], *w0, **keywords), h_0[1], c_0[1], *w1, **keywords)
    return (output, torch.stack([h0, h1]), torch.stack([c0, c1])), mistakes()


@check("Stack two layers", refuse=STACKS_REFUSED)
def check_two_layer_forward(two_layer_forward):
    """``two_layer_forward(input, (h_0, c_0), weights_layer0, weights_layer1)`` -> ``output, (h_n, c_n)`` as a 2-layer
    nn.LSTM(batch_first=True), the states ``(2, batch, hidden)``; it may call ``lstm_course.lstm_forward`` for each layer."""
    _run(two_layer_forward, "two_layer_forward(input, initial_states, weights_layer0, weights_layer1)", TWO_LAYER_SIZES, _two_layers,
         TWO_LAYERS, TWO_LAYERS)
    return "Your two layers equal a 2-layer nn.LSTM on sizes you had not seen, and let autograd reach the weights."

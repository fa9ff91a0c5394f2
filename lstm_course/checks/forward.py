"""Checks for notebook 03: ``lstm_forward``, the reverse direction and two stacked layers.

In float64, on sizes the notebook does not use, against the checks' one LSTM (`reference.sequence`,
equal to ``nn.LSTM``) and its typical mistakes; autograd must reach the weights.
"""

import functools

import torch
from torch import nn
from torch.utils._pytree import tree_leaves

from lstm_course import fast_lstm, hand_lstm, numpy_lstm
from lstm_course.checks import reference
from lstm_course.checks.judge import (Mistake, call, check, element, expect_gradient, in_case, judge, own_random,
                                      same, tensor, unpack)

# The exercises ask for the LSTM by hand: the course's LSTMs, the checks' own and PyTorch's are refused.
REFUSED = (hand_lstm, fast_lstm, numpy_lstm.lstm_forward, numpy_lstm.lstm_cell, numpy_lstm.gate_values, reference,
           nn.LSTM, nn.LSTMCell, torch.lstm, torch.lstm_cell, torch.ops.aten.lstm, torch.ops.aten.lstm_cell)
# Stacking asks for the stack, not the layer: the course's one layer is allowed, its stacked LSTMs are not.
STACKS_REFUSED = (hand_lstm.HandLSTM, fast_lstm, reference, nn.LSTM, torch.lstm, torch.ops.aten.lstm)
# (batch, seq, input_size, hidden), none of them the notebook's: batch 1, seq 1, hidden 1 and input_size != hidden
SIZES = [(2, 5, 3, 4), (1, 4, 2, 3), (2, 1, 4, 2), (2, 3, 3, 1)]
# the first with input_size == hidden, where some mistakes run without an error
TWO_LAYER_SIZES = [(2, 4, 3, 3), (1, 3, 2, 4), (3, 1, 4, 2)]
SHAPES = ("Check each product's shapes: w_ih is (4 * hidden, input_size) and w_hh is (4 * hidden, hidden), "
          "so the inputs meet w_ih.T and h meets w_hh.T, as in the equations.")
TWO_LAYERS = ("Layer 0's w_ih is (4 * hidden, input_size), layer 1's is (4 * hidden, hidden): layer 1 reads layer 0's "
              "output. h_0 and c_0 are (2, batch, hidden): layer k starts from h_0[k] and c_0[k].")
FLOAT32 = ("{} agrees only to float32 precision: somewhere your function computes in float32 (a tensor made with "
           "torch.zeros(...) or torch.tensor(...) without dtype=, or .float()). Keep the input's dtype, float64 here: "
           "torch.zeros_like(...) or dtype=input.dtype.")
RETURN = "return output, (h_n, c_n)"
WEIGHT_NAMES = ("w_ih", "w_hh", "b_ih", "b_hh")


# ----------------------------------------------------------------------------- the judgement, alike for the three
def _float32_mistake(name, got, expected):
    """``[(FLOAT32 message, got)]`` when the float64 ``got`` equals ``expected`` at float32 precision only, else []."""
    if got.dtype == torch.float64 and same(got.float(), expected):
        return [(FLOAT32.format(name), got)]
    return []


def _layout_mistakes(output):
    """(message, answer) of the layout mistakes of ``output`` (batch, seq, hidden)."""
    batch, seq, hidden = output.shape
    return [
        (f"`output` is (seq, batch, hidden) = {(seq, batch, hidden)}; nn.LSTM(batch_first=True) returns (batch, seq, "
         "hidden): stack the steps along dim 1.", output.transpose(0, 1)),
        ("`output` holds the right numbers in the wrong places: reshape and view do not swap dims; stack the steps "
         "along dim 1.", output.transpose(0, 1).reshape(batch, seq, hidden)),
        ("`output` is in reversed time order: output[:, t] must be the h computed at input step t.", output.flip(1)),
    ]


def _state_mistakes(name, got, right, other, other_right, output, first):
    """(message, answer) of the mistakes of a final state ``name``, h_n or c_n, ``right`` (layers, batch, hidden)."""
    mistakes = [(f"`{name}` holds {other}: return output, (h_n, c_n) in that order.", other_right)]
    mistakes += _float32_mistake(f"`{name}`", got, right)
    if len(right) == 1:  # one layer
        mistakes.append(("Add the leading dim of the layer, (1, batch, hidden), as nn.LSTM returns it.", right[0]))
        if name == "h_n":
            mistakes.append((f"`h_n` is the h of the first step computed, output[:, {first}]; it should be the state "
                             f"after the last one, output[:, {-1 - first}].", output[None, :, first]))
        return mistakes
    for layer in (0, 1):
        for answer in (right[layer], right[layer:layer + 1]):
            mistakes.append((f"`{name}` holds only layer {layer}'s final state: nn.LSTM returns one per layer, "
                             "(2, batch, hidden), layer 0 first.", answer))
    mistakes.append((f"`{name}` has a dim too many: join the layers' (1, batch, hidden) states along dim 0 "
                     "(torch.cat).", right[:, None]))
    mistakes.append((f"`{name}` joins the layers along dim 1, the batch: join their (1, batch, hidden) states along "
                     "dim 0.", torch.cat([*right], dim=0)[None]))
    mistakes.append((f"`{name}` has the layers in the wrong order: {name}[0] is layer 0's final state, {name}[1] "
                     "layer 1's.", right.flip(0)))
    return mistakes


def _judge_all(got, expected, mistakes, hint, first):
    """Judge ``got`` ``(output, h_n, c_n)``, each with the mistakes that could give it; ``first``: step 1's index."""
    output, h_n, c_n = expected
    output_mistakes = [*_layout_mistakes(output), *mistakes, *_float32_mistake("`output`", got[0], output)]
    judge("`output`", got[0], output, output_mistakes, hint, element("batch", "time step", "unit"))
    for name, value, right, other, other_right in (("h_n", got[1], h_n, "c_n", c_n), ("c_n", got[2], c_n, "h_n", h_n)):
        state_mistakes = _state_mistakes(name, value, right, other, other_right, output, first)
        judge(f"`{name}`", value, right, state_mistakes, where=element("layer", "batch", "unit"))


def _memory(value):
    """Where a tensor's data lives: a view shares it with the tensor it views. A tensor without storage: itself."""
    try:
        return value.untyped_storage().data_ptr()
    except (NotImplementedError, RuntimeError):  # a tensor of torch.vmap or torch.func
        return id(value)


def _tensors(tree):
    """The tensors among the leaves of ``tree`` (arguments, results)."""
    return [leaf for leaf in tree_leaves(tree) if torch.is_tensor(leaf)]


class _InputProjections(torch.overrides.TorchFunctionMode):
    """Counts the torch operations that combine w_ih, or a tensor made from the weights alone (``w_ih.T``, a copy,
    ``torch.cat([w_ih, w_hh], 1)``), with anything else: the input projections. Tensors are known by their memory."""

    def __init__(self, weights):
        super().__init__()
        self.count = 0
        self.kept = list(weights)  # alive meanwhile, so that no other tensor takes their memory
        self.weights = {_memory(weight) for weight in weights}  # and what was made from them alone
        self.from_w_ih = {_memory(weights[0])}  # and what was made from it and the other weights alone

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        given = {_memory(value) for value in _tensors((args, kwargs))}
        if given and given <= self.weights:  # made from the weights alone: it stands for them
            made = _tensors(result)
            self.kept += made
            if given & self.from_w_ih:
                self.from_w_ih.update(map(_memory, made))
            self.weights.update(map(_memory, made))
        elif given & self.from_w_ih:
            self.count += 1
        return result


def _random_weights(layers, input_size, hidden, requires_grad):
    """Each layer's ``(w_ih, w_hh, b_ih, b_hh)`` in float64, drawn from the current random state."""
    shapes = [((4 * hidden, hidden if layer else input_size), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,))
              for layer in range(layers)]
    return [tuple((0.5 * torch.randn(*shape, dtype=torch.float64)).requires_grad_(requires_grad) for shape in layer)
            for layer in shapes]


def _run(function, signature, sizes, outcome, hint, shape_hint=SHAPES, first=0):
    """Judge ``function`` on each size against ``outcome(x, h_0, c_0, weights) -> (expected, mistakes)``.

    Returns ``{(batch, seq): how many input projections the answer computed}``.
    """
    layers, counts = 1 + signature.startswith("two"), {}
    for number, (batch, seq, input_size, hidden) in enumerate(sizes, start=1):
        grad = number == len(sizes)  # the last case's weights require grad
        with own_random(100 * layers + number):
            x = torch.randn(batch, seq, input_size, dtype=torch.float64)
            h_0, c_0 = torch.randn(2, layers, batch, hidden, dtype=torch.float64)
            weights = _random_weights(layers, input_size, hidden, grad)
        arguments = (x, (h_0, c_0), *weights) if layers == 2 else (x, (h_0[0], c_0[0]), *weights[0])
        sizes_text = f"batch {batch}, seq {seq}, input_size {input_size}, hidden {hidden}"
        with in_case(f"Case {number} ({sizes_text}{'; weights that require grad' * grad})"):
            with _InputProjections(weights[0]) as projections:
                result = call(function, *arguments, signature=signature, shape_hint=shape_hint)
                output, states = unpack(result, ("output", "(h_n, c_n)"), RETURN)
            h_n, c_n = unpack(states, ("h_n", "c_n"), RETURN)
            got = [tensor(f"`{name}`", value) for name, value in zip(("output", "h_n", "c_n"), (output, h_n, c_n))]
            expected, mistakes = outcome(x, h_0, c_0, weights)
            _judge_all(got, expected, mistakes, hint, first)
            if grad:
                names = [f"{name}{f' of layer {k}' * (layers == 2)}" for k in range(layers) for name in WEIGHT_NAMES]
                parameters = [weight for layer in weights for weight in layer]
                expect_gradient("`output`", output, parameters, names=names, expected=expected[0])
        counts[batch, seq] = projections.count
    return counts


# ----------------------------------------------------------------------------- Exercises 1 and 2: one layer, both ways
def _output_of(*args, **mistake):
    """The output of `reference.sequence`, with one mistake switched on by ``mistake``."""
    return reference.sequence(*args, **mistake)[0]


def _one_layer(x, h_0, c_0, weights, reverse=False):
    """One layer's ``(output, h_n, c_n)`` and what its typical mistakes give (in reverse: walking forwards first)."""
    args = (x, h_0[0], c_0[0], *weights[0])

    def mistakes():
        if reverse:
            yield ("You walked forwards in time: the reverse direction goes from the last step, t = seq - 1, down to "
                   "t = 0.", _output_of(*args))
        for message, keywords in reference.STEP_MISTAKES + reference.LOOP_MISTAKES:
            if reverse:
                message = message.replace("output[:, 0] is h_0", "output[:, seq - 1] is h_0")
            yield message, _output_of(*args, reverse=reverse, **keywords)

    output, h_n, c_n, _ = reference.sequence(*args, reverse=reverse)
    return (output, h_n[None], c_n[None]), mistakes()


@check("Write lstm_forward", refuse=REFUSED)
def check_lstm_forward(lstm_forward):
    """``lstm_forward(input, (h_0, c_0), w_ih, w_hh, b_ih, b_hh) -> output, (h_n, c_n)`` as nn.LSTM, in the clean form.

    In each case `_InputProjections` counts the torch operations that combine w_ih (or a view, a copy, a join of it
    with the other weights) with anything else: a clean answer does as many for seq 1 (case 3) as for seq 5 (case 1,
    the same batch); one that projects each step's input inside the loop does more. Not told apart: weights joined
    into one matrix and the w_hh part sliced back out (its product with h is counted as a projection).
    """
    counts = _run(lstm_forward, "lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh)", SIZES, _one_layer,
                  "`output` is (batch, seq, hidden), the h of every step. Compare your loop with the equations, one "
                  "step at a time.")
    if counts[(2, 5)] > counts[(2, 1)]:
        raise Mistake(
            "Your lstm_forward computes the input projection inside the loop: the torch operations where w_ih "
            f"meets the input are {counts[(2, 1)]} for a sequence of 1 step and {counts[(2, 5)]} for 5 steps. "
            "Compute input @ w_ih.T + b_ih + b_hh once, before the loop: (batch, seq, 4 * hidden); step t reads "
            "x_proj[:, t], and only h @ w_hh.T waits for the previous step."
        )
    return ("Your lstm_forward equals nn.LSTM on 4 new sizes, projects the inputs once, before the loop, and lets "
            "autograd reach the weights.")


@check("Run the sequence backwards", refuse=REFUSED)
def check_lstm_forward_reverse(lstm_forward_reverse):
    """lstm_forward's arguments and results, as the reverse half of a bidirectional nn.LSTM (not the clean form)."""
    _run(lstm_forward_reverse, "lstm_forward_reverse(input, initial_states, w_ih, w_hh, b_ih, b_hh)", SIZES,
         functools.partial(_one_layer, reverse=True),
         "Compare your loop with lstm_forward's, one step at a time: only the order of the steps differs.", first=-1)
    return "Your loop matches the reverse half of a bidirectional nn.LSTM, and lets autograd reach the weights."


# ----------------------------------------------------------------------------- Exercise 3: two layers
def _two_layers(x, h_0, c_0, weights):
    """A 2-layer stack's ``(output, h_n, c_n)``, and what the mistakes of stacking and of a layer made in both give."""
    weights_layer0, weights_layer1 = weights
    layer0_output, layer0_h, layer0_c, _ = reference.sequence(x, h_0[0], c_0[0], *weights_layer0)
    output, layer1_h, layer1_c, _ = reference.sequence(layer0_output, h_0[1], c_0[1], *weights_layer1)

    def mistakes():
        if x.shape[-1] == weights_layer1[0].shape[-1]:  # these two only run when input_size == hidden
            yield ("Layer 1 read the input instead of layer 0's output: feed layer 0's output to layer 1.",
                   _output_of(x, h_0[1], c_0[1], *weights_layer1))
            yield ("Layer 1 used layer 0's weights: layer 1 has its own, weights_layer1.",
                   _output_of(layer0_output, h_0[1], c_0[1], *weights_layer0))
        yield ("Layer 1 started from h_0[0], c_0[0]: layer k starts from h_0[k] and c_0[k].",
               _output_of(layer0_output, h_0[0], c_0[0], *weights_layer1))
        yield ("Layer 1 started from layer 0's final state: layer k starts from its own initial state, h_0[k] and "
               "c_0[k].", _output_of(layer0_output, layer0_h, layer0_c, *weights_layer1))
        yield "`output` is layer 0's output: the stack's output is the top layer's, layer 1's.", layer0_output
        for message, keywords in reference.STEP_MISTAKES + reference.LOOP_MISTAKES:
            wrong_layer0 = _output_of(x, h_0[0], c_0[0], *weights_layer0, **keywords)
            yield message, _output_of(wrong_layer0, h_0[1], c_0[1], *weights_layer1, **keywords)

    states = (torch.stack([layer0_h, layer1_h]), torch.stack([layer0_c, layer1_c]))
    return (output, *states), mistakes()


@check("Stack two layers", refuse=STACKS_REFUSED)
def check_two_layer_forward(two_layer_forward):
    """``two_layer_forward(input, (h_0, c_0), weights_layer0, weights_layer1)`` as a 2-layer nn.LSTM.

    The answer may call ``lstm_course.lstm_forward`` for each layer.
    """
    _run(two_layer_forward, "two_layer_forward(input, initial_states, weights_layer0, weights_layer1)",
         TWO_LAYER_SIZES, _two_layers, TWO_LAYERS, TWO_LAYERS)
    return "Your two layers equal a 2-layer nn.LSTM on sizes you had not seen, and let autograd reach the weights."

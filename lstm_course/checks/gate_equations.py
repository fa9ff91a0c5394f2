"""Checks for notebook 01, the gate equations: one LSTM step, PyTorch's gate order, the parameter count."""

import itertools

import numpy as np
import torch
from torch import nn

from lstm_course import fast_lstm, hand_lstm, numpy_lstm, shapes
from lstm_course.checks import reference
from lstm_course.checks.judge import (Mistake, call, check, diagnose, element, expect_close, expect_finite,
                                      expect_shape, in_case, integer, judge, numbers, same, unpack)

# ----------------------------------------------------------------------------- Exercise 1: one LSTM step in NumPy

STEP_SIZES = ((1, 3, 2), (3, 4, 5), (2, 1, 3))  # (batch, input_size, hidden_size)
STEP_SHAPES = (
    "Shapes: x (batch, input_size), h and c (batch, hidden_size), w_ih (4 * hidden_size, input_size), "
    "w_hh (4 * hidden_size, hidden_size), so z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh is (batch, 4 * hidden_size)."
)
C_HINT = (
    "Hint: c_new = f * c + i * g, with i, f, o = sigmoid and g = tanh of the blocks of z in PyTorch's order i, f, g, o."
)
H_HINT = "`c` is right. Hint: h = o * tanh(c_new), with o = sigmoid of the last block of z."
BY_HAND = (numpy_lstm.lstm_cell, numpy_lstm.gate_values, numpy_lstm.lstm_forward, numpy_lstm._step, hand_lstm,
           fast_lstm, reference, nn.LSTMCell, nn.LSTM, torch.lstm_cell, torch.lstm, torch.ops.aten.lstm_cell)


def step_case(batch, input_size, hidden_size, seed):
    """Random arguments of ``lstm_step``, nothing zero, so that every mistake shows."""
    rng, rows, state = np.random.default_rng(seed), 4 * hidden_size, (batch, hidden_size)
    sizes = dict(x=(batch, input_size), h=state, c=state, w_ih=(rows, input_size), w_hh=(rows, hidden_size),
                 b_ih=rows, b_hh=rows)
    return {name: rng.normal(size=size) for name, size in sizes.items()}


def step_mistakes(args):
    """(what the learner did, the (h, c) that answer returns), lazily."""
    right = reference.step(**args)
    yield "You return (c, h); PyTorch's order is (h, c), as in `h_1, c_1 = cell(x, (h_0, c_0))`.", (right.c, right.h)
    for message, keywords in reference.STEP_MISTAKES:
        wrong = reference.step(**args, **keywords)
        yield message, (wrong.h, wrong.c)


@check("lstm_step: one LSTM step in NumPy", refuse=BY_HAND)
def check_lstm_step(lstm_step):
    """``lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh) -> (h, c)``, as ``numpy_lstm.lstm_cell`` computes them."""
    where = element("sample", "unit")
    for number, sizes in enumerate(STEP_SIZES, start=1):
        args = step_case(*sizes, seed=number)
        if number == 3:  # pre-activations far beyond exp's range: exp(z) / (1 + exp(z)) gives NaN there
            args["x"][0, 0] = 1000.0
        with in_case("Case {} (batch={}, input_size={}, hidden_size={})".format(number, *sizes)):
            signature = "lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh)"
            result = call(lstm_step, *args.values(), signature=signature, shape_hint=STEP_SHAPES)
            h_value, c_value = unpack(result, ("h", "c"), "return h, c")
            h, c = numbers("`h`", h_value), numbers("`c`", c_value)
            right = reference.step(**args)
            expect_shape("`h`", h, right.h.shape, STEP_SHAPES, axes="(batch, hidden_size)")
            expect_shape("`c`", c, right.c.shape, STEP_SHAPES, axes="(batch, hidden_size)")
            diagnosis = diagnose((h, c), (right.h, right.c), step_mistakes(args))
            expect_close("The new cell state `c`", c, right.c, diagnosis or C_HINT, where)
            expect_close("The new hidden state `h`", h, right.h, diagnosis or H_HINT, where)
    return "Your lstm_step matches numpy_lstm.lstm_cell on 3 random cases (batch up to 3, hidden_size up to 5)."


# ----------------------------------------------------------------------------- Exercise 2: the gate order, to PyTorch's

ORDER_CASES = ((2, 3), (3, 5), (2, None), (1, 2))  # (hidden_size, columns); columns None: a bias


def to_ifgo(w):
    """The right answer: the blocks of rows f, i, g, o of ``w`` as i, f, g, o."""
    f, i, g, o = np.split(np.asarray(w), 4)
    return np.concatenate([i, f, g, o])


def order_mistakes(w):
    """(what the learner did, what that answer returns), lazily: the blocks in another order, or one lost."""
    blocks = dict(zip(reference.DIAGRAM_ORDER, np.split(w, 4)))
    orders = (*map("".join, itertools.permutations("figo")), "iigo", "ffgo")  # the right one, ifgo, `diagnose` skips
    for order in orders:
        if order == "figo":
            message = ("The rows come back unchanged, in the diagram's order f, i, g, o. Swap the first two blocks of "
                       "hidden_size rows.")
        elif len(set(order)) < 4:
            message = (f"Your blocks hold {', '.join(order)}: the rows of {'f' if order[0] == 'i' else 'i'} are lost. "
                       "A swap like `w[:H], w[H:2*H] = w[H:2*H], w[:H]` copies through views of the same array, so "
                       "the second assignment reads rows the first one already overwrote. Build a new array with "
                       "np.concatenate, or index with a list of rows.")
        else:
            message = f"Your blocks come out as {', '.join(order)}; PyTorch's order is i, f, g, o."
        yield message, np.concatenate([blocks[gate] for gate in order])


@check("to_pytorch_order: f, i, g, o rows into i, f, g, o", refuse=(to_ifgo,),
       instead="Move the blocks of rows yourself.")
def check_to_pytorch_order(to_pytorch_order):
    """``to_pytorch_order(w) -> w`` with its blocks of rows f, i, g, o in PyTorch's order i, f, g, o."""
    for number, (hidden_size, columns) in enumerate(ORDER_CASES, start=1):
        shape = (4 * hidden_size,) if columns is None else (4 * hidden_size, columns)
        w = np.random.default_rng(number).normal(size=shape)
        kind = "bias" if columns is None else "weight"
        with in_case(f"Case {number}, a {kind} of shape {w.shape} (hidden_size={hidden_size})"):
            got = numbers("The result", call(to_pytorch_order, w, signature="to_pytorch_order(w)"))
            if got.shape != w.shape:
                raise Mistake(f"The result should have the shape of w, {w.shape}, got {got.shape}: reorder the rows; "
                              "don't drop, add or transpose any.")
            columns = (np.sort(values.reshape(len(w), -1), axis=0) for values in (got, w))
            if same(*columns):  # each column holds w's values in another order: rows moved, none changed
                hint = f"Move whole blocks of hidden_size = {hidden_size} rows (w.shape[0] // 4), not single rows."
            else:
                hint = "Copy the rows as they are; only their order changes."
            judge("The result", got, to_ifgo(w), order_mistakes(w), hint, reference.gate_row(hidden_size))
    return "Blocks of rows f, i, g, o come out as i, f, g, o, for weights and biases, hidden_size 1 to 3."


# ----------------------------------------------------------------------------- Exercise 3: nn.LSTM's parameter count

COUNT_CONFIGS = (  # (input_size, hidden_size, num_layers, bidirectional), simplest first
    (8, 64, 1, False), (3, 2, 1, False), (1, 1, 1, False), (10, 20, 2, False),
    (10, 20, 3, False), (10, 20, 1, True), (10, 20, 2, True), (300, 128, 3, True),
)
COUNT_SIGNATURE = "lstm_num_parameters(input_size, hidden_size, num_layers=1, bidirectional=False)"


def torch_num_parameters(input_size, hidden_size, num_layers=1, bidirectional=False):
    """What ``nn.LSTM`` really holds; built on the meta device: no memory, no random numbers drawn."""
    lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, device="meta")
    return sum(parameter.numel() for parameter in lstm.parameters())


def counted(input_size, hidden_size, num_layers=1, bidirectional=False, biases=2, gates=4, later_inputs=None,
            directions=None, layers=None, bias_directions=None):
    """The parameter count, with the learner's typical mistakes switched on by the keywords."""
    directions = (2 if bidirectional else 1) if directions is None else directions
    later_inputs = later_inputs or (lambda input_size, hidden_size: directions * hidden_size)
    total = 0
    for layer in range(num_layers if layers is None else layers):
        inputs = later_inputs(input_size, hidden_size) if layer else input_size
        weights = gates * hidden_size * (inputs + hidden_size)
        total += directions * weights + (bias_directions or directions) * biases * gates * hidden_size
    return total


# (what the learner did, keywords of `counted`); the configurations grow harder: the first one missed is named
COUNT_MISTAKES = (
    ("You count the biases once per layer: each direction has its own bias_ih and bias_hh (the `_reverse` ones), "
     "4 * hidden_size each.", {"bias_directions": 1}),
    ("You count one bias per gate; PyTorch has two, bias_ih and bias_hh, of 4 * hidden_size each (8 * hidden_size "
     "per layer and direction).", {"biases": 1}),
    ("You leave out the biases: bias_ih and bias_hh hold 4 * hidden_size numbers each.", {"biases": 0}),
    ("Each weight has 4 * hidden_size rows, one block per gate i, f, g, o: count 4 * hidden_size * (inputs + "
     "hidden_size) weights.", {"gates": 1}),
    ("You count one layer only: every layer has its own weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k} and "
     "bias_hh_l{k}.", {"layers": 1}),
    ("Layers after the first take the layer below's output as their input: hidden_size inputs (2 * hidden_size if "
     "bidirectional), not input_size.", {"later_inputs": lambda input_size, hidden_size: input_size}),
    ("With bidirectional=True a layer after the first takes both directions' outputs, 2 * hidden_size inputs, not "
     "hidden_size.", {"later_inputs": lambda input_size, hidden_size: hidden_size}),
    ("A bidirectional LSTM has a second full set of parameters per layer (the `_reverse` ones): multiply by 2 "
     "directions.", {"directions": 1}),
)
COUNT_HINT = (
    "Per layer and direction: weight_ih (4H, inputs), weight_hh (4H, H), bias_ih (4H), bias_hh (4H); layer 0 takes "
    "input_size inputs, later layers H (2H when bidirectional). Print [(n, p.shape) for n, p in "
    "nn.LSTM(...).named_parameters()] to compare."
)


@check("lstm_num_parameters: count an LSTM's parameters",
       refuse=(shapes, hand_lstm, nn.RNNBase, nn.LSTM, nn.LSTMCell, torch_num_parameters, counted),
       instead="Count with the formula, without building an LSTM.")
def check_lstm_num_parameters(lstm_num_parameters):
    """``lstm_num_parameters(input_size, hidden_size, num_layers=1, bidirectional=False) -> int``, as nn.LSTM holds."""
    for config in COUNT_CONFIGS:
        keywords = dict(zip(("input_size", "hidden_size", "num_layers", "bidirectional"), config))
        text = ", ".join(f"{name}={value}" for name, value in keywords.items())
        name = f"`lstm_num_parameters({text})`"
        result = call(lstm_num_parameters, **keywords, signature=COUNT_SIGNATURE)
        if isinstance(result, (float, np.floating)):  # NaN or inf named as such, with what usually makes one
            expect_finite(name, result)
        got, expected = integer(name, result), torch_num_parameters(*config)
        if got != expected:
            mistakes = ((message, counted(*config, **mistake)) for message, mistake in COUNT_MISTAKES)
            diagnosis = diagnose(got, expected, mistakes)
            counts = f"`nn.LSTM({text})` has {expected:,} parameters; your function says {got:,}."
            raise Mistake(f"{counts} {diagnosis or COUNT_HINT}")
    largest = torch_num_parameters(*COUNT_CONFIGS[-1])
    return f"Your counts match nn.LSTM for {len(COUNT_CONFIGS)} configurations, up to {largest:,} parameters."

"""Notebook 03: lstm_forward, the reverse direction, two stacked layers."""

import functools

import torch

import lstm_course
from lstm_course import HandLSTM, numpy_lstm
from lstm_course.checks import check_lstm_forward, check_lstm_forward_reverse, check_two_layer_forward
from lstm_course.hand_lstm import lstm_forward_tiled
from tests.check_answers import Answers
from tests.notebooks import notebook_definitions

forward_solution, reverse_solution, two_layer_solution = notebook_definitions(  # the notebook's solutions
    "03_lstm_forward", "lstm_forward", "lstm_forward_reverse", "two_layer_forward"
)


def lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh, order="ifgo", mistake=None, reverse=False):
    """The notebook's solution, with one typical mistake switched on by ``mistake``."""
    h, c = initial_states
    x_proj = (input @ w_ih if mistake == "transposed w_ih" else input @ w_ih.T) + b_ih
    x_proj = x_proj if mistake == "no b_hh" else x_proj + b_hh
    outputs = [None] * input.shape[1]
    steps = range(input.shape[1] + (mistake == "one step too far"))
    for t in reversed(steps) if reverse else steps:
        h_prev = initial_states[0] if mistake == "h reset" else h
        recurrent = 0 if mistake == "no recurrence" else h_prev @ w_hh.T
        gates = dict(zip(order, (x_proj[:, t] + recurrent).chunk(4, dim=1)))
        c = torch.sigmoid(gates["f"]) * c + torch.sigmoid(gates["i"]) * torch.tanh(gates["g"])
        h_new = torch.sigmoid(gates["o"]) * (c if mistake == "no tanh c" else torch.tanh(c))
        outputs[t] = h_prev if mistake == "output starts at h_0" else h_new
        h = h_new
    output = torch.stack(outputs, dim=0 if mistake == "seq first" else 1)
    if mistake == "reversed output":
        output = output.flip(1)
    h_n = h if mistake == "h_n without layer dim" else h[None]
    if mistake == "h_n from the end":
        h_n = output[None, :, -1]
    return output, (h_n, c[None])


def with_mistake(mistake=None, order="ifgo", reverse=False):
    return lambda input, initial_states, w_ih, w_hh, b_ih, b_hh: lstm_forward(
        input, initial_states, w_ih, w_hh, b_ih, b_hh, order=order, mistake=mistake, reverse=reverse)


def split_and_preallocate(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """Written another way: F.linear, torch.split, a preallocated output."""
    h, c = initial_states
    batch, seq, _ = input.shape
    hidden = w_hh.shape[1]
    x_proj = torch.nn.functional.linear(input, w_ih, b_ih + b_hh)  # (batch, seq, 4 * hidden)
    output = torch.empty(batch, seq, hidden, dtype=input.dtype)
    for t in range(seq):
        i, f, g, o = torch.split(x_proj[:, t] + h @ w_hh.T, hidden, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        output[:, t] = h
    return output, (h.unsqueeze(0), c.unsqueeze(0))


def gate_by_gate(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """Written another way: each gate's weights apart, the four input projections hoisted with einsum."""
    h, c = initial_states
    x_parts = [torch.einsum("bsi,ki->bsk", input, w) + b for w, b in zip(w_ih.chunk(4), (b_ih + b_hh).chunk(4))]
    outputs = []
    for t in range(input.shape[1]):
        i, f, g, o = (x[:, t] + h @ w.T for x, w in zip(x_parts, w_hh.chunk(4)))
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        outputs.append(h)
    return torch.stack(outputs, 1), (h[None], c[None])


def in_float32(input, initial_states, *weights):
    """Computed and returned in float32: judged at float32 tolerance."""
    return lstm_forward(input.float(), [s.float() for s in initial_states], *(w.float() for w in weights))


def float32_inside(input, initial_states, *weights):
    output, (h_n, c_n) = in_float32(input, initial_states, *weights)
    return output.double(), (h_n.double(), c_n.double())


def ignores_its_arguments(input, initial_states, *weights):
    """Computes with tensors of the notebook's sizes, not the ones it is given."""
    x, h = torch.ones(3, 5, 4, dtype=torch.float64), torch.zeros(3, 6, dtype=torch.float64)
    return lstm_forward(x, (h, h), torch.ones(24, 4, dtype=torch.float64), torch.ones(24, 6, dtype=torch.float64), *torch.zeros(2, 24))


def squeezes(input, initial_states, *weights):
    """Right where batch > 1; where batch is 1 its output loses a dim."""
    output, states = lstm_forward(input, initial_states, *weights)
    return output.squeeze(), states


def scales_w_hh(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    w_hh *= 0
    return lstm_forward(input, initial_states, w_ih, w_hh, b_ih, b_hh)


def projects_in_the_loop(input, initial_states, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """Right numbers, but each step's input projection computed inside the loop (a right answer for the reverse direction)."""
    h, c = initial_states
    output = torch.zeros(*input.shape[:2], w_hh.shape[1], dtype=input.dtype)
    for t in range(input.shape[1] - 1, -1, -1) if reverse else range(input.shape[1]):
        i, f, g, o = (input[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        output[:, t] = h
    return output, (h[None], c[None])


def joined_weights_in_the_loop(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """Right numbers, [x_t, h] @ [w_ih, w_hh].T at every step: the input projection is still inside the loop."""
    h, c = initial_states
    w, outputs = torch.cat([w_ih, w_hh], dim=1), []
    for t in range(input.shape[1]):
        i, f, g, o = (torch.cat([input[:, t], h], dim=1) @ w.T + b_ih + b_hh).chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        outputs.append(h)
    return torch.stack(outputs, 1), (h[None], c[None])


@torch.no_grad()
def under_no_grad(input, initial_states, *weights):
    return lstm_forward(input, initial_states, *weights)


def in_numpy(input, initial_states, *weights):
    """Right numbers, returned as NumPy arrays."""
    output, (h_n, c_n) = lstm_forward(input, initial_states, *weights)
    return output.detach().numpy(), (h_n.detach().numpy(), c_n.detach().numpy())


def with_nan(input, initial_states, *weights):
    output, states = lstm_forward(input, initial_states, *weights)
    return output * float("nan"), states


def in_a_wrapper(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    from lstm_course import lstm_forward as mine
    return mine(input, initial_states, w_ih, w_hh, b_ih, b_hh)


def nn_lstm_loaded(input, initial_states, w_ih, w_hh, b_ih, b_hh, reverse=False):
    """An nn.LSTM with the given weights loaded; reverse: the reverse half of a bidirectional one."""
    suffix = "_l0_reverse" if reverse else "_l0"
    lstm = torch.nn.LSTM(input.shape[-1], w_hh.shape[1], batch_first=True, bidirectional=reverse, dtype=input.dtype)
    with torch.no_grad():
        for name, weight in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (w_ih, w_hh, b_ih, b_hh)):
            getattr(lstm, name + suffix).copy_(weight)
    states = [torch.stack([s * 0, s]) if reverse else s[None] for s in initial_states]
    output, (h_n, c_n) = lstm(input, tuple(states))
    hidden = w_hh.shape[1]
    return (output[..., hidden:], (h_n[1:], c_n[1:])) if reverse else (output, (h_n, c_n))


def numpy_twin(input, initial_states, *weights):
    """The package's NumPy LSTM, converted back to tensors."""
    output, (h_n, c_n) = numpy_lstm.lstm_forward(input.numpy(), *(s.numpy() for s in initial_states), *(w.detach().numpy() for w in weights))
    return torch.from_numpy(output), (torch.from_numpy(h_n), torch.from_numpy(c_n))


def flip_run_flip(input, initial_states, *weights):
    """Written another way: run forwards over the flipped sequence, flip the output back."""
    output, states = lstm_forward(input.flip(1), initial_states, *weights)
    return output.flip(1), states


def course_flip_run_flip(input, initial_states, *weights):
    output, states = lstm_course.lstm_forward(input.flip(1), initial_states, *weights)
    return output.flip(1), states


def two_layer_forward(input, initial_states, weights_layer0, weights_layer1, mistake=None, forward=lstm_forward):
    """The notebook's solution (it calls the learner's own lstm_forward), with one typical mistake switched on by ``mistake``."""
    h_0, c_0 = initial_states  # (2, batch, hidden) each
    output0, (h_n0, c_n0) = forward(input, (h_0[0], c_0[0]), *weights_layer0)
    layer1_input = input if mistake == "input to layer 1" else output0
    layer1_weights = weights_layer0 if mistake == "layer 0 weights twice" else weights_layer1
    start = (h_n0[0], c_n0[0]) if mistake == "chained states" else (h_0[1], c_0[1])
    output1, (h_n1, c_n1) = forward(layer1_input, start, *layer1_weights)
    if mistake == "top state only":
        return output1, (h_n1, c_n1)
    if mistake == "stacked with a new dim":
        return output1, (torch.stack([h_n0, h_n1]), torch.stack([c_n0, c_n1]))
    if mistake == "layers swapped":
        return output1, (torch.cat([h_n1, h_n0]), torch.cat([c_n1, c_n0]))
    return (output0 if mistake == "layer 0 output" else output1), (torch.cat([h_n0, h_n1]), torch.cat([c_n0, c_n1]))


def two_layer_with(mistake=None, forward=lstm_forward):
    return lambda input, initial_states, weights_layer0, weights_layer1: two_layer_forward(
        input, initial_states, weights_layer0, weights_layer1, mistake=mistake, forward=forward)


def two_layers_in_a_loop(input, initial_states, weights_layer0, weights_layer1):
    """Written another way: a loop over the layers, the final states collected in lists."""
    x, h_n, c_n = input, [], []
    for k, weights in enumerate((weights_layer0, weights_layer1)):
        x, (h, c) = split_and_preallocate(x, (initial_states[0][k], initial_states[1][k]), *weights)
        h_n.append(h[0])
        c_n.append(c[0])
    return x, (torch.stack(h_n), torch.stack(c_n))


def whole_states(input, initial_states, weights_layer0, weights_layer1):
    """Hands the (2, batch, hidden) states to one layer."""
    return lstm_forward(input, initial_states, *weights_layer0)


def hand_lstm_two_layers(input, initial_states, weights_layer0, weights_layer1, module=HandLSTM):
    lstm = module(input.shape[-1], weights_layer0[1].shape[1], num_layers=2, batch_first=True, dtype=input.dtype)
    lstm.load_state_dict(dict(zip([name for name, _ in lstm.named_parameters()], (*weights_layer0, *weights_layer1))))
    return lstm(input, initial_states)


def nn_lstm_two_layers(input, initial_states, weights_layer0, weights_layer1):
    return hand_lstm_two_layers(input, initial_states, weights_layer0, weights_layer1, module=torch.nn.LSTM)


def final_states_of_the_first_step(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    h, c = initial_states
    projected = input @ w_ih.T + b_ih + b_hh
    outputs, states = [], []
    for t in range(input.shape[1]):
        i, f, g, o = (projected[:, t] + h @ w_hh.T).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
        states.append((h, c))
    return torch.stack(outputs, 1), (states[0][0][None], states[0][1][None])


def into_a_preallocated_output(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """Right: each step's h written into an output made beforehand."""
    h, c = initial_states
    projected = input @ w_ih.T + b_ih + b_hh
    output = input.new_empty(input.shape[0], input.shape[1], h.shape[1])
    for t in range(input.shape[1]):
        i, f, g, o = (projected[:, t] + h @ w_hh.T).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        output[:, t] = h
    return output, (h[None], c[None])


def states_joined_along_dim_1(input, initial_states, weights_layer0, weights_layer1):
    """The layers' (1, batch, hidden) final states joined along the batch's dim."""
    output, (h_0, c_0) = lstm_forward(input, (initial_states[0][0], initial_states[1][0]), *weights_layer0)
    output, (h_1, c_1) = lstm_forward(output, (initial_states[0][1], initial_states[1][1]), *weights_layer1)
    return output, (torch.cat([h_0, h_1], dim=1), torch.cat([c_0, c_1], dim=1))


def one_step(projected_t, h, c, w_hh):
    i, f, g, o = (projected_t + h @ w_hh.T).chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def states_detached_each_step(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """Right values; the gradient through time cut at every step."""
    (h, c), projected, outputs = initial_states, input @ w_ih.T + b_ih + b_hh, []
    for t in range(input.shape[1]):
        h, c = one_step(projected[:, t], h.detach(), c.detach(), w_hh)
        outputs.append(h)
    return torch.stack(outputs, 1), (h[None], c[None])


def calls_backward_itself(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    (h, c), projected, outputs = initial_states, input @ w_ih.T + b_ih + b_hh, []
    for t in range(input.shape[1]):
        h, c = one_step(projected[:, t], h, c, w_hh)
        outputs.append(h)
    output = torch.stack(outputs, 1)
    if output.requires_grad:
        output.sum().backward()
    return output, (h[None], c[None])


def over_the_batch_with_vmap(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """Right: one sequence written, torch.vmap over the batch."""

    def one_sequence(projected, h, c):
        outputs = []
        for t in range(projected.shape[0]):
            h, c = (state[0] for state in one_step(projected[t][None], h[None], c[None], w_hh))
            outputs.append(h)
        return torch.stack(outputs), h, c

    output, h, c = torch.vmap(one_sequence)(input @ w_ih.T + b_ih + b_hh, *initial_states)
    return output, (h[None], c[None])


def through_aten(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    (h, c), weights = initial_states, [w_ih, w_hh, b_ih, b_hh]
    output, h_n, c_n = torch.ops.aten.lstm.input(input, [h[None], c[None]], weights, True, 1, 0.0, False, False, True)
    return output, (h_n, c_n)


ANSWERS = [
    Answers(
        check_lstm_forward,
        solution=forward_solution,
        others=[split_and_preallocate, gate_by_gate, in_float32, into_a_preallocated_output, over_the_batch_with_vmap],
        wrong=[
            (with_mistake(order="figo"), "input and forget gates are swapped"),
            (with_mistake(order="ifog"), "You read the four blocks of rows as i, f, o, g"),
            (with_mistake("no b_hh"), "The bias b_hh is missing"),
            (with_mistake("no recurrence"), "The previous hidden state h is missing from the gates"),
            (with_mistake("no tanh c"), "missing the tanh on the cell state"),
            (with_mistake("h reset"), "Each step starts from h_0"),
            (with_mistake("output starts at h_0"), "store h after computing step t"),
            (with_mistake("seq first"), "(seq, batch, hidden) = (5, 2, 4)"),
            (with_mistake("h_n without layer dim"), "Add the leading dim of the layer"),
            (with_mistake("transposed w_ih"), "w_ih: Tensor of shape (16, 3)"),
            (with_mistake("reversed output"), "reversed time order"),
            (with_mistake("one step too far"), "look at your loop's range"),
            (float32_inside, "agrees only to float32 precision"),
            (ignores_its_arguments, "Case 1 (batch 2, seq 5, input_size 3, hidden 4): `output` should have shape (2, 5, 4), got (3, 5, 6)"),
            (squeezes, "Case 2 (batch 1, seq 4, input_size 2, hidden 3)"),
            (lambda x, s, *w: lstm_forward(x, s, *w)[0], "Return 2 things"),
            (lambda x, s, *w: (lstm_forward(x, s, *w)[0], lstm_forward(x, s, *w)[1][::-1]), "`h_n` holds c_n"),
            (lambda x, s, *w: None, "returned None"),
            (lambda x, s, w_ih, w_hh, b_ih, b_hh: lstm_forward(x, s, w_ih, w_hh, b_ih, b_hh.add_(1)), "changed its argument `b_hh`"),
            (scales_w_hh, "changed its argument `w_hh`"),
            (projects_in_the_loop, "computes the input projection inside the loop"),
            (joined_weights_in_the_loop, "computes the input projection inside the loop"),
            (under_no_grad, "carries no gradient"),
            (in_numpy, "should be a torch tensor, got a NumPy array"),
            (with_nan, "holds NaN"),
            (final_states_of_the_first_step, "`h_n` is the h of the first step computed, output[:, 0]"),
            (states_detached_each_step, "The values are right but their gradient is not"),
            (calls_backward_itself, "did your function call backward()? That frees the graph"),
        ],
        course=[in_a_wrapper, through_aten, functools.partial(lstm_forward_tiled), nn_lstm_loaded, numpy_twin],
    ),
    Answers(
        check_lstm_forward_reverse,
        solution=reverse_solution,
        others=[with_mistake(reverse=True), flip_run_flip, functools.partial(projects_in_the_loop, reverse=True)],
        wrong=[
            (with_mistake(), "You walked forwards in time"),
            (with_mistake(order="figo", reverse=True), "input and forget gates are swapped"),
            (with_mistake("no b_hh", reverse=True), "The bias b_hh is missing"),
            (with_mistake("reversed output", reverse=True), "reversed time order"),
            (with_mistake("h_n from the end", reverse=True), "`h_n` is the h of the first step computed, output[:, -1]"),
            (with_mistake("output starts at h_0", reverse=True), "output[:, seq - 1] is h_0"),
            (lambda *a: with_mistake(reverse=True)(*a)[0], "Return 2 things"),
            (lambda *a: (1.5 * with_mistake(reverse=True)(*a)[0], with_mistake(reverse=True)(*a)[1]), "only the order of the steps differs"),
        ],
        course=[course_flip_run_flip, functools.partial(nn_lstm_loaded, reverse=True)],
    ),
    Answers(
        check_two_layer_forward,
        solution=two_layer_solution,
        others=[two_layer_with(), two_layers_in_a_loop, two_layer_with(forward=gate_by_gate)],
        wrong=[
            (two_layer_with("input to layer 1"), "Layer 1 read the input instead of layer 0's output"),
            (two_layer_with("layer 0 weights twice"), "Layer 1 used layer 0's weights"),
            (two_layer_with("chained states"), "Layer 1 started from layer 0's final state"),
            (two_layer_with("top state only"), "holds only layer 1's final state"),
            (two_layer_with("stacked with a new dim"), "has a dim too many"),
            (two_layer_with("layers swapped"), "has the layers in the wrong order"),
            (two_layer_with("layer 0 output"), "`output` is layer 0's output"),
            (two_layer_with(forward=with_mistake("no tanh c")), "missing the tanh on the cell state"),
            (whole_states, "layer k starts from h_0[k] and c_0[k]"),
            (lambda input, states: None, "Keep the signature `two_layer_forward(input, initial_states, weights_layer0, weights_layer1)`"),
            (states_joined_along_dim_1, "joins the layers along dim 1, the batch"),
        ],
        course=[hand_lstm_two_layers, nn_lstm_two_layers],
    ),
]

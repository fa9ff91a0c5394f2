"""Checks for notebook 04, bidirectional and stacked LSTMs: finding the final states in output and h_n, and making h_0, c_0."""

import warnings

import torch

from lstm_course import hand_lstm, lstm_errors, shapes, text_models
from lstm_course.checks.judge import Mistake, call, check, expect_gradient, in_case, judge, own_random, tensor, unpack

AT = "at sample {0[0]}, unit {0[1]}".format  # where an element of a (batch, width) result is


def _run(config, batch, seq, seed, runs=1):  # (output, h_n) of `runs` inputs, as leaves: an answer keeps their gradient
    shape = (batch, seq, config["input_size"]) if config.get("batch_first") else (seq, batch, config["input_size"])
    with own_random(seed), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
        lstm = torch.nn.LSTM(**config)
        results = [lstm(torch.randn(shape)) for _ in range(runs)]
    return lstm, [(output.detach().requires_grad_(), h_n.detach().requires_grad_()) for output, (h_n, _) in results]


def _final_states(output, h_n, bidirectional, batch_first):  # the last layer's, forward then backward, in output and in h_n: (batch, D * H)
    steps, h_n, H = (output if batch_first else output.transpose(0, 1)).detach(), h_n.detach(), h_n.shape[-1]  # steps: (batch, seq, D * H)
    if not bidirectional:
        return steps[:, -1].clone(), h_n[-1].clone()
    return torch.cat([steps[:, -1, :H], steps[:, 0, H:]], dim=1), torch.cat([h_n[-2], h_n[-1]], dim=1)


# ----------------------------------------------------------------------------- Exercise 1: the backward final state, from output
BACKWARD_CASES = ((2, 3, 3, 4), (1, 5, 4, 7), (3, 2, 1, 6))  # (num_layers, hidden_size, batch, seq): not the notebook's; batch != seq
ENDS = "The backward direction reads from the last step to t = 0, so it ends at t = 0: take output[:, 0, H:]."
BACKWARD_MISTAKES = (  # (message, the slice of output (batch, seq, 2H) an answer with that mistake returns)
    (f"You took output[:, -1, H:], the backward direction's FIRST step. {ENDS}", lambda output, H: output[:, -1, H:]),
    (f"You took output[:, -1, :H], the FORWARD direction's final state (h_n[-2]). {ENDS}", lambda output, H: output[:, -1, :H]),
    ("You took output[:, 0, :H], the forward direction's first step; the backward one is the second half, H:.", lambda output, H: output[:, 0, :H]),
    ("You returned both directions at t = 0, (batch, 2 * hidden_size); keep the backward half, H:.", lambda output, H: output[:, 0]),
    (f"You returned both directions at the last step, the forward final state and the backward FIRST step. {ENDS}", lambda output, H: output[:, -1]),
    (f"You returned the backward direction at every step, (batch, seq, hidden_size). {ENDS}", lambda output, H: output[:, :, H:]),
    *((f"You indexed dim 0 as time, but with batch_first=True dim 0 is the batch: output[{k}] is {what}. Take output[:, 0, H:].",
       lambda output, H, k=k: output[k, :, H:]) for k, what in ((0, "sample 0"), (-1, "the last sample"))),
)


@check("backward_final_state: the backward direction's final state, from output", refuse=(shapes.final_states, _final_states),
       instead="Slice output yourself.")
def check_backward_final_state(backward_final_state):
    """``backward_final_state(output (batch, seq, 2 * hidden_size), hidden_size) -> (batch, hidden_size)``, with the gradient kept."""
    for number, (L, H, batch, seq) in enumerate(BACKWARD_CASES, start=1):
        _, [(output, h_n)] = _run(dict(input_size=3, hidden_size=H, num_layers=L, bidirectional=True, batch_first=True), batch, seq, number)
        with in_case(f"Case {number}: output of shape {tuple(output.shape)} (batch={batch}, seq={seq}, 2 * hidden_size={2 * H})"):
            got = tensor("Your result", call(backward_final_state, output, H, signature="backward_final_state(output, hidden_size)"))
            judge("Your result", got, h_n[-1].detach(), ((message, wrong(output.detach(), H)) for message, wrong in BACKWARD_MISTAKES),
                  hint="Expected h_n[-1] = output[:, 0, H:], shape (batch, hidden_size).", where=AT)
            expect_gradient("Your result", got, [output])
    return f"Your function finds output[:, 0, H:] = h_n[-1] in {len(BACKWARD_CASES)} bidirectional LSTMs of 1 to 3 layers, of sizes new to you."


# ----------------------------------------------------------------------------- Exercise 2: the last layer's final states
FINAL_STATE_CASES = (  # every layers x directions x layout; batch, seq and num_layers * D differ, so a mix-up shows; none the notebook's
    (3, True, True, 2, 3, 0, 5, 2), (2, True, False, 2, 6, 0, 2, 6), (1, True, True, 3, 4, 1, 7, 6), (2, False, True, 3, 4, 0, 6, 7),
    (1, False, False, 4, 5, 0, 5, 7), (3, False, False, 5, 5, 4, 2, 5), (2, True, True, 2, 4, 3, 6, 5), (1, True, False, 2, 4, 0, 7, 4),
    (3, True, False, 4, 5, 2, 4, 7), (1, False, True, 3, 6, 4, 3, 5), (3, False, True, 4, 5, 0, 4, 6), (2, False, False, 5, 5, 3, 6, 4),
)
LAYOUT = "output is (batch, seq, D * H) with batch_first=True and (seq, batch, D * H) without; h_n is (num_layers * D, batch, H) either way."
CROSSED = "the check gives your function output and h_n of two different inputs, so take each result from its own tensor."
H_N_LAYOUT = "h_n is (num_layers * D, batch, H) whatever batch_first says (it changes input and output only): index it as it is."
BACKWARD_FIRST = "You put the backward state first. Keep output's order, forward then backward."
VIEW_SWAPPED = ("You viewed h_n as (num_directions, num_layers, batch, H), but it goes layer by layer, forward then backward within a layer: "
                "h_n.view(num_layers, num_directions, batch, H)[-1] is the last layer. A view in the wrong order runs without an error.")


def _mistakes(output, h_n, L, bidirectional, batch_first):  # {name: [(message, answer)]}, each answer made where its mistake can happen
    steps, h_n, one, two = (output if batch_first else output.transpose(0, 1)).detach(), h_n.detach(), not bidirectional, bidirectional
    last, first, (batch, H), right = steps[:, -1], steps[:, 0], h_n.shape[1:], _final_states(output, h_n, bidirectional, batch_first)
    at = lambda step, half="": f"output[{f':, {step}' if batch_first else f'{step}, :'}{', ' + half if half else ''}]"  # noqa: E731
    cat = lambda *parts: torch.cat(parts, dim=1)  # noqa: E731  (batch, H) parts side by side
    known = {"`from_output`": (
        (f"You took {at(0)}, the first step; a one-direction LSTM reads from t = 0 on, so it ends at the last step.", lambda: first, one),
        ("This LSTM has one direction: output's last dim is all forward, no backward half.", lambda: cat(last[:, :H // 2], first[:, H // 2:]), one),
        (f"You took {at(-1)}, both halves at the last step: its backward half is the backward direction's FIRST step.", lambda: last, two),
        (BACKWARD_FIRST, lambda: cat(first[:, H:], last[:, :H]), two),
        (f"You returned only the forward direction's final state, {at(-1, ':H')}; the backward one goes next to it.", lambda: last[:, :H], two),
        (f"You returned only the backward direction's final state, {at(0, 'H:')}; the forward one goes before it.", lambda: first[:, H:], two),
        (f"You took {at(0)}, both halves at t = 0: its forward half is the forward direction's FIRST step.", lambda: first, two),
        (f"You read output as if batch_first were {not batch_first}: with batch_first={batch_first}, output is "
         + ("(batch, seq, D * H)." if batch_first else "(seq, batch, D * H); output.transpose(0, 1) puts the batch first."),
         lambda: _final_states(output, h_n, bidirectional, not batch_first)[0], True),
        (f"This is what h_n holds, not output: {CROSSED}", lambda: right[1], True),
    ), "`from_h_n`": (
        ("You returned h_n[0], layer 0's forward state. The last layer is at the end of h_n.", lambda: h_n[0], L > 1),
        ("This LSTM has one direction: its final state is h_n[-1] alone; h_n[-2] is the layer below.", lambda: cat(h_n[-2], h_n[-1]), one and L > 1),
        ("You returned the last layer's states stacked, (2, batch, H): concatenate them along dim 1, (batch, 2 * H).", lambda: h_n[-2:], two),
        ("You returned h_n[-1] alone, the last layer's BACKWARD direction; its forward one, h_n[-2], goes before it.", lambda: h_n[-1], two),
        ("You returned h_n[-2] alone, the last layer's forward direction; its backward one, h_n[-1], goes next to it.", lambda: h_n[-2], two),
        (BACKWARD_FIRST, lambda: cat(h_n[-1], h_n[-2]), two),
        ("Your h_n[-2:].reshape(batch, -1) mixes samples: dim 0 of h_n[-2:] is the direction, not the batch. Concatenate the two (batch, H) "
         "states along dim 1, or permute(1, 0, 2) before reshaping.", lambda: h_n[-2:].reshape(batch, 2 * H), two),
        ("You took h_n[0] and h_n[1], layer 0: h_n goes from layer 0 up (k = layer * D + direction).", lambda: cat(h_n[0], h_n[1]), two and L > 1),
        (VIEW_SWAPPED, lambda: cat(*h_n.view(2, L, batch, H)[:, -1]), two and L > 2),  # with 1 or 2 layers it can pick the right entries
        (VIEW_SWAPPED, lambda: cat(*h_n.view(2, L, batch, H)[-1]), two and L > 2),
        (f"You read h_n as if batch_first applied, but {H_N_LAYOUT}", lambda: cat(*h_n.transpose(0, 1).reshape(L, -1, batch, H)[-1]), batch_first),
        (f"You indexed h_n as if batch_first applied, but {H_N_LAYOUT}", lambda: cat(h_n[:, -2], h_n[:, -1]) if two else h_n[:, -1], True),
        (f"This is what output holds, not h_n: {CROSSED}", lambda: right[0], True),
    )}
    return right, {name: [(message, answer()) for message, answer, applies in table if applies] for name, table in known.items()}


@check("final_states: the last layer's final states, from output and from h_n", instead="Slice output and h_n yourself.",
       refuse=(shapes.final_states, text_models.LSTMClassifier._final_states, _final_states))
def check_final_states(final_states):
    """``final_states(output, h_n, num_layers, bidirectional, batch_first) -> (from_output, from_h_n)``, each ``(batch, D * H)``."""
    for number, (L, bidirectional, batch_first, inputs, hidden, proj_size, batch, seq) in enumerate(FINAL_STATE_CASES, start=1):
        config = dict(input_size=inputs, hidden_size=hidden, num_layers=L, bidirectional=bidirectional, batch_first=batch_first, proj_size=proj_size)
        _, [(output, _), (_, h_n)] = _run(config, batch, seq, seed=30 + number, runs=2)  # output and h_n of two different inputs
        expected, mistakes = _mistakes(output, h_n, L, bidirectional, batch_first)
        with in_case(f"Case {number}: num_layers={L}, bidirectional={bidirectional}, batch_first={batch_first}, proj_size={proj_size}; "
                     f"output of shape {tuple(output.shape)}, h_n of shape {tuple(h_n.shape)}"):
            try:
                result = unpack(call(final_states, output, h_n, L, bidirectional, batch_first, shape_hint=LAYOUT,
                                     signature="final_states(output, h_n, num_layers, bidirectional, batch_first)"),
                                ("from_output", "from_h_n"), "return from_output, from_h_n")
            except Mistake as mistake:  # an answer that asserts that the two agree: here they need not
                raise Mistake(f"{str(mistake).split(' It was called with')[0]} The check gives your function output and h_n of two different "
                              "inputs: they need not agree here." if "raised AssertionError" in str(mistake) else mistake) from None
            for (name, known), value, right, source in zip(mistakes.items(), result, expected, (output, h_n)):
                judge(name, got := tensor(name, value), right, known, hint="Expected the last layer's final states, forward then backward.", where=AT)
                expect_gradient(name, got, [source])
    return (f"Your function finds the last layer's final states in output and in h_n for {len(FINAL_STATE_CASES)} LSTMs: "
            "1 to 3 layers, one or two directions, batch first or not, with and without proj_size.")


# ----------------------------------------------------------------------------- Exercise 3: initial states of the right shape
INIT_CASES = (  # nn.LSTM's arguments, and the batch: none of them the notebook's
    (dict(input_size=2, hidden_size=3), 4), (dict(input_size=4, hidden_size=5, num_layers=2, batch_first=True), 3),
    (dict(input_size=2, hidden_size=3, num_layers=3, bidirectional=True, batch_first=True), 5),
    (dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True, proj_size=3), 2),
    (dict(input_size=3, hidden_size=6, num_layers=3, batch_first=True, proj_size=2), 4),
)


def _state_mistake(name, got, expected, config, batch):  # what a wrong shape of h_0 or c_0 says about the answer's reasoning
    L, D, H, P = config.get("num_layers", 1), 1 + bool(config.get("bidirectional")), config["hidden_size"], config.get("proj_size", 0)
    width, layout = expected[-1], f"(num_layers * num_directions, batch, {'proj_size' if name == '`h_0`' and P else 'hidden_size'}) = {expected}"
    return next((message for message, shape, applies in (
        (f"{name} has no batch dim: for a batched input it is {layout}.", (L * D, width), True),
        (f"{name} is (batch, {width}), without the layers dim (unsqueeze(0) adds it): nn.LSTM wants {layout}.", (batch, width), True),
        (f"{name} is {got}, batch first. batch_first=True changes input and output only; {name} is always {layout}.", (batch, L * D, width), True),
        (f"{name} has num_layers = {L} entries; a bidirectional LSTM has one per layer AND direction: {layout}.", (L, batch, width), D == 2),
        (f"With proj_size={P}, h is proj_size wide and c hidden_size wide: {name} should be {expected}.", (L * D, batch, {H: P, P: H}[width]), P),
    ) if applies and got == shape), f"{name} should have shape {layout}, got {got}.")


@check("initial_states: zero h_0 and c_0 of the right shapes", instead="Read the sizes from lstm's attributes.",
       refuse=(shapes.state_shapes, shapes.lstm_shapes, hand_lstm.HandLSTM._zero_states, lstm_errors._state_shapes))
def check_initial_states(initial_states):
    """``initial_states(lstm, batch)`` must return ``(h_0, c_0)``, zero tensors of the shape, dtype and device ``lstm`` accepts."""
    for number, (config, batch) in enumerate(INIT_CASES, start=1):
        with in_case(f"Case {number}: nn.LSTM({', '.join(f'{key}={value}' for key, value in config.items())}), batch={batch}"):
            lstm, _ = _run(config, batch, 3, seed=20 + number)
            states = unpack(call(initial_states, lstm, batch, signature="initial_states(lstm, batch)"), ("h_0", "c_0"), "return h_0, c_0")
            for name, value, shape in zip(("`h_0`", "`c_0`"), states, shapes.state_shapes(config, batch)):  # from the case, whatever lstm became
                if tuple(tensor(name, value).shape) != shape:
                    raise Mistake(_state_mistake(name, tuple(value.shape), shape, config, batch))
                if value.abs().max() > 0:
                    raise Mistake(f"{name} has the right shape but is not all zeros: start from torch.zeros(...), as nn.LSTM does without states.")
                if (value.dtype, value.device.type) != (torch.float32, "cpu"):  # what lstm's weights are: nn.LSTM refuses states of another kind
                    raise Mistake(f"{name} is {value.dtype} on {value.device}, but lstm's weights are torch.float32 on cpu: nn.LSTM refuses states "
                                  "of another dtype or device. Make them like the weights, e.g. with lstm.weight_hh_l0.new_zeros(...).")
    return f"Your states fit {len(INIT_CASES)} LSTMs: one or more layers, one or two directions, batch_first, and proj_size (h narrower than c)."

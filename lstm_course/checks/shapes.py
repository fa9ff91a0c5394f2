"""Checks for notebook 04, bidirectional and stacked LSTMs: the final states in output and h_n, and h_0, c_0."""

import warnings

import torch

from lstm_course import hand_lstm, lstm_errors, shapes, text_models
from lstm_course.checks.judge import (Mistake, call, check, element, expect_gradient, in_case, judge, own_random,
                                      tensor, unpack)

AT_UNIT = element("sample", "unit")  # where an element of a (batch, width) result is


def _run_lstm(config, batch, seq, seed, runs=1):
    """A new ``nn.LSTM(**config)`` and its ``(output, h_n)`` on ``runs`` random inputs, as leaves that require grad."""
    shape = (batch, seq, config["input_size"]) if config.get("batch_first") else (seq, batch, config["input_size"])
    with own_random(seed), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
        lstm = torch.nn.LSTM(**config)
        results = [lstm(torch.randn(shape)) for _ in range(runs)]
    return lstm, [(output.detach().requires_grad_(), h_n.detach().requires_grad_()) for output, (h_n, _) in results]


def _cat(*parts):
    """(batch, H) parts side by side."""
    return torch.cat(parts, dim=1)


# ----------------------------------------------------------------------------- Exercise 1: the backward final state

# (num_layers, hidden_size, batch, seq): not the notebook's; batch != seq
BACKWARD_CASES = ((2, 3, 3, 4), (1, 5, 4, 7), (3, 2, 1, 6))
ENDS = "The backward direction reads from the last step to t = 0, so it ends at t = 0: take output[:, 0, H:]."


def _dim_0_as_time(index, what):
    """The mistake of reading output[index] as a time step, where batch_first=True puts the samples."""
    message = (f"You indexed dim 0 as time, but with batch_first=True dim 0 is the batch: output[{index}] is {what}. "
               "Take output[:, 0, H:].")
    return message, lambda output, hidden: output[index, :, hidden:]


BACKWARD_MISTAKES = (  # (message, the slice of output (batch, seq, 2H) an answer with that mistake returns)
    (f"You took output[:, -1, H:], the backward direction's FIRST step. {ENDS}",
     lambda output, hidden: output[:, -1, hidden:]),
    (f"You took output[:, -1, :H], the FORWARD direction's final state (h_n[-2]). {ENDS}",
     lambda output, hidden: output[:, -1, :hidden]),
    ("You took output[:, 0, :H], the forward direction's first step; the backward one is the second half, H:.",
     lambda output, hidden: output[:, 0, :hidden]),
    ("You returned both directions at t = 0, (batch, 2 * hidden_size); keep the backward half, H:.",
     lambda output, hidden: output[:, 0]),
    (f"You returned both directions at the last step, the forward final state and the backward FIRST step. {ENDS}",
     lambda output, hidden: output[:, -1]),
    (f"You returned the backward direction at every step, (batch, seq, hidden_size). {ENDS}",
     lambda output, hidden: output[:, :, hidden:]),
    _dim_0_as_time(0, "sample 0"),
    _dim_0_as_time(-1, "the last sample"),
    (f"You averaged the backward direction over the steps; its final state is one step. {ENDS}",
     lambda output, hidden: output[:, :, hidden:].mean(dim=1)),
)


@check("backward_final_state: the backward direction's final state, from output",
       refuse=(shapes.final_states,), instead="Slice output yourself.")
def check_backward_final_state(backward_final_state):
    """``backward_final_state(output (batch, seq, 2 * hidden_size), hidden_size) -> (batch, hidden_size)``."""
    for number, (num_layers, hidden, batch, seq) in enumerate(BACKWARD_CASES, start=1):
        config = dict(input_size=3, hidden_size=hidden, num_layers=num_layers, bidirectional=True, batch_first=True)
        _, [(output, h_n)] = _run_lstm(config, batch, seq, number)
        with in_case(f"Case {number}: output of shape {tuple(output.shape)} (batch={batch}, seq={seq}, "
                     f"2 * hidden_size={2 * hidden})"):
            result = call(backward_final_state, output, hidden, signature="backward_final_state(output, hidden_size)")
            got = tensor("Your result", result)
            mistakes = ((message, wrong(output.detach(), hidden)) for message, wrong in BACKWARD_MISTAKES)
            judge("Your result", got, h_n[-1].detach(), mistakes,
                  hint="Expected h_n[-1] = output[:, 0, H:], shape (batch, hidden_size).", where=AT_UNIT)
            expect_gradient("Your result", got, [output])
    return (f"Your function finds output[:, 0, H:] = h_n[-1] in {len(BACKWARD_CASES)} bidirectional LSTMs of 1 to 3 "
            "layers, of sizes new to you.")


# ----------------------------------------------------------------------------- Exercise 2: the last layer's states

# (num_layers, bidirectional, batch_first, input_size, hidden_size, proj_size, batch, seq): every layers x directions
# x layout; batch, seq and num_layers * D differ, so that a mix-up shows; none the notebook's
FINAL_STATE_CASES = (
    (3, True, True, 2, 3, 0, 5, 2), (2, True, False, 2, 6, 0, 2, 6), (1, True, True, 3, 4, 1, 7, 6),
    (2, False, True, 3, 4, 0, 6, 7), (1, False, False, 4, 5, 0, 5, 7), (3, False, False, 5, 5, 4, 2, 5),
    (2, True, True, 2, 4, 3, 6, 5), (1, True, False, 2, 4, 0, 7, 4), (3, True, False, 4, 5, 2, 4, 7),
    (1, False, True, 3, 6, 4, 3, 5), (3, False, True, 4, 5, 0, 4, 6), (2, False, False, 5, 5, 3, 6, 4),
)
LAYOUT = ("output is (batch, seq, D * H) with batch_first=True and (seq, batch, D * H) without; h_n is "
          "(num_layers * D, batch, H) either way.")
CROSSED = ("the check gives your function output and h_n of two different inputs, so take each result from its own "
           "tensor.")
H_N_LAYOUT = ("h_n is (num_layers * D, batch, H) whatever batch_first says (it changes input and output only): index "
              "it as it is.")
BACKWARD_FIRST = "You put the backward state first. Keep output's order, forward then backward."
VIEW_SWAPPED = ("You viewed h_n as (num_directions, num_layers, batch, H), but it goes layer by layer, forward then "
                "backward within a layer: h_n.view(num_layers, num_directions, batch, H)[-1] is the last layer. A view "
                "in the wrong order runs without an error.")
# to an answer that asserts that the two agree
ASSERTED = "The check gives your function output and h_n of two different inputs: they need not agree here."
FINAL_STATES_HINT = "Expected the last layer's final states, forward then backward."


def _output_at(batch_first, step, half=""):
    """How the learner indexes output at time ``step`` (and ``half`` of the last dim), e.g. "output[:, -1, :H]"."""
    index = (f":, {step}" if batch_first else f"{step}, :") + (f", {half}" if half else "")
    return f"output[{index}]"


def _from_output_mistakes(output, h_n, num_layers, bidirectional, batch_first, right):
    """(message, answer) of the mistakes of reading the final states from output."""
    steps, width = output if batch_first else output.transpose(0, 1), h_n.shape[-1]  # (batch, seq, D * H)
    last, first = steps[:, -1], steps[:, 0]
    mistakes = []
    if not bidirectional:
        mistakes += [
            (f"You took {_output_at(batch_first, 0)}, the first step; a one-direction LSTM reads from t = 0 on, so "
             "it ends at the last step.", first),
            ("This LSTM has one direction: output's last dim is all forward, no backward half.",
             _cat(last[:, :width // 2], first[:, width // 2:])),
        ]
    else:
        mistakes += [
            (f"You took {_output_at(batch_first, -1)}, both halves at the last step: its backward half is the "
             "backward direction's FIRST step.", last),
            (BACKWARD_FIRST, _cat(first[:, width:], last[:, :width])),
            (f"You returned only the forward direction's final state, {_output_at(batch_first, -1, ':H')}; the "
             "backward one goes next to it.", last[:, :width]),
            (f"You returned only the backward direction's final state, {_output_at(batch_first, 0, 'H:')}; the "
             "forward one goes before it.", first[:, width:]),
            (f"You took {_output_at(batch_first, 0)}, both halves at t = 0: its forward half is the forward "
             "direction's FIRST step.", first),
        ]
    layout = "(batch, seq, D * H)."
    if not batch_first:
        layout = "(seq, batch, D * H); output.transpose(0, 1) puts the batch first."
    mistakes += [
        (f"You read output as if batch_first were {not batch_first}: with batch_first={batch_first}, output is "
         f"{layout}", shapes.final_states(output, h_n, num_layers, bidirectional, not batch_first)[0]),
        (f"This is what h_n holds, not output: {CROSSED}", right[1]),
    ]
    return mistakes


def _from_h_n_mistakes(h_n, num_layers, bidirectional, batch_first, right):
    """(message, answer) of the mistakes of reading the final states from h_n."""
    batch, width = h_n.shape[1:]
    mistakes = []
    if num_layers > 1:
        mistakes.append(("You returned h_n[0], layer 0's forward state. The last layer is at the end of h_n.", h_n[0]))
    if not bidirectional and num_layers > 1:
        mistakes.append(("This LSTM has one direction: its final state is h_n[-1] alone; h_n[-2] is the layer below.",
                         _cat(h_n[-2], h_n[-1])))
    if bidirectional:
        mistakes += [
            ("You returned the last layer's states stacked, (2, batch, H): concatenate them along dim 1, "
             "(batch, 2 * H).", h_n[-2:]),
            ("You returned h_n[-1] alone, the last layer's BACKWARD direction; its forward one, h_n[-2], goes "
             "before it.", h_n[-1]),
            ("You returned h_n[-2] alone, the last layer's forward direction; its backward one, h_n[-1], goes next "
             "to it.", h_n[-2]),
            (BACKWARD_FIRST, _cat(h_n[-1], h_n[-2])),
            ("Your h_n[-2:].reshape(batch, -1) mixes samples: dim 0 of h_n[-2:] is the direction, not the batch. "
             "Concatenate the two (batch, H) states along dim 1, or permute(1, 0, 2) before reshaping.",
             h_n[-2:].reshape(batch, 2 * width)),
        ]
    if bidirectional and num_layers > 1:
        mistakes.append(("You took h_n[0] and h_n[1], layer 0: h_n goes from layer 0 up (k = layer * D + direction).",
                         _cat(h_n[0], h_n[1])))
    if bidirectional and num_layers > 2:  # with 1 or 2 layers a swapped view can pick the right entries
        swapped = h_n.view(2, num_layers, batch, width)
        mistakes += [(VIEW_SWAPPED, _cat(*swapped[:, -1])), (VIEW_SWAPPED, _cat(*swapped[-1]))]
    if batch_first:
        as_if_batch_first = h_n.transpose(0, 1).reshape(num_layers, -1, batch, width)
        mistakes.append((f"You read h_n as if batch_first applied, but {H_N_LAYOUT}", _cat(*as_if_batch_first[-1])))
    indexed_as_if_batch_first = _cat(h_n[:, -2], h_n[:, -1]) if bidirectional else h_n[:, -1]
    mistakes += [
        (f"You indexed h_n as if batch_first applied, but {H_N_LAYOUT}", indexed_as_if_batch_first),
        (f"This is what output holds, not h_n: {CROSSED}", right[0]),
    ]
    return mistakes


def _mistakes(output, h_n, num_layers, bidirectional, batch_first):
    """The right ``(from_output, from_h_n)``, and ``{name: [(message, answer)]}`` where each mistake can happen."""
    output, h_n = output.detach(), h_n.detach()
    right = shapes.final_states(output, h_n, num_layers, bidirectional, batch_first)
    return right, {
        "`from_output`": _from_output_mistakes(output, h_n, num_layers, bidirectional, batch_first, right),
        "`from_h_n`": _from_h_n_mistakes(h_n, num_layers, bidirectional, batch_first, right),
    }


@check("final_states: the last layer's final states, from output and from h_n",
       refuse=(shapes.final_states, text_models.LSTMClassifier._final_states),
       instead="Slice output and h_n yourself.")
def check_final_states(final_states):
    """``final_states(...) -> (from_output, from_h_n)``: each the last layer's final states, (batch, D * H)."""
    for number, case in enumerate(FINAL_STATE_CASES, start=1):
        num_layers, bidirectional, batch_first, input_size, hidden_size, proj_size, batch, seq = case
        config = dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                      bidirectional=bidirectional, batch_first=batch_first, proj_size=proj_size)
        _, [(output, _), (_, h_n)] = _run_lstm(config, batch, seq, seed=30 + number, runs=2)  # of two different inputs
        expected, mistakes = _mistakes(output, h_n, num_layers, bidirectional, batch_first)
        with in_case(f"Case {number}: num_layers={num_layers}, bidirectional={bidirectional}, "
                     f"batch_first={batch_first}, proj_size={proj_size}; output of shape {tuple(output.shape)}, "
                     f"h_n of shape {tuple(h_n.shape)}"):
            result = call(final_states, output, h_n, num_layers, bidirectional, batch_first, shape_hint=LAYOUT,
                          signature="final_states(output, h_n, num_layers, bidirectional, batch_first)",
                          error_hints={"AssertionError": ASSERTED})
            result = unpack(result, ("from_output", "from_h_n"), "return from_output, from_h_n")
            for (name, known), value, right, source in zip(mistakes.items(), result, expected, (output, h_n)):
                got = tensor(name, value)
                judge(name, got, right, known, hint=FINAL_STATES_HINT, where=AT_UNIT)
                expect_gradient(name, got, [source])
    return (f"Your function finds the last layer's final states in output and in h_n for {len(FINAL_STATE_CASES)} "
            "LSTMs: 1 to 3 layers, one or two directions, batch first or not, with and without proj_size.")


# ----------------------------------------------------------------------------- Exercise 3: initial states

INIT_CASES = (  # nn.LSTM's arguments, and the batch: none of them the notebook's
    (dict(input_size=2, hidden_size=3), 4),
    (dict(input_size=4, hidden_size=5, num_layers=2, batch_first=True), 3),
    (dict(input_size=2, hidden_size=3, num_layers=3, bidirectional=True, batch_first=True), 5),
    (dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True, proj_size=3), 2),
    (dict(input_size=3, hidden_size=6, num_layers=3, batch_first=True, proj_size=2), 4),
)


def _state_mistake(name, got, expected, config, batch):
    """What a wrong shape ``got`` of h_0 or c_0 says about the answer's reasoning."""
    layers, directions = config.get("num_layers", 1), 1 + bool(config.get("bidirectional"))
    hidden_size, proj_size = config["hidden_size"], config.get("proj_size", 0)
    width = expected[-1]
    width_name = "proj_size" if name == "`h_0`" and proj_size else "hidden_size"
    layout = f"(num_layers * num_directions, batch, {width_name}) = {expected}"
    known = [  # (message, the shape an answer with that mistake returns)
        (f"{name} has no batch dim: for a batched input it is {layout}.", (layers * directions, width)),
        (f"{name} is (batch, {width}), without the layers dim (unsqueeze(0) adds it): nn.LSTM wants {layout}.",
         (batch, width)),
        (f"{name} is {got}, batch first. batch_first=True changes input and output only; {name} is always {layout}.",
         (batch, layers * directions, width)),
    ]
    if directions == 2:
        known.append((f"{name} has num_layers = {layers} entries; a bidirectional LSTM has one per layer AND "
                      f"direction: {layout}.", (layers, batch, width)))
    if proj_size:
        other_width = {hidden_size: proj_size, proj_size: hidden_size}[width]
        known.append((f"With proj_size={proj_size}, h is proj_size wide and c hidden_size wide: {name} should be "
                      f"{expected}.", (layers * directions, batch, other_width)))
    return next((message for message, shape in known if got == shape), f"{name} should have shape {layout}, got {got}.")


@check("initial_states: zero h_0 and c_0 of the right shapes", instead="Read the sizes from lstm's attributes.",
       refuse=(shapes.state_shapes, shapes.lstm_shapes, hand_lstm.HandLSTM._zero_states, lstm_errors._state_shapes))
def check_initial_states(initial_states):
    """``initial_states(lstm, batch) -> (h_0, c_0)``: zeros of the shape, dtype and device ``lstm`` accepts."""
    for number, (config, batch) in enumerate(INIT_CASES, start=1):
        arguments = ", ".join(f"{key}={value}" for key, value in config.items())
        with in_case(f"Case {number}: nn.LSTM({arguments}), batch={batch}"):
            lstm, _ = _run_lstm(config, batch, 3, seed=20 + number)
            result = call(initial_states, lstm, batch, signature="initial_states(lstm, batch)")
            states = unpack(result, ("h_0", "c_0"), "return h_0, c_0")
            wanted = shapes.state_shapes(config, batch)  # from the case, whatever the answer made of lstm
            for name, value, shape in zip(("`h_0`", "`c_0`"), states, wanted):
                if tuple(tensor(name, value).shape) != shape:
                    raise Mistake(_state_mistake(name, tuple(value.shape), shape, config, batch))
                if (value.dtype, value.device.type) != (torch.float32, "cpu"):  # lstm's weights: nn.LSTM refuses others
                    raise Mistake(f"{name} is {value.dtype} on {value.device}, but lstm's weights are torch.float32 on "
                                  "cpu: nn.LSTM refuses states of another dtype or device. Make them like the weights, "
                                  "e.g. with lstm.weight_hh_l0.new_zeros(...).")
                if value.count_nonzero():  # NaN too
                    raise Mistake(f"{name} has the right shape but is not all zeros: start from torch.zeros(...), as "
                                  "nn.LSTM does without states.")
    return (f"Your states fit {len(INIT_CASES)} LSTMs: one or more layers, one or two directions, batch_first, and "
            "proj_size (h narrower than c).")

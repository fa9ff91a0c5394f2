"""Checks for notebook 04, bidirectional and stacked LSTMs: finding states in output and h_n."""

import random
import warnings

import torch

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close, with_hint
from lstm_course.shapes import state_shapes

ATOL = 1e-6


def _run(config, batch, seq, seed, runs=1):
    """A seeded nn.LSTM and its ``(output, h_n, c_n)`` for each of ``runs`` random inputs; the caller's RNG untouched."""
    shape = (batch, seq, config["input_size"]) if config.get("batch_first") else (seq, batch, config["input_size"])
    with torch.random.fork_rng(devices=[]), torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
        torch.manual_seed(seed)
        lstm = torch.nn.LSTM(**config)
        results = [lstm(torch.randn(shape)) for _ in range(runs)]
    return lstm, [(output, h_n, c_n) for output, (h_n, c_n) in results]


def _matches(got, candidate):
    return tuple(got.shape) == tuple(candidate.shape) and bool(torch.allclose(got, candidate.to(got.dtype), atol=ATOL, rtol=0))


def _as_tensor(name, value):
    return torch.as_tensor(as_array(name, value))


def _diagnose(got, candidates, where):
    """Raise the diagnosis of the first wrong candidate that ``got`` equals."""
    for candidate, diagnosis in candidates:
        if _matches(got, candidate):
            raise Mistake(f"{where}: {diagnosis}")


def _by_sample_and_unit(index):
    return f"at sample {index[0]}, unit {index[1]}"


# ---------------------------------------------------------------------------------------------
# Exercise 1: the backward direction's final state, from output

BACKWARD_CASES = (  # (num_layers, hidden_size, batch, seq): not the notebook's sizes; batch != seq, so that a swap shows
    (2, 3, 3, 4),
    (1, 5, 4, 7),
    (3, 2, 1, 6),
)


@check("backward_final_state: the backward direction's final state, from output")
def check_backward_final_state(backward_final_state):
    """``backward_final_state(output, hidden_size)``, output ``(batch, seq, 2 * hidden_size)`` of a
    bidirectional ``batch_first`` LSTM, must return the last layer's backward final state ``(batch, hidden_size)``."""
    for number, (num_layers, H, batch, seq) in enumerate(BACKWARD_CASES, start=1):
        config = dict(input_size=3, hidden_size=H, num_layers=num_layers, bidirectional=True, batch_first=True)
        _, [(output, h_n, _)] = _run(config, batch, seq, seed=number)
        where = f"Case {number}: output of shape {tuple(output.shape)} (batch={batch}, seq={seq}, 2 * hidden_size={2 * H})"
        try:
            got = call(backward_final_state, output, H)
        except Mistake as mistake:
            raise Mistake(f"{where}: {mistake}") from None
        got = _as_tensor("your result", got)
        expected = h_n[-1]  # the last layer's backward direction
        if _matches(got, expected):
            continue
        _diagnose(got, (
            (output[:, -1, H:], "you took output[:, -1, H:], the backward direction's FIRST step: it reads the "
                                "sequence from the last step to t = 0, so it ends at t = 0. Take output[:, 0, H:]."),
            (output[:, -1, :H], "you took output[:, -1, :H], the FORWARD direction's final state (h_n[-2]). "
                                "The backward direction is the second half of the last dim, H:, and it ends at t = 0."),
            (output[:, 0, :H], "you took output[:, 0, :H], the forward direction's first step. The backward "
                               "direction is the second half, H:."),
            (output[:, 0], "you returned both directions at t = 0, shape (batch, 2 * hidden_size); keep the backward half, H:."),
            (output[:, -1], "you returned both directions at the last step, shape (batch, 2 * hidden_size): that is "
                            "the forward final state next to the backward FIRST step. Take output[:, 0, H:]."),
            (output[:, :, H:], "you returned the backward direction at every step, (batch, seq, hidden_size); "
                               "its final state is the step it ends on, t = 0."),
            (output[0, :, H:], "you indexed dim 0 as time, but with batch_first=True dim 0 is the batch: "
                               "output[0] is sample 0. Take output[:, 0, H:]."),
            (output[-1, :, H:], "you indexed dim 0 as time, but with batch_first=True dim 0 is the batch: "
                                "output[-1] is the last sample. Take output[:, 0, H:]."),
        ), where)
        expect_close("your result", got, expected, atol=ATOL, where=_by_sample_and_unit,
                     hint=f"{where}: expected h_n[-1] = output[:, 0, H:], shape (batch, hidden_size).")
    return (f"Your function finds output[:, 0, H:] = h_n[-1] in {len(BACKWARD_CASES)} bidirectional LSTMs "
            f"with 1 to {max(c[0] for c in BACKWARD_CASES)} layers and sizes the notebook does not use.")


# ---------------------------------------------------------------------------------------------
# Exercise 2: the last layer's final states, from output and from h_n

FINAL_STATES_SIGNATURE = "final_states(output, h_n, num_layers, bidirectional, batch_first)"
LAYOUT_HINT = ("output is (batch, seq, D * H) with batch_first=True and (seq, batch, D * H) without; "
               "h_n is (num_layers * D, batch, H) either way.")
FINAL_STATE_LAYOUTS = (  # (num_layers, bidirectional, batch_first, with proj_size): each layers x directions x layout once
    (3, True, True, False), (2, True, False, False), (1, True, True, True), (2, False, True, False),
    (1, False, False, False), (3, False, False, True), (2, True, True, True), (1, True, False, False),
    (3, True, False, True), (1, False, True, True), (3, False, True, False), (2, False, False, True),
)


def _final_state_cases(seed=404):
    """(nn.LSTM's arguments, batch, seq) for each layout, the sizes drawn at random, never the notebook's.

    batch, seq and num_layers * D all differ, so that a dim taken for another shows; batch >= 2, so that mixed
    samples show.
    """
    rng = random.Random(seed)
    cases = []
    for num_layers, bidirectional, batch_first, projected in FINAL_STATE_LAYOUTS:
        layers = num_layers * (2 if bidirectional else 1)
        while True:
            hidden_size, batch, seq = rng.randint(3, 6), rng.randint(2, 7), rng.randint(2, 7)
            if len({batch, seq, layers}) == 3 and (hidden_size, batch, seq) != (4, 2, 5):
                break
        config = dict(input_size=rng.randint(2, 5), hidden_size=hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                      batch_first=batch_first, proj_size=rng.randint(1, hidden_size - 1) if projected else 0)
        cases.append((config, batch, seq))
    return tuple(cases)


FINAL_STATE_CASES = _final_state_cases()


def _ends_in_output(output, bidirectional, batch_first):
    """Where each direction of the last layer ends, in output: ``(batch, D * H)``."""
    steps = output if batch_first else output.transpose(0, 1)  # (batch, seq, D * H)
    if not bidirectional:
        return steps[:, -1]
    H = steps.shape[-1] // 2
    return torch.cat([steps[:, -1, :H], steps[:, 0, H:]], dim=1)


def _last_layer_in_h_n(h_n, bidirectional):
    return torch.cat([h_n[-2], h_n[-1]], dim=1) if bidirectional else h_n[-1]


def _at(batch_first, step, half=""):
    """The learner's slice of output at time ``step``: ``output[:, -1, H:]``, or ``output[-1, :, H:]`` sequence first."""
    index = f":, {step}" if batch_first else f"{step}, :"
    return f"output[{index}{', ' + half if half else ''}]"


def _output_mistakes(output, bidirectional, batch_first):
    """Typical wrong slices of output, each with its diagnosis."""
    steps = output if batch_first else output.transpose(0, 1)  # (batch, seq, D * H)
    last, first = steps[:, -1], steps[:, 0]
    if not bidirectional:
        H = steps.shape[-1]
        mistakes = [(first, f"you took {_at(batch_first, 0)}, the first step. A one-direction LSTM reads from t = 0 "
                            "to the last step, so its final state is at the last step.")]
        if H % 2 == 0:
            mistakes.append((torch.cat([last[:, :H // 2], first[:, H // 2:]], dim=1),
                             "this LSTM has one direction: all of output's last dim is the forward direction, there is "
                             "no backward half. Take the last step whole."))
        return mistakes
    H = steps.shape[-1] // 2
    return [
        (last, f"you took {_at(batch_first, -1)}, both halves at the last step. Its forward half is the forward final "
               "state, but its backward half is the backward direction's FIRST step: that direction reads from the "
               "last step to t = 0, so it ends at t = 0."),
        (torch.cat([first[:, H:], last[:, :H]], dim=1), "you put the backward state first. Keep output's order, "
                                                        "forward then backward."),
        (last[:, :H], f"you returned only the forward direction's final state, {_at(batch_first, -1, ':H')}. A "
                      "bidirectional LSTM has two: forward, then backward, side by side, (batch, 2 * H)."),
        (first[:, H:], f"you returned only the backward direction's final state, {_at(batch_first, 0, 'H:')}. Put the "
                       f"forward one, {_at(batch_first, -1, ':H')}, before it: (batch, 2 * H)."),
        (first, f"you took {_at(batch_first, 0)}, both halves at t = 0. Its backward half is the backward final state, "
                "but its forward half is the forward direction's FIRST step; the forward direction ends at the last step."),
    ]


VIEW_SWAPPED = ("you viewed h_n as (num_directions, num_layers, batch, H), but it is layer by layer, and within a layer "
                "forward then backward: h_n.view(num_layers, num_directions, batch, H)[-1] is the last layer. Such a "
                "view runs without an error: it only reads the same memory in another order.")
H_N_NOT_BATCH_FIRST = ("batch_first does not apply to h_n: it is (num_layers * D, batch, H) whatever batch_first says "
                       "(batch_first changes input and output only). Index h_n as it is, without transposing it.")


def _h_n_mistakes(h_n, num_layers, bidirectional, batch_first):
    """Typical wrong slices of h_n, each with its diagnosis."""
    L, D, batch, H = num_layers, 2 if bidirectional else 1, h_n.shape[1], h_n.shape[2]
    mistakes = [(h_n[-D:], f"you returned the last layer's states stacked, ({D}, batch, H). Put them side by side, "
                           "(batch, D * H): concatenate along dim 1.")] if D == 2 else []
    if D == 2:
        mistakes += [
            (h_n[-1], "you returned h_n[-1] alone: that is the last layer's BACKWARD direction. Its forward direction "
                      "is h_n[-2]: return both, forward then backward, (batch, 2 * H)."),
            (h_n[-2], "you returned h_n[-2] alone, the last layer's forward direction; its backward direction, "
                      "h_n[-1], goes next to it."),
            (torch.cat([h_n[-1], h_n[-2]], dim=1), "you put the backward state first. Keep output's order, forward "
                                                   "then backward."),
            (h_n[-2:].reshape(batch, 2 * H), "h_n[-2:].reshape(batch, -1) mixes samples: dim 0 of h_n[-2:] is the "
                                             "direction, not the batch, so the reshape reads directions and samples "
                                             "in memory order. Concatenate the two (batch, H) states along dim 1, or "
                                             "move the batch first with permute(1, 0, 2) before reshaping."),
        ]
    if L > 1:
        below = "h_n[-2] is the last layer's forward direction" if D == 2 else "h_n[-2] is the layer below"
        if D == 2:
            mistakes.append((torch.cat([h_n[0], h_n[1]], dim=1), "you took h_n[0] and h_n[1], layer 0. h_n goes layer by "
                                                                 "layer from layer 0 up (k = layer * D + direction): the "
                                                                 "last layer is at the end."))
        mistakes.append((h_n[0], "you returned h_n[0], layer 0's forward state. The last layer is at the end of h_n."))
        if D == 1:
            mistakes.append((torch.cat([h_n[-2], h_n[-1]], dim=1), f"this LSTM has one direction: the last layer's "
                                                                  f"final state is h_n[-1] alone; {below}."))
    if D == 2 and L > 2:  # with one or two layers the swapped view can pick the right entries
        swapped = h_n.reshape(2, L, batch, H)  # (num_directions, num_layers, ...): the wrong order
        mistakes += [(torch.cat([swapped[0, -1], swapped[1, -1]], dim=1), VIEW_SWAPPED),
                     (torch.cat(list(swapped[-1]), dim=1), VIEW_SWAPPED)]
    if batch_first:
        read_as_batch_first = h_n.transpose(0, 1).reshape(L, D, batch, H)[-1]
        mistakes.append((torch.cat(list(read_as_batch_first), dim=1), H_N_NOT_BATCH_FIRST))
    return mistakes


def _shape_mistake(name, shape, config, batch, seq):
    """A diagnosis from the shape of a wrong result alone: a dim taken for another, or None."""
    layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
    if name == "from_output" and len(shape) == 2 and shape[0] == seq:
        if config["batch_first"]:
            return (f"has seq = {seq} rows, one per time step, where the batch ({batch}) should be: with "
                    "batch_first=True, output is (batch, seq, D * H), so time is dim 1.")
        return (f"has seq = {seq} rows, one per time step, where the batch ({batch}) should be: with batch_first=False, "
                "output is (seq, batch, D * H): time is dim 0 and the batch dim 1 (output.transpose(0, 1) puts the "
                "batch first).")
    if name == "from_h_n" and len(shape) == 2 and shape[0] == layers:
        return (f"has num_layers * D = {layers} rows, one per layer and direction, where the batch ({batch}) should "
                f"be. {H_N_NOT_BATCH_FIRST}")
    return None


def _judge(name, got, expected, mistakes, where, config, batch, seq):
    """Pass ``got`` if it equals ``expected``; else raise the diagnosis of the mistake it matches."""
    if _matches(got, expected):
        return
    _diagnose(got, mistakes, f"{where}: {name}")
    shape_mistake = _shape_mistake(name, tuple(got.shape), config, batch, seq)
    if shape_mistake:
        raise Mistake(f"{where}: {name} {shape_mistake}")
    try:
        expect_close(name, got, expected, atol=ATOL, where=_by_sample_and_unit,
                     hint="Expected the last layer's final states, forward then backward, (batch, D * H).")
    except Mistake as mistake:
        raise Mistake(f"{where}: {mistake}") from None


@check("final_states: the last layer's final states, from output and from h_n")
def check_final_states(final_states):
    """``final_states(output, h_n, num_layers, bidirectional, batch_first)`` must return ``(from_output, from_h_n)``,
    each ``(batch, D * H)``: the last layer's final states, forward then backward, from ``output`` and from ``h_n``.

    ``output`` and ``h_n`` come from two different inputs, so that each result must come from its own tensor.
    """
    for number, (config, batch, seq) in enumerate(FINAL_STATE_CASES, start=1):
        _, [(output, _, _), (_, h_n, _)] = _run(config, batch, seq, seed=30 + number, runs=2)
        L, bidirectional, batch_first = config["num_layers"], config["bidirectional"], config["batch_first"]
        shown = ", ".join(f"{key}={config[key]}" for key in ("num_layers", "bidirectional", "batch_first", "proj_size"))
        where = f"Case {number}: {shown}; output of shape {tuple(output.shape)}, h_n of shape {tuple(h_n.shape)}"
        try:
            result = call(final_states, output, h_n, L, bidirectional, batch_first)
        except Mistake as mistake:
            message = with_hint(mistake, FINAL_STATES_SIGNATURE, LAYOUT_HINT)
            if "raised AssertionError" in message:
                message += (" The check gives your function output and h_n of two different inputs, so they need not "
                            "agree here: return both, and compare them outside the function.")
            raise Mistake(f"{where}: {message}") from None
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            what = f"one tensor of shape {tuple(result.shape)}" if hasattr(result, "shape") else type(result).__name__
            raise Mistake(f"{where}: return the pair (from_output, from_h_n), got {what}.")
        from_output, from_h_n = (_as_tensor(name, value) for name, value in zip(("from_output", "from_h_n"), result))
        expected_output, expected_h_n = _ends_in_output(output, bidirectional, batch_first), _last_layer_in_h_n(h_n, bidirectional)
        crossed = "the check gives your function output and h_n of two different inputs, so take each result from its own tensor."
        _judge("from_output", from_output, expected_output,
               _output_mistakes(output, bidirectional, batch_first) + [(expected_h_n, f"this is what h_n holds, not output: {crossed}")],
               where, config, batch, seq)
        _judge("from_h_n", from_h_n, expected_h_n,
               _h_n_mistakes(h_n, L, bidirectional, batch_first) + [(expected_output, f"this is what output holds, not h_n: {crossed}")],
               where, config, batch, seq)
    return (f"Your function finds the last layer's final states in output and in h_n for {len(FINAL_STATE_CASES)} LSTMs: "
            "1 to 3 layers, one or two directions, batch first or not, with and without proj_size.")


# ---------------------------------------------------------------------------------------------
# Exercise 3: initial states of the right shape

INIT_CASES = (  # nn.LSTM's arguments, and the batch: none of them the notebook's
    (dict(input_size=2, hidden_size=3), 4),
    (dict(input_size=4, hidden_size=5, num_layers=2, batch_first=True), 3),
    (dict(input_size=2, hidden_size=3, num_layers=3, bidirectional=True, batch_first=True), 5),
    (dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True, proj_size=3), 2),
    (dict(input_size=3, hidden_size=6, num_layers=3, batch_first=True, proj_size=2), 4),
)


def _state_mistake(name, got, expected, config, batch):
    """What a wrong h_0 or c_0 shape says about the learner's reasoning."""
    L, H, P = config.get("num_layers", 1), config["hidden_size"], config.get("proj_size", 0)
    D = 2 if config.get("bidirectional") else 1
    width = expected[-1]
    if len(got) == 2 and got == (expected[0], expected[2]):
        return f"{name} has no batch dim: for a batched input it is (num_layers * num_directions, batch, ...) = {expected}."
    if len(got) == 2 and got == (batch, width):
        return (f"{name} is (batch, {width}), one layer's state without the layers dim: nn.LSTM wants "
                f"(num_layers * num_directions, batch, {width}) = {expected}, as in h_0.unsqueeze(0) for one layer.")
    if got == (batch, L * D, width):
        return (f"{name} is {got}, batch first. batch_first=True changes input and output only; "
                f"h_0 and c_0 are always (num_layers * num_directions, batch, ...) = {expected}.")
    if D == 2 and got == (L, batch, width):
        return (f"{name} has num_layers = {L} entries; a bidirectional LSTM needs one per layer AND direction: "
                f"num_layers * 2 = {2 * L}. Expected {expected}.")
    if got[:2] == expected[:2] and len(got) == 3:
        if name == "h_0" and P and got[2] == H:
            return (f"with proj_size={P}, h is proj_size wide: h_0 should be {expected}, got {got}. "
                    "The cell state c keeps hidden_size.")
        if name == "c_0" and P and got[2] == P:
            return (f"c_0 should be {expected}: only h is projected to proj_size={P}; the cell state c keeps "
                    f"hidden_size={H}.")
    return f"{name} should have shape {expected} (num_layers * num_directions, batch, {'proj_size' if name == 'h_0' and P else 'hidden_size'}), got {got}."


@check("initial_states: zero h_0 and c_0 of the right shapes")
def check_initial_states(initial_states):
    """``initial_states(lstm, batch)`` must return ``(h_0, c_0)``, zeros, shaped as ``lstm`` expects them."""
    for number, (config, batch) in enumerate(INIT_CASES, start=1):
        lstm, _ = _run(config, batch, 3, seed=20 + number)  # the learner's; the check judges with its own below
        reference, _ = _run(config, batch, 3, seed=20 + number)
        shown = ", ".join(f"{key}={value}" for key, value in config.items())
        where = f"Case {number}: nn.LSTM({shown}), batch={batch}"
        try:
            result = call(initial_states, lstm, batch)
        except Mistake as mistake:
            raise Mistake(f"{where}: {mistake}") from None
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            what = f"one tensor of shape {tuple(result.shape)}" if hasattr(result, "shape") else type(result).__name__
            raise Mistake(f"{where}: return the pair (h_0, c_0), got {what}.")
        h_0, c_0 = (_as_tensor(name, value) for name, value in zip(("h_0", "c_0"), result))
        expected = state_shapes(config, batch)  # from the case itself, whatever the answer did to its lstm
        for name, got, shape in (("h_0", h_0, expected[0]), ("c_0", c_0, expected[1])):
            if tuple(got.shape) != shape:
                raise Mistake(f"{where}: {_state_mistake(name, tuple(got.shape), shape, config, batch)}")
            if got.abs().max() > 0:
                raise Mistake(f"{where}: {name} has the right shape but is not all zeros: start from torch.zeros(...), "
                              "which is what nn.LSTM uses when you pass no states.")
        x = torch.zeros((batch, 3, config["input_size"]) if config.get("batch_first") else (3, batch, config["input_size"]))
        with torch.no_grad(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
            try:
                reference(x, tuple(value.to(torch.float32) for value in (h_0, c_0)))
            except RuntimeError as error:  # the shapes were right; something else is off
                raise Mistake(f"{where}: nn.LSTM refused your states: {error}") from None
    return (f"Your states fit {len(INIT_CASES)} LSTMs: one or more layers, one or two directions, batch_first, "
            "and proj_size (h narrower than c).")

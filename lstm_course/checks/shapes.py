"""Checks for notebook 04, bidirectional and stacked LSTMs: finding states in output and h_n."""

import warnings

import torch

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close
from lstm_course.shapes import state_shapes

ATOL = 1e-6


def _run(config, batch, seq, seed):
    """A real nn.LSTM with seeded weights and its results on a random input; the caller's RNG untouched."""
    with torch.random.fork_rng(devices=[]), torch.no_grad(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LSTM with projections is not supported")
        torch.manual_seed(seed)
        lstm = torch.nn.LSTM(**config)
        x = torch.randn((batch, seq, config["input_size"]) if config.get("batch_first") else (seq, batch, config["input_size"]))
        output, (h_n, c_n) = lstm(x)
    return lstm, output, h_n, c_n


def _matches(got, candidate):
    return tuple(got.shape) == tuple(candidate.shape) and bool(torch.allclose(got, candidate.to(got.dtype), atol=ATOL, rtol=0))


def _as_tensor(name, value):
    return torch.as_tensor(as_array(name, value))


def _diagnose(got, candidates, where):
    """Raise the diagnosis of the first wrong candidate that ``got`` equals."""
    for candidate, diagnosis in candidates:
        if _matches(got, candidate):
            raise Mistake(f"{where}: {diagnosis}")


# ---------------------------------------------------------------------------------------------
# Exercise 1: the backward direction's final state, from output

BACKWARD_CASES = (  # (num_layers, hidden_size, batch, seq): batch != seq, so that a swap shows
    (1, 4, 2, 5),
    (2, 3, 3, 4),
    (3, 2, 1, 6),
)


def _backward_case(num_layers, hidden_size, batch, seq, seed):
    config = dict(input_size=3, hidden_size=hidden_size, num_layers=num_layers, bidirectional=True, batch_first=True)
    return _run(config, batch, seq, seed)


@check("backward_final_state: the backward direction's final state, from output")
def check_backward_final_state(backward_final_state):
    """``backward_final_state(output, hidden_size)``, output ``(batch, seq, 2 * hidden_size)`` of a
    bidirectional ``batch_first`` LSTM, must return the last layer's backward final state ``(batch, hidden_size)``."""
    for number, (num_layers, H, batch, seq) in enumerate(BACKWARD_CASES, start=1):
        _, output, h_n, _ = _backward_case(num_layers, H, batch, seq, seed=number)
        where = f"Case {number}: output of shape {tuple(output.shape)} (batch={batch}, seq={seq}, 2 * hidden_size={2 * H})"
        try:
            got = call(backward_final_state, output.clone(), H)
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
        expect_close("your result", got, expected, atol=ATOL, where=lambda index: f"at sample {index[0]}, unit {index[1]}",
                     hint=f"{where}: expected h_n[-1] = output[:, 0, H:], shape (batch, hidden_size).")
    return (f"Your function finds output[:, 0, H:] = h_n[-1] in {len(BACKWARD_CASES)} bidirectional LSTMs "
            f"with 1 to {max(c[0] for c in BACKWARD_CASES)} layers.")


# ---------------------------------------------------------------------------------------------
# Exercise 2: the last layer's final states, from h_n

SUMMARY_CASES = (  # (num_layers, bidirectional, hidden_size, batch)
    (2, True, 3, 4),
    (1, True, 2, 3),
    (3, True, 2, 2),
    (2, False, 3, 4),
    (1, False, 4, 2),
)


def _summary_case(num_layers, bidirectional, hidden_size, batch, seed):
    config = dict(input_size=3, hidden_size=hidden_size, num_layers=num_layers, bidirectional=bidirectional, batch_first=True)
    return _run(config, batch, 5, seed)


@check("last_layer_states: the last layer's final states, from h_n")
def check_last_layer_states(last_layer_states):
    """``last_layer_states(h_n, num_layers, bidirectional)`` must return the last layer's final states,
    ``(batch, num_directions * hidden_size)``: forward then backward, as ``torch.cat([h_n[-2], h_n[-1]], 1)``."""
    for number, (L, bidirectional, H, batch) in enumerate(SUMMARY_CASES, start=1):
        _, _, h_n, _ = _summary_case(L, bidirectional, H, batch, seed=10 + number)
        where = f"Case {number}: num_layers={L}, bidirectional={bidirectional}, h_n of shape {tuple(h_n.shape)}"
        try:
            got = call(last_layer_states, h_n.clone(), L, bidirectional)
        except Mistake as mistake:
            hint = " (a one-direction LSTM has one state per layer)" if not bidirectional and "out of" in str(mistake) else ""
            raise Mistake(f"{where}: {mistake}{hint}") from None
        got = _as_tensor("your result", got)
        expected = torch.cat([h_n[-2], h_n[-1]], dim=1) if bidirectional else h_n[-1]
        if _matches(got, expected):
            continue
        if not bidirectional:
            candidates = [(torch.cat([h_n[-2], h_n[-1]], dim=1),
                           "this LSTM has one direction: the last layer's final state is h_n[-1] alone, (batch, hidden_size).")] if L > 1 else []
            if L > 1:
                candidates.append((h_n[0], "you returned h_n[0], the first layer's state. The last layer's is h_n[-1]."))
        else:
            candidates = _bidirectional_candidates(h_n, L)
        _diagnose(got, candidates, where)
        expect_close("your result", got, expected, atol=ATOL, where=lambda index: f"at sample {index[0]}, unit {index[1]}",
                     hint=f"{where}: expected the last layer's final states, forward then backward, "
                          f"shape (batch, {'2 * ' if bidirectional else ''}hidden_size).")
    return f"Your function picks the last layer's final states out of h_n for {len(SUMMARY_CASES)} LSTMs, one or two directions, 1 to 3 layers."


def _bidirectional_candidates(h_n, L):
    batch, H = h_n.shape[1], h_n.shape[2]
    candidates = [
        (h_n[-1], "you returned h_n[-1], the backward direction alone. The last layer has two final states, "
                  "h_n[-2] (forward) and h_n[-1] (backward): concatenate them, torch.cat([h_n[-2], h_n[-1]], dim=1)."),
        (h_n[-2], "you returned h_n[-2], the forward direction alone; concatenate it with h_n[-1] (backward)."),
        (torch.cat([h_n[-1], h_n[-2]], dim=1), "you put the backward state first. Keep output's order, forward "
                                               "then backward: torch.cat([h_n[-2], h_n[-1]], dim=1)."),
        (h_n[-2:].reshape(batch, 2 * H), "h_n[-2:].reshape(batch, -1) mixes samples: dim 0 of h_n[-2:] is the "
                                         "direction, not the batch, so the reshape reads directions and samples in "
                                         "memory order. Use torch.cat([h_n[-2], h_n[-1]], dim=1), or move the "
                                         "batch dim first with h_n[-2:].permute(1, 0, 2) before reshaping."),
    ]
    if L > 1:
        candidates += [
            (torch.cat([h_n[0], h_n[1]], dim=1), "you took h_n[0] and h_n[1], layer 0. h_n is ordered layer by "
                                                 "layer (k = layer * 2 + direction): the last layer is h_n[-2], h_n[-1]."),
            (torch.cat([h_n[L - 1], h_n[2 * L - 1]], dim=1),
             "you viewed h_n as (num_directions, num_layers, batch, H), but it is layer by layer: "
             "h_n.view(num_layers, num_directions, batch, H)[-1] is the last layer."),
            (h_n[0], "you returned h_n[0], layer 0's forward state. The last layer is at the end of h_n."),
        ]
    return candidates


# ---------------------------------------------------------------------------------------------
# Exercise 3: initial states of the right shape

INIT_CASES = (  # nn.LSTM's arguments, and the batch
    (dict(input_size=3, hidden_size=4), 2),
    (dict(input_size=3, hidden_size=4, num_layers=2, batch_first=True), 3),
    (dict(input_size=2, hidden_size=3, num_layers=2, bidirectional=True, batch_first=True), 5),
    (dict(input_size=3, hidden_size=5, num_layers=3, bidirectional=True, proj_size=2), 2),
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
        lstm, _, _, _ = _run(config, batch, 3, seed=20 + number)
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
        expected = state_shapes(lstm, batch)
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
                lstm(x, tuple(value.to(torch.float32) for value in (h_0, c_0)))
            except RuntimeError as error:  # the shapes were right; something else is off
                raise Mistake(f"{where}: nn.LSTM refused your states: {error}") from None
    return (f"Your states fit {len(INIT_CASES)} LSTMs: one or more layers, one or two directions, batch_first, "
            "and proj_size (h narrower than c).")

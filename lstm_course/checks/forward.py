"""Checks for notebook 03, the hand-written forward pass."""

import torch

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close


def _reference_lstm(input_size, hidden_size, seed, bidirectional=False):
    torch.manual_seed(seed)
    return torch.nn.LSTM(input_size, hidden_size, batch_first=True, bidirectional=bidirectional, dtype=torch.float64)


def _weights(lstm, suffix="_l0"):
    return [getattr(lstm, name + suffix).detach() for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


@check("Project every input in one matmul")
def check_input_projections(input_projections):
    """``input_projections(input, w_ih, b_ih, b_hh)`` -> ``(batch, seq, 4 * hidden)``."""
    lstm = _reference_lstm(3, 4, seed=0)
    w_ih, _, b_ih, b_hh = _weights(lstm)
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    expected = x @ w_ih.T + b_ih + b_hh
    got = as_array("the projections", call(input_projections, x, w_ih, b_ih, b_hh))
    if got.shape != expected.shape:
        hint = " Did you multiply by w_ih instead of w_ih.T?" if got.shape[-1:] == (3,) else ""
        raise Mistake(f"the projections should have shape (batch, seq, 4 * hidden) = {tuple(expected.shape)}, got {got.shape}.{hint}")
    for missing, name in ((b_hh, "b_hh"), (b_ih, "b_ih")):
        if torch.allclose(torch.tensor(got), expected - missing):
            raise Mistake(f"you left out {name}: PyTorch adds both biases, b_ih and b_hh.")
    expect_close("the projections", got, expected, atol=1e-10, where=lambda k: f"at batch {k[0]}, time step {k[1]}, row {k[2]}")
    return "one matmul projects the whole batch at every time step."


def _reverse_case():
    lstm = _reference_lstm(3, 4, seed=1, bidirectional=True)
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    h_0, c_0 = torch.randn(2, 4, dtype=torch.float64), torch.randn(2, 4, dtype=torch.float64)
    zeros = torch.zeros(2, 4, dtype=torch.float64)
    with torch.no_grad():
        output, (h_n, c_n) = lstm(x, (torch.stack([zeros, h_0]), torch.stack([zeros, c_0])))
    expected = output[..., 4:], h_n[1], c_n[1]  # the reverse direction's half
    return x, (h_0, c_0), _weights(lstm, "_l0_reverse"), expected


@check("Run the sequence backwards")
def check_lstm_forward_reverse(lstm_forward_reverse):
    """``lstm_forward_reverse(input, (h_0, c_0), w_ih, w_hh, b_ih, b_hh)`` -> ``output, (h_n, c_n)``
    with output in the input's time order, like the reverse half of a bidirectional nn.LSTM."""
    x, states, weights, (out_exp, h_exp, c_exp) = _reverse_case()
    result = call(lstm_forward_reverse, x, states, *weights)
    try:
        output, (h_n, c_n) = result
    except (TypeError, ValueError):
        raise Mistake("return output, (h_n, c_n), as nn.LSTM does") from None
    output = as_array("output", output)
    if output.shape != tuple(out_exp.shape):
        raise Mistake(f"output should have shape (batch, seq, hidden) = {tuple(out_exp.shape)}, got {output.shape}")
    flipped = out_exp.flip(1).numpy()
    if torch.allclose(torch.tensor(output), torch.tensor(flipped), atol=1e-8):
        raise Mistake("your output is in reversed time order: store the step for time t at output[:, t], so output[:, 0] is the LAST step the reverse direction computes.")
    where = lambda k: f"at batch {k[0]}, time step {k[1]}, unit {k[2]}"  # noqa: E731
    hint = "Hint: walk t from seq - 1 down to 0, starting from (h_0, c_0)."
    expect_close("output", output, out_exp.numpy(), atol=1e-8, hint=hint, where=where)
    h_n, c_n = as_array("h_n", h_n).reshape(-1, 4), as_array("c_n", c_n).reshape(-1, 4)
    if torch.allclose(torch.tensor(h_n), out_exp[:, -1], atol=1e-8) and not torch.allclose(out_exp[:, -1], h_exp, atol=1e-8):
        raise Mistake("h_n is the state at the last time index; the reverse direction ends at time step 0: h_n equals output[:, 0].")
    expect_close("h_n", h_n, h_exp.numpy(), atol=1e-8, hint="h_n is the reverse direction's final state, output[:, 0].")
    expect_close("c_n", c_n, c_exp.numpy(), atol=1e-8, hint="c_n is the cell state after the last step computed (time step 0).")
    return "your loop matches the reverse half of a bidirectional nn.LSTM."

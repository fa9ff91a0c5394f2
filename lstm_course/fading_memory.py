"""How long a recurrent network remembers its first input: a plain RNN beside an LSTM cell.

Two sequences that differ only in their first input go through the same network from zero
states. How far apart their hidden states are at step t measures what step t still holds of
that first input. Weights are drawn as PyTorch initialises ``nn.RNN`` and ``nn.LSTM``:
uniform in ±1/√hidden_size. Notebook 01 opens with this measurement.
"""

import numpy as np

from lstm_course import numpy_lstm

MODELS = ("plain RNN", "LSTM as initialised", "LSTM, forget gate near 1")


def rnn_cell(x, h, w_ih, w_hh, b_ih, b_hh):
    """One step of a plain tanh RNN, as ``nn.RNNCell``: the new h, ``(batch, hidden_size)``."""
    return np.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


def random_weights(input_size, hidden_size, gates, rng):
    """``w_ih``, ``w_hh``, ``b_ih``, ``b_hh`` with ``gates * hidden_size`` rows, uniform in ±1/√hidden_size."""
    bound = 1 / np.sqrt(hidden_size)
    rows = gates * hidden_size
    shapes = {"w_ih": (rows, input_size), "w_hh": (rows, hidden_size), "b_ih": (rows,), "b_hh": (rows,)}
    return {name: rng.uniform(-bound, bound, size=shape) for name, shape in shapes.items()}


def with_forget_bias(weights, forget_bias):
    """A copy of LSTM weights whose forget gate gets ``forget_bias`` more bias (rows H:2H, order i, f, g, o)."""
    hidden_size = weights["w_hh"].shape[1]
    b_ih = weights["b_ih"].copy()
    b_ih[hidden_size : 2 * hidden_size] += forget_bias
    return {**weights, "b_ih": b_ih}


def run(weights, inputs):
    """The states after every step from zero initial states, for ``inputs`` ``(seq, input_size)``.

    LSTM weights (4 * hidden_size rows) give ``{"h", "c", "f"}``, a plain RNN's (hidden_size rows)
    ``{"h"}``, each ``(seq, hidden_size)``.
    """
    hidden_size = weights["w_hh"].shape[1]
    zeros = np.zeros((1, hidden_size))
    if weights["w_hh"].shape[0] == 4 * hidden_size:
        _, _, gates = numpy_lstm.lstm_forward(inputs[None], zeros, zeros, **weights, return_gates=True)
        return {name: gates[name][0] for name in ("h", "c", "f")}
    h, states = zeros, []
    for x in inputs:
        h = rnn_cell(x[None], h, **weights)
        states.append(h[0])
    return {"h": np.array(states)}


def first_input_effect(weights, inputs, change):
    """How far each state moves at every step when the first input moves by ``change``.

    Returns ``{"h": (seq,), ...}``: the distance (Euclidean norm) between the states of the two runs.
    """
    changed = inputs.copy()
    changed[0] = changed[0] + change
    before, after = run(weights, inputs), run(weights, changed)
    return {name: np.linalg.norm(after[name] - before[name], axis=1) for name in before if name != "f"}


def compare_memories(seq=30, input_size=3, hidden_size=16, forget_bias=5.0, seed=0):
    """The first input's effect over ``seq`` steps for the three ``MODELS``, on the same random inputs.

    The LSTM near 1 is the LSTM as initialised with ``forget_bias`` added to its forget gate.
    Returns ``{model: {"h": (seq,), "c": (seq,) for the LSTMs, "f_mean": float for the LSTMs}}``;
    each effect is divided by its own value at step 1, where the first input enters.
    """
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(seq, input_size))
    change = np.eye(input_size)[0]  # the first entry of the first input, moved by 1
    lstm = random_weights(input_size, hidden_size, 4, rng)
    weights = dict(zip(MODELS, (random_weights(input_size, hidden_size, 1, rng), lstm, with_forget_bias(lstm, forget_bias))))
    results = {}
    for model, w in weights.items():
        effect = first_input_effect(w, inputs, change)
        results[model] = {name: values / values[0] for name, values in effect.items()}
        if "c" in effect:
            results[model]["f_mean"] = float(run(w, inputs)["f"].mean())
    return results

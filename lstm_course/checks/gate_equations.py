"""Checks for notebook 01, the gate equations."""

import itertools
import numbers
from types import MappingProxyType

import numpy as np
import torch

from lstm_course.checks._core import Mistake, as_array, call, check, expect_close, with_hint
from lstm_course.numpy_lstm import lstm_cell as reference_cell  # bound here: an answer that rebinds numpy_lstm.lstm_cell changes nothing
from lstm_course.numpy_lstm import sigmoid

PYTORCH_ORDER = "ifgo"
DIAGRAM_ORDER = "figo"  # the order of most diagrams: f, i, C~ (= g), o
_GATE_WORDS = MappingProxyType({"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o"})


def _numbers(values):
    return "[" + ", ".join(f"{v:.4g}" for v in np.ravel(values)) + "]"


# ---------------------------------------------------------------------------------------------
# Exercise 1: one LSTM step in NumPy

STEP_ATOL = 1e-6  # float64 answers agree to ~1e-15; expect_close judges a float32 answer at float32 tolerance
STEP_CASES = ((1, 3, 2), (3, 4, 5), (2, 1, 3))  # (batch, input_size, hidden_size)
STEP_SIGNATURE = "lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh)"
STEP_SHAPE_HINT = (
    "Shapes: x (batch, input_size), h and c (batch, hidden_size), w_ih (4 * hidden_size, input_size), "
    "w_hh (4 * hidden_size, hidden_size), so z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh is (batch, 4 * hidden_size)."
)


def step_case(batch, input_size, hidden_size, seed=0):
    """Random arguments for ``lstm_step``, nothing zero, so that every mistake shows."""
    rng = np.random.default_rng(seed)
    rows = 4 * hidden_size
    return {
        "x": rng.normal(size=(batch, input_size)),
        "h": rng.normal(size=(batch, hidden_size)),
        "c": rng.normal(size=(batch, hidden_size)),
        "w_ih": rng.normal(size=(rows, input_size)),
        "w_hh": rng.normal(size=(rows, hidden_size)),
        "b_ih": rng.normal(size=rows),
        "b_hh": rng.normal(size=rows),
    }


def wrong_step(x, h, c, w_ih, w_hh, b_ih, b_hh, order=PYTORCH_ORDER, g_activation=np.tanh,
               use_b_ih=True, use_b_hh=True, forget=True, input_gate=True, cell_from_h=False,
               tanh_on_c=True, h_from_old_c=False):
    """One LSTM step, with the learner's typical mistakes switched on by the keywords."""
    z = x @ w_ih.T + h @ w_hh.T + (b_ih if use_b_ih else 0) + (b_hh if use_b_hh else 0)
    blocks = dict(zip(order, np.split(z, 4, axis=1)))  # gate name -> (batch, hidden_size)
    i, f, o = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"])
    g = g_activation(blocks["g"])
    kept = (h if cell_from_h else c) * (f if forget else 1)
    c_new = kept + (i if input_gate else 1) * g
    shown = c if h_from_old_c else c_new
    h_new = o * (np.tanh(shown) if tanh_on_c else shown)
    return h_new, c_new


def _order_mistake(order):
    if order == DIAGRAM_ORDER:
        return (
            "Your input and forget gates are swapped: PyTorch's rows are i, f, g, o. The first "
            "hidden_size rows of w_ih, w_hh, b_ih and b_hh belong to the input gate i, the next "
            "hidden_size rows to the forget gate f (many diagrams list f first)."
        )
    return (
        f"You read the four blocks of rows as {', '.join(order)}; PyTorch's rows are i, f, g, o "
        "(blocks of hidden_size rows each, in that order)."
    )


# (what the learner did, keywords of `wrong_step` that do the same), most telling first.
STEP_MISTAKES = (
    *(
        (_order_mistake("".join(order)), {"order": "".join(order)})
        for order in itertools.permutations(PYTORCH_ORDER)
        if "".join(order) != PYTORCH_ORDER
    ),
    ("The candidate g goes through sigmoid; it needs tanh, g = tanh(z_g), so that it can be "
     "negative and the cell can move down as well as up.", {"g_activation": sigmoid}),
    ("The candidate g has no activation: g = tanh(z_g).", {"g_activation": lambda z: z}),
    ("Your h = o * c is missing the tanh on the cell state: h = o * tanh(c).", {"tanh_on_c": False}),
    ("The bias b_ih is missing: PyTorch adds both biases, z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh.", {"use_b_ih": False}),
    ("The bias b_hh is missing: PyTorch adds both biases, z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh.", {"use_b_hh": False}),
    ("Both biases are missing: z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh.", {"use_b_ih": False, "use_b_hh": False}),
    ("Your forget gate multiplies h; it should multiply the previous cell state: c_new = f * c + i * g.",
     {"cell_from_h": True}),
    ("The forget gate is not applied: c_new = f * c + i * g, not c + i * g.", {"forget": False}),
    ("The input gate is not applied: c_new = f * c + i * g, not f * c + g.", {"input_gate": False}),
    ("Your h is computed from the previous cell state; use the new one: h = o * tanh(c_new).", {"h_from_old_c": True}),
)


def _describe_case(number, args):
    batch, input_size = args["x"].shape
    hidden_size = args["h"].shape[1]
    return f"Case {number} (batch={batch}, input_size={input_size}, hidden_size={hidden_size})"


def _where(index):
    return f"at sample {index[0]}, unit {index[1]}" if len(index) == 2 else f"at index {index}"


def _difference(name, got, expected):
    """expect_close's message for the first wrong element, or None if all are close."""
    try:
        expect_close(name, got, expected, atol=STEP_ATOL, where=_where)
    except Mistake as mistake:
        return str(mistake)
    return None


def _close(got, expected):
    """True when expect_close accepts ``got``: the same tolerance as the messages, float32 at float32 tolerance."""
    return _difference("", got, expected) is None


def _pair(result):
    if isinstance(result, (tuple, list)) and len(result) == 2:
        return result
    if isinstance(result, (tuple, list)):
        what = f"a {type(result).__name__} of length {len(result)}"
    elif hasattr(result, "shape"):
        what = f"one array of shape {tuple(result.shape)}"
    else:
        what = f"{type(result).__name__} {result!r:.60}"
    raise Mistake(f"`lstm_step` should return the pair (h, c), got {what}. End with `return h, c`.")


@check("lstm_step: one LSTM step in NumPy")
def check_lstm_step(lstm_step):
    """``lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh) -> (h, c)`` must match ``numpy_lstm.lstm_cell``."""
    cases = [step_case(*sizes, seed=seed) for seed, sizes in enumerate(STEP_CASES)]
    answers = []
    for args in cases:
        try:
            result = call(lstm_step, *args.values())  # x, h, c, w_ih, w_hh, b_ih, b_hh
        except Mistake as mistake:
            raise Mistake(f"{_describe_case(len(answers) + 1, args)}: {with_hint(mistake, STEP_SIGNATURE, STEP_SHAPE_HINT)}") from None
        h_got, c_got = _pair(result)
        answers.append((as_array("h", h_got, keep_float32=True), as_array("c", c_got, keep_float32=True)))

    expected = [reference_cell(**args) for args in cases]
    if all(_close(h, eh) and _close(c, ec) for (h, c), (eh, ec) in zip(answers, expected)):
        return (
            f"Your lstm_step matches numpy_lstm.lstm_cell on {len(cases)} random cases "
            f"(batch up to {max(b for b, _, _ in STEP_CASES)}, hidden_size up to {max(s for _, _, s in STEP_CASES)})."
        )

    number = next(k for k, ((h, c), (eh, ec)) in enumerate(zip(answers, expected)) if not (_close(h, eh) and _close(c, ec)))
    args, (h_got, c_got), (h_expected, c_expected) = cases[number], answers[number], expected[number]
    where = _describe_case(number + 1, args)

    for name, value, reference in (("h", h_got, h_expected), ("c", c_got, c_expected)):
        if value.shape != reference.shape:
            raise Mistake(f"{where}: {name} should have shape {reference.shape} (batch, hidden_size), got {value.shape}. {STEP_SHAPE_HINT}")
    if all(_close(h, ec) and _close(c, eh) for (h, c), (eh, ec) in zip(answers, expected)):
        raise Mistake(
            f"You return (c, h); PyTorch's order is (h, c), as in `h_1, c_1 = cell(x, (h_0, c_0))`. "
            f"{where}: expected h = {_numbers(h_expected[0])} (sample 0), got {_numbers(h_got[0])}."
        )

    for diagnosis, keywords in STEP_MISTAKES:
        if all(_close(h, wh) and _close(c, wc) for (h, c), (wh, wc) in
               zip(answers, (wrong_step(**args, **keywords) for args in cases))):
            difference = _difference("c", c_got, c_expected) or _difference("h", h_got, h_expected)
            raise Mistake(f"{diagnosis} {where}: {difference}")

    c_wrong = _difference("c", c_got, c_expected)
    if c_wrong:
        raise Mistake(
            f"{where}: the new cell state {c_wrong} Hint: c_new = f * c + i * g, with i, f, o = sigmoid "
            "and g = tanh of the blocks of z in PyTorch's order i, f, g, o."
        )
    raise Mistake(
        f"{where}: c is right but the new hidden state {_difference('h', h_got, h_expected)} "
        "Hint: h = o * tanh(c_new), with o = sigmoid of the last block of z."
    )


# ---------------------------------------------------------------------------------------------
# Exercise 2: from the diagrams' gate order to PyTorch's

ORDER_CASES = ((2, 3), (3, 5), (2, None), (1, 2))  # (hidden_size, columns); None: a bias, 1-D


def order_case(hidden_size, columns, seed=0):
    """Random numbers in the f, i, g, o order of a diagram: ``(4 * hidden_size, columns)`` or ``(4 * hidden_size,)``."""
    rng = np.random.default_rng(seed)
    shape = (4 * hidden_size,) if columns is None else (4 * hidden_size, columns)
    return rng.normal(size=shape)


def to_ifgo(w):
    f, i, g, o = np.split(np.asarray(w), 4)
    return np.concatenate([i, f, g, o])


def _block_sources(got, w):
    """For each block of rows the learner returned, the diagram gate it came from (None if none)."""
    given = dict(zip(DIAGRAM_ORDER, np.split(w, 4)))
    return [
        next((name for name, block in given.items() if block.shape == out.shape and np.array_equal(block, out)), None)
        for out in np.split(got, 4)
    ]


@check("to_pytorch_order: f, i, g, o rows into i, f, g, o")
def check_to_pytorch_order(to_pytorch_order):
    """``to_pytorch_order(w)`` must reorder blocks of rows from f, i, g, o to i, f, g, o."""
    for number, (hidden_size, columns) in enumerate(ORDER_CASES, start=1):
        w = order_case(hidden_size, columns, seed=number)
        try:
            got = as_array("the result", call(to_pytorch_order, w))
        except Mistake as mistake:
            raise Mistake(f"Case {number}, w of shape {w.shape}: {with_hint(mistake, 'to_pytorch_order(w)')}") from None
        expected = to_ifgo(w)
        what = f"Case {number}, a {'bias' if columns is None else 'weight'} of shape {w.shape} (hidden_size={hidden_size})"
        if got.shape != expected.shape:
            raise Mistake(f"{what}: the result should have the same shape {expected.shape}, got {got.shape}. Reorder rows; don't drop, add or transpose any.")
        if not np.array_equal(got, expected):
            sources = _block_sources(got, w)
            if None not in sources:
                order = ", ".join(sources)
                if sources == list(DIAGRAM_ORDER):
                    raise Mistake(f"{what}: the rows come back unchanged, in the diagram's order f, i, g, o. Swap the first two blocks of hidden_size rows.")
                if len(set(sources)) < 4:
                    lost = ", ".join(sorted(set(DIAGRAM_ORDER) - set(sources)))
                    raise Mistake(
                        f"{what}: your blocks hold {order}: the rows of {lost} are lost. A swap like "
                        "`w[:H], w[H:2*H] = w[H:2*H], w[:H]` copies through views of the same array, so the "
                        "second assignment reads rows the first one already overwrote. Build a new array "
                        "with np.concatenate, or index with a list of rows."
                    )
                raise Mistake(f"{what}: your blocks come out as {order}; PyTorch's order is i, f, g, o.")
            row = int(np.argwhere(got != expected)[0][0])
            block = PYTORCH_ORDER[row // hidden_size]
            raise Mistake(
                f"{what}: row {row} should be row {row % hidden_size} of the {_GATE_WORDS[block]}. Move whole "
                f"blocks of hidden_size = {hidden_size} rows (w.shape[0] // 4), not single rows. "
                f"Expected row {row}: {_numbers(expected[row])}, got {_numbers(got[row])}."
            )
    return "Blocks of rows f, i, g, o come out as i, f, g, o, for weights and biases, hidden_size 1 to 3."


# ---------------------------------------------------------------------------------------------
# Exercise 3: the parameter count of nn.LSTM

COUNT_CONFIGS = (  # (input_size, hidden_size, num_layers, bidirectional), simplest first
    (8, 64, 1, False),
    (3, 2, 1, False),
    (1, 1, 1, False),
    (10, 20, 2, False),
    (10, 20, 3, False),
    (10, 20, 1, True),
    (10, 20, 2, True),
    (300, 128, 3, True),
)


def torch_num_parameters(input_size, hidden_size, num_layers=1, bidirectional=False):
    """What ``nn.LSTM`` really holds; built on the meta device: no memory, no random numbers drawn."""
    lstm = torch.nn.LSTM(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, device="meta")
    return sum(p.numel() for p in lstm.parameters())


def counted(input_size, hidden_size, num_layers=1, bidirectional=False, biases=2, gates=4,
            later_inputs=None, directions=None, layers=None):
    """The parameter count, with the learner's typical mistakes switched on by the keywords."""
    H = hidden_size
    D = (2 if bidirectional else 1) if directions is None else directions
    total = 0
    for layer in range(num_layers if layers is None else layers):
        inputs = input_size if layer == 0 else (D * H if later_inputs is None else later_inputs(input_size, H))
        total += D * (gates * H * (inputs + H) + biases * gates * H)
    return total


COUNT_MISTAKES = (
    ("You count one bias per gate; PyTorch has two, bias_ih and bias_hh, of 4 * hidden_size each (8 * hidden_size per layer and direction).",
     {"biases": 1}),
    ("You leave out the biases: bias_ih and bias_hh hold 4 * hidden_size numbers each.", {"biases": 0}),
    ("Each weight has 4 * hidden_size rows, one block per gate i, f, g, o: count 4 * hidden_size * (inputs + hidden_size) weights.",
     {"gates": 1}),
    ("You count one layer only: every layer has its own weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k} and bias_hh_l{k}.",
     {"layers": 1}),
    ("Layers after the first take the layer below's output as their input: hidden_size inputs (2 * hidden_size if bidirectional), not input_size.",
     {"later_inputs": lambda input_size, H: input_size}),
    ("With bidirectional=True a layer after the first takes both directions' outputs, 2 * hidden_size inputs, not hidden_size.",
     {"later_inputs": lambda input_size, H: H}),
    ("A bidirectional LSTM has a second full set of parameters per layer (the `_reverse` ones): multiply by 2 directions.",
     {"directions": 1}),
)
COUNT_SIGNATURE = "lstm_num_parameters(input_size, hidden_size, num_layers=1, bidirectional=False)"
COUNT_HINT = (
    "Per layer and direction: weight_ih (4H, inputs), weight_hh (4H, H), bias_ih (4H), bias_hh (4H); "
    "layer 0 takes input_size inputs, later layers H (2H when bidirectional). "
    "Print [(n, p.shape) for n, p in nn.LSTM(...).named_parameters()] to compare."
)


def _config_text(input_size, hidden_size, num_layers, bidirectional):
    return f"input_size={input_size}, hidden_size={hidden_size}, num_layers={num_layers}, bidirectional={bidirectional}"


@check("lstm_num_parameters: count an LSTM's parameters")
def check_lstm_num_parameters(lstm_num_parameters):
    """``lstm_num_parameters(input_size, hidden_size, num_layers=1, bidirectional=False)`` must match ``nn.LSTM``."""
    answers = []
    for config in COUNT_CONFIGS:
        keywords = dict(zip(("input_size", "hidden_size", "num_layers", "bidirectional"), config))
        try:
            got = call(lstm_num_parameters, **keywords)
        except Mistake as mistake:
            raise Mistake(with_hint(mistake, COUNT_SIGNATURE)) from None
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            raise Mistake(f"`lstm_num_parameters({_config_text(*config)})` should return an int, got {type(got).__name__}: {got!r:.80}")
        if not isinstance(got, numbers.Integral):
            if got != int(got):
                raise Mistake(f"`lstm_num_parameters({_config_text(*config)})` returned {got!r}: a count is a whole number. {COUNT_HINT}")
            raise Mistake(f"`lstm_num_parameters({_config_text(*config)})` returned {got!r}, a {type(got).__name__}: return an int (use // rather than /, or int(...)).")
        answers.append(int(got))

    expected = [torch_num_parameters(*config) for config in COUNT_CONFIGS]
    wrong = [k for k, (got, want) in enumerate(zip(answers, expected)) if got != want]
    if not wrong:
        return f"Your counts match nn.LSTM for {len(COUNT_CONFIGS)} configurations, up to {max(expected):,} parameters."

    first = wrong[0]
    config = COUNT_CONFIGS[first]
    message = f"nn.LSTM({_config_text(*config)}) has {expected[first]:,} parameters; your function says {answers[first]:,}."
    for diagnosis, keywords in COUNT_MISTAKES:  # the configurations grow harder: name the first thing missed
        if answers[first] == counted(*config, **keywords):
            raise Mistake(f"{message} {diagnosis}")
    raise Mistake(f"{message} {COUNT_HINT}")

"""An LSTM written by hand (matmuls and elementwise ops) that is a drop-in twin of ``torch.nn.LSTM``.

``HandLSTM`` and ``HandLSTMCell`` have the constructors, parameter names and shapes, and
``forward`` results of ``nn.LSTM`` and ``nn.LSTMCell``, so ``hand.load_state_dict(lstm.state_dict())``
makes them compute the same outputs and gradients. ``lstm_forward`` is one layer, one direction,
batch first: the function notebook 03 builds.
"""

import math
import numbers
import warnings

import torch
from torch import nn

# ----------------------------------------------------------------------------- the computation


def _project(x, w_ih, b_ih=None, b_hh=None):
    """All input projections at once: x ``(seq, batch, in)`` -> ``(seq, batch, 4 * hidden)``."""
    x_proj = x @ w_ih.T
    if b_ih is not None:
        x_proj = x_proj + (b_ih + b_hh)
    return x_proj


def _cell(gates, c):
    """One step from the pre-activations ``gates`` ``(batch, 4 * hidden)``, in order i, f, g, o."""
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _run_direction(x_proj, h, c, w_hh, w_hr=None, reverse=False):
    """The recurrence over x_proj ``(seq, batch, 4 * hidden)``: one matmul per step.

    Returns the outputs ``(seq, batch, h_width)`` in time order and the final ``h``, ``c``.
    With a projection ``w_hr`` ``(proj_size, hidden)``, ``h`` is ``proj_size`` wide.
    """
    seq = x_proj.shape[0]
    outputs = [None] * seq
    for t in reversed(range(seq)) if reverse else range(seq):
        h, c = _cell(x_proj[t] + h @ w_hh.T, c)
        if w_hr is not None:
            h = h @ w_hr.T
        outputs[t] = h
    return torch.stack(outputs), h, c


# ----------------------------------------------------------------------------- input checks


def _require_tensor(name, value):
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} should be a torch.Tensor, got {type(value).__name__}")


def _require_like(name, tensor, reference, reference_name):
    """Same dtype and device as the reference (the module's parameters or the input)."""
    has, is_ = ("have", "are") if reference_name.endswith("s") else ("has", "is")
    if tensor.dtype != reference.dtype:
        raise TypeError(
            f"{name} has dtype {tensor.dtype} but {reference_name} {has} dtype {reference.dtype}: "
            f"convert one of them, e.g. with .to({reference.dtype})"
        )
    if tensor.device != reference.device:
        raise ValueError(
            f"{name} is on {tensor.device} but {reference_name} {is_} on {reference.device}: "
            f"move one of them, e.g. with .to('{reference.device}')"
        )


def _require_shape(name, tensor, expected, layout):
    if tuple(tensor.shape) != tuple(expected):
        raise ValueError(f"{name} should have shape {layout} = {tuple(expected)}, got {tuple(tensor.shape)}")


def _require_int(name, value, minimum):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} should be an int, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} should be at least {minimum}, got {value}")


def _require_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name} should be True or False, got {type(value).__name__}: {value!r}")


def _require_sequence(x):
    if x.shape[0] == 0:
        raise ValueError("input has an empty sequence (length 0); an LSTM needs at least one time step")


# ----------------------------------------------------------------------------- lstm_forward


def lstm_forward(input, initial_states, w_ih, w_hh, b_ih=None, b_hh=None):
    """One layer, one direction: input ``(batch, seq, input_size)``, ``initial_states = (h_0, c_0)``
    each ``(batch, hidden)``. Returns ``output`` ``(batch, seq, hidden)`` and ``(h_n, c_n)`` each
    ``(1, batch, hidden)``, as ``nn.LSTM(batch_first=True)`` returns them.
    """
    _require_tensor("input", input)
    if input.dim() != 3:
        raise ValueError(f"input should have 3 dims (batch, seq, input_size), got shape {tuple(input.shape)}")
    if not isinstance(initial_states, (tuple, list)) or len(initial_states) != 2:
        raise TypeError("initial_states should be a pair (h_0, c_0)")
    h_0, c_0 = initial_states
    for name, value in (("h_0", h_0), ("c_0", c_0), ("w_ih", w_ih), ("w_hh", w_hh)):
        _require_tensor(name, value)
        _require_like(name, value, input, "input")
    batch, _, input_size = input.shape
    hidden = w_hh.shape[-1]
    _require_shape("w_ih", w_ih, (4 * hidden, input_size), "(4 * hidden, input_size)")
    _require_shape("w_hh", w_hh, (4 * hidden, hidden), "(4 * hidden, hidden)")
    for name, value in (("b_ih", b_ih), ("b_hh", b_hh)):
        if value is not None:
            _require_tensor(name, value)
            _require_shape(name, value, (4 * hidden,), "(4 * hidden,)")
    if (b_ih is None) != (b_hh is None):
        raise ValueError("give both biases b_ih and b_hh, or neither")
    _require_shape("h_0", h_0, (batch, hidden), "(batch, hidden)")
    _require_shape("c_0", c_0, (batch, hidden), "(batch, hidden)")
    x = input.transpose(0, 1)  # (seq, batch, input_size)
    _require_sequence(x)

    output, h_n, c_n = _run_direction(_project(x, w_ih, b_ih, b_hh), h_0, c_0, w_hh)
    return output.transpose(0, 1), (h_n[None], c_n[None])


def lstm_forward_tiled(input, initial_states, w_ih, w_hh, b_ih, b_hh):
    """The slow form many tutorials use: weights tiled over the batch, ``bmm`` per step.

    Kept to measure it against the clean form; same arguments and results as `lstm_forward`.
    """
    h, c = initial_states
    batch, seq, _ = input.shape
    hidden = w_hh.shape[-1]
    w_ih_batch = w_ih.unsqueeze(0).tile(batch, 1, 1)  # (batch, 4 * hidden, input_size): a copy per row
    w_hh_batch = w_hh.unsqueeze(0).tile(batch, 1, 1)  # (batch, 4 * hidden, hidden)
    outputs = []
    for t in range(seq):
        x_part = torch.bmm(w_ih_batch, input[:, t].unsqueeze(-1)).squeeze(-1)  # (batch, 4 * hidden)
        h_part = torch.bmm(w_hh_batch, h.unsqueeze(-1)).squeeze(-1)
        h, c = _cell(x_part + h_part + b_ih + b_hh, c)
        outputs.append(h)
    return torch.stack(outputs, dim=1), (h[None], c[None])


# ----------------------------------------------------------------------------- modules


def _uniform_init(module):
    """PyTorch's initialisation of recurrent layers: every parameter from U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for parameter in module.parameters():
        nn.init.uniform_(parameter, -bound, bound)


class HandLSTM(nn.Module):
    """``torch.nn.LSTM`` written by hand: same constructor, parameters and ``forward(input, hx=None)``."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        _require_int("input_size", input_size, 1)
        _require_int("hidden_size", hidden_size, 1)
        _require_int("num_layers", num_layers, 1)
        _require_int("proj_size", proj_size, 0)
        for name, value in (("bias", bias), ("batch_first", batch_first), ("bidirectional", bidirectional)):
            _require_bool(name, value)
        if not isinstance(dropout, numbers.Real) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"dropout should be a probability in [0, 1], got {dropout!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"proj_size should be smaller than hidden_size={hidden_size}, got {proj_size}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout={dropout} has no effect with num_layers=1: dropout is applied between "
                "stacked layers, after every layer but the last",
                stacklevel=2,
            )
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.num_directions = 2 if bidirectional else 1

        factory = {"device": device, "dtype": dtype}
        h_width = proj_size or hidden_size  # the width of h, and of each direction's output
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else h_width * self.num_directions
            for suffix in self._suffixes(layer):
                shapes = {"weight_ih": (4 * hidden_size, layer_input), "weight_hh": (4 * hidden_size, h_width)}
                if bias:
                    shapes.update(bias_ih=(4 * hidden_size,), bias_hh=(4 * hidden_size,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for name, shape in shapes.items():  # registered in nn.LSTM's order
                    self.register_parameter(name + suffix, nn.Parameter(torch.empty(shape, **factory)))
        self.reset_parameters()

    def _suffixes(self, layer):
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def _weights(self, suffix):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction; None where absent."""
        return tuple(getattr(self, name + suffix, None) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def _one_direction(self, x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
        """One layer in one direction over x ``(seq, batch, in)``: ``(output, h_n, c_n)``."""
        return _run_direction(_project(x, w_ih, b_ih, b_hh), h_0, c_0, w_hh, w_hr, reverse)

    def reset_parameters(self):
        _uniform_init(self)

    def flatten_parameters(self):
        """Does nothing: kept so that code written for nn.LSTM runs unchanged."""

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False, proj_size=0)
        for name, default in defaults.items():
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text

    def _state_shapes(self, batch):
        layers = self.num_layers * self.num_directions
        h_width = self.proj_size or self.hidden_size
        return (layers, batch, h_width), (layers, batch, self.hidden_size)

    def _check_input(self, input):
        _require_tensor("input", input)
        if input.dim() not in (2, 3):
            layout = "(batch, seq, input_size)" if self.batch_first else "(seq, batch, input_size)"
            raise ValueError(
                f"input should have 3 dims {layout}, or 2 dims (seq, input_size) without a batch, "
                f"got {input.dim()} dims with shape {tuple(input.shape)}"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"input's last dim should be input_size={self.input_size}, got {input.shape[-1]} "
                f"(input shape {tuple(input.shape)})"
            )
        _require_like("input", input, self.weight_ih_l0, "the module's parameters")

    def _initial_states(self, hx, x, batched):
        """(h_0, c_0) with a batch dim, zeros when hx is None; x is ``(seq, batch, input_size)``."""
        h_shape, c_shape = self._state_shapes(x.shape[1])
        if hx is None:
            return x.new_zeros(h_shape), x.new_zeros(c_shape)
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"hx should be a pair (h_0, c_0), got {type(hx).__name__}" + (f" of length {len(hx)}" if isinstance(hx, (tuple, list)) else ""))
        states = []
        for name, state, shape in (("h_0", hx[0], h_shape), ("c_0", hx[1], c_shape)):
            _require_tensor(name, state)
            _require_like(name, state, x, "input")
            if not batched:
                shape = (shape[0], shape[2])
            layout = "(num_layers * num_directions, batch, " if batched else "(num_layers * num_directions, "
            layout += "proj_size)" if name == "h_0" and self.proj_size else "hidden_size)"
            _require_shape(name, state, shape, layout)
            states.append(state if batched else state.unsqueeze(1))
        return tuple(states)

    def forward(self, input, hx=None):
        self._check_input(input)
        batched = input.dim() == 3
        if not batched:
            x = input.unsqueeze(1)  # (seq, 1, input_size)
        else:
            x = input.transpose(0, 1) if self.batch_first else input  # (seq, batch, input_size)
        _require_sequence(x)
        h_0, c_0 = self._initial_states(hx, x, batched)

        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                k = layer * self.num_directions + direction
                out, h, c = self._one_direction(x, h_0[k], c_0[k], *self._weights(suffix), reverse=direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)  # (seq, batch, num_directions * h_width)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = torch.dropout(x, self.dropout, True)  # between layers, as nn.LSTM does
        h_n, c_n = torch.stack(h_n), torch.stack(c_n)

        if not batched:
            return x.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return (x.transpose(0, 1) if self.batch_first else x), (h_n, c_n)


class HandLSTMCell(nn.Module):
    """``torch.nn.LSTMCell`` written by hand: same constructor, parameters and ``forward(input, hx=None)``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        _require_int("input_size", input_size, 1)
        _require_int("hidden_size", hidden_size, 1)
        _require_bool("bias", bias)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size, **factory))
            self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self)

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def forward(self, input, hx=None):
        _require_tensor("input", input)
        if input.dim() not in (1, 2):
            raise ValueError(
                f"input should have 2 dims (batch, input_size), or 1 dim (input_size,) without a batch, "
                f"got {input.dim()} dims with shape {tuple(input.shape)}"
            )
        if input.shape[-1] != self.input_size:
            raise ValueError(f"input's last dim should be input_size={self.input_size}, got {input.shape[-1]} (input shape {tuple(input.shape)})")
        _require_like("input", input, self.weight_ih, "the module's parameters")
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)  # (batch, input_size)
        h, c = self._initial_states(hx, x, batched)

        h, c = _cell(_project(x, self.weight_ih, self.bias_ih, self.bias_hh) + h @ self.weight_hh.T, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

    def _initial_states(self, hx, x, batched):
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            return x.new_zeros(shape), x.new_zeros(shape)
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"hx should be a pair (h, c), got {type(hx).__name__}" + (f" of length {len(hx)}" if isinstance(hx, (tuple, list)) else ""))
        states = []
        for name, state in (("h", hx[0]), ("c", hx[1])):
            _require_tensor(name, state)
            _require_like(name, state, x, "input")
            expected, layout = (shape, "(batch, hidden_size)") if batched else (shape[1:], "(hidden_size,)")
            _require_shape(name, state, expected, layout)
            states.append(state if batched else state.unsqueeze(0))
        return tuple(states)

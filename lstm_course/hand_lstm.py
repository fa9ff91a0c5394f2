"""An LSTM written by hand (matmuls and elementwise ops) that is a drop-in twin of ``torch.nn.LSTM``.

``HandLSTM`` and ``HandLSTMCell`` have the constructors, parameter names and shapes, and
``forward`` results of ``nn.LSTM`` and ``nn.LSTMCell``, so ``hand.load_state_dict(lstm.state_dict())``
makes them compute the same outputs and gradients. ``HandLSTM`` takes a ``PackedSequence`` as
``nn.LSTM`` does. ``lstm_forward`` is one layer, one direction, batch first: the function
notebook 03 builds.

Bad input raises the exception type ``nn.LSTM`` raises for it, with PyTorch's own message
first and then ours, naming what was expected and what came: `lstm_course.lstm_errors` holds the
checks, in PyTorch's order, and the exception classes (importable from here too).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from lstm_course.lstm_errors import (  # noqa: F401: the exception classes, importable from here as before
    LSTMDeviceError,
    LSTMDtypeError,
    LSTMInputError,
    LSTMShapeError,
    LSTMStateError,
    LSTMTypeError,
    check_cell_arguments,
    check_cell_call,
    check_lstm_arguments,
    check_lstm_call,
    require_like,
    require_shape,
    require_tensor,
)


# ----------------------------------------------------------------------------- the computation


def _cell(gates, c):
    """One step from the pre-activations ``gates`` ``(batch, 4 * hidden)``, in order i, f, g, o."""
    i, f, g, o = gates.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _advance(state, new_rows):
    """``state`` with its first rows replaced by ``new_rows``; the rows after them keep their values."""
    if new_rows.shape[0] == state.shape[0]:
        return new_rows
    return torch.cat([new_rows, state[new_rows.shape[0] :]])


def _run_direction(steps, h, c, w_hh, b_hh=None, w_hr=None, reverse=False):
    """The recurrence, one matmul per step. ``steps[t]`` is step t's input projection ``(batch_t, 4 * hidden)``.

    The batch sizes ``batch_t`` never grow (sequences sorted longest first, as in a
    ``PackedSequence``): at step t only the first ``batch_t`` rows advance; the others have
    ended (or, in reverse, not begun yet) and keep their state. Returns each step's ``h``, in
    time order, and the final ``h``, ``c`` ``(batch, h_width)``. With a projection ``w_hr``
    ``(proj_size, hidden)``, ``h`` is ``proj_size`` wide.
    """
    outputs = [None] * len(steps)
    for t in reversed(range(len(steps))) if reverse else range(len(steps)):
        rows = steps[t].shape[0]
        h_t, c_t = _cell(steps[t] + F.linear(h[:rows], w_hh, b_hh), c[:rows])
        if w_hr is not None:
            h_t = F.linear(h_t, w_hr)
        outputs[t] = h_t
        h, c = _advance(h, h_t), _advance(c, c_t)
    return outputs, h, c


class _Padded:
    """A batch of equal-length sequences, batch-major ``(batch, seq, features)``."""

    def __init__(self, batch, seq):
        self.batch, self.seq = batch, seq
        self.batch_sizes = [batch] * seq  # every sequence runs every step

    def steps(self, x):
        return x.unbind(1)

    def join(self, outputs):
        return torch.stack(outputs, dim=1)

    def dropout(self, x, p):
        """Dropout drawn step by step, in nn.LSTM's order, so that one seed gives both the same masks."""
        return torch.dropout(x.transpose(0, 1).contiguous(), p, True).transpose(0, 1)

    def to_rows(self, x):
        """``(seq * batch, features)``, step by step: the layout of a ``PackedSequence``'s data."""
        return x.transpose(0, 1).reshape(-1, x.shape[-1])

    def from_rows(self, rows):
        return rows.unflatten(0, (self.seq, self.batch)).transpose(0, 1)


class _Packed:
    """A ``PackedSequence``'s data ``(rows, features)``: step t is the next ``batch_sizes[t]`` rows."""

    def __init__(self, batch_sizes):
        self.batch_sizes = batch_sizes

    def steps(self, x):
        return x.split(self.batch_sizes)

    def join(self, outputs):
        return torch.cat(outputs)

    def dropout(self, x, p):
        return torch.dropout(x, p, True)

    def to_rows(self, x):
        return x

    def from_rows(self, rows):
        return rows


# ----------------------------------------------------------------------------- lstm_forward


def lstm_forward(input, initial_states, w_ih, w_hh, b_ih=None, b_hh=None):
    """One layer, one direction: input ``(batch, seq, input_size)``, ``initial_states = (h_0, c_0)``
    each ``(batch, hidden)``. Returns ``output`` ``(batch, seq, hidden)`` and ``(h_n, c_n)`` each
    ``(1, batch, hidden)``, as ``nn.LSTM(batch_first=True)`` returns them.
    """
    require_tensor("input", input)
    if input.dim() != 3:
        raise ValueError(f"input should have 3 dims (batch, seq, input_size), got shape {tuple(input.shape)}")
    if not isinstance(initial_states, (tuple, list)) or len(initial_states) != 2:
        raise TypeError("initial_states should be a pair (h_0, c_0)")
    h_0, c_0 = initial_states
    for name, value in (("h_0", h_0), ("c_0", c_0), ("w_ih", w_ih), ("w_hh", w_hh)):
        require_tensor(name, value)
        require_like(name, value, input, "input")
    batch, seq, input_size = input.shape
    hidden = w_hh.shape[-1]
    require_shape("w_ih", w_ih, (4 * hidden, input_size), "(4 * hidden, input_size)")
    require_shape("w_hh", w_hh, (4 * hidden, hidden), "(4 * hidden, hidden)")
    for name, value in (("b_ih", b_ih), ("b_hh", b_hh)):
        if value is not None:
            require_tensor(name, value)
            require_shape(name, value, (4 * hidden,), "(4 * hidden,)")
    if (b_ih is None) != (b_hh is None):
        raise ValueError("give both biases b_ih and b_hh, or neither")
    require_shape("h_0", h_0, (batch, hidden), "(batch, hidden)")
    require_shape("c_0", c_0, (batch, hidden), "(batch, hidden)")
    if seq == 0:
        raise LSTMShapeError("input has an empty sequence (length 0); an LSTM needs at least one time step")

    x_proj = F.linear(input, w_ih, b_ih)  # every step's input projection in one matmul: (batch, seq, 4 * hidden)
    outputs, h_n, c_n = _run_direction(x_proj.unbind(1), h_0, c_0, w_hh, b_hh)
    return torch.stack(outputs, dim=1), (h_n[None], c_n[None])


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


WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")  # nn.LSTM's order


class HandLSTM(nn.Module):
    """``torch.nn.LSTM`` written by hand: same constructor, parameters and ``forward(input, hx=None)``.

    ``input`` is a tensor (batched or not) or a ``PackedSequence``, as for ``nn.LSTM``.
    """

    mode = "LSTM"  # as nn.RNNBase names it

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
        check_lstm_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.num_directions = 2 if bidirectional else 1

        factory = {"device": device, "dtype": dtype}
        h_width = proj_size or hidden_size  # the width of h, and of each direction's output
        self._all_weights = []  # nn.RNNBase's name: each layer and direction's parameter names
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
                self._all_weights.append([name + suffix for name in shapes])
        self._flat_weights_names = [name for names in self._all_weights for name in names]
        self.reset_parameters()

    def _suffixes(self, layer):
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    @property
    def all_weights(self):
        """Each layer and direction's weights, as ``nn.LSTM.all_weights`` lists them."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        """Every weight in ``_flat_weights_names``'s order, read now (so a reparametrised weight is seen)."""
        return [getattr(self, name) for name in self._flat_weights_names]

    def _weights(self, suffix):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer and direction; None where absent."""
        return tuple(getattr(self, name + suffix, None) for name in WEIGHT_NAMES)

    def _one_direction(self, x, layout, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
        """One layer in one direction over x, laid out as ``layout`` says: ``(output, h_n, c_n)``."""
        x_proj = F.linear(x, w_ih, b_ih)  # every step's input projection in one matmul
        outputs, h_n, c_n = _run_direction(layout.steps(x_proj), h_0, c_0, w_hh, b_hh, w_hr, reverse)
        return layout.join(outputs), h_n, c_n

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

    def _zero_states(self, batch, x):
        """h_0 and c_0 of zeros, ``(layers, batch, width)``, in x's dtype and device."""
        layers = self.num_layers * self.num_directions
        return x.new_zeros(layers, batch, self.proj_size or self.hidden_size), x.new_zeros(layers, batch, self.hidden_size)

    def forward(self, input, hx=None):
        states = check_lstm_call(self, input, hx)  # nn.LSTM's checks, in its order; the states with a batch dim
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, states)
        batched = input.dim() == 3
        if not batched:
            x = input.unsqueeze(0)  # (1, seq, input_size)
        else:
            x = input if self.batch_first else input.transpose(0, 1)  # (batch, seq, input_size)
        batch, seq, _ = x.shape
        h_0, c_0 = states or self._zero_states(batch, x)
        output, h_n, c_n = self._layers(x, _Padded(batch, seq), h_0, c_0)  # output (batch, seq, ...)
        if not batched:
            return output.squeeze(0), (h_n.squeeze(1), c_n.squeeze(1))
        return (output if self.batch_first else output.transpose(0, 1)), (h_n, c_n)

    def _forward_packed(self, packed, states):
        """nn.LSTM on a PackedSequence: rows sorted longest first inside, h_n in the caller's batch order."""
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        if states is None:
            h_0, c_0 = self._zero_states(int(batch_sizes[0]), data)
        elif sorted_indices is not None:  # the caller's order -> longest first
            h_0, c_0 = (state.index_select(1, sorted_indices) for state in states)
        else:
            h_0, c_0 = states
        output, h_n, c_n = self._layers(data, _Packed(batch_sizes.tolist()), h_0, c_0)
        if unsorted_indices is not None:  # back to the caller's order
            h_n, c_n = h_n.index_select(1, unsorted_indices), c_n.index_select(1, unsorted_indices)
        return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), (h_n, c_n)

    def _layers(self, x, layout, h_0, c_0):
        """Every layer and direction over x (laid out as ``layout`` says): ``(output, h_n, c_n)``."""
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                k = layer * self.num_directions + direction
                out, h, c = self._one_direction(x, layout, h_0[k], c_0[k], *self._weights(suffix), reverse=direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)  # (..., num_directions * h_width)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = layout.dropout(x, self.dropout)  # between layers, as nn.LSTM does
        return x, torch.stack(h_n), torch.stack(c_n)


class HandLSTMCell(nn.Module):
    """``torch.nn.LSTMCell`` written by hand: same constructor, parameters and ``forward(input, hx=None)``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        check_cell_arguments(input_size, hidden_size, bias)
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
        states = check_cell_call(self, input, hx)  # nn.LSTMCell's checks, in its order; (h, c) with a batch dim
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)  # (batch, input_size)
        h, c = states or (x.new_zeros(x.shape[0], self.hidden_size),) * 2

        gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        h, c = _cell(gates, c)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))

"""``FastHandLSTM``: ``HandLSTM`` with the fastest recurrence we could write in plain PyTorch on a CPU.

Same constructor, parameters, ``state_dict`` and results as ``HandLSTM`` (and so as ``nn.LSTM``);
only the work of one layer in one direction differs. What made it faster, measured one change at
a time on a 2-core CPU with one thread (``benchmarks/lstm_speed.py`` times the whole modules):

1. **Weights in the layout the matmul wants.** ``@`` and ``torch.addmm`` call MKL, which ran the
   per-step shape 2-4x slower than oneDNN (the library ``nn.LSTM`` runs on) with the weight packed
   once per call into its blocked layout. Forward at the medium and large sizes: from about 2.7x
   ``nn.LSTM``'s time to 1.3-1.6x. Below about 2M multiply-adds per call oneDNN's fixed costs
   win, so small matmuls, float64 and GPUs use ``torch.addmm``.
2. **A backward through time written by hand** (the chain rule of notebook 06) when gradients are
   needed: a loop of in-place ops instead of autograd's graph of a dozen nodes per step, and the
   weight gradient as one large matmul over all steps instead of a small one per step.
   Forward+backward: from 4-5x to about 1.3x.
3. **tanh as expm1(2x) / (expm1(2x) + 2)**, equal to rounding: ``torch.tanh`` ran several times
   slower than ``torch.sigmoid`` here. About 5-10% of the forward.
4. **Buffers allocated once, ops in place** (``out=``, ``sigmoid_``), and ``addmm``'s fused add:
   a few percent each.

Tried and not kept: gate rows reordered to i, f, o, g so that one ``sigmoid_`` covers three gates
(no measurable gain); tanh as 2 * sigmoid(2x) - 1 (faster still, but 1e-7 absolute error near 0
fails the float32 checks); oneDNN's fused add, sigmoid and tanh (slower, or no gain);
``torch.jit.script`` (deprecated, no gain); ``torch.compile`` (2-20 s to compile).
"""

import torch
from torch.autograd.function import once_differentiable

from lstm_course.hand_lstm import HandLSTM

# oneDNN's linear layer with a pre-packed weight: the operators PyTorch's own compiler uses on CPUs.
_ONEDNN = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")
# Measured: below about 2M multiply-adds per call, oneDNN's fixed cost per call (~15 us) and the
# packing (~0.1 ms) outweigh its faster kernel, and torch.addmm is quicker.
_ONEDNN_MIN_WORK = 2**21


def _linear(weight, batch):
    """A function ``x, add -> x @ weight.T + add`` (``add`` is optional), the weight prepared once."""
    weight = weight.detach()
    cpu_float32 = weight.dtype == torch.float32 and weight.device.type == "cpu"
    if _ONEDNN and cpu_float32 and batch * weight.numel() >= _ONEDNN_MIN_WORK:
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, batch)  # oneDNN's blocked layout

        def linear(x, add=None):
            if add is None or add.dim() == 1:  # a bias vector
                return torch.ops.mkldnn._linear_pointwise(x, packed, add, "none", [], "")
            # measured: a separate add_ is faster than oneDNN's fused "add" (_linear_pointwise.binary)
            return torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "").add_(add)

        return linear
    w_t = weight.t()  # a transposed view: BLAS reads it in place, no copy

    def linear(x, add=None):
        return x @ w_t if add is None else torch.addmm(add, x, w_t)

    return linear


def _tanh(x, out):
    """tanh(x) into ``out`` (which may be x), as expm1(2x) / (expm1(2x) + 2).

    As accurate as torch.tanh and, from a few thousand numbers on, faster on CPUs, where torch.tanh
    ran several times slower than exp; below that, its one call beats these five.
    """
    if x.numel() < 4096:
        return torch.tanh(x, out=out)
    t = torch.clamp(x, max=20, out=out).mul_(2).expm1_()  # tanh(20) is 1 to float64's precision
    return t.div_(t + 2)


def _forward(x_proj, h_0, c_0, w_hh, w_hr, reverse, keep):
    """The recurrence of one direction over x_proj ``(seq, batch, 4 * hidden)``.

    Returns ``h`` ``(seq + 1, batch, h_width)``, the state before and after every step (``h[0]``
    is ``h_0``, or ``h[seq]`` in reverse), ``c_n``, and, when ``keep``, what the backward needs:
    every ``c`` like ``h``, and each step's gates, tanh(c) and o * tanh(c).
    """
    seq, batch, _ = x_proj.shape
    hidden = c_0.shape[-1]
    recurrent = _linear(w_hh, batch)
    project = None if w_hr is None else _linear(w_hr, batch)
    rows = seq + 1 if keep else 2  # every c for the backward, or only the last two
    h = x_proj.new_empty(seq + 1, batch, h_0.shape[-1])
    c = x_proj.new_empty(rows, batch, hidden)
    tanh_c = x_proj.new_empty(seq if keep else 1, batch, hidden)  # each step's, or one buffer reused
    m = x_proj.new_empty(seq if keep else 1, batch, hidden)  # o * tanh(c), before the projection w_hr
    gates = [None] * seq  # each step's activated gates i, f, g, o
    first = seq if reverse else 0
    h[first], c[first % rows] = h_0, c_0
    xs, hs, cs = x_proj.unbind(0), h.unbind(0), c.unbind(0)  # views, indexed without a new tensor per step
    tanh_cs, ms = (tanh_c.unbind(0), m.unbind(0)) if keep else ([tanh_c[0]] * seq, [m[0]] * seq)
    for t in reversed(range(seq)) if reverse else range(seq):
        prev, new = (t + 1, t) if reverse else (t, t + 1)  # the states before and after step t
        z = recurrent(hs[prev], xs[t])  # (batch, 4 * hidden): x_proj[t] + h_prev @ w_hh.T
        i, f, g, o = z.chunk(4, dim=1)
        z[:, : 2 * hidden].sigmoid_(), o.sigmoid_(), _tanh(g, out=g)  # activated in place
        torch.mul(f, cs[prev % rows], out=cs[new % rows]).addcmul_(i, g)  # c_t = f * c_{t-1} + i * g
        _tanh(cs[new % rows], out=tanh_cs[t])
        if project is None:
            torch.mul(o, tanh_cs[t], out=hs[new])  # h_t = o * tanh(c_t)
        else:
            hs[new].copy_(project(torch.mul(o, tanh_cs[t], out=ms[t])))
        gates[t] = z if keep else None
    c_n = cs[(0 if reverse else seq) % rows]
    return h, c_n, (c, gates, tanh_c, m) if keep else None


def _output_and_h_n(h, reverse):
    """The outputs ``(seq, batch, h_width)`` in time order and ``h_n``, from the states ``h``."""
    return (h[:-1], h[0]) if reverse else (h[1:], h[-1])


class _Recurrence(torch.autograd.Function):
    """``_forward`` with its backward through time written by hand."""

    @staticmethod
    def forward(ctx, x_proj, h_0, c_0, w_hh, w_hr, reverse):
        h, c_n, (c, gates, tanh_c, m) = _forward(x_proj, h_0, c_0, w_hh, w_hr, reverse, keep=True)
        ctx.reverse, ctx.gates = reverse, gates
        ctx.save_for_backward(w_hh, w_hr, h, c, tanh_c, m)
        return *_output_and_h_n(h, reverse), c_n

    @staticmethod
    @once_differentiable  # a second derivative through this loop is not supported
    def backward(ctx, d_output, d_h_n, d_c_n):
        w_hh, w_hr, h, c, tanh_c, m = ctx.saved_tensors
        seq, batch, hidden = tanh_c.shape
        recurrent_t = _linear(w_hh.t(), batch)  # dz -> dz @ w_hh
        project_t = None if w_hr is None else _linear(w_hr.t(), batch)  # dh -> dh @ w_hr
        dz = d_output.new_empty(seq, batch, 4 * hidden)  # dL/dz, z each step's pre-activations
        dh_all = d_output.new_empty(seq, batch, h.shape[-1])  # dL/dh of each step's output h
        ones = tanh_c.new_ones(batch, hidden)
        dh, dc = d_h_n, d_c_n.clone()
        for t in range(seq) if ctx.reverse else reversed(range(seq)):  # the forward's steps, last first
            prev = t + 1 if ctx.reverse else t
            s, tc = ctx.gates[t], tanh_c[t]
            i, f, g, o = s.chunk(4, dim=1)
            di, df, dg, do = dz[t].chunk(4, dim=1)
            dh = torch.add(dh, d_output[t], out=dh_all[t])  # from output[t] and from step t + 1
            dm = dh if project_t is None else project_t(dh)  # dL/d(o * tanh(c))
            dc.addcmul_(dm * o, torch.addcmul(ones, tc, tc, value=-1))  # h = o * tanh(c); tanh' = 1 - tanh^2
            torch.mul(dm, tc, out=do)
            torch.mul(dc, i, out=dg), torch.mul(dc, c[prev], out=df), torch.mul(dc, g, out=di)  # c = f c_prev + i g
            slope = torch.addcmul(s, s, s, value=-1)  # sigmoid' = s - s^2 for i, f, o ...
            torch.addcmul(ones, g, g, value=-1, out=slope[:, 2 * hidden : 3 * hidden])  # ... tanh' for g
            dz[t].mul_(slope)
            dc.mul_(f)  # dL/dc_{t-1}
            dh = recurrent_t(dz[t])  # dL/dh_{t-1}: (batch, h_width)
        h_prev = h[1:] if ctx.reverse else h[:-1]  # the state each step started from
        d_w_hh = d_w_hr = None
        if ctx.needs_input_grad[3]:  # one matmul over all steps, not one per step
            d_w_hh = dz.view(-1, 4 * hidden).t() @ h_prev.reshape(-1, h.shape[-1])
        if w_hr is not None and ctx.needs_input_grad[4]:
            d_w_hr = dh_all.view(-1, h.shape[-1]).t() @ m.view(-1, hidden)
        return dz, dh, dc, d_w_hh, d_w_hr, None


class FastHandLSTM(HandLSTM):
    """``HandLSTM`` with a faster recurrence: same constructor, parameters and results."""

    def _one_direction(self, x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
        seq, batch, input_size = x.shape
        bias = None if b_ih is None else b_ih + b_hh
        tensors = (x, h_0, c_0, w_ih, w_hh, bias, w_hr)
        x = x.reshape(seq * batch, input_size)
        if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors):
            x_proj = x @ w_ih.t() if bias is None else torch.addmm(bias, x, w_ih.t())  # autograd's backward
            return _Recurrence.apply(x_proj.view(seq, batch, -1), h_0, c_0, w_hh, w_hr, reverse)
        with torch.no_grad():
            x_proj = _linear(w_ih, seq * batch)(x, bias).view(seq, batch, -1)  # (seq, batch, 4 * hidden)
            h, c_n, _ = _forward(x_proj, h_0, c_0, w_hh, w_hr, reverse, keep=False)
        return *_output_and_h_n(h, reverse), c_n

"""``FastHandLSTM``: ``HandLSTM`` with the fastest recurrence we could write in plain PyTorch on a CPU.

Same constructor, parameters, ``state_dict`` and results as ``HandLSTM`` (and so as ``nn.LSTM``);
only the work of one layer in one direction differs: its weights in the layout oneDNN's matmul
wants (``torch.addmm`` for small matmuls, float64 and GPUs), a backward through time written by
hand (notebook 06's chain rule) when gradients are needed, tanh as ``expm1(2x) / (expm1(2x) + 2)``,
buffers allocated once and ops in place. What each change gained, where the time goes and what
was tried and not kept: ``benchmarks/README.md``.

It takes a ``PackedSequence`` through the same loop: the input is laid out as a
``PackedSequence``'s rows (a padded batch is the case where every step has the whole batch), and
at step t only the first ``batch_sizes[t]`` rows advance. A second derivative
(``create_graph=True``) runs the backward through autograd on HandLSTM's readable recurrence, so
that it is correct (slower, not zero), and so does a batch of gradients taken at once under vmap
(``autograd.grad(..., is_grads_batched=True)``, as ``gradcheck``'s ``check_batched_grad`` and
vectorized jacobians ask), where the in-place ops cannot run; under ``torch.func`` (``vmap``,
``grad``) and for per-sample gradients (``ExpandedWeight`` parameters) the whole direction runs
HandLSTM's readable recurrence.
"""

import torch
from lstm_course.hand_lstm import HandLSTM, _run_direction

# True for a tensor that torch.func (vmap, grad) wraps
_FUNCTORCH_WRAPPED = getattr(torch._C._functorch, "is_functorch_wrapped_tensor", lambda tensor: False)
# True for one of the gradients that autograd.grad(..., is_grads_batched=True) runs a backward on at
# once (its own vmap, which gradcheck's check_batched_grad and autograd.functional.jacobian use)
_LEGACY_BATCHED = getattr(torch._C._functorch, "is_legacy_batchedtensor", lambda tensor: False)

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


def _forward(x_proj, batch_sizes, h_0, c_0, w_hh, w_hr, reverse, keep):
    """The recurrence of one direction over x_proj ``(rows, 4 * hidden)``, step t its next ``batch_sizes[t]`` rows.

    As in ``hand_lstm._run_direction``, only the first ``batch_sizes[t]`` sequences advance at
    step t; the others carry their state over. Returns ``h`` ``(seq + 1, batch, h_width)``, the
    state before and after every step (``h[0]`` is ``h_0``, or ``h[seq]`` in reverse), ``c_n``,
    and, when ``keep``, what the backward needs: every ``c`` like ``h``, and each step's gates,
    tanh(c) and o * tanh(c) in x_proj's row layout.
    """
    seq, batch, hidden = len(batch_sizes), h_0.shape[0], c_0.shape[-1]
    recurrent = _linear(w_hh, batch)
    project = None if w_hr is None else _linear(w_hr, batch)
    c_rows = seq + 1 if keep else 2  # every c for the backward, or only the last two
    h = x_proj.new_empty(seq + 1, batch, h_0.shape[-1])
    c = x_proj.new_empty(c_rows, batch, hidden)
    tanh_c = x_proj.new_empty(x_proj.shape[0] if keep else batch, hidden)  # each step's, or one buffer reused
    m = x_proj.new_empty(tanh_c.shape)  # o * tanh(c), before the projection w_hr
    gates = [None] * seq  # each step's activated gates i, f, g, o
    first = seq if reverse else 0
    h[first], c[first % c_rows] = h_0, c_0
    xs, hs, cs = x_proj.split(batch_sizes), h.unbind(0), c.unbind(0)  # views, no new tensor per step
    tanh_cs, ms = (tanh_c.split(batch_sizes), m.split(batch_sizes)) if keep else ([tanh_c] * seq, [m] * seq)
    for t in reversed(range(seq)) if reverse else range(seq):
        prev, new = (t + 1, t) if reverse else (t, t + 1)  # the states before and after step t
        n = batch_sizes[t]  # the sequences that advance
        c_prev, c_new = cs[prev % c_rows], cs[new % c_rows]
        z = recurrent(hs[prev][:n], xs[t])  # (n, 4 * hidden): x_proj[t] + h_prev @ w_hh.T
        i, f, g, o = z.chunk(4, dim=1)
        z[:, : 2 * hidden].sigmoid_(), o.sigmoid_(), _tanh(g, out=g)  # activated in place
        torch.mul(f, c_prev[:n], out=c_new[:n]).addcmul_(i, g)  # c_t = f * c_{t-1} + i * g
        tanh_ct = _tanh(c_new[:n], out=tanh_cs[t][:n])
        if project is None:
            torch.mul(o, tanh_ct, out=hs[new][:n])  # h_t = o * tanh(c_t)
        else:
            hs[new][:n] = project(torch.mul(o, tanh_ct, out=ms[t][:n]))
        if n < batch:  # the rest carry their state over
            hs[new][n:], c_new[n:] = hs[prev][n:], c_prev[n:]
        gates[t] = z if keep else None
    c_n = cs[(0 if reverse else seq) % c_rows]
    return h, c_n, (c, gates, tanh_c, m) if keep else None


def _rows_of_each_step(states, batch_sizes):
    """From ``states`` ``(seq, batch, width)``: each step's first ``batch_sizes[t]`` rows, stacked as ``(rows, width)``."""
    if all(n == states.shape[1] for n in batch_sizes):
        return states.reshape(-1, states.shape[-1])  # a view: every row runs every step
    return torch.cat([state[:n] for state, n in zip(states, batch_sizes)])


def _output_and_h_n(h, batch_sizes, reverse):
    """The outputs in x_proj's row layout ``(rows, h_width)`` and ``h_n``, from the states ``h``."""
    after_each_step, h_n = (h[:-1], h[0]) if reverse else (h[1:], h[-1])
    return _rows_of_each_step(after_each_step, batch_sizes), h_n


class _Recurrence(torch.autograd.Function):
    """``_forward`` with its backward through time written by hand.

    Under ``create_graph=True`` (a second derivative asked for), and for a batch of gradients under
    vmap, the backward is the readable recurrence's, through autograd, on the same inputs: slower,
    differentiable again, and made of ops that vmap knows.
    """

    @staticmethod
    def forward(ctx, x_proj, h_0, c_0, w_hh, w_hr, batch_sizes, reverse):
        h, c_n, (c, gates, tanh_c, m) = _forward(x_proj, batch_sizes, h_0, c_0, w_hh, w_hr, reverse, keep=True)
        ctx.reverse, ctx.gates, ctx.batch_sizes = reverse, gates, batch_sizes
        ctx.save_for_backward(x_proj, h_0, c_0, w_hh, w_hr, h, c, tanh_c, m)
        return *_output_and_h_n(h, batch_sizes, reverse), c_n

    @staticmethod
    def backward(ctx, d_output, d_h_n, d_c_n):
        if torch.is_grad_enabled() or not all(_is_plain(d) and not _LEGACY_BATCHED(d) for d in (d_output, d_h_n, d_c_n)):
            # create_graph=True (the gradient itself will be differentiated), or a batch of
            # gradients under vmap, where the out= ops and the writes into buffers below cannot run
            return _differentiable_backward(ctx, d_output, d_h_n, d_c_n)
        x_proj, h_0, c_0, w_hh, w_hr, h, c, tanh_c, m = ctx.saved_tensors
        batch_sizes, batch, hidden = ctx.batch_sizes, h.shape[1], c.shape[-1]
        recurrent_t = _linear(w_hh.t(), batch)  # dz -> dz @ w_hh
        project_t = None if w_hr is None else _linear(w_hr.t(), batch)  # dh -> dh @ w_hr
        dz = d_output.new_empty(x_proj.shape)  # dL/dz, z each step's pre-activations
        dh_all = d_output.new_empty(d_output.shape)  # dL/dh of each step's output h
        dz_steps, dh_steps = dz.split(batch_sizes), dh_all.split(batch_sizes)
        d_outputs, tanh_cs = d_output.split(batch_sizes), tanh_c.split(batch_sizes)
        ones = tanh_c.new_ones(batch, hidden)
        dh, dc = d_h_n.clone(), d_c_n.clone()  # (batch, width): a row keeps its gradient while it waits
        for t in range(len(batch_sizes)) if ctx.reverse else reversed(range(len(batch_sizes))):  # last step first
            n, prev = batch_sizes[t], t + 1 if ctx.reverse else t
            s, tc, dc_n = ctx.gates[t], tanh_cs[t], dc[:n]
            i, f, g, o = s.chunk(4, dim=1)
            di, df, dg, do = dz_steps[t].chunk(4, dim=1)
            dh_t = torch.add(dh[:n], d_outputs[t], out=dh_steps[t])  # from output[t] and from step t + 1
            dm = dh_t if project_t is None else project_t(dh_t)  # dL/d(o * tanh(c))
            dc_n.addcmul_(dm * o, torch.addcmul(ones[:n], tc, tc, value=-1))  # h = o * tanh(c); tanh' = 1 - tanh^2
            torch.mul(dm, tc, out=do)
            torch.mul(dc_n, i, out=dg), torch.mul(dc_n, c[prev][:n], out=df), torch.mul(dc_n, g, out=di)  # c = f c_prev + i g
            slope = torch.addcmul(s, s, s, value=-1)  # sigmoid' = s - s^2 for i, f, o ...
            torch.addcmul(ones[:n], g, g, value=-1, out=slope[:, 2 * hidden : 3 * hidden])  # ... tanh' for g
            dz_steps[t].mul_(slope)
            dc_n.mul_(f)  # dL/dc_{t-1}
            dh_prev = recurrent_t(dz_steps[t])  # dL/dh_{t-1}
            if n == batch:
                dh = dh_prev
            else:
                dh[:n] = dh_prev
        d_w_hh = d_w_hr = None
        if ctx.needs_input_grad[3]:  # one matmul over all steps, not one per step
            h_prev = _rows_of_each_step(h[1:] if ctx.reverse else h[:-1], batch_sizes)  # the state each step started from
            d_w_hh = dz.t() @ h_prev
        if w_hr is not None and ctx.needs_input_grad[4]:
            d_w_hr = dh_all.t() @ m
        return dz, dh, dc, d_w_hh, d_w_hr, None, None


def _differentiable_backward(ctx, d_output, d_h_n, d_c_n):
    """The gradients through autograd of the readable recurrence; with a graph when grad mode is on, so that they can be differentiated."""
    x_proj, h_0, c_0, w_hh, w_hr = ctx.saved_tensors[:5]
    inputs = [x_proj, h_0, c_0, w_hh, w_hr]
    wanted = [k for k, needed in enumerate(ctx.needs_input_grad[:5]) if needed]
    create_graph = torch.is_grad_enabled()  # only when the gradient will be differentiated
    with torch.enable_grad():
        outputs, h_n, c_n = _run_direction(x_proj.split(ctx.batch_sizes), h_0, c_0, w_hh, None, w_hr, ctx.reverse)
        grads = torch.autograd.grad(
            (torch.cat(outputs), h_n, c_n), [inputs[k] for k in wanted], (d_output, d_h_n, d_c_n), create_graph=create_graph, allow_unused=True
        )
    result = [None] * 7
    for k, grad in zip(wanted, grads):
        result[k] = grad
    return tuple(result)


def _is_plain(tensor):
    """A tensor the fast path can run on: not a subclass (per-sample gradients' ExpandedWeight), not inside vmap."""
    return tensor is None or (type(tensor) in (torch.Tensor, torch.nn.Parameter) and not _FUNCTORCH_WRAPPED(tensor))


class FastHandLSTM(HandLSTM):
    """``HandLSTM`` with a faster recurrence: same constructor, parameters and results.

    Under ``torch.func`` transforms (``vmap``, ``grad``) and for per-sample gradients
    (``ExpandedWeight``), it runs HandLSTM's readable recurrence, which those support.
    """

    def _one_direction(self, x, layout, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
        tensors = (x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr)
        if not all(_is_plain(t) for t in tensors):
            return super()._one_direction(x, layout, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse)
        bias = None if b_ih is None else b_ih + b_hh
        rows = layout.to_rows(x)  # (rows, input_size), step after step
        batch_sizes = tuple(layout.batch_sizes)
        if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors):
            x_proj = torch.nn.functional.linear(rows, w_ih, bias)  # autograd's backward
            output, h_n, c_n = _Recurrence.apply(x_proj, h_0, c_0, w_hh, w_hr, batch_sizes, reverse)
        else:
            with torch.no_grad():
                x_proj = _linear(w_ih, rows.shape[0])(rows, bias)  # (rows, 4 * hidden)
                h, c_n, _ = _forward(x_proj, batch_sizes, h_0, c_0, w_hh, w_hr, reverse, keep=False)
                output, h_n = _output_and_h_n(h, batch_sizes, reverse)
        return layout.from_rows(output), h_n, c_n

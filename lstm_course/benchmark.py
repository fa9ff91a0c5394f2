"""Time the course's LSTMs as ratios to ``torch.nn.LSTM``, and measure what they allocate.

A ratio of 2.0 means twice as slow as ``nn.LSTM`` on the same machine, in the same run. Each
repeat times every implementation back to back and divides by that repeat's ``nn.LSTM`` time,
so that a machine that slows down for a while slows both sides of a ratio; the result is the
median over repeats. ``benchmarks/lstm_speed.py`` prints them all; a notebook can call
``time_ratios`` for a few sizes and implementations.
"""

import contextlib
import os
import statistics
import sys
import time

import numpy as np
import torch

from lstm_course import numpy_lstm
from lstm_course.fast_lstm import FastHandLSTM
from lstm_course.hand_lstm import HandLSTM, lstm_forward, lstm_forward_tiled

SIZES = {  # (batch, seq, input_size, hidden_size)
    "tutorial": (32, 10, 8, 64),
    "medium": (64, 100, 128, 256),
    "large": (16, 200, 256, 512),
}
IMPLEMENTATIONS = {  # name -> what it is
    "tiled": "the tiled form: weights tiled over the batch, bmm per step",
    "lstm_forward": "lstm_forward: one matmul for the inputs, one per step",
    "HandLSTM": "HandLSTM, the drop-in module",
    "FastHandLSTM": "FastHandLSTM, the fastest variant",
    "numpy": "numpy_lstm.lstm_forward in float32 (forward only)",
    "HandLSTM packed": "HandLSTM on a PackedSequence of random lengths, against nn.LSTM on the same one",
    "FastHandLSTM packed": "FastHandLSTM on a PackedSequence of random lengths, against nn.LSTM on the same one",
}
# What each implementation is timed against; nn.LSTM on the padded batch where not named here.
REFERENCES = {"HandLSTM packed": "nn.LSTM packed", "FastHandLSTM packed": "nn.LSTM packed"}
MODES = ("forward", "forward+backward")


def _calls(shape, mode, implementations, seed=0):
    """``{name: call}`` for ``nn.LSTM`` and each implementation, on the same float32 weights and input."""
    batch, seq, input_size, hidden_size = shape
    torch.manual_seed(seed)
    reference = torch.nn.LSTM(input_size, hidden_size, batch_first=True)
    x = torch.randn(batch, seq, input_size)  # (batch, seq, input_size)
    h_0, c_0 = torch.zeros(batch, hidden_size), torch.zeros(batch, hidden_size)
    weights = [reference.weight_ih_l0, reference.weight_hh_l0, reference.bias_ih_l0, reference.bias_hh_l0]
    modules = {}
    for name, cls in (("HandLSTM", HandLSTM), ("FastHandLSTM", FastHandLSTM)):
        modules[name] = cls(input_size, hidden_size, batch_first=True)
        modules[name].load_state_dict(reference.state_dict())
    lengths = torch.randint(seq // 2, seq + 1, (batch,))  # between half and all of the steps
    lengths[0] = seq
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    forwards = {
        "nn.LSTM": lambda: reference(x)[0],
        "nn.LSTM packed": lambda: reference(packed)[0].data,
        "HandLSTM packed": lambda: modules["HandLSTM"](packed)[0].data,
        "FastHandLSTM packed": lambda: modules["FastHandLSTM"](packed)[0].data,
        "tiled": lambda: lstm_forward_tiled(x, (h_0, c_0), *weights)[0],
        "lstm_forward": lambda: lstm_forward(x, (h_0, c_0), *weights)[0],
        "HandLSTM": lambda: modules["HandLSTM"](x)[0],
        "FastHandLSTM": lambda: modules["FastHandLSTM"](x)[0],
    }
    parameters = {"nn.LSTM": weights, "nn.LSTM packed": weights, "tiled": weights, "lstm_forward": weights}
    parameters.update({name: list(module.parameters()) for name, module in modules.items()})
    parameters.update({name + " packed": list(module.parameters()) for name, module in modules.items()})

    def inference(forward):
        def call():
            with torch.no_grad():
                forward()

        return call

    def training(forward, params):
        return lambda: torch.autograd.grad(forward().sum(), params)  # gradients of every weight

    calls = {}
    for name in dict.fromkeys(["nn.LSTM", *(REFERENCES.get(name, "nn.LSTM") for name in implementations), *implementations]):
        if name == "numpy":
            if mode == "forward":
                arrays = [t.detach().numpy() for t in (x, h_0, c_0, *weights)]
                calls[name] = lambda arrays=arrays: numpy_lstm.lstm_forward(*arrays)
        elif mode == "forward":
            calls[name] = inference(forwards[name])
        else:
            calls[name] = training(forwards[name], parameters[name])
    return calls


def _seconds(call, number):
    start = time.perf_counter()
    for _ in range(number):
        call()
    return (time.perf_counter() - start) / number


def _number(seconds, min_seconds):
    """How many calls one timing needs to last about ``min_seconds``."""
    return max(1, round(min_seconds / max(seconds, 1e-9)))


def time_ratios(sizes=("tutorial",), implementations=tuple(IMPLEMENTATIONS), repeats=5, modes=MODES, threads=None, min_seconds=0.05, max_seconds=2.0):
    """Median ratios of each implementation's time to ``nn.LSTM``'s, per size and mode.

    ``sizes``: names from ``SIZES``; ``implementations``: names from ``IMPLEMENTATIONS``;
    ``threads``: set ``torch.set_num_threads`` for the measurement (restored afterwards). NumPy's
    BLAS keeps the threads it started with: set ``OPENBLAS_NUM_THREADS`` before Python starts to
    match (on a busy 2-core machine, a 2-thread OpenBLAS ran these small matmuls up to 8x slower).
    Calls shorter than ``min_seconds`` are repeated within one timing. An implementation whose
    warm-up call alone takes longer than ``max_seconds`` is timed by that call only, against an
    ``nn.LSTM`` call just before it, so that one very slow form does not take minutes.

    The packed implementations are timed against ``nn.LSTM`` on the same ``PackedSequence``
    (``REFERENCES``), the others against ``nn.LSTM`` on the padded batch.

    Returns ``{size: {"shape": (batch, seq, input_size, hidden_size),
    "nn.LSTM seconds": {mode: median seconds}, "ratios": {implementation: {mode: median ratio}},
    "samples": {implementation: {mode: [ratio of each repeat]}}}}``. The NumPy version has
    no backward, so it has no "forward+backward" entry.
    """
    unknown = [name for name in implementations if name not in IMPLEMENTATIONS] + [name for name in sizes if name not in SIZES]
    if unknown:
        raise ValueError(f"unknown sizes or implementations {unknown}: sizes are {list(SIZES)}, implementations {list(IMPLEMENTATIONS)}")
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats should be a whole number of at least 1, got {repeats!r}")
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        results = {}
        for size in sizes:
            result = results[size] = {"shape": SIZES[size], "nn.LSTM seconds": {}, "ratios": {}, "samples": {}}
            for mode in modes:
                _time_one_mode(result, mode, _calls(SIZES[size], mode, implementations), min_seconds, max_seconds, repeats)
        return results
    finally:
        torch.set_num_threads(previous_threads)


def _time_one_mode(result, mode, calls, min_seconds, max_seconds, repeats):
    """Fill ``result``'s seconds, samples and ratios for one mode from ``calls`` ({name: call})."""
    references = [name for name in calls if name.startswith("nn.LSTM")]
    numbers = {}  # calls per timing
    for name in references:
        calls[name]()  # warm-up
        numbers[name] = _number(_seconds(calls[name], 1), min_seconds)
    samples = {name: [] for name in calls if name not in references}
    reference_times = {name: [] for name in references}
    for name in samples:  # warm-up; a very slow form is timed by it, against its reference just before
        before = _seconds(calls[REFERENCES.get(name, "nn.LSTM")], numbers[REFERENCES.get(name, "nn.LSTM")])
        seconds = _seconds(calls[name], 1)
        numbers[name] = _number(seconds, min_seconds)
        if seconds > max_seconds:
            samples[name].append(seconds / before)
    timed = [name for name in samples if not samples[name]]
    for _ in range(repeats):  # each repeat times every implementation back to back
        for name in references:
            reference_times[name].append(_seconds(calls[name], numbers[name]))
        for name in timed:
            samples[name].append(_seconds(calls[name], numbers[name]) / reference_times[REFERENCES.get(name, "nn.LSTM")][-1])
    result["nn.LSTM seconds"][mode] = statistics.median(reference_times["nn.LSTM"])
    for name, ratios in samples.items():
        result["samples"].setdefault(name, {})[mode] = ratios
        result["ratios"].setdefault(name, {})[mode] = statistics.median(ratios)


# ----------------------------------------------------------------------------- memory


def weight_bytes(shape, bytes_per_number=4):
    """Bytes of ``w_ih`` and ``w_hh`` once, and tiled over the batch as the tiled form does."""
    batch, _, input_size, hidden_size = shape
    once = 4 * hidden_size * (input_size + hidden_size) * bytes_per_number
    return once, batch * once


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send what C++ code writes to stderr (file descriptor 2) to /dev/null for a while.

    torch.profiler's Kineto writes a "USDT ... profiler_start / profiler_stop" line there for
    every profile, below Python, where ``contextlib.redirect_stderr`` cannot reach it.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_bytes(call):
    """The most bytes that PyTorch's allocator held at once during ``call()``, from ``torch.profiler``.

    Counts tensors only: memory a library allocates on its own (oneDNN's workspace inside
    ``nn.LSTM``, NumPy arrays) is not seen.
    """
    with _native_stderr_silenced(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as profile:
        call()
    live = peak = 0
    for event in sorted(profile.events(), key=lambda event: event.time_range.start):
        live += event.self_cpu_memory_usage  # + allocations, - frees, in time order
        peak = max(peak, live)
    return peak


def memory_report(sizes=tuple(SIZES), implementations=("tiled", "lstm_forward", "HandLSTM", "FastHandLSTM")):
    """``{size: {"weights": bytes, "tiled weights": bytes, "peak": {name: bytes}}}``, forward in float32."""
    report = {}
    for size in sizes:
        once, tiled = weight_bytes(SIZES[size])
        calls = _calls(SIZES[size], "forward", [name for name in implementations if name != "numpy"])
        report[size] = {"weights": once, "tiled weights": tiled, "peak": {name: peak_bytes(call) for name, call in calls.items()}}
    return report


def numpy_blas():
    """One line naming the BLAS library NumPy uses, its version and threads where known."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        detail = " ".join(str(config.get(key, "")) for key in ("name", "version", "openblas configuration"))
        return " ".join(detail.split()) + " (as built, from numpy.show_config)"
    found = [f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture', '?')}, {info.get('num_threads')} threads)" for info in threadpool_info() if info.get("user_api") == "blas"]
    return "; ".join(found) or "none found"

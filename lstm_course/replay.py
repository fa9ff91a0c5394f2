"""Training runs recorded once and replayed where nobody watches a model train.

A learner's notebook always trains. Under nbgrader (``NBGRADER_EXECUTION`` set), or where
``LSTM_COURSE_REPLAY`` is set, a training run that the package holds a record of is not repeated:
its final weights, its history and the global random state it left are restored instead, so every
cell after it sees what a real run gives. A run is known by everything that decides its result:
the model's classes and initial weights, the training data, the recipe, the global random state
before it, and the source of the course's modules that train it. Anything else trains for real.

The authoring tools record the runs while they execute a notebook (``LSTM_COURSE_RECORD`` names
the notebook), into ``lstm_course/runs/NOTEBOOK-IDENTITY.pt``.
"""

import dataclasses
import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import torch

RUNS = Path(__file__).parent / "runs"
REPLAY = "LSTM_COURSE_REPLAY"  # "1": replay what is recorded; "strict": a run without a record is an error
RECORD = "LSTM_COURSE_RECORD"  # the name of the notebook whose runs are being recorded


class MissingRun(RuntimeError):
    """Strict replay met a training run that no record holds."""


def replaying():
    return bool(os.environ.get(REPLAY) or os.environ.get("NBGRADER_EXECUTION"))


def _feed(digest, value):
    """Add ``value`` to ``digest``: tensors and arrays by their bytes, containers item by item."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        digest.update(f"array{value.dtype}{value.shape}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        digest.update(f"dict{len(value)}".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, (list, tuple)):
        if all(isinstance(item, (int, float, str)) for item in value):
            digest.update(repr(value).encode())
        else:
            digest.update(f"{type(value).__name__}{len(value)}".encode())
            for item in value:
                _feed(digest, item)
    elif dataclasses.is_dataclass(value) or hasattr(value, "__dict__"):
        digest.update(type(value).__qualname__.encode())
        _feed(digest, vars(value))
    else:
        digest.update(repr(value).encode())


def _course_sources(model, code):
    """The source files of the course's modules that define the model's parts and the training code."""
    modules = {type(part).__module__ for part in model.modules()} | {thing.__module__ for thing in code}
    files = {Path(sys.modules[name].__file__) for name in modules if name.split(".")[0] == "lstm_course"}
    return [path.read_bytes() for path in sorted(files)]


def identity(model, recipe, data, code):
    """A short hash of everything that decides a training run's result (see the module's docstring)."""
    digest = hashlib.sha256()
    _feed(digest, [type(part).__qualname__ for part in model.modules()])
    _feed(digest, model.state_dict())
    _feed(digest, recipe)
    _feed(digest, data)
    _feed(digest, torch.get_rng_state())
    _feed(digest, _course_sources(model, code))
    return digest.hexdigest()[:20]


def trained(model, recipe, data, code, train, history_type=dict):
    """``train()`` trains ``model`` in place and returns its history, a ``history_type`` (a dict or a dataclass).

    Replaying, a recorded run with the same identity is restored instead; recording, the run is
    saved. ``code``: the functions and classes that train (their modules' source is part of the
    identity). Returns the history.
    """
    on_cpu = all(p.device.type == "cpu" for p in model.parameters())
    key = identity(model, recipe, data, code) if on_cpu else None
    if key and replaying():
        found = sorted(RUNS.glob(f"*-{key}.pt"))
        if found:
            return _restore(model, found[0], history_type)
        if os.environ.get(REPLAY) == "strict":
            raise MissingRun(f"no recorded run {key} in {RUNS}: re-execute the notebook with the authoring tools")
    history = train()
    if key and os.environ.get(RECORD):
        _save(RUNS / f"{os.environ[RECORD]}-{key}.pt", model, history)
    return history


def _save(path, model, history):
    fields = dataclasses.asdict(history) if dataclasses.is_dataclass(history) else dict(history)
    path.parent.mkdir(exist_ok=True)
    run = {"state": model.state_dict(), "training": model.training, "history": fields, "rng": torch.get_rng_state()}
    torch.save(run, path)


def _restore(model, path, history_type):
    run = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(run["state"])
    model.train(run["training"])
    torch.set_rng_state(run["rng"])
    return history_type(**run["history"])

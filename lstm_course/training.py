"""The course's one training loop: Adam, clipping, a progress bar, the best epoch kept, a History.

The loop knows no task. What differs between notebook 05's classifier, notebook 06's recall task
and notebook 07's language model is a *task* object handed to ``fit``:

- ``steps(train, batch_size)``: how many batches one epoch has;
- ``batches(train, batch_size, generator)``: one epoch's batches, drawn with ``generator``;
- ``loss(model, batch, device)``: ``(mean loss of the batch, how many examples it averages)``;
- ``evaluate(model, validation)``: ``(mean loss, accuracy)`` on the validation data
  (``fit`` calls it in eval mode, under ``torch.no_grad()``);
- ``keep_best``: ``"accuracy"`` (the epoch with the highest validation accuracy), ``"loss"``
  (the lowest validation loss) or ``None`` (the last epoch).
"""

import copy
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from lstm_course import replay


@dataclass
class History:
    """One entry per epoch; ``best_epoch`` is the one whose weights the model keeps."""

    train_loss: list = field(default_factory=list)
    validation_loss: list = field(default_factory=list)
    validation_accuracy: list = field(default_factory=list)
    seconds: list = field(default_factory=list)  # training time so far, evaluation excluded
    best_epoch: int = 0
    step_loss: list = field(default_factory=list)  # every batch's loss, in order
    grad_norm: list = field(default_factory=list)  # every batch's gradient norm, before clipping

    @property
    def best_validation_accuracy(self):
        return self.validation_accuracy[self.best_epoch - 1]


KEEP_BEST = ("accuracy", "loss", None)


def _improved(task, history):
    """Is the last epoch the one to keep so far, by the task's criterion?"""
    if task.keep_best == "loss":
        return history.validation_loss[-1] < history.validation_loss[history.best_epoch - 1]
    if task.keep_best == "accuracy":
        return history.validation_accuracy[-1] > history.best_validation_accuracy
    return True


def fit(model, task, train, validation, epochs=8, lr=1e-3, batch_size=64, weight_decay=0.0, seed=0, clip=None,
        stop_at=None, progress=True, description="training"):
    """Adam on the task's loss; after every epoch, score the validation data and keep the best weights.

    ``clip``: rescale the gradients so that their norm is at most ``clip`` (None: never); every
    batch's norm before clipping goes into ``History.grad_norm``. ``stop_at``: stop after the first
    epoch whose validation accuracy is at least ``stop_at``. Returns a History. Batches are drawn
    with a generator seeded with ``seed``; dropout draws from PyTorch's global generator, which the
    caller seeds. Under grading a recorded run of the same training is restored instead
    (``lstm_course.replay``).
    """
    if task.keep_best not in KEEP_BEST:
        raise ValueError(f"task.keep_best should be one of {KEEP_BEST}, got {task.keep_best!r}")
    recipe = dict(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay, seed=seed, clip=clip,
                  stop_at=stop_at, task=task)
    return replay.trained(model, recipe, (train, validation), (fit, type(task)), history_type=History,
                          train=lambda: loop(model, train, validation, progress, description, **recipe))


def progress_bar(total, description, enabled=True):
    """The course's progress bar: at most about 100 redraws, whatever the length of the run.

    Each redraw of a notebook's bar is a pair of messages from the kernel, and a client that reads
    them only after the cell has finished (nbval does) loses them once they pass what its socket
    holds, the kernel's last "idle" message with them. So the bar is redrawn after every hundredth
    of the work, at most once a second.
    """
    from tqdm.auto import tqdm  # here, so that importing this module (and the checks) needs no tqdm

    return tqdm(total=total, desc=description, unit="batch", disable=not enabled, leave=True,
                miniters=max(1, total // 100), mininterval=1.0)


def loop(model, train, validation, progress, description, epochs, lr, batch_size, weight_decay, seed, clip, stop_at,
         task):
    """The loop itself, every argument given: what ``fit`` runs when it does not replay a recorded run."""
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    max_norm = math.inf if clip is None else clip  # inf: the norm is measured, the gradients left as they are
    history, best_state = History(), None
    bar = progress_bar(epochs * task.steps(train, batch_size), description, enabled=progress)
    elapsed = 0.0
    for epoch in range(1, epochs + 1):
        start, total, seen = time.perf_counter(), 0.0, 0
        model.train()  # dropout on
        for batch in task.batches(train, batch_size, generator):
            loss, count = task.loss(model, batch, device)
            optimizer.zero_grad()  # the last batch's gradients out: backward adds to .grad
            loss.backward()
            history.grad_norm.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm).item())
            optimizer.step()
            history.step_loss.append(loss.item())
            total, seen = total + history.step_loss[-1] * count, seen + count
            bar.update()
        elapsed += time.perf_counter() - start
        model.eval()  # dropout off
        with torch.no_grad():  # no graph: nothing here is trained
            validation_loss, validation_accuracy = task.evaluate(model, validation)
        history.train_loss.append(total / seen)
        history.validation_loss.append(validation_loss)
        history.validation_accuracy.append(validation_accuracy)
        history.seconds.append(elapsed)
        if best_state is None or _improved(task, history):
            history.best_epoch, best_state = epoch, copy.deepcopy(model.state_dict())
        bar.set_postfix(epoch=epoch, val_loss=f"{validation_loss:.3f}", val_acc=f"{validation_accuracy:.3f}")
        if stop_at is not None and validation_accuracy >= stop_at:
            break
    bar.close()
    model.load_state_dict(best_state)
    return history


def default_device():
    """The GPU when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def save_checkpoint(path, model, about, name):
    """A folder with ``weights.pt`` (the state_dict: tensors only) and ``name``: ``about`` as JSON (plain data)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path / "weights.pt")
    (path / name).write_text(json.dumps(about, indent=1), encoding="utf-8")
    return path


def load_checkpoint(path, name, build, device):
    """``(model, about)``: ``about`` read from ``name``, the model ``build(about)``, its weights read with ``weights_only=True``."""
    path = Path(path)
    about = json.loads((path / name).read_text(encoding="utf-8"))
    model = build(about)
    model.load_state_dict(torch.load(path / "weights.pt", map_location=device, weights_only=True))
    return model.to(device), about

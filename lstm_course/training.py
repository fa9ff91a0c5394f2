"""The course's one training loop, shared by notebooks 05 and 07: Adam, optional clipping, a progress bar, a History.

What differs between a classifier and a language model is a *task*: how one epoch's batches are
made, the loss of one batch, and the score on the validation split. ``fit`` takes it as an
argument; the default, `Classification`, is notebook 05's.
"""

import copy
import json
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
    grad_norm: list = field(default_factory=list)  # every batch's gradient norm before clipping (when clipping)

    @property
    def best_validation_accuracy(self):
        return self.validation_accuracy[self.best_epoch - 1]


class Classification:
    """Notebook 05's task: shuffled padded batches of sentences, cross-entropy on the labels, validation accuracy."""

    keep_best = "accuracy"  # the epoch with the highest validation accuracy

    def __init__(self, bucket=0):
        self.bucket = bucket

    def steps(self, train, batch_size):
        return (len(train) + batch_size - 1) // batch_size

    def batches(self, train, batch_size, generator):
        from lstm_course.text import batches  # here: text imports this module

        return batches(train, batch_size, shuffle=True, generator=generator, bucket=self.bucket)

    def loss(self, model, batch, device):
        """(mean loss of the batch, how many examples it averages)."""
        ids, lengths, labels = batch
        return nn.functional.cross_entropy(model(ids.to(device), lengths), labels.to(device)), len(labels)

    def evaluate(self, model, validation):
        """(mean cross-entropy, accuracy) on the validation split."""
        from lstm_course.text import evaluate

        return evaluate(model, validation)


def _improved(task, history):
    """Did the last epoch beat the best one so far, by the task's criterion?"""
    if task.keep_best == "loss":
        return history.validation_loss[-1] < history.validation_loss[history.best_epoch - 1]
    return history.validation_accuracy[-1] > history.best_validation_accuracy


def fit(model, train, validation, epochs=8, lr=1e-3, batch_size=64, weight_decay=0.0, seed=0,
        progress=True, description="training", bucket=0, clip=None, task=None):
    """Adam on the task's loss; after every epoch, score the validation split and keep the best weights.

    ``clip``: rescale the gradients so that their norm is at most ``clip`` (None: never); each
    batch's norm before clipping goes into ``History.grad_norm``. ``task`` (default
    ``Classification(bucket)``) makes the batches, their loss and the validation score.
    Returns a History. Batches are drawn with a generator seeded with ``seed``; dropout draws
    from PyTorch's global generator, which the caller seeds. Under grading a recorded run of
    the same training is restored instead (``lstm_course.replay``).
    """
    task = task or Classification(bucket)
    recipe = dict(epochs=epochs, lr=lr, batch_size=batch_size, weight_decay=weight_decay, seed=seed, clip=clip, task=task)
    return replay.trained(model, recipe, (train, validation), (fit, type(task)), history_type=History,
                          train=lambda: _fit(model, train, validation, progress, description, **recipe))


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


def _fit(model, train, validation, progress, description, epochs, lr, batch_size, weight_decay, seed, clip, task):
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history, best_state = History(), None
    bar = progress_bar(epochs * task.steps(train, batch_size), description, enabled=progress)
    elapsed = 0.0
    for epoch in range(1, epochs + 1):
        start, total, seen = time.perf_counter(), 0.0, 0
        model.train()
        for batch in task.batches(train, batch_size, generator):
            loss, count = task.loss(model, batch, device)
            optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                history.grad_norm.append(nn.utils.clip_grad_norm_(model.parameters(), clip).item())
            optimizer.step()
            history.step_loss.append(loss.item())
            total, seen = total + history.step_loss[-1] * count, seen + count
            bar.update()
        elapsed += time.perf_counter() - start
        validation_loss, validation_accuracy = task.evaluate(model, validation)
        history.train_loss.append(total / seen)
        history.validation_loss.append(validation_loss)
        history.validation_accuracy.append(validation_accuracy)
        history.seconds.append(elapsed)
        if best_state is None or _improved(task, history):
            history.best_epoch, best_state = epoch, copy.deepcopy(model.state_dict())
        bar.set_postfix(epoch=epoch, val_loss=f"{validation_loss:.3f}", val_acc=f"{validation_accuracy:.3f}")
    bar.close()
    model.load_state_dict(best_state)
    return history



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

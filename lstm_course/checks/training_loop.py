"""Check for notebook 05's training loop: the learner's ``train`` against the course's ``training.fit``.

The learner writes ``train(model, optimizer, train_batches, validation_batches, epochs, clip)``.
The check runs it on a tiny classifier with dropout, watching what it does (the order of
``zero_grad``, ``backward`` and ``step``, the gradient's norm before and after clipping, whether
dropout and gradients are on in each forward), then runs the course's loop from the same weights
and random state, and compares the accuracies and the weights it ends with.
"""

import contextlib
import math

import numpy as np
import torch
from torch import nn

from lstm_course.checks._core import Mistake, as_array, call, check, with_hint
from lstm_course.reviews import pad_batch
from lstm_course.text_models import LSTMClassifier
from lstm_course.training import loop

SIGNATURE = "train(model, optimizer, train_batches, validation_batches, epochs, clip)"
VOCAB, EPOCHS, LR, CLIP, SEED = 12, 6, 0.1, 0.5, 3  # a case whose best epoch (2) is neither the first nor the last
TRAIN_SIZES, VALIDATION_SIZES = (4, 4, 4, 4, 3), (7, 3)  # unequal batches: a mean over batches is not a mean over sentences
TOL = 1e-5


def _batches(sizes, generator):
    """``(ids, lengths, labels)`` batches of random sentences of 1 to 6 tokens; "fresh" when token 3 or 4 occurs."""
    batches = []
    for size in sizes:
        sentences = [torch.randint(1, VOCAB, (int(torch.randint(1, 7, (1,), generator=generator)),), generator=generator).tolist()
                     for _ in range(size)]
        ids, lengths = pad_batch(sentences)
        labels = torch.tensor([int(any(token in (3, 4) for token in sentence)) for sentence in sentences])
        batches.append((ids, lengths, labels))
    return batches


def _model():
    return LSTMClassifier(VOCAB, embedding_dim=6, hidden_size=5, num_layers=1, pooling="max",
                          embedding_dropout=0.5, head_dropout=0.5)


def _case():
    generator = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    return _model(), _batches(TRAIN_SIZES, generator), _batches(VALIDATION_SIZES, generator)


class _Given:
    """The task `training.fit` runs here: the batches as given, the same every epoch; accuracy over all sentences."""

    def __init__(self, keep_best="accuracy"):
        self.keep_best = keep_best
        self.batch_means = []  # the mean of the batches' accuracies after each epoch: the slip to recognise

    def steps(self, train, batch_size):
        return len(train)

    def batches(self, train, batch_size, generator):
        return train

    def loss(self, model, batch, device):
        ids, lengths, labels = batch
        return nn.functional.cross_entropy(model(ids, lengths), labels), len(labels)

    def evaluate(self, model, validation):
        right = [int((model(ids, lengths).argmax(dim=1) == labels).sum()) for ids, lengths, labels in validation]
        sizes = [len(labels) for _, _, labels in validation]
        self.batch_means.append(float(np.mean(np.divide(right, sizes))))
        return 0.0, sum(right) / sum(sizes)


def reference_run(keep_best="accuracy"):
    """The course's loop on the check's case: ``(model, history, task)``; ``keep_best=None`` keeps the last epoch."""
    model, train_batches, validation_batches = _case()
    task = _Given(keep_best)
    torch.manual_seed(SEED + 1)  # the dropout masks
    history = loop(model, train_batches, validation_batches, progress=False, description="", epochs=EPOCHS, lr=LR,
                   batch_size=None, weight_decay=0.0, seed=SEED, clip=CLIP, stop_at=None, task=task)
    return model, history, task


def _norm(parameters):
    grads = [p.grad.detach().flatten() for p in parameters if p.grad is not None]
    return float(torch.cat(grads).norm()) if grads else 0.0


class _Watch:
    """What a learner's loop does to the model and the optimizer, in order."""

    def __init__(self, model, optimizer, train_batches, validation_batches):
        self.events, self.forwards = [], []
        self.parameters = list(model.parameters())
        self.initial = [p.detach().clone() for p in self.parameters]
        self.trained = sum(p.requires_grad for p in self.parameters)  # gradients that one backward accumulates
        self.split = {self._key(ids): name for name, batches in (("train", train_batches), ("validation", validation_batches))
                      for ids, _, _ in batches}
        self._pending = {}
        for parameter in self.parameters:
            parameter.register_post_accumulate_grad_hook(self._accumulated)
        model.register_forward_hook(self._forward, with_kwargs=True)
        self._wrap(optimizer, "zero_grad")
        self._wrap(optimizer, "step")
        self._wrap(model, "zero_grad")

    @staticmethod
    def _key(ids):
        return tuple(ids.shape), ids.detach().cpu().numpy().tobytes()

    def _wrap(self, owner, name):
        original = getattr(owner, name)

        def watched(*args, **kwargs):
            self.events.append((name, _norm(self.parameters)))  # the norm of what it is given
            return original(*args, **kwargs)

        setattr(owner, name, watched)

    def _accumulated(self, parameter):
        self._pending[id(parameter)] = float(parameter.grad.detach().norm()) ** 2
        if len(self._pending) == self.trained:  # the last gradient of this backward
            self.events.append(("backward", math.sqrt(sum(self._pending.values()))))
            self._pending = {}

    def _forward(self, model, args, kwargs, output):
        ids = args[0] if args else next(iter(kwargs.values()), None)
        split = self.split.get(self._key(ids), "other") if isinstance(ids, torch.Tensor) else "other"
        self.forwards.append((split, model.training, torch.is_grad_enabled()))


def _steps(events):
    """One dict per ``step``: how many backwards came since the last step (``backwards``), whether a
    zero_grad came before them (``zeroed``) or after one (``erased``), the gradient norm the step was
    given (``given``), its backward's norm before clipping (``before_clip``) and the norm the next
    zero_grad found (``next_zero``)."""
    steps, backwards, zeroed, zeroed_after_backward, before_clip = [], 0, False, False, None
    for k, (name, norm) in enumerate(events):
        if name == "backward":
            backwards, before_clip = backwards + 1, norm
        elif name == "zero_grad":
            zeroed, zeroed_after_backward = zeroed or backwards == 0, zeroed_after_backward or backwards > 0
        elif name == "step":
            later = next((n for e, n in events[k + 1 :] if e == "zero_grad"), None)
            steps.append(dict(backwards=backwards, zeroed=zeroed, erased=zeroed_after_backward, given=norm,
                              before_clip=before_clip, next_zero=later))
            backwards, zeroed, zeroed_after_backward = 0, False, False
    return steps


def _loop_mistake(steps, reference, train_batches, weights_changed):
    """The first slip in the order of the calls and in clipping, or None."""
    if not steps and weights_changed:
        return ("The weights changed, but never through the `optimizer` that `train` was given: use that one (it is "
                "made for the model's parameters already), not an optimizer or a training function of your own.")
    if not steps:
        return "`optimizer.step()` was never called: the weights never change. Call it once per batch, after `loss.backward()`."
    expected = EPOCHS * len(train_batches)
    if steps[0]["backwards"] == 0:
        return ("`optimizer.step()` came before `loss.backward()`: the first step had no gradient, and each later step "
                "used the batch before's. The order is zero_grad, forward, loss, backward, clip, step.")
    if len(steps) != expected:
        return f"{expected} calls of `optimizer.step()` expected ({EPOCHS} epochs of {len(train_batches)} batches), got {len(steps)}."
    if any(step["backwards"] > 1 for step in steps):
        return "More than one `backward()` between two steps: call `loss.backward()` once per batch."
    if any(step["erased"] for step in steps):
        return ("`zero_grad()` came between `loss.backward()` and `optimizer.step()`: it erased the gradients just "
                "computed, so the step did nothing. Zero the gradients before the backward.")
    missing = [k for k, step in enumerate(steps) if k > 0 and not step["zeroed"]]
    if len(missing) == len(steps) - 1:
        return ("No `optimizer.zero_grad()`: `backward()` adds to each parameter's `.grad`, so every step used the sum "
                "of all the gradients so far. Call `optimizer.zero_grad()` before each `loss.backward()`.")
    if missing:
        return (f"`optimizer.zero_grad()` was not called before step {missing[0] + 1}'s backward, so that step used the "
                "gradients of the batch before as well: zero them for every batch, not once per epoch.")
    first, expected_norm = steps[0]["before_clip"], reference.grad_norm[0]
    batch = len(train_batches[0][2])
    if abs(first - batch * expected_norm) < 1e-3 * batch * expected_norm:
        return (f"The first batch's gradient has norm {first:.4g}, {batch} times the {expected_norm:.4g} of the mean loss: "
                "the loss was summed over the batch. Use the mean (`cross_entropy`'s default), so that the step size "
                "does not depend on the batch size.")
    unclipped = [step for step in steps if step["given"] > CLIP * (1 + 1e-4)]
    if unclipped:
        step = unclipped[0]
        if step["next_zero"] is not None and step["next_zero"] <= CLIP * (1 + 1e-4):
            return (f"`optimizer.step()` was given a gradient of norm {step['given']:.4g} > clip = {CLIP}, clipped only "
                    "after the step. Clip between `loss.backward()` and `optimizer.step()`.")
        return (f"`optimizer.step()` was given a gradient of norm {step['given']:.4g} > clip = {CLIP}: clip it with "
                "`torch.nn.utils.clip_grad_norm_(model.parameters(), clip)` between `loss.backward()` and `optimizer.step()`.")
    return None


def _mode_mistake(forwards):
    """The first slip in train / eval mode or in gradients, from what each forward saw, or None."""
    for split, training, grad in forwards:
        if split == "train" and not training:
            return ("The model ran a training batch with dropout off (in eval mode): call `model.train()` at the start "
                    "of each epoch, since the evaluation switched it off.")
        if split == "train" and not grad:
            return "A training batch ran under `torch.no_grad()`: no gradient can reach the weights."
        if split == "validation" and training:
            return ("The model ran a validation batch with dropout on: call `model.eval()` before evaluating, or the "
                    "accuracy is that of a random thinned model.")
        if split == "validation" and grad:
            return ("The validation batches ran with gradients on: evaluate under `with torch.no_grad():`, so that no "
                    "graph is built for a backward that never comes.")
    if not any(split == "validation" for split, _, _ in forwards):
        return "The model never ran the validation batches: after each epoch, compute the accuracy on them."
    return None


def _same_weights(a, b):
    return all(torch.allclose(x, y, rtol=0, atol=TOL) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def _accuracies(got):
    if isinstance(got, (str, bytes)) or not hasattr(got, "__len__"):
        raise Mistake(f"`train` should return a list of the validation accuracy after each epoch, got {type(got).__name__}: {got!r:.80}")
    got = as_array("The accuracies `train` returned", list(got))
    if got.shape != (EPOCHS,):
        raise Mistake(f"`train` should return {EPOCHS} accuracies, one after each of the {EPOCHS} epochs, got {got.size}: {got.tolist()}")
    return got


@contextlib.contextmanager
def _one_thread():
    """PyTorch on one thread while the tiny case runs: more threads only wait on each other at this size."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@check("The training loop")
def check_training_loop(train_fn):
    """``train_fn(model, optimizer, train_batches, validation_batches, epochs, clip)`` must train as the course's loop does."""
    with _one_thread():
        return _judge_training_loop(train_fn)


def _judge_training_loop(train_fn):
    model, train_batches, validation_batches = _case()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    watch = _Watch(model, optimizer, train_batches, validation_batches)
    torch.manual_seed(SEED + 1)  # the dropout masks, as in the reference
    try:
        got = _accuracies(call(train_fn, model, optimizer, train_batches, validation_batches, EPOCHS, CLIP))
    except Mistake as mistake:
        raise Mistake(with_hint(mistake, SIGNATURE)) from None
    reference, history, task = reference_run()
    weights_changed = any(not torch.equal(p, before) for p, before in zip(watch.parameters, watch.initial))
    mistake = _loop_mistake(_steps(watch.events), history, train_batches, weights_changed) or _mode_mistake(watch.forwards)
    if mistake:
        raise Mistake(mistake)
    expected = np.array(history.validation_accuracy)
    if not np.allclose(got, expected, rtol=0, atol=1e-6):  # float32 arithmetic gives 0.8999999761 for 0.9
        message = f"Validation accuracy by epoch: expected {expected.round(4).tolist()}, got {got.round(4).tolist()}."
        if np.allclose(got, task.batch_means, rtol=0, atol=1e-6):
            message += (" Those are means of the batches' accuracies, which weigh a small batch as much as a large one: "
                        "count the right answers over all validation sentences and divide by their number.")
        raise Mistake(message)
    if not _same_weights(model, reference):
        if _same_weights(model, reference_run(keep_best=None)[0]):
            raise Mistake(f"The model ends with the last epoch's weights; keep the best epoch's (epoch {history.best_epoch}, "
                          f"accuracy {max(expected):.4g}): copy `model.state_dict()` with `copy.deepcopy` when the accuracy "
                          "improves, and load it at the end.")
        raise Mistake(f"The accuracies are right, but the model ends with other weights than epoch {history.best_epoch}'s, "
                      "the best: keep the first epoch with the highest accuracy, and load its weights at the end.")
    return (f"{EPOCHS} epochs on a tiny classifier with dropout: the same steps, accuracies and best weights "
            f"(epoch {history.best_epoch}) as the course's loop")

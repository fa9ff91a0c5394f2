"""Check for notebook 05's training loop.

The learner's ``train`` is watched (the order of ``zero_grad``, ``backward`` and ``step``, the gradient's
norm before and after clipping, dropout and gradients in each forward) and compared with the course's
``training.loop`` run from the same weights and random state: the accuracies and the weights they end with.
"""

import copy
import math

import numpy as np
import torch
from torch import nn

from lstm_course import training
from lstm_course.checks.judge import Mistake, call, check, expect_finite, judge, numbers, own_random
from lstm_course.reviews import pad_batch
from lstm_course.text_models import LSTMClassifier

SIGNATURE = "train(model, optimizer, train_batches, validation_batches, epochs, clip)"
VOCAB, EPOCHS, LR, CLIP, SEED = 12, 6, 0.1, 0.5, 3  # a case whose best epoch (2) is neither the first nor the last
TRAIN_SIZES, VALIDATION_SIZES = (4, 4, 4, 4, 3), (7, 3)  # unequal: a mean over batches is not one over sentences
TOO_LARGE = CLIP * (1 + 1e-4)  # a gradient norm clipping would have brought down


# ----------------------------------------------------------------------------- the case, and the course's loop on it
def _sentence(generator):
    """A random sentence of 1 to 6 token ids."""
    length = int(torch.randint(1, 7, (1,), generator=generator))
    return torch.randint(1, VOCAB, (length,), generator=generator).tolist()


def _labelled(sentences):
    """``(ids, lengths, labels)`` of a batch: a sentence is "fresh" (1) when token 3 or 4 occurs in it."""
    labels = torch.tensor([int(bool({3, 4} & set(sentence))) for sentence in sentences])
    return (*pad_batch(sentences), labels)


def _case():
    """The model, and ``(ids, lengths, labels)`` batches of random sentences: the train batches, the validation ones."""
    generator = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    model = LSTMClassifier(VOCAB, embedding_dim=6, hidden_size=5, num_layers=1, pooling="max", embedding_dropout=0.5,
                           head_dropout=0.5)
    train_batches, validation_batches = ([_labelled([_sentence(generator) for _ in range(size)]) for size in sizes]
                                         for sizes in (TRAIN_SIZES, VALIDATION_SIZES))
    return model, train_batches, validation_batches


class _Given:
    """The task `training.loop` runs here: the batches as given, the same every epoch; accuracy over all sentences."""

    keep_best = "accuracy"

    def __init__(self):
        self.batch_means, self.weights = [], []  # after each epoch: the mean of the batches' accuracies, the weights

    def steps(self, train, batch_size):
        return len(train)

    def batches(self, train, batch_size, generator):
        return train

    def loss(self, model, batch, device):
        ids, lengths, labels = batch
        return nn.functional.cross_entropy(model(ids, lengths), labels), len(labels)

    def evaluate(self, model, validation):
        right, sizes = [], []
        for ids, lengths, labels in validation:
            right.append(int((model(ids, lengths).argmax(dim=1) == labels).sum()))
            sizes.append(len(labels))
        self.batch_means.append(float(np.mean(np.divide(right, sizes))))
        self.weights.append(copy.deepcopy(model.state_dict()))
        return 0.0, sum(right) / sum(sizes)


def reference_run():
    """The course's loop on the check's case: ``(model, history, task)``."""
    (model, train_batches, validation_batches), task = _case(), _Given()
    torch.manual_seed(SEED + 1)  # the dropout masks
    history = training.loop(model, train_batches, validation_batches, progress=False, description="", epochs=EPOCHS,
                            lr=LR, batch_size=None, weight_decay=0.0, seed=SEED, clip=CLIP, stop_at=None, task=task)
    return model, history, task


# ----------------------------------------------------------------------------- watching the learner's loop
def _gradient_norm(parameters):
    """The norm of all the parameters' gradients together; 0 when none has one."""
    grads = [parameter.grad.detach().flatten() for parameter in parameters if parameter.grad is not None]
    return float(torch.cat(grads).norm()) if grads else 0.0


class _Watch:
    """What a learner's loop does to the model and the optimizer, in order."""

    def __init__(self, model, optimizer, train_batches, validation_batches):
        self.events, self.forwards, self._pending = [], [], {}  # events: (name, the gradient norm then)
        self.parameters = list(model.parameters())
        self.initial = [parameter.detach().clone() for parameter in self.parameters]
        self.trained = sum(parameter.requires_grad for parameter in self.parameters)  # gradients per backward
        self.split = {}  # the ids of each batch: "train" or "validation"
        for name, batches in (("train", train_batches), ("validation", validation_batches)):
            for ids, _, _ in batches:
                self.split[ids.numpy().tobytes()] = name
        for parameter in self.parameters:
            parameter.register_post_accumulate_grad_hook(self._accumulated)
        model.register_forward_hook(self._forward, with_kwargs=True)
        for owner, name in ((optimizer, "zero_grad"), (optimizer, "step"), (model, "zero_grad")):
            self._wrap(owner, name)

    def _wrap(self, owner, name):
        """Record each call of ``owner.name``, with the norm of the gradient it is given."""
        original = getattr(owner, name)

        def watched(*args, **kwargs):
            self.events.append((name, _gradient_norm(self.parameters)))
            return original(*args, **kwargs)

        setattr(owner, name, watched)

    def _accumulated(self, parameter):
        self._pending[id(parameter)] = float(parameter.grad.detach().norm()) ** 2
        if len(self._pending) == self.trained:  # the last gradient of this backward
            self.events.append(("backward", math.sqrt(sum(self._pending.values()))))
            self._pending = {}

    def _forward(self, model, args, kwargs, output):
        ids = args[0] if args else next(iter(kwargs.values()), None)
        key = ids.detach().cpu().numpy().tobytes() if isinstance(ids, torch.Tensor) else None
        self.forwards.append((self.split.get(key, "other"), model.training, torch.is_grad_enabled()))

    def steps(self):
        """One dict per ``step``.

        ``backwards``: the backwards since the last step; ``zeroed``, ``erased``: whether a zero_grad came before
        them, after one; ``given``: the gradient norm the step was given; ``before_clip``: its backward's norm
        before clipping; ``next_zero``: the norm the next zero_grad found.
        """
        steps, backwards, zeroed, erased, before_clip = [], 0, False, False, None
        for position, (name, norm) in enumerate(self.events):
            if name == "backward":
                backwards, before_clip = backwards + 1, norm
            elif name == "zero_grad":
                zeroed, erased = zeroed or backwards == 0, erased or backwards > 0
            elif name == "step":
                later = self.events[position + 1:]
                next_zero = next((later_norm for event, later_norm in later if event == "zero_grad"), None)
                steps.append(dict(backwards=backwards, zeroed=zeroed, erased=erased, given=norm,
                                  before_clip=before_clip, next_zero=next_zero))
                backwards, zeroed, erased = 0, False, False
        return steps


# ----------------------------------------------------------------------------- the mistakes
def _loop_mistake(steps, reference, train_batches, weights_changed):
    """The first slip in the order of the calls and in clipping, or None."""
    if not steps and weights_changed:
        return ("The weights changed, but never through the `optimizer` that `train` was given: use that one (it is "
                "made for the model's parameters already), not an optimizer of your own.")
    if not steps:
        return ("`optimizer.step()` was never called: the weights never change. Call it once per batch, after "
                "`loss.backward()`.")
    if steps[0]["backwards"] == 0:
        return ("`optimizer.step()` came before `loss.backward()`: the first step had no gradient, and each later step "
                "used the batch before's. The order is zero_grad, forward, loss, backward, clip, step.")
    if len(steps) != EPOCHS * len(train_batches):
        return (f"{EPOCHS * len(train_batches)} calls of `optimizer.step()` expected ({EPOCHS} epochs of "
                f"{len(train_batches)} batches), got {len(steps)}.")
    if any(step["backwards"] > 1 for step in steps):
        return "More than one `backward()` between two steps: call `loss.backward()` once per batch."
    if any(step["erased"] for step in steps):
        return ("`zero_grad()` came between `loss.backward()` and `optimizer.step()`: it erased the gradients just "
                "computed, so the step did nothing. Zero the gradients before the backward.")
    missing = [number for number, step in enumerate(steps) if number > 0 and not step["zeroed"]]
    if len(missing) == len(steps) - 1:
        zeroed = "No `optimizer.zero_grad()`"
        if steps[0]["zeroed"]:
            zeroed = "`optimizer.zero_grad()` only before the first batch"
        return (f"{zeroed}: `backward()` adds to each parameter's `.grad`, so every step used the sum of all the "
                "gradients so far. Call `optimizer.zero_grad()` before each `loss.backward()`.")
    if missing:
        return (f"`optimizer.zero_grad()` was not called before step {missing[0] + 1}'s backward, so that step used "
                "the gradients of the batch before as well: zero them for every batch, not once per epoch.")
    first, mean_norm, batch = steps[0]["before_clip"], reference.grad_norm[0], len(train_batches[0][2])
    if abs(first - batch * mean_norm) < 1e-3 * batch * mean_norm:
        return (f"The first batch's gradient has norm {first:.6g}, {batch} times the {mean_norm:.6g} of the mean loss: "
                "the loss was summed over the batch. Use the mean (`cross_entropy`'s default), so that the step size "
                "does not depend on the batch size.")
    step = next((step for step in steps if step["given"] > TOO_LARGE), None)
    if step and step["next_zero"] is not None and step["next_zero"] <= TOO_LARGE:
        return (f"`optimizer.step()` was given a gradient of norm {step['given']:.6g} > clip = {CLIP}, clipped only "
                "after the step. Clip between `loss.backward()` and `optimizer.step()`.")
    if step:
        return (f"`optimizer.step()` was given a gradient of norm {step['given']:.6g} > clip = {CLIP}: clip it with "
                "`torch.nn.utils.clip_grad_norm_(model.parameters(), clip)` between `loss.backward()` and "
                "`optimizer.step()`.")
    return None


def _mode_mistake(forwards):
    """The first slip in train / eval mode or in gradients, from what each forward saw, or None."""
    if not any(split == "validation" for split, _, _ in forwards):
        evaluated = any(split == "train" and not training_mode for split, training_mode, _ in forwards)
        on_train = " (it was evaluated on the training batches)" * evaluated
        return f"The model never ran the validation batches{on_train}: after each epoch, compute the accuracy on them."
    for split, training_mode, grad in forwards:
        if split == "train" and not training_mode:
            return ("The model ran a training batch with dropout off (in eval mode): call `model.train()` at the start "
                    "of each epoch, since the evaluation switched it off.")
        if split == "train" and not grad:
            return "A training batch ran under `torch.no_grad()`: no gradient can reach the weights."
        if split == "validation" and training_mode:
            return ("The model ran a validation batch with dropout on: call `model.eval()` before evaluating, or the "
                    "accuracy is that of a random thinned model.")
        if split == "validation" and grad:
            return ("The validation batches ran with gradients on: evaluate under `with torch.no_grad():`, so that no "
                    "graph is built for a backward that never comes.")
    return None


def _after_epoch(index):
    """Where an accuracy is in the list of one per epoch."""
    return f"after epoch {index[0] + 1}"


def _same_weights(weights, state_dict):
    """True when ``weights`` (a model's state_dict values) equal those of ``state_dict``, to 1e-5."""
    return all(torch.allclose(mine, theirs, rtol=0, atol=1e-5) for mine, theirs in zip(weights, state_dict.values()))


# ----------------------------------------------------------------------------- the check
@check("The training loop", refuse=(training.fit, training.loop, reference_run, _Given),
       instead="Write the loop yourself: zero the gradients, forward, loss, backward, clip, step.")
def check_training_loop(train_fn):
    """``train_fn(model, optimizer, train_batches, validation_batches, epochs, clip)`` trains as the course's loop."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the tiny case on one thread: more threads only wait on each other at this size
    try:
        return _judge_training_loop(train_fn)
    finally:
        torch.set_num_threads(threads)


@own_random(SEED)  # the learner's random state is left as it was
def _judge_training_loop(train_fn):
    model, train_batches, validation_batches = _case()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    watch = _Watch(model, optimizer, train_batches, validation_batches)
    torch.manual_seed(SEED + 1)  # the dropout masks, as in the reference
    got = call(train_fn, model, optimizer, train_batches, validation_batches, EPOCHS, CLIP, signature=SIGNATURE)
    if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != EPOCHS:
        raise Mistake(f"`train` should return the list of the {EPOCHS} validation accuracies, one after each epoch; "
                      f"got {type(got).__name__} {got!r:.120}")
    got = numbers("The accuracies `train` returned", list(got))
    expect_finite("The accuracies `train` returned", got, where=_after_epoch)
    reference, history, task = reference_run()
    weights_changed = any(not torch.equal(now, before) for now, before in zip(watch.parameters, watch.initial))
    mistake = _loop_mistake(watch.steps(), history, train_batches, weights_changed) or _mode_mistake(watch.forwards)
    if mistake:
        raise Mistake(mistake)
    batch_means = ("Those are means of the batches' accuracies, which weigh a small batch as much as a large one: "
                   "count the right answers over all validation sentences and divide by their number.")
    judge("The validation accuracy", got, history.validation_accuracy, [(batch_means, task.batch_means)],
          where=_after_epoch)
    kept = model.state_dict().values()
    if not _same_weights(kept, reference.state_dict()):
        if _same_weights(kept, task.weights[-1]):
            raise Mistake(f"The model ends with the last epoch's weights; keep the best epoch's (epoch "
                          f"{history.best_epoch}, accuracy {max(history.validation_accuracy):.6g}): copy "
                          "`model.state_dict()` with `copy.deepcopy` when the accuracy improves, and load it at the "
                          "end.")
        raise Mistake(f"The accuracies are right, but the model ends with other weights than epoch "
                      f"{history.best_epoch}'s, the best: keep the first epoch with the highest accuracy, and load its "
                      "weights at the end.")
    return (f"The same steps, accuracies and best weights (epoch {history.best_epoch}) as the course's loop, over "
            f"{EPOCHS} epochs of a tiny classifier")

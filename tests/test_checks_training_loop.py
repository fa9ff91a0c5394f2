"""Notebook 05's training-loop exercise: the right loops pass, each classic slip gets its own diagnosis."""

import copy

import pytest
import torch
from torch import nn

from lstm_course.checks import check_training_loop
from lstm_course.checks import training_loop
from tests.test_notebook_definitions import definitions_from_notebook
from tests.notebooks import NOTEBOOKS_DIR


def make_train(slip=None):
    """A training loop written as a learner would, with one ``slip`` (None: none)."""

    def train(model, optimizer, train_batches, validation_batches, epochs, clip):
        accuracies, best = [], None
        for epoch in range(epochs):
            if slip != "no train()":
                model.train()
            for ids, lengths, labels in train_batches:
                logits = model(ids, lengths)
                loss = nn.functional.cross_entropy(logits, labels, reduction="sum" if slip == "summed loss" else "mean")
                if slip == "step before backward":
                    optimizer.zero_grad()
                    optimizer.step()
                    loss.backward()
                    continue
                if slip not in ("no zero_grad", "zero_grad once per epoch", "zero_grad after backward"):
                    optimizer.zero_grad()
                if slip == "zero_grad once per epoch" and ids is train_batches[0][0]:
                    optimizer.zero_grad()
                loss.backward()
                if slip == "zero_grad after backward":
                    optimizer.zero_grad()
                if slip not in ("clip after step", "no clipping"):
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
                if slip == "clip after step":
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            if slip != "no eval()":
                model.eval()
            right, total, batch_accuracies = 0, 0, []
            with torch.set_grad_enabled(slip == "graphs in evaluation"):
                for ids, lengths, labels in validation_batches:
                    correct = int((model(ids, lengths).argmax(dim=1) == labels).sum())
                    right, total = right + correct, total + len(labels)
                    batch_accuracies.append(correct / len(labels))
            accuracies.append(sum(batch_accuracies) / len(batch_accuracies) if slip == "mean of batches" else right / total)
            if slip == "last epoch kept":
                best = copy.deepcopy(model.state_dict())
            elif accuracies[-1] > max(accuracies[:-1], default=-1.0) or (slip == "last of the best" and accuracies[-1] == max(accuracies)):
                best = copy.deepcopy(model.state_dict())
        model.load_state_dict(best)
        return accuracies

    return train


def another_right_way(model, optimizer, train_batches, validation_batches, epochs, clip):
    """Written differently from the solution: a loss module, clipping by hand, model.zero_grad() after the step,
    the best epoch found at the end from saved copies."""
    loss_fn = nn.CrossEntropyLoss()
    snapshots, accuracies = [], []
    for _ in range(epochs):
        model.train()
        for ids, lengths, labels in train_batches:
            loss_fn(model(ids, lengths), labels).backward()
            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
            if norm > clip:
                for p in model.parameters():
                    p.grad.mul_(clip / (norm + 1e-6))
            optimizer.step()
            model.zero_grad()
        model.eval()
        with torch.no_grad():
            predictions = torch.cat([model(ids, lengths).argmax(1) for ids, lengths, _ in validation_batches])
            labels = torch.cat([labels for _, _, labels in validation_batches])
        accuracies.append((predictions == labels).float().mean().item())
        snapshots.append({name: value.clone() for name, value in model.state_dict().items()})
    model.load_state_dict(snapshots[accuracies.index(max(accuracies))])
    return accuracies


def stub(*args):
    raise NotImplementedError()


def test_the_case_has_a_best_epoch_in_the_middle_and_gradients_to_clip():
    _, history, task = training_loop.reference_run()
    accuracies = history.validation_accuracy
    assert 1 < history.best_epoch < len(accuracies) and accuracies[-1] < max(accuracies)
    assert accuracies.count(max(accuracies)) > 1  # a later epoch ties with the best: the first one must be kept
    assert task.batch_means != accuracies
    assert max(history.grad_norm) > training_loop.CLIP


def test_the_notebook_solution_and_another_right_way_pass():
    notebook_train = definitions_from_notebook(NOTEBOOKS_DIR / "05_text_classifier.ipynb", ["train"])["train"]
    for answer in (notebook_train, make_train(), another_right_way):
        result = check_training_loop(answer)
        assert result, result


def test_the_stub_is_not_attempted():
    assert check_training_loop(stub).status == "not attempted yet"


SLIPS = {
    "no zero_grad": "No `optimizer.zero_grad()`",
    "zero_grad once per epoch": "was not called before step 2's backward",
    "zero_grad after backward": "erased the gradients just computed",
    "step before backward": "`optimizer.step()` came before `loss.backward()`",
    "clip after step": "clipped only after the step",
    "no clipping": "clip it with `torch.nn.utils.clip_grad_norm_",
    "summed loss": "the loss was summed over the batch",
    "no train()": "with dropout off (in eval mode): call `model.train()`",
    "no eval()": "with dropout on: call `model.eval()`",
    "graphs in evaluation": "evaluate under `with torch.no_grad():`",
    "mean of batches": "means of the batches' accuracies",
    "last epoch kept": "ends with the last epoch's weights",
    "last of the best": "keep the first epoch with the highest accuracy",
}


@pytest.mark.parametrize("slip", SLIPS)
def test_each_slip_gets_its_own_diagnosis(slip):
    result = check_training_loop(make_train(slip))
    assert not result and SLIPS[slip] in result.message, result.message
    others = [text for other, text in SLIPS.items() if other != slip]
    assert not any(text in result.message for text in others), result.message


def test_a_loop_with_an_optimizer_of_its_own_is_told_to_use_the_one_given():
    def own_optimizer(model, optimizer, train_batches, validation_batches, epochs, clip):
        return make_train()(model, torch.optim.Adam(model.parameters(), lr=0.1), train_batches, validation_batches,
                            epochs, clip)

    result = check_training_loop(own_optimizer)
    assert not result and "never through the `optimizer` that `train` was given" in result.message
    assert "was never called" in check_training_loop(lambda model, *args: [0.5] * 6).message  # nothing trained


def test_an_answer_that_returns_nothing_or_too_few_accuracies_is_told_so():
    assert "returned None" in check_training_loop(lambda *args: None).message
    short = check_training_loop(lambda model, optimizer, train, validation, epochs, clip: [0.5])
    assert "should return 6 accuracies" in short.message

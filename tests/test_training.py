"""`training.fit`, the course's one training loop, and the package's import graph."""

import ast
import copy
from pathlib import Path

import pytest
import torch
from torch import nn

from lstm_course import training

PACKAGE = Path(training.__file__).parent


class Regression:
    """A made-up task: fixed batches of a linear target; "accuracy" is the share of outputs within 0.5."""

    keep_best = "loss"

    def __init__(self, keep_best="loss"):
        self.keep_best = keep_best

    def steps(self, train, batch_size):
        return len(train[0]) // batch_size

    def batches(self, train, batch_size, generator):
        order = torch.randperm(len(train[0]), generator=generator)
        for rows in order.split(batch_size):
            yield train[0][rows], train[1][rows]

    def loss(self, model, batch, device):
        x, y = batch
        return nn.functional.mse_loss(model(x), y), len(y)

    def evaluate(self, model, validation):
        x, y = validation
        out = model(x)
        return nn.functional.mse_loss(out, y).item(), ((out - y).abs() < 0.5).float().mean().item()


def _data(n=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=generator)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(n, 1, generator=generator)


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.2), nn.Tanh(), nn.Linear(8, 1))


def _written_out(model, task, train, validation, epochs, lr, batch_size, clip, seed):
    """The loop a learner writes, in plain PyTorch: what `fit` must do, step for step."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses, best_loss, best_state = [], None, None
    for _ in range(epochs):
        model.train()
        for batch in task.batches(train, batch_size, generator):
            loss, _ = task.loss(model, batch, "cpu")
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
        model.eval()
        with torch.no_grad():
            validation_loss, _ = task.evaluate(model, validation)
        losses.append(validation_loss)
        if best_loss is None or validation_loss < best_loss:
            best_loss, best_state = validation_loss, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return losses


def test_fit_is_the_loop_written_out():
    train, validation = _data(), _data(32, seed=1)
    ours, theirs = _model(), _model()
    torch.manual_seed(1)  # the dropout masks
    history = training.fit(ours, Regression(), train, validation, epochs=4, lr=0.05, batch_size=16, clip=0.5,
                           seed=3, progress=False)
    torch.manual_seed(1)
    losses = _written_out(theirs, Regression(), train, validation, epochs=4, lr=0.05, batch_size=16, clip=0.5, seed=3)
    assert history.validation_loss == losses
    assert history.best_epoch == 1 + losses.index(min(losses))
    for mine, written in zip(ours.state_dict().values(), theirs.state_dict().values()):
        assert torch.equal(mine, written)
    assert len(history.grad_norm) == len(history.step_loss) == 4 * 4


def test_fit_keeps_the_epoch_the_task_asks_for_and_stops_at_the_bar():
    train, validation = _data(), _data(32, seed=1)
    last = _model()
    history = training.fit(last, Regression(keep_best=None), train, validation, epochs=3, lr=0.5, progress=False)
    assert history.best_epoch == 3
    by_accuracy = training.fit(_model(), Regression("accuracy"), train, validation, epochs=3, lr=0.5, progress=False)
    accuracies = by_accuracy.validation_accuracy
    assert by_accuracy.best_epoch == 1 + accuracies.index(max(accuracies))
    stopped = training.fit(_model(), Regression(), train, validation, epochs=5, stop_at=0.0, progress=False)
    assert len(stopped.validation_loss) == 1


def test_without_clipping_the_norm_is_measured_and_the_gradients_left_alone():
    train, validation = _data(), _data(32, seed=1)
    free = training.fit(_model(), Regression(), train, validation, epochs=1, batch_size=16, clip=None, progress=False)
    tight = training.fit(_model(), Regression(), train, validation, epochs=1, batch_size=16, clip=1e-3, progress=False)
    assert free.grad_norm[0] == tight.grad_norm[0] > 1e-3  # the same first batch, measured before clipping
    assert free.step_loss[1] != tight.step_loss[1]  # the first update differed


def test_a_task_with_an_unknown_criterion_is_refused():
    with pytest.raises(ValueError, match="keep_best should be one of"):
        training.fit(_model(), Regression(keep_best="f1"), _data(), _data(), progress=False)


def _module_name(path):
    return ".".join(("lstm_course", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")


def _imports(path, modules):
    """The modules of ``modules`` that the module at ``path`` imports, at its top or inside functions.

    ``from package import name`` depends on ``package.name`` where that is a module, else on the package.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative, from the module's own package
                package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rsplit(".", 1)[0]
                base = ".".join([package.rsplit(".", node.level - 1)[0], *filter(None, [node.module])])
            found |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names}
    return found & set(modules)


def _module_graph():
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _circle(graph):
    """One import circle of ``graph`` as a list of module names, or None."""
    state = {}

    def visit(name, trail):
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                return trail[trail.index(other):] + [other]
            if other not in state and (found := visit(other, trail + [other])):
                return found
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name, [name])):
            return found
    return None


def test_the_package_imports_form_no_circle():
    graph = _module_graph()
    assert "lstm_course.training" in graph["lstm_course.sentiment"]  # the reader sees imports at every depth
    assert "lstm_course.checks.judge" in graph["lstm_course.checks.text"]
    assert _circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    circle = _circle(graph)
    assert circle is None, f"an import circle: {' -> '.join(circle)}"


def _steps_an_optimizer(path):
    """Does the module's code call ``<something named optim...>.step()``?"""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "step"
               and "optim" in ast.unparse(node.func.value)
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def test_fit_is_the_only_training_loop_in_the_package():
    assert _steps_an_optimizer(PACKAGE / "training.py")
    stepping = [path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py") if _steps_an_optimizer(path)]
    assert stepping == ["training.py"]

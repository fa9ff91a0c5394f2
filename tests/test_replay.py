"""Training runs recorded once and replayed: the same weights, history and random state as training."""

import dataclasses

import pytest
import torch

from lstm_course import replay
from lstm_course.authoring import course_notebooks
from lstm_course.training import History
from tests.notebooks import NOTEBOOKS_DIR


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 2))


DATA = torch.arange(12.0).reshape(4, 3)


def _train(model, steps=5):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = History()
    for _ in range(steps):
        loss = model(DATA).square().mean()  # dropout draws from the global generator
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.step_loss.append(loss.item())
    return history


def _run(model, recipe=None, data=DATA):
    return replay.trained(model, recipe or {"steps": 5}, data, (_train,), lambda: _train(model), history_type=History)


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setattr(replay, "RUNS", tmp_path)
    return tmp_path


def test_a_recorded_run_replays_to_the_same_weights_history_and_random_state(runs, monkeypatch):
    monkeypatch.setenv(replay.RECORD, "99_test")
    trained = _model()
    history = _run(trained)
    after_training = torch.rand(3)
    assert len(list(runs.glob("99_test-*.pt"))) == 1

    monkeypatch.delenv(replay.RECORD)
    monkeypatch.setenv(replay.REPLAY, "strict")
    replayed = _model()
    replayed_history = _run(replayed)
    assert isinstance(replayed_history, History)
    assert dataclasses.asdict(replayed_history) == dataclasses.asdict(history)
    for name, value in trained.state_dict().items():
        assert torch.equal(replayed.state_dict()[name], value), name
    assert torch.equal(torch.rand(3), after_training), "the random state after training is restored"


def test_nbgrader_replays_too(runs, monkeypatch):
    monkeypatch.setenv(replay.RECORD, "99_test")
    _run(_model())
    monkeypatch.delenv(replay.RECORD)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    model = _model()
    calls = []
    replay.trained(model, {"steps": 5}, DATA, (_train,), lambda: calls.append(1), history_type=History)
    assert not calls, "a recorded run is not trained again"


@pytest.mark.parametrize("change", ["weights", "recipe", "data", "random state"])
def test_anything_that_decides_the_result_makes_another_run(runs, monkeypatch, change):
    monkeypatch.setenv(replay.RECORD, "99_test")
    _run(_model())
    monkeypatch.delenv(replay.RECORD)
    monkeypatch.setenv(replay.REPLAY, "strict")
    model, recipe, data = _model(), None, DATA
    if change == "weights":
        with torch.no_grad():
            model[0].weight[0, 0] += 1e-6
    elif change == "recipe":
        recipe = {"steps": 6}
    elif change == "data":
        data = DATA + 1
    else:
        torch.manual_seed(1)
    with pytest.raises(replay.MissingRun, match="no recorded run"):
        _run(model, recipe, data)


def test_without_replay_a_run_trains_even_when_recorded(runs, monkeypatch):
    monkeypatch.setenv(replay.RECORD, "99_test")
    _run(_model())
    monkeypatch.delenv(replay.RECORD)
    calls = []
    replay.trained(_model(), {"steps": 5}, DATA, (_train,), lambda: calls.append(1) or History(), history_type=History)
    assert calls == [1]


def test_a_replayed_run_without_a_record_trains_unless_strict(runs, monkeypatch):
    monkeypatch.setenv(replay.REPLAY, "1")
    history = _run(_model())
    assert len(history.step_loss) == 5


def test_every_shipped_run_belongs_to_a_course_notebook():
    names = {path.stem for path in course_notebooks(NOTEBOOKS_DIR)}
    shipped = list(replay.RUNS.glob("*.pt"))
    assert shipped, "the package ships the notebooks' training runs"
    for path in shipped:
        assert path.stem.rsplit("-", 1)[0] in names, f"{path.name} belongs to no course notebook"

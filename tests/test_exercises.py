"""Every exercise in every notebook: learner copies are current and run, solutions pass."""

import nbformat
import pytest

from lstm_course import replay
from lstm_course.authoring import BEGIN_SOLUTION, learner_copy_path, notebook_client, stale_learner_copies
from tests.notebooks import COURSE_NOTEBOOKS, NOTEBOOKS_DIR


def _check_cells(nb, course_nb=None):
    """The cells right after an exercise's solution cell: where the exercise is checked.

    Learner copies keep the course notebook's cell ids, so the course notebook can name them.
    """
    course = (course_nb or nb).cells
    ids = {after.id for cell, after in zip(course, course[1:]) if cell.cell_type == "code" and BEGIN_SOLUTION in cell.source}
    return [c for c in nb.cells if c.id in ids]


def _text(cell):
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)


def test_learner_copies_are_current():
    stale = stale_learner_copies(NOTEBOOKS_DIR)
    assert not stale, f"stale learner copies {[p.name for p in stale]}: run python -m lstm_course.authoring exercises"


@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_a_checked_exercise_whose_solution_passes(notebook):
    nb = nbformat.read(notebook, as_version=4)
    assert any(BEGIN_SOLUTION in c.source for c in nb.cells), f"{notebook.name} has no exercise"
    checks = _check_cells(nb)
    assert checks, f"{notebook.name} has no check cell"
    for cell in checks:
        assert "✅" in _text(cell), f"{notebook.name}: the stored check output is not a pass:\n{cell.source}\n{_text(cell)}"


@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=lambda p: p.name)
def test_learner_copy_runs_and_every_check_says_not_attempted(notebook, monkeypatch):
    monkeypatch.setenv(replay.REPLAY, "strict")  # the course notebook's training runs, replayed
    copy = nbformat.read(learner_copy_path(notebook), as_version=4)
    notebook_client(copy, timeout=600, resources={"metadata": {"path": str(learner_copy_path(notebook).parent)}}).execute()
    checks = _check_cells(copy, nbformat.read(notebook, as_version=4))
    assert checks, f"{notebook.name}: no check cell found in the learner copy"
    for cell in checks:
        assert "not attempted yet" in _text(cell), f"{notebook.name}, learner copy:\n{cell.source}\n{_text(cell)}"

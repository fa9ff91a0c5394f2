import difflib

import nbformat
import pytest

from lstm_course.authoring import twin_path, twin_text
from tests.notebooks import COURSE_NOTEBOOKS


def test_there_are_course_notebooks():
    assert len(COURSE_NOTEBOOKS) >= 3


@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=lambda p: p.name)
def test_twin_matches_its_notebook(notebook):
    """The .py twin must be exactly what jupytext writes for the .ipynb (converted, not --diff'ed)."""
    twin = twin_path(notebook)
    assert twin.exists(), f"{notebook.name} has no twin {twin.name}: run python -m lstm_course.authoring execute {notebook}"
    expected = twin_text(nbformat.read(notebook, as_version=4))
    actual = twin.read_text(encoding="utf-8")
    diff = "".join(list(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), f"{notebook.name} as text", twin.name))[:40])
    assert actual == expected, f"{twin.name} is out of sync with {notebook.name}; re-execute the one you edited:\n{diff}"

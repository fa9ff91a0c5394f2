"""A lesson speaks to learners: no talk of the course's tests, CI, the authors' machines or tools."""

import re

import nbformat
import pytest

from tests.notebooks import COURSE_NOTEBOOKS

# What belongs in docs/ or benchmarks/README.md, never in a lesson's prose.
BACKSTAGE = re.compile(
    r"test suite|the suite\b|\bthe tests\b|package's tests|\bCI\b|continuous integration|nbval|pytest"
    r"|test machine|our machine|this machine|shared machine|shared CPU|2-core|two-core"
    r"|time we had|time budget|authoring|jupytext|first widget",
    re.IGNORECASE,
)


def backstage_talk(markdown):
    """The lines of ``markdown`` that talk about the course's machinery, with what matched."""
    return [(match.group(0), line.strip()) for line in markdown.splitlines() if (match := BACKSTAGE.search(line))]


def test_backstage_talk_is_found():
    assert backstage_talk("The output changes,\nso the test suite ignores it.") == [
        ("test suite", "so the test suite ignores it.")]
    assert backstage_talk("six minutes on the course's 2-core test machine")[0][0] == "2-core"
    assert backstage_talk("Split the data into train, validation and test sets; test your function.") == []


@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=lambda path: path.stem)
def test_lesson_prose_speaks_to_learners(notebook):
    found = [(k, word, line) for k, cell in enumerate(nbformat.read(notebook, as_version=4).cells)
             if cell.cell_type == "markdown" for word, line in backstage_talk(cell.source)]
    assert not found, "\n".join(f"cell {k}: {word!r} in {line!r}" for k, word, line in found)

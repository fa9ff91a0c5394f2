"""Where the course notebooks are, for the tests that read them."""

from pathlib import Path

from lstm_course.authoring import course_notebooks

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
COURSE_NOTEBOOKS = course_notebooks(NOTEBOOKS_DIR)

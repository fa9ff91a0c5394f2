"""The course as an nbgrader assignment, graded for real (pytest marker `nbgrader`).

In a temporary nbgrader course directory: generate the assignment from every course notebook,
check that the release is the learner copies cell for cell, autograde three made-up students
(the instructor's solutions, the untouched release, one typical wrong answer in each notebook) in
parallel with `python -m lstm_course.grading parallel`, and find the checks' diagnoses in the feedback. It needs the `instructor` extra (nbgrader);
without it the test is skipped, and in CI (where `CI` is set) it fails instead.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lstm_course.authoring import learner_copy_path, learner_note
from tests.notebooks import COURSE_NOTEBOOKS

pytestmark = pytest.mark.nbgrader

ASSIGNMENT = "lstm"
STUDENTS = ("instructor", "untouched", "wrong")

# One typical wrong answer a notebook: (grade_id of the answer cell, text of the solution,
# what the wrong student wrote instead, words of the check's diagnosis that the feedback shows).
WRONG_ANSWERS = {
    "00_start_here.ipynb": ("nb00_cell_states", "return np.stack(states, axis=1)", "return states[-1]", "You return one state"),
    "01_gate_equations.ipynb": ("nb01_lstm_step", "h_new = o * np.tanh(c_new)", "h_new = o * c_new", "missing the tanh on the cell state"),
    "04_bidirectional_and_stacked.ipynb": (
        "nb04_final_states", "ends.append(output[:, 0, H:])", "ends.append(output[:, -1, H:])", "both halves at the last step",
    ),
    "02_hand_counter.ipynb": (
        "nb02_counter_weights", "[0, 0, 100, -10],  # o", "[0, 0, 100, 10],  # o", "reveals all the time",
    ),
    "05_text_classifier.ipynb": (
        "nb05_SentenceClassifier", ', padding_value=float("-inf"))', ")", "The max sees the pads",
    ),
    "06_backprop_through_time.ipynb": (
        "nb06_lstm_step_backward", "dz @ w_hh, dc_total * step.f,", "dz @ w_hh, dc_total,", "dc_prev misses the factor f",
    ),
    "07_generating_text.ipynb": (
        "nb07_stream_loss", "state = (h.detach(), c.detach())", "state = (h, c)", "is still attached to this batch",
    ),
    "08_tagging.ipynb": ("nb08_bmes", 'tags.append("S")', 'tags.append("B")', "A one-character word is S"),
    "09_forecasting.ipynb": (
        "nb09_make_windows", "origins = range(first_target, end - horizon + 1)", "origins = range(first_target, end - horizon + 2)",
        "Your last window's targets reach values[end]",
    ),
    "10_sequence_to_sequence.ipynb": (
        "nb10_attend", 'scores.masked_fill(~mask[:, None, :], float("-inf"))', "scores", "The padded positions got weight",
    ),
    "03_lstm_forward.ipynb": (
        "nb03_lstm_forward", "i, f, g, o = gates.chunk(4, dim=1)", "f, i, g, o = gates.chunk(4, dim=1)",
        "input and forget gates are swapped",
    ),
}


def _nbgrader():
    """The nbgrader command of this environment, or a skip (a failure in CI) without it."""
    executable = Path(sys.executable).parent / "nbgrader"
    if not executable.exists():
        message = 'nbgrader is not installed: .venv/bin/pip install -e ".[instructor]"'
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return executable


def _run(command, course, *args, timeout=3600):
    # nbgrader calls `alembic` from PATH: this environment's bin first
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("NBGRADER_EXECUTION", None)
    run = subprocess.run(
        [str(command), *args, "--force"],
        cwd=course, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
    )
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    return run.stdout + run.stderr


def _course_directory(root):
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True)
    for path in COURSE_NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, source / path.name)
    header = nbformat.v4.new_notebook(cells=[learner_note()])
    nbformat.write(header, root / "header.ipynb")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = 'lstm-course'\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.IncludeHeaderFooter.header = 'header.ipynb'\n"
        "c.Execute.timeout = 900\n"
        "from lstm_course.grading import autograde_preprocessors\n"
        "c.Autograde.autograde_preprocessors = autograde_preprocessors()  # the course's kernel client\n"
    )


def _submit(root, student, notebooks):
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / name)


def _cells(nb):
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def _solutions(root):
    """The release with each answer cell replaced by the instructor's (the cells keep the release's metadata)."""
    released = {}
    for path in COURSE_NOTEBOOKS:
        release = nbformat.read(root / "release" / ASSIGNMENT / path.name, as_version=4)
        course = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nbformat.read(path, as_version=4).cells if "nbgrader" in c.metadata}
        for cell in release.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = course[grade_id]
        released[path.name] = release
    return released


def _scores(root):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {
            (student, grade.notebook.name, grade.cell.name): (grade.score, grade.max_score)
            for student in STUDENTS
            for notebook in gradebook.find_submission(ASSIGNMENT, student).notebooks
            for grade in notebook.grades
        }


def test_the_course_is_an_nbgrader_assignment_that_grades_itself(tmp_path):
    nbgrader = _nbgrader()
    root = tmp_path / "course"
    root.mkdir()
    _course_directory(root)

    _run(nbgrader, root, "generate_assignment", ASSIGNMENT)
    release = {p.name: nbformat.read(root / "release" / ASSIGNMENT / p.name, as_version=4) for p in COURSE_NOTEBOOKS}
    for path in COURSE_NOTEBOOKS:
        assert _cells(release[path.name]) == _cells(nbformat.read(learner_copy_path(path), as_version=4)), (
            f"nbgrader's release of {path.name} differs from its learner copy"
        )

    solutions = _solutions(root)
    wrong = {name: nbformat.from_dict(nb) for name, nb in solutions.items()}
    for name, (grade_id, right, mistake, _) in WRONG_ANSWERS.items():
        cell = next(c for c in wrong[name].cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        assert right in cell.source, f"{name}: the wrong answer's text {right!r} is not in {grade_id}"
        cell.source = cell.source.replace(right, mistake)
    assert set(WRONG_ANSWERS) == {p.name for p in COURSE_NOTEBOOKS}, "every notebook needs a wrong answer"
    _submit(root, "instructor", solutions)
    _submit(root, "untouched", release)
    _submit(root, "wrong", wrong)

    # the three students at once, one a core, as an instructor grades a class (lstm_course.grading);
    # its output holds nbgrader's warnings
    log = _run(sys.executable, root, "-m", "lstm_course.grading", "parallel", ASSIGNMENT)
    assert f"autograded {len(STUDENTS)} of {len(STUDENTS)} students" in log
    assert "full credit" not in log, "a check cell's output was read as points"
    scores = _scores(root)
    checks = {(nb, cell): points for (student, nb, cell), (_, points) in scores.items() if student == "instructor"}
    assert len(checks) == sum(
        1 for p in COURSE_NOTEBOOKS for c in nbformat.read(p, as_version=4).cells if c.metadata.get("nbgrader", {}).get("grade")
    ), "every check cell is graded"
    wrong_cells = {(name[:-6], f"{grade_id}_check") for name, (grade_id, *_) in WRONG_ANSWERS.items()}
    for (notebook, cell), points in checks.items():
        assert scores["instructor", notebook, cell][0] == points, f"the solutions lose points on {notebook} {cell}"
        assert scores["untouched", notebook, cell][0] == 0, f"the untouched release scores on {notebook} {cell}"
        expected = 0 if (notebook, cell) in wrong_cells else points
        assert scores["wrong", notebook, cell][0] == expected, f"the wrong student's {notebook} {cell}: expected {expected}"

    _run(nbgrader, root, "generate_feedback", ASSIGNMENT)
    for name, (_, _, _, diagnosis) in WRONG_ANSWERS.items():
        feedback = (root / "feedback" / "wrong" / ASSIGNMENT / name.replace(".ipynb", ".html")).read_text()
        assert diagnosis in feedback, f"the feedback on {name} does not show the diagnosis {diagnosis!r}"


def test_autograde_runs_through_the_course_kernel_client():
    _nbgrader()
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute as NbgraderExecute

    from lstm_course.grading import Execute, autograde_preprocessors

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    ours = autograde_preprocessors()
    assert [p.__name__ for p in ours] == [p.__name__ for p in default], "nbgrader's preprocessors, in its order"
    assert Execute in ours and NbgraderExecute not in ours and issubclass(Execute, NbgraderExecute)
    assert Execute.async_start_new_kernel_client is not NbgraderExecute.async_start_new_kernel_client

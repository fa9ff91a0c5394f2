"""`python -m lstm_course.grading parallel` and `merge` on a tiny generated assignment (pytest marker `nbgrader`).

Two generated notebooks, each an nbgrader answer cell and a graded check cell, and a class of four
made-up students whose scores are known: the class graded in parallel gets exactly those scores,
once each, and the same gradebook and autograded notebooks as `nbgrader autograde` grading it
student after student; a course directory that merges the sequential one gets that gradebook too;
feedback and export work afterwards; a student whose grading fails is reported and the others kept.
Like tests/test_nbgrader.py it needs the `instructor` extra (nbgrader) and is skipped without it.
"""

import os
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.test_nbgrader import _nbgrader

pytestmark = pytest.mark.nbgrader

ASSIGNMENT = "tiny"
COURSE_ID = "tiny-course"
RIGHT = {"one": 1, "two": 2}  # each notebook's answer() must return this
POINTS = {"one": 2, "two": 3}
DUE, ON_TIME, LATE = "2025-03-01 00:00:00 UTC", "2025-02-28 12:00:00 UTC", "2025-03-02 12:00:00 UTC"

# What each student hands in: notebook -> what its answer() returns (None: the release untouched;
# a notebook left out is not handed in), when, and the automatic scores that follow.
CLASS = {
    "right": ({"one": 1, "two": 2}, ON_TIME, {"one": 2, "two": 3}),
    "half": ({"one": 1, "two": 7}, ON_TIME, {"one": 2, "two": 0}),
    "blank": ({"one": None}, ON_TIME, {"one": 0, "two": 0}),
    "late": ({"one": 1, "two": 2}, LATE, {"one": 2, "two": 3}),  # the penalty takes it all back
}


def _source_notebook(name):
    answer = new_code_cell(
        f"def answer():\n    ### BEGIN SOLUTION\n    return {RIGHT[name]}\n    ### END SOLUTION\n",
        metadata={"nbgrader": {"grade": False, "solution": True, "locked": False, "grade_id": f"{name}_answer", "schema_version": 3}},
    )
    check = new_code_cell(
        f"assert answer() == {RIGHT[name]}, 'answer() is not {RIGHT[name]}'",
        metadata={"nbgrader": {"grade": True, "solution": False, "locked": True, "points": POINTS[name],
                               "grade_id": f"{name}_check", "schema_version": 3}},
    )
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return new_notebook(cells=[new_markdown_cell(f"# {name}"), answer, check], metadata={"kernelspec": kernelspec})


def _run(course, *command, check=True):
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}
    env.pop("NBGRADER_EXECUTION", None)
    run = subprocess.run(command, cwd=course, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    if check:
        assert run.returncode == 0, f"{' '.join(command)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    return run


def _nbgrader_command(course, *args, check=True):
    return _run(course, sys.executable, "-m", "nbgrader", *args, check=check)


def _grading_command(course, *args, check=True):
    return _run(course, sys.executable, "-m", "lstm_course.grading", *args, check=check)


def _submit(course, student, answers, timestamp):
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for name, value in answers.items():
        nb = nbformat.read(course / "release" / ASSIGNMENT / f"{name}.ipynb", as_version=4)
        if value is not None:
            nb.cells[1].source = f"def answer():\n    return {value}\n"
        nbformat.write(nb, folder / f"{name}.ipynb")
    (folder / "timestamp.txt").write_text(timestamp)


@pytest.fixture(scope="module")
def course_template(tmp_path_factory):
    """A course directory with the assignment generated, a due date, and nothing submitted."""
    _nbgrader()
    course = tmp_path_factory.mktemp("template") / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    for name in RIGHT:
        nbformat.write(_source_notebook(name), course / "source" / ASSIGNMENT / f"{name}.ipynb")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        "c.LateSubmissionPlugin.penalty_method = 'zero'  # a late notebook scores 0\n"
    )
    _nbgrader_command(course, "generate_assignment", ASSIGNMENT)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
    return course


def _copy(template, folder):
    shutil.copytree(template, folder)
    return folder


def _gradebook(course):
    """Everything autograde writes in the gradebook, by student, notebook and cell (no row ids)."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gradebook:
        return {
            student.id: [
                (str(submission.timestamp), notebook.name, notebook.late_submission_penalty,
                 sorted((g.name, g.auto_score, g.manual_score, g.needs_manual_grade) for g in notebook.grades),
                 sorted((c.name, c.auto_comment, c.manual_comment) for c in notebook.comments))
                for submission in student.submissions for notebook in sorted(submission.notebooks, key=lambda nb: nb.name)
            ]
            for student in gradebook.students
        }


def _autograded(course):
    """The autograded notebooks, without the times of execution nbclient writes in each cell."""
    notebooks = {}
    for path in sorted((course / "autograded").rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        notebooks[str(path.relative_to(course))] = nb
    return notebooks


def test_a_class_graded_in_parallel_is_graded_as_nbgrader_autograde_grades_it(course_template, tmp_path):
    parallel, sequential = (_copy(course_template, tmp_path / name) for name in ("parallel", "sequential"))
    for course in (parallel, sequential):
        for student, (answers, timestamp, _) in CLASS.items():
            _submit(course, student, answers, timestamp)

    log = _grading_command(parallel, "parallel", ASSIGNMENT, "--workers", "2").stdout
    assert f"autograded {len(CLASS)} of {len(CLASS)} students" in log, log
    _nbgrader_command(sequential, "autograde", ASSIGNMENT)

    graded = _gradebook(parallel)
    assert sorted(graded) == sorted(CLASS), "every student once"
    for student, (_, _, scores) in CLASS.items():
        notebooks = graded[student]
        assert [name for _, name, *_ in notebooks] == sorted(RIGHT), f"{student}: one submission, every notebook once"
        for _, name, penalty, grades, _ in notebooks:
            assert grades == [(f"{name}_check", scores[name], None, False)], f"{student}'s {name}"
            assert penalty == (scores[name] if student == "late" else None), f"{student}'s late penalty on {name}"
    assert [c for _, name, _, _, comments in graded["blank"] for c in comments if name == "one"] == [
        ("one_answer", "No response.", None)
    ]
    assert graded == _gradebook(sequential), "the gradebook differs from nbgrader autograde's"
    assert _autograded(parallel) == _autograded(sequential), "the autograded notebooks differ from nbgrader autograde's"

    again = _grading_command(parallel, "parallel", ASSIGNMENT, "--workers", "2").stdout
    assert f"{len(CLASS)} students already autograded" in again and "autograded 0 of 0" in again, again
    assert _gradebook(parallel) == graded

    merged = _copy(course_template, tmp_path / "merged")
    assert _grading_command(merged, "merge", ASSIGNMENT, str(sequential)).stdout.count(": merged") == len(CLASS)
    assert _gradebook(merged) == graded, "merging another course directory's grading changes the grades"
    assert _autograded(merged) == _autograded(sequential)

    _nbgrader_command(parallel, "generate_feedback", ASSIGNMENT)
    for student, (answers, _, _) in CLASS.items():
        for name in answers:
            assert (parallel / "feedback" / student / ASSIGNMENT / f"{name}.html").exists(), f"{student}'s feedback on {name}"
    assert "answer() is not 2" in (parallel / "feedback" / "half" / ASSIGNMENT / "two.html").read_text()
    _nbgrader_command(parallel, "export")
    rows = (parallel / "grades.csv").read_text().splitlines()
    header = rows[0].split(",")
    scores = {row.split(",")[header.index("student_id")]: float(row.split(",")[header.index("score")]) for row in rows[1:]}
    assert scores == {student: 0.0 if student == "late" else float(sum(s.values())) for student, (_, _, s) in CLASS.items()}


def test_a_student_whose_grading_fails_is_reported_and_the_others_kept(course_template, tmp_path):
    course = _copy(course_template, tmp_path / "course")
    _submit(course, "right", *CLASS["right"][:2])
    broken = course / "submitted" / "broken" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / "one.ipynb").write_text("{not a notebook")

    run = _grading_command(course, "parallel", ASSIGNMENT, "--workers", "2", "--retries", "1", check=False)
    assert run.returncode == 1
    assert run.stdout.count("broken: failed") == 2, "tried twice"
    assert "autograded 1 of 2 students" in run.stdout and "failed: broken" in run.stdout, run.stdout
    assert "NotJSONError" in run.stderr, "the end of nbgrader's log for the student that failed"
    graded = _gradebook(course)
    assert list(graded) == ["right"], "the failed student leaves the gradebook as it was"
    assert not (course / "autograded" / "broken").exists()
    assert [grades for *_, grades, _ in graded["right"]] == [[("one_check", 2, None, False)], [("two_check", 3, None, False)]]

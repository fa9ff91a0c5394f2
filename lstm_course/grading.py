"""nbgrader for the course: its kernel client for autograde, and a class autograded in parallel.

In an instructor's ``nbgrader_config.py``:

    from lstm_course.grading import autograde_preprocessors
    c.Autograde.autograde_preprocessors = autograde_preprocessors()

nbgrader's own preprocessors, in its order, with its ``Execute`` replaced by one that waits on the
kernel in slices (``lstm_course.authoring.with_sliced_polling``), as the course's own execution
does.

In the course directory, instead of ``nbgrader autograde ASSIGNMENT``:

    python -m lstm_course.grading parallel ASSIGNMENT [--workers N] [--student ID ...] [--force]
    python -m lstm_course.grading merge ASSIGNMENT OTHER_COURSE_DIRECTORY [--student ID ...]

``parallel`` grades each student with ``nbgrader autograde ASSIGNMENT --student ID --force`` in a
fresh copy of the course directory of its own (the assignment's source, the student's submission,
a copy of the gradebook), N students at a time, then merges the student's results into the course
directory: the ``autograded/`` folder, and what autograde writes in the gradebook (the submission's
timestamp, each cell's automatic score and comment, each notebook's late penalty), one student at
a time through nbgrader's API. Only this process writes to the course's gradebook. A student whose
grading fails is tried once more in a fresh copy (kernels started at once can race for a port),
then reported; the others are kept. Like
``nbgrader autograde`` without ``--force`` it leaves a student already autograded whose submission
is not newer. ``merge`` takes the students graded in another copy of the course directory (one
graded on another machine, say) into this one. Both read nbgrader's configuration as nbgrader does
(``nbgrader_config.py`` in the current directory). Why not several ``nbgrader autograde`` at once
on one gradebook: docs/instructors.md, "Grade with nbgrader".

Needs the ``instructor`` extra (nbgrader); nothing else in the course imports this module.
"""

import argparse
import functools
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderApp
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute as NbgraderExecute
from sqlalchemy.exc import SAWarning

from lstm_course.authoring import with_sliced_polling

Execute = with_sliced_polling(NbgraderExecute)


def autograde_preprocessors():
    """nbgrader's default autograde preprocessors with ``Execute`` in place of its own."""
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [Execute if preprocessor is NbgraderExecute else preprocessor for preprocessor in default]


@functools.cache
def _nbgrader_app():
    """nbgrader's configuration, read as ``nbgrader`` run in this directory reads it."""
    app = NbGraderApp()
    app.initialize([])
    return app


def course_directory(root=None):
    """The course directory as ``nbgrader`` run here sees it, or another copy of the course at ``root``
    (the same configuration, its gradebook ``gradebook.db`` in it)."""
    if root is None:
        return _nbgrader_app().coursedir
    root = os.path.abspath(root)
    return CourseDirectory(config=_nbgrader_app().config, root=root, db_url=f"sqlite:///{os.path.join(root, 'gradebook.db')}")


def _sqlite_path(coursedir):
    if not coursedir.db_url.startswith("sqlite:///"):
        sys.exit(f"the gradebook is not an SQLite file ({coursedir.db_url}): grade it with nbgrader autograde")
    return coursedir.db_url[len("sqlite:///"):]


def submitted_students(coursedir, assignment):
    """The students with a submission of ``assignment``, less ``CourseDirectory.student_id_exclude``."""
    pattern = coursedir.format_path(coursedir.submitted_directory, "(?P<student_id>.*)", re.escape(assignment), escape=True)
    paths = glob.glob(coursedir.format_path(coursedir.submitted_directory, "*", assignment))
    excluded = set(coursedir.student_id_exclude.split(",")) if coursedir.student_id_exclude else set()
    students = {match.group("student_id") for match in (re.fullmatch(pattern, path) for path in paths) if match}
    return sorted(students - excluded)


def needs_grading(coursedir, assignment, student):
    """What ``nbgrader autograde`` without ``--force`` decides: not autograded yet, or submitted since."""
    autograded = coursedir.format_path(coursedir.autograded_directory, student, assignment)
    if not os.path.exists(autograded):
        return True
    new = coursedir.get_existing_timestamp(coursedir.format_path(coursedir.submitted_directory, student, assignment))
    old = coursedir.get_existing_timestamp(autograded)
    return new is not None and old is not None and new > old


def merge_student(coursedir, other, assignment, student):
    """Take ``student``'s autograde of ``assignment`` from the course directory ``other`` into ``coursedir``:
    what ``nbgrader autograde`` writes, its autograded folder and its rows of the gradebook."""
    with Gradebook(other.db_url, other.course_id) as theirs_book, Gradebook(coursedir.db_url, coursedir.course_id) as ours_book:
        theirs = theirs_book.find_submission(assignment, student)
        ours_book.update_or_create_student(student)
        ours = ours_book.update_or_create_submission(assignment, student)
        ours.timestamp = theirs.timestamp
        our_notebooks = {notebook.name: notebook for notebook in ours.notebooks}
        if set(our_notebooks) != {notebook.name for notebook in theirs.notebooks}:
            raise ValueError(f"{assignment} has other notebooks in {other.root}: generate it there again")
        for notebook in theirs.notebooks:
            our_notebook = our_notebooks[notebook.name]
            our_notebook.late_submission_penalty = notebook.late_submission_penalty
            for kind, fields in (("grades", ("auto_score", "needs_manual_grade")), ("comments", ("auto_comment",))):
                our_cells = {cell.name: cell for cell in getattr(our_notebook, kind)}
                if set(our_cells) != {cell.name for cell in getattr(notebook, kind)}:
                    raise ValueError(f"{assignment}/{notebook.name} has other cells in {other.root}: generate it there again")
                for cell in getattr(notebook, kind):
                    for field in fields:
                        setattr(our_cells[cell.name], field, getattr(cell, field))
        source = other.format_path(other.autograded_directory, student, assignment)
        destination = coursedir.format_path(coursedir.autograded_directory, student, assignment)
        if os.path.exists(destination):
            shutil.rmtree(destination)
        shutil.copytree(source, destination)
        ours_book.db.commit()


def _fresh_copy(coursedir, assignment, student, folder):
    """A course directory at ``folder`` with the assignment's source, the student's submission and a
    copy of the gradebook: all ``nbgrader autograde --student`` reads."""
    copy = course_directory(folder)
    shutil.copytree(coursedir.format_path(coursedir.source_directory, ".", assignment),
                    copy.format_path(copy.source_directory, ".", assignment))
    shutil.copytree(coursedir.format_path(coursedir.submitted_directory, student, assignment),
                    copy.format_path(copy.submitted_directory, student, assignment))
    with closing(sqlite3.connect(_sqlite_path(coursedir))) as source, closing(sqlite3.connect(_sqlite_path(copy))) as destination:
        source.backup(destination)
    return copy


def _autograde(copy, assignment, student):
    """``nbgrader autograde`` of one student in the copy, with this directory's configuration."""
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--student", student, "--force",
               f"--CourseDirectory.root={copy.root}", f"--CourseDirectory.db_url={copy.db_url}"]
    return subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _warnings(log):
    """nbgrader's records at level WARNING or above in its log, with their continuation lines."""
    kept, keep = [], False
    for line in log.splitlines():
        if line.startswith("["):
            keep = re.match(r"\[\w+ \| (WARNING|ERROR|CRITICAL)\]", line) is not None
        if keep:
            kept.append(line)
    return kept


def grade_in_parallel(assignment, workers, students=None, force=False, retries=1, report=print):
    """Autograde the students of ``assignment`` (default: every submission), ``workers`` at a time.
    Returns {student: None if graded, else the tail of nbgrader's log of its last try}."""
    coursedir = course_directory()
    _sqlite_path(coursedir)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
        gradebook.find_assignment(assignment)  # MissingEntry: run nbgrader generate_assignment first
    students = list(students or submitted_students(coursedir, assignment))
    todo = [student for student in students if force or needs_grading(coursedir, assignment, student)]
    if len(todo) < len(students):
        report(f"{len(students) - len(todo)} students already autograded and not submitted since: left as they are (--force grades them again)")
    gradebook_lock = threading.Lock()  # the course's gradebook: copied and written by one thread at a time

    def grade(student):
        for attempt in range(1 + retries):
            start = time.perf_counter()
            try:
                with tempfile.TemporaryDirectory(prefix=f"autograde-{student}-") as folder:
                    with gradebook_lock:
                        copy = _fresh_copy(coursedir, assignment, student, folder)
                    run = _autograde(copy, assignment, student)
                    if run.returncode == 0:
                        with gradebook_lock:
                            merge_student(coursedir, copy, assignment, student)
                        report("\n    ".join([f"{student}: graded in {time.perf_counter() - start:.0f} s", *_warnings(run.stdout)]))
                        return None
                    log = "\n".join(run.stdout.splitlines()[-40:])
            except Exception:
                log = traceback.format_exc()
            errors = [line for line in log.splitlines() if "Error" in line]
            report(f"{student}: failed (try {attempt + 1} of {1 + retries}): {(errors or log.splitlines() or [''])[-1].strip()}")
        return log

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(zip(todo, pool.map(grade, todo)))


def merge(assignment, other_root, students=None, report=print):
    """Take the students autograded in the course directory ``other_root`` into this one (default:
    every student with a submission there). Returns the students not autograded there."""
    coursedir, other = course_directory(), course_directory(other_root)
    if os.path.samefile(coursedir.root, other.root):
        sys.exit("merge: that is this course directory")
    missing = []
    for student in students or submitted_students(other, assignment):
        try:
            if not os.path.exists(other.format_path(other.autograded_directory, student, assignment)):
                raise MissingEntry(f"no autograded folder for {student}")
            merge_student(coursedir, other, assignment, student)  # MissingEntry first if not in its gradebook
        except MissingEntry:
            missing.append(student)
            report(f"{student}: not autograded in {other.root}")
        else:
            report(f"{student}: merged")
    return missing


def _cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lstm_course.grading", description="Autograde a class in parallel (run in the course directory).")
    commands = parser.add_subparsers(dest="command", required=True)
    parallel = commands.add_parser("parallel", help="autograde the class, several students at a time")
    parallel.add_argument("assignment")
    parallel.add_argument("--workers", type=int, default=_cores(), help="students graded at once (default: the cores)")
    parallel.add_argument("--student", action="append", help="grade this student (repeatable; default: every submission)")
    parallel.add_argument("--force", action="store_true", help="grade again the students already autograded")
    parallel.add_argument("--retries", type=int, default=1, help="tries more for a student whose grading fails (default 1)")
    take = commands.add_parser("merge", help="take the students autograded in another copy of the course directory")
    take.add_argument("assignment")
    take.add_argument("other", type=Path)
    take.add_argument("--student", action="append", help="merge this student (repeatable; default: every submission there)")
    args = parser.parse_args(argv)

    def report(line):
        print(line, flush=True)

    warnings.filterwarnings("ignore", "Object of type", SAWarning)  # nbgrader's add_submission, as under nbgrader autograde
    if args.command == "merge":
        missing = merge(args.assignment, args.other, args.student, report=report)
        return 1 if missing else 0
    start = time.perf_counter()
    results = grade_in_parallel(args.assignment, args.workers, args.student, args.force, args.retries, report=report)
    failed = {student: log for student, log in results.items() if log is not None}
    for student, log in failed.items():
        print(f"\n--- {student}: the end of nbgrader's log ---\n{log}", file=sys.stderr)
    print(f"autograded {len(results) - len(failed)} of {len(results)} students in {time.perf_counter() - start:.0f} s"
          f" with {args.workers} workers" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

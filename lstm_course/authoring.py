"""Tools for the people who write the course: re-execute notebooks, write their twins and learner copies.

    python -m lstm_course.authoring execute [NOTEBOOK ...]   # all of notebooks/ by default
    python -m lstm_course.authoring exercises [--check]
    python -m lstm_course.authoring release FOLDER          # the learner copies alone, to publish

``execute`` runs each notebook top to bottom in a fresh kernel, stores the outputs, rewrites
its ``py:percent`` twin and the learner copies, and records the notebook's training runs for
replay under grading (``lstm_course.replay``). If the twin was edited more recently than the
notebook (and differs from it), the twin is the source. ``exercises --check`` only reports
learner copies that are out of date, and exits 1 if there are any.

Exercise solutions sit between nbgrader's markers; a learner copy replaces them, as nbgrader
does, with ``raise NotImplementedError()``, so that an untouched exercise function raises and
its check says "not attempted yet". (nbgrader itself would bring SQLAlchemy, alembic and more
for this one step, so this module does it in a few lines; nbgrader reads the same markers.)
"""

import argparse
import contextlib
import copy
import os
import queue
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TWIN_FORMAT = "py:percent"
PAIRED_FORMATS = "ipynb,py:percent"
EXERCISES_DIR = "exercises"
NBGRADER_SCHEMA = 3  # nbgrader 0.9's cell metadata schema (nbgrader/nbgraderformat/v3.json)
POINTS = {"core": 3, "optional": 1}  # what a check cell is worth to nbgrader
EXERCISE_HEADING = re.compile(r"^#+ *Exercise\b.*$", re.MULTILINE)
EXERCISE_KIND = re.compile(r"\((core|optional)\)\s*$")
JUPYTEXT_CELL_METADATA = "tags,nbgrader,-all"  # what the twins keep of a cell's metadata
LEARNER_NOTE = (
    "> **Learner copy.** The exercises' solutions are replaced by `raise NotImplementedError()`. "
    "Write your answer in their place, run the cell, then run the check below it."
)


def course_notebooks(notebooks_dir):
    """The course notebooks, in order (learner copies and checkpoints left out)."""
    return sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb"))


def twin_path(notebook_path):
    return Path(notebook_path).with_suffix(".py")


def twin_text(nb):
    """The py:percent text of a notebook, as its twin file should hold it."""
    return jupytext.writes(nb, fmt=TWIN_FORMAT)


def _number_cells(nb):
    """Give cells ids from their position, so re-executing leaves them unchanged."""
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index:03d}"


def _exercise_name(source, notebook_path, number):
    """The exercise's name for nbgrader: the function (or class) its solution cell defines."""
    match = re.search(r"^(?:def|class) (\w+)\b", source, re.MULTILINE)
    if not match:
        raise ValueError(f"{Path(notebook_path).name}: solution cell {number} defines no function or class")
    return match.group(1)


def _nbgrader_metadata(grade_id, solution=False, points=None):
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution,
            "schema_version": NBGRADER_SCHEMA, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return dict(sorted(meta.items()))  # as nbformat writes them, so the twin reads the same from either


def mark_exercises(nb, notebook_path):
    """Write nbgrader's cell metadata from the solution markers: answer cells and their check cells.

    The cell holding a solution becomes an autograded answer (grade_id: the notebook's number and
    the function it defines); the code cell after it, the check, becomes a locked autograder test
    worth POINTS of the kind its exercise heading says, "(core)" or "(optional)".
    """
    prefix = "nb" + Path(notebook_path).name[:2]
    seen, cells = set(), nb.cells
    for cell in cells:
        cell.metadata.pop("nbgrader", None)
    for number, (cell, after) in enumerate(zip(cells, cells[1:])):
        if cell.cell_type != "code" or BEGIN_SOLUTION not in cell.source:
            continue
        kind = _kind_before(cells, number, notebook_path)
        grade_id = f"{prefix}_{_exercise_name(cell.source, notebook_path, number)}"
        if grade_id in seen or after.cell_type != "code":
            raise ValueError(f"{Path(notebook_path).name}: exercise {grade_id} is defined twice or has no check cell after it")
        seen.add(grade_id)
        cell.metadata["nbgrader"] = _nbgrader_metadata(grade_id, solution=True)
        after.metadata["nbgrader"] = _nbgrader_metadata(f"{grade_id}_check", points=POINTS[kind])
    return nb


def _kind_before(cells, number, notebook_path):
    """"core" or "optional", from the last exercise heading above cell ``number``."""
    headings = [h for cell in cells[:number] if cell.cell_type == "markdown" for h in EXERCISE_HEADING.findall(cell.source)]
    kind = EXERCISE_KIND.search(headings[-1]) if headings else None
    if kind is None:
        raise ValueError(
            f"{Path(notebook_path).name}: the solution in cell {number} needs an exercise heading above it "
            "that ends in (core) or (optional), like '### Exercise 1 · Title (core)'"
        )
    return kind.group(1)


def read_source(notebook_path):
    """The notebook to execute: from the .ipynb, or from its twin if that was edited last."""
    notebook_path = Path(notebook_path)
    twin = twin_path(notebook_path)
    if not notebook_path.exists():
        return jupytext.read(twin, fmt=TWIN_FORMAT)
    nb = nbformat.read(notebook_path, as_version=4)
    if (
        twin.exists()
        and twin.read_text(encoding="utf-8") != twin_text(nb)
        and twin.stat().st_mtime > notebook_path.stat().st_mtime
    ):
        print(f"{twin.name} is newer than {notebook_path.name}: using it as the source")
        nb = jupytext.read(twin, fmt=TWIN_FORMAT)
    return nb


POLL_SLICE_S = 0.5  # how long one wait on a kernel channel lasts before the client looks again


def _in_slices(get_msg):
    """A channel's ``get_msg`` that waits in slices of POLL_SLICE_S, up to the same timeout.

    A zmq.asyncio wait on a socket is woken by the socket's file descriptor, which signals an
    edge, not a level: a wake-up that is missed leaves the wait asleep with the kernel's reply
    already in the socket, until its timeout (the whole cell's, 15 minutes under nbgrader), when
    zmq.asyncio looks at the socket itself and finds the reply. Each slice ends with that look.
    """

    async def get_msg_in_slices(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=POLL_SLICE_S if left is None else min(POLL_SLICE_S, left))
            except queue.Empty:
                if left is not None and left <= POLL_SLICE_S:
                    raise

    return get_msg_in_slices


def with_sliced_polling(client_class):
    """A subclass of ``client_class`` (nbclient's NotebookClient, or one built on it such as
    nbgrader's Execute) whose kernel channels wait in slices (``_in_slices``).

    Both ways of starting the kernel client are replaced: ``execute()`` awaits
    ``async_start_new_kernel_client``, while nbconvert's ``preprocess`` (which nbgrader runs) calls
    ``start_new_kernel_client``, which nbclient binds to its own coroutine when the class is made.
    """
    from jupyter_core.utils import run_sync

    class SlicedPolling(client_class):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            for channel in (kc.shell_channel, kc.iopub_channel):
                channel.get_msg = _in_slices(channel.get_msg)
            return kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

    SlicedPolling.__name__ = SlicedPolling.__qualname__ = client_class.__name__  # config goes by class name
    return SlicedPolling


def notebook_client(nb, timeout=900, **options):
    """An nbclient NotebookClient for the course's notebooks, that waits on the kernel in slices."""
    from nbclient import NotebookClient

    return with_sliced_polling(NotebookClient)(nb, timeout=timeout, kernel_name="python3", **options)


@contextlib.contextmanager
def recording_runs(name):
    """The notebook's kernel trains for real and records its training runs afresh (``lstm_course.replay``)."""
    from lstm_course import replay

    for stale in replay.RUNS.glob(f"{name}-*.pt"):
        stale.unlink()
    saved = {key: os.environ.pop(key, None) for key in (replay.REPLAY, replay.RECORD)}
    os.environ[replay.RECORD] = name
    try:
        yield
    finally:
        os.environ.pop(replay.RECORD)
        os.environ.update({key: value for key, value in saved.items() if value is not None})


def execute_notebook(notebook_path, timeout=900):
    """Run a notebook in a fresh kernel and write it, with its outputs, and its twin."""
    notebook_path = Path(notebook_path)
    nb = read_source(notebook_path)
    nb.metadata.setdefault("jupytext", {})["formats"] = PAIRED_FORMATS
    nb.metadata.jupytext["cell_metadata_filter"] = JUPYTEXT_CELL_METADATA
    nb.metadata.jupytext.pop("text_representation", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    _number_cells(nb)
    mark_exercises(nb, notebook_path)
    with recording_runs(notebook_path.stem):
        notebook_client(nb, timeout, record_timing=False, resources={"metadata": {"path": str(notebook_path.parent)}}).execute()
    nbformat.write(nb, notebook_path)
    twin_path(notebook_path).write_text(twin_text(nb), encoding="utf-8")
    return nb


def strip_solutions(source):
    """Replace every solution block in a cell's source by nbgrader's stub, at the block's indent."""
    lines, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            if inside:
                raise ValueError(f"line {number}: {BEGIN_SOLUTION} inside another solution block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            lines.extend(indent + stub for stub in STUB)
        elif marker == END_SOLUTION:
            if not inside:
                raise ValueError(f"line {number}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            inside = False
        elif not inside:
            lines.append(line)
    if inside:
        raise ValueError(f"a {BEGIN_SOLUTION} block is never closed by {END_SOLUTION}")
    return "\n".join(lines)


def learner_note():
    """The cell that opens every learner copy (and, as nbgrader's header, every released notebook)."""
    return nbformat.v4.new_markdown_cell(LEARNER_NOTE, id="learner-note")


def learner_copy(nb):
    """The notebook a learner starts from: solutions stubbed, outputs cleared, no twin."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
    nb.cells.insert(0, learner_note())
    nb.metadata["jupytext"] = {"formats": "ipynb"}  # a learner's saves make no .py twin
    nb.metadata.pop("widgets", None)  # the stored widgets' state: no output is left to show it
    return nb


def learner_copy_path(notebook_path):
    notebook_path = Path(notebook_path)
    return notebook_path.parent / EXERCISES_DIR / notebook_path.name


def learner_copy_text(notebook_path):
    """The file content of a notebook's learner copy, as it should be now."""
    return nbformat.writes(learner_copy(nbformat.read(notebook_path, as_version=4))) + "\n"


def stale_learner_copies(notebooks_dir):
    """Learner copies that are missing or differ from what their notebook gives now."""
    stale = []
    for path in course_notebooks(notebooks_dir):
        target = learner_copy_path(path)
        if not target.exists() or target.read_text(encoding="utf-8") != learner_copy_text(path):
            stale.append(target)
    return stale


def write_learner_copies(notebooks_dir):
    written = []
    for path in course_notebooks(notebooks_dir):
        target = learner_copy_path(path)
        target.parent.mkdir(exist_ok=True)
        target.write_text(learner_copy_text(path), encoding="utf-8")
        written.append(target)
    return written


def write_release(notebooks_dir, folder):
    """Write every learner copy, fresh from its course notebook, into ``folder``: no solutions, no outputs."""
    folder = Path(folder)
    if folder.resolve().is_relative_to(Path(notebooks_dir).resolve()):
        raise ValueError(f"{folder} is inside {notebooks_dir}: write the release somewhere else")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for path in course_notebooks(notebooks_dir):
        text = learner_copy_text(path)
        if BEGIN_SOLUTION in text or END_SOLUTION in text:
            raise ValueError(f"{path.name}: a solution marker is left in its learner copy")
        (folder / path.name).write_text(text, encoding="utf-8")
        written.append(folder / path.name)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lstm_course.authoring", description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks-dir", default="notebooks", type=Path)
    commands = parser.add_subparsers(dest="command", required=True)
    execute = commands.add_parser("execute", help="re-execute notebooks, rewrite twins and learner copies")
    execute.add_argument("notebooks", nargs="*", type=Path, help="default: every course notebook")
    exercises = commands.add_parser("exercises", help="write the learner copies")
    exercises.add_argument("--check", action="store_true", help="only report stale copies")
    release = commands.add_parser("release", help="write the learner copies alone into a folder, to publish")
    release.add_argument("folder", type=Path)
    args = parser.parse_args(argv)

    if not args.notebooks_dir.is_dir():
        parser.error(f"no folder {args.notebooks_dir}: run this from the repository's root")
    if args.command == "execute":
        for path in args.notebooks or course_notebooks(args.notebooks_dir):
            print(f"executing {path}")
            execute_notebook(path)
    if args.command == "release":
        for path in write_release(args.notebooks_dir, args.folder):
            print(f"wrote {path}")
        return 0
    if args.command == "exercises" and args.check:
        stale = stale_learner_copies(args.notebooks_dir)
        for path in stale:
            print(f"out of date: {path}")
        return 1 if stale else 0
    for path in write_learner_copies(args.notebooks_dir):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

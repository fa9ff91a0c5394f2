import nbformat
import pytest

from lstm_course.authoring import LEARNER_NOTE, learner_copy, mark_exercises, strip_solutions


def test_solution_block_becomes_the_stub_at_its_indent():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION\n\nprint(f)"
    assert strip_solutions(source) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nprint(f)"


def test_source_without_markers_is_unchanged():
    assert strip_solutions("a = 1\nb = 2") == "a = 1\nb = 2"


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "line 2: ### END SOLUTION without ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "line 2: ### BEGIN SOLUTION inside"),
    ],
)
def test_broken_markers_are_reported_with_their_line(source, message):
    with pytest.raises(ValueError, match=message):
        strip_solutions(source)


def test_learner_copy_clears_outputs_and_keeps_the_original():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION", execution_count=3)
    code.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), code]
    copy = learner_copy(nb)
    assert [c.source for c in copy.cells][:2] == [LEARNER_NOTE, "# Title"]
    assert copy.cells[2].outputs == [] and copy.cells[2].execution_count is None
    assert "raise NotImplementedError()" in copy.cells[2].source
    assert copy.metadata["jupytext"] == {"formats": "ipynb"}
    assert nb.cells[1].outputs and "return 1" in nb.cells[1].source  # the course notebook is untouched
    assert "widgets" not in copy.metadata


def _exercise_notebook(kind="core"):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"### Exercise 1 · Add one ({kind})\nWrite `add_one(x)`."),
        nbformat.v4.new_code_cell("def add_one(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("check_add_one(add_one)"),
        nbformat.v4.new_code_cell("print('not graded')"),
    ]
    nb.metadata["widgets"] = {"state": {}}
    return nb


@pytest.mark.parametrize("kind, points", [("core", 3), ("optional", 1)])
def test_answer_and_check_cells_get_nbgrader_metadata(kind, points):
    nb = mark_exercises(_exercise_notebook(kind), "03_name.ipynb")
    answer, check, other = (cell.metadata.get("nbgrader") for cell in nb.cells[1:])
    assert answer == {"grade": False, "grade_id": "nb03_add_one", "locked": False, "schema_version": 3, "solution": True, "task": False}
    assert check == {"grade": True, "grade_id": "nb03_add_one_check", "locked": True, "points": points, "schema_version": 3, "solution": False, "task": False}
    assert other is None and "nbgrader" not in nb.cells[0].metadata


def test_an_exercise_without_core_or_optional_is_refused():
    nb = _exercise_notebook()
    nb.cells[0].source = "### Exercise 1 · Add one"
    with pytest.raises(ValueError, match=r"ends in \(core\) or \(optional\)"):
        mark_exercises(nb, "03_name.ipynb")


@pytest.mark.parametrize("start", ["NotebookClient.execute", "ExecutePreprocessor.preprocess"])
def test_the_client_waits_in_slices_however_its_kernel_is_started(monkeypatch, start):
    """nbclient's execute() and nbconvert's preprocess() (what nbgrader runs) start the kernel
    client by two different routes; on both, the shell and iopub channels must wait in slices."""
    from nbconvert.preprocessors import ExecutePreprocessor
    from nbformat.v4 import new_code_cell, new_notebook

    from lstm_course import authoring

    wrapped, in_slices = [], authoring._in_slices
    monkeypatch.setattr(authoring, "_in_slices", lambda get_msg: wrapped.append(get_msg) or in_slices(get_msg))
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    if start == "NotebookClient.execute":
        authoring.notebook_client(nb, timeout=60).execute()
    else:
        authoring.with_sliced_polling(ExecutePreprocessor)(timeout=60, kernel_name="python3").preprocess(nb, {})
    assert len(wrapped) == 2, f"{start}: {len(wrapped)} channels wait in slices, not the shell and the iopub"
    assert nb.cells[0].outputs[0].text == "42\n"


def test_notebook_02_executes_on_a_busy_machine():
    """Two processes spin on the CPU while the course's client runs notebook 02, widget cells included."""
    import subprocess
    import sys

    from lstm_course.authoring import notebook_client
    from tests.notebooks import NOTEBOOKS_DIR

    path = NOTEBOOKS_DIR / "02_hand_counter.ipynb"
    nb = nbformat.read(path, as_version=4)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        notebook_client(nb, timeout=300, resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for spinner in spinners:
            spinner.kill()
    assert all(not any(o.output_type == "error" for o in c.get("outputs", [])) for c in nb.cells if "raises-exception" not in c.metadata.get("tags", []))


def test_a_release_holds_the_learner_copies_and_no_solution(tmp_path):
    from lstm_course.authoring import learner_copy_text, main
    from tests.notebooks import COURSE_NOTEBOOKS, NOTEBOOKS_DIR

    assert main(["--notebooks-dir", str(NOTEBOOKS_DIR), "release", str(tmp_path / "release")]) == 0
    written = sorted((tmp_path / "release").iterdir())
    assert [p.name for p in written] == [p.name for p in COURSE_NOTEBOOKS]
    for path, notebook in zip(written, COURSE_NOTEBOOKS):
        assert path.read_text(encoding="utf-8") == learner_copy_text(notebook)
        assert "### BEGIN SOLUTION" not in path.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="inside"):
        main(["--notebooks-dir", str(NOTEBOOKS_DIR), "release", str(NOTEBOOKS_DIR / "out")])


def test_an_exercise_that_is_a_class_is_named_for_it():
    nb = _exercise_notebook()
    nb.cells[1].source = "class Model:\n    def forward(self, x):\n        ### BEGIN SOLUTION\n        return x\n        ### END SOLUTION"
    mark_exercises(nb, "05_name.ipynb")
    assert nb.cells[1].metadata["nbgrader"]["grade_id"] == "nb05_Model"
    assert nb.cells[2].metadata["nbgrader"]["grade_id"] == "nb05_Model_check"

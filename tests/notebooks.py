"""Where the course notebooks are, and what they define, for the tests that read them."""

import ast
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from lstm_course.authoring import course_notebooks

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
COURSE_NOTEBOOKS = course_notebooks(NOTEBOOKS_DIR)


def notebook_definitions(notebook, *names):
    """The functions and classes ``notebook`` (e.g. "03_lstm_forward") defines under ``names``, in that order.

    Compiled from its code cells alone: each definition (the last one of a name wins, as in a run top to
    bottom) with the notebook's imports of the names it uses; nothing else of the notebook runs.
    """
    path = NOTEBOOKS_DIR / f"{notebook}.ipynb"
    cells = [ast.parse(TransformerManager().transform_cell(cell.source))  # %magics become plain calls
             for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    nodes = [node for tree in cells for node in tree.body]
    definitions = [node for node in nodes if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names]
    used = {node.id for definition in definitions for node in ast.walk(definition) if isinstance(node, ast.Name)}
    imports = [node for node in nodes if isinstance(node, (ast.Import, ast.ImportFrom))
               and any((alias.asname or alias.name.split(".")[0]) in used for alias in node.names)]
    namespace = {}
    exec(compile(ast.Module(body=imports + definitions, type_ignores=[]), path.name, "exec"), namespace)
    missing = [name for name in names if name not in namespace]
    assert not missing, f"{path.name} defines no {missing}"
    return tuple(namespace[name] for name in names)

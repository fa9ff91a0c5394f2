"""Functions a notebook builds in front of the learner must behave like the package's own."""

import ast

import nbformat
import torch

from tests.notebooks import NOTEBOOKS_DIR

import lstm_course
from lstm_course.hand_lstm import lstm_forward_tiled


def definitions_from_notebook(path, names):
    """The functions a notebook defines under these names, compiled from its code cells alone."""
    namespace = {"torch": torch}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
            exec(compile(tree, f"{path.name}", "exec"), namespace)
    missing = [name for name in names if name not in namespace]
    assert not missing, f"{path.name} defines no {missing}"
    return {name: namespace[name] for name in names}


def test_notebook_03_forward_functions_match_the_package():
    taught = definitions_from_notebook(NOTEBOOKS_DIR / "03_lstm_forward.ipynb", ["lstm_forward", "lstm_forward_tiled"])
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(5, 7, batch_first=True, dtype=torch.float64)
    x = torch.randn(4, 6, 5, dtype=torch.float64)
    states = (torch.randn(4, 7, dtype=torch.float64), torch.randn(4, 7, dtype=torch.float64))
    weights = [p.detach() for p in lstm.parameters()]
    expected = lstm_course.lstm_forward(x, states, *weights)
    for name, package_function in (("lstm_forward", lstm_course.lstm_forward), ("lstm_forward_tiled", lstm_forward_tiled)):
        got = taught[name](x, states, *weights)
        torch.testing.assert_close(got[0], expected[0], rtol=1e-12, atol=1e-12, msg=f"notebook's {name}: output differs")
        torch.testing.assert_close(got[1], expected[1], rtol=1e-12, atol=1e-12, msg=f"notebook's {name}: states differ")
        torch.testing.assert_close(package_function(x, states, *weights)[0], got[0], rtol=1e-12, atol=1e-12)

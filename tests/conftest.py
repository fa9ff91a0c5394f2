import matplotlib
import pytest
import torch

matplotlib.use("Agg")  # tests draw figures without a screen


@pytest.fixture(scope="module")
def one_thread():
    """One thread, as the notebooks run: two threads on a shared 2-core machine wait on each other at every step.

    A module asks for it with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

import random

import numpy as np
import pytest
import torch

from lstm_course import setup_notebook


def _draws():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_same_seed_same_draws_and_threads_fixed():
    threads = torch.get_num_threads()
    try:
        setup_notebook(seed=3, threads=1)
        first = _draws()
        assert torch.get_num_threads() == 1
        setup_notebook(seed=3, threads=1)
        assert _draws() == first
        setup_notebook(seed=4, threads=1)
        assert _draws() != first
    finally:
        torch.set_num_threads(threads)


def test_print_precision_is_set():
    setup_notebook(precision=3)
    assert repr(torch.tensor([1 / 3])) == "tensor([0.333])"
    assert np.array2string(np.array([1 / 3])) == "[0.333]"
    setup_notebook()


@pytest.mark.parametrize("kwargs, message", [(dict(seed=-1), "seed must be a non-negative int, got -1"), (dict(threads=0), "threads must be a positive int, got 0"), (dict(seed=1.5), "got 1.5")])
def test_bad_arguments_say_what_was_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        setup_notebook(**kwargs)

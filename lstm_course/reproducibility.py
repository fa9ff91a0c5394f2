"""One call at the top of every notebook, so that a re-run prints the same outputs."""

import random

import numpy as np
import torch


def setup_notebook(seed=0, threads=1, precision=4):
    """Seed Python, NumPy and PyTorch, fix PyTorch's thread count and the print precision.

    One thread by default: results then do not depend on how many cores a machine has.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive int, got {threads!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    np.set_printoptions(precision=precision, suppress=True)
    torch.set_printoptions(precision=precision, sci_mode=False)

"""Helper package of the LSTM course: what the notebooks share.

``check_environment`` imports only the standard library and ``packaging``, so it can report a
missing torch or numpy; everything else is imported when first used.
"""

import importlib

from lstm_course.environment import check_environment

_LAZY = {
    "FastHandLSTM": "lstm_course.fast_lstm",
    "HandLSTM": "lstm_course.hand_lstm",
    "HandLSTMCell": "lstm_course.hand_lstm",
    "lstm_forward": "lstm_course.hand_lstm",
    "lstm_shapes": "lstm_course.shapes",
    "setup_notebook": "lstm_course.reproducibility",
}

__all__ = ["check_environment", *_LAZY]
__version__ = "0.1.0"


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lstm_course' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])

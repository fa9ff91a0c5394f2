"""Helper package of the LSTM course: what the notebooks share."""

from lstm_course.reproducibility import setup_notebook

__all__ = ["setup_notebook"]
__version__ = "0.1.0"

"""What the exercise checks are tried with: for every exercise, answers whose verdict is known.

One module per notebook (``nb00`` ... ``nb10``) declares its exercises as `Answers`; the one
harness, ``tests/test_checks.py``, runs them all alike. The modules hold answers only: no helpers
of their own beyond the answers themselves.
"""

import importlib
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Answers:
    """The answers one check is tried with.

    ``solution``: the notebook's own solution (read from the notebook by `tests.notebooks.notebook_definitions`),
    which passes. ``others``: right answers written another way, which pass. ``wrong``: ``(answer, phrase)``
    pairs; each fails, and its message contains ``phrase``, a part of the message that names this mistake (and
    no other answer's). ``course``: answers that hand back the course's own code (or PyTorch's, where the
    exercise asks for it by hand); each fails as such.
    """

    check: Callable
    solution: Callable
    others: list = field(default_factory=list)
    wrong: list = field(default_factory=list)
    course: list = field(default_factory=list)

    @property
    def name(self):
        return self.check.__name__


NOTEBOOKS = ("nb00", "nb01", "nb02", "nb03", "nb04", "nb05", "nb06", "nb07", "nb08", "nb09", "nb10")


def every_exercise():
    """The `Answers` of every exercise, in course order."""
    return [answers for module in NOTEBOOKS for answers in importlib.import_module(f"tests.check_answers.{module}").ANSWERS]

"""nbgrader's autograde with the course's kernel client: for an instructor's ``nbgrader_config.py``.

    from lstm_course.grading import autograde_preprocessors
    c.Autograde.autograde_preprocessors = autograde_preprocessors()

nbgrader's own preprocessors, in its order, with its ``Execute`` replaced by one that waits on the
kernel in slices (``lstm_course.authoring.with_sliced_polling``), as the course's own execution
does. Needs the ``instructor`` extra (nbgrader); nothing else in the course imports this module.
"""

from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute as NbgraderExecute

from lstm_course.authoring import with_sliced_polling

Execute = with_sliced_polling(NbgraderExecute)


def autograde_preprocessors():
    """nbgrader's default autograde preprocessors with ``Execute`` in place of its own."""
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [Execute if preprocessor is NbgraderExecute else preprocessor for preprocessor in default]

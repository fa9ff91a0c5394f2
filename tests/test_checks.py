"""Every exercise check, tried alike: its solution and other right answers pass, its stub is "not
attempted yet", each known wrong answer gets its own diagnosis, and the course's own code is refused.

The answers are declared in ``tests/check_answers/``, one module per notebook.
"""

import random

import numpy as np
import pytest
import torch

import lstm_course.checks as checks
from lstm_course.checks.judge import CheckFailed
from tests.check_answers import every_exercise

EXERCISES = every_exercise()


def _ids(pairs):
    return [f"{answers.name}-{number}" for answers, number in pairs]


def _each(attribute):
    return [(answers, number) for answers in EXERCISES for number in range(len(getattr(answers, attribute)))]


def stub(*args, **kwargs):
    raise NotImplementedError()


def _well_written(result):
    text = result.message
    assert text[:1].isupper() or text[:1] in "`(", f"a message starts with a capital: {text!r}"
    assert text.endswith((".", "?", "!", ".)")), f"a message ends a sentence: {text!r}"
    assert "Traceback" not in text and "lstm_course/checks" not in text, text


def test_every_check_is_tried():
    exported = {name for name in checks.__all__ if name.startswith("check_")}
    assert exported == {answers.name for answers in EXERCISES}


@pytest.mark.parametrize("answers", EXERCISES, ids=lambda a: a.name)
def test_the_solution_passes(answers):
    result = answers.check(answers.solution)
    assert result, repr(result)
    _well_written(result)


@pytest.mark.parametrize("answers, number", _each("others"), ids=_ids(_each("others")))
def test_a_right_answer_written_another_way_passes(answers, number):
    result = answers.check(answers.others[number])
    assert result, repr(result)


@pytest.mark.parametrize("answers", EXERCISES, ids=lambda a: a.name)
def test_the_stub_is_not_attempted_yet(answers):
    result = answers.check(stub)
    assert result.status == "not attempted yet", repr(result)


@pytest.mark.parametrize("answers, number", _each("wrong"), ids=_ids(_each("wrong")))
def test_a_wrong_answer_gets_its_own_diagnosis(answers, number):
    answer, phrase = answers.wrong[number]
    result = answers.check(answer)
    assert result.status == "failed", f"a wrong answer passed: {result!r}"
    assert phrase in result.message, f"expected {phrase!r} in: {result.message}"
    _well_written(result)
    others = [other for k, (_, other) in enumerate(answers.wrong) if k != number and other != phrase and not other.startswith("Hint")]
    assert not [other for other in others if other in result.message], "the diagnosis of another mistake came too"


@pytest.mark.parametrize("answers, number", _each("course"), ids=_ids(_each("course")))
def test_the_course_s_own_code_is_refused(answers, number):
    result = answers.check(answers.course[number])
    assert result.status == "failed", f"the course's own code passed: {result!r}"
    assert "own version of what this exercise asks you to write" in result.message, result.message


def test_every_exercise_that_has_an_implementation_in_the_course_refuses_it():
    without = [answers.name for answers in EXERCISES if answers.check.refused and not answers.course]
    assert not without, f"these checks refuse code, but no answer tries it: {without}"


@pytest.mark.parametrize("answers", EXERCISES, ids=lambda a: a.name)
def test_a_check_leaves_the_learner_s_random_state_as_it_was(answers):
    states = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    answers.check(answers.solution)
    assert torch.equal(torch.get_rng_state(), states[0])
    assert np.array_equal(np.random.get_state()[1], states[1])
    assert random.getstate() == states[2]


def test_under_nbgrader_a_check_that_does_not_pass_raises_its_diagnosis(monkeypatch):
    answers = EXERCISES[0]
    answer, phrase = answers.wrong[0]
    for run in ("autograde", "validate"):
        monkeypatch.setenv("NBGRADER_EXECUTION", run)
        with pytest.raises(CheckFailed, match="failed") as raised:
            answers.check(answer)
        assert phrase in str(raised.value)
        with pytest.raises(CheckFailed, match="not attempted yet"):
            answers.check(stub)
        assert answers.check(answers.solution)

"""What the whole suite shares: nbval's kernels replay the recorded training runs; a time summary."""

import os

import pytest

from lstm_course import replay

# The notebooks that nbval runs replay their recorded training runs, and one without a record is
# an error (lstm_course/replay.py): their stored outputs then do not depend on the processor that
# trains. The tests themselves, and the browser test's notebooks, train for real.
os.environ.pop(replay.REPLAY, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """nbval starts a notebook's kernel in its first cell's setup: there, with strict replay."""
    notebook = item.nodeid.startswith("notebooks/")
    if notebook:
        os.environ[replay.REPLAY] = "strict"
    try:
        yield
    finally:
        if notebook:
            os.environ.pop(replay.REPLAY, None)


def _part(nodeid):
    """Which part of the suite a test belongs to, for the time summary."""
    if nodeid.startswith("notebooks/"):
        return "notebooks under nbval"
    for prefix, part in (("tests/test_browser.py", "browser test"), ("tests/test_nbgrader.py", "nbgrader test"),
                         ("tests/test_grading.py", "nbgrader test"), ("tests/test_exercises.py", "learner copies")):
        if nodeid.startswith(prefix):
            return part
    return "unit tests"


def pytest_terminal_summary(terminalreporter):
    """Seconds spent in each part of the suite (summed over the workers), for CI's log."""
    seconds = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "duration", None) is not None and hasattr(report, "nodeid"):
                part = _part(report.nodeid)
                seconds[part] = seconds.get(part, 0.0) + report.duration
    if seconds:
        terminalreporter.write_sep("-", "seconds by part of the suite, summed over the workers")
        for part, total in sorted(seconds.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{part:24s} {total:7.0f} s")

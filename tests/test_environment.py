import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import lstm_course
from lstm_course import environment
from lstm_course.environment import SETUP_COMMAND, check_environment

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(environment, "gpu_info", lambda: "none found")


def test_this_environment_passes():
    report = check_environment()
    assert report.ok, repr(report)
    assert report.problems == ()
    assert lstm_course.check_environment is check_environment
    assert "check_environment" in lstm_course.__all__


def test_the_rows_are_pyprojects_dependencies_then_python():
    """The pins come from the installed metadata; it must say what pyproject.toml says."""
    report = check_environment()
    expected = [Requirement(text) for text in PYPROJECT["dependencies"]]
    got = [(r.name, r.required) for r in report.rows[:-1]]
    assert got == [(e.name, str(e.specifier)) for e in expected], f"the installed metadata is stale: run {SETUP_COMMAND}"
    assert (report.rows[-1].name, report.rows[-1].required) == ("python", PYPROJECT["requires-python"])


def test_dev_extra_adds_the_test_tools():
    report = check_environment(extras=("dev",))
    dev = [Requirement(text).name for text in PYPROJECT["optional-dependencies"]["dev"]]
    assert [row.name for row in report.rows if row.name in dev] == dev
    assert report.ok, repr(report)


def test_fix_command_is_the_readmes_set_up_command():
    assert SETUP_COMMAND in (ROOT / "README.md").read_text(encoding="utf-8")


def test_a_mismatched_version_gets_a_cross_and_the_fix(monkeypatch, no_gpu):
    real = environment.installed_version
    monkeypatch.setattr(environment, "installed_version", lambda name: "1.0.0" if name == "numpy" else real(name))
    report = check_environment()
    assert not report.ok
    (numpy,) = report.problems
    assert (numpy.name, numpy.installed, numpy.ok) == ("numpy", "1.0.0", False)
    line = next(line for line in repr(report).splitlines() if line.startswith("numpy"))
    assert "1.0.0" in line and "❌ another version; fix: " in line and f'{sys.executable} -m pip install "numpy==2.4.6"' in line
    summary = f"1 of {len(PYPROJECT['dependencies']) + 1} requirements not met (0 missing, 1 another version)"
    assert summary in repr(report) and "restart the kernel" in repr(report)


def test_a_missing_package_says_not_installed(monkeypatch, no_gpu):
    real = environment.installed_version
    monkeypatch.setattr(environment, "installed_version", lambda name: None if name == "ipywidgets" else real(name))
    report = check_environment()
    line = next(line for line in repr(report).splitlines() if line.startswith("ipywidgets"))
    assert "not installed" in line and "❌ missing; fix: " in line and 'pip install "ipywidgets==8.1.9"' in line
    assert "(1 missing, 0 another version)" in repr(report)


def test_a_local_version_label_matches_its_pin(monkeypatch):
    """The CPU wheel of torch says 2.13.0+cpu; the pin ==2.13.0 accepts it, as pip does."""
    pin = next(Requirement(t) for t in PYPROJECT["dependencies"] if t.startswith("torch"))
    real = environment.installed_version
    monkeypatch.setattr(environment, "installed_version", lambda name: str(pin.specifier).removeprefix("==") + "+cpu" if name == "torch" else real(name))
    assert check_environment().ok


def test_an_old_python_is_named_with_what_to_do(monkeypatch, no_gpu):
    monkeypatch.setattr(environment, "python_version", lambda: "3.10.4")
    report = check_environment()
    (python,) = report.problems
    assert python.name == "python" and python.installed == "3.10.4"
    assert f"use a Python >=3.11, then run {SETUP_COMMAND}" in repr(report)


def test_a_package_that_is_not_installed_itself_says_so(monkeypatch, no_gpu):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(environment.metadata, "metadata", not_installed)
    monkeypatch.setattr(environment.metadata, "requires", not_installed)
    report = check_environment()
    assert not report.ok
    assert [row.name for row in report.problems] == ["lstm_course"]
    line = next(line for line in repr(report).splitlines() if line.startswith("lstm_course"))
    assert line.split()[1:6] == ["installed", "not", "installed", "❌", "missing;"] and SETUP_COMMAND in line


def test_report_format(monkeypatch, no_gpu):
    versions = {"torch": "2.13.0+cpu", "numpy": "2.4.6"}
    monkeypatch.setattr(environment, "_requirements", lambda extras: [Requirement("torch==2.13.0"), Requirement("numpy==2.4.6")])
    monkeypatch.setattr(environment, "installed_version", versions.get)
    monkeypatch.setattr(environment, "python_version", lambda: "3.11.7")
    assert repr(check_environment()) == (
        "package  required  installed\n"
        "-------  --------  ----------\n"
        "torch    ==2.13.0  2.13.0+cpu  ✅\n"
        "numpy    ==2.4.6   2.4.6       ✅\n"
        "python   >=3.11    3.11.7      ✅\n"
        "ℹ️ GPU: none found (optional: every notebook runs on the CPU)\n"
        "✅ Everything the course needs is installed."
    )


def test_gpu_is_information_only(monkeypatch):
    monkeypatch.setattr(environment, "gpu_info", lambda: "NVIDIA H100 (CUDA)")
    report = check_environment()
    assert report.ok and "GPU: NVIDIA H100 (CUDA)" in repr(report)
    assert all(row.name != "GPU" for row in report.rows)


def test_gpu_info_is_text():
    assert isinstance(environment.gpu_info(), str) and environment.gpu_info()


@pytest.mark.parametrize(
    "environ, folders, expected",
    [
        ({"BINDER_LAUNCH_HOST": "https://binder.example/", "JUPYTERHUB_USER": "jovyan"}, (), environment.BINDER),
        ({"JUPYTERHUB_API_TOKEN": "secret", "JUPYTERHUB_USER": "ada"}, (), environment.HUB),
        ({}, ("conda-meta",), environment.CONDA),
        ({}, ("venv",), environment.VENV),
        ({}, (), environment.OTHER),
    ],
)
def test_the_installation_is_told_from_the_environment(tmp_path, environ, folders, expected):
    for folder in folders:
        (tmp_path / folder).mkdir()
    prefix = tmp_path / "venv" if "venv" in folders else tmp_path
    assert environment.installation(environ, prefix=prefix, base_prefix=tmp_path) == expected


@pytest.mark.parametrize(
    "how, fix, after",
    [
        (environment.CONDA, 'conda install -c conda-forge "numpy=2.4.6"', "with the environment active"),
        (environment.BINDER, "needs numpy==2.4.6", "launch a new one from the course's Binder link"),
        (environment.HUB, "needs numpy==2.4.6", "show them this table"),
        (environment.VENV, f'{sys.executable} -m pip install "numpy==2.4.6"', "from the repository's root"),
    ],
)
def test_the_fix_fits_the_installation(monkeypatch, no_gpu, how, fix, after):
    real = environment.installed_version
    monkeypatch.setattr(environment, "installation", lambda: how)
    monkeypatch.setattr(environment, "installed_version", lambda name: "1.0.0" if name == "numpy" else real(name))
    text = repr(check_environment())
    assert f"fix: {fix}" in text and after in text, text


def test_conda_names_are_conda_forges(monkeypatch, no_gpu):
    monkeypatch.setattr(environment, "installation", lambda: environment.CONDA)
    monkeypatch.setattr(environment, "installed_version", lambda name: None)
    text = repr(check_environment())
    assert '"pytorch-cpu=2.13.0"' in text and '"matplotlib-base=3.11.2"' in text

"""The environment is described three times and CI installs it as the README says.

pyproject.toml (pip), environment.yml (conda) and binder/environment.yml (Binder) must
pin the same dependencies at the same versions, and .ci/run must run the README's own
set-up and test commands, so that what a learner types is what CI checks.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
import yaml

from lstm_course.environment import CONDA_NAMES  # pip's name -> conda-forge's, where they differ

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT_FILES = ["environment.yml", "binder/environment.yml"]

# in the conda environments only: the interpreter, and pip for the course package itself
CONDA_ONLY = {"python", "pip"}

PIN = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?P<op>==|=)\s*(?P<version>[^\s=;,<>!~]+)\s*$")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pin(spec, op, where):
    """'name==1.2' (op '==') or 'name=1.2' (op '=') -> (canonical name, '1.2')"""
    match = PIN.match(spec)
    assert match and match["op"] == op, f"{where}: {spec!r} is not an exact pin 'name{op}version'"
    return canonical(match["name"]), match["version"]


def pyproject_pins():
    """{conda name: version} for the dependencies and the dev extra of pyproject.toml"""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["dev"]
    pins = {}
    for spec in specs:
        name, version = parse_pin(spec, "==", "pyproject.toml")
        name = CONDA_NAMES.get(name, name)
        assert name not in pins, f"pyproject.toml: {name} is listed twice"
        pins[name] = version
    return pins


def read_environment(path):
    environment = yaml.safe_load((ROOT / path).read_text())
    assert isinstance(environment, dict), f"{path}: expected a mapping, got {type(environment).__name__}"
    return environment


def environment_pins(path):
    """{conda name: version} of an environment file, its pip section included, less CONDA_ONLY"""
    pins = {}
    for dependency in read_environment(path)["dependencies"]:
        if isinstance(dependency, dict):
            assert list(dependency) == ["pip"], f"{path}: unexpected entry {dependency!r}"
            entries = [parse_pin(spec, "==", f"{path}, pip section") for spec in dependency["pip"]]
        elif canonical(dependency.split("=")[0].strip()) in CONDA_ONLY:
            continue
        else:
            entries = [parse_pin(dependency, "=", path)]
        for name, version in entries:
            assert name not in pins, f"{path}: {name} is listed twice"
            pins[name] = version
    return pins


def differences(expected, got):
    lines = [f"missing: {name}={expected[name]}" for name in sorted(expected.keys() - got.keys())]
    lines += [f"not in pyproject.toml: {name}={got[name]}" for name in sorted(got.keys() - expected.keys())]
    lines += [
        f"{name}: pyproject.toml pins {expected[name]}, got {got[name]}"
        for name in sorted(expected.keys() & got.keys())
        if expected[name] != got[name]
    ]
    return lines


@pytest.mark.parametrize("path", ENVIRONMENT_FILES)
def test_environment_pins_what_pyproject_pins(path):
    problems = differences(pyproject_pins(), environment_pins(path))
    assert not problems, f"{path} disagrees with pyproject.toml:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", ENVIRONMENT_FILES)
def test_environment_is_conda_forge_and_python_311(path):
    environment = read_environment(path)
    assert environment["name"] == "lstm-course", "the README says `conda activate lstm-course`"
    assert environment["channels"] == ["conda-forge", "nodefaults"]
    dependencies = [d for d in environment["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in dependencies
    assert "pip" in dependencies, "pip installs the course package into the environment"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=3.11", f"python=3.11 in {path} no longer matches requires-python {requires!r}"


def test_binder_environment_is_the_root_environment():
    assert read_environment("binder/environment.yml") == read_environment("environment.yml"), (
        "binder/environment.yml must hold what environment.yml holds: copy it over"
    )


def test_binder_postbuild_is_executable_and_installs_the_package(tmp_path):
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.read_text().startswith("#!"), "postBuild needs a shebang line"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable (chmod +x)"

    # Binder runs ./binder/postBuild from the repository root, in the environment it
    # built: here a copy of the package's sources and a fresh virtual environment.
    checkout = tmp_path / "checkout"
    for name in ["pyproject.toml", "README.md"]:
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, checkout / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "lstm_course", checkout / "lstm_course", ignore=ignore)
    shutil.copytree(ROOT / "binder", checkout / "binder", ignore=ignore)
    environment = tmp_path / "env"
    venv.create(environment, with_pip=True)
    bin_dir = environment / "bin"
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    run = subprocess.run(
        ["./binder/postBuild"], cwd=checkout, env={**os.environ, "PATH": path, "VIRTUAL_ENV": str(environment)},
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, f"binder/postBuild failed:\n{run.stdout}\n{run.stderr}"
    # On a hub the user's home volume covers the repository that postBuild ran in: the
    # package must be found without it, from another folder. (This environment has none of
    # its dependencies, which Binder's conda environment holds, so it is found, not imported.)
    shutil.rmtree(checkout)
    find = "import importlib.metadata as m, importlib.util as u; print(m.version('lstm_course'), u.find_spec('lstm_course').origin)"
    installed = subprocess.run(
        [bin_dir / "python", "-c", find],
        cwd=tmp_path, capture_output=True, text=True,
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    version, _, location = installed.stdout.strip().partition(" ")
    assert version == project["version"], (
        f"after binder/postBuild with the repository removed, expected lstm_course {project['version']} "
        f"to be found, got: {installed.stdout.strip() or installed.stderr.strip()}"
    )
    assert Path(location).is_relative_to(environment), f"lstm_course is found at {location}, outside the environment"
    assert Path(location).is_file(), f"lstm_course's {location} is gone with the repository"


def test_repo2docker_builds_binder_from_binder_folder():
    pytest.importorskip("repo2docker", reason="jupyter-repo2docker (dev extra) is not installed")
    # --no-build prints the Dockerfile that Binder would build, without a container engine
    run = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--no-run",
         "--user-id", "1000", "--user-name", "jovyan", str(ROOT)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, f"repo2docker failed:\n{run.stderr}"
    assert "Building conda environment for python=3.11" in run.stderr, run.stderr
    dockerfile = run.stdout
    assert '--file "binder/environment.yml"' in dockerfile, "Binder should build binder/environment.yml"
    assert "KERNEL_PYTHON_PREFIX} --file" not in dockerfile, "the kernel should share the server's environment"
    # postBuild runs last, from the repository root (WORKDIR ${REPO_DIR})
    assert "RUN ./binder/postBuild" in dockerfile, "Binder should run binder/postBuild"
    workdirs = re.findall(r"^WORKDIR (.*)$", dockerfile, flags=re.MULTILINE)
    assert workdirs == ["${REPO_DIR}"], f"postBuild would not run from the repository root: WORKDIR {workdirs}"


def readme_commands():
    """Every line of the README's fenced shell blocks, as shell words"""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^\s*```(?:bash|sh|shell|console)[ \t]*\n(.*?)^\s*```", readme, flags=re.DOTALL | re.MULTILINE)
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


def the_one(commands, predicate, what):
    found = [command for command in commands if predicate(command)]
    assert len(found) == 1, f"expected one README command that {what}, found {[shlex.join(c) for c in found]}"
    return found[0]


def ci_commands():
    """The commands of .ci/run as shell words: `time` dropped, `bash -c '...'` opened"""
    commands = []
    for line in (ROOT / ".ci" / "run").read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["time"]:
            words = words[1:]
        if words[:2] == ["bash", "-c"]:
            words = shlex.split(words[2])
        if words:
            commands.append(words)
    return commands


def installs_or_tests(word):
    return word == "install" or Path(word).name in {"pip", "pip3", "pytest", "py.test"}


def test_ci_runs_the_readmes_set_up_and_test_commands():
    readme = readme_commands()
    set_up = the_one(readme, lambda c: "venv" in c and "-m" in c, "makes the .venv")
    chromium = the_one(readme, lambda c: "apt-get" in c, "installs Chromium for the browser test")
    instructor = the_one(readme, lambda c: any("[instructor]" in word for word in c), "installs the instructor extra")
    test = the_one(readme, lambda c: "pytest" in c, "runs pytest")
    ci = ci_commands()
    for what, command in [("set-up", set_up), ("Chromium", chromium), ("instructor", instructor), ("test", test)]:
        assert command in ci, f".ci/run does not run the README's {what} command: {shlex.join(command)}"
    assert ci.index(set_up) < ci.index(test), ".ci/run must install before it tests"
    assert ci.index(chromium) < ci.index(test), ".ci/run must install Chromium before it tests"
    assert ci.index(set_up) < ci.index(instructor) < ci.index(test), ".ci/run must install nbgrader into the .venv before it tests"
    # and nothing else: CI installs no more than a reader does, and runs no other tests
    readers = (set_up, chromium, instructor, test)
    others = [c for c in ci if c not in readers and any(installs_or_tests(word) for word in c)]
    assert not others, f".ci/run installs or tests beyond the README: {[shlex.join(c) for c in others]}"
    ci_script = ROOT / ".ci" / "run"
    assert os.access(ci_script, os.X_OK), ".ci/run must be executable (chmod +x)"
    assert "set -euo pipefail" in ci_script.read_text(), "a failing step must fail CI"

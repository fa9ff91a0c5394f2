"""How big a machine does a learner need? Each course notebook's peak kernel memory and CPU time.

    python benchmarks/notebook_sizing.py                 # every course notebook
    python benchmarks/notebook_sizing.py notebooks/05_text_classifier.ipynb
    python benchmarks/notebook_sizing.py --replay          # as nbgrader runs them: training replayed

Each notebook runs top to bottom in a fresh kernel, as a learner's "Run All" would; a last cell,
added to a copy, reads the kernel's own resource usage: peak resident memory and CPU seconds
(user + system). Wall seconds are those of the whole run, kernel start included. Linux and macOS
(the `resource` module). Size a JupyterHub from the largest row, plus what JupyterLab itself takes.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstm_course import replay  # noqa: E402
from lstm_course.authoring import course_notebooks, notebook_client  # noqa: E402

USAGE_CELL = """\
import json, resource, sys
_usage = resource.getrusage(resource.RUSAGE_SELF)
_peak = _usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux
print(json.dumps({"peak_mib": _peak, "cpu_s": _usage.ru_utime + _usage.ru_stime}))
"""


def measure(path):
    """{'peak_mib', 'cpu_s', 'wall_s'} of one notebook run in a fresh kernel."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(USAGE_CELL))
    start = time.perf_counter()
    notebook_client(nb, resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    wall = time.perf_counter() - start
    usage = json.loads(nb.cells[-1].outputs[-1]["text"])
    return {**usage, "wall_s": wall}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every course notebook")
    parser.add_argument("--replay", action="store_true", help="replay the recorded training runs, as under nbgrader")
    args = parser.parse_args(argv)
    os.environ.pop(replay.REPLAY, None)
    if args.replay:
        os.environ[replay.REPLAY] = "1"
    paths = args.notebooks or course_notebooks(ROOT / "notebooks")
    print(f"{platform.machine()}, Python {platform.python_version()}, training {'replayed' if args.replay else 'for real'}")
    print(f"{'notebook':<34} {'peak memory (MiB)':>17} {'CPU (s)':>8} {'wall (s)':>9}")
    for path in paths:
        row = measure(path)
        print(f"{Path(path).stem:<34} {row['peak_mib']:>17.0f} {row['cpu_s']:>8.1f} {row['wall_s']:>9.1f}", flush=True)


if __name__ == "__main__":
    main()

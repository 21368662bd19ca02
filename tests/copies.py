"""A copy of this checkout, and how to run Python in it: for the tests that
prove something of a changed tree (a fork without the sandbox, the README's
recipe applied) without touching this one.

The copy holds the files git tracks, as they are in the working tree. Python
runs there with `-S`: site-packages is put on the path by hand, after the copy,
so the editable install of this checkout (whose finder maps `app` and
`kit_sandbox` to here) stays out and the copy's own code is what runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = [sys.executable, "-S"]

# What would make the copy's process reach this run's servers, databases or
# settings instead of its own: an xdist worker's name (its database on
# PostgreSQL), the database URLs, Kit's and Flask's settings.
_NOT_PASSED_ON = ("PYTEST_", "TEST_DATABASE", "DATABASE_URL", "KIT_", "FLASK_")


def copy_checkout(destination: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """This checkout's tracked files under `destination`, less the paths that
    start with one of `leave_out`; returns `destination`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if name.startswith(leave_out) or not (ROOT / name).is_file():
            continue
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination / name)
    return destination


def environment(copy: Path, **extra: str) -> dict[str, str]:
    """This process's environment for a `PYTHON` run in `copy`: the copy, then
    site-packages, on the path; its database in the copy; none of this run's
    database or Kit settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_NOT_PASSED_ON)
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(copy), sysconfig.get_paths()["purelib"]]),
        DATABASE_URL=f"sqlite:///{copy / 'fork.db'}",
        APP_ENV="development",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env

"""A fork can delete the Kit sandbox: the app still imports, migrates, serves
and tests what needs no Kit, and `flask kit` stops offering the sandbox.

The tree is copied without kit_sandbox/ and tests/sandbox/ (tests/copies.py),
and run with `python -S`: site-packages is put on the path by hand, so the
editable install of this checkout (whose finder would still find kit_sandbox/
here) stays out.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.copies import PYTHON, copy_checkout, environment
from tests.servers import free_port, wait_until_up

LEFT_OUT = ("kit_sandbox", "tests/sandbox")
# What the copy's own tests can run with no sandbox: nothing here talks to Kit.
NO_KIT_TESTS = ["tests/test_config.py", "tests/test_redirects.py", "tests/test_logs.py"]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def fork(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's tracked files, less the sandbox and its tests."""
    copy = copy_checkout(tmp_path_factory.mktemp("fork"), leave_out=LEFT_OUT)
    assert (copy / "app" / "__init__.py").exists()
    assert not (copy / "kit_sandbox").exists()
    return copy


@pytest.fixture(scope="module")
def run(fork: Path) -> Run:
    env = environment(fork)

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [*PYTHON, *args],
            cwd=fork,
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_the_sandbox_is_really_gone(run: Run) -> None:
    found = run("-c", "import kit_sandbox")
    assert found.returncode != 0
    assert "No module named 'kit_sandbox'" in found.stderr


def test_the_app_imports_migrates_and_lists_no_sandbox_command(run: Run) -> None:
    migrated = run("-m", "flask", "--app", "app", "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr

    commands = run("-m", "flask", "--app", "app", "kit", "--help")
    assert commands.returncode == 0, commands.stderr
    listed = commands.stdout.split("Commands:")[1].split()
    assert "dev" in listed and "doctor" in listed and "connections" in listed
    assert "sandbox" not in listed


def test_make_run_without_credentials_says_what_to_do(run: Run) -> None:
    dev = run("-m", "flask", "--app", "app", "kit", "dev", "--port", "1")
    assert dev.returncode == 1
    assert "set KIT_CLIENT_ID" in dev.stderr
    assert "or restore kit_sandbox/" in dev.stderr
    assert "Traceback" not in dev.stderr


def test_with_credentials_the_dev_server_serves_healthz(fork: Path, run: Run) -> None:
    assert run("-m", "flask", "--app", "app", "db", "upgrade").returncode == 0
    port = free_port()
    env = environment(
        fork,
        KIT_CLIENT_ID="a-fork-of-the-starter",
        KIT_API_URL="http://127.0.0.1:9",  # never called: /healthz needs no Kit
    )
    server = subprocess.Popen(  # noqa: S603
        [*PYTHON, "-m", "flask", "--app", "app", "kit", "dev"] + ["--port", str(port)],
        cwd=fork,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", seconds=30)
        answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert answer.json() == {"status": "ok", "database": "ok"}
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "Kit sandbox" not in output


def test_the_tests_that_need_no_kit_still_run(run: Run) -> None:
    tested = run("-m", "pytest", "-q", "-p", "no:cacheprovider", *NO_KIT_TESTS)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " passed" in tested.stdout

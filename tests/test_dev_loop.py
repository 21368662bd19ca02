"""The developer loop: `flask kit dev` reloads and keeps the sandbox's state,
says which connections lost their grant, keeps the browser on one host; a
configuration error reads as a message, not a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from werkzeug.test import Client

from app.cli.dev import dead_grants, mark_dead_grants, one_host, warn_dead_grants
from app.models import KitConnection
from kit_sandbox import SandboxConfig, SandboxServer
from kit_sandbox.persistence import save
from tests.servers import free_port, wait_until_up
from tests.support.accounts import sign_up
from tests.support.installing import install
from tests.support.rows import stored
from tests.support.settings import app_settings

ROOT = Path(__file__).resolve().parent.parent
FLASK = Path(sys.executable).parent / "flask"
ADA = 1001


def dev_environment(kit: SandboxServer, database_url: str, sandbox_port: int) -> dict:
    """The test settings as environment variables, in sandbox mode (no Kit
    credentials, no MAIL_SERVER) with the sandbox on `sandbox_port`."""
    settings = app_settings(
        kit, database_url, KIT_SANDBOX_URL=f"http://127.0.0.1:{sandbox_port}"
    )
    for name in ("KIT_CLIENT_ID", "KIT_CLIENT_SECRET", "KIT_APP_URL", "KIT_API_URL"):
        del settings[name]
    del settings["MAIL_SERVER"], settings["MAIL_PORT"], settings["TESTING"]
    return {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        **{k: str(v) for k, v in settings.items() if v is not None},
    }


@contextmanager
def flask_kit_dev(
    environment: dict, log: Path, *options: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`flask --app app kit dev` on a free port until the block ends; yields
    the process and the app's URL once /healthz answers."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (our own flask)
            [str(FLASK), "--app", "app", "kit", "dev", "--port", str(port), *options],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the reloader's child goes with it
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(f"{url}/healthz", process=process, log=log)
        yield process, url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def saved_grant(state_file: Path) -> str:
    """A state file holding one live grant for Ada's Kitchen, issued to the
    client `flask kit dev` registers (the sandbox's defaults); its token."""
    kit = SandboxServer(SandboxConfig())
    tokens = kit.state.issue_tokens(
        client_id=kit.config.client_id,
        account_id=ADA,
        tenant_name=None,
        scope="public",
        expires_in=3600,
        grant_code="saved",
    )
    save(kit.state, state_file)
    return tokens.access_token


def reads_account(sandbox_url: str, token: str) -> int:
    answer = requests.get(
        f"{sandbox_url}/v4/account",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    return answer.status_code


def api_requests(sandbox_url: str) -> int:
    stats = requests.get(f"{sandbox_url}/_sandbox/stats", timeout=5).json()
    return int(stats["api_requests"])


def test_flask_kit_dev_reloads_and_the_sandbox_keeps_its_grants(
    kit, database_url, tmp_path
):
    """A changed file restarts the serving process; the sandbox comes back
    once, on its port, with the grants it had (its request log, not kept,
    shows it is a new one)."""
    sandbox_port = free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    state_file = tmp_path / "state.pickle"
    token = saved_grant(state_file)
    watched = tmp_path / "watched.py"
    watched.write_text("# a file the reloader watches\n")
    log = tmp_path / "dev.log"
    environment = dev_environment(kit, database_url, sandbox_port)
    options = ("--sandbox-state", str(state_file), "--extra-file", str(watched))
    with flask_kit_dev(environment, log, *options):
        assert reads_account(sandbox_url, token) == 200
        assert api_requests(sandbox_url) == 1

        later = time.time() + 5
        os.utime(watched, (later, later))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if api_requests(sandbox_url) == 0:
                    break  # a new sandbox, in the new serving process
            except requests.ConnectionError:
                pass  # between the two
            time.sleep(0.2)
        else:
            pytest.fail(f"No reload within 30 s:\n{log.read_text()}")
        assert reads_account(sandbox_url, token) == 200
    output = log.read_text()
    assert "Detected change" in output
    assert output.count(f"Kit sandbox on {sandbox_url}") == 2  # once per start
    assert "Address already in use" not in output


def test_reset_sandbox_forgets_the_grants_and_names_the_connections_that_had_one(
    app, client, kit, kit_browser, database_url, tmp_path
):
    """--reset-sandbox: a sandbox from the seed data, which knows none of the
    grants the database holds; `flask kit dev` says which connections need
    Reconnect instead of leaving them looking Active."""
    sign_up(client)
    install(client, kit_browser)  # a connection whose grant only `kit` knows
    name = stored(app).account_name
    sandbox_port = free_port()
    state_file = tmp_path / "state.pickle"
    token = saved_grant(state_file)
    environment = dev_environment(kit, database_url, sandbox_port)
    options = ("--no-reload", "--reset-sandbox", "--sandbox-state", str(state_file))
    log = tmp_path / "dev.log"
    with flask_kit_dev(environment, log, *options):
        assert reads_account(f"http://127.0.0.1:{sandbox_port}", token) == 401
    output = log.read_text()
    assert "Forgot the Kit sandbox's state" in output
    assert "marked Reconnect needed" in output
    assert f"{name} (connection 1)" in output
    assert stored(app).status == KitConnection.NEEDS_RECONNECT


def test_a_sandbox_that_lost_the_grants_marks_them_and_names_them_in_a_warning(
    app, client, kit, kit_browser, capsys
):
    sign_up(client)
    install(client, kit_browser)
    name = stored(app).account_name
    with app.app_context():
        assert dead_grants(kit.state) == []  # the sandbox that issued it
        fresh = SandboxServer()  # a restart without the state file
        dead = dead_grants(fresh.state)
        assert [connection.id for connection in dead] == [1]
        mark_dead_grants(dead)
        warn_dead_grants(dead)
    warning = capsys.readouterr().err
    assert "marked Reconnect needed" in warning
    assert name in warning
    assert stored(app).status == KitConnection.NEEDS_RECONNECT
    accounts = client.get("/accounts").text
    assert "Reconnect" in accounts
    assert ">Active<" not in accounts


def wsgi_host(environ: dict, start_response) -> list[bytes]:  # type: ignore[no-untyped-def]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ["HTTP_HOST"].encode()]


@pytest.mark.parametrize(
    ("host", "method", "moved"),
    [
        ("localhost:5000", "GET", True),
        ("[::1]:5000", "HEAD", True),
        ("127.0.0.1:5000", "GET", False),
        ("localhost:5000", "POST", False),
        ("example.com", "GET", False),
    ],
)
def test_a_browser_on_another_loopback_name_moves_to_the_redirect_uris(
    host, method, moved
):
    """Signed in on localhost, a creator would come back from Kit to
    127.0.0.1 signed out: the dev server keeps them on the one host."""
    app = one_host(wsgi_host, "http://127.0.0.1:5000/kit/oauth/callback")
    answer = Client(app).open(
        "/kit/oauth?redirect=x%2Fy", method=method, headers={"Host": host}
    )
    if moved:
        assert answer.status_code == 302
        assert answer.location == "http://127.0.0.1:5000/kit/oauth?redirect=x%2Fy"
    else:
        assert answer.status_code == 200


def test_a_public_redirect_uri_moves_nobody():
    assert (
        one_host(wsgi_host, "https://app.example.com/kit/oauth/callback") is wsgi_host
    )


@pytest.mark.parametrize(
    ("app_env", "hint"),
    [
        ("production", None),
        # APP_ENV left unset: production is implied by KIT_CLIENT_ID, say so.
        ("", "set APP_ENV=development to try your Kit app on this machine"),
    ],
)
def test_a_configuration_error_is_a_message_not_a_traceback(app_env, hint):
    """KIT_CLIENT_ID without the production secrets: `flask` prints the
    message (which names the variables) and exits 1."""
    environment = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("KIT_", "FLASK_", "APP_ENV"))
        },
        "KIT_CLIENT_ID": "my-client-id",
        "SECRET_KEY": "",
        "TOKEN_ENCRYPTION_KEYS": "",
    }
    if app_env:
        environment["APP_ENV"] = app_env
    done = subprocess.run(  # noqa: S603 (our own flask)
        [str(FLASK), "--app", "app", "kit", "doctor"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "Error: Refusing to start in production without SECRET_KEY" in output
    assert "Traceback" not in output
    assert (hint in output) if hint else ("APP_ENV=development" not in output)

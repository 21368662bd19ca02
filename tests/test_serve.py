"""Serving in production: gunicorn.conf.py under a real gunicorn, and ProxyFix."""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app import create_app
from app.config import ConfigError
from kit_sandbox import SandboxServer
from tests.support import app_settings, free_port, sign_up, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"


# --- gunicorn.conf.py -------------------------------------------------------------


def _gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict:
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_defaults(monkeypatch):
    conf = _gunicorn_settings(monkeypatch)
    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["workers"] == 2 * len(os.sched_getaffinity(0)) + 1
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (30, 30, 5)
    assert conf["accesslog"] == "-"
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert not conf.get("preload_app")
    assert conf["control_socket_disable"] is True


def test_gunicorn_settings_from_the_environment(monkeypatch):
    conf = _gunicorn_settings(
        monkeypatch,
        PORT="9001",
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="8",
        FORWARDED_ALLOW_IPS="10.0.0.5",
    )
    assert conf["bind"] == "0.0.0.0:9001"
    assert (conf["workers"], conf["threads"]) == (3, 8)
    assert conf["forwarded_allow_ips"] == "10.0.0.5"


def test_access_log_format_leaves_out_the_query_string_and_referer(monkeypatch):
    log_format = _gunicorn_settings(monkeypatch)["access_log_format"]
    assert "%(U)s" in log_format  # the path
    for atom in ("%(r)s", "%(q)s", "%(f)s", "{referer}"):
        assert atom not in log_format


def test_gunicorn_serves_the_app_and_logs_no_code_or_state(
    kit: SandboxServer, database_url: str, tmp_path: Path
):
    """The Procfile's web command, for real: two workers, production mode."""
    port = free_port()
    settings = app_settings(kit, database_url, APP_ENV="production")
    env = {
        **os.environ,
        **{k: str(v) for k, v in settings.items() if k.isupper() and v is not None},
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
    }
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 (our own gunicorn and config)
            [str(gunicorn), "-c", str(GUNICORN_CONF), "app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_until_up(f"{base}/healthz", process=server, log=log)
        assert health.json() == {"status": "ok", "database": "ok"}
        callback = requests.get(
            f"{base}/kit/oauth/callback",
            params={"code": "the-secret-code", "state": "the-secret-state"},
            allow_redirects=False,
            timeout=10,
        )
        assert callback.status_code in (302, 400)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=40)
    output = log.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in output
    assert '"GET /kit/oauth/callback HTTP/1.1"' in output
    assert "Booting worker" in output
    for secret in (
        "the-secret-code",
        "the-secret-state",
        "callback?",
        "code=",
        "state=",
    ):
        assert secret not in output


# --- ProxyFix ------------------------------------------------------------------------

FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "kit-app.example.com",
    "X-Forwarded-Port": "443",
}


def _redirect_uri_sent_to_kit(app: Flask, **headers: str) -> str:
    """The Redirect URI in the trip to Kit's consent screen, built from the
    request as the app sees it (KIT_REDIRECT_URI is unset)."""
    client = app.test_client()
    # On every request, as through a proxy: Flask-Login's strong session
    # protection ends the session when X-Forwarded-For changes.
    client.environ_base.update(
        {f"HTTP_{name.upper().replace('-', '_')}": v for name, v in headers.items()}
    )
    sign_up(client)
    to_kit = client.get("/kit/oauth")
    assert to_kit.status_code == 302, to_kit.text
    return parse_qs(urlsplit(to_kit.location).query)["redirect_uri"][0]


def _remote_addr(app: Flask, **headers: str) -> str:
    app.add_url_rule("/_test/remote-addr", "remote_addr", lambda: request.remote_addr)
    return app.test_client().get("/_test/remote-addr", headers=headers).text


def test_forwarded_headers_are_ignored_by_default(make_app: Callable[..., Flask]):
    app = make_app()
    assert app.config["PROXY_FIX_HOPS"] == 0
    assert not isinstance(app.wsgi_app, ProxyFix)
    assert (
        _redirect_uri_sent_to_kit(app, **FORWARDED)
        == "http://localhost/kit/oauth/callback"
    )
    assert _remote_addr(make_app(), **FORWARDED) == "127.0.0.1"


def test_behind_one_tls_proxy_the_app_uses_its_https_host(
    make_app: Callable[..., Flask],
):
    app = make_app(PROXY_FIX_HOPS="1")
    assert app.config["PROXY_FIX_HOPS"] == 1
    assert (
        _redirect_uri_sent_to_kit(app, **FORWARDED)
        == "https://kit-app.example.com/kit/oauth/callback"
    )
    assert _remote_addr(make_app(PROXY_FIX_HOPS="1"), **FORWARDED) == "203.0.113.7"


def test_proxy_fix_trusts_only_the_configured_hops(make_app: Callable[..., Flask]):
    """With one proxy, an X-Forwarded-For the client sent itself is not believed:
    the proxy appends the address it saw, and only that last one counts."""
    app = make_app(PROXY_FIX_HOPS="1")
    forged = {**FORWARDED, "X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert _remote_addr(app, **forged) == "203.0.113.7"


@pytest.mark.parametrize("bad", ["-1", "one", "1.5"])
def test_proxy_fix_hops_must_be_a_count(kit: SandboxServer, bad: str):
    with pytest.raises(ConfigError, match="PROXY_FIX_HOPS"):
        create_app(app_settings(kit, "sqlite://", PROXY_FIX_HOPS=bad))

"""Serving in production: gunicorn.conf.py under a real gunicorn, and ProxyFix."""

from __future__ import annotations

import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app import create_app
from app.config import ConfigError
from kit_sandbox import SandboxServer
from tests.servers import free_port, wait_until_up
from tests.support.accounts import PASSWORD, create_user, csrf_token, sign_up
from tests.support.installing import past_agreement
from tests.support.settings import app_settings

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
    # gunicorn bounds the request line and headers; the app bounds bodies.
    assert conf["limit_request_line"] == 4094
    assert conf["limit_request_fields"] == 50
    assert conf["limit_request_field_size"] == 8190


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


def start_gunicorn(
    kit: SandboxServer, database_url: str, log: Path, **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """The Procfile's web command in production mode, on a free port, with
    the test settings and `env` in its environment; output to `log`."""
    port = int(env.get("PORT") or free_port())
    settings = app_settings(kit, database_url, APP_ENV="production")
    environment = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        **{k: str(v) for k, v in settings.items() if k.isupper() and v is not None},
        "PORT": str(port),
        **env,
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 (our own gunicorn and config)
            [str(gunicorn), "-c", str(GUNICORN_CONF), "app:create_app()"],
            cwd=ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return server, f"http://127.0.0.1:{port}"


@contextmanager
def serving(
    kit: SandboxServer, database_url: str, log: Path, **env: str
) -> Iterator[str]:
    """gunicorn (start_gunicorn) until the block ends; yields its URL once
    /healthz answers."""
    server, base = start_gunicorn(kit, database_url, log, **env)
    try:
        health = wait_until_up(f"{base}/healthz", process=server, log=log)
        redis = {"redis": "ok"} if env.get("REDIS_URL") else {}
        assert health.json() == {"status": "ok", "database": "ok"} | redis
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=40)


def test_gunicorn_serves_the_app_and_logs_no_code_or_state(
    kit: SandboxServer, database_url: str, tmp_path: Path, redis_url: str
):
    """The Procfile's web command, for real: two workers, production mode."""
    log = tmp_path / "gunicorn.log"
    with serving(
        kit,
        database_url,
        log,
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="2",
        REDIS_URL=redis_url,
    ) as base:
        callback = requests.get(
            f"{base}/kit/oauth/callback",
            params={"code": "the-secret-code", "state": "the-secret-state"},
            allow_redirects=False,
            timeout=10,
        )
        assert callback.status_code in (302, 400)
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


def test_several_workers_in_production_refuse_to_start_without_redis(
    kit: SandboxServer, database_url: str, tmp_path: Path
):
    log = tmp_path / "gunicorn.log"
    server, _ = start_gunicorn(kit, database_url, log, WEB_CONCURRENCY="3")
    assert server.wait(timeout=60) == 1
    output = log.read_text()
    assert "Error: Refusing to start 3 workers in production without REDIS_URL" in (
        output
    )
    assert "REDIS_URL=redis://" in output
    assert "WEB_CONCURRENCY=1" in output
    assert "Booting worker" not in output  # refused before any worker
    assert "Traceback" not in output


def _raw(base: str, head: str, body: bytes = b"") -> str:
    """Send a request as bytes and return the status line of the answer, which
    may come before the body was sent (that is the point)."""
    host, port = urlsplit(base).hostname, urlsplit(base).port
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        with suppress(OSError):  # the server answered and closed: fine
            sock.sendall(body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n")[0].decode()


def test_gunicorn_refuses_big_bodies_long_lines_and_bad_hosts_at_once(
    kit: SandboxServer, database_url: str, tmp_path: Path
):
    """One worker in production needs no Redis. Each refusal comes before the
    body is read, and leaves no traceback in the log."""
    log = tmp_path / "gunicorn.log"
    with serving(kit, database_url, log, WEB_CONCURRENCY="1") as base:
        # 300 MB announced, 10 bytes sent: answered without waiting for more.
        announced = (
            "POST /login HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 314572800\n"
            "Content-Type: multipart/form-data; boundary=x\n"
        )
        assert " 413 " in _raw(base, announced, b"--x\r\n1234")
        chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
        chunked = (
            "POST /login HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked\n"
            "Content-Type: application/x-www-form-urlencoded\n"
        )
        assert " 413 " in _raw(base, chunked, chunk * 5 + b"0\r\n\r\n")
        for host in ("..", "a..b", "a" * 64 + ".example.com"):
            status = _raw(base, f"GET /login HTTP/1.1\nHost: {host}\n")
            assert " 400 " in status, host
        long_line = "GET /" + "x" * 5000 + " HTTP/1.1\nHost: 127.0.0.1\n"
        assert _raw(base, long_line).split(" ")[1].startswith("4")
        assert requests.get(f"{base}/login", timeout=10).status_code == 200
    output = log.read_text()
    assert "Booting worker" in output
    assert "Traceback" not in output
    assert "Error handling request" not in output


def test_a_slow_kit_leaves_the_pages_that_need_no_kit_call_answering(
    make_app, kit: SandboxServer, kit_browser, database_url, tmp_path, redis_url
):
    """Two workers of two threads, Kit taking seconds to answer: eight Kit
    pages at once get a slot (one a worker) or a 503 at once, and meanwhile
    the health check and the sign-in page answer, before any Kit page does."""
    create_user(make_app(), "slow@example.com")
    log = tmp_path / "gunicorn.log"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    kit.config.redirect_uris = [f"{base}/kit/oauth/callback"]
    with serving(
        kit,
        database_url,
        log,
        PORT=str(port),
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="2",
        REDIS_URL=redis_url,
        KIT_REDIRECT_URI=f"{base}/kit/oauth/callback",
        KIT_HTTP_TIMEOUT="30",  # slow is not down: the admitted pages get a 200
        FLASK_SESSION_COOKIE_SECURE="false",
        # The session's redis-server also holds other tests' sign-in counts.
        FLASK_RATELIMIT_ENABLED="false",
    ) as base:
        browser = requests.Session()
        token = csrf_token(browser.get(f"{base}/login", timeout=10))
        signed_in = browser.post(
            f"{base}/login",
            data={
                "email": "slow@example.com",
                "password": PASSWORD,
                "csrf_token": token,
            },
            allow_redirects=False,
            timeout=10,
        )
        assert signed_in.status_code == 302, signed_in.text
        to_kit = browser.get(f"{base}/kit/oauth", allow_redirects=False, timeout=10)
        back = kit_browser.consent(to_kit.headers["Location"], "allow", "1001")
        assert browser.get(back, allow_redirects=False, timeout=10).status_code == 302
        cookies = browser.cookies.get_dict()

        kit.config.latency_ms = 4000
        events: list[tuple[str, int, str]] = []
        lock = threading.Lock()

        def kit_page() -> None:
            answer = requests.get(f"{base}/c/1/forms", cookies=cookies, timeout=60)
            with lock:
                events.append(
                    ("kit", answer.status_code, answer.headers.get("Retry-After", ""))
                )

        pages = [threading.Thread(target=kit_page) for _ in range(8)]
        for page in pages:
            page.start()
        # The first 503: proof that a slot is held, so a Kit page is pending.
        while not any(code == 503 for _, code, _ in list(events)):
            assert len(events) < len(pages), f"no Kit page was refused: {events}"
            time.sleep(0.05)
        # Signed out, then signed in: pages that need no Kit call.
        for path, jar in (("/healthz", {}), ("/login", {}), ("/accounts", cookies)):
            answer = requests.get(f"{base}{path}", cookies=jar, timeout=60)
            with lock:
                events.append((path, answer.status_code, ""))
        for page in pages:
            page.join(timeout=90)

    kinds = [kind for kind, _, _ in events]
    codes = [code for kind, code, _ in events if kind == "kit"]
    assert len(codes) == 8
    assert set(codes) == {200, 503}, codes  # no 500, no queueing until Kit answers
    assert codes.count(200) <= 2  # one slot a worker
    assert all(after == "5" for _, code, after in events if code == 503), events
    first_kit_page = next(
        i for i, (k, code, _) in enumerate(events) if code == 200 and k == "kit"
    )
    for path in ("/healthz", "/login", "/accounts"):
        assert (path, 200, "") in events, events
        assert kinds.index(path) < first_kit_page, events


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
    to_kit = past_agreement(client, client.get("/kit/oauth"))
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
    proxied = {"PROXY_FIX_HOPS": "1", "ALLOWED_HOSTS": "kit-app.example.com"}
    app = make_app(**proxied)
    assert app.config["PROXY_FIX_HOPS"] == 1
    assert (
        _redirect_uri_sent_to_kit(app, **FORWARDED)
        == "https://kit-app.example.com/kit/oauth/callback"
    )
    assert _remote_addr(make_app(**proxied), **FORWARDED) == "203.0.113.7"


def test_proxy_fix_trusts_only_the_configured_hops(make_app: Callable[..., Flask]):
    """With one proxy, an X-Forwarded-For the client sent itself is not believed:
    the proxy appends the address it saw, and only that last one counts."""
    app = make_app(PROXY_FIX_HOPS="1", ALLOWED_HOSTS="kit-app.example.com")
    forged = {**FORWARDED, "X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
    assert _remote_addr(app, **forged) == "203.0.113.7"


@pytest.mark.parametrize("bad", ["-1", "one", "1.5"])
def test_proxy_fix_hops_must_be_a_count(kit: SandboxServer, bad: str):
    with pytest.raises(ConfigError, match="PROXY_FIX_HOPS"):
        create_app(app_settings(kit, "sqlite://", PROXY_FIX_HOPS=bad))


def test_a_malformed_forwarded_host_is_refused_only_when_believed(
    make_app: Callable[..., Flask],
):
    """Without ProxyFix, X-Forwarded-Host is not read at all; with it, the
    forwarded host is the request's host and must be one the app serves."""
    bad = {**FORWARDED, "X-Forwarded-Host": "a..b"}
    assert make_app().test_client().get("/login", headers=bad).status_code == 200
    behind_proxy = make_app(PROXY_FIX_HOPS="1", ALLOWED_HOSTS="kit-app.example.com")
    client = behind_proxy.test_client()
    assert client.get("/login", headers=FORWARDED).status_code == 200
    for host in ("a..b", "evil.example.com", "a" * 64 + ".example.com"):
        forwarded = {**FORWARDED, "X-Forwarded-Host": host}
        answer = client.get("/login", headers=forwarded)
        assert answer.status_code == 400, host
        assert "This address is not served here" in answer.text

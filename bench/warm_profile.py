"""Where a warm overview's time goes: CPU per request of the app itself (its
WSGI callable, no server, no client) for `/healthz` and the warm overview, in
one run, and a cProfile of the overview's requests.

The app runs as in production (APP_ENV=production, Redis from a redis-server
of its own, CSRF on, the session protection "strong") in this process against
the Kit sandbox; one creator signs in and installs through the pages. Each
path is asked --views times after one warm-up view; the CPU time of each call
(`time.process_time`) is told against `/healthz`'s. Then the overview's views
run under cProfile (counting CPU time: waits on Redis and the database are
not in it), whose --top entries by own time and by cumulative time are
printed. `--revalidate` also asks the overview as a browser that comes back
with the page's ETag (If-None-Match). A benchmark: it prints figures, never
fails.

    .venv/bin/python -m bench.warm_profile [--views 500] [--top 25] [--revalidate]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.test import EnvironBuilder

from bench.common import add_creators, bench_app, migrate
from kit_sandbox import SandboxConfig, SandboxServer, testing
from tests.servers import redis_server

USER_AGENT = "bench-warm-profile"


def sign_in_and_install(app: Flask, email: str, password: str) -> str:
    """Sign in and install through the pages in Flask's test client (CSRF
    on); returns the session cookie's value."""
    client = app.test_client()
    headers = {"User-Agent": USER_AGENT}
    page = client.get("/login", headers=headers)
    [login] = [f for f in testing.forms(page.text) if "password" in f.fields]
    signed_in = client.post(
        "/login",
        data=dict(login.fields, email=email, password=password),
        headers=headers,
    )
    assert signed_in.status_code == 302, signed_in.text
    to_kit = client.get("/kit/oauth", headers=headers)
    assert to_kit.status_code == 302, to_kit.text
    kit_browser = testing.KitBrowser()
    try:
        back = kit_browser.consent(to_kit.location)
    finally:
        kit_browser.close()
    done = client.get(back, headers=headers)
    assert done.status_code == 302, done.text
    client.get("/dashboard", headers=headers)  # shows the install's flash
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def call(app: Flask, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    """One request through the app's WSGI callable: status, headers, body."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
        answer["status"], answer["headers"] = status, dict(headers)

    chunks = app.wsgi_app(environ, start_response)  # type: ignore[arg-type]
    try:
        body = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return answer["status"], answer["headers"], body


def environs(
    path: str, cookie: str, count: int, etag: str | None = None
) -> Iterator[dict[str, Any]]:
    headers = {"User-Agent": USER_AGENT, "Cookie": f"session={cookie}"}
    if etag:
        headers["If-None-Match"] = etag
    for _ in range(count):
        yield EnvironBuilder(
            path=path,
            base_url="http://localhost",
            headers=headers,
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        ).get_environ()


def cpu_per_view(
    app: Flask, path: str, cookie: str, count: int, etag: str | None = None
) -> tuple[list[float], str, int]:
    """CPU seconds of each view (environ built outside the timing), the status
    and the body size of the last."""
    seconds: list[float] = []
    status, size = "", 0
    for environ in environs(path, cookie, count, etag):
        started = time.process_time()
        status, _, body = call(app, environ)
        seconds.append(time.process_time() - started)
        size = len(body)
    return seconds, status, size


def profile(
    app: Flask, path: str, cookie: str, count: int, top: int, etag: str | None
) -> str:
    ready = list(environs(path, cookie, count, etag))
    profiler = cProfile.Profile(time.process_time)  # CPU, not waits
    profiler.enable()
    for environ in ready:
        call(app, environ)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        "bench.warm_profile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--views", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--path", default="/dashboard")
    parser.add_argument("--revalidate", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    database_url = f"sqlite:///{workdir}/warm.db"
    with (
        SandboxServer(SandboxConfig()).start() as kit,
        redis_server() as redis_url,
    ):
        app = bench_app(
            kit,
            database_url,
            APP_ENV="production",
            SECRET_KEY="bench-" + "x" * 32,
            REDIS_URL=redis_url,
            KIT_REDIRECT_URI="http://localhost/kit/oauth/callback",
            SESSION_COOKIE_SECURE=False,
            RATELIMIT_ENABLED=False,
            KIT_REQUESTS_PER_USER=1000,
        )
        kit.config.redirect_uris = ["http://localhost/kit/oauth/callback"]
        with app.app_context():
            migrate()
        [creator] = add_creators(database_url, 1)
        cookie = sign_in_and_install(app, *creator)
        rows: list[tuple[str, list[float], str, int]] = []
        cases: list[tuple[str, str, str | None]] = [
            ("/healthz", "/healthz", None),
            (args.path, args.path, None),
        ]
        status, headers, _ = call(app, next(environs(args.path, cookie, 1)))
        etag = headers.get("ETag")
        if args.revalidate and etag:
            cases.append((f"{args.path} (If-None-Match)", args.path, etag))
        for label, path, sent in cases:
            call(app, next(environs(path, cookie, 1, sent)))  # warm once
            seconds, last, size = cpu_per_view(app, path, cookie, args.views, sent)
            rows.append((label, seconds, last, size))
        report = profile(app, args.path, cookie, args.views, args.top, None)

    base = statistics.median(rows[0][1])
    print(f"CPU per request of the app's WSGI callable, {args.views} views each")
    print(f"{'path':<32}{'status':<18}{'bytes':>8}  {'CPU p50':>10}  vs /healthz")
    for label, seconds, status, size in rows:
        p50 = statistics.median(seconds)
        print(
            f"{label:<32}{status:<18}{size:>8}  {p50 * 1000:>8.2f} ms"
            f"  {p50 / base:.2f} x"
        )
    print(f"\ncProfile of {args.views} views of {args.path}:")
    print(report)


if __name__ == "__main__":
    main()

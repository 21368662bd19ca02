"""Throwaway servers for the tests and the benchmarks: a free loopback port,
waiting for a server to answer, a WSGI app served in a thread, a redis-server
in memory.

No pytest here: bench/ imports this module too. It lives in tests/ because the
tests are what a fork keeps (bench/ may go); tests/support/settings.py turns a missing
redis-server into a skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
import requests
from werkzeug.serving import make_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ServerDidNotStart(RuntimeError):
    """A server exited, or did not answer in time; the message says which."""


def free_port() -> int:
    """A loopback port nothing listens on (just now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    url: str,
    seconds: float = 30,
    process: subprocess.Popen[Any] | None = None,
    log: Path | None = None,
    status: int | None = None,
) -> requests.Response:
    """GET `url` until a server answers (with `status`, when given); raise
    ServerDidNotStart, with the server's `log`, when `process` exits first or
    nothing answers within `seconds`."""

    def output() -> str:
        return log.read_text() if log else ""

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerDidNotStart(
                f"The server exited with {process.returncode}:\n{output()}"
            )
        try:
            # The first answer may wait for a worker to boot and build the app.
            response = requests.get(url, timeout=20)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
            continue
        if status is None or response.status_code == status:
            return response
        time.sleep(0.2)
    raise ServerDidNotStart(f"{url} did not answer within {seconds} s:\n{output()}")


@contextmanager
def serving(app: WSGIApp, port: int = 0) -> Iterator[str]:
    """`app` served by werkzeug (threaded) on loopback `port` (0: a free one)
    in a daemon thread; yields its origin, http://127.0.0.1:PORT, and stops
    it on the way out."""
    server = make_server("127.0.0.1", port, closing_bodies(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def closing_bodies(app: WSGIApp) -> WSGIApp:
    """`app`, whose answers' bodies are closed even when the client hangs up
    halfway. werkzeug's server closes a body in a `finally` that first drains
    the socket: a reset socket raises there, the close is skipped, and a
    static file's body is dropped open. The garbage collector then warns
    (ResourceWarning), which fails whichever test is running: a browser that
    leaves a page before its favicon arrives did so in CI. Here the body is
    closed when werkzeug lets go of it."""

    def wsgi(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterator[bytes]:
        body = app(environ, start_response)
        try:
            yield from body
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@contextmanager
def redis_server(seconds: float = 30) -> Iterator[str]:
    """Debian's redis-server on a free loopback port, in memory only (no RDB
    snapshot, no AOF); yields its URL and stops it on the way out."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise ServerDidNotStart("needs redis-server (apt-get install redis-server)")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [executable, "--port", str(port), "--bind", "127.0.0.1"]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        deadline = time.monotonic() + seconds
        while not _answers(client):
            if server.poll() is not None or time.monotonic() > deadline:
                raise ServerDidNotStart(f"redis-server on port {port} did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False

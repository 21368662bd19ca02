"""The test apps' teardown (conftest.make_app) and the server the tests run
them in (tests/servers.serving) leave nothing open behind them."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.conftest import _close_on_checkin
from tests.servers import serving


def test_a_connection_given_back_after_the_pool_closed_is_closed(app):
    """A thread of the test that still held a connection when its app's pool
    was disposed: giving it back closes it, instead of leaving it for the
    garbage collector (a ResourceWarning failing a later test)."""
    with app.app_context():
        held = db.engine.connect()
        held.execute(text("SELECT 1"))
        dbapi_connection = held.connection.dbapi_connection
        _close_on_checkin(db.engine.pool)
        db.engine.dispose()
        dbapi_connection.cursor().execute("SELECT 1")  # still open while held
        held.close()
    with pytest.raises(Exception, match="closed"):
        dbapi_connection.cursor().execute("SELECT 1")


class _Body:
    """An answer's body, 1.6 MB in 8 KB chunks, that notes when it is closed."""

    def __init__(self) -> None:
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(200):
            yield b"x" * 8192

    def close(self) -> None:
        self.closed.set()


def test_an_answer_the_client_hung_up_on_is_closed():
    """A client that leaves without reading (a browser leaving a page before
    its favicon came): the server's socket is reset, and werkzeug on its own
    skips closing the body. `serving` closes it, so no file is left open."""
    bodies: list[_Body] = []

    def wsgi(environ, start_response):  # type: ignore[no-untyped-def]
        start_response("200 OK", [("Content-Type", "text/plain")])
        bodies.append(_Body())
        return bodies[-1]

    with serving(wsgi) as origin:
        port = int(origin.rsplit(":", 1)[1])
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", port)) as hanging_up:
                hanging_up.sendall(b"GET / HTTP/1.1\r\nHost: app\r\n\r\n")
                time.sleep(0.01)  # some of the answer is on its way, unread
        deadline = time.monotonic() + 10  # each request has its own thread
        while len(bodies) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(bodies) == 5
        for body in bodies:
            assert body.closed.wait(10)

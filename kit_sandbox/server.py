"""Serving a sandbox over real HTTP, in a background thread or in the foreground."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .factory import create_sandbox_app
from .outbox import Outbox, SmtpSink
from .persistence import StateKeeper, load
from .registration import SandboxConfig
from .state import SandboxState
from .webhooks import Dispatcher

# How often the background server checks for stop(); werkzeug's default (0.5 s)
# would make every stop() in a test suite take up to half a second.
POLL_INTERVAL = 0.01


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log: a test suite's output stays readable."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class SandboxServer:
    """Runs a sandbox app with werkzeug's ``make_server(threaded=True)``, its
    SMTP sink (the outbox) on ``smtp_port`` (0, the default: a free port), and
    its webhook dispatcher (the thread that delivers Webhooks 2.0 events).

    ``start()`` serves from a daemon thread (tests, benchmarks) and logs nothing
    per request; ``serve_forever()`` blocks and logs each request (a CLI).
    Usable as a context manager: ``with SandboxServer().start() as kit: ...``.

    With ``state_file``, the state is loaded from that file if it is there
    (``restored`` says whether it was) and written back to it after every
    request that may change it (debounced) and on stop: the grants the app
    holds survive a restart (``persistence.py``). Without it, as in tests,
    nothing is written.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        smtp_port: int = 0,
        state_file: str | Path | None = None,
    ) -> None:
        self.config = config or SandboxConfig()
        self.state = SandboxState(self.config)
        self.restored = bool(state_file) and load(self.state, state_file)
        self.keeper = StateKeeper(self.state, state_file) if state_file else None
        self.outbox = Outbox()
        self.smtp = SmtpSink(self.outbox, host=host, port=smtp_port)
        self.app: Flask = create_sandbox_app(state=self.state, mail=self.outbox)
        self.dispatcher = Dispatcher(self.state.webhooks)
        if self.keeper is not None:
            self.app.after_request(self._note_change)
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` with no trailing slash (known once bound)."""
        if self._server is None:
            raise RuntimeError("The sandbox isn't running: call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def smtp_port(self) -> int:
        """Where the app sends its mail (known once started)."""
        return self.smtp.port

    def start(self) -> SandboxServer:
        """Bind (port 0 picks a free port) and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("The sandbox is already running")
        self._bind(_QuietRequestHandler)
        assert self._server is not None
        self._start_helpers()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name=f"kit-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port. Requests still sleeping are dropped."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        self._stop_helpers()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def serve_forever(self) -> None:
        """Bind and serve in this thread until interrupted (Ctrl+C)."""
        if self._server is not None:
            raise RuntimeError("The sandbox is already running")
        self._bind(WSGIRequestHandler)
        assert self._server is not None
        self._start_helpers()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self._server = None
            self._stop_helpers()

    def _start_helpers(self) -> None:
        self.smtp.start()
        self.dispatcher.start()
        if self.keeper is not None:
            self.keeper.start()

    def _stop_helpers(self) -> None:
        self.smtp.stop()
        self.dispatcher.stop()
        if self.keeper is not None:
            self.keeper.stop()

    def _note_change(self, response: Response) -> Response:
        # Every change to the state comes through a request that is not a
        # read: a code exchange, a refresh, a revoke, an API write, the
        # control API (its reset included).
        if self.keeper is not None and request.method not in ("GET", "HEAD"):
            self.keeper.changed()
        return response

    def _bind(self, handler: type[WSGIRequestHandler]) -> None:
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=handler
        )
        self.port = self._server.server_port

    def __enter__(self) -> SandboxServer:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

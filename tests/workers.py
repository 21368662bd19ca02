"""Code that runs in other threads and processes during the concurrency tests.

A module of its own, so that spawned processes can import it by name.
"""

from __future__ import annotations

import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask


def access_token(app: Flask, connection_id: int) -> str:
    from app.kit.tokens import valid_access_token

    return valid_access_token(connection_id, app.extensions["kit_settings"])


def refresh_storm(
    settings: dict[str, Any], connection_id: int, threads: int, start: Any, results: Any
) -> None:
    """In a fresh process: build the app, wait for the others, then let
    `threads` threads ask for a token at once. Puts the tokens (or a traceback)
    on `results`."""
    try:
        from app import create_app
        from app.extensions import db

        app = create_app(settings)
        ready = threading.Barrier(threads)

        def caller(_: int) -> str:
            with app.app_context():
                ready.wait()
                return access_token(app, connection_id)

        start.wait(timeout=60)
        with ThreadPoolExecutor(threads) as pool:
            tokens = list(pool.map(caller, range(threads)))
        with app.app_context():
            db.engine.dispose()
        results.put(tokens)
    except Exception:  # reported to the parent, which fails the test
        results.put(traceback.format_exc())

"""Error pages, registered in one place: friendly, with what to do next, no traces."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.kit.errors import AccessRefused, KitUnavailable, RefreshBusy

log = logging.getLogger(__name__)

Action = tuple[str, str]

# What a person can do about each status, shown under the title.
ADVICE = {
    400: (
        "That request could not be used",
        "Go back to the previous page and try again, or start again from Home.",
    ),
    403: (
        "You cannot open this page",
        "It belongs to another account. Sign in with the account that owns "
        "it, or start again from Home.",
    ),
    404: ("Page not found", "Check the address, or start again from Home."),
    405: (
        "That action is not available here",
        "Use the buttons of the page you came from (go back), or start again "
        "from Home.",
    ),
    413: (
        "That was more than this page takes",
        "Go back, shorten what you entered, and send it again.",
    ),
    415: (
        "That form could not be read",
        "Send it from the page's own form in your browser: this address takes "
        "form posts only.",
    ),
    429: ("Too many requests", "Wait a minute, then try again."),
    500: (
        "Something went wrong on our side",
        "The error has been logged. Try again in a moment.",
    ),
    503: ("Kit is unavailable right now", "Wait a moment, then try again."),
}


def wants_json() -> bool:
    """The client asked for JSON (an API client, `fetch`) rather than a page."""
    accept = request.accept_mimetypes
    return accept.best_match(
        ["text/html", "application/json"]
    ) == "application/json" and (accept["application/json"] > accept["text/html"])


def problem(
    status: int, title: str, message: str, actions: list[Action] | None = None
) -> tuple[Any, int]:
    """A page that says what went wrong and what to do next (JSON on request)."""
    if wants_json():
        return jsonify(status=status, error=title, message=message), status
    return (
        render_template(
            "errors/problem.html",
            status=status,
            title=title,
            message=message,
            actions=actions or [],
        ),
        status,
    )


# Seconds a client should wait before trying again after a 503.
RETRY_AFTER = 5
# PostgreSQL: lock_timeout / NOWAIT ("could not obtain lock"), deadlock detected.
LOCK_SQLSTATES = frozenset({"55P03", "40P01"})


def retry_later(title: str, message: str) -> tuple[Any, int, dict[str, str]]:
    """A 503 with Retry-After, and (for a page) a link that tries again."""
    again = request.full_path.rstrip("?")
    actions = [("Try again", again)] if request.method == "GET" else []
    body, status = problem(503, title, message, actions)
    return body, status, {"Retry-After": str(RETRY_AFTER)}


def is_lock_wait(error: OperationalError) -> bool:
    """A wait for a database lock that gave up (SQLite's busy timeout,
    PostgreSQL's lock_timeout or a deadlock), not a broken database."""
    if getattr(error.orig, "sqlstate", None) in LOCK_SQLSTATES:
        return True
    return "database is locked" in str(error.orig) or "database table is locked" in (
        str(error.orig)
    )


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[Any, int]:
        return problem(
            400,
            "This form has expired",
            "For your safety forms only work for a while, and in the browser that "
            "opened them. Go back, reload the page and send it again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Any, int]:
        status = error.code or 500
        title, message = ADVICE.get(status, (error.name, "Go back and try again."))
        return problem(status, title, message)

    @app.errorhandler(KitUnavailable)
    def kit_unavailable(error: KitUnavailable) -> tuple[Any, int, dict[str, str]]:
        # Pages answer these themselves (app/dashboard/render.py); this is the
        # net for any other route that calls Kit.
        db.session.rollback()
        log.warning("Kit unavailable on %s %s: %s", request.method, request.path, error)
        if isinstance(error, AccessRefused):
            return retry_later(
                "Kit refused access just now",
                "Your connection is safe. Wait a moment, then try again.",
            )
        if isinstance(error, RefreshBusy):
            return retry_later(
                "Kit is slow to answer right now",
                "Your connection is safe. Wait a moment, then try again.",
            )
        return retry_later(*ADVICE[503])

    @app.errorhandler(OperationalError)
    def database_error(error: OperationalError) -> tuple[Any, ...]:
        db.session.rollback()
        if not is_lock_wait(error):
            log.exception("Database error on %s %s", request.method, request.path)
            return problem(500, *ADVICE[500])
        log.warning("Gave up waiting for a database lock on %s", request.path)
        return retry_later(
            "Too busy right now",
            "The database is busy with other changes. Wait a few seconds, then "
            "try again.",
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Any, int]:
        db.session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return problem(500, *ADVICE[500])

"""Error pages, registered in one place: friendly, with what to do next, no traces."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from app.extensions import db, login_manager
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
# PostgreSQL: connection exceptions (08...), the server shutting down or
# starting up (57P01-57P03), too many connections (53300).
OUTAGE_SQLSTATE_PREFIXES = ("08", "57P", "53300")
# SQLite: the file cannot be opened or read (disk gone, permissions).
SQLITE_OUTAGES = ("unable to open database file", "disk i/o error")


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


def is_outage(error: DBAPIError) -> bool:
    """The database is not answering (down, restarting, unreachable), as
    opposed to a query it refused: a 503 "try again", not a 500."""
    if error.connection_invalidated:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        return str(sqlstate).startswith(OUTAGE_SQLSTATE_PREFIXES)
    if type(error.orig).__module__.startswith("psycopg"):
        # Raised while connecting ("connection failed: ..."): no SQLSTATE.
        return isinstance(error, OperationalError)
    return any(text in str(error.orig).lower() for text in SQLITE_OUTAGES)


def _rollback() -> None:
    """Roll back the request's session; with the database gone that can fail
    too, and the page must still be answered."""
    try:
        db.session.rollback()
    except DBAPIError:
        log.warning("Rollback failed: the database is not answering")


def register(app: Flask) -> None:
    @app.after_request
    def retry_after(response: Response) -> Response:
        # Every 503 says when to try again, whichever code answered it.
        if response.status_code == 503:
            response.headers.setdefault("Retry-After", str(RETRY_AFTER))
        return response

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

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError) -> tuple[Any, ...]:
        _rollback()
        if is_outage(error):
            log.error(
                "Database unavailable on %s %s: %s",
                request.method,
                request.path,
                type(error.orig).__name__,
            )
            # The page must not ask the database who is signed in.
            if "_login_user" not in g:
                g._login_user = login_manager.anonymous_user()
            return retry_later(
                "This service is unavailable right now",
                "Our database is not answering, so nothing was changed. Wait a "
                "moment, then try again.",
            )
        if not (isinstance(error, OperationalError) and is_lock_wait(error)):
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

"""Error pages, registered in one place: friendly, with what to do next, no traces."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db

log = logging.getLogger(__name__)

Action = tuple[str, str]

# What a person can do about each status, shown under the title.
ADVICE = {
    400: ("That request could not be used", "Go back and try again."),
    403: ("You cannot open this page", "Sign in with the account that owns it."),
    404: ("Page not found", "Check the address, or start again from the home page."),
    405: ("That action is not available here", "Use the buttons on the page instead."),
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

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Any, int]:
        db.session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return problem(500, *ADVICE[500])

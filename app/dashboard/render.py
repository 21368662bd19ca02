"""Rendering a page of Kit data: which connection it is for, and what to show
instead when Kit cannot answer or refuses a write; and the pages of what the
app keeps itself (the activity feed), with the same banners."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from flask import (
    abort,
    after_this_request,
    flash,
    g,
    make_response,
    render_template,
)
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import Field

from app.auth.access import remember_selected
from app.errors import problem
from app.extensions import db
from app.kit.errors import (
    AccessRefused,
    KitError,
    KitRateLimited,
    KitUnavailable,
    KitValidationError,
    NeedsReconnect,
)
from app.kit_capacity import SLOT
from app.models import KitConnection
from app.webhooks.feed import BadQuery

T = TypeVar("T")
RETRY_AFTER = "5"  # seconds, on every 503 "try again"


def kit_page(
    connection: KitConnection,
    template: str,
    load: Callable[[], dict[str, Any]],
    **context: Any,
) -> tuple[str, int]:
    """Render a page of Kit data, or the state that replaces it.

    States: `reconnect` / `disconnected` (no grant), `rate_limited` (429 after
    backing off), `unavailable` (5xx, timeouts, a refresh in flight elsewhere),
    `refused` (Kit answered 401 twice): each with its own message. The
    reconnect banner follows the connection's stored status, never this
    request's error alone.
    """
    remember_selected(connection)
    status, data = 200, {}
    state = _without_grant(connection)
    if state is None:
        try:
            data = load()
        except NeedsReconnect:
            state, status = "unavailable", 503  # unless the row says so, below
        except KitRateLimited:
            state, status = "rate_limited", 429
        except AccessRefused:
            state, status = "refused", 503
        except KitUnavailable:
            state, status = "unavailable", 503
        except KitValidationError:  # a hand-edited cursor or filter in the URL
            state, status = "bad_request", 400
        except KitError:  # any other refusal (403 on this plan, ...)
            state, status = "error", 502
        # The row can only have moved under this page if it called Kit (a
        # token refresh, written by the pool's threads in sessions of their
        # own) or failed: a page made from cached answers skips the query.
        if state is not None or SLOT in g:
            db.session.refresh(connection)
        stored = _without_grant(connection)
        if state is not None and stored is not None:
            state, status = stored, 200
    if status in (429, 503):
        after_this_request(_retry_after)
    return _render(connection, template, state, data, context), status


def _without_grant(connection: KitConnection) -> str | None:
    """The state that replaces a page when the stored row has no grant."""
    if connection.status == KitConnection.REVOKED:
        return "disconnected"
    if connection.status != KitConnection.ACTIVE:
        return "reconnect"
    return None


def stored_page(
    connection: KitConnection,
    template: str,
    load: Callable[[], dict[str, Any]],
    **context: Any,
) -> tuple[str, int]:
    """Render a page of what the app keeps itself (no call to Kit): the same
    banners as `kit_page` for a connection without a grant, and the
    `bad_request` state (400) when `load` refuses a hand-edited URL."""
    remember_selected(connection)
    status, data = 200, {}
    state = _without_grant(connection)
    if state is None:
        try:
            data = load()
        except BadQuery:
            state, status = "bad_request", 400
    return _render(connection, template, state, data, context), status


def _render(
    connection: KitConnection,
    template: str,
    state: str | None,
    data: dict[str, Any],
    context: dict[str, Any],
) -> str:
    return render_template(
        template,
        connection=connection,
        connections=current_user.connections,
        state=state,
        **data,
        **context,
    )


def write(field: Field, call: Callable[[], T]) -> tuple[T | None, int]:
    """Make a write to Kit for a form. Returns its result and 200, or None and
    the status to re-render the form with: 422 with Kit's messages on `field`,
    503 with a flash that says nothing was saved."""
    try:
        return call(), 200
    except KitValidationError as exc:
        field.errors = [*field.errors, *exc.messages]
        return None, 422
    except KitError as exc:
        flash(write_failure(exc), "error")
        after_this_request(_retry_after)
        return None, 503


def _retry_after(response: Response) -> Response:
    response.headers["Retry-After"] = RETRY_AFTER
    return response


def write_failure(error: KitError) -> str:
    """What to tell the creator when a write to Kit did not happen."""
    if isinstance(error, NeedsReconnect):
        return "Kit no longer accepts this app's access: reconnect, then try again."
    if isinstance(error, KitRateLimited):
        return "Kit asked us to slow down. Nothing was saved; try again in a minute."
    return "Kit is unavailable right now. Nothing was saved; try again in a moment."


def missing(title: str, back: str, href: str) -> NoReturn:
    """Stop with a 404 page that says what is missing (a record Kit does not
    know in this account) and offers the way back."""
    body, status = problem(
        404,
        title,
        "It may have been deleted in Kit, or the link is wrong.",
        [(back, href)],
    )
    abort(make_response(body, status))

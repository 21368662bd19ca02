"""What every page of Kit data shares: whose connection it is, and what to show
when Kit cannot answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, session
from flask_login import current_user

from app.extensions import db
from app.kit.errors import (
    KitError,
    KitRateLimited,
    KitUnavailable,
    KitValidationError,
    NeedsReconnect,
)
from app.models import KitConnection

SELECTED = "connection_id"


def selected_connection() -> KitConnection | None:
    """The connection the user last looked at, else their first active one."""
    connections = current_user.connections
    wanted = session.get(SELECTED)
    for connection in connections:
        if connection.id == wanted:
            return connection
    active = [c for c in connections if c.status == KitConnection.ACTIVE]
    return (active or connections or [None])[0]


def kit_page(
    connection: KitConnection,
    template: str,
    load: Callable[[], dict[str, Any]],
    **context: Any,
) -> tuple[str, int]:
    """Render a page of Kit data, or the state that replaces it.

    States: `reconnect` / `disconnected` (no grant), `rate_limited` (429 after
    backing off), `unavailable` (5xx, timeouts): each with its own message.
    """
    session[SELECTED] = connection.id
    state, status, data = None, 200, {}
    if connection.status == KitConnection.REVOKED:
        state = "disconnected"
    elif connection.status != KitConnection.ACTIVE:
        state = "reconnect"
    else:
        try:
            data = load()
        except NeedsReconnect:
            state = "reconnect"
        except KitRateLimited:
            state, status = "rate_limited", 429
        except KitUnavailable:
            state, status = "unavailable", 503
        except KitValidationError:  # a hand-edited cursor or filter in the URL
            state, status = "bad_request", 400
        except KitError:  # any other refusal (403 on this plan, ...)
            state, status = "error", 502
        db.session.refresh(connection)
    return (
        render_template(
            template,
            connection=connection,
            connections=current_user.connections,
            state=state,
            **data,
            **context,
        ),
        status,
    )


def write_failure(error: KitError) -> str:
    """What to tell the creator when a write to Kit did not happen."""
    if isinstance(error, NeedsReconnect):
        return "Kit no longer accepts this app's access: reconnect, then try again."
    if isinstance(error, KitRateLimited):
        return "Kit asked us to slow down. Nothing was saved; try again in a minute."
    return "Kit is unavailable right now. Nothing was saved; try again in a moment."

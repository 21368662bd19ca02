"""Who a session belongs to: Flask-Login's settings and user loader.

A session carries "user id:session token" (`User.get_id`); a new session
token (sign-out, password change, reset) ends every session made before it.
"""

from __future__ import annotations

import hmac
from functools import cache
from urllib.parse import urlsplit

from flask import flash, redirect, request, url_for
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import contains_eager, defer, with_expression
from werkzeug.wrappers import Response

from app.extensions import db, login_manager
from app.models import KitConnection, User, WebhookEndpoint
from app.redirects import safe_next

login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.unauthorized_handler
def ask_to_sign_in() -> Response:
    """To the sign-in page, and back afterwards to the page the creator was
    on. A signed-out POST (a form in a tab left open) must not come back as
    its URL: sign-in returns with a GET, and a POST-only URL answers 405. So
    the way back is the page the form was on (the Referer, same origin only;
    Referrer-Policy is same-origin), or else the dashboard."""
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for("auth.login", next=_return_to()))


def _return_to() -> str | None:
    if request.method in ("GET", "HEAD"):
        return safe_next(request.full_path.rstrip("?"))
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.path == request.path:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


@cache
def _user_and_connections() -> Select[tuple[User]]:
    """`load_user`'s query, built once: building an ORM statement costs more
    CPU than running this one (a warm page is served in about a millisecond)."""
    return (
        select(User)
        .outerjoin(User.connections)
        .outerjoin(WebhookEndpoint, WebhookEndpoint.connection_id == KitConnection.id)
        .where(User.id == bindparam("user_id"))
        .order_by(KitConnection.id)
        .options(
            contains_eager(User.connections).options(
                defer(KitConnection.access_token),
                defer(KitConnection.refresh_token),
                with_expression(KitConnection.webhook_status, WebhookEndpoint.status),
            )
        )
    )


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session, if it is still theirs: `User.get_id()` is
    "id:session token", and a new session token ends the older sessions.

    Read in one query with the user's connections (every signed-in page shows
    the account switcher, and finds the connection it shows among them) and
    each one's webhook endpoint status; their tokens are left out, read and
    decrypted only by what calls Kit."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None  # also a session from before session tokens: sign in again
    user = (
        db.session.scalars(_user_and_connections(), {"user_id": int(user_id)})
        .unique()
        .one_or_none()
    )
    if user is None or user.email_verified_at is None:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user

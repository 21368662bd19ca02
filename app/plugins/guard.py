"""The one way a plugin route is protected: Kit's bearer token.

    @bp.post("/blocks/<name>")
    @plugin_route
    def block(name):
        connection = plugin_connection()  # the creator the token belongs to

Kit signs nothing and documents no timeout: the bearer token the app issued is
the only proof (KIT_PLATFORM.md §8). `plugin_route` checks it (Authlib's
resource protector), answers 401 with `WWW-Authenticate` for a missing,
unknown, expired or revoked token and for one whose grant has no live
connection, counts the request against the token's own rate limit, and takes
JSON bodies without a CSRF token (Kit is not a browser).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar, cast

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Response, g, jsonify, request
from flask_limiter.util import get_remote_address
from sqlalchemy import select

from app.edge import accepts_body
from app.extensions import csrf, db, limiter
from app.models import KitConnection, PluginToken, token_hash

F = TypeVar("F", bound=Callable[..., Any])

REALM = "kit-plugins"
# Per token: Kit's editor calls a block on every settings change and refresh.
PLUGIN_LIMIT = "120 per minute; 3000 per hour"
BODY_LIMIT = 256 * 1024
# A creator who disconnected in the app, or uninstalled at Kit, is not served;
# one whose Kit grant needs reconnecting still is, from stored data.
SERVED = (KitConnection.ACTIVE, KitConnection.NEEDS_RECONNECT)


class _Tokens(BearerTokenValidator):  # type: ignore[misc]
    def authenticate_token(self, token_string: str) -> PluginToken | None:
        return db.session.scalar(
            select(PluginToken).where(
                PluginToken.access_token_hash == token_hash(token_string)
            )
        )


protector = ResourceProtector()
protector.register_token_validator(_Tokens(realm=REALM))


def plugin_route(view: F) -> F:
    """Decorate a plugin view (under its route decorator)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            token: PluginToken = protector.acquire_token()
        except OAuth2Error as error:
            return refusal(error.description or "")
        connection = token.grant.connection
        if connection is None or connection.status not in SERVED:
            return refusal("This token's Kit account is not connected to the app.")
        g.plugin_connection = connection
        return view(*args, **kwargs)

    limited = limiter.limit(PLUGIN_LIMIT, key_func=_token_key)(guarded)
    csrf.exempt(limited)
    # The mark tests/test_isolation.py finds plugin routes by in the url_map.
    limited.plugin_route = True  # type: ignore[attr-defined]
    return cast(F, accepts_body(BODY_LIMIT, ["application/json"])(limited))


def plugin_connection() -> KitConnection:
    """The connection the request's token belongs to: inside `plugin_route`."""
    connection: KitConnection = g.plugin_connection
    return connection


def refusal(description: str) -> tuple[Response, int]:
    """RFC 6750's 401: `WWW-Authenticate: Bearer` (with `error` when a token
    came but is not good), and the same error as JSON. The description is
    ours, never an echo of the token."""
    sent = _bearer() is not None
    challenge = f'Bearer realm="{REALM}"'
    body: dict[str, str] = {"error": "invalid_token" if sent else "missing_token"}
    if sent:
        challenge += ', error="invalid_token"'
        body["error_description"] = description or "The access token is not valid."
    response = jsonify(body)
    response.headers["WWW-Authenticate"] = challenge
    return response, 401


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _token_key() -> str:
    """The rate limit's key: the token's hash (never the token), else the
    client address for requests without one."""
    bearer = _bearer()
    if bearer is None:
        return f"plugin-ip:{get_remote_address()}"
    return f"plugin-token:{hashlib.sha256(bearer.encode()).hexdigest()}"

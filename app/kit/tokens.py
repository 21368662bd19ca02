"""One way to get a valid access token for a connection, safe under concurrency.

Kit rotates refresh tokens: each refresh returns a new pair and kills the old
refresh token. Two workers refreshing the same connection at once would spend
the same refresh token twice, and the loser's `invalid_grant` would look like an
uninstall. So a refresh happens only under a database row lock, after re-reading
the row: whoever gets the lock second finds the token the first one wrote.

Works inside and outside requests (views, CLI, jobs): it needs an app context
(for the database and the encryption keys), never a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.kit import oauth
from app.kit.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    KitUnavailable,
    NeedsReconnect,
    OAuthGrantError,
)
from app.kit.settings import KitSettings
from app.models import KitConnection

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_fresh(
    connection: KitConnection, leeway: int, now: datetime | None = None
) -> bool:
    """Still valid for longer than the leeway (capped at half the token's life)."""
    now = now or datetime.now(UTC)
    issued = connection.token_issued_at or connection.created_at
    lifetime = (connection.expires_at - issued).total_seconds()
    margin = min(float(leeway), max(lifetime, 0) / 2)
    return connection.expires_at - timedelta(seconds=margin) > now


def valid_access_token(
    connection_id: int,
    settings: KitSettings,
    *,
    leeway: int = 300,
    rejected_token: str | None = None,
) -> str:
    """Return an access token for the connection that Kit should accept.

    `rejected_token` is a token Kit just answered 401 to: refresh unless another
    worker has replaced it already.
    """
    connection = db.session.get(KitConnection, connection_id, populate_existing=True)
    if connection is None:
        raise LookupError(f"no Kit connection {connection_id}")
    if connection.status != KitConnection.ACTIVE or not connection.access_token:
        raise NeedsReconnect(connection.label)
    if rejected_token is None and is_fresh(connection, leeway):
        return connection.access_token
    try:
        return _refresh_locked(connection_id, settings, leeway, rejected_token)
    finally:
        # The refresh wrote through its own session: let the caller's see it.
        db.session.expire(connection)


def _refresh_locked(
    connection_id: int, settings: KitSettings, leeway: int, rejected: str | None
) -> str:
    # A session of its own, so the lock's transaction is never mixed with
    # (or committed by) whatever the caller has pending.
    with Session(db.engine, expire_on_commit=False) as session, session.begin():
        if session.get_bind().dialect.name == "sqlite":
            # SQLite has no FOR UPDATE: a no-op write takes the database's write
            # lock, so the read below sees whatever the last refresher committed.
            session.execute(
                update(KitConnection)
                .where(KitConnection.id == connection_id)
                .values(status=KitConnection.status)
            )
        connection = session.execute(
            select(KitConnection)
            .where(KitConnection.id == connection_id)
            .with_for_update()
        ).scalar_one()
        if connection.status != KitConnection.ACTIVE or not connection.refresh_token:
            raise NeedsReconnect(connection.label)
        if rejected is None and is_fresh(connection, leeway):
            return connection.access_token or ""  # another worker refreshed
        if rejected is not None and connection.access_token != rejected:
            return connection.access_token or ""  # ... after Kit rejected ours

        try:
            tokens = oauth.refresh(settings, connection.refresh_token)
        except OAuthGrantError as exc:
            if exc.error != "invalid_grant":
                log.error(
                    "Kit refused a refresh for connection %s: %s",
                    connection_id,
                    exc.error,
                )
                raise KitUnavailable(f"Kit refused the refresh ({exc.error})") from None
            log.warning(
                "Connection %s needs reconnecting: refresh token refused", connection_id
            )
            connection.status = KitConnection.NEEDS_RECONNECT
            connection.last_error = "Kit refused the refresh token (invalid_grant)"
            session.commit()
            raise NeedsReconnect(connection.label) from None

        now = datetime.now(UTC)
        connection.access_token = tokens.access_token
        connection.refresh_token = tokens.refresh_token
        connection.expires_at = tokens.expires_at
        connection.token_issued_at = now
        connection.last_refreshed_at = now
        connection.last_error = None
        log.info("Refreshed Kit token for connection %s", connection_id)
        return tokens.access_token


def call_with_token(
    connection_id: int,
    settings: KitSettings,
    call: Callable[[str], T],
    *,
    leeway: int = 300,
) -> T:
    """Run `call(access_token)`; on a 401 refresh once and retry once.

    401 "expired" is routine (clocks drift, lifetimes change). 401 "invalid" means
    the grant may be gone: one refresh tells; if Kit still refuses, the
    connection needs reconnecting.
    """
    token = valid_access_token(connection_id, settings, leeway=leeway)
    try:
        return call(token)
    except (AccessTokenExpired, AccessTokenInvalid):
        token = valid_access_token(
            connection_id, settings, leeway=leeway, rejected_token=token
        )
    try:
        return call(token)
    except AccessTokenInvalid:
        mark_needs_reconnect(connection_id, "Kit rejected the access token")
        raise NeedsReconnect(str(connection_id)) from None


def mark_needs_reconnect(connection_id: int, reason: str) -> None:
    connection = db.session.get(KitConnection, connection_id)
    if connection is not None and connection.status == KitConnection.ACTIVE:
        connection.status = KitConnection.NEEDS_RECONNECT
        connection.last_error = reason
        db.session.commit()

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

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from app.extensions import db
from app.kit import oauth
from app.kit.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    KitError,
    KitUnavailable,
    NeedsReconnect,
    OAuthGrantError,
)
from app.kit.locking import locked_connection
from app.kit.settings import KitSettings
from app.models import ConnectionEvent, KitConnection

log = logging.getLogger(__name__)
T = TypeVar("T")
# A token this fresh from a refresh that Kit calls invalid means the grant is gone.
JUST_REFRESHED = 60  # seconds


def is_fresh(
    connection: KitConnection,
    leeway: int,
    now: datetime | None = None,
    *,
    cap_leeway: bool = True,
) -> bool:
    """Valid for longer than the leeway.

    On the request path the leeway is capped at half the token's lifetime, so
    that a short-lived token is not refreshed on every call. `refresh-due`
    passes `cap_leeway=False`: its operator asked for that window on purpose.
    """
    now = now or datetime.now(UTC)
    margin = float(leeway)
    if cap_leeway:
        issued = connection.token_issued_at or connection.created_at
        lifetime = (connection.expires_at - issued).total_seconds()
        margin = min(margin, max(lifetime, 0) / 2)
    return connection.expires_at - timedelta(seconds=margin) > now


def valid_access_token(
    connection_id: int,
    settings: KitSettings,
    *,
    leeway: int = 300,
    rejected_token: str | None = None,
    rejected_as_invalid: bool = False,
) -> str:
    """Return an access token for the connection that Kit should accept.

    Fast path: the stored token is fresh, so no lock and no call to Kit.
    `rejected_token` is a token Kit just answered 401 to: refresh unless another
    worker has replaced it already. `rejected_as_invalid`: Kit called it
    invalid (not expired); if that token came from a refresh moments ago, a
    second refresh would not help, and the connection needs reconnecting.
    """
    # The fast path reads on a connection of its own, returned to the pool at
    # once: a caller about to wait on Kit (a page's parallel calls) must not
    # sit on a database connection meanwhile.
    with db.engine.connect() as conn:
        row = conn.execute(
            select(
                KitConnection.status,
                KitConnection.access_token,
                KitConnection.expires_at,
                KitConnection.token_issued_at,
                KitConnection.created_at,
            ).where(KitConnection.id == connection_id)
        ).one_or_none()
    if row is None:
        raise LookupError(f"no Kit connection {connection_id}")
    if row.status != KitConnection.ACTIVE or not row.access_token:
        raise NeedsReconnect(str(connection_id))
    if rejected_token is None and is_fresh(row, leeway):  # type: ignore[arg-type]
        return str(row.access_token)
    if not (db.session.new or db.session.dirty or db.session.deleted):
        # Give the caller's connection back to the pool while we wait for the
        # lock: otherwise a storm of callers, each holding one connection and
        # waiting for a second, can drain the pool and wait on each other.
        db.session.commit()
    try:
        token, _ = refresh_locked(
            connection_id,
            settings,
            leeway,
            rejected_token,
            rejected_as_invalid=rejected_as_invalid,
        )
    finally:
        forget_loaded_row(connection_id)
    return token


def forget_loaded_row(connection_id: int) -> None:
    """The lock's session wrote the row: make the caller's session reload its
    copy (if it has one) instead of showing stale status or tokens."""
    loaded = db.session.identity_map.get(identity_key(KitConnection, connection_id))
    if loaded is not None:
        db.session.expire(loaded)


def refresh_locked(
    connection_id: int,
    settings: KitSettings,
    leeway: int,
    rejected_token: str | None = None,
    *,
    cap_leeway: bool = True,
    rejected_as_invalid: bool = False,
) -> tuple[str, bool]:
    """Refresh under the row lock unless someone else just did.

    Returns the valid access token and whether this call spent the refresh
    token. Raises `NeedsReconnect` (grant gone, connection marked) or
    `KitUnavailable` (stored tokens untouched).
    """
    failure: KitError | None = None
    token, refreshed = "", False
    with locked_connection(connection_id) as (session, connection):
        if connection.status != KitConnection.ACTIVE or not connection.refresh_token:
            failure = NeedsReconnect(connection.label)
        elif rejected_token is None and is_fresh(
            connection, leeway, cap_leeway=cap_leeway
        ):
            token = connection.access_token or ""  # another worker refreshed
        elif rejected_token is not None and connection.access_token != rejected_token:
            token = connection.access_token or ""  # ... after Kit rejected ours
        elif rejected_as_invalid and _just_refreshed(connection):
            # Kit calls the token a refresh handed us moments ago invalid: the
            # grant is gone. Refreshing again (as parallel callers would, one
            # after the other) cannot help.
            mark_needs_reconnect_in(
                session, connection, "Kit rejected the access token"
            )
            failure = NeedsReconnect(connection.label)
        else:
            try:
                tokens = oauth.refresh(settings, connection.refresh_token)
            except OAuthGrantError as exc:
                failure = _refused(session, connection, exc)
            except KitUnavailable as exc:
                _record_failure(session, connection, str(exc))
                failure = exc
            else:
                _store(session, connection, tokens)
                token, refreshed = tokens.access_token, True
    if failure is not None:
        raise failure
    return token, refreshed


def _just_refreshed(connection: KitConnection, seconds: int = JUST_REFRESHED) -> bool:
    """The current token came from a refresh in the last `seconds`."""
    refreshed = connection.last_refreshed_at
    return (
        refreshed is not None
        and refreshed == connection.token_issued_at
        and datetime.now(UTC) - refreshed < timedelta(seconds=seconds)
    )


def _store(session: Session, connection: KitConnection, tokens: oauth.TokenSet) -> None:
    # Written and committed before anyone uses the new token: Kit has already
    # killed the old refresh token, so this pair is the only one there is.
    now = datetime.now(UTC)
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token
    connection.expires_at = tokens.expires_at
    connection.token_issued_at = now
    connection.last_refreshed_at = now
    connection.last_error = None
    session.add(
        ConnectionEvent(connection_id=connection.id, kind=ConnectionEvent.REFRESHED)
    )
    log.info("Refreshed the Kit token of connection %s", connection.id)


def _refused(
    session: Session, connection: KitConnection, exc: OAuthGrantError
) -> KitError:
    if exc.error == "invalid_grant":
        log.warning("Connection %s needs reconnecting: refresh refused", connection.id)
        mark_needs_reconnect_in(
            session, connection, "Kit refused the refresh token (invalid_grant)"
        )
        return NeedsReconnect(connection.label)
    # invalid_client & co: our configuration, not the creator's grant.
    log.error("Kit refused a refresh of connection %s: %s", connection.id, exc.error)
    _record_failure(session, connection, f"Kit refused the refresh ({exc.error[:40]})")
    return KitUnavailable(f"Kit refused the refresh ({exc.error})")


def _record_failure(session: Session, connection: KitConnection, reason: str) -> None:
    """Note a failed refresh; one event per streak, so an outage adds one row."""
    if connection.last_error != reason[:255]:
        session.add(
            ConnectionEvent(
                connection_id=connection.id,
                kind=ConnectionEvent.REFRESH_FAILED,
                reason=reason[:255],
            )
        )
    connection.last_error = reason[:255]


def mark_needs_reconnect_in(
    session: Session, connection: KitConnection, reason: str
) -> None:
    if connection.status != KitConnection.NEEDS_RECONNECT:
        session.add(
            ConnectionEvent(
                connection_id=connection.id,
                kind=ConnectionEvent.NEEDS_RECONNECT,
                reason=reason,
            )
        )
    connection.status = KitConnection.NEEDS_RECONNECT
    connection.last_error = reason


def call_with_token(
    connection_id: int,
    settings: KitSettings,
    call: Callable[[str], T],
    *,
    leeway: int = 300,
) -> T:
    """Run `call(access_token)`; on a 401 refresh once and retry once.

    401 "expired" is routine (clocks drift, lifetimes change). 401 "invalid" means
    the grant may be gone: one refresh tells; if Kit still refuses the new
    token, the connection needs reconnecting.
    """
    token = valid_access_token(connection_id, settings, leeway=leeway)
    try:
        return call(token)
    except (AccessTokenExpired, AccessTokenInvalid) as refused:
        token = valid_access_token(
            connection_id,
            settings,
            leeway=leeway,
            rejected_token=token,
            rejected_as_invalid=isinstance(refused, AccessTokenInvalid),
        )
    try:
        return call(token)
    except AccessTokenInvalid:
        with locked_connection(connection_id) as (session, connection):
            if connection.access_token == token:
                mark_needs_reconnect_in(
                    session, connection, "Kit rejected the access token"
                )
        forget_loaded_row(connection_id)
        raise NeedsReconnect(str(connection_id)) from None

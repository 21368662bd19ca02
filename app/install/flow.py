"""The install flow's steps as plain functions: no request, explicit arguments.

`begin_attempt` (the Authorization URL) -> Kit's consent -> `consume_attempt`
and `finish_install` (the callback, which also queues the backfill of the
growth figures); `app.install.disconnect` undoes it. Every way to stop short
raises `InstallFailed` with a reason from `failures.py`.

No grant is left alive at Kit: the pair a reinstall replaces, the pair of an
install that lost a race to another, and the pair of an install that failed
after the code exchange are retired (`app.kit.grants`) and revoked by a job.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.install.failures import InstallFailed
from app.install.follow_up import (
    queue_backfill,
    queue_revocation,
    queue_webhook_registration,
    retire_orphan,
)
from app.kit import api, grants, oauth
from app.kit.errors import KitError, OAuthGrantError
from app.kit.locking import locked_connection
from app.kit.oauth import TokenSet
from app.kit.resources import Account
from app.kit.settings import KitSettings
from app.kit.tokens import forget_loaded_row
from app.models import ConnectionEvent, KitConnection, OAuthAttempt, RetiredGrant, User

log = logging.getLogger(__name__)
ATTEMPTS_KEPT = timedelta(days=1)  # long past any OAUTH_ATTEMPT_TTL


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def begin_attempt(
    user: User, return_to: str | None, tenant_name: str
) -> tuple[str, str]:
    """Record a new attempt; return its `state` and PKCE `code_verifier`.

    The user's attempts older than a day go at the same time: they can no
    longer be completed, and each holds an (encrypted) PKCE verifier.
    """
    state, verifier = oauth.new_state(), oauth.new_code_verifier()
    db.session.execute(
        delete(OAuthAttempt).where(
            OAuthAttempt.user_id == user.id,
            OAuthAttempt.created_at < datetime.now(UTC) - ATTEMPTS_KEPT,
        )
    )
    db.session.add(
        OAuthAttempt(
            state_hash=_state_hash(state),
            user_id=user.id,
            code_verifier=verifier,
            return_to=return_to,
            tenant_name=tenant_name,
        )
    )
    db.session.commit()
    return state, verifier


def consume_attempt(
    state: str, user: User, ttl_seconds: int, *, started_in_this_browser: bool
) -> OAuthAttempt:
    """Mark the attempt named by `state` used, once, and return it.

    `started_in_this_browser`: the state is one the browser's session holds, so
    a link crafted elsewhere (login CSRF) cannot complete another's attempt.

    The UPDATE ... WHERE used_at IS NULL makes the check-and-spend atomic: of two
    callbacks racing with the same state, exactly one wins.
    """
    attempt = db.session.scalar(
        select(OAuthAttempt).where(OAuthAttempt.state_hash == _state_hash(state))
    )
    if attempt is None or attempt.user_id != user.id:
        raise InstallFailed("unknown_state")
    if attempt.used_at is not None:
        if (connected := connected_by(attempt)) is not None:
            # The browser came back to the callback (history, a reload) after
            # the install succeeded: nothing is wrong, show the way on.
            raise InstallFailed(
                "already_connected",
                attempt.return_to,
                {"label": connected.label, "connection_id": str(connected.id)},
            )
        raise InstallFailed("state_used")
    if not started_in_this_browser:
        raise InstallFailed("other_browser")
    if attempt.expired(ttl_seconds):
        raise InstallFailed("state_expired")
    spent = db.session.execute(
        update(OAuthAttempt)
        .where(OAuthAttempt.id == attempt.id, OAuthAttempt.used_at.is_(None))
        .values(used_at=datetime.now(UTC))
    )
    db.session.commit()
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise InstallFailed("state_used")
    return attempt


def connected_by(attempt: OAuthAttempt) -> KitConnection | None:
    """The active connection a used attempt connected (or reconnected), if any.

    No column links them: the connection's (re)connect event is recorded after
    the attempt was spent (`used_at`), for the same user and label.
    """
    if attempt.used_at is None:
        return None
    return db.session.scalar(
        select(KitConnection)
        .join(ConnectionEvent)
        .where(
            KitConnection.user_id == attempt.user_id,
            KitConnection.tenant_name == attempt.tenant_name,
            KitConnection.status == KitConnection.ACTIVE,
            ConnectionEvent.kind.in_(
                [ConnectionEvent.CONNECTED, ConnectionEvent.RECONNECTED]
            ),
            ConnectionEvent.created_at >= attempt.used_at,
        )
        .order_by(ConnectionEvent.created_at.desc())
        .limit(1)
    )


def was_reconnect(connection: KitConnection, attempt: OAuthAttempt) -> bool:
    """The install updated a connection that existed before it started
    (a reinstall or a reconnect), rather than creating it."""
    return connection.created_at < attempt.created_at


def finish_install(
    user: User,
    attempt: OAuthAttempt,
    answer: Mapping[str, str],
    settings: KitSettings,
    redirect_uri: str,
) -> KitConnection:
    """Turn Kit's answer on the callback (`code`, or `error`) into a stored
    connection: exchange the code, read the account, save both, and queue
    the backfill of its growth figures."""
    back = attempt.return_to
    if error := answer.get("error"):
        if error == "access_denied":
            raise InstallFailed("access_denied", back)
        raise InstallFailed("kit_error", back, {"kit_error": error[:80]})
    code = answer.get("code", "")
    if not code:
        raise InstallFailed("no_code", back)
    try:
        tokens = oauth.exchange_code(
            settings,
            code=code,
            code_verifier=attempt.code_verifier,
            redirect_uri=redirect_uri,
        )
    except OAuthGrantError:
        raise InstallFailed("grant_refused", back) from None
    except KitError as exc:
        log.warning("Install failed at Kit: %s", type(exc).__name__)
        raise InstallFailed("kit_unavailable", back) from None
    try:
        account = Account.from_kit(api.get(settings, tokens.access_token, "account"))
    except KitError as exc:
        # Kit granted access, but we cannot tell which account: the new pair
        # would be left alive at Kit with nobody using it.
        log.warning("Install failed at Kit after the exchange: %s", type(exc).__name__)
        retire_orphan(tokens)
        raise InstallFailed("kit_unavailable", back) from None
    connection = save_connection(user, attempt.tenant_name, tokens, account)
    queue_backfill(connection.id)
    queue_webhook_registration(connection.id)
    return connection


def save_connection(
    user: User, tenant_name: str, tokens: TokenSet, account: Account
) -> KitConnection:
    """Create or update the user's connection to this Kit account (and tenant).

    Installing again, or reconnecting after a revoked grant, lands on the same
    row: the Kit account id is the identity, as in Kit's own OmniAuth strategy.
    The pair it replaces is retired and revoked at Kit.

    Two installs of one account at once (two tabs, a double click) both find
    no row and both insert: the unique constraint refuses the second, which
    then updates the first one's row like a reinstall. One connection, and one
    live grant at Kit.
    """
    connection_id = _connection_id(user.id, account.id, tenant_name)
    reason = RetiredGrant.REPLACED
    if connection_id is None:
        try:
            return _insert_connection(user, tenant_name, tokens, account)
        except IntegrityError:
            db.session.rollback()
            connection_id = _connection_id(user.id, account.id, tenant_name)
            if connection_id is None:
                raise
            log.info("Install lost a race for connection %s", connection_id)
            reason = RetiredGrant.LOST_RACE
    retired_id = _replace_tokens(connection_id, tokens, account, reason)
    if retired_id is not None:
        queue_revocation(retired_id)
    connection = db.session.get(KitConnection, connection_id)
    assert connection is not None  # rows are deleted only with their user
    return connection


def _connection_id(user_id: int, account_id: str, tenant_name: str) -> int | None:
    return db.session.scalar(
        select(KitConnection.id).where(
            KitConnection.user_id == user_id,
            KitConnection.kit_account_id == account_id,
            KitConnection.tenant_name == tenant_name,
        )
    )


def _insert_connection(
    user: User, tenant_name: str, tokens: TokenSet, account: Account
) -> KitConnection:
    connection = KitConnection(
        user_id=user.id, kit_account_id=account.id, tenant_name=tenant_name
    )
    _set_tokens(connection, tokens, account)
    db.session.add(connection)
    connection.events.add(ConnectionEvent(kind=ConnectionEvent.CONNECTED))
    db.session.commit()
    return connection


def _replace_tokens(
    connection_id: int, tokens: TokenSet, account: Account, reason: str
) -> int | None:
    """Write the new pair under the connection's row lock, and retire the pair
    it replaces in the same transaction; returns the retired row's id.

    The lock orders this with a refresh of the same connection: the pair
    retired is the one stored at that moment, never one a refresh has
    already rotated away.
    """
    db.session.commit()  # the lock has a session of its own: hold nothing here
    retired: RetiredGrant | None = None
    with locked_connection(connection_id) as (session, connection):
        if connection.access_token or connection.refresh_token:
            retired = grants.retire(
                session,
                connection.access_token or "",
                connection.refresh_token or "",
                reason,
                connection.id,
            )
        _set_tokens(connection, tokens, account)
        session.add(
            ConnectionEvent(
                connection_id=connection.id, kind=ConnectionEvent.RECONNECTED
            )
        )
    forget_loaded_row(connection_id)
    return retired.id if retired is not None else None


def _set_tokens(connection: KitConnection, tokens: TokenSet, account: Account) -> None:
    connection.account_name = account.name[:255]
    connection.account_email = account.primary_email_address[:254]
    connection.timezone, connection.timezone_label = account.zone_columns()
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token
    connection.expires_at = tokens.expires_at
    connection.token_issued_at = datetime.now(UTC)
    connection.status = KitConnection.ACTIVE
    connection.uninstalled_at = None  # installed again
    connection.last_error = None

"""The install flow's steps as plain functions: no request, explicit arguments."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from app.extensions import db
from app.kit import oauth
from app.kit.errors import KitUnavailable
from app.kit.oauth import TokenSet
from app.models import ConnectionEvent, KitConnection, OAuthAttempt, User

ATTEMPTS_KEPT = timedelta(days=1)  # long past any OAUTH_ATTEMPT_TTL


class AttemptRejected(Exception):
    """The callback's `state` does not name a live attempt of this user.

    `reason` is safe to show: it says what happened, never the state itself.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
        raise AttemptRejected("This sign-in to Kit was not started here.")
    if attempt.used_at is not None:
        raise AttemptRejected("This sign-in to Kit was already completed once.")
    if not started_in_this_browser:
        raise AttemptRejected("This sign-in to Kit was started in another browser.")
    if attempt.expired(ttl_seconds):
        raise AttemptRejected("This sign-in to Kit took too long and expired.")
    spent = db.session.execute(
        update(OAuthAttempt)
        .where(OAuthAttempt.id == attempt.id, OAuthAttempt.used_at.is_(None))
        .values(used_at=datetime.now(UTC))
    )
    db.session.commit()
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise AttemptRejected("This sign-in to Kit was already completed once.")
    return attempt


def save_connection(
    user: User, tenant_name: str, tokens: TokenSet, account: dict
) -> KitConnection:
    """Create or update the user's connection to this Kit account (and tenant).

    Installing again, or reconnecting after a revoked grant, lands on the same
    row: the Kit account id is the identity, as in Kit's own OmniAuth strategy.
    """
    kit_account = account.get("account") if isinstance(account, dict) else None
    kit_account = kit_account if isinstance(kit_account, dict) else {}
    account_id = str(kit_account.get("id") or "")
    if not account_id:
        raise KitUnavailable("Kit's /v4/account answer has no account id")
    connection = db.session.scalar(
        select(KitConnection).where(
            KitConnection.user_id == user.id,
            KitConnection.kit_account_id == account_id,
            KitConnection.tenant_name == tenant_name,
        )
    )
    event = ConnectionEvent.RECONNECTED
    if connection is None:
        connection = KitConnection(
            user_id=user.id, kit_account_id=account_id, tenant_name=tenant_name
        )
        db.session.add(connection)
        event = ConnectionEvent.CONNECTED
    now = datetime.now(UTC)
    connection.account_name = str(kit_account.get("name") or "")[:255]
    connection.account_email = str(kit_account.get("primary_email_address") or "")[:254]
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token
    connection.expires_at = tokens.expires_at
    connection.token_issued_at = now
    connection.status = KitConnection.ACTIVE
    connection.last_error = None
    connection.events.add(ConnectionEvent(kind=event))
    db.session.commit()
    return connection

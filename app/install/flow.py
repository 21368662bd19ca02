"""The install flow's steps as plain functions: no request, explicit arguments.

`begin_attempt` (the Authorization URL) -> Kit's consent -> `consume_attempt`
and `finish_install` (the callback, which also queues the backfill of the
growth figures); `disconnect_connection` undoes it. Every way to stop short
raises `InstallFailed` with a reason from `failures.py`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update

from app.dashboard import figures
from app.dashboard.data import invalidate
from app.extensions import db
from app.install.failures import InstallFailed
from app.jobs import on_this_app
from app.jobs.figures import backfill_figures
from app.kit import api, oauth
from app.kit.disconnect import disconnect
from app.kit.errors import KitError, OAuthGrantError
from app.kit.oauth import TokenSet
from app.kit.resources import Account
from app.kit.settings import KitSettings
from app.models import ConnectionEvent, KitConnection, OAuthAttempt, User

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
        account = Account.from_kit(api.get(settings, tokens.access_token, "account"))
    except OAuthGrantError:
        raise InstallFailed("grant_refused", back) from None
    except KitError as exc:
        log.warning("Install failed at Kit: %s", type(exc).__name__)
        raise InstallFailed("kit_unavailable", back) from None
    connection = save_connection(user, attempt.tenant_name, tokens, account)
    queue_backfill(connection.id)
    return connection


def queue_backfill(connection_id: int) -> None:
    """Queue the backfill of the connection's last 30 days, so that its first
    overview reads them from the database.

    Without REDIS_URL it runs here and now: one batch of parallel calls. It
    never fails the install: the connection is saved, and the hourly sync (or
    the overview itself) fetches whatever is still missing.
    """
    try:
        on_this_app(backfill_figures).delay(connection_id)
    except Exception:
        db.session.rollback()
        log.exception("Could not queue the backfill of connection %s", connection_id)


def save_connection(
    user: User, tenant_name: str, tokens: TokenSet, account: Account
) -> KitConnection:
    """Create or update the user's connection to this Kit account (and tenant).

    Installing again, or reconnecting after a revoked grant, lands on the same
    row: the Kit account id is the identity, as in Kit's own OmniAuth strategy.
    """
    connection = db.session.scalar(
        select(KitConnection).where(
            KitConnection.user_id == user.id,
            KitConnection.kit_account_id == account.id,
            KitConnection.tenant_name == tenant_name,
        )
    )
    event = ConnectionEvent.RECONNECTED
    if connection is None:
        connection = KitConnection(
            user_id=user.id, kit_account_id=account.id, tenant_name=tenant_name
        )
        db.session.add(connection)
        event = ConnectionEvent.CONNECTED
    now = datetime.now(UTC)
    connection.account_name = account.name[:255]
    connection.account_email = account.primary_email_address[:254]
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token
    connection.expires_at = tokens.expires_at
    connection.token_issued_at = now
    connection.status = KitConnection.ACTIVE
    connection.last_error = None
    connection.events.add(ConnectionEvent(kind=event))
    db.session.commit()
    return connection


def disconnect_connection(connection: KitConnection, settings: KitSettings) -> None:
    """Revoke the grant at Kit and forget the tokens (KitUnavailable: nothing
    changed, try again), then drop the connection's Kit data: its stored
    growth figures and its cached answers.

    The figures go here, with the grant, and not with Reload: they are the
    creator's data, kept only while the app has their permission.
    """
    disconnect(connection.id, settings)
    figures.forget(connection.id)
    invalidate(connection.id)

"""How a refresh that did not bring a usable pair is written on the row.

Kit refused it (`invalid_grant`: the grant is gone, or the pair of an earlier
refresh never reached us), failed it (the tokens stay), or its outcome is
unknown (sent, no answer: Kit may have rotated). Each runs in a short
transaction of its own, after the call to Kit (`app.kit.tokens`).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from app.kit import spool
from app.kit.errors import KitError, KitUnavailable, NeedsReconnect, OAuthGrantError
from app.kit.locking import Claim, live_claim, locked_connection, release_claim_in
from app.models import ConnectionEvent, KitConnection

log = logging.getLogger(__name__)
# What the creator, the history and `flask kit connections` read; both start
# with the words `flask kit doctor` and the tests look for.
UNSETTLED = "Refresh outcome unknown: Kit did not answer; checking on the next request"
LOST = "Refresh outcome unknown: Kit may have issued new keys we never received"


def settle_refusal(connection_id: int, claim: Claim, exc: OAuthGrantError) -> str:
    """Kit refused the refresh: mark the connection only when that refusal is
    about the refresh token the row still holds, and nobody else is at Kit
    with it (their answer decides)."""
    failure: KitError
    with locked_connection(connection_id) as (session, connection):
        ours = release_claim_in(connection, claim)
        if connection.refresh_token != claim.refresh_token:
            # Spent by another worker (our claim had run out) or replaced by a
            # reinstall: the stored pair is newer than the one refused.
            if connection.status == KitConnection.ACTIVE and connection.access_token:
                return connection.access_token
            failure = NeedsReconnect(connection.label)
        elif not ours and live_claim(connection):
            failure = KitUnavailable("Kit refused a refresh; another is under way")
        else:
            failure = refused(session, connection, exc)
    raise failure


def settle_unknown(connection_id: int, claim: Claim, reason: str) -> None:
    """The request reached Kit and no usable answer came back: keep the tokens
    (Kit may not have rotated) and note that it may have (the next refresh
    tries the same token once, and reads a refusal accordingly)."""
    log.warning("Refresh of connection %s: outcome unknown (%s)", connection_id, reason)
    with locked_connection(connection_id) as (session, connection):
        release_claim_in(connection, claim)
        if connection.refresh_token == claim.refresh_token:
            note_unsettled(session, connection, UNSETTLED)


def note_unsettled(session: Session, connection: KitConnection, reason: str) -> None:
    if connection.refresh_token:
        connection.unsettled_refresh = spool.token_hash(connection.refresh_token)
        record_failure(session, connection, reason)


def settle_failure(connection_id: int, claim: Claim, reason: str) -> None:
    """Kit did not answer usefully: release the claim, note the failure, keep
    the tokens (Kit did not take the refresh token, or we cannot know)."""
    with locked_connection(connection_id) as (session, connection):
        if release_claim_in(connection, claim):
            record_failure(session, connection, reason)


def refused(
    session: Session, connection: KitConnection, exc: OAuthGrantError
) -> KitError:
    if exc.error == "invalid_grant":
        if connection.refresh_outcome_unknown:
            # Kit may have rotated this token in a call whose answer we never
            # got: a lost pair, as likely as a revoked grant. Reconnecting is
            # the only way back either way; the creator is not blamed.
            log.error(
                "Connection %s needs reconnecting: refresh outcome unknown",
                connection.id,
            )
            mark_needs_reconnect_in(session, connection, LOST)
            return NeedsReconnect(connection.label)
        log.warning("Connection %s needs reconnecting: refresh refused", connection.id)
        mark_needs_reconnect_in(
            session, connection, "Kit refused the refresh token (invalid_grant)"
        )
        return NeedsReconnect(connection.label)
    # invalid_client & co: our configuration, not the creator's grant.
    log.error("Kit refused a refresh of connection %s: %s", connection.id, exc.error)
    record_failure(session, connection, f"Kit refused the refresh ({exc.error[:40]})")
    return KitUnavailable(f"Kit refused the refresh ({exc.error})")


def record_failure(session: Session, connection: KitConnection, reason: str) -> None:
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
    """Only for the token endpoint's `invalid_grant`: the one proof that the
    grant is gone."""
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

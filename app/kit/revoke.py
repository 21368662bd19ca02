"""Revoke a connection's grant at Kit, then forget its tokens: Kit's part of a
disconnect (the whole disconnect is `app.install.disconnect`).

Claim, commit, call, write, as a refresh does (`app.kit.tokens`): the claim
keeps a refresh from spending the refresh token we are revoking, and no lock or
transaction is held while Kit answers the revoke calls.
"""

from __future__ import annotations

import logging
import time

from app.kit import grants, oauth
from app.kit.errors import KitUnavailable
from app.kit.locking import (
    Claim,
    claim_seconds,
    live_claim,
    locked_connection,
    release_claim,
    release_claim_in,
    take_claim,
    wait_for_claim,
    wait_seconds,
)
from app.kit.settings import KitSettings
from app.kit.tokens import forget_loaded_row
from app.models import ConnectionEvent, KitConnection, RetiredGrant

log = logging.getLogger(__name__)


def revoke_connection(
    connection_id: int, settings: KitSettings, *, retire_if_down: bool = False
) -> bool:
    """Revoke the grant at Kit, then forget the tokens; False when a reinstall
    stored a new grant meanwhile (the connection stays, with it).

    If Kit cannot be reached, nothing changes here (KitUnavailable, or
    RefreshBusy when a refresh in flight outlasts the wait): the creator can
    try again, and the tokens are not left orphaned at Kit. With
    `retire_if_down` (Kit's uninstall notice: the creator cannot try again),
    an unanswered revoke retires the pair for the sweep instead, and the
    connection ends all the same.
    """
    claim = _claim(connection_id, settings)
    access_left = False
    try:
        if claim.refresh_token:
            # Revoking the refresh token ends the grant (and, at Kit, the install).
            oauth.revoke(settings, claim.refresh_token, "refresh_token")
    except KitUnavailable:
        if not retire_if_down:
            release_claim(connection_id, claim)
            raise
        access_left = True  # the whole pair goes to the sweep
    except BaseException:
        release_claim(connection_id, claim)
        raise
    kept = False
    if claim.access_token and not access_left:
        try:
            oauth.revoke(settings, claim.access_token, "access_token")
        except KitUnavailable:
            log.warning(
                "Could not revoke the access token of connection %s; retired, "
                "the sweep revokes it",
                connection_id,
            )
            access_left = True
    with locked_connection(connection_id) as (session, connection):
        release_claim_in(connection, claim)
        if access_left and claim.access_token and claim.refresh_token:
            grants.retire(
                session,
                claim.access_token,
                claim.refresh_token,
                RetiredGrant.ORPHANED,
                connection_id,
                queued=False,
            )
        if connection.refresh_token not in (None, claim.refresh_token):
            # A reinstall stored a new grant while we revoked the old one: the
            # creator connected again, so the new grant stays.
            log.warning(
                "Connection %s got a new grant during its disconnect; kept",
                connection_id,
            )
            kept = True
        else:
            connection.access_token = None
            connection.refresh_token = None
            connection.status = KitConnection.REVOKED
            connection.last_error = None
            session.add(
                ConnectionEvent(
                    connection_id=connection.id, kind=ConnectionEvent.DISCONNECTED
                )
            )
    forget_loaded_row(connection_id)
    if not kept:
        log.info("Disconnected connection %s", connection_id)
    return not kept


def _claim(connection_id: int, settings: KitSettings) -> Claim:
    """Claim the row for the two revoke calls, after any refresh in flight."""
    deadline = time.monotonic() + wait_seconds(settings)
    while True:
        with locked_connection(connection_id) as (_, connection):
            busy = live_claim(connection)
            if busy is None:
                return take_claim(connection, claim_seconds(settings, calls=2))
        wait_for_claim(connection_id, busy, deadline)

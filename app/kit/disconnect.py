"""Disconnect: revoke the grant at Kit, then forget the tokens."""

from __future__ import annotations

import logging

from app.kit import oauth
from app.kit.errors import KitUnavailable
from app.kit.locking import locked_connection
from app.kit.settings import KitSettings
from app.kit.tokens import forget_loaded_row
from app.models import ConnectionEvent, KitConnection

log = logging.getLogger(__name__)


def disconnect(connection_id: int, settings: KitSettings) -> None:
    """Revoke the grant at Kit, then forget the tokens.

    If Kit cannot be reached, nothing changes here (KitUnavailable): the
    creator can try again, and the tokens are not left orphaned at Kit.
    """
    with locked_connection(connection_id) as (session, connection):
        if connection.refresh_token:
            # Revoking the refresh token ends the grant (and, at Kit, the install).
            oauth.revoke(settings, connection.refresh_token, "refresh_token")
        if connection.access_token:
            try:
                oauth.revoke(settings, connection.access_token, "access_token")
            except KitUnavailable:
                log.warning(
                    "Could not revoke the access token of connection %s", connection_id
                )
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
    log.info("Disconnected connection %s", connection_id)

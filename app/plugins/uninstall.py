"""Kit's uninstall notice: when a creator uninstalls the app, Kit POSTs the
plugin revoke URL with one of the tokens it holds (KIT_PLATFORM.md §8).

The grant ends (every plugin token with it), and its connection ends the way
a disconnect ends it (`app.install.disconnect`: the API grant revoked at
Kit, the tokens forgotten, the stored Kit data and the webhook endpoint's
secret dropped, so the jobs pass it by), marked "Uninstalled at Kit".
Idempotent: a grant already ended changes nothing.
"""

from __future__ import annotations

import logging

from flask import current_app

from app.extensions import db
from app.install.disconnect import disconnect_connection
from app.kit.errors import KitError
from app.models import ConnectionEvent, KitConnection, PluginGrant, utcnow
from app.plugins.server import revoke_grant

log = logging.getLogger(__name__)


def uninstall(grant: PluginGrant) -> None:
    if grant.revoked_at is not None:
        # Already uninstalled, or replaced by a reinstall: a replaced grant's
        # revoke must not end the connection the new grant serves.
        return
    connection = grant.connection
    revoke_grant(grant, PluginGrant.UNINSTALLED)
    if connection is not None:
        uninstall_connection(connection)


def uninstall_connection(connection: KitConnection) -> None:
    connection.uninstalled_at = utcnow()
    connection.events.add(ConnectionEvent(kind=ConnectionEvent.UNINSTALLED))
    db.session.commit()
    log.info("Kit says connection %s uninstalled the app", connection.id)
    if connection.status == KitConnection.REVOKED:
        return  # disconnected in the app before: nothing left to revoke
    try:
        disconnect_connection(
            connection, current_app.extensions["kit_settings"], retire_if_down=True
        )
    except KitError as exc:
        # A refresh in flight outlasted the wait (RefreshBusy): Kit is told
        # 200 all the same; the page says "Uninstalled at Kit" and offers
        # Disconnect, which tries again.
        log.warning(
            "Connection %s uninstalled at Kit, its revoke failed: %s",
            connection.id,
            type(exc).__name__,
        )

"""Disconnect: revoke the grant at Kit, forget the tokens, then drop the
connection's Kit data. The routes are `install.confirm_disconnect` and
`install.disconnect` (views.py); Kit's part, under the refresh claim, is
`app.kit.revoke`.
"""

from __future__ import annotations

from app import stored_days
from app.kit.revoke import revoke_connection
from app.kit.settings import KitSettings
from app.kit_cache import invalidate
from app.models import KitConnection
from app.webhooks import store as webhook_store


def disconnect_connection(
    connection: KitConnection, settings: KitSettings, *, retire_if_down: bool = False
) -> None:
    """Revoke the grant and forget the tokens (KitUnavailable: nothing changed,
    try again), then drop the connection's Kit data: its stored growth
    figures and webhook events, the endpoint's secret (the row stays, so a
    late delivery gets 410), and its cached answers.

    The revoke comes first, and until it succeeded nothing is touched: the
    webhook endpoint at Kit stays registered and delivering, so a disconnect
    that fails loses no event. Kit's advice is the other order (delete the
    endpoint while the token can), but then a failed revoke leaves the
    connection active with its events gone for good. Once revoked, the grant
    cannot delete the endpoint: the row keeps its Kit id, deliveries to it
    are answered 410 (stored nowhere), and the next grant for the account
    deletes it (`register_endpoint`). The figures and events go here, with
    the grant, and not with Reload: they are the creator's data, kept only
    while the app has their permission.

    `retire_if_down`: Kit's uninstall notice (app/plugins/uninstall.py) ends
    the connection even when Kit does not answer the revoke; the pair is
    retired, and the sweep revokes it later (`app.kit.revoke`).
    """
    if not revoke_connection(connection.id, settings, retire_if_down=retire_if_down):
        return  # a reinstall stored a new grant meanwhile: its data stays
    stored_days.forget(connection.id)
    webhook_store.forget(connection.id)
    invalidate(connection.id)

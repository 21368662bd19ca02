"""Disconnect: revoke the grant at Kit, forget the tokens, then drop the
connection's Kit data. The routes are `install.confirm_disconnect` and
`install.disconnect` (views.py); Kit's part, under the refresh claim, is
`app.kit.revoke`.
"""

from __future__ import annotations

from app import stored_days
from app.jobs import enqueue
from app.kit.errors import KitError
from app.kit.revoke import revoke_connection
from app.kit.settings import KitSettings
from app.kit_cache import invalidate
from app.models import KitConnection
from app.webhooks import legacy_rules
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

    The legacy webhook rules are the exception: they are deleted at Kit
    before the revoke, while the grant can (`legacy_rules.delete_at_kit`;
    Kit unreachable: nothing revoked, try again). Unlike the 2.0 endpoint,
    a legacy rule left at Kit is never told it is gone (410 stops nothing
    documented) and Kit would keep POSTing subscriber addresses to the app
    for as long as the creator stays away. If the revoke then fails, the
    rules are created again: only the legacy events of those seconds are
    lost.

    `retire_if_down`: Kit's uninstall notice (app/plugins/uninstall.py) ends
    the connection even when Kit does not answer: rules Kit could not delete
    stay there and get 410 here; the pair is retired, and the sweep revokes
    it later (`app.kit.revoke`).
    """
    try:
        legacy_rules.delete_at_kit(connection.id)
    except KitError:
        if not retire_if_down:
            raise
    try:
        revoked = revoke_connection(
            connection.id, settings, retire_if_down=retire_if_down
        )
    except KitError:
        _restore_legacy_rules(connection.id)
        raise
    if not revoked:
        _restore_legacy_rules(connection.id)
        return  # a reinstall stored a new grant meanwhile: its data stays
    stored_days.forget(connection.id)
    webhook_store.forget(connection.id)
    legacy_rules.forget(connection.id)
    invalidate(connection.id)


def _restore_legacy_rules(connection_id: int) -> None:
    """The connection stays: its legacy rules, deleted at Kit before the
    revoke, are created again (now, or by the hourly upkeep)."""
    enqueue(
        legacy_rules.register_legacy_rules,
        connection_id,
        about=f"the legacy webhooks of connection {connection_id}",
    )

"""A kind of event switched off in the App settings is not kept when it
comes through the legacy webhooks either (purchases, link clicks, and the
subscriber events where Webhooks 2.0 is off), and the settings page lists
the legacy kinds beside the others."""

from __future__ import annotations

from app.creator_data.kinds import kinds, set_not_kept
from app.extensions import db
from app.models import KitConnection
from tests.support.rows import add_connection
from tests.support.webhooks import stored_events
from tests.test_legacy_webhooks import CLICK, PURCHASE, SHOP, add_rule, post


def test_a_legacy_kind_switched_off_is_acknowledged_and_not_kept(app, client):
    add_connection(app)
    purchases = add_rule(app)
    clicks = add_rule(app, "subscriber.link_click", SHOP)
    with app.app_context():
        set_not_kept(1, {"purchase.purchase_create"})
    assert post(client, purchases, PURCHASE).json == {"received": 1, "stored": 0}
    assert post(client, clicks, CLICK).json == {"received": 1, "stored": 1}
    assert [row.type for row in stored_events(app)] == ["subscriber.link_click"]

    with app.app_context():
        set_not_kept(1, set())  # back on
    assert post(client, purchases, PURCHASE).json == {"received": 1, "stored": 1}


def test_the_settings_list_the_legacy_kinds_with_their_feed_words(app):
    add_connection(app)
    with app.app_context():
        set_not_kept(1, {"subscriber.link_click"})
        connection = db.session.get(KitConnection, 1)
        listed = {kind.type: (kind.label, kind.kept) for kind in kinds(connection)}
    assert listed["purchase.purchase_create"] == ("Purchases", True)
    assert listed["subscriber.link_click"] == ("Link clicks", False)
    assert listed["subscriber.tag_added"][1] is True

"""What reaches `POST /webhooks/kit/<key>` around a disconnect, and keys that
are not ours: nothing is stored for a connection disconnected when the insert
commits, and a key of the wrong shape is a 404 before any query (a NUL is a
500 on PostgreSQL otherwise). Runs on PostgreSQL too with TEST_DATABASE_URL.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app.extensions import db
from app.models import KitConnection
from app.webhooks import store
from tests.support.rows import add_connection, set_stored
from tests.support.webhooks import (
    add_endpoint,
    delivery_body,
    kit_event,
    kit_signature,
    stored_events,
)

SECRET = "whsec-current"


@pytest.fixture
def key(app) -> str:
    add_connection(app)
    return add_endpoint(app, 1, SECRET, key="k" * 32)


def test_a_delivery_checked_before_a_disconnect_is_not_stored_after_it(app, key):
    """The receiver found the endpoint live; the creator disconnected before
    the events were written: the write refuses them (the check is inside the
    inserting transaction)."""
    delivery = store.parse_delivery(delivery_body([kit_event()]))
    with app.app_context():
        found = store.receiver(key, datetime.now(UTC))
        assert found is not None and not found.gone
        db.session.commit()
    # The disconnect, as app.install.disconnect does it: the grant, then the data.
    set_stored(app, 1, status=KitConnection.REVOKED, access_token=None)
    with app.app_context():
        store.forget(1)
        assert store.store_delivery(found.id, found.connection_id, delivery) is None
    assert stored_events(app) == []


def test_a_delivery_racing_the_status_alone_is_not_stored(app, key):
    """Revoked but not yet forgotten (the disconnect is between its two
    steps): still nothing stored."""
    delivery = store.parse_delivery(delivery_body([kit_event()]))
    with app.app_context():
        found = store.receiver(key, datetime.now(UTC))
        db.session.commit()
    assert found is not None
    set_stored(app, 1, status=KitConnection.REVOKED)
    with app.app_context():
        assert store.store_delivery(found.id, found.connection_id, delivery) is None
    assert stored_events(app) == []


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="PostgreSQL only: set TEST_DATABASE_URL (.ci/run does)",
)
def test_a_delivery_waits_for_a_disconnect_in_flight_and_stores_nothing(app, key):
    """PostgreSQL: the disconnect holds the connection's row (FOR UPDATE) and
    has revoked it, not yet committed. The delivery's one statement waits on
    that row, then sees it revoked: nothing stored. Without the row lock it
    would read the status from before and insert events the disconnect has
    already deleted."""
    delivery = store.parse_delivery(delivery_body([kit_event()]))
    with app.app_context():
        found = store.receiver(key, datetime.now(UTC))
        db.session.commit()
    assert found is not None and not found.gone
    result: dict[str, int | None] = {}

    def deliver() -> None:
        with app.app_context():
            result["stored"] = store.store_delivery(
                found.id, found.connection_id, delivery
            )

    with app.app_context(), db.engine.connect() as disconnect:
        disconnect.execute(
            text("SELECT id FROM kit_connections WHERE id = 1 FOR UPDATE")
        )
        disconnect.execute(
            text("UPDATE kit_connections SET status = 'revoked' WHERE id = 1")
        )
        writer = threading.Thread(target=deliver)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive(), result  # waiting on the row, not done
        disconnect.commit()
    writer.join(10)
    assert result == {"stored": None}
    assert stored_events(app) == []


def test_a_live_delivery_is_still_stored(app, client, key):
    body = delivery_body([kit_event()])
    answer = client.post(
        f"/webhooks/kit/{key}",
        data=body,
        headers={"X-Kit-Signature": kit_signature(body, [SECRET])},
        content_type="application/json",
    )
    assert answer.json == {"received": 1, "stored": 1}


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/kit/%00",
        "/webhooks/kit/abc%00def",
        "/webhooks/kit/" + "k" * 31 + "%00",
        "/webhooks/kit/%C3%A9t%C3%A9",
        "/webhooks/kit/a%0d%0ab",
        "/webhooks/kit/a%20b",
        "/webhooks/kit/%ED%A0%80",  # a lone surrogate, UTF-8 encoded
        "/webhooks/kit/" + "k" * 65,
        "/webhooks/kit/a.b",
    ],
)
def test_a_key_of_the_wrong_shape_is_404(app, client, key, path):
    body = delivery_body([kit_event()])
    answer = client.post(
        path,
        data=body,
        headers={"X-Kit-Signature": kit_signature(body, [SECRET])},
        content_type="application/json",
    )
    assert answer.status_code == 404, answer.text
    assert answer.json == {"error": "unknown endpoint"}
    assert stored_events(app) == []

"""When an endpoint last received a delivery (`flask kit webhooks status`
shows it) is kept to the minute: a burst of deliveries notes it once, not once
each, and a delivery a minute later moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import WebhookEndpoint
from tests.support.rows import add_connection
from tests.support.webhooks import (
    add_endpoint,
    delivery_body,
    endpoint_of,
    kit_event,
    kit_signature,
    stored_events,
)

SECRET = "whsec-noted"


def deliver(client, key: str, n: int):  # type: ignore[no-untyped-def]
    body = delivery_body([kit_event(email=f"n{n}@example.com")], delivery_id=n)
    return client.post(
        f"/webhooks/kit/{key}",
        data=body,
        headers={"X-Kit-Signature": kit_signature(body, [SECRET])},
        content_type="application/json",
    )


def noted(app) -> datetime | None:  # type: ignore[no-untyped-def]
    endpoint = endpoint_of(app, 1)
    assert endpoint is not None
    return endpoint.last_delivery_at


def test_the_last_delivery_is_noted_once_a_minute(app, client):
    add_connection(app)
    key = add_endpoint(app, 1, SECRET)
    assert noted(app) is None

    assert deliver(client, key, 1).status_code == 200
    first = noted(app)
    assert first is not None

    assert deliver(client, key, 2).status_code == 200
    assert noted(app) == first  # within the minute: it stands
    assert len(stored_events(app)) == 2  # the events are stored all the same

    earlier = datetime.now(UTC) - timedelta(minutes=2)
    with app.app_context():
        db.session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.connection_id == 1)
            .values(last_delivery_at=earlier)
        )
        db.session.commit()
    assert deliver(client, key, 3).status_code == 200
    latest = noted(app)
    assert latest is not None and latest > earlier + timedelta(minutes=1)

"""Receiving Kit's deliveries: `POST /webhooks/kit/<key>`.

Signed as Kit signs (tests.support.webhooks.kit_signature, written from KIT_PLATFORM.md
5a rather than from the app's code); every refusal is a 4xx and stores
nothing; every event is stored once, however often and however concurrently
it is delivered. Runs on PostgreSQL too with TEST_DATABASE_URL.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from app.extensions import db
from app.models import WebhookEndpoint
from tests.support.rows import add_connection, set_stored
from tests.support.webhooks import (
    add_endpoint,
    delivery_body,
    endpoint_of,
    kit_event,
    kit_signature,
    stored_events,
)

SECRET = "whsec-current"


@pytest.fixture
def key(app) -> str:
    """Connection 1 with an active endpoint signed with SECRET."""
    add_connection(app)
    return add_endpoint(app, 1, SECRET)


def deliver(client, key, body, signature=None, **headers):  # type: ignore[no-untyped-def]
    if signature is None:
        signature = kit_signature(body, [SECRET])
    if signature:
        headers["X-Kit-Signature"] = signature
    return client.post(
        f"/webhooks/kit/{key}",
        data=body,
        headers=headers,
        content_type=headers.pop("content_type", "application/json"),
    )


def test_a_signed_delivery_is_stored_and_acknowledged(app, client, key):
    events = [
        kit_event(
            "subscriber.tag_added", "ada@example.com", tag={"id": 3, "name": "VIP"}
        ),
        kit_event(
            "subscriber.subscribed_to_form",
            "bo@example.com",
            form={"id": 9, "name": "Newsletter"},
        ),
    ]
    answer = deliver(client, key, delivery_body(events, delivery_id=77))
    assert answer.status_code == 200, answer.text
    assert answer.json == {"received": 2, "stored": 2}

    rows = stored_events(app, 1)
    assert [(r.event_id, r.type, r.subscriber_email, r.subject) for r in rows] == [
        (events[0]["id"], "subscriber.tag_added", "ada@example.com", "VIP"),
        (
            events[1]["id"],
            "subscriber.subscribed_to_form",
            "bo@example.com",
            "Newsletter",
        ),
    ]
    assert {r.delivery_id for r in rows} == {77}
    assert json.loads(rows[0].data)["tag"] == {"id": 3, "name": "VIP"}
    assert endpoint_of(app).last_delivery_at is not None


def test_a_redelivery_is_stored_once(app, client, key):
    body = delivery_body([kit_event(), kit_event()])
    assert deliver(client, key, body).json == {"received": 2, "stored": 2}
    # Kit's retry: same delivery and events, signed again later.
    again = deliver(
        client, key, body, kit_signature(body, [SECRET], int(time.time()) + 5)
    )
    assert again.status_code == 200
    assert again.json == {"received": 2, "stored": 0}
    assert len(stored_events(app)) == 2


def test_a_batch_of_100_events_is_stored_completely(app, client, key):
    events = [
        kit_event("subscriber.tag_added", f"s{n}@example.com") for n in range(100)
    ]
    answer = deliver(client, key, delivery_body(events))
    assert answer.json == {"received": 100, "stored": 100}
    assert sorted(r.event_id for r in stored_events(app)) == sorted(
        e["id"] for e in events
    )


def test_concurrent_redeliveries_store_each_event_once(app, key):
    """Eight workers receive the same delivery at once (Kit retrying while the
    first attempt is still being answered): one row per event, and the
    answers' `stored` add up to the events."""
    events = [kit_event(email=f"r{n}@example.com") for n in range(20)]
    body = delivery_body(events)

    def one(_: int):  # type: ignore[no-untyped-def]
        return deliver(app.test_client(), key, body)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert sum(a.json["stored"] for a in answers) == 20
    assert len(stored_events(app)) == 20


def now() -> int:
    return int(time.time())


REFUSED = {
    "forged": lambda body: kit_signature(body, ["not-the-secret"]),
    "stale": lambda body: kit_signature(body, [SECRET], now() - 301),
    "future": lambda body: kit_signature(body, [SECRET], now() + 301),
    "unsigned": lambda body: "",
    "other body": lambda body: kit_signature(body + b" ", [SECRET]),
    "no v1": lambda body: f"t={now()}",
    "no t": lambda body: kit_signature(body, [SECRET]).split(",", 1)[1],
    "two t": lambda body: f"t={now()}," + kit_signature(body, [SECRET]),
    "upper hex": lambda body: kit_signature(body, [SECRET]).upper().replace("T=", "t="),
    "v0 scheme": lambda body: kit_signature(body, [SECRET]).replace("v1=", "v0="),
    "short v1": lambda body: kit_signature(body, [SECRET])[:-2],
    "float t": lambda body: kit_signature(body, [SECRET]).replace(",", ".0,", 1),
}


@pytest.mark.parametrize("how", REFUSED)
def test_a_delivery_not_signed_by_kit_is_refused_and_not_stored(app, client, key, how):
    body = delivery_body([kit_event()])
    answer = deliver(client, key, body, REFUSED[how](body))
    assert answer.status_code == 401, answer.text
    assert stored_events(app) == []
    assert endpoint_of(app).last_delivery_at is None


def test_another_connections_endpoint_and_secret_do_not_cross(app, client, key):
    """Connection 2's secret does not sign for connection 1's key, and what is
    signed for connection 2 is stored for connection 2 only."""
    add_connection(app, "other@example.com")
    other_key = add_endpoint(app, 2, "whsec-other")
    body = delivery_body([kit_event()])
    signed_by_other = kit_signature(body, ["whsec-other"])
    assert deliver(client, key, body, signed_by_other).status_code == 401
    assert stored_events(app) == []
    assert deliver(client, other_key, body, signed_by_other).status_code == 200
    assert [r.connection_id for r in stored_events(app)] == [2]


BAD_BODIES = {
    "not json": b"{nope",
    "a list": b"[]",
    "no delivery id": json.dumps({"events": [kit_event()]}).encode(),
    "string delivery id": json.dumps(
        {"delivery_id": "1", "events": [kit_event()]}
    ).encode(),
    "bool delivery id": json.dumps(
        {"delivery_id": True, "events": [kit_event()]}
    ).encode(),
    "huge delivery id": json.dumps(
        {"delivery_id": 2**64, "events": [kit_event()]}
    ).encode(),
    "no events": delivery_body([]),
    "101 events": delivery_body([kit_event() for _ in range(101)]),
    "event not an object": delivery_body(["x"]),  # type: ignore[list-item]
    "id too long": delivery_body([kit_event(event_id="a" * 65)]),
    "id with NUL": delivery_body([kit_event(event_id="a\x00b")]),
    "id a number": delivery_body([kit_event() | {"id": 5}]),
    "no type": delivery_body([{k: v for k, v in kit_event().items() if k != "type"}]),
    "created not a date": delivery_body([kit_event() | {"created": "yesterday"}]),
    "data a list": delivery_body([kit_event() | {"data": []}]),
    "one bad among good": delivery_body([kit_event(), kit_event() | {"data": None}]),
}


@pytest.mark.parametrize("name", BAD_BODIES)
def test_a_signed_body_that_is_not_a_delivery_is_refused(app, client, key, name):
    answer = deliver(client, key, BAD_BODIES[name])
    assert answer.status_code == 400, answer.text
    assert stored_events(app) == []
    assert endpoint_of(app).last_delivery_at is None


def test_unknown_keys_are_404_and_bodies_are_bounded(app, client, key):
    body = delivery_body([kit_event()])
    assert deliver(client, "no-such-key", body).status_code == 404
    assert deliver(client, "k" * 5000, body).status_code == 404
    huge = delivery_body([kit_event(email="x" * (1024 * 1024))])
    assert deliver(client, key, huge).status_code == 413
    assert deliver(client, key, body, content_type="text/plain").status_code == 415
    assert stored_events(app) == []


def test_rotation_window_accepts_both_secrets_then_only_the_new(app, client):
    add_connection(app)
    key = add_endpoint(
        app,
        1,
        "whsec-new",
        previous_secret=SECRET,
        previous_secret_expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    for secrets in (["whsec-new"], [SECRET], ["whsec-new", SECRET]):
        body = delivery_body([kit_event()])
        assert (
            deliver(client, key, body, kit_signature(body, secrets)).status_code == 200
        )

    # The window closes.
    with app.app_context():
        db.session.execute(
            update(WebhookEndpoint).values(
                previous_secret_expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        )
        db.session.commit()
    body = delivery_body([kit_event()])
    assert deliver(client, key, body, kit_signature(body, [SECRET])).status_code == 401
    assert (
        deliver(client, key, body, kit_signature(body, ["whsec-new"])).status_code
        == 200
    )
    assert len(stored_events(app)) == 4


def test_a_delivery_for_a_disconnected_connection_is_gone(app, client, key):
    set_stored(app, 1, status="revoked")
    body = delivery_body([kit_event()])
    assert deliver(client, key, body).status_code == 410
    assert stored_events(app) == []


# --- anything a client can send: never a 5xx -------------------------------------

text = st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4)
    ),
    max_leaves=12,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(text, st.integers(), st.just("a" * 64)),
        "type": st.one_of(text, st.sampled_from(["subscriber.created", "x.y", ""])),
        "created": st.one_of(
            text,
            st.datetimes().map(lambda d: d.isoformat()),
            st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-12:00"]),
        ),
        "data": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"subscriber": st.fixed_dictionaries({"email_address": json_values})},
                optional={"tag": st.fixed_dictionaries({"name": json_values})},
            ),
        ),
    },
)
deliveries = st.fixed_dictionaries(
    {},
    optional={
        "delivery_id": st.one_of(st.integers(), text, st.booleans()),
        "events": st.one_of(json_values, st.lists(events, max_size=5)),
    },
).map(lambda d: json.dumps(d).encode())
bodies = st.one_of(
    st.binary(max_size=200),
    deliveries,
    json_values.map(lambda v: json.dumps(v).encode()),
)
signatures = st.one_of(
    st.just("sign"),
    st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=40),
    st.builds(lambda t: f"t={t},v1={'0' * 64}", st.integers()),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies,
    signature=signatures,
    content_type=st.sampled_from(
        ["application/json", "", "text/plain", "application/json; charset=utf-8"]
    ),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "X-Kit-Delivery",
                "Content-Encoding",
                "Transfer-Encoding",
                "X-Kit-Signature",
            ]
        ),
        st.text(
            alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30
        ),
        max_size=2,
    ),
)
def test_no_input_gets_a_5xx(app, key, body, signature, content_type, extra):
    client = app.test_client()
    header = kit_signature(body, [SECRET]) if signature == "sign" else signature
    headers = {"X-Kit-Signature": header, **extra}
    if extra.get("Transfer-Encoding"):
        headers.pop("Transfer-Encoding")  # werkzeug's test client sets its own
    answer = client.post(
        f"/webhooks/kit/{key}", data=body, headers=headers, content_type=content_type
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code == 200:
        assert answer.json["received"] >= answer.json["stored"] >= 0

"""Each connection's webhook endpoint at Kit, against the sandbox over HTTP:
registered at install, "not enabled" accounts (Kit's 404) that still install,
the upkeep that repairs a deleted or disabled endpoint, the disconnect that
revokes first and leaves the endpoint to the next grant, the prune, and a real
signed delivery from the sandbox stored by a live app.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import text, update

from app.extensions import db
from app.models import WebhookEndpoint
from app.webhooks.feed import EVENTS
from app.webhooks.tasks import (
    check_webhook_endpoints,
    prune_webhook_events,
    register_endpoint,
)
from tests.support.accounts import signed_in
from tests.support.installing import first_account, install, kit_redirect
from tests.support.rows import stored
from tests.support.webhooks import (
    add_events,
    delivery_body,
    endpoint_of,
    kit_event,
    kit_signature,
    stored_events,
)


def kit_endpoints(kit):  # type: ignore[no-untyped-def]
    """The endpoints the sandbox holds, by id."""
    with kit.state.lock:
        return dict(kit.state.webhooks.endpoints)


def webhook_calls(kit) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    return [
        (entry["method"], entry["path"], entry["status"])
        for entry in kit.state.api_requests
        if "/webhook_endpoints" in entry["path"]
    ]


def run(app, task, *args, **kwargs):  # type: ignore[no-untyped-def]
    with app.app_context():
        return task(*args, **kwargs)


def test_install_registers_an_endpoint_with_its_secret_encrypted(
    make_app, kit, kit_browser
):
    app = make_app(PUBLIC_BASE_URL=None)  # the default, not the tests' discard port
    client = app.test_client()
    signed_in(client)
    assert install(client, kit_browser).status_code == 302
    row = endpoint_of(app)
    assert row is not None and row.status == "active"
    [at_kit] = kit_endpoints(kit).values()
    assert str(at_kit.id) == row.kit_endpoint_id
    # No PUBLIC_BASE_URL nor KIT_REDIRECT_URI: development's `flask kit dev` origin.
    assert at_kit.url == f"http://127.0.0.1:5000/webhooks/kit/{row.key}"
    assert set(at_kit.events) == set(EVENTS)
    assert at_kit.status == "active"
    assert row.secret == at_kit.secret  # decrypted by the model
    with app.app_context():
        raw = db.session.execute(text("SELECT secret FROM webhook_endpoints")).scalar()
    assert raw and at_kit.secret not in raw  # stored encrypted

    # Installing again keeps the one endpoint: checked, not duplicated.
    assert install(client, kit_browser).status_code == 302
    assert list(kit_endpoints(kit)) == [at_kit.id]
    assert endpoint_of(app).kit_endpoint_id == row.kit_endpoint_id


def test_an_account_without_webhooks_installs_and_is_not_asked_again_today(
    app, client, kit, kit_browser
):
    kit.state.webhooks.set_enabled(first_account(kit).id, False)
    signed_in(client)
    done = install(client, kit_browser, redirect=kit_redirect(kit))
    assert done.status_code == 302
    assert done.location == kit_redirect(kit)  # the install completed
    assert stored(app).status == "active"
    assert endpoint_of(app).status == "unavailable"
    assert webhook_calls(kit) == [("POST", "/v4/webhook_endpoints", 404)]

    assert run(app, check_webhook_endpoints) == 1
    assert endpoint_of(app).status == "unavailable"
    assert len(webhook_calls(kit)) == 1  # not asked again within the day

    # A day later, with webhooks enabled meanwhile, the upkeep registers it.
    kit.state.webhooks.set_enabled(first_account(kit).id, True)
    with app.app_context():
        db.session.execute(
            update(WebhookEndpoint).values(
                checked_at=datetime.now(UTC) - timedelta(days=1, minutes=1)
            )
        )
        db.session.commit()
    run(app, check_webhook_endpoints)
    assert endpoint_of(app).status == "active"
    assert len(kit_endpoints(kit)) == 1


def test_kit_down_at_registration_leaves_it_failed_and_the_upkeep_retries(
    app, client, kit, kit_browser
):
    signed_in(client)
    install(client, kit_browser)
    [first] = kit_endpoints(kit)
    kit.state.webhooks.delete_endpoint(kit_endpoints(kit)[first])
    kit.state.add_fault("api", "500", times=10)
    assert run(app, register_endpoint, 1) == "failed"
    assert endpoint_of(app).last_error == "KitUnavailable"
    kit.state.clear_faults()

    assert run(app, register_endpoint, 1) == "active"
    [again] = kit_endpoints(kit).values()
    row = endpoint_of(app)
    assert (row.kit_endpoint_id, row.secret) == (str(again.id), again.secret)


def test_upkeep_recreates_a_deleted_endpoint_and_enables_a_disabled_one(
    app, client, kit, kit_browser
):
    signed_in(client)
    install(client, kit_browser)
    before = endpoint_of(app)
    hub = kit.state.webhooks

    hub.set_status(kit_endpoints(kit)[int(before.kit_endpoint_id)], "disabled")
    assert run(app, check_webhook_endpoints) == 1
    [same] = kit_endpoints(kit).values()
    assert (str(same.id), same.status) == (before.kit_endpoint_id, "active")
    assert endpoint_of(app).secret == before.secret
    assert ("PATCH", f"/v4/webhook_endpoints/{same.id}", 200) in webhook_calls(kit)

    hub.delete_endpoint(same)
    run(app, check_webhook_endpoints)
    [new] = kit_endpoints(kit).values()
    after = endpoint_of(app)
    assert new.id != same.id
    assert (after.status, after.kit_endpoint_id) == ("active", str(new.id))
    assert after.secret == new.secret != before.secret
    assert new.url.endswith(f"/webhooks/kit/{after.key}")


def test_disconnect_revokes_then_forgets_events_and_the_next_grant_deletes_the_endpoint(
    app, client, kit, kit_browser
):
    signed_in(client)
    install(client, kit_browser)
    row = endpoint_of(app)
    body = delivery_body([kit_event()])
    signed = kit_signature(body, [row.secret])
    url = f"/webhooks/kit/{row.key}"
    assert client.post(url, data=body, headers={"X-Kit-Signature": signed}).json == {
        "received": 1,
        "stored": 1,
    }

    # Kit cannot revoke: nothing changes, the endpoint is not touched.
    kit.state.add_fault("revoke", "500")
    assert client.post("/connections/1/disconnect").status_code == 503
    assert stored(app).status == "active"
    assert len(kit_endpoints(kit)) == 1
    assert len(stored_events(app)) == 1
    assert not [c for c in webhook_calls(kit) if c[0] == "DELETE"]

    assert client.post("/connections/1/disconnect").status_code == 302
    # The revoked grant cannot delete the endpoint: it stays at Kit, and the
    # row keeps its id to delete it with the next grant.
    assert list(kit_endpoints(kit)) == [int(row.kit_endpoint_id)]
    gone = endpoint_of(app)
    assert (gone.status, gone.secret, gone.kit_endpoint_id) == (
        "gone",
        None,
        row.kit_endpoint_id,
    )
    assert stored_events(app) == []

    late = client.post(url, data=body, headers={"X-Kit-Signature": signed})
    assert late.status_code == 410
    assert stored_events(app) == []

    # Reconnecting deletes the leftover and registers anew, under a new key.
    install(client, kit_browser)
    again = endpoint_of(app)
    assert again.status == "active" and again.key != row.key
    assert ("DELETE", f"/v4/webhook_endpoints/{row.kit_endpoint_id}", 204) in (
        webhook_calls(kit)
    )
    assert [str(e) for e in kit_endpoints(kit)] == [again.kit_endpoint_id]
    assert (
        client.post(url, data=body, headers={"X-Kit-Signature": signed}).status_code
        == 404
    )


def test_disconnect_when_the_endpoint_is_already_gone_at_kit(
    app, client, kit, kit_browser
):
    signed_in(client)
    install(client, kit_browser)
    [endpoint] = kit_endpoints(kit).values()
    kit.state.webhooks.delete_endpoint(endpoint)
    assert client.post("/connections/1/disconnect").status_code == 302
    assert stored(app).status == "revoked"
    assert endpoint_of(app).status == "gone"


def test_prune_deletes_events_received_before_the_kept_days(make_app, kit):
    app = make_app(WEBHOOK_EVENTS_KEPT_DAYS=30)
    from tests.support.rows import add_connection

    add_connection(app)
    old = datetime.now(UTC) - timedelta(days=30, minutes=1)
    add_events(
        app,
        [
            {"event_id": "old", "received_at": old},
            {"event_id": "recent", "received_at": old + timedelta(minutes=2)},
        ],
    )
    assert run(app, prune_webhook_events) == 1
    assert [e.event_id for e in stored_events(app)] == ["recent"]


def test_a_live_app_stores_the_sandboxs_signed_delivery(served_app, kit, kit_browser):
    """End to end: an API write at Kit emits an event, the sandbox delivers it
    signed to the app over HTTP, the app stores it."""
    app, client = served_app, served_app.test_client()
    signed_in(client)
    install(client, kit_browser)
    row = endpoint_of(app)
    assert row.status == "active"
    [at_kit] = kit_endpoints(kit).values()
    assert at_kit.url == f"{app.config['PUBLIC_BASE_URL']}/webhooks/kit/{row.key}"

    made = requests.post(
        f"{kit.url}/v4/subscribers",
        json={"email_address": "live@example.com", "first_name": "Live"},
        headers={"Authorization": f"Bearer {stored(app).access_token}"},
        timeout=5,
    )
    assert made.status_code == 201, made.text
    kit.state.webhooks.flush(timeout=10)
    deadline = time.monotonic() + 10
    while not stored_events(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    [event] = stored_events(app)
    assert (event.type, event.subscriber_email) == (
        "subscriber.created",
        "live@example.com",
    )
    [delivery] = kit.state.webhooks.deliveries.values()
    assert delivery.status == "succeeded"
    assert event.delivery_id == delivery.id

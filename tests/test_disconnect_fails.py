"""A disconnect whose revoke fails leaves the creator exactly as before, webhook
events included; one whose revoke succeeds leaves the endpoint at Kit marked
for deletion, done with the next grant for the same account.

Against the sandbox over HTTP, with a live app (`served_app`) so the sandbox
really delivers.
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.accounts import signed_in
from tests.support.installing import install
from tests.support.rows import stored
from tests.support.webhooks import endpoint_of, stored_events


def kit_endpoints(kit):  # type: ignore[no-untyped-def]
    with kit.state.lock:
        return dict(kit.state.webhooks.endpoints)


def emit_subscriber(kit, access_token: str, email: str) -> None:  # type: ignore[no-untyped-def]
    """An API write at Kit, which emits `subscriber.created` to the endpoints."""
    made = requests.post(
        f"{kit.url}/v4/subscribers",
        json={"email_address": email, "first_name": "Live"},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    )
    assert made.status_code == 201, made.text
    kit.state.webhooks.flush(timeout=10)


def wait_for_events(app, count: int) -> list:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while len(stored_events(app)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return stored_events(app)


@pytest.fixture
def short_timeouts(kit):  # type: ignore[no-untyped-def]
    """The sandbox's "timeout" fault answers after 3 s (the app gives up at 2)."""
    saved = kit.state.timeout_seconds
    kit.state.timeout_seconds = 3
    yield
    kit.state.timeout_seconds = saved


@pytest.mark.parametrize("fault", ["500", "timeout"])
def test_a_failed_revoke_leaves_the_connection_and_its_events_as_before(
    served_app, kit, kit_browser, short_timeouts, fault
):
    app, client = served_app, served_app.test_client()
    signed_in(client)
    install(client, kit_browser)
    before, row = stored(app), endpoint_of(app)
    [at_kit] = kit_endpoints(kit).values()

    kit.state.add_fault("revoke", fault)
    failed = client.post("/connections/1/disconnect")
    assert failed.status_code == 503
    assert "nothing was changed" in failed.text

    after = stored(app)
    assert after.status == "active"
    assert (after.access_token, after.refresh_token) == (
        before.access_token,
        before.refresh_token,
    )
    assert list(kit_endpoints(kit)) == [at_kit.id]  # still registered at Kit
    kept = endpoint_of(app)
    assert (kept.status, kept.key, kept.kit_endpoint_id, kept.secret) == (
        "active",
        row.key,
        row.kit_endpoint_id,
        row.secret,
    )
    # ... and still delivering: an event Kit emits now is stored.
    emit_subscriber(kit, after.access_token, "after-failed-disconnect@example.com")
    [event] = wait_for_events(app, 1)
    assert event.subscriber_email == "after-failed-disconnect@example.com"


def test_a_disconnect_revokes_first_and_the_next_grant_deletes_the_endpoint(
    served_app, kit, kit_browser
):
    app, client = served_app, served_app.test_client()
    signed_in(client)
    install(client, kit_browser)
    row = endpoint_of(app)
    emit_subscriber(kit, stored(app).access_token, "before@example.com")
    assert len(wait_for_events(app, 1)) == 1

    logged = len(kit.state.journal)
    assert client.post("/connections/1/disconnect").status_code == 302
    assert stored(app).status == "revoked"
    # The legacy rules are deleted before the revoke (test_legacy_webhooks.py);
    # of the rest, the revoke came first.
    journal = [
        entry
        for entry in kit.state.journal[logged:]
        if not entry.get("path", "").startswith("/v4/webhooks/")
    ]
    assert journal[0].get("revoked") is True
    gone = endpoint_of(app)
    # Marked: the endpoint Kit still holds, to delete with the next grant.
    assert (gone.status, gone.secret, gone.kit_endpoint_id) == (
        "gone",
        None,
        row.kit_endpoint_id,
    )
    assert stored_events(app) == []

    # Reconnecting the same account deletes the leftover and registers anew.
    install(client, kit_browser)
    again = endpoint_of(app)
    assert again.status == "active" and again.key != row.key
    [new] = kit_endpoints(kit).values()
    assert str(new.id) == again.kit_endpoint_id != row.kit_endpoint_id

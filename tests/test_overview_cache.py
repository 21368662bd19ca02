"""The overview's rendered page kept between views (app/dashboard/overview_cache.py):
served again while nothing it shows has moved, never after a webhook delivery,
a Reload or a change of the connection's status, never to another user, never
with another session's CSRF token; an ETag and a 304 for a browser that comes
back. Each test also shows the page really was kept (a change the cache's
generation does not see stays unseen), so that it fails if nothing were kept
as surely as if the wrong page were."""

from __future__ import annotations

import re

import pytest

from tests.support.accounts import create_user, csrf_token, sign_in
from tests.support.installing import connect, connect_with_days
from tests.support.rows import set_stored
from tests.support.webhooks import (
    add_endpoint,
    add_events,
    delivery_body,
    kit_event,
    kit_signature,
)

ADA = 1001
SECRET = "whsec-overview"
OTHER = "other@example.com"


@pytest.fixture
def key(app, client, kit, user):  # type: ignore[no-untyped-def]
    """The signed-in user connected to Ada's Kitchen (connection 1, its days
    stored), with a live webhook endpoint; returns the endpoint's key."""
    connect_with_days(app, kit, ADA)
    return add_endpoint(app, 1, SECRET)


def events_line(page: str) -> str:
    found = re.search(r"(\d[\d,]*) events? received", page)
    assert found, "no events line in the overview"
    return found.group(1)


def deliver(client, key: str, count: int) -> None:  # type: ignore[no-untyped-def]
    body = delivery_body([kit_event() for _ in range(count)])
    answer = client.post(
        f"/webhooks/kit/{key}",
        data=body,
        headers={"X-Kit-Signature": kit_signature(body, [SECRET])},
        content_type="application/json",
    )
    assert answer.json == {"received": count, "stored": count}, answer.text


def test_a_webhook_delivery_shows_on_the_next_warm_view(app, client, key):
    first = client.get("/dashboard")
    assert first.status_code == 200
    assert events_line(first.text) == "0"
    # Stored behind the cache's back (no delivery, so no new generation): the
    # kept page is served, which shows it was kept.
    add_events(app, [{}, {}])
    kept = client.get("/dashboard")
    assert events_line(kept.text) == "0"
    assert kept.headers["ETag"] == first.headers["ETag"]

    deliver(client, key, 3)  # Kit's delivery bumps the generation
    fresh = client.get("/dashboard")
    assert events_line(fresh.text) == "5"
    assert fresh.headers["ETag"] != first.headers["ETag"]


def test_reload_drops_the_kept_page_and_its_flash_shows_once(app, client, key):
    client.get("/c/1")
    add_events(app, [{}])
    assert events_line(client.get("/c/1").text) == "0"  # the kept page

    reloaded = client.post("/c/1/reload", follow_redirects=True)
    assert "Reloaded from Kit." in reloaded.text
    assert events_line(reloaded.text) == "1"
    again = client.get("/c/1")
    assert "Reloaded from Kit." not in again.text
    assert events_line(again.text) == "1"


def test_a_connection_that_needs_reconnecting_shows_its_banner_at_once(
    app, client, key
):
    assert "ETag" in client.get("/c/1").headers  # kept
    set_stored(app, 1, status="needs_reconnect")  # a refresh elsewhere, no Reload
    page = client.get("/c/1")
    assert "Reconnect needed" in page.text
    assert "ETag" not in page.headers  # a banner is never kept
    assert page.headers["Cache-Control"] == "no-store"


def test_a_browser_that_comes_back_gets_304_until_the_page_changes(app, client, key):
    first = client.get("/c/1")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    same = client.get("/c/1", headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.data == b""

    deliver(client, key, 1)
    changed = client.get("/c/1", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert events_line(changed.text) == "1"
    assert changed.headers["ETag"] != etag

    # The tag is this session's: another session of the same user with it
    # gets the page (with its own CSRF token), not a 304.
    other = app.test_client()
    assert sign_in(other).status_code == 302
    answer = other.get("/c/1", headers={"If-None-Match": changed.headers["ETag"]})
    assert answer.status_code == 200


def test_another_users_kept_page_never_reaches_them(app, client, kit, key):
    kept = client.get("/c/1")
    assert "creator@example.com" in kept.text
    create_user(app, OTHER)
    connect(app, kit, OTHER, account=ADA)  # the same Kit account: connection 2
    other = app.test_client()
    assert sign_in(other, OTHER).status_code == 302

    assert other.get("/c/1").status_code == 404  # before any cache is read
    theirs = other.get("/dashboard")
    assert theirs.status_code == 200
    assert "creator@example.com" not in theirs.text
    assert OTHER in theirs.text
    assert 'href="/c/2/activity"' in theirs.text
    assert 'href="/c/1/activity"' not in theirs.text


def test_a_kept_page_carries_each_sessions_own_csrf_token(make_app, kit):  # type: ignore[no-untyped-def]
    app = make_app(WTF_CSRF_ENABLED=True)
    create_user(app)
    first, second = app.test_client(), app.test_client()
    assert sign_in(first, csrf=True).status_code == 302
    connect_with_days(app, kit, ADA)
    assert sign_in(second, csrf=True).status_code == 302

    rendered = first.get("/c/1")
    kept = second.get("/c/1")  # the same kept page
    page = rendered.headers["ETag"].split(".")[0]
    assert kept.headers["ETag"].split(".")[0] == page
    mine, theirs = csrf_token(kept), csrf_token(rendered)
    assert mine != theirs
    refused = second.post("/c/1/reload", data={"csrf_token": theirs})
    assert refused.status_code == 400
    accepted = second.post("/c/1/reload", data={"csrf_token": mine})
    assert accepted.status_code == 302

"""The app settings page Kit links to (`/kit/settings`, endpoint
`settings.page`): signed out it asks to sign in and comes back; it shows,
per connection, what the app keeps and for how long from the real settings;
its switches stop the webhook receiver keeping a kind of event; the notice
before consent; and `flask kit doctor` prints the URL to paste into Kit."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from app.creator_data.kinds import KINDS
from tests.support.accounts import create_user, csrf_token, sign_in
from tests.support.rows import add_connection, add_growth_days, set_stored, stored
from tests.support.webhooks import (
    add_endpoint,
    add_events,
    delivery_body,
    kit_event,
    kit_signature,
    stored_events,
)


def signed_in_with_connection(app, client, **values):  # type: ignore[no-untyped-def]
    connection_id = add_connection(app, **values)
    assert sign_in(client).status_code == 302
    return connection_id


def text(page) -> str:  # type: ignore[no-untyped-def]
    """The page's words, without tags."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", page.text)).split())


def test_signed_out_it_asks_to_sign_in_then_comes_back(app, client):
    create_user(app)
    asked = client.get("/kit/settings?connection=1")
    assert asked.status_code == 302
    assert asked.location.startswith("/login?next=")
    back = client.post(
        asked.location,
        data={"email": "creator@example.com", "password": "correct horse battery"},
    )
    assert back.status_code == 302
    assert back.location == "/kit/settings?connection=1"


def test_it_says_what_is_kept_and_for_how_long_from_the_settings(make_app):
    app = make_app(WEBHOOK_EVENTS_KEPT_DAYS=45, RECONNECT_GRACE_DAYS=12)
    client = app.test_client()
    signed_in_with_connection(app, client, account_name="Ada's list")
    add_events(app, [{"subscriber_email": f"s{n}@example.com"} for n in range(3)])
    add_growth_days(app, 1, [date(2026, 11, 1), date(2026, 11, 2)])
    page = client.get("/kit/settings")
    assert page.status_code == 200
    said = text(page)
    assert "Ada's list" in said
    assert "3 events" in said
    assert "each with the subscriber's email address" in said
    assert "45 days after they arrive" in said
    assert "2 days, 1 Nov 2026 to 2 Nov 2026" in said
    assert "the last 182 days" in said
    assert "deleted 12 days later unless you reconnect" in said
    assert "60 seconds, then asked again" in said
    # The way to reconnect or disconnect, and to the data.
    assert 'href="/connections/1/disconnect"' in page.text
    assert 'href="/kit/settings/1/export?format=json"' in page.text
    assert 'href="/kit/settings/1/export?format=csv"' in page.text
    assert 'href="/kit/settings/1/delete"' in page.text


def test_a_connection_that_needs_reconnecting_offers_reconnect(app, client):
    signed_in_with_connection(app, client, status="needs_reconnect")
    page = client.get("/kit/settings")
    assert "/kit/oauth?reconnect=1" in page.text
    assert "Reconnect" in page.text


def test_several_connections_have_a_switcher_and_others_are_404(app, client):
    signed_in_with_connection(app, client, account_name="First")
    second = add_connection(app, "spare@example.com", account_name="Second")
    set_stored(app, second, user_id=stored(app, 1).user_id)  # the same user's
    someone_else = add_connection(app, "other@example.com", account_name="Theirs")

    page = client.get(f"/kit/settings?connection={second}")
    assert page.status_code == 200
    assert 'href="/kit/settings?connection=1"' in page.text
    assert f'href="/kit/settings?connection={second}" aria-current="page"' in page.text
    assert "Theirs" not in page.text
    assert client.get(f"/kit/settings?connection={someone_else}").status_code == 404
    bad = client.get("/kit/settings?connection=abc")
    assert bad.status_code == 404
    assert 'href="/kit/settings"' in bad.text  # a way on


def test_without_a_connection_it_says_what_would_be_kept(app, client):
    create_user(app)
    assert sign_in(client).status_code == 302
    page = client.get("/kit/settings")
    assert page.status_code == 200
    said = text(page)
    assert "No Kit account connected yet" in said
    assert "each event carries the subscriber's email address" in said
    assert 'href="/kit/oauth"' in page.text


@pytest.mark.parametrize("page", ["/signup", "/login"])
def test_before_consent_the_sign_up_and_sign_in_pages_say_what_is_kept(make_app, page):
    app = make_app(WEBHOOK_EVENTS_KEPT_DAYS=30)
    client = app.test_client()
    on_the_way = text(client.get(f"{page}?next=/kit/oauth?redirect%3Dx"))
    assert "each event carries the subscriber's email address" in on_the_way
    assert "keeps those events for 30 days" in on_the_way
    plain = text(client.get(page))
    # Signing up is agreeing (app/creator_data/agreement.py): always said
    # there; a sign-in only agrees on the way to Kit.
    assert ("subscriber's email address" in plain) == (page == "/signup")


def test_switching_a_kind_off_deletes_its_events_and_stops_keeping_it(app, client):
    signed_in_with_connection(app, client)
    key = add_endpoint(app, 1, "whsec-settings")
    add_events(
        app,
        [
            {"event_id": "tagged", "type": "subscriber.tag_added"},
            {"event_id": "joined", "type": "subscriber.created"},
        ],
    )
    keep = [kind for kind in KINDS if kind != "subscriber.tag_added"]
    saved = client.post("/kit/settings/1/events", data={"keep": keep})
    assert saved.status_code == 302
    assert saved.location == "/kit/settings?connection=1"
    assert stored(app).events_not_kept == "subscriber.tag_added"
    assert [e.event_id for e in stored_events(app)] == ["joined"]
    page = client.get(saved.location)
    assert "Deleted 1 kept event of those kinds" in text(page)
    assert 'value="subscriber.tag_added">' in page.text  # unchecked
    assert 'value="subscriber.created" checked>' in page.text

    def deliver(event_type: str, event_id: str):  # type: ignore[no-untyped-def]
        body = delivery_body([kit_event(event_type, event_id=event_id)])
        return client.post(
            f"/webhooks/kit/{key}",
            data=body,
            headers={"X-Kit-Signature": kit_signature(body, ["whsec-settings"])},
            content_type="application/json",
        )

    skipped = deliver("subscriber.tag_added", "tagged-again")
    assert (skipped.status_code, skipped.json) == (200, {"received": 1, "stored": 0})
    kept = deliver("subscriber.created", "joined-again")
    assert (kept.status_code, kept.json["stored"]) == (200, 1)
    assert [e.event_id for e in stored_events(app)] == ["joined", "joined-again"]

    # On again: kept again.
    client.post("/kit/settings/1/events", data={"keep": list(KINDS)})
    assert stored(app).events_not_kept == ""
    assert deliver("subscriber.tag_added", "tagged-later").json["stored"] == 1


def test_the_switches_need_the_csrf_token_and_the_owner(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    add_connection(app)
    assert sign_in(client, csrf=True).status_code == 302
    refused = client.post("/kit/settings/1/events", data={"keep": []})
    assert refused.status_code == 400
    assert "This form has expired" in refused.text
    assert stored(app).events_not_kept == ""
    token = csrf_token(client.get("/kit/settings"))
    client.post("/kit/settings/1/events", data={"keep": [], "csrf_token": token})
    assert stored(app).events_not_kept == " ".join(sorted(KINDS))

    other = add_connection(app, "other@example.com")
    answer = client.post(
        f"/kit/settings/{other}/events", data={"keep": [], "csrf_token": token}
    )
    assert answer.status_code == 404
    assert stored(app, other).events_not_kept == ""


def test_doctor_prints_the_settings_url_to_paste_into_kit(make_app):
    app = make_app(PUBLIC_BASE_URL="https://kit-app.example.com")
    result = app.test_cli_runner().invoke(args=["kit", "doctor"])
    [line] = [x for x in result.output.splitlines() if "app settings URL" in x]
    assert line == (
        "PASS app settings URL: https://kit-app.example.com/kit/settings "
        "(paste into Kit's app details)"
    )
    plain = make_app(PUBLIC_BASE_URL="http://127.0.0.1:5000")
    result = plain.test_cli_runner().invoke(args=["kit", "doctor"])
    [line] = [x for x in result.output.splitlines() if "app settings URL" in x]
    assert line.startswith("WARN app settings URL: http://127.0.0.1:5000/kit/settings")

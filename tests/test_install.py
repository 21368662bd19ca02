"""The install journey: Kit App Store → /kit/oauth → Kit consent → callback → Kit.

The two halves in detail: test_install_start.py (our Authorization URL) and
test_install_callback.py (Kit's way back, and the token exchange).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape

from tests.support.accounts import PASSWORD, sign_up
from tests.support.installing import (
    first_account,
    install,
    kit_redirect,
    past_agreement,
    start_install,
)
from tests.support.rows import connections


def test_new_creator_from_kit_signs_up_connects_and_ends_on_kit(
    app, client, kit, kit_browser
):
    back_to_kit = kit_redirect(kit)

    # Kit's Install button opens our Authorization URL; a stranger must sign up first.
    first = start_install(client, redirect=back_to_kit)
    assert first.status_code == 302
    assert urlsplit(first.location).path == "/signup"
    next_url = parse_qs(urlsplit(first.location).query)["next"][0]
    # ... confirms the address through the link mailed to it, and is sent on
    # with the same redirect, then to Kit's authorize endpoint.
    # The sign-up page says what the app keeps; creating the account agrees.
    assert "each event carries the subscriber" in client.get(first.location).text
    assert sign_up(client, "New@Example.com ", next_url=next_url) == next_url
    to_kit = client.get(next_url)
    assert to_kit.location.startswith(f"{kit.url}/v4/oauth/authorize?")

    done = client.get(kit_browser.consent(to_kit.location))
    assert done.status_code == 302
    assert done.location == back_to_kit  # the install ends on Kit

    [connection] = connections(app)
    assert connection.account_name == first_account(kit).name
    assert connection.status == "active"
    assert connection.expires_at > datetime.now(UTC) + timedelta(hours=47)
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    assert escape(first_account(kit).name) in dashboard.text


def test_returning_creator_goes_straight_to_kit_and_updates_the_same_row(
    app, client, kit, kit_browser
):
    sign_up(client)
    assert install(client, kit_browser, redirect=kit_redirect(kit)).status_code == 302
    [first] = connections(app)

    client.post("/logout")
    login = client.post(
        "/login",
        data={
            "email": "creator@example.com",
            "password": PASSWORD,
            "next": f"/kit/oauth?redirect={kit_redirect(kit)}",
        },
    )
    assert login.status_code == 302
    assert install(
        client, kit_browser, redirect=kit_redirect(kit)
    ).location == kit_redirect(kit)
    [again] = connections(app)
    assert again.id == first.id
    assert again.access_token != first.access_token


def test_connect_from_our_site_ends_on_the_dashboard(
    app, client, kit, kit_browser, user
):
    done = install(client, kit_browser)
    assert done.status_code == 302
    assert urlsplit(done.location).path == "/dashboard"
    follow = client.get("/dashboard")
    assert "Connected" in follow.text
    assert first_account(kit).email in follow.text


def test_tenant_name_gives_a_second_connection_to_the_same_account(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    install(client, kit_browser, tenant_name="Podcast site")
    rows = connections(app)
    assert sorted(r.tenant_name for r in rows) == ["", "Podcast site"]
    assert len({r.kit_account_id for r in rows}) == 1


def test_tokens_are_not_readable_in_the_database_files_or_a_dump(
    app, client, kit, kit_browser, user, database_url
):
    if not database_url.startswith("sqlite"):
        pytest.skip("reads the SQLite files")
    install(client, kit_browser)
    [connection] = connections(app)
    path = Path(database_url.removeprefix("sqlite:///"))
    # The database file and its write-ahead log, where recent writes live.
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with sqlite3.connect(path) as dump_source:
        dump = "\n".join(dump_source.iterdump()).encode()
    for content in (raw, dump):
        assert connection.account_email.encode() in content  # the data is there...
        assert connection.access_token.encode() not in content  # ...the tokens not
        assert connection.refresh_token.encode() not in content


def test_kit_legacy_endpoints_work_through_configuration(make_app, kit, kit_browser):
    """Kit's own code still uses /oauth/authorize and /oauth/token."""
    legacy = make_app(
        KIT_AUTHORIZE_URL=f"{kit.url}/oauth/authorize",
        KIT_TOKEN_URL=f"{kit.url}/oauth/token",
    )
    client = legacy.test_client()
    sign_up(client)
    to_kit = past_agreement(client, start_install(client))
    assert to_kit.location.startswith(f"{kit.url}/oauth/authorize?")
    done = client.get(kit_browser.consent(to_kit.location))
    assert urlsplit(done.location).path == "/dashboard"
    assert [r["path"] for r in kit.state.token_requests] == ["/oauth/token"]
    assert len(connections(legacy)) == 1

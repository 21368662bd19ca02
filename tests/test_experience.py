"""What a creator reads and where they land: the account just connected,
"Reconnected", a disconnect that asks first, "Already connected" on a replayed
link, error pages in words whose advice matches their buttons, a favicon, a
rate-limited page that waits for the creator, and one `h1` on every page."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from app.install.failures import FAILURES, InstallFailed, failure_page
from tests.support.accounts import csrf_token, sign_up, signed_in
from tests.support.grants import live_grants
from tests.support.installing import install, kit_redirect, start_install
from tests.support.rows import connections, event_kinds, set_stored, stored

ADA, BEN, CHLOE = 1001, 1002, 1003


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.text)


def heading(response) -> str:  # type: ignore[no-untyped-def]
    """The page's one h1, as text."""
    [h1] = re.findall(r"<h1[^>]*>(.*?)</h1>", response.text, re.S)
    return unescape(re.sub(r"<[^>]+>", "", h1)).strip()


def flashes(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        unescape(m) for m in re.findall(r'class="flash[^"]*">(.*?)</p>', response.text)
    ]


# --- landing on the account just connected -------------------------------------------


def test_connecting_another_account_lands_on_it(client, kit, kit_browser, user):
    name = {a: kit.state.accounts[a].name for a in (ADA, BEN, CHLOE)}
    install(client, kit_browser, account=ADA)
    assert client.get("/c/1/tags").status_code == 200  # Ada's is selected
    assert heading(client.get("/dashboard")) == name[ADA]

    # "Connect another Kit account" while Ada's is selected: the dashboard
    # opens Ben's, under the flash that names it.
    done = install(client, kit_browser, account=BEN)
    assert urlsplit(done.location).path == "/dashboard"
    landed = client.get(done.location)
    assert heading(landed) == name[BEN]
    assert f"Connected {name[BEN]}." in flashes(landed)

    # Installed from Kit (back to Kit afterwards): the next visit opens Chloe's.
    done = install(client, kit_browser, account=CHLOE, redirect=kit_redirect(kit))
    assert done.location == kit_redirect(kit)
    assert heading(client.get("/dashboard")) == name[CHLOE]


def test_a_reinstall_says_reconnected_like_the_history(
    app, client, kit, kit_browser, user
):
    label = kit.state.accounts[ADA].name
    install(client, kit_browser, account=ADA)
    assert f"Connected {label}." in flashes(client.get("/dashboard"))

    install(client, kit_browser, account=ADA)
    assert f"Reconnected {label}." in flashes(client.get("/dashboard"))
    assert event_kinds(app) == ["connected", "reconnected"]
    assert "Reconnected" in text(client.get("/connections/1"))

    # A reconnect after Kit dropped the grant says the same.
    set_stored(app, 1, status="needs_reconnect")
    install(client, kit_browser, account=ADA)
    assert f"Reconnected {label}." in flashes(client.get("/dashboard"))


# --- disconnect asks first, and has one word -----------------------------------------


def test_disconnect_asks_first_naming_the_account_and_what_it_does(
    make_app, kit, kit_browser
):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    sign_up(client, csrf=True)
    install(client, kit_browser, account=ADA)
    label = kit.state.accounts[ADA].name
    grants_before = live_grants(kit, ADA)

    details = client.get("/connections/1")
    assert 'href="/connections/1/disconnect"' in details.text
    assert 'action="/connections/1/disconnect"' not in details.text  # no one-click

    confirm = client.get("/connections/1/disconnect")
    assert confirm.status_code == 200
    page = text(confirm)
    assert heading(confirm) == f"Disconnect {label}?"
    for what in (
        "revokes this app's access at Kit",
        "webhook endpoint",
        "stops the sync",
    ):
        assert what in page
    assert "stay in Kit" in page and "connect this account again" in page
    assert 'method="post" action="/connections/1/disconnect"' in confirm.text
    assert 'href="/connections/1">Cancel</a>' in confirm.text
    # Looking at the question changes nothing.
    assert stored(app).status == "active"
    assert live_grants(kit, ADA) == grants_before

    done = client.post(
        "/connections/1/disconnect", data={"csrf_token": csrf_token(confirm)}
    )
    assert done.status_code == 302
    assert stored(app).status == "revoked"
    assert live_grants(kit, ADA) == []
    assert f"Disconnected {label}." in " ".join(flashes(client.get("/accounts")))

    # One word wherever the creator reads the state; "revoked" stays data.
    for path in ("/accounts", "/connections/1", "/c/1"):
        page = text(client.get(path))
        assert "Disconnected" in page
        assert "Revoked" not in page and ">revoked<" not in page
    # Nothing left to confirm: the question is not asked again.
    again = client.get("/connections/1/disconnect")
    assert again.location == "/connections/1"


def test_someone_elses_disconnect_question_is_not_found(make_app, kit, kit_browser):
    app = make_app()
    owner = app.test_client()
    signed_in(owner)
    install(owner, kit_browser, account=ADA)
    other = app.test_client()
    signed_in(other, "other@example.com")
    assert other.get("/connections/1/disconnect").status_code == 404
    assert other.get("/connections/999/disconnect").status_code == 404


# --- a replayed callback --------------------------------------------------------------


def _back_from_kit(client, kit_browser, **params):  # type: ignore[no-untyped-def]
    back = kit_browser.consent(start_install(client, **params).location)
    return {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}


def test_replaying_a_finished_install_says_already_connected(
    app, client, kit, kit_browser, user
):
    params = _back_from_kit(client, kit_browser, redirect=kit_redirect(kit))
    assert client.get("/kit/oauth/callback", query_string=params).status_code == 302
    [before] = [(c.id, c.access_token) for c in connections(app)]

    replay = client.get("/kit/oauth/callback", query_string=params)
    assert replay.status_code == 200
    assert heading(replay) == "Already connected"
    assert kit.state.accounts[ADA].name in text(replay)
    assert 'href="/c/1">Open its dashboard</a>' in replay.text
    assert f'href="{kit_redirect(kit)}">Back to Kit</a>' in text(replay)
    assert [(c.id, c.access_token) for c in connections(app)] == [before]


def test_a_replay_from_before_another_install_is_not_that_connection(
    app, client, kit, kit_browser, user
):
    """A spent attempt that connected nothing (Kit refused) replayed after a
    later install: still "already completed", not "already connected"."""
    denied = _back_from_kit(client, kit_browser)
    denied = {"error": "access_denied", "state": denied["state"]}
    assert client.get("/kit/oauth/callback", query_string=denied).status_code == 400
    install(client, kit_browser, account=ADA, tenant_name="Shop")
    replay = client.get("/kit/oauth/callback", query_string=denied)
    assert replay.status_code == 400
    assert "already completed" in text(replay)


# --- error pages in words -------------------------------------------------------------

BUTTONS = ("Connect Kit", "Sign in", "Open Kit", "Open its dashboard", "Kit accounts")


@pytest.mark.parametrize("reason", sorted(FAILURES))
def test_every_failure_says_what_to_do_with_the_buttons_it_shows(
    app: Flask, reason: str
):
    details = {"kit_error": "server_error", "label": "Ada", "connection_id": "1"}
    with app.test_request_context("/kit/oauth/callback"):
        body, status = failure_page(InstallFailed(reason, None, details))
    message = unescape(re.search(r"</h1>\s*<p>(.*?)</p>", body, re.S).group(1))
    labels = [
        unescape(x) for x in re.findall(r'class="button[^"]*"[^>]*>([^<]+)</a>', body)
    ]
    assert labels[-1] == "Home"
    for button in BUTTONS:
        if button in message:
            assert any(button in label for label in labels), (reason, message, labels)
    assert "Connect Kit here" not in message and "then Start" not in message
    assert not re.search(r">\s*Error \d{3}\s*<", body.split("</h1>")[0])
    assert f"Error code {status}" in body or status < 400


def test_error_pages_lead_with_words_and_keep_the_code_in_small_print(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert heading(page) == "Page not found"
    before_heading = page.text.split("<h1")[0]
    assert "404" not in before_heading.split('<main id="main"')[-1]
    assert "Error code 404" in page.text


def test_signed_out_callback_offers_sign_in_that_goes_on_to_connect(client, kit):
    page = client.get("/kit/oauth/callback?state=" + "x" * 43)
    assert page.status_code == 400
    assert "Sign in" in text(page)
    assert 'href="/login?next=/kit/oauth">Sign in</a>' in page.text
    assert "Start the install" not in text(page)


def test_accounts_without_connections_offers_one_connect_button(client, user):
    page = client.get("/accounts")
    buttons = re.findall(r'<a class="button"[^>]*href="/kit/oauth"', page.text)
    assert len(buttons) == 1


# --- favicon --------------------------------------------------------------------------


def test_favicon_is_served_and_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code in (301, 302)
    with client.get(icon.location) as svg:
        assert svg.status_code == 200
        assert svg.mimetype == "image/svg+xml"
        assert svg.data.startswith(b"<svg")
    assert 'rel="icon" type="image/svg+xml" href="/static/favicon.svg"' in (
        client.get("/login").text
    )


# --- one h1 on every page and state ---------------------------------------------------


def test_every_page_and_state_has_exactly_one_h1(make_app, kit, kit_browser):
    app = make_app(KIT_CACHE_SECONDS=0)
    client = app.test_client()

    def one_h1(path: str, status: int = 200) -> None:
        page = client.get(path)
        assert page.status_code == status, (path, page.status_code)
        assert page.text.count("<h1") == 1, path

    for path in ("/", "/login", "/signup", "/forgot-password"):
        one_h1(path)
    one_h1("/no-such-page", 404)
    one_h1("/kit/oauth?redirect=https://evil.example/", 400)
    sign_up(client)
    one_h1("/accounts")
    one_h1("/dashboard")
    install(client, kit_browser, account=ADA)
    pages = ["", "/activity", "/subscribers", "/tags", "/forms", "/sequences"]
    pages += ["/broadcasts"]
    for page in pages:
        one_h1(f"/c/1{page}")
    for path in ("/accounts", "/dashboard", "/connections/1"):
        one_h1(path)
    one_h1("/connections/1/disconnect")

    one_h1("/c/1/subscribers?after=not-a-cursor", 400)  # bad link
    kit.state.add_fault("api", "500", times=1000)
    one_h1("/c/1/forms", 503)  # unavailable
    kit.state.clear_faults()
    kit.state.add_fault("api", "429", times=1000)
    one_h1("/c/1/tags", 429)  # rate limited
    kit.state.clear_faults()
    for status in ("needs_reconnect", "revoked"):  # reconnect, disconnected
        set_stored(app, 1, status=status)
        for page in ("", "/subscribers", "/activity"):
            one_h1(f"/c/1{page}")
        one_h1("/connections/1")

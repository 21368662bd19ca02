"""Interactions that feel finished (issue 21, section 3), where the HTML shows
it: signing in after a signed-out POST, a stale tab's action, a double tap on
"Create account", "Connect again" landing on another Kit account, the
account switcher keeping the tab, "← All subscribers" keeping the search, and
confirmations that show what Kit stored."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.accounts import PASSWORD, outbox
from tests.support.installing import install

ADA, BEN, CHLOE = 1001, 1002, 1003


@pytest.fixture
def ada(client, kit, kit_browser, user):  # type: ignore[no-untyped-def]
    """The signed-in user connected to Ada's Kitchen."""
    install(client, kit_browser, account=ADA)
    return kit.state.account_data(ADA)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return unescape(response.text)


def tagged(ada):  # type: ignore[no-untyped-def]
    for sub in sorted(ada.subscribers.values(), key=lambda s: s.id):
        tags = [t for t in ada.tags.values() if sub.id in ada.taggings.get(t.id, {})]
        if tags:
            return sub, tags
    raise AssertionError("the seed tags nobody")


def hrefs(page: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', page)]


# --- 5. signing in after a signed-out POST -------------------------------------------


def test_signing_in_after_a_signed_out_post_returns_to_the_form_page(app, client, ada):
    sub, tags = tagged(ada)
    page = f"/c/1/subscribers/{sub.id}"
    client.post("/logout")
    # The tab still shows the subscriber; its "Remove" is a POST-only URL.
    signed_out = client.post(
        f"{page}/tags/{tags[0].id}/remove",
        headers={"Referer": f"http://localhost{page}"},
    )
    assert signed_out.status_code == 302
    assert urlsplit(signed_out.location).path == "/login"
    wanted = parse_qs(urlsplit(signed_out.location).query)["next"]
    assert wanted == [page]
    login = client.get(signed_out.location)
    assert "Sign in to continue." in text(login)
    signed_in = client.post(
        "/login",
        data={"email": "creator@example.com", "password": PASSWORD, "next": page},
    )
    assert signed_in.location == page
    assert client.get(signed_in.location).status_code == 200
    # Nothing was removed on the way: the creator decides again on the page.
    assert sub.id in ada.taggings[tags[0].id]


def test_a_signed_out_post_from_elsewhere_signs_in_to_the_dashboard(client, ada):
    client.post("/logout")
    for referer in ({}, {"Referer": "https://elsewhere.example/c/1/tags"}):
        answer = client.post("/c/1/tags", headers=referer)
        assert answer.status_code == 302
        assert "next" not in parse_qs(urlsplit(answer.location).query)
    # A GET keeps its own address, query and all.
    answer = client.get("/c/1/subscribers?q=ada")
    assert parse_qs(urlsplit(answer.location).query)["next"] == [
        "/c/1/subscribers?q=ada"
    ]


# --- 6. a stale tab's action ----------------------------------------------------------


def test_removing_a_tag_already_removed_names_it_and_says_so(client, kit, ada):
    sub, tags = tagged(ada)
    tag = tags[0]
    path = f"/c/1/subscribers/{sub.id}/tags/{tag.id}/remove"
    first = client.post(path)
    assert "Removed tag" in text(client.get(first.location))
    # The same button again, from a tab opened before the first removal.
    again = client.post(path)
    assert again.status_code == 302
    page = text(client.get(again.location))
    assert f"#{tag.id}" not in page
    assert f"Tag “{tag.name}” was already removed from {sub.email_address}." in page
    assert f"Removed tag “{tag.name}”" not in page


# --- 7. a double tap on "Create account" ---------------------------------------------


def test_a_double_tap_on_create_account_sends_one_mail(app, client, kit):
    form = {"email": "twice@example.com", "password": PASSWORD, "confirm": PASSWORD}
    for _ in range(2):
        answer = client.post("/signup", data=form)
        assert answer.location == "/signup/check-inbox"
    assert len(outbox(app, "twice@example.com")) == 1
    # The one link confirms in this browser without asking for the password.
    link = [m for m in outbox(app, "twice@example.com")][0]["links"]
    token = parse_qs(urlsplit(next(x for x in link if "/verify-email" in x)).query)
    page = client.get("/verify-email", query_string={"token": token["token"][0]})
    assert 'name="password"' not in page.text


def test_another_password_for_a_waiting_address_still_mails_its_owner(app, kit):
    first, second = app.test_client(), app.test_client()
    form = {"email": "owner@example.com", "password": PASSWORD, "confirm": PASSWORD}
    first.post("/signup", data=form)
    other = "another password 123"
    second.post("/signup", data={**form, "password": other, "confirm": other})
    assert len(outbox(app, "owner@example.com")) == 2


# --- 8. "Connect again" that lands on another Kit account ----------------------------


def _connect_again(client, kit_browser, account: int):  # type: ignore[no-untyped-def]
    """Disconnect connection 1, then follow its "Connect again" as `account`."""
    client.post("/connections/1/disconnect")
    page = text(client.get("/connections/1"))
    again = next(h for h in hrefs(page) if h.startswith("/kit/oauth"))
    to_kit = client.get(again)
    assert to_kit.status_code == 302
    return client.get(kit_browser.consent(to_kit.location, "allow", str(account)))


def test_connect_again_as_another_kit_account_says_so(client, kit, kit_browser, ada):
    ben = kit.state.accounts[BEN].name
    done = _connect_again(client, kit_browser, BEN)
    assert done.status_code == 302
    page = text(client.get(done.location, follow_redirects=True))
    assert "Reconnected" not in page
    assert f"Kit signed you in as {ben}, not {kit.state.accounts[ADA].name}" in page
    assert "still disconnected" in page


def test_connect_again_as_an_account_already_connected_is_no_reconnect(
    client, kit, kit_browser, ada
):
    install(client, kit_browser, account=BEN)  # connection 2
    done = _connect_again(client, kit_browser, BEN)
    page = text(client.get(done.location, follow_redirects=True))
    assert "Reconnected" not in page
    assert f"not {kit.state.accounts[ADA].name}" in page


def test_connect_again_as_the_same_account_is_a_reconnect(
    client, kit, kit_browser, ada
):
    done = _connect_again(client, kit_browser, ADA)
    page = text(client.get(done.location, follow_redirects=True))
    assert f"Reconnected {kit.state.accounts[ADA].name}." in page


# --- 9. the switcher keeps the tab ---------------------------------------------------


def switcher_links(page: str) -> list[str]:
    menu = page.split('class="switcher"', 1)[1].split("</details>", 1)[0]
    return hrefs(menu)


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("/c/1/tags", "/c/2/tags"),
        ("/c/1/activity", "/c/2/activity"),
        ("/c/1/broadcasts", "/c/2/broadcasts"),
        ("/c/1/subscribers/{sub}", "/c/2/subscribers"),
        ("/c/1/tags/{tag}", "/c/2/tags"),
        ("/c/1", "/c/2"),
    ],
)
def test_switching_accounts_keeps_the_tab(client, kit_browser, ada, path, wanted):
    install(client, kit_browser, account=CHLOE)  # connection 2
    sub, tags = tagged(ada)
    page = text(client.get(path.format(sub=sub.id, tag=tags[0].id)))
    assert wanted in switcher_links(page)


# --- 10. "← All subscribers" keeps the search ----------------------------------------


def test_all_subscribers_keeps_the_search(client, ada):
    listing = text(client.get("/c/1/subscribers?q=a&status=bounced"))
    first = next(
        h for h in hrefs(listing) if re.fullmatch(r"/c/1/subscribers/\d+.*", h)
    )
    page = text(client.get(first))
    back = re.search(r'<a href="([^"]+)">← All subscribers</a>', page)
    assert back is not None
    target = urlsplit(unescape(back.group(1)))
    assert target.path == "/c/1/subscribers"
    assert parse_qs(target.query) == {"q": ["a"], "status": ["bounced"]}
    # Without a search, the way back is the plain list.
    sub, _ = tagged(ada)
    plain = text(client.get(f"/c/1/subscribers/{sub.id}"))
    assert '<a href="/c/1/subscribers">← All subscribers</a>' in plain


# --- 12. confirmations show what Kit stored -------------------------------------------


def test_saving_a_subscriber_confirms_the_stored_address(client, kit, ada):
    saved = client.post(
        "/c/1/subscribers", data={"email_address": "  New.Reader@Example.COM "}
    )
    assert saved.status_code == 302
    page = text(client.get(saved.location))
    assert "Saved new.reader@example.com as a subscriber." in page
    assert ada.subscriber_by_email("new.reader@example.com").email_address == (
        "new.reader@example.com"
    )


def test_tagging_by_address_confirms_the_stored_address(client, ada):
    tag = sorted(ada.tags.values(), key=lambda t: t.id)[0]
    sub = next(s for s in ada.subscribers.values() if s.state == "active")
    typed = sub.email_address.upper()
    tagged_now = client.post(
        "/c/1/tags/subscribers",
        data={"tag-tag_id": str(tag.id), "tag-email_address": typed},
    )
    assert tagged_now.status_code == 302
    page = text(client.get(tagged_now.location))
    assert f"Tagged {sub.email_address} with “{tag.name}”." in page
    assert typed not in page

"""One Kit call that fails takes down its own panel, not the page: the
overview and the pages that combine several Kit calls answer 200 with the
figures that arrived and, in place of the missing ones, a notice and a link
to try again. (The sandbox answers one path with an error: `add_path_fault`.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import requests

from tests.support.installing import connect

ADA = 1001
RETRY = re.compile(r'<a href="([^"]+)"[^>]*>Try again</a>')


@pytest.fixture
def ada(client, kit, user):  # type: ignore[no-untyped-def]
    """The signed-in user connected to Ada's Kitchen, the big account (a real
    grant, no consent round trip: these panels are not about installing)."""
    connect(client.application, kit, account=ADA)
    return kit.state.account_data(ADA)


def _kit_account(kit):  # type: ignore[no-untyped-def]
    return kit.state.accounts[ADA]


@pytest.mark.parametrize(
    ("path", "notice", "kept"),
    [
        (
            "/v4/broadcasts/stats",
            "Broadcast figures are unavailable right now",
            "email",
        ),
        ("/v4/account/email_stats", "Email figures are unavailable right now", "sent"),
    ],
)
def test_an_overview_panel_whose_call_fails_says_so_and_the_rest_shows(
    client, kit, ada, path, notice, kept
):
    kit.state.add_path_fault(path, "404")
    page = client.get("/dashboard?period=7")
    assert page.status_code == 200, page.text[:500]
    text = unescape(page.text)
    assert notice in text
    assert "/dashboard?period=7" in RETRY.findall(text) or "/c/1?period=7" in (
        RETRY.findall(text)
    ), RETRY.findall(text)
    # The figures that arrived are shown: the account, the KPIs, the chart.
    assert _kit_account(kit).name in text
    assert 'class="growth-chart"' in text
    assert len(re.findall(r'<span class="stat-value">', text)) >= 4
    stats = ada.email_stats(datetime.now(UTC).replace(microsecond=0))
    email_rate = f"{100 * stats['opened'] / stats['sent']:.1f}%"
    sent = sorted(
        (b for b in ada.broadcasts.values() if b.status == "completed"),
        key=lambda b: b.send_at,
        reverse=True,
    )
    if kept == "email":
        assert email_rate in text[text.index("Email, last 90 days") :]
        assert "latest-broadcasts" not in text
    else:
        assert sent[0].subject in text
        assert email_rate not in text[text.index("Email, last 90 days") :]
    # Once Kit answers again, the panel is back (the failure was not cached).
    kit.state.clear_faults()
    again = unescape(client.get("/dashboard?period=7").text)
    assert notice not in again
    assert sent[0].subject in again


def test_growth_figures_failing_leave_the_other_panels(client, kit, ada):
    kit.state.add_path_fault("/v4/account/growth_stats", "500")
    page = client.get("/c/1")
    assert page.status_code == 200, page.text[:500]
    text = unescape(page.text)
    assert "Subscriber growth figures are unavailable right now" in text
    assert 'class="growth-chart"' not in text
    assert "Email, last 90 days" in text
    assert "latest-broadcasts" in text


def test_the_broadcasts_page_lists_them_when_their_figures_fail(client, kit, ada):
    kit.state.add_path_fault("/v4/broadcasts/stats", "404")
    page = client.get("/c/1/broadcasts")
    assert page.status_code == 200, page.text[:500]
    text = unescape(page.text)
    assert "Broadcast figures are unavailable right now" in text
    assert any(b.subject in text for b in ada.broadcasts.values())


def test_a_broadcast_shows_without_its_figures_when_they_fail(client, kit, ada):
    sent = next(b for b in ada.broadcasts.values() if b.status == "completed")
    kit.state.add_path_fault(f"/v4/broadcasts/{sent.id}/stats", "500")
    page = client.get(f"/c/1/broadcasts/{sent.id}")
    assert page.status_code == 200, page.text[:500]
    text = unescape(page.text)
    assert sent.subject in text
    assert "Broadcast figures are unavailable right now" in text


def test_kit_down_for_every_call_is_still_the_unavailable_page(client, kit, ada):
    for path in (
        "/v4/account",
        "/v4/account/email_stats",
        "/v4/account/growth_stats",
        "/v4/broadcasts/stats",
    ):
        kit.state.add_path_fault(path, "503")
    page = client.get("/c/1?period=7")
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"


def test_a_subscriber_shows_when_their_tags_and_fields_fail(client, kit, ada):
    subscriber = next(iter(ada.subscribers.values()))
    kit.state.add_path_fault(f"/v4/subscribers/{subscriber.id}/tags", "500")
    kit.state.add_path_fault("/v4/custom_fields", "404")
    page = client.get(f"/c/1/subscribers/{subscriber.id}")
    assert page.status_code == 200, page.text[:500]
    text = unescape(page.text)
    assert subscriber.email_address.split("@")[0] in text
    assert "Custom fields are unavailable right now" in text
    assert "This subscriber's tags are unavailable right now" in text


def test_the_tags_page_lists_them_when_their_counts_fail(client, kit, ada):
    tag = min(ada.tags.values(), key=lambda t: t.name.lower())
    kit.state.add_path_fault(f"/v4/tags/{tag.id}/subscribers", "500")
    page = client.get("/c/1/tags")
    assert page.status_code == 200, page.text[:500]
    text = unescape(page.text)
    assert "Some tag counts are unavailable right now" in text
    assert all(t.name in text for t in list(ada.tags.values())[:5])


def test_the_sandbox_fails_one_path_as_often_as_told(kit):
    from kit_sandbox.testing import real_grant

    token = real_grant(kit)["access_token"]

    def get(path: str) -> int:
        return requests.get(
            f"{kit.url}{path}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).status_code

    kit.state.add_path_fault("/v4/broadcasts/stats", "404", times=2)
    assert [get("/v4/broadcasts/stats") for _ in range(3)] == [404, 404, 200]
    assert get("/v4/account") == 200  # other paths answer throughout
    with pytest.raises(ValueError):
        kit.state.add_path_fault("/v4/account", "418")

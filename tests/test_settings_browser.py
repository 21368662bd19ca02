"""The app settings page in Debian's Chromium (Playwright), as a creator uses
it: what is kept, a kind of event switched off, "Download my data" as JSON
and as CSV (real downloads, read back), and "Delete my data" through its
confirm page; axe-core finds nothing at WCAG 2.1 AA, and at phone width
nothing scrolls sideways. Screenshots: SCREENSHOT_DIR/settings/ (default
test-artifacts/screenshots)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.browser_audit import no_violations, sign_in_page
from tests.support.accounts import PASSWORD, create_user
from tests.support.installing import connect
from tests.support.rows import add_growth_days, growth_days, stored
from tests.support.webhooks import add_events, stored_events
from tests.test_browser import (  # noqa: F401  (fixtures)
    BROWSER_TEST,
    contexts,
    live_app,
    screenshots,
)

pytestmark = BROWSER_TEST

ADA = 1001


@pytest.fixture
def shots() -> Path:
    return screenshots("settings")


@pytest.fixture
def creator(kit, make_app, live_app, contexts) -> Iterator[tuple]:  # type: ignore[type-arg] # noqa: F811
    """The app, and a desktop and a phone page signed in as a creator
    connected to Ada's Kitchen (connection 1), with activity and figures kept."""
    app = make_app()
    create_user(app)
    connect(app, kit, account=ADA)
    add_events(
        app,
        [
            {"type": "subscriber.created", "subscriber_email": "joe@example.com"},
            {
                "type": "subscriber.tag_added",
                "subscriber_email": "ann@example.com",
                "subject": "VIP",
            },
            {"type": "subscriber.tag_added", "subscriber_email": "bob@example.com"},
        ],
    )
    add_growth_days(app, 1, [date(2026, 11, 1), date(2026, 11, 2)])
    desktop, phone = contexts
    page = desktop.new_page()
    sign_in_page(page, live_app, "creator@example.com", PASSWORD)
    phone.add_cookies(desktop.cookies())
    yield app, page, phone.new_page(), live_app


def test_settings_switch_a_kind_off_download_and_delete(creator, shots, tmp_path):
    app, page, phone, origin = creator

    # From the account menu, as a creator finds it.
    page.goto(f"{origin}/accounts")
    page.locator("details.usermenu > summary").click()
    page.get_by_role("link", name="App settings and your data").click()
    page.wait_for_url(f"{origin}/kit/settings")
    kept = page.locator("table.kept")
    assert "3 events" in kept.inner_text()
    days = len(growth_days(app))  # ours, and those the dashboard just stored
    assert f"{days} days, 1 Nov 2026 to " in kept.inner_text()
    no_violations(page)
    page.screenshot(path=shots / "1-settings.png", full_page=True)

    # Tagged: off. Its events go, the others stay.
    page.get_by_role("checkbox", name="Tagged subscriber.tag_added").uncheck()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Deleted 2 kept events of those kinds" in page.inner_text("main")
    assert not page.get_by_role(
        "checkbox", name="Tagged subscriber.tag_added"
    ).is_checked()
    assert page.get_by_role(
        "checkbox", name="New subscribers subscriber.created"
    ).is_checked()
    assert stored(app).events_not_kept == "subscriber.tag_added"
    assert [e.subscriber_email for e in stored_events(app)] == ["joe@example.com"]

    # Download my data, both ways, read back.
    with page.expect_download() as got:
        page.get_by_role("link", name="Download my data (JSON)").click()
    saved = tmp_path / got.value.suggested_filename
    got.value.save_as(saved)
    assert saved.name.endswith(".json") and saved.name.startswith("kit-data-")
    document = json.loads(saved.read_text())
    assert [e["subscriber_email"] for e in document["webhook_events"]] == [
        "joe@example.com"
    ]
    assert len(document["growth_days"]) == days
    with page.expect_download() as got:
        page.get_by_role("link", name="Download my data (CSV, zip)").click()
    saved = tmp_path / got.value.suggested_filename
    got.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert "webhook_events.csv" in archive.namelist()
        assert "joe@example.com" in archive.read("webhook_events.csv").decode()

    # Delete my data: asked first, then gone; the connection stays.
    page.get_by_role("link", name="Delete my data…").click()
    page.wait_for_url(f"{origin}/kit/settings/1/delete")
    assert "1 event of the activity feed" in page.inner_text("main")
    no_violations(page)
    page.screenshot(path=shots / "2-delete-confirm.png", full_page=True)
    page.get_by_role("button", name="Delete my data").click()
    page.wait_for_url(f"{origin}/kit/settings?connection=1")
    assert f"1 event and {days} days of figures" in page.inner_text("main")
    assert stored_events(app) == [] and growth_days(app) == {}
    assert stored(app).status == "active"
    page.screenshot(path=shots / "3-after-delete.png", full_page=True)

    # At phone width: readable, nothing sideways.
    phone.goto(f"{origin}/kit/settings")
    assert phone.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    ), "the settings page scrolls sideways at phone width"
    no_violations(phone)
    phone.screenshot(path=shots / "4-settings-phone.png", full_page=True)


def test_before_consent_the_sign_up_page_says_what_is_kept(
    live_app,  # noqa: F811
    contexts,  # noqa: F811
    shots,
):
    """Signed out, Kit's Install opens our Authorization URL: the sign-up page
    it leads to says what will be kept before anything is sent to Kit."""
    desktop, phone = contexts
    for name, context in (("desktop", desktop), ("phone", phone)):
        page = context.new_page()
        page.goto(f"{live_app}/kit/oauth")
        page.wait_for_url(f"{live_app}/signup?next=**")
        notice = page.get_by_role("note", name="What this app keeps")
        assert "each event carries the subscriber's email address" in (
            notice.inner_text()
        )
        assert "90 days" in notice.inner_text()
        no_violations(page)
        page.screenshot(path=shots / f"5-before-consent-{name}.png", full_page=True)
        page.close()

"""Following a link from the App settings page, in Debian's Chromium: the
creator follows a link (a mistyped one first: the page says what is wrong),
a subscriber clicks it at the sandbox ("Click a link" on its activity page),
the click is read in the activity feed, and the link is unfollowed at phone
width. axe-core finds nothing at 1280 and 390 px; nothing scrolls sideways.
Screenshots: SCREENSHOT_DIR/legacy-follow/ (default test-artifacts/screenshots)."""

from __future__ import annotations

import time

from tests.browser_audit import no_violations, sign_in_page
from tests.support.accounts import PASSWORD, create_user
from tests.support.installing import connect
from tests.support.webhooks import stored_events
from tests.test_browser import (  # noqa: F401  (fixtures)
    BROWSER_TEST,
    contexts,
    live_app,
    screenshots,
)
from tests.test_legacy_webhooks_cli import at_kit

pytestmark = BROWSER_TEST

ADA = 1001
LINK = "https://example.com/recipes/sourdough"


def test_follow_a_link_see_its_click_and_unfollow(kit, make_app, live_app, contexts):  # noqa: F811
    shots = screenshots("legacy-follow")
    app = make_app()
    app.config["PUBLIC_BASE_URL"] = live_app  # where Kit delivers
    create_user(app)
    connect(app, kit, account=ADA)
    desktop, phone = contexts
    page = desktop.new_page()
    sign_in_page(page, live_app, "creator@example.com", PASSWORD)
    phone.add_cookies(desktop.cookies())

    page.goto(f"{live_app}/kit/settings")
    section = page.locator("#following")
    assert "You follow no link or product yet." in section.inner_text()
    assert page.get_by_role("radio", name="Clicks on a link").is_checked()

    # A mistyped link: the page again, the error linked to the field.
    page.get_by_label("Link or product id").fill("example.com/recipes")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.wait_for_load_state()
    summary = page.get_by_role("alert")
    assert "A link is an http:// or https:// address." in summary.inner_text()
    assert page.get_by_label("Link or product id").get_attribute("aria-invalid")
    no_violations(page)
    section.screenshot(path=str(shots / "1-error-desktop.png"))

    page.get_by_label("Link or product id").fill(LINK)
    page.get_by_role("button", name="Follow", exact=True).click()
    page.wait_for_url(f"{live_app}/kit/settings?connection=1")
    assert "Kit now tells this app about each click" in page.inner_text("main")
    page.screenshot(path=str(shots / "2-flash-desktop.png"))
    assert "Active at Kit" in section.inner_text()
    assert ("subscriber.link_click", LINK) in at_kit(kit)
    no_violations(page)
    section.screenshot(path=str(shots / "2-following-desktop.png"))

    # At the sandbox, a subscriber of Ada's clicks it in an email.
    sandbox = desktop.new_page()
    sandbox.goto(f"{kit.url}/_sandbox/activity")
    ada = sandbox.locator(f'article[aria-labelledby="account-{ADA}"]')
    assert LINK in ada.inner_text()  # the rule the app made
    ada.get_by_role("button", name="Click a link").click()
    sandbox.wait_for_load_state()
    assert "1 legacy webhook deliveries (subscriber.link_click)" in (
        sandbox.inner_text("main")
    )
    kit.state.webhooks.flush(timeout=10)
    deadline = time.monotonic() + 10
    while not stored_events(app) and time.monotonic() < deadline:
        time.sleep(0.05)
    [event] = stored_events(app)
    assert (event.type, event.subject) == ("subscriber.link_click", LINK)

    page.goto(f"{live_app}/c/1/activity")
    assert page.get_by_text(f"clicked «{LINK}»").is_visible()
    page.goto(f"{live_app}/kit/settings")
    assert "Last click" in page.locator("#following").inner_text()

    # At phone width: readable, nothing sideways; unfollowed there.
    small = phone.new_page()
    small.goto(f"{live_app}/kit/settings")
    mine = small.locator("#following")
    assert "Active at Kit" in mine.inner_text()
    assert small.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    ), "the followed links scroll sideways at phone width"
    no_violations(small)
    mine.screenshot(path=str(shots / "3-following-phone.png"))
    small.get_by_role("button", name=f"Unfollow the link {LINK}").click()
    small.wait_for_url(f"{live_app}/kit/settings?connection=1")
    assert f"No longer following the link {LINK}" in small.inner_text("main")
    assert "You follow no link or product yet." in mine.inner_text()
    assert ("subscriber.link_click", LINK) not in at_kit(kit)
    no_violations(small)
    mine.screenshot(path=str(shots / "4-unfollowed-phone.png"))

"""The install journey in a real browser: Debian's Chromium driven by Playwright.

Kit sandbox App Store → Install → sign up here → "check your inbox" → the
confirmation link in the sandbox's outbox → Confirm → Kit consent → Allow →
Kit's "installed" page → Open the app → dashboard → every tab → the activity
feed, where events appear live after "Make activity" in the sandbox.
Screenshots of each step go to
SCREENSHOT_DIR (default test-artifacts/screenshots; `make screenshots` writes
the README's copies in docs/screenshots).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium (apt-get install chromium; .ci/run does)",
    ),
]


@pytest.fixture
def live_app(kit, make_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served over HTTP on a free loopback port, registered at the sandbox
    (and where the sandbox delivers its webhooks)."""
    app = make_app(TESTING=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    origin = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = origin
    kit.config.redirect_uris = [f"{origin}/kit/oauth/callback"]
    kit.config.authorization_url = f"{origin}/kit/oauth"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield origin
    server.shutdown()
    thread.join()


@pytest.fixture
def page() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1100, "height": 760})
        yield context.new_page()
        context.close()
        browser.close()


def test_install_from_the_kit_app_store_to_the_dashboard(kit, live_app, page):
    shots = Path(os.environ.get("SCREENSHOT_DIR", "test-artifacts/screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    creator = min(kit.state.accounts.values(), key=lambda a: a.id)

    page.goto(f"{kit.url}/apps/{kit.config.app_id}")
    page.screenshot(path=shots / "1-kit-app-store.png", full_page=True)
    page.get_by_role("link", name="Install").click()

    page.wait_for_url(re.compile(re.escape(live_app) + r"/signup"))
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.screenshot(path=shots / "2-sign-up.png", full_page=True)
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url(f"{live_app}/signup/check-inbox")
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    page.screenshot(path=shots / "2a-check-your-inbox.png", full_page=True)
    # The mail went over SMTP to the sandbox; read it as a developer would.
    page.goto(f"{kit.url}/")
    page.get_by_role("navigation", name="Sandbox").get_by_role(
        "link", name="Outbox"
    ).click()
    page.wait_for_url(f"{kit.url}/_sandbox/outbox")
    assert page.get_by_text("Confirm your address").first.is_visible()
    page.screenshot(path=shots / "2b-sandbox-outbox.png", full_page=True)
    page.get_by_role("link", name=re.compile(r"verify-email\?")).first.click()

    page.wait_for_url(re.compile(re.escape(live_app) + r"/verify-email\?token="))
    page.screenshot(path=shots / "2c-confirm-address.png", full_page=True)
    page.get_by_role("button", name="Confirm and continue").click()

    page.wait_for_url(re.compile(re.escape(kit.url) + r"/v4/oauth/authorize"))
    page.get_by_label(re.compile(re.escape(creator.name))).check()
    page.screenshot(path=shots / "3-kit-consent.png", full_page=True)
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{kit.url}/apps/{kit.config.app_id}?success=true")
    page.screenshot(path=shots / "4-kit-installed.png", full_page=True)
    page.get_by_role("link", name=re.compile("^Open ")).click()

    page.wait_for_url(f"{live_app}/dashboard")
    assert page.get_by_role("heading", name=creator.name).is_visible()
    assert page.get_by_text(creator.email).first.is_visible()
    page.screenshot(path=shots / "5-dashboard.png", full_page=True)

    # Every page of the dashboard, through its tabs.
    tabs = page.get_by_role("navigation", name="Kit data")
    for number, tab in enumerate(
        ["Subscribers", "Tags", "Forms", "Sequences", "Broadcasts"], start=6
    ):
        tabs.get_by_role("link", name=tab).click()
        page.wait_for_url(re.compile(rf"/c/1/{tab.lower()}$"))
        assert page.get_by_role("heading", level=1, name=re.compile(tab)).is_visible()
        page.screenshot(path=shots / f"{number}-{tab.lower()}.png", full_page=True)

    # Next page of subscribers: a real cursor, followed by a click.
    tabs.get_by_role("link", name="Subscribers").click()
    first_row = page.locator("table.data tbody tr").first.inner_text()
    page.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r"after="))
    assert page.locator("table.data tbody tr").first.inner_text() != first_row

    # The activity feed: events appear while the page stays open, no reload.
    page.get_by_role("navigation", name="Kit data").get_by_role(
        "link", name="Activity"
    ).click()
    page.wait_for_url(re.compile(r"/c/1/activity$"))
    assert page.get_by_role("heading", level=1, name="Activity").is_visible()
    assert page.get_by_text("No events yet").is_visible()
    page.evaluate("window.stillTheSamePage = true")
    sandbox = page.context.new_page()
    sandbox.goto(f"{kit.url}/_sandbox/activity")
    sandbox.get_by_role("article", name=creator.name).get_by_role(
        "button", name="Make activity"
    ).click()
    sandbox.wait_for_load_state()
    sandbox.close()
    page.bring_to_front()
    # The burst comes as one delivery per event type: wait for two of them.
    for words in (r" joined$", r" unsubscribed$"):
        page.get_by_text(re.compile(words)).first.wait_for(timeout=20_000)
    assert page.evaluate("window.stillTheSamePage") is True
    assert not page.get_by_text("No events yet").is_visible()
    page.emulate_media(reduced_motion="reduce")  # no "just arrived" highlight
    page.screenshot(path=shots / "11-activity.png", full_page=True)

    # At phone width every tab stays in sight (the row wraps: no tab hidden in
    # a sideways scroll), and the header fits the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    tabs = page.get_by_role("navigation", name="Kit data")
    for tab in ("Overview", "Activity", "Subscribers", "Tags", "Broadcasts"):
        box = tabs.get_by_role("link", name=tab).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (
            tab,
            box,
        )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=shots / "12-phone-activity.png", full_page=True)

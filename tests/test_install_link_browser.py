"""In a real browser: an install started on the app's own site goes through
the sandbox's install link (as Kit's, so Kit counts it) and comes back to the
page it started from; and the help, support and privacy pages Kit's review
asks for, each screenshotted and checked by axe-core (WCAG 2.1 AA).

Screenshots in SCREENSHOT_DIR/review/ (default test-artifacts/screenshots).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser_audit import run_axe
from tests.servers import serving
from tests.support.accounts import PASSWORD, create_user
from tests.test_browser import (
    BROWSER_TEST,
    CHROMIUM,
    CHROMIUM_FLAGS,
    screenshots,
)

pytestmark = BROWSER_TEST


@pytest.fixture
def linked_app(kit, make_app) -> Iterator[tuple]:  # type: ignore[no-untyped-def,type-arg]
    """The app with the sandbox's app id, served on a free loopback port and
    registered at the sandbox, which allows its host as a return_to."""
    app = make_app(TESTING=False, KIT_APP_ID=str(kit.config.app_id))
    with serving(app) as origin:
        app.config["PUBLIC_BASE_URL"] = origin
        kit.config.redirect_uris = [f"{origin}/kit/oauth/callback"]
        kit.config.authorization_url = f"{origin}/kit/oauth"
        kit.config.return_to_domains = ["127.0.0.1"]
        yield app, origin


@pytest.fixture
def page() -> Iterator:  # type: ignore[type-arg]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, reduced_motion="reduce"
        )
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()
        browser.close()


def test_an_install_started_here_goes_through_kit_and_back(kit, linked_app, page):
    app, origin = linked_app
    shots = screenshots("review")
    create_user(app, "ada@example.com")
    creator = min(kit.state.accounts.values(), key=lambda a: a.id)
    completions = kit.state.install_completions

    page.goto(f"{origin}/login")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{origin}/accounts")
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.get_by_role("link", name="Connect a Kit account").click()

    # Through Kit's install link (its address carries k_app_id and return_to)
    # to the app's Authorization URL, then Kit's consent screen.
    page.wait_for_url(re.compile(re.escape(kit.url) + r"/v4/oauth/authorize"))
    link = f"{kit.url}/apps/{kit.config.app_id}/install?k_app_id=k_"
    assert any(url.startswith(link) for url in seen), seen
    page.get_by_label(re.compile(re.escape(creator.name))).check()
    page.get_by_role("button", name="Allow").click()

    # Kit records the install, then sends the creator back where they started.
    page.wait_for_url(f"{origin}/accounts")
    assert kit.state.install_completions == completions + 1
    assert page.get_by_text(f"Connected {creator.name}.").is_visible()
    assert page.locator(".flash").count() == 1
    page.screenshot(path=shots / "back-on-accounts.png", full_page=True)
    assert run_axe(page)["violations"] == []


def test_help_support_and_privacy_pages_pass_axe(kit, linked_app, page):
    _, origin = linked_app
    shots = screenshots("review")
    page.goto(f"{origin}/")
    for name, heading in (
        ("Help", re.compile("^Help")),
        ("Support", "Support"),
        ("Privacy", "Privacy"),
    ):
        page.get_by_role("navigation", name="Help and policies").get_by_role(
            "link", name=name
        ).click()
        page.wait_for_url(f"{origin}/{name.lower()}")
        assert page.get_by_role("heading", level=1, name=heading).is_visible()
        # Lazy images: scroll each into view so the screenshot shows them.
        for image in page.locator("img").element_handles():
            image.scroll_into_view_if_needed()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=shots / f"{name.lower()}.png", full_page=True)
        assert run_axe(page)["violations"] == [], name
        broken = page.evaluate(
            "[...document.images].filter((i) => !i.naturalWidth).map((i) => i.src)"
        )
        assert broken == [], broken

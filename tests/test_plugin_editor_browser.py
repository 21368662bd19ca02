"""The sandbox's "Kit email editor" in a real browser (Debian's Chromium,
Playwright): a creator inserts both of the app's blocks, changes a setting,
and reads the rendered previews; axe-core finds nothing on the page. And the
whole journey: install with plugin access from Kit's App Store (the app's
plugin screen, then Kit's consent), the blocks in the editor, Uninstall app
in Kit, the connection marked and the editor without the app.

Screenshots: SCREENSHOT_DIR/editor/ (default test-artifacts/screenshots).
"""

from __future__ import annotations

from app.cli.plugins import plugin_settings
from tests.browser_audit import run_axe
from tests.support.accounts import PASSWORD, create_user
from tests.support.blocks import editor_ready
from tests.support.plugins import give_kit_plugin_access
from tests.test_browser import (  # noqa: F401  (fixtures)
    BROWSER_TEST,
    CHROMIUM,
    CHROMIUM_FLAGS,
    contexts,
    live_app,
    screenshots,
)

pytestmark = BROWSER_TEST
ADA = 1001


def test_insert_both_blocks_change_a_setting_and_read_the_preview(served_app, kit):
    from playwright.sync_api import sync_playwright

    editor_ready(served_app, kit)
    shots = screenshots("editor")
    data = kit.state.account_data(ADA)
    sent = sorted(
        (b for b in data.broadcasts.values() if b.status == "completed"),
        key=lambda b: b.sent_at,
        reverse=True,
    )
    reader = next(
        s for s in data.subscribers.values() if s.state == "active" and s.first_name
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(10_000)
        page.goto(f"{kit.url}/")
        page.get_by_role("link", name="Email editor").click()
        page.get_by_role("button", name="Latest broadcasts").click()
        page.get_by_role("button", name="Personal greeting").click()

        broadcasts = page.locator('article[data-block="latest_broadcasts"]')
        greeting = page.locator('article[data-block="personal_greeting"]')
        preview = broadcasts.locator("[data-preview]")
        assert preview.get_by_role("link", name=sent[0].subject).is_visible()
        assert preview.get_by_role("listitem").count() == 3

        broadcasts.get_by_label("How many").fill("2")
        broadcasts.get_by_label("Heading").fill("This week in the kitchen")
        broadcasts.get_by_role("button", name="Apply").click()
        preview = broadcasts.locator("[data-preview]")
        assert preview.get_by_role("heading").inner_text() == "This week in the kitchen"
        assert preview.get_by_role("listitem").count() == 2
        # Kit's styles reached the markup: the heading is Kit's h2 size.
        assert (
            preview.get_by_role("heading").evaluate("e => getComputedStyle(e).fontSize")
            == "22px"
        )

        greeting.get_by_label("Greeting").fill("Welcome back")
        greeting.get_by_role("button", name="Apply").click()
        greeting = page.locator('article[data-block="personal_greeting"]')
        texts = greeting.locator("[data-preview]").all_inner_texts()
        assert f"Welcome back, {reader.first_name}!" in texts[0]
        assert texts[1].startswith("Welcome back, there!")

        page.screenshot(path=str(shots / "email-editor.png"), full_page=True)
        violations = run_axe(page)["violations"]
        assert violations == [], [v["id"] for v in violations]
        browser.close()


def test_install_with_plugin_access_use_both_blocks_then_uninstall(
    kit,
    make_app,
    live_app,  # noqa: F811
    contexts,  # noqa: F811
):
    give_kit_plugin_access(kit, live_app)
    with make_app(PUBLIC_BASE_URL=live_app).app_context():
        kit.config.plugin_blocks = plugin_settings()["blocks"]
    create_user(make_app())
    page = contexts[0].new_page()
    page.goto(f"{live_app}/login")
    page.get_by_label("Email").fill("creator@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_app}/**")

    # Install: the app's plugin screen, Kit's consent, back on Kit.
    page.goto(f"{kit.url}/apps/{kit.config.app_id}")
    page.get_by_role("link", name="Install").click()
    page.wait_for_url(f"{live_app}/plugins/oauth/authorize?**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{kit.url}/v4/oauth/authorize?**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{kit.url}/apps/{kit.config.app_id}?success=true")

    # Kit's email editor, with the token the install gave Kit.
    page.get_by_role("link", name="Email editor").click()
    page.get_by_role("button", name="Latest broadcasts").click()
    page.get_by_role("button", name="Personal greeting").click()
    broadcasts = page.locator('article[data-block="latest_broadcasts"]')
    broadcasts.get_by_label("How many").fill("1")
    broadcasts.get_by_role("button", name="Apply").click()
    broadcasts = page.locator('article[data-block="latest_broadcasts"]')
    assert broadcasts.locator("[data-preview] li").count() == 1
    greeting = page.locator('article[data-block="personal_greeting"]')
    assert greeting.locator("[data-preview]").first.inner_text().startswith("Hi, ")

    # Uninstall in Kit: the connection is marked, Kit holds no token for it.
    page.goto(f"{kit.url}/apps/{kit.config.app_id}")
    page.get_by_role("button", name="Uninstall app").click()
    page.goto(f"{live_app}/connections/1")
    assert "Uninstalled at Kit" in page.inner_text(".title-group")
    page.goto(f"{kit.url}/email-editor")
    assert "not installed with plugin access" in page.inner_text("main")

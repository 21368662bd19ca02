"""Installing an app with plugin access, in a real browser (Debian's Chromium
through Playwright): on the sandbox's App Store page, Install → the app's
plugin screen (what Kit gets) → Allow → Kit's consent for the API → Allow →
back on Kit, "installed"; then "Uninstall app" in Kit, and the app's
connection page and accounts list say "Uninstalled at Kit". Screenshots of
the plugin screen and the uninstalled connection go to
SCREENSHOT_DIR/plugins/ (default test-artifacts/screenshots)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser_audit import run_axe
from tests.support.accounts import PASSWORD, create_user
from tests.support.plugins import bearer, give_kit_plugin_access
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
    return screenshots("plugins")


def test_install_with_plugin_access_then_uninstall_at_kit(
    kit,
    make_app,
    live_app,  # noqa: F811
    contexts,  # noqa: F811
    shots,
):
    import requests

    from kit_sandbox.plugins.tokens import bearer_for

    give_kit_plugin_access(kit, live_app)
    create_user(make_app())
    page = contexts[0].new_page()
    page.goto(f"{live_app}/login")
    page.get_by_label("Email").fill("creator@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_app}/**")

    page.goto(f"{kit.url}/apps/{kit.config.app_id}")
    page.get_by_role("link", name="Install").click()
    # First the app's own screen: what Kit gets.
    page.wait_for_url(f"{live_app}/plugins/oauth/authorize?**")
    assert page.get_by_role("heading", name="Let Kit use").is_visible()
    assert "content blocks" in page.inner_text("main")
    page.screenshot(path=str(shots / "plugin-authorize.png"), full_page=True)
    assert run_axe(page)["violations"] == []
    page.get_by_role("button", name="Allow").click()
    # Then Kit's consent for the API, then back on Kit.
    page.wait_for_url(f"{kit.url}/v4/oauth/authorize?**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{kit.url}/apps/{kit.config.app_id}?success=true")
    assert "is installed" in page.inner_text("h1")

    token = bearer_for(kit.state, ADA)
    assert token is not None
    answer = requests.get(f"{live_app}/plugins/account", headers=bearer(token))
    assert answer.json()["kit_account_id"] == str(ADA)

    page.get_by_role("button", name="Uninstall app").click()
    assert page.inner_text("#revoke-status") == "200"

    page.goto(f"{live_app}/connections/1")
    assert "Uninstalled at Kit" in page.inner_text(".title-group")
    assert page.get_by_role("link", name="Install again").is_visible()
    page.screenshot(path=str(shots / "connection-uninstalled.png"), full_page=True)
    assert run_axe(page)["violations"] == []
    page.goto(f"{live_app}/accounts")
    assert "Uninstalled at Kit" in page.inner_text("main")
    assert (
        requests.get(f"{live_app}/plugins/account", headers=bearer(token)).status_code
        == 401
    )

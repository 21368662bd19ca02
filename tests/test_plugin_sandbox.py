"""The sandbox plays Kit's plugin side (issue 23, item 6, its OAuth half),
against the app served over HTTP: Install goes plugin OAuth first, then the
API OAuth, then back on Kit; the sandbox keeps the plugin pair per account,
refreshes it when it has expired, sends a wrong, expired or another
creator's token when told to, and "Uninstall app" POSTs the revoke URL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from app.models import PluginToken
from tests.support.accounts import create_user
from tests.support.plugins import (
    bearer,
    give_kit_plugin_access,
    install_from_the_app_store,
)
from tests.support.rows import stored, update_rows

ADA, BEN = 1001, 1002


@pytest.fixture
def origin(served_app, kit) -> str:  # type: ignore[no-untyped-def]
    origin = served_app.config["PUBLIC_BASE_URL"]
    give_kit_plugin_access(kit, origin)
    create_user(served_app, "ada@example.com")
    create_user(served_app, "ben@example.com")
    return str(origin)


def _account(origin: str, token: str | None) -> requests.Response:
    return requests.get(
        f"{origin}/plugins/account", headers=bearer(token or ""), timeout=10
    )


def test_install_goes_plugin_oauth_first_then_api_then_back_on_kit(
    kit, origin, kit_browser
):
    from kit_sandbox.plugins.tokens import bearer_for

    trail = install_from_the_app_store(kit, origin, kit_browser, "ada@example.com", ADA)
    paths = [urlsplit(url).path for url in trail]
    steps = [
        "/plugins/oauth/authorize",  # the app's plugin screen
        "/apps/install",  # back on Kit with the code
        "/kit/oauth",  # the API install, in the same browser
        "/v4/oauth/authorize",  # Kit's consent
        "/kit/oauth/callback",
        f"/apps/{kit.config.app_id}",  # "installed"
    ]
    found = [paths.index(step) for step in steps]
    assert found == sorted(found), paths
    token = bearer_for(kit.state, ADA)
    assert token and _account(origin, token).json()["kit_account_id"] == str(ADA)
    assert bearer_for(kit.state, BEN) is None  # not installed for Ben


def test_the_sandbox_refreshes_an_expired_plugin_token(kit, origin, kit_browser):
    from kit_sandbox.plugins.tokens import bearer_for

    install_from_the_app_store(kit, origin, kit_browser, "ada@example.com", ADA)
    old = bearer_for(kit.state, ADA)
    kit.state.plugin_pairs[ADA].expires_at = time.time() - 1
    new = bearer_for(kit.state, ADA)
    assert new != old
    assert _account(origin, new).status_code == 200
    assert _account(origin, old).status_code == 401  # rotated away


@pytest.mark.parametrize("mode", ["wrong", "expired"])
def test_the_sandbox_sends_a_bad_token_when_told(
    kit, origin, kit_browser, served_app, mode
):
    from kit_sandbox.plugins.tokens import bearer_for

    install_from_the_app_store(kit, origin, kit_browser, "ada@example.com", ADA)
    if mode == "expired":
        past = datetime.now(UTC) - timedelta(seconds=1)
        update_rows(served_app, PluginToken, None, expires_at=past)
        kit.state.plugin_pairs[ADA].expires_at = time.time() - 1
    kit.config.plugin_token_mode = mode
    answer = _account(origin, bearer_for(kit.state, ADA))
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_another_creators_token_reaches_only_that_creator(kit, origin, served_app):
    from kit_sandbox.plugins.tokens import bearer_for
    from kit_sandbox.testing import KitBrowser

    for email, account in (("ada@example.com", ADA), ("ben@example.com", BEN)):
        browser = KitBrowser()
        install_from_the_app_store(kit, origin, browser, email, account)
        browser.close()
    kit.config.plugin_token_mode = "foreign"
    answer = _account(origin, bearer_for(kit.state, ADA))
    assert answer.json()["kit_account_id"] == str(BEN)  # Ben's own data, not Ada's


def test_uninstall_app_posts_the_revoke_url(kit, origin, kit_browser, served_app):
    from kit_sandbox.plugins.tokens import bearer_for

    install_from_the_app_store(kit, origin, kit_browser, "ada@example.com", ADA)
    token = bearer_for(kit.state, ADA)
    page = kit_browser.http.post(
        f"{kit.url}/apps/{kit.config.app_id}/uninstall", timeout=10
    )
    assert page.status_code == 200
    assert '<code id="revoke-status">200</code>' in page.text
    assert stored(served_app).uninstalled_at is not None
    assert _account(origin, token).status_code == 401
    assert bearer_for(kit.state, ADA) is None
    assert all(t.revoked for t in kit.state.token_sets)  # the API grants too


def test_flask_kit_dev_registers_plugin_access_at_the_sandbox(app):
    from flask import url_for

    from app.cli.dev import give_plugin_access
    from kit_sandbox import SandboxConfig

    config = SandboxConfig()
    assert not config.has_plugins  # an API-only app unless told
    give_plugin_access(app, config, "http://127.0.0.1:5000")
    assert config.has_plugins
    assert config.plugin_client_id == app.config["KIT_PLUGIN_CLIENT_ID"]
    assert config.plugin_client_secret == app.config["KIT_PLUGIN_CLIENT_SECRET"]
    with app.test_request_context():
        for step in ("authorize", "token", "refresh", "revoke"):
            path = url_for(f"plugins.{step}")
            assert (
                getattr(config, f"plugin_{step}_url") == f"http://127.0.0.1:5000{path}"
            )

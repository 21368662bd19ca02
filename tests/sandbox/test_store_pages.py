"""Kit's App Store on the sandbox: the app's page, Install, the installed page."""

from __future__ import annotations

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    BANNER,
    StartSandbox,
    location_query,
)


def test_root_redirects_to_the_app_store_page(fresh_kit: SandboxServer) -> None:
    response = requests.get(fresh_kit.url + "/", allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/apps/4242")


def test_app_store_page_shows_the_app_and_an_install_button(
    fresh_kit: SandboxServer,
) -> None:
    response = requests.get(fresh_kit.url + "/apps/4242", timeout=5)
    assert response.status_code == 200
    assert "Kit App Starter" in response.text
    assert BANNER in response.text
    assert 'href="/apps/4242/install"' in response.text
    assert ">Install<" in response.text
    assert "<script" not in response.text
    stylesheet = requests.get(fresh_kit.url + "/_sandbox/static/sandbox.css", timeout=5)
    assert stylesheet.status_code == 200
    assert "#fb6970" in stylesheet.text.lower()


def test_unknown_app_is_a_friendly_404_page(fresh_kit: SandboxServer) -> None:
    response = requests.get(fresh_kit.url + "/apps/1", timeout=5)
    assert response.status_code == 404
    assert "App not found" in response.text
    assert BANNER in response.text


@pytest.mark.parametrize(
    ("authorization_url", "expected_prefix"),
    [
        ("http://127.0.0.1:5000/kit/oauth", "http://127.0.0.1:5000/kit/oauth?"),
        (
            "http://localhost:8000/install?source=kit",
            "http://localhost:8000/install?source=kit&",
        ),
    ],
)
def test_install_sends_the_browser_to_the_authorization_url_with_redirect(
    start_sandbox: StartSandbox, authorization_url: str, expected_prefix: str
) -> None:
    kit = start_sandbox(authorization_url=authorization_url)
    response = requests.get(
        kit.url + "/apps/4242/install?k_app_id=k_4242",
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(expected_prefix)
    assert location_query(response)["redirect"] == (f"{kit.url}/apps/4242?success=true")


def test_success_page_says_installed_and_links_to_the_dashboard(
    start_sandbox: StartSandbox,
) -> None:
    kit = start_sandbox(authorization_url="http://127.0.0.1:5000/kit/oauth?x=1")
    response = requests.get(kit.url + "/apps/4242?success=true", timeout=5)
    assert response.status_code == 200
    assert "Kit App Starter is installed" in response.text
    assert 'href="http://127.0.0.1:5000/dashboard"' in response.text
    assert "Open Kit App Starter" in response.text
    assert kit.state.stats()["install_completions"] == 1

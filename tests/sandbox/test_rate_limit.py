"""Kit's rate limit on API v4: per access token, over a rolling window."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    ADA,
    BEN,
    Api,
    StartSandbox,
)


def test_rate_limit_is_per_token_and_rolls(start_sandbox: StartSandbox) -> None:
    kit = start_sandbox(rate_limit=5, rate_window=1.0)
    ada, other = Api(kit, ADA), Api(kit, ADA)
    started = time.monotonic()
    paths = ["/v4/account", "/v4/tags", "/v4/subscribers", "/v4/forms", "/v4/nope"]
    assert [ada.get(path).status_code for path in paths] == [200, 200, 200, 200, 404]
    limited = ada.get("/v4/account")
    if time.monotonic() - started < 1.0:  # else the window already rolled on
        assert limited.status_code == 429
        assert limited.text == "Retry later"
        assert limited.headers["Content-Type"].startswith("text/plain")
        assert "Retry-After" not in limited.headers
    assert other.get("/v4/account").status_code == 200
    assert kit.state.stats()["api_requests"] == 7

    time.sleep(max(0.0, started + 1.05 - time.monotonic()))
    assert ada.get("/v4/account").status_code == 200


def test_rate_limit_is_set_through_the_control_api(fresh_kit: SandboxServer) -> None:
    settings = requests.post(
        fresh_kit.url + "/_sandbox/settings",
        json={"rate_limit": 2, "rate_window": 30},
        timeout=5,
    )
    assert settings.status_code == 200
    assert settings.json()["rate_limit"] == 2
    assert fresh_kit.config.rate_window == 30
    ada = Api(fresh_kit, ADA)
    assert [ada.get("/v4/tags").status_code for _ in range(3)] == [200, 200, 429]
    # A planned 429 fault is still its own thing, even for a fresh token.
    fresh_kit.state.add_fault("api", "429")
    assert Api(fresh_kit, BEN).get("/v4/tags").status_code == 429


@pytest.mark.parametrize(
    "body",
    [{"rate_limit": 0}, {"rate_limit": 1.5}, {"rate_window": 0}, {"rate_window": -1}],
)
def test_control_api_refuses_bad_rate_settings(
    fresh_kit: SandboxServer, body: dict[str, Any]
) -> None:
    response = requests.post(fresh_kit.url + "/_sandbox/settings", json=body, timeout=5)
    assert response.status_code == 400
    assert (fresh_kit.config.rate_limit, fresh_kit.config.rate_window) == (600, 60.0)

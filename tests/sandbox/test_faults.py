"""Planned faults and latency, on the token, revoke and API endpoints."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    Api,
    StartSandbox,
    connect,
    get_account,
    refresh_fields,
    revoke,
    token_request,
)


def call_endpoint(
    kit: SandboxServer, endpoint: str, tokens: dict[str, Any], timeout: float = 5
) -> requests.Response:
    """One call to ``endpoint`` that succeeds when no fault is planned."""
    if endpoint == "token":
        body = refresh_fields(tokens["refresh_token"])
        return token_request(kit, body, timeout=timeout)
    if endpoint == "revoke":
        return revoke(kit, "made-up", timeout=timeout)
    return get_account(kit, tokens["access_token"], timeout=timeout)


FAULTS = [
    ("token", "500", 500, "application/json"),
    ("token", "not_json", 200, "text/html"),
    ("token", "invalid_grant", 400, "application/json"),
    ("revoke", "500", 500, "application/json"),
    ("revoke", "not_json", 200, "text/html"),
    ("api", "500", 500, "application/json"),
    ("api", "not_json", 200, "text/html"),
    ("api", "429", 429, "text/plain"),
    ("api", "401_invalid", 401, "application/json"),
]


@pytest.mark.parametrize(("endpoint", "kind", "status", "mimetype"), FAULTS)
def test_a_planned_fault_fails_one_call_then_service_resumes(
    fresh_kit: SandboxServer,
    browser: requests.Session,
    endpoint: str,
    kind: str,
    status: int,
    mimetype: str,
) -> None:
    tokens = connect(browser, fresh_kit)
    fresh_kit.state.add_fault(endpoint, kind)
    failed = call_endpoint(fresh_kit, endpoint, tokens)
    assert failed.status_code == status
    assert failed.headers["Content-Type"].startswith(mimetype)
    if kind == "not_json":
        with pytest.raises(requests.JSONDecodeError):
            failed.json()
    if kind == "429":
        assert failed.text == "Retry later"
        assert "Retry-After" not in failed.headers
    if kind == "500" and endpoint == "api":
        assert failed.json() == {"errors": ["Internal server error"]}
    if kind == "invalid_grant":
        assert failed.json()["error"] == "invalid_grant"
    if kind == "401_invalid":
        assert failed.json() == {"errors": ["The access token is invalid"]}
    # The fault did no work: the same refresh token still works afterwards.
    assert call_endpoint(fresh_kit, endpoint, tokens).status_code == 200


@pytest.mark.parametrize("endpoint", ["token", "revoke", "api"])
def test_a_timeout_fault_stalls_then_answers_504(
    fresh_kit: SandboxServer, browser: requests.Session, endpoint: str
) -> None:
    tokens = connect(browser, fresh_kit)
    fresh_kit.state.timeout_seconds = 0.3
    fresh_kit.state.add_fault(endpoint, "timeout", times=2)
    with pytest.raises(requests.ReadTimeout):
        call_endpoint(fresh_kit, endpoint, tokens, timeout=0.05)
    assert call_endpoint(fresh_kit, endpoint, tokens).status_code == 504
    assert call_endpoint(fresh_kit, endpoint, tokens).status_code == 200


def test_faults_count_down_and_can_be_cleared(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, fresh_kit)
    fresh_kit.state.add_fault("api", "500", times=2)
    statuses = [call_endpoint(fresh_kit, "api", tokens).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    fresh_kit.state.add_fault("api", "500", times=5)
    fresh_kit.state.clear_faults()
    assert call_endpoint(fresh_kit, "api", tokens).status_code == 200
    logged = [entry["status"] for entry in fresh_kit.state.api_requests]
    assert logged == [500, 500, 200, 200]


@pytest.mark.parametrize(
    ("endpoint", "kind", "times"),
    [
        ("api", "invalid_grant", 1),
        ("token", "429", 1),
        ("revoke", "invalid_grant", 1),
        ("authorize", "500", 1),
        ("api", "teapot", 1),
        ("api", "500", 0),
    ],
)
def test_impossible_faults_are_refused(
    fresh_kit: SandboxServer, endpoint: str, kind: str, times: int
) -> None:
    with pytest.raises(ValueError):
        fresh_kit.state.add_fault(endpoint, kind, times)
    response = requests.post(
        fresh_kit.url + "/_sandbox/faults",
        json={"endpoint": endpoint, "kind": kind, "times": times},
        timeout=5,
    )
    assert response.status_code == 400
    assert fresh_kit.state.faults == []


@pytest.mark.parametrize("endpoint", ["token", "revoke", "api"])
def test_latency_is_added_to_every_call(
    start_sandbox: StartSandbox, browser: requests.Session, endpoint: str
) -> None:
    kit = start_sandbox()
    tokens = connect(browser, kit)
    kit.config.latency_ms = 150
    started = time.monotonic()
    assert call_endpoint(kit, endpoint, tokens).status_code == 200
    # A lower bound only: sleep() never returns early, so this can't flake.
    assert time.monotonic() - started >= 0.15


def test_faults_and_the_request_log_cover_the_new_endpoints(ada: Api) -> None:
    ada.kit.state.add_fault("api", "500")
    failed = ada.get("/v4/subscribers")
    assert failed.status_code == 500
    assert failed.json() == {"errors": ["Internal server error"]}
    assert ada.get("/v4/subscribers").status_code == 200
    assert ada.kit.state.stats()["api_requests"] == 2
    assert [entry["status"] for entry in ada.kit.state.api_requests] == [500, 200]


def test_a_hang_holds_the_request_until_released_then_does_the_real_work(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, fresh_kit)
    fresh_kit.state.add_fault("token", "hang")
    control = fresh_kit.url + "/_sandbox"
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(call_endpoint, fresh_kit, "token", tokens, 30)
        until(lambda: requests.get(control + "/hanging", timeout=5).json()["hanging"])
        assert not held.done()
        released = requests.post(control + "/release", timeout=5).json()
        answer = held.result(timeout=30)
    assert released == {"released": 1}
    assert answer.status_code == 200
    assert fresh_kit.state.hanging == 0
    # The refresh was done: the refresh token it spent is dead now.
    spent = call_endpoint(fresh_kit, "token", tokens)
    assert spent.json()["error"] == "invalid_grant"


def test_a_hang_nobody_releases_answers_after_timeout_seconds(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, fresh_kit)
    fresh_kit.state.timeout_seconds = 0.2
    fresh_kit.state.add_fault("api", "hang")
    assert call_endpoint(fresh_kit, "api", tokens).status_code == 200
    assert fresh_kit.state.hanging == 0


def until(condition: Callable[[], object], seconds: float = 30) -> None:
    """Wait for `condition` (a state, not a duration); fail if it never holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)

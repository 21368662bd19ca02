"""A slow token endpoint: the rotation happens whether the client waited or not.

The app's tests of issue 19 (tests/test_token_pair_kept.py) rely on this: the
"hang" fault with a short ``timeout_seconds`` is a Kit that answers a refresh
late, and a client that gave up by then has lost the pair Kit issued.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import connect, refresh_fields, token_request


def until(condition: Callable[[], object], seconds: float = 30) -> None:
    """Wait for `condition` (a state, not a duration); fail if it never holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def test_a_refresh_the_client_gave_up_on_still_rotates_the_pair(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, fresh_kit)
    fresh_kit.state.timeout_seconds = 1
    fresh_kit.state.add_fault("token", "hang")
    with pytest.raises(requests.ReadTimeout):
        token_request(fresh_kit, refresh_fields(tokens["refresh_token"]), timeout=0.2)
    until(lambda: fresh_kit.state.find_refresh_token(tokens["refresh_token"]).revoked)
    assert fresh_kit.state.hanging == 0
    # The old token is spent: a retry of it is refused, and Kit holds a live
    # pair nobody received.
    again = token_request(fresh_kit, refresh_fields(tokens["refresh_token"]))
    assert again.json()["error"] == "invalid_grant"
    newest = fresh_kit.state.token_sets[-1]
    assert not newest.revoked
    assert newest.refresh_token != tokens["refresh_token"]

"""The Kit API client: retries, backoff, typed errors, pagination (over HTTP)."""

from __future__ import annotations

import time

import pytest

from app.kit import api
from app.kit.api import KitClient, backoff
from app.kit.errors import (
    KitNotFound,
    KitRateLimited,
    KitUnavailable,
    KitValidationError,
)
from tests.support.installing import connect


@pytest.fixture
def kit_client(app, kit, user):  # type: ignore[no-untyped-def]
    """The API client of a connection made with a real grant (no consent round
    trip: these tests are about the calls, not the install)."""
    connect(app, kit)
    with app.app_context():
        yield KitClient(1, app.extensions["kit_settings"])


def api_calls(kit) -> int:  # type: ignore[no-untyped-def]
    return kit.state.stats()["api_requests"]


@pytest.mark.parametrize("kind", ["429", "500", "timeout", "not_json"])
def test_a_get_is_retried_after_a_passing_failure(kit_client, kit, kind):
    kit.state.timeout_seconds = 2.5  # beyond the test app's 2 s read timeout
    kit.state.add_fault("api", kind)
    before = api_calls(kit)
    assert kit_client.get("account")["account"]["id"]
    if kind == "timeout":
        time.sleep(1)  # the stalled request is logged when the sandbox answers it
    assert api_calls(kit) - before == 2


def test_a_get_gives_up_after_four_attempts(kit_client, kit):
    kit.state.add_fault("api", "500", times=10)
    before = api_calls(kit)
    with pytest.raises(KitUnavailable):
        kit_client.get("account")
    assert api_calls(kit) - before == 4


def test_rate_limit_that_lasts_is_reported_as_such(kit_client, kit):
    kit.state.add_fault("api", "429", times=10)
    with pytest.raises(KitRateLimited):
        kit_client.get("account")


def test_a_post_is_not_retried_on_a_server_error(kit_client, kit):
    kit.state.add_fault("api", "500")
    before = api_calls(kit)
    with pytest.raises(KitUnavailable):
        kit_client.post("tags", {"name": "x"})
    assert api_calls(kit) - before == 1


def test_a_post_is_retried_on_429_since_kit_did_nothing(kit_client, kit):
    kit.state.add_fault("api", "429")
    before = api_calls(kit)
    body = kit_client.post("tags", {"name": "Retried"})
    assert body["tag"]["name"] == "Retried"
    assert api_calls(kit) - before == 2


def test_errors_are_typed_with_kits_messages(kit_client):
    with pytest.raises(KitNotFound):
        kit_client.get("no/such/thing")
    with pytest.raises(KitValidationError) as error:
        kit_client.post("tags", {"name": ""})
    assert error.value.messages == ["Name can't be blank"]


@pytest.mark.parametrize("attempt", range(6))
def test_backoff_is_capped_exponential_with_jitter(attempt):
    delays = [backoff(attempt) for _ in range(200)]
    ceiling = min(api.BACKOFF_CAP, api.BACKOFF_BASE * 2**attempt)
    assert all(0 <= d <= ceiling for d in delays)
    assert len({round(d, 6) for d in delays}) > 150  # jittered, not fixed


def test_iterate_walks_every_page_once(kit_client, kit):
    ids = [
        s["id"]
        for s in kit_client.iterate(
            "subscribers", "subscribers", per_page=97, status="all"
        )
    ]
    assert len(ids) == len(set(ids))
    first = kit_client.page(
        "subscribers", "subscribers", per_page=1, status="all", include_total_count=True
    )
    assert len(ids) == first.total_count
    assert len(ids) >= 2500

"""Webhooks 2.0's endpoints resource (KIT_PLATFORM.md §5a), over HTTP: create
(the secret shown once), list, get, update, delete, ownership per OAuth client,
validation, the secret rotation window and the 404 of accounts without webhooks.

Deliveries are in test_webhooks_delivery.py and test_webhooks_retries.py,
activity in test_webhooks_activity.py; their helpers in webhooks.py.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import ADA, BEN, KIT_DATE, Api
from tests.sandbox.webhooks import call, control, register

ENDPOINT_KEYS = [
    "id",
    "url",
    "events",
    "name",
    "description",
    "status",
    "created_at",
    "previous_secret_expires_at",
]
TAGS = ["tag.created"]


def other_client(kit: SandboxServer, account_id: int = ADA) -> Api:
    """API calls from another OAuth app, for the same account."""
    api = Api(kit, account_id)
    api.token = kit.state.issue_tokens(
        client_id="another-app",
        account_id=account_id,
        tenant_name=None,
        scope="public",
        expires_in=3600,
        grant_code="other",
    ).access_token
    return api


# -- create, read, update, delete --------------------------------------------------


def test_create_answers_the_endpoint_and_its_secret_once(ada: Api) -> None:
    created = ada.post(
        "/v4/webhook_endpoints",
        json={
            "url": "https://app.example/webhooks/kit/abc",
            "events": ["subscriber.created", "subscriber.tag_added"],
            "name": "Activity feed",
            "description": "Kit App Starter",
        },
    )
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    endpoint = created.json()["webhook_endpoint"]
    assert list(endpoint) == [*ENDPOINT_KEYS, "secret"]
    assert isinstance(endpoint["id"], int)
    assert endpoint["events"] == ["subscriber.created", "subscriber.tag_added"]
    assert endpoint["status"] == "active"
    assert endpoint["name"] == "Activity feed"
    assert KIT_DATE.fullmatch(endpoint["created_at"])
    assert endpoint["previous_secret_expires_at"] is None
    assert len(endpoint["secret"]) >= 32

    path = f"/v4/webhook_endpoints/{endpoint['id']}"
    shown_later = [
        ada.ok(path)["webhook_endpoint"],
        ada.ok("/v4/webhook_endpoints")["webhook_endpoints"][0],
        call(ada, "PATCH", path, json={"name": "Feed"}).json()["webhook_endpoint"],
    ]
    for seen in shown_later:
        assert "secret" not in seen
        assert endpoint["secret"] not in str(seen)
        assert seen["id"] == endpoint["id"]
    assert ada.post("/v4/webhook_endpoints", json={}).status_code == 422


def test_list_is_a_cursor_list_filtered_by_status(ada: Api) -> None:
    ids = [register(ada, f"https://app.example/hook/{n}")["id"] for n in range(3)]
    call(ada, "PATCH", f"/v4/webhook_endpoints/{ids[1]}", json={"status": "disabled"})

    everything = ada.walk("/v4/webhook_endpoints", per_page=2)
    assert [len(page["webhook_endpoints"]) for page in everything] == [2, 1]
    assert [e["id"] for p in everything for e in p["webhook_endpoints"]] == ids
    active = ada.ok("/v4/webhook_endpoints", status="active")["webhook_endpoints"]
    assert [e["id"] for e in active] == [ids[0], ids[2]]
    disabled = ada.ok("/v4/webhook_endpoints", status="disabled")["webhook_endpoints"]
    assert [(e["id"], e["status"]) for e in disabled] == [(ids[1], "disabled")]
    bad = ada.get("/v4/webhook_endpoints", status="paused")
    assert bad.status_code == 422
    assert bad.json() == {"errors": ["Status is not included in the list"]}


def test_patch_changes_the_fields_sent_and_events_replace_the_list(ada: Api) -> None:
    endpoint = register(ada, "https://app.example/hook", ["subscriber.created"])
    path = f"/v4/webhook_endpoints/{endpoint['id']}"
    changed = call(
        ada,
        "PATCH",
        path,
        json={"events": ["tag.created", "tag.deleted"], "url": "http://127.0.0.1:9/h"},
    )
    assert changed.status_code == 200
    body = changed.json()["webhook_endpoint"]
    assert body["events"] == ["tag.created", "tag.deleted"]
    assert body["url"] == "http://127.0.0.1:9/h"
    assert body["name"] == endpoint["name"]
    assert ada.ok(path)["webhook_endpoint"] == body

    refused = call(ada, "PATCH", path, json={"status": "paused", "events": []})
    assert refused.status_code == 422
    assert refused.json() == {
        "errors": ["Events can't be blank", "Status is not included in the list"]
    }
    assert ada.ok(path)["webhook_endpoint"] == body


def test_delete_is_204_and_the_endpoint_is_gone(ada: Api) -> None:
    endpoint = register(ada, "https://app.example/hook")
    path = f"/v4/webhook_endpoints/{endpoint['id']}"
    deleted = call(ada, "DELETE", path)
    assert deleted.status_code == 204
    assert deleted.content == b""
    for method in ("GET", "PATCH", "DELETE"):
        gone = call(ada, method, path, json={})
        assert gone.status_code == 404
        assert gone.json() == {"errors": ["Not Found"]}
    assert ada.ok("/v4/webhook_endpoints")["webhook_endpoints"] == []


def test_an_endpoint_belongs_to_the_app_and_account_that_made_it(
    ada: Api, fresh_kit: SandboxServer
) -> None:
    endpoint = register(ada, "https://app.example/hook")
    path = f"/v4/webhook_endpoints/{endpoint['id']}"
    for stranger in (other_client(fresh_kit), Api(fresh_kit, BEN)):
        assert stranger.ok("/v4/webhook_endpoints")["webhook_endpoints"] == []
        for method, suffix in [
            ("GET", ""),
            ("PATCH", ""),
            ("DELETE", ""),
            ("POST", "/rotate_secret"),
            ("POST", "/revoke_previous_secret"),
            ("GET", "/deliveries"),
        ]:
            answer = call(stranger, method, path + suffix, json={"name": "mine"})
            assert answer.status_code == 404, (method, suffix)
            assert answer.json() == {"errors": ["Not Found"]}
    assert ada.ok(path)["webhook_endpoint"]["name"] is None


def test_the_endpoints_api_needs_a_live_token(fresh_kit: SandboxServer) -> None:
    answer = requests.get(f"{fresh_kit.url}/v4/webhook_endpoints", timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"errors": ["The access token is invalid"]}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"events": ["subscriber.created"]}, ["Url can't be blank"]),
        ({"url": "ftp://app.example/h", "events": TAGS}, ["Url is invalid"]),
        ({"url": "javascript:alert(1)", "events": TAGS}, ["Url is invalid"]),
        ({"url": "https://", "events": TAGS}, ["Url is invalid"]),
        ({"url": "app.example/hook", "events": TAGS}, ["Url is invalid"]),
        ({"url": "https://app.example:99999/h", "events": TAGS}, ["Url is invalid"]),
        ({"url": "https://app.example/a b", "events": TAGS}, ["Url is invalid"]),
        ({"url": 42, "events": TAGS}, ["Url is invalid"]),
        ({"url": "https://app.example/h", "events": []}, ["Events can't be blank"]),
        ({"url": "https://app.example/h"}, ["Events can't be blank"]),
        (
            {"url": "https://app.example/h", "events": "subscriber.created"},
            ["Events is invalid"],
        ),
        (
            {"url": "https://app.example/h", "events": ["purchase.created"]},
            ["Event purchase.created is not available yet"],
        ),
        (
            {
                "url": "https://app.example/h",
                "events": ["subscriber.link_clicked", "subscriber.email_opened"],
            },
            [
                "Event subscriber.link_clicked is not available yet",
                "Event subscriber.email_opened is not available yet",
            ],
        ),
        (
            {"url": "nope", "events": ["subscriber.created", "subscriber.joined"]},
            ["Url is invalid", "Event subscriber.joined is not a valid event type"],
        ),
        (
            {"url": "https://a.example/h", "events": ["tag.created"], "name": 7},
            ["Name is invalid"],
        ),
        (["https://app.example/h"], ["Request body must be a JSON object"]),
        ("not json", ["Request body must be JSON"]),
    ],
)
def test_create_refuses_bad_bodies_with_422(
    ada: Api, body: Any, errors: list[str]
) -> None:
    if isinstance(body, str):
        answer = ada.post("/v4/webhook_endpoints", data=body)
    else:
        answer = ada.post("/v4/webhook_endpoints", json=body)
    assert answer.status_code == 422
    assert answer.json() == {"errors": errors}
    assert ada.ok("/v4/webhook_endpoints")["webhook_endpoints"] == []


def test_loopback_and_plain_http_urls_are_accepted_by_the_stand_in(ada: Api) -> None:
    endpoint = register(ada, "http://127.0.0.1:5000/webhooks/kit/key")
    assert endpoint["url"] == "http://127.0.0.1:5000/webhooks/kit/key"


# -- accounts without webhooks ---------------------------------------------------------


def test_an_account_without_webhooks_gets_404_everywhere(
    ada: Api, fresh_kit: SandboxServer
) -> None:
    endpoint = register(ada, "https://app.example/hook")
    path = f"/v4/webhook_endpoints/{endpoint['id']}"
    assert control(fresh_kit, "/webhooks/enabled", account_id=ADA, enabled=False) == {
        "account_id": ADA,
        "enabled": False,
    }
    for method, route in [
        ("POST", "/v4/webhook_endpoints"),
        ("GET", "/v4/webhook_endpoints"),
        ("GET", path),
        ("PATCH", path),
        ("DELETE", path),
        ("POST", path + "/rotate_secret"),
        ("POST", path + "/revoke_previous_secret"),
        ("GET", path + "/deliveries"),
        ("GET", path + "/deliveries/700001"),
    ]:
        answer = call(ada, method, route, json={"url": "https://a.example/h"})
        assert answer.status_code == 404, route
        assert answer.json() == {"errors": ["Not Found"]}
    # Only that account; a bad token is still a 401 first.
    assert Api(fresh_kit, BEN).ok("/v4/webhook_endpoints")["webhook_endpoints"] == []
    unauthenticated = requests.get(f"{fresh_kit.url}/v4/webhook_endpoints", timeout=5)
    assert unauthenticated.status_code == 401

    control(fresh_kit, "/webhooks/enabled", account_id=ADA, enabled=True)
    assert ada.ok(path)["webhook_endpoint"]["id"] == endpoint["id"]
    control(fresh_kit, "/webhooks/enabled", account_id=ADA, enabled=False)
    fresh_kit.state.reset()  # every seeded account starts enabled
    overview = requests.get(f"{fresh_kit.url}/_sandbox/webhooks", timeout=5).json()
    assert overview["accounts"][str(ADA)] == {"enabled": True}
    assert overview["webhook_endpoints"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/webhooks/enabled", {"account_id": ADA}),
        ("/webhooks/enabled", {"account_id": 999, "enabled": False}),
        ("/webhooks/enabled", {"account_id": "1001", "enabled": "no"}),
        ("/webhooks/flush", {"timeout": "soon"}),
        ("/webhooks/flush", {"timeout": 600}),
        ("/activity", {"account_id": ADA, "kind": "storm"}),
        ("/activity", {"account_id": True}),
        ("/activity", ["not", "an", "object"]),
    ],
)
def test_the_webhook_controls_refuse_bad_bodies(
    fresh_kit: SandboxServer, path: str, body: Any
) -> None:
    answer = requests.post(f"{fresh_kit.url}/_sandbox{path}", json=body, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["error"]


# -- secret rotation -------------------------------------------------------------------


def test_rotation_opens_a_window_that_revoke_or_force_ends(
    ada: Api, fresh_kit: SandboxServer
) -> None:
    endpoint = register(ada, "https://app.example/hook")
    path = f"/v4/webhook_endpoints/{endpoint['id']}"
    before = time.time()
    rotated = ada.post(path + "/rotate_secret")  # no body at all
    assert rotated.status_code == 200
    body = rotated.json()["webhook_endpoint"]
    assert body["secret"] not in ("", endpoint["secret"])
    expires = datetime.fromisoformat(body["previous_secret_expires_at"])
    window = fresh_kit.config.webhook_rotation_seconds
    assert before + window - 2 <= expires.timestamp() <= time.time() + window + 1
    assert (
        ada.ok(path)["webhook_endpoint"]["previous_secret_expires_at"]
        == (body["previous_secret_expires_at"])
    )

    again = ada.post(path + "/rotate_secret", json={"force": False})
    assert again.status_code == 409
    assert "rotation" in again.json()["errors"][0]
    assert ada.post(path + "/rotate_secret", json={"force": "yes"}).status_code == 422
    forced = ada.post(path + "/rotate_secret", json={"force": True})
    assert forced.status_code == 200
    newest = forced.json()["webhook_endpoint"]["secret"]
    assert newest not in (body["secret"], endpoint["secret"])

    revoked = ada.post(path + "/revoke_previous_secret")
    assert revoked.status_code == 200
    assert revoked.json()["webhook_endpoint"]["previous_secret_expires_at"] is None
    assert "secret" not in revoked.json()["webhook_endpoint"]
    assert ada.post(path + "/rotate_secret").status_code == 200  # window closed


def test_the_rotation_window_is_a_setting(ada: Api, fresh_kit: SandboxServer) -> None:
    settings = control(fresh_kit, "/settings", webhook_rotation_seconds=0)
    assert settings["webhook_rotation_seconds"] == 0
    endpoint = register(ada, "https://app.example/hook")
    path = f"/v4/webhook_endpoints/{endpoint['id']}/rotate_secret"
    first = ada.post(path)
    assert first.json()["webhook_endpoint"]["previous_secret_expires_at"] is None
    assert ada.post(path).status_code == 200  # no window was left open

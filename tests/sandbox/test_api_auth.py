"""Who API v4 answers: a live bearer token, scoped to its account; Kit's 401s
and 404s for everybody else."""

from __future__ import annotations

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    ADA,
    BEN,
    CLIENT_ID,
    LISTS,
    SECRET,
    Api,
    connect,
    get_account,
    item_ids,
    revoke,
)

# -- /v4/account and bad tokens ------------------------------------------------


def test_account_returns_kits_shape_for_the_tokens_account(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, fresh_kit)
    response = get_account(fresh_kit, tokens["access_token"])
    assert response.status_code == 200
    assert response.json() == {
        "user": {"email": "ada@example.com", "id": 2001},
        "account": {
            "id": ADA,
            "name": "Ada's Kitchen",
            "plan_type": "creator_pro",
            "primary_email_address": "ada@example.com",
            "created_at": "2021-03-14T09:26:53Z",
            "timezone": {
                "name": "America/New_York",
                "friendly_name": "Eastern Time (US & Canada)",
                "utc_offset": "-05:00",
            },
        },
    }
    assert fresh_kit.state.api_requests == [
        {"method": "GET", "path": "/v4/account", "status": 200}
    ]


def spoil(kit: SandboxServer, access_token: str, how: str) -> str | None:
    """Make ``access_token`` unusable in one of the ways Kit knows."""
    if how == "missing":
        return None
    if how == "unknown":
        return "made-up"
    if how == "expired":
        kit.state.expire_access_tokens()
    elif how == "revoked":
        assert revoke(kit, access_token).status_code == 200
    elif how == "uninstalled":
        assert kit.state.revoke_all_for_account(ADA) == 1
    elif how == "after-reset":
        kit.state.reset()
    return access_token


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("missing", "The access token is invalid"),
        ("unknown", "The access token is invalid"),
        ("expired", "The access token expired"),
        ("revoked", "The access token was revoked"),
        ("uninstalled", "The access token was revoked"),
        ("after-reset", "The access token is invalid"),
    ],
)
def test_account_refuses_bad_tokens_in_kits_words(
    fresh_kit: SandboxServer, browser: requests.Session, how: str, message: str
) -> None:
    tokens = connect(browser, fresh_kit)
    response = get_account(fresh_kit, spoil(fresh_kit, tokens["access_token"], how))
    assert response.status_code == 401
    assert response.json() == {"errors": [message]}
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_a_non_bearer_authorization_header_is_invalid(fresh_kit: SandboxServer) -> None:
    response = requests.get(
        fresh_kit.url + "/v4/account", auth=(CLIENT_ID, SECRET), timeout=5
    )
    assert response.status_code == 401
    assert response.json() == {"errors": ["The access token is invalid"]}


@pytest.mark.parametrize("path", ["/v4/no_such_thing", "/v4/", "/v4/account/nope"])
def test_unknown_api_paths_are_kit_style_404s(
    fresh_kit: SandboxServer, path: str
) -> None:
    response = requests.get(fresh_kit.url + path, timeout=5)
    assert response.status_code == 404
    assert response.json() == {"errors": ["Not Found"]}


@pytest.mark.parametrize(
    "path",
    [
        *LISTS,
        "/v4/account/growth_stats",
        "/v4/account/email_stats",
        "/v4/tags/5001/subscribers",
        "/v4/broadcasts/9001/stats",
    ],
)
def test_every_endpoint_needs_a_live_token(fresh_kit: SandboxServer, path: str) -> None:
    missing = requests.get(fresh_kit.url + path, timeout=5)
    assert missing.status_code == 401
    assert missing.json() == {"errors": ["The access token is invalid"]}
    api = Api(fresh_kit, ADA)
    fresh_kit.state.expire_access_tokens()
    assert api.get(path).json() == {"errors": ["The access token expired"]}


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/v4/tags"), ("PUT", "/v4/subscribers"), ("POST", "/v4/forms")],
)
def test_a_wrong_method_is_a_kit_style_404(ada: Api, method: str, path: str) -> None:
    response = requests.request(
        method,
        ada.kit.url + path,
        headers={"Authorization": f"Bearer {ada.token}"},
        timeout=5,
    )
    assert response.status_code == 404
    assert response.json() == {"errors": ["Not Found"]}


# -- scoping -------------------------------------------------------------------


def test_each_token_sees_only_its_own_account(fresh_kit: SandboxServer) -> None:
    ada, ben = Api(fresh_kit, ADA), Api(fresh_kit, BEN)
    ada_pages = ada.walk("/v4/subscribers", status="all", per_page=1000)
    ben_pages = ben.walk("/v4/subscribers", status="all", per_page=1000)
    ada_emails = {s["email_address"] for page in ada_pages for s in page["subscribers"]}
    ben_emails = {s["email_address"] for page in ben_pages for s in page["subscribers"]}
    assert 20 <= len(ben_emails) <= 100
    assert not ada_emails & ben_emails
    assert not set(item_ids(ada_pages)) & set(item_ids(ben_pages))
    for path in ("/v4/tags", "/v4/forms", "/v4/broadcasts", "/v4/custom_fields"):
        root = LISTS[path][0]
        ada_ids = {item["id"] for item in ada.ok(path)[root]}
        ben_ids = {item["id"] for item in ben.ok(path)[root]}
        assert ben_ids and not ada_ids & ben_ids

    ada_tag = ada.ok("/v4/tags", per_page=1)["tags"][0]["id"]
    assert ben.get(f"/v4/tags/{ada_tag}/subscribers").status_code == 404
    ada_broadcast = ada.ok("/v4/broadcasts", per_page=1)["broadcasts"][0]["id"]
    assert ben.get(f"/v4/broadcasts/{ada_broadcast}/stats").status_code == 404

    # The same email is a different subscriber in each account.
    email = sorted(ada_emails)[0]
    assert ben.post("/v4/subscribers", json={"email_address": email}).status_code == 201
    assert ada.ok("/v4/subscribers", status="all", email_address=email)["subscribers"]
    assert ada.ok("/v4/account/growth_stats") != ben.ok("/v4/account/growth_stats")


def test_a_token_from_the_real_code_flow_reads_and_writes(
    fresh_kit: SandboxServer,
) -> None:
    with requests.Session() as browser:
        tokens = connect(browser, fresh_kit, account_id=str(BEN))
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    created = requests.post(
        fresh_kit.url + "/v4/tags", json={"name": "Go"}, headers=headers, timeout=5
    )
    assert created.status_code == 201
    listed = requests.get(fresh_kit.url + "/v4/tags", headers=headers, timeout=5).json()
    assert "Go" in [tag["name"] for tag in listed["tags"]]

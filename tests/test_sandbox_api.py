"""The Kit sandbox's API v4 data endpoints, over real HTTP.

Tokens come straight from ``state.issue_tokens``: the OAuth flow has its own
tests in test_sandbox.py, and one test here goes through it end to end.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxConfig, SandboxServer
from kit_sandbox.pagination import decode_cursor, encode_cursor
from tests.test_sandbox import connect

ADA, BEN, CHLOE = 1001, 1002, 1003
STATES = ("active", "inactive", "bounced", "complained", "cancelled")
PAGINATION_KEYS = [
    "has_previous_page",
    "has_next_page",
    "start_cursor",
    "end_cursor",
    "per_page",
]
SUBSCRIBER_KEYS = ["id", "first_name", "email_address", "state", "created_at"]
LISTS: dict[str, tuple[str, list[str]]] = {
    "/v4/subscribers": ("subscribers", [*SUBSCRIBER_KEYS, "fields"]),
    "/v4/tags": ("tags", ["id", "name", "created_at"]),
    "/v4/forms": (
        "forms",
        ["id", "name", "created_at", "type", "format"]
        + ["embed_js", "embed_url", "archived", "uid"],
    ),
    "/v4/sequences": ("sequences", ["id", "name", "hold", "repeat", "created_at"]),
    "/v4/broadcasts": (
        "broadcasts",
        ["id", "publication_id", "created_at", "subject", "preview_text"]
        + ["description", "content", "public", "published_at", "send_at"]
        + ["thumbnail_alt", "thumbnail_url", "email_address", "email_template"]
        + ["subscriber_filter", "status"],
    ),
    "/v4/custom_fields": ("custom_fields", ["id", "name", "key", "label"]),
}
KIT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
EMAIL = re.compile(r"[a-z]+\.[a-z]+\d+@example\.(com|net|org)")

StartSandbox = Callable[..., SandboxServer]


class Api:
    """Calls to one sandbox with a bearer token for one account."""

    def __init__(self, kit: SandboxServer, account_id: int) -> None:
        self.kit = kit
        self.token = kit.state.issue_tokens(
            client_id=kit.config.client_id,
            account_id=account_id,
            tenant_name=None,
            scope="public",
            expires_in=3600,
            grant_code=f"test-{account_id}",
        ).access_token

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(
            self.kit.url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5,
        )

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(
            self.kit.url + path,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5,
            **kwargs,
        )

    def ok(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def walk(self, path: str, direction: str = "after", **params: Any) -> list[dict]:
        """Every page from where ``params`` start, following end cursors
        (``after``) or start cursors (``before``) until there is no more."""
        more = "has_next_page" if direction == "after" else "has_previous_page"
        cursor = "end_cursor" if direction == "after" else "start_cursor"
        pages = [self.ok(path, **params)]
        while pages[-1]["pagination"][more]:
            params[direction] = pages[-1]["pagination"][cursor]
            pages.append(self.ok(path, **params))
        return pages


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    servers: list[SandboxServer] = []

    def start(**overrides: Any) -> SandboxServer:
        servers.append(SandboxServer(SandboxConfig(**overrides)).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def kit(start_sandbox: StartSandbox) -> SandboxServer:
    return start_sandbox()


@pytest.fixture
def ada(kit: SandboxServer) -> Api:
    return Api(kit, ADA)


def item_ids(pages: list[dict[str, Any]], root: str = "subscribers") -> list[int]:
    return [item["id"] for page in pages for item in page[root]]


def utc_today() -> date:
    return datetime.now(UTC).date()


# -- shapes and seed -----------------------------------------------------------


@pytest.mark.parametrize("path", list(LISTS))
def test_list_endpoints_answer_in_kits_shape(ada: Api, path: str) -> None:
    root, keys = LISTS[path]
    body = ada.ok(path, per_page=2)
    assert list(body) == [root, "pagination"]
    assert len(body[root]) == 2
    for item in body[root]:
        assert list(item) == keys
        assert isinstance(item["id"], int)
        assert "created_at" not in item or KIT_DATE.fullmatch(item["created_at"])
    pagination = body["pagination"]
    assert list(pagination) == PAGINATION_KEYS
    assert pagination["per_page"] == 2
    assert pagination["has_previous_page"] is False
    assert pagination["has_next_page"] is True
    # Kit-style cursors: base64 of a JSON list holding the item's id.
    for cursor, item in (("start_cursor", 0), ("end_cursor", -1)):
        decoded = json.loads(base64.b64decode(pagination[cursor]))
        assert decoded == [body[root][item]["id"]]


def test_ada_is_seeded_with_a_realistic_audience(ada: Api) -> None:
    everyone = ada.ok(
        "/v4/subscribers", status="all", per_page=1000, include_total_count="true"
    )
    assert everyone["total_count"] >= 2600
    counts = {
        state: ada.ok("/v4/subscribers", status=state, include_total_count="true")[
            "total_count"
        ]
        for state in STATES
    }
    assert all(counts.values()), counts
    assert counts["active"] >= 1900
    assert sum(counts.values()) == everyone["total_count"]
    keys = [field["key"] for field in ada.ok("/v4/custom_fields")["custom_fields"]]
    assert len(keys) >= 2
    assert all(list(s["fields"]) == keys for s in everyone["subscribers"])
    pages = ada.walk("/v4/subscribers", status="all", per_page=1000)
    emails = [s["email_address"] for page in pages for s in page["subscribers"]]
    assert len(set(emails)) == len(emails) == everyone["total_count"]
    assert all(EMAIL.fullmatch(email) for email in emails)

    assert len(ada.ok("/v4/tags")["tags"]) >= 12
    forms = ada.ok("/v4/forms", status="all")["forms"]
    assert {form["type"] for form in forms} == {"embed", "hosted"}
    assert all(f["format"] is None for f in forms if f["type"] == "hosted")
    archived = ada.ok("/v4/forms", status="archived")["forms"]
    active = ada.ok("/v4/forms")["forms"]
    assert archived and all(form["archived"] for form in archived)
    assert len(archived) + len(active) == len(forms) >= 5
    assert len(ada.ok("/v4/sequences")["sequences"]) >= 4
    broadcasts = ada.ok("/v4/broadcasts")["broadcasts"]
    assert len(broadcasts) >= 25
    assert {"draft", "scheduled", "completed"} <= {b["status"] for b in broadcasts}
    ids = [broadcast["id"] for broadcast in broadcasts]
    assert ids == sorted(ids, reverse=True)


def test_seed_is_the_same_on_every_start(start_sandbox: StartSandbox) -> None:
    first, second = Api(start_sandbox(), ADA), Api(start_sandbox(), ADA)

    def digest(api: Api) -> list[tuple[Any, ...]]:
        subscribers = api.ok("/v4/subscribers", status="all", per_page=50)
        return [
            (s["id"], s["email_address"], s["state"], s["first_name"])
            for s in subscribers["subscribers"]
        ] + [(t["id"], t["name"]) for t in api.ok("/v4/tags")["tags"]]

    assert digest(first) == digest(second)


def test_recent_subscribers_make_a_visible_bump(ada: Api) -> None:
    def new_between(days_ago_from: int, days_ago_to: int) -> int:
        stats = ada.ok(
            "/v4/account/growth_stats",
            starting=(utc_today() - timedelta(days=days_ago_from)).isoformat(),
            ending=(utc_today() - timedelta(days=days_ago_to)).isoformat(),
        )["stats"]
        count: int = stats["new_subscribers"]
        return count

    last_30, previous_30 = new_between(29, 0), new_between(59, 30)
    assert last_30 > 1.5 * previous_30 > 0


def test_growth_stats_and_email_stats_shapes(ada: Api) -> None:
    growth = ada.ok("/v4/account/growth_stats")
    assert list(growth) == ["stats"]
    stats = growth["stats"]
    assert list(stats) == [
        "cancellations",
        "net_new_subscribers",
        "new_subscribers",
        "subscribers",
        "starting",
        "ending",
    ]
    assert stats["starting"] == f"{utc_today() - timedelta(days=90)}T00:00:00Z"
    assert stats["ending"] == f"{utc_today()}T23:59:59Z"
    assert stats["net_new_subscribers"] == (
        stats["new_subscribers"] - stats["cancellations"]
    )

    email = ada.ok("/v4/account/email_stats")["stats"]
    assert list(email) == [
        "sent",
        "clicked",
        "opened",
        "email_stats_mode",
        "open_tracking_enabled",
        "click_tracking_enabled",
        "starting",
        "ending",
    ]
    assert email["email_stats_mode"] == "last_90"
    assert email["sent"] > email["opened"] > email["clicked"] > 0
    assert KIT_DATE.fullmatch(email["starting"]) and KIT_DATE.fullmatch(email["ending"])


def test_broadcast_stats_are_percentages_and_unknown_ids_are_404(ada: Api) -> None:
    broadcasts = ada.ok("/v4/broadcasts")["broadcasts"]
    completed = next(b for b in broadcasts if b["status"] == "completed")
    body = ada.ok(f"/v4/broadcasts/{completed['id']}/stats")
    stats = body["broadcast"]["stats"]
    assert body["broadcast"]["id"] == completed["id"]
    assert list(stats) == [
        "recipients",
        "open_rate",
        "emails_opened",
        "click_rate",
        "unsubscribe_rate",
        "unsubscribes",
        "total_clicks",
        "show_total_clicks",
        "status",
        "progress",
    ]
    assert stats["status"] == "completed" and stats["progress"] == 100.0
    assert 20 < stats["open_rate"] < 80  # a percentage, not a fraction
    expected = round(100 * stats["emails_opened"] / stats["recipients"], 2)
    assert stats["open_rate"] == expected

    draft = next(b for b in broadcasts if b["status"] == "draft")
    draft_stats = ada.ok(f"/v4/broadcasts/{draft['id']}/stats")["broadcast"]["stats"]
    assert draft_stats["recipients"] == 0 and draft_stats["status"] == "draft"

    missing = ada.get("/v4/broadcasts/1/stats")
    assert missing.status_code == 404
    assert missing.json() == {"errors": ["Not Found"]}


# -- pagination ----------------------------------------------------------------


@pytest.mark.parametrize("per_page", [1000, 97])
def test_walking_every_page_yields_each_subscriber_once(
    ada: Api, per_page: int
) -> None:
    pages = ada.walk(
        "/v4/subscribers", status="all", per_page=per_page, include_total_count="true"
    )
    ids = item_ids(pages)
    assert len(ids) == len(set(ids)) == pages[0]["total_count"] >= 2600
    assert ids == sorted(ids, reverse=True)  # newest first
    assert all(len(page["subscribers"]) == per_page for page in pages[:-1])
    assert pages[-1]["pagination"]["has_next_page"] is False

    # Back from the last page with `before`: the very same pages, in reverse.
    back = ada.walk(
        "/v4/subscribers",
        "before",
        status="all",
        per_page=per_page,
        before=pages[-1]["pagination"]["start_cursor"],
    )
    assert [page["subscribers"] for page in back] == [
        page["subscribers"] for page in reversed(pages[:-1])
    ]
    assert back[-1]["pagination"]["has_previous_page"] is False


def test_pages_stay_exact_when_subscribers_arrive_mid_walk(ada: Api) -> None:
    before = item_ids(ada.walk("/v4/subscribers", per_page=500))
    first = ada.ok("/v4/subscribers", per_page=500)
    for n in range(3):
        created = ada.post("/v4/subscribers", json={"email_address": f"mid{n}@x.io"})
        assert created.status_code == 201
    rest = ada.walk(
        "/v4/subscribers", per_page=500, after=first["pagination"]["end_cursor"]
    )
    assert item_ids([first, *rest]) == before
    # A fresh walk sees the newcomers first.
    assert len(item_ids(ada.walk("/v4/subscribers", per_page=500))) == len(before) + 3


def test_cursors_look_like_kits() -> None:
    assert encode_cursor(13) == "WzEzXQ=="  # Kit's own example: [13]
    assert decode_cursor("WzEzXQ==") == 13


def test_a_page_past_the_end_is_empty_with_null_cursors(ada: Api) -> None:
    last = ada.walk("/v4/tags", per_page=5)[-1]
    beyond = ada.ok("/v4/tags", per_page=5, after=last["pagination"]["end_cursor"])
    assert beyond["tags"] == []
    assert beyond["pagination"] == {
        "has_previous_page": True,
        "has_next_page": False,
        "start_cursor": None,
        "end_cursor": None,
        "per_page": 5,
    }


def test_total_count_only_when_asked_and_counts_the_filtered_set(ada: Api) -> None:
    assert "total_count" not in ada.ok("/v4/subscribers", per_page=1)
    cancelled = ada.walk("/v4/subscribers", status="cancelled", per_page=1000)
    counted = ada.ok(
        "/v4/subscribers", status="cancelled", per_page=1, include_total_count="true"
    )
    assert list(counted) == ["subscribers", "pagination", "total_count"]
    assert counted["total_count"] == len(item_ids(cancelled)) > 0


# -- filters -------------------------------------------------------------------


def test_status_filter_returns_only_that_state(ada: Api) -> None:
    for state in STATES:
        subscribers = ada.ok("/v4/subscribers", status=state, per_page=1000)
        assert {s["state"] for s in subscribers["subscribers"]} == {state}
    default = ada.ok("/v4/subscribers", per_page=1000)["subscribers"]
    assert {s["state"] for s in default} == {"active"}


def test_email_filter_is_exact_and_case_insensitive(ada: Api) -> None:
    someone = ada.ok("/v4/subscribers", status="bounced", per_page=1)["subscribers"][0]
    email = someone["email_address"]
    found = ada.ok("/v4/subscribers", status="all", email_address=email.upper())
    assert found["subscribers"] == [someone]
    partial = ada.ok("/v4/subscribers", status="all", email_address=email[:-1])
    assert partial["subscribers"] == []


def test_created_filters_are_inclusive_days(ada: Api) -> None:
    everyone = ada.walk("/v4/subscribers", status="all", per_page=1000)
    start, end = utc_today() - timedelta(days=20), utc_today() - timedelta(days=10)
    expected = [
        s["id"]
        for page in everyone
        for s in page["subscribers"]
        if start.isoformat() <= s["created_at"][:10] <= end.isoformat()
    ]
    found = ada.walk(
        "/v4/subscribers",
        status="all",
        per_page=1000,
        created_after=start.isoformat(),
        created_before=end.isoformat(),
    )
    assert item_ids(found) == expected and expected


# -- errors --------------------------------------------------------------------


PER_PAGE = "Per page must be between 1 and 1000"
CURSOR = "Cursor is invalid"
STATUS = "Status is not included in the list"
GROWTH = "/v4/account/growth_stats"


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/v4/subscribers", {"per_page": 0}, PER_PAGE),
        ("/v4/tags", {"per_page": 1001}, PER_PAGE),
        ("/v4/forms", {"per_page": "ten"}, PER_PAGE),
        ("/v4/broadcasts", {"per_page": "-5"}, PER_PAGE),
        ("/v4/sequences", {"per_page": "2.5"}, PER_PAGE),
        ("/v4/subscribers", {"after": "not a cursor"}, CURSOR),
        ("/v4/tags", {"before": base64.b64encode(b"[1, 2]")}, CURSOR),
        ("/v4/sequences", {"after": base64.b64encode(b'["1"]')}, CURSOR),
        ("/v4/custom_fields", {"after": base64.b64encode(b"{}")}, CURSOR),
        ("/v4/forms", {"after": base64.b64encode(b"[true]")}, CURSOR),
        ("/v4/subscribers", {"status": "unsubscribed"}, STATUS),
        ("/v4/tags/5001/subscribers", {"status": "ALL"}, STATUS),
        ("/v4/forms", {"status": "deleted"}, STATUS),
        (
            "/v4/subscribers",
            {"created_after": "2024-02-30"},
            "Created after is invalid",
        ),
        ("/v4/subscribers", {"created_before": "soon"}, "Created before is invalid"),
        (GROWTH, {"starting": "2024/01/01"}, "Starting is invalid"),
        (GROWTH, {"ending": "2024-13-01"}, "Ending is invalid"),
        (
            GROWTH,
            {"starting": "2024-02-01", "ending": "2024-01-01"},
            "Starting must be on or before ending",
        ),
        (
            "/v4/tags",
            {"after": "WzFd", "before": "WzFd"},
            "Only one of after and before may be given",
        ),
    ],
)
def test_bad_parameters_are_422s_in_kits_shape(
    ada: Api, path: str, params: dict[str, Any], message: str
) -> None:
    response = ada.get(path, **params)
    assert response.status_code == 422
    assert response.json() == {"errors": [message]}


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
def test_every_endpoint_needs_a_live_token(kit: SandboxServer, path: str) -> None:
    missing = requests.get(kit.url + path, timeout=5)
    assert missing.status_code == 401
    assert missing.json() == {"errors": ["The access token is invalid"]}
    api = Api(kit, ADA)
    kit.state.expire_access_tokens()
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


def test_faults_and_the_request_log_cover_the_new_endpoints(ada: Api) -> None:
    ada.kit.state.add_fault("api", "500")
    failed = ada.get("/v4/subscribers")
    assert failed.status_code == 500
    assert failed.json() == {"errors": ["Internal server error"]}
    assert ada.get("/v4/subscribers").status_code == 200
    assert ada.kit.state.stats()["api_requests"] == 2
    assert [entry["status"] for entry in ada.kit.state.api_requests] == [500, 200]


# -- writes --------------------------------------------------------------------


def test_create_subscriber_is_an_upsert_by_email(ada: Api) -> None:
    growth_before = ada.ok("/v4/account/growth_stats")["stats"]
    created = ada.post(
        "/v4/subscribers",
        json={"email_address": "Zoe.New@Example.com", "first_name": "Zoe"},
    )
    assert created.status_code == 201
    subscriber = created.json()["subscriber"]
    assert list(subscriber) == [*SUBSCRIBER_KEYS, "fields"]
    assert subscriber["email_address"] == "zoe.new@example.com"
    assert subscriber["state"] == "active"
    assert set(subscriber["fields"]) >= {"last_name"}
    assert set(subscriber["fields"].values()) == {None}
    assert KIT_DATE.fullmatch(subscriber["created_at"])

    again = ada.post(
        "/v4/subscribers",
        json={"email_address": " ZOE.NEW@example.com ", "first_name": "Zoé"},
    )
    assert again.status_code == 200
    assert again.json()["subscriber"] == subscriber | {"first_name": "Zoé"}

    newest = ada.ok("/v4/subscribers", per_page=1)["subscribers"]
    assert newest == [again.json()["subscriber"]]
    growth_after = ada.ok("/v4/account/growth_stats")["stats"]
    assert growth_after["new_subscribers"] == growth_before["new_subscribers"] + 1
    assert growth_after["subscribers"] == growth_before["subscribers"] + 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"json": {"email_address": ""}}, "Email address is invalid"),
        ({"json": {"email_address": "   "}}, "Email address is invalid"),
        ({"json": {"first_name": "No Email"}}, "Email address is invalid"),
        ({"json": {"email_address": "not-an-email"}}, "Email address is invalid"),
        ({"json": {"email_address": "a b@example.com"}}, "Email address is invalid"),
        ({"json": {"email_address": 42}}, "Email address is invalid"),
        ({"data": {"email_address": "form@example.com"}}, "Request body must be JSON"),
        ({"data": "{not json"}, "Request body must be JSON"),
        ({}, "Request body must be JSON"),
        ({"json": ["a@example.com"]}, "Request body must be a JSON object"),
        (
            {"json": {"email_address": "ok@example.com", "first_name": 7}},
            "First name is invalid",
        ),
    ],
)
def test_create_subscriber_refuses_bad_bodies(
    ada: Api, kwargs: dict[str, Any], message: str
) -> None:
    response = ada.post("/v4/subscribers", **kwargs)
    assert response.status_code == 422
    assert response.json() == {"errors": [message]}


def test_create_tag_is_201_new_200_existing_and_422_blank(ada: Api) -> None:
    created = ada.post("/v4/tags", json={"name": "  Sourdough Club "})
    assert created.status_code == 201
    tag = created.json()["tag"]
    assert list(tag) == ["id", "name", "created_at"]
    assert tag["name"] == "Sourdough Club"
    existing = ada.post("/v4/tags", json={"name": "SOURDOUGH CLUB"})
    assert existing.status_code == 200
    assert existing.json() == {"tag": tag}
    assert tag in ada.ok("/v4/tags")["tags"]
    for blank in ({"name": ""}, {"name": "   "}, {}, {"name": None}):
        refused = ada.post("/v4/tags", json=blank)
        assert refused.status_code == 422
        assert refused.json() == {"errors": ["Name can't be blank"]}


def test_tagging_a_subscriber(ada: Api) -> None:
    tag = ada.post("/v4/tags", json={"name": "Fresh"}).json()["tag"]
    path = f"/v4/tags/{tag['id']}/subscribers"
    assert ada.ok(path, include_total_count="true")["total_count"] == 0
    someone = ada.ok("/v4/subscribers", per_page=1)["subscribers"][0]

    first = ada.post(path, json={"email_address": someone["email_address"].upper()})
    assert first.status_code == 201
    tagged = first.json()["subscriber"]
    assert list(tagged) == [*SUBSCRIBER_KEYS, "tagged_at", "fields"]
    assert tagged["id"] == someone["id"]
    second = ada.post(path, json={"email_address": someone["email_address"]})
    assert second.status_code == 200
    assert second.json()["subscriber"] == tagged  # the first tagged_at stays

    listed = ada.ok(path)
    assert listed["subscribers"] == [tagged]
    assert listed["pagination"]["has_next_page"] is False

    unknown_tag = ada.post("/v4/tags/1/subscribers", json={"email_address": "a@b.co"})
    assert unknown_tag.status_code == 404
    assert unknown_tag.json() == {"errors": ["Not Found"]}
    assert ada.get("/v4/tags/1/subscribers").status_code == 404
    stranger = ada.post(path, json={"email_address": "nobody@example.com"})
    assert stranger.status_code == 422
    assert stranger.json() == {"errors": ["Subscriber not found"]}
    invalid = ada.post(path, json={"email_address": "nope"})
    assert invalid.json() == {"errors": ["Email address is invalid"]}


def test_seeded_tags_have_subscribers_and_paginate(ada: Api) -> None:
    tag = ada.ok("/v4/tags", per_page=1)["tags"][0]
    path = f"/v4/tags/{tag['id']}/subscribers"
    pages = ada.walk(path, status="all", per_page=50, include_total_count="true")
    ids = item_ids(pages)
    assert len(ids) == len(set(ids)) == pages[0]["total_count"] > 50
    assert ids == sorted(ids, reverse=True)
    for subscriber in pages[0]["subscribers"]:
        assert subscriber["tagged_at"] >= subscriber["created_at"]
        assert subscriber["tagged_at"] >= tag["created_at"]


# -- rate limit ----------------------------------------------------------------


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


def test_rate_limit_is_set_through_the_control_api(kit: SandboxServer) -> None:
    settings = requests.post(
        kit.url + "/_sandbox/settings",
        json={"rate_limit": 2, "rate_window": 30},
        timeout=5,
    )
    assert settings.status_code == 200
    assert settings.json()["rate_limit"] == 2
    assert kit.config.rate_window == 30
    ada = Api(kit, ADA)
    assert [ada.get("/v4/tags").status_code for _ in range(3)] == [200, 200, 429]
    # A planned 429 fault is still its own thing, even for a fresh token.
    kit.state.add_fault("api", "429")
    assert Api(kit, BEN).get("/v4/tags").status_code == 429


@pytest.mark.parametrize(
    "body",
    [{"rate_limit": 0}, {"rate_limit": 1.5}, {"rate_window": 0}, {"rate_window": -1}],
)
def test_control_api_refuses_bad_rate_settings(
    kit: SandboxServer, body: dict[str, Any]
) -> None:
    response = requests.post(kit.url + "/_sandbox/settings", json=body, timeout=5)
    assert response.status_code == 400
    assert (kit.config.rate_limit, kit.config.rate_window) == (600, 60.0)


# -- scoping, growth, empty accounts --------------------------------------------


def test_each_token_sees_only_its_own_account(kit: SandboxServer) -> None:
    ada, ben = Api(kit, ADA), Api(kit, BEN)
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


def test_growth_stats_agree_with_the_subscriber_list(ada: Api) -> None:
    end = utc_today()
    start = end - timedelta(days=29)
    stats = ada.ok(
        "/v4/account/growth_stats", starting=start.isoformat(), ending=end.isoformat()
    )["stats"]
    created = ada.ok(
        "/v4/subscribers",
        status="all",
        created_after=start.isoformat(),
        created_before=end.isoformat(),
        include_total_count="true",
    )
    assert stats["new_subscribers"] == created["total_count"] > 0
    active = ada.ok("/v4/subscribers", include_total_count="true")["total_count"]
    assert stats["subscribers"] == active

    # The app's chart: one call per day, in parallel; the days add up.
    days = [start + timedelta(days=n) for n in range(30)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        daily = list(
            pool.map(
                lambda day: ada.ok(
                    "/v4/account/growth_stats",
                    starting=day.isoformat(),
                    ending=day.isoformat(),
                )["stats"],
                days,
            )
        )
    for key in ("new_subscribers", "cancellations", "net_new_subscribers"):
        assert sum(day[key] for day in daily) == stats[key]
    assert daily[-1]["subscribers"] == active
    assert stats["cancellations"] > 0


@pytest.mark.parametrize("path", [*LISTS])
def test_an_empty_account_has_empty_lists(kit: SandboxServer, path: str) -> None:
    body = Api(kit, CHLOE).ok(path, include_total_count="true")
    assert body == {
        LISTS[path][0]: [],
        "pagination": {
            "has_previous_page": False,
            "has_next_page": False,
            "start_cursor": None,
            "end_cursor": None,
            "per_page": 500,
        },
        "total_count": 0,
    }


def test_an_empty_account_has_zero_stats(kit: SandboxServer) -> None:
    chloe = Api(kit, CHLOE)
    growth = chloe.ok("/v4/account/growth_stats")["stats"]
    assert [growth[key] for key in list(growth)[:4]] == [0, 0, 0, 0]
    email = chloe.ok("/v4/account/email_stats")["stats"]
    assert (email["sent"], email["opened"], email["clicked"]) == (0, 0, 0)


# -- end to end, reset -----------------------------------------------------------


def test_a_token_from_the_real_code_flow_reads_and_writes(kit: SandboxServer) -> None:
    with requests.Session() as browser:
        tokens = connect(browser, kit, account_id=str(BEN))
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    created = requests.post(
        kit.url + "/v4/tags", json={"name": "Go"}, headers=headers, timeout=5
    )
    assert created.status_code == 201
    listed = requests.get(kit.url + "/v4/tags", headers=headers, timeout=5).json()
    assert "Go" in [tag["name"] for tag in listed["tags"]]


def test_reset_restores_the_seed(kit: SandboxServer) -> None:
    ada = Api(kit, ADA)
    seeded = ada.ok("/v4/subscribers", per_page=5)
    ada.post("/v4/subscribers", json={"email_address": "gone@example.com"})
    ada.post("/v4/tags", json={"name": "Gone"})
    kit.state.reset()
    ada = Api(kit, ADA)
    assert ada.ok("/v4/subscribers", per_page=5) == seeded
    assert "Gone" not in [tag["name"] for tag in ada.ok("/v4/tags")["tags"]]

"""API v4 answers in Kit's shapes: lists, stats, and empty accounts."""

from __future__ import annotations

import base64
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    CHLOE,
    KIT_DATE,
    LISTS,
    Api,
)
from tests.zones import NEW_YORK, local_today

PAGINATION_KEYS = [
    "has_previous_page",
    "has_next_page",
    "start_cursor",
    "end_cursor",
    "per_page",
]


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
    # Whole days of Ada's sending time zone, with its offset, as Kit writes them.
    today, zone = local_today(NEW_YORK), ZoneInfo(NEW_YORK)
    starting = datetime.combine(today - timedelta(days=90), time(), zone)
    assert stats["starting"] == starting.isoformat()
    assert (
        stats["ending"] == datetime.combine(today, time(23, 59, 59), zone).isoformat()
    )
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


# -- empty accounts ------------------------------------------------------------


@pytest.mark.parametrize("path", [*LISTS])
def test_an_empty_account_has_empty_lists(fresh_kit: SandboxServer, path: str) -> None:
    body = Api(fresh_kit, CHLOE).ok(path, include_total_count="true")
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


def test_an_empty_account_has_zero_stats(fresh_kit: SandboxServer) -> None:
    chloe = Api(fresh_kit, CHLOE)
    growth = chloe.ok("/v4/account/growth_stats")["stats"]
    assert [growth[key] for key in list(growth)[:4]] == [0, 0, 0, 0]
    email = chloe.ok("/v4/account/email_stats")["stats"]
    assert (email["sent"], email["opened"], email["clicked"]) == (0, 0, 0)

"""Kit's cursor pagination on API v4 lists."""

from __future__ import annotations

import pytest

from kit_sandbox.api.pagination import decode_cursor, encode_cursor
from tests.sandbox.support import (
    Api,
    item_ids,
)


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

"""The demo data: realistic, the same on every start, restored by a reset."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    ADA,
    BEN,
    CHLOE,
    STATES,
    Api,
    StartSandbox,
    utc_today,
)
from tests.zones import NEW_YORK, day_start, local_today

EMAIL = re.compile(r"[a-z]+\.[a-z]+\d+@example\.(com|net|org)")


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

    assert 6 <= len(ada.ok("/v4/tags")["tags"]) <= 10
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


def test_growth_stats_agree_with_the_subscriber_list(ada: Api) -> None:
    # Growth stats count New York's days (Ada's sending time zone); the
    # subscriber filter takes UTC moments: the same span, both ways.
    end = local_today(NEW_YORK)
    start = end - timedelta(days=29)
    stats = ada.ok(
        "/v4/account/growth_stats", starting=start.isoformat(), ending=end.isoformat()
    )["stats"]
    last_second = day_start(end + timedelta(days=1), NEW_YORK) - timedelta(seconds=1)
    created = ada.ok(
        "/v4/subscribers",
        status="all",
        created_after=f"{day_start(start, NEW_YORK):%Y-%m-%dT%H:%M:%SZ}",
        created_before=f"{last_second:%Y-%m-%dT%H:%M:%SZ}",
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


def test_reset_restores_the_seed(fresh_kit: SandboxServer) -> None:
    ada = Api(fresh_kit, ADA)
    seeded = ada.ok("/v4/subscribers", per_page=5)
    ada.post("/v4/subscribers", json={"email_address": "gone@example.com"})
    ada.post("/v4/tags", json={"name": "Gone"})
    fresh_kit.state.reset()
    ada = Api(fresh_kit, ADA)
    assert ada.ok("/v4/subscribers", per_page=5) == seeded
    assert "Gone" not in [tag["name"] for tag in ada.ok("/v4/tags")["tags"]]


def test_tags_have_very_different_sizes_and_one_is_empty(ada: Api) -> None:
    sizes = {
        tag["name"]: ada.ok(
            f"/v4/tags/{tag['id']}/subscribers",
            status="all",
            per_page=1,
            include_total_count="true",
        )["total_count"]
        for tag in ada.ok("/v4/tags")["tags"]
    }
    assert sorted(sizes.values())[0] == 0
    assert max(sizes.values()) >= 1000
    assert len(set(sizes.values())) == len(sizes)
    # Most subscribers carry 0 to 3 tags.
    assert sum(sizes.values()) < 1.5 * 2600


def test_custom_fields_are_filled_on_most_subscribers_not_all(
    fresh_kit: SandboxServer,
) -> None:
    for account in (ADA, BEN):
        api = Api(fresh_kit, account)
        pages = api.walk("/v4/subscribers", status="all", per_page=1000)
        subscribers = [s for page in pages for s in page["subscribers"]]
        keys = [f["key"] for f in api.ok("/v4/custom_fields")["custom_fields"]]
        assert len(keys) >= 2
        for key in keys:
            filled = sum(1 for s in subscribers if s["fields"][key])
            assert 0.2 * len(subscribers) < filled, (account, key)
        assert sum(1 for s in subscribers if any(s["fields"].values())) > 0.5 * len(
            subscribers
        )
        assert any(not all(s["fields"].values()) for s in subscribers)


def test_one_account_is_empty(fresh_kit: SandboxServer) -> None:
    chloe = Api(fresh_kit, CHLOE)
    for path in ("/v4/subscribers", "/v4/tags", "/v4/broadcasts", "/v4/forms"):
        # status=all: the subscribers and forms of every state (tags and
        # broadcasts ignore it).
        assert chloe.ok(path, status="all")[path.rsplit("/", 1)[1]] == []
    assert chloe.ok("/v4/broadcasts/stats")["broadcasts"] == []
    assert chloe.ok("/v4/account/growth_stats")["stats"]["subscribers"] == 0

"""API v4 writes: subscribers (an upsert by email), tags and tagging."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.support import (
    KIT_DATE,
    SUBSCRIBER_KEYS,
    Api,
)


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

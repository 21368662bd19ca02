"""API v4 list filters, and Kit's 422s for parameters it can't take."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest

from tests.sandbox.support import (
    STATES,
    Api,
    item_ids,
    utc_today,
)

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


# -- bad parameters ------------------------------------------------------------


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

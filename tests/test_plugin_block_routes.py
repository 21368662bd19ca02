"""The blocks' URLs, as Kit's editor calls them: with the plugin token, for
the creator the token belongs to, JSON in and out, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.conftest import GONE
from tests.support import blocks
from tests.support.plugins import bearer

STYLES = pytest.importorskip("kit_sandbox.plugins.choices", reason=GONE).STYLES

BLOCK = "/plugins/blocks/latest_broadcasts"
SEARCH = "/plugins/blocks/latest_broadcasts/search/pinned"
ADA, BEN = 1001, 1002


def plugin_token(app, kit, email="creator@example.com", account=ADA) -> str:
    return blocks.plugin_token(app, kit, email, account)["access_token"]


@pytest.fixture
def app(make_app):
    return make_app()


def test_a_block_answers_kits_post_with_its_html(app, kit):
    token = plugin_token(app, kit)
    answer = app.test_client().post(
        BLOCK,
        json={"settings": {"count": 2, "heading": "News"}, "styles": STYLES},
        headers=bearer(token),
    )
    assert answer.status_code == 200, answer.text
    body = answer.get_json()
    assert body["code"] == 200 and ">News</h2>" in body["html"]


def test_kits_json_under_a_form_content_type_is_read_too(app, kit):
    token = plugin_token(app, kit)
    answer = app.test_client().post(
        BLOCK,
        data=json.dumps({"settings": {"count": 1}}),
        headers={
            **bearer(token),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert answer.status_code == 200, answer.text


def test_the_search_url_answers_label_value_pairs(app, kit):
    token = plugin_token(app, kit)
    answer = app.test_client().post(SEARCH, json={"search": ""}, headers=bearer(token))
    assert answer.status_code == 200
    data = answer.get_json()["data"]
    assert data and all(set(item) == {"label", "value"} for item in data)


@pytest.mark.parametrize("path", [BLOCK, SEARCH])
@pytest.mark.parametrize("headers", [{}, bearer("not-a-token")])
def test_no_valid_token_is_a_401_with_www_authenticate(app, kit, path, headers):
    answer = app.test_client().post(path, json={"settings": {}}, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_reads_only_its_own_creators_broadcasts(app, kit):
    ada = plugin_token(app, kit, "ada@example.com", account=ADA)
    ben = plugin_token(app, kit, "ben@example.com", account=BEN)
    client = app.test_client()
    subjects = {
        account: {
            b.subject for b in kit.state.account_data(account).broadcasts.values()
        }
        for account in (ADA, BEN)
    }
    for token, mine, theirs in ((ada, ADA, BEN), (ben, BEN, ADA)):
        options = client.post(SEARCH, json={"search": ""}, headers=bearer(token))
        labels = {o["label"] for o in options.get_json()["data"]}
        assert labels and labels <= subjects[mine]
        assert not labels & (subjects[theirs] - subjects[mine])


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/plugins/blocks/nope", b"{}", 404),
        ("/plugins/blocks/latest_broadcasts/search/nope", b"{}", 404),
        ("/plugins/blocks/latest_broadcasts/search/heading", b"{}", 404),
        (BLOCK, b"{not json", 400),
        (BLOCK, b"[" * 15000 + b"]" * 15000, 400),  # deeper than recursion allows
        (BLOCK, b'"just a string"', 400),
        (BLOCK, json.dumps({"settings": {"x": 1}}).encode() * 2000, 413),
        (SEARCH, b'{"search": ["a"]}', 400),
    ],
)
def test_bad_bodies_get_kits_error_shape_never_a_500(app, kit, path, body, status):
    token = plugin_token(app, kit)
    answer = app.test_client().post(
        path,
        data=body,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert answer.status_code == status, answer.text
    if status != 413:
        assert answer.get_json()["code"] == status
        assert answer.get_json()["errors"]

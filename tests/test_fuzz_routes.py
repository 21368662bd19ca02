"""Crafted requests to every route of the url_map: never a 5xx, signed in or out.

For each route (read from the app's url_map, so routes added later are
covered the day they are added), hypothesis varies what a client controls:
the values in the path (ids far beyond the databases' integer ranges,
negative, not numbers), the query string (any keys, Flask's own `endpoint`,
`_method`, `_external` included), the body (form fields, JSON of any shape, any
bytes under any content type) with a valid CSRF token in the form and the
X-CSRFToken header, and the Host and X-Forwarded-Host headers (with ProxyFix
believing one proxy). test_hostile.py covers a signed-in owner's data staying
as it was; this file covers the status codes.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.accounts import create_user, csrf_token, sign_in
from tests.support.installing import install
from tests.support.routes import routes

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        st.sampled_from(list("\x00\r\n\t%&=?#/\\<>\"'`;:@.[]")),
    ),
    max_size=30,
)
# "1" (the owner's connection) as likely as all the crafted values together.
ids = st.one_of(
    st.just("1"),
    st.just("1"),
    st.just("1"),
    st.sampled_from(
        [0, 1, 2, 2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 10**30]
    ).map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.just("9" * 5000),
    text,
)
query_keys = st.one_of(
    text,
    st.sampled_from(
        [
            "endpoint",
            "_method",
            "_external",
            "_anchor",
            "_scheme",
            "connection_id",
            "next",
            "redirect",
            "after",
            "before",
            "status",
            "email",
            "token",
            "state",
            "code",
        ]
    ),
)
queries = st.dictionaries(query_keys, text, max_size=4)
form_keys = st.one_of(
    text,
    st.sampled_from(
        [
            "email",
            "password",
            "confirm",
            "next",
            "token",
            "email_address",
            "first_name",
            "create-name",
            "tag-tag_id",
            "tag-email_address",
        ]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(form_keys, inner, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.one_of(
    st.none(),
    st.tuples(st.just("form"), st.dictionaries(form_keys, text, max_size=4)),
    st.tuples(st.just("json"), json_values),
    st.tuples(
        st.just("raw"),
        st.sampled_from(
            ["text/plain", "application/xml", "multipart/form-data", "x/y; a=b", ""]
        ),
        st.binary(max_size=200),
    ),
)
label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", max_size=70)
# None: the header is not sent (the test client's Host is localhost), twice as
# likely as any crafted host, so that plenty of examples reach the views.
hosts = st.one_of(
    st.none(),
    st.none(),
    st.sampled_from(
        ["..", "a..b", "a" * 64 + ".com", ".", "-", "localhost:99999", "localhost:0"]
    ),
    st.lists(label, min_size=1, max_size=4).map(".".join),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
)


@pytest.fixture
def clients(make_app, kit, kit_browser):  # type: ignore[no-untyped-def]
    """An app with CSRF on behind one believed proxy, a client signed in as
    the owner of connection 1, and one signed out; with their CSRF tokens."""
    app = make_app(WTF_CSRF_ENABLED=True, PROXY_FIX_HOPS="1")
    owner, stranger = app.test_client(), app.test_client()
    create_user(app, "fuzz@example.com")
    assert sign_in(owner, "fuzz@example.com", csrf=True).status_code == 302
    install(owner, kit_browser, account=1001)
    return app, {
        "signed in": (owner, csrf_token(owner.get("/c/1/subscribers"))),
        "signed out": (stranger, csrf_token(stranger.get("/login"))),
    }


def path_with(rule: str, value: str) -> str:
    """The rule's path with `value` (quoted) for each of its arguments."""
    return re.sub(r"<[^>]+>", quote(value, safe="") or "x", rule)


def request_body(body, token: str) -> dict:  # type: ignore[no-untyped-def]
    if body is None:
        return {}
    if body[0] == "form":
        return {"data": {**body[1], "csrf_token": token}}
    if body[0] == "json":
        return {"data": json.dumps(body[1]), "content_type": "application/json"}
    return {"data": body[2], "content_type": body[1] or None}


def test_the_rules_are_read_from_the_url_map(clients):
    app, _ = clients
    found = {(m, r.rule) for m, r in routes(app)}
    assert ("GET", "/c/<id:connection_id>") in found
    assert ("POST", "/c/<id:connection_id>/subscribers") in found
    assert ("GET", "/healthz") in found
    assert len(found) >= 18


@pytest.mark.parametrize("who", ["signed in", "signed out"])
def test_no_crafted_request_gets_a_5xx(clients, who):
    app, by_who = clients
    client, token = by_who[who]
    cookie = client.get_cookie("session")
    seen: dict[str, set[int]] = {}
    # Reads first: a crafted POST may sign out or disconnect, which is fine
    # (it had a valid CSRF token) but leaves less to reach afterwards.
    ordered = sorted(routes(app), key=lambda mr: (mr[0] != "GET", mr[1].rule))

    def attack_on(method: str, rule: str):  # type: ignore[no-untyped-def]
        @SETTINGS
        @given(value=ids, query=queries, body=bodies, host=hosts, forwarded=hosts)
        # The tester's findings, tried first on every route.
        @example(
            str(2**63),
            {"endpoint": "x", "_method": "DELETE"},
            ("json", 123),
            None,
            None,
        )
        @example(str(2**31), {"after": "x", "endpoint": "y"}, ("json", [1]), None, None)
        @example("1", {}, ("json", {"email": {"a": 1}}), "a..b", None)
        @example("1", {}, None, None, "a" * 64 + ".example.com")
        def attack(value, query, body, host, forwarded):  # type: ignore[no-untyped-def]
            if cookie is not None:
                client.set_cookie("session", cookie.value)
            path = path_with(rule, value)
            headers = {"Host": host, "X-Forwarded-Host": forwarded}
            response = client.open(
                path,
                method=method,
                query_string=query,
                headers={k: v for k, v in headers.items() if v is not None}
                | {"X-CSRFToken": token},
                **(request_body(body, token) if method != "GET" else {}),
            )
            status = response.status_code
            assert status < 500, (method, path, query, body, host, forwarded, status)
            assert "Traceback" not in response.get_data(as_text=True)
            seen.setdefault(f"{method} {rule}", set()).add(status)

        return attack

    for method, rule in ordered:
        attack_on(method, rule.rule)()

    assert len(seen) == len(ordered)  # every route was reached
    if who == "signed in":
        # Not everything was refused: the signed-in pages answered too.
        assert 200 in seen["GET /c/<id:connection_id>/subscribers"]

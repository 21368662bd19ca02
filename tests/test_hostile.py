"""Hostile input to every route: never a 500, and nothing changes that should not.

Hypothesis sends arbitrary query strings, form bodies and headers to every
route of the app, as a signed-in user who owns connection 1, with CSRF on (a
forged request has no token). Afterwards the user's data and Kit's are as
they were. Then the crafted requests a security tester found 500s with, one
by one: query parameters the pager does not know, ids beyond the databases'
integer ranges, JSON bodies on form routes, malformed hosts.
(test_fuzz_routes.py varies all of these with hypothesis.)
"""

from __future__ import annotations

import json
import logging
import re
from html import unescape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.routing import IntegerConverter

from app.edge import MAX_ID, IdConverter
from tests.support.accounts import create_user, csrf_token, sign_in
from tests.support.installing import install
from tests.support.routes import path_of, routes
from tests.support.rows import snapshot

# Text that likes to break things: controls, quotes, markup, separators.
nasty = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        st.sampled_from(list("\x00\r\n\t%&=?#/\\<>\"'`;:@")),
    ),
    max_size=40,
)
keys = st.one_of(
    nasty,
    st.sampled_from(
        [
            "redirect",
            "state",
            "code",
            "error",
            "tenant_name",
            "next",
            "after",
            "before",
            "status",
            "email",
            "csrf_token",
            "email_address",
            "password",
            "create-name",
            "tag-tag_id",
            "tag-email_address",
            "first_name",
        ]
    ),
)
params = st.dictionaries(keys, nasty, max_size=5)
header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60
)
headers = st.dictionaries(
    st.sampled_from(
        [
            "Accept",
            "Accept-Language",
            "Referer",
            "Cookie",
            "X-Forwarded-For",
            "Content-Type",
            "User-Agent",
            "Origin",
            "If-None-Match",
        ]
    ),
    header_values,
    max_size=4,
)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def owner(make_app, kit, kit_browser):  # type: ignore[no-untyped-def]
    """An app with CSRF on, and a signed-in client that owns connection 1."""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    create_user(app, "own@example.com")
    assert sign_in(client, "own@example.com", csrf=True).status_code == 302
    install(client, kit_browser, account=1001)
    return app, client


def paths(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every (method, path) of the app, with connection 1 in the path."""
    return [(method, path_of(rule, 1)) for method, rule in routes(app)]


def test_every_route_is_listed(owner):
    app, _ = owner
    found = paths(app)
    assert ("GET", "/kit/oauth/callback") in found
    assert ("POST", "/c/1/subscribers") in found
    assert len(found) >= 18


def test_arbitrary_queries_forms_and_headers_never_cause_a_500(owner, kit):
    app, client = owner
    before = snapshot(app, kit)
    seen: dict[tuple[str, str], set[int]] = {}
    # A hostile User-Agent or Cookie ends the session (Flask-Login's strong
    # protection); put it back before each example so signed-in routes are hit.
    signed_in = client.get_cookie("session").value

    def attack_on(method: str, path: str):  # type: ignore[no-untyped-def]
        @SETTINGS
        @given(query=params, form=params, extra=headers)
        def attack(query, form, extra):  # type: ignore[no-untyped-def]
            client.set_cookie("session", signed_in)
            response = client.open(
                path,
                method=method,
                query_string=query,
                data=form if method == "POST" else None,
                headers=extra,
            )
            status = response.status_code
            assert status < 500, (method, path, query, form, extra, status)
            assert "Traceback" not in response.get_data(as_text=True)
            seen.setdefault((method, path), set()).add(status)

        return attack

    for method, path in paths(app):
        attack_on(method, path)()

    assert snapshot(app, kit) == before
    # Every write was refused (no CSRF token; Kit's plugin endpoints: no
    # client secret or bearer token, 401), and the signed-in pages still work.
    assert all(
        codes <= {400, 401, 404, 405, 413, 415, 429}
        for (m, _), codes in seen.items()
        if m == "POST"
    )
    client.set_cookie("session", signed_in)
    assert client.get("/dashboard").status_code == 200
    assert 200 in seen[("GET", "/c/1/subscribers")]  # signed-in pages were reached


@SETTINGS
@given(redirect=nasty)
def test_arbitrary_redirect_values_never_leave_kit(owner, kit, redirect):
    _, client = owner
    response = client.get("/kit/oauth", query_string={"redirect": redirect})
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        # Only a real Kit URL gets this far: the attempt remembers it, and the
        # browser goes to Kit's authorize page.
        assert response.location.startswith(f"{kit.url}/v4/oauth/authorize?")
        assert redirect.startswith(kit.url + "/") or redirect == kit.url


# --- crafted input, one by one ---------------------------------------------------


CRAFTED = "endpoint=x&_method=DELETE&connection_id=abc&_external=1&_anchor=a"


@pytest.mark.parametrize("filters", ["", "status=all&", "status=cancelled&email=&"])
def test_pager_links_carry_only_what_the_page_knows(owner, filters):
    _, client = owner
    first = client.get(f"/c/1/subscribers?{filters}{CRAFTED}")
    assert first.status_code == 200, first.text
    found = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert found is not None  # Ada has more subscribers than a page
    link = unescape(found.group(1))
    assert link.startswith("/c/1/subscribers?")
    for name in ("endpoint", "_method", "connection_id", "_external", "_anchor"):
        assert f"{name}=" not in link
    status = re.search(r"status=(\w+)", filters)
    assert f"status={status.group(1) if status else 'active'}" in link
    assert "email=" not in link  # an empty filter is left out
    second = client.get(link)
    assert second.status_code == 200
    assert 'rel="prev"' in second.text


def test_every_id_in_a_path_is_bounded_to_what_the_databases_hold(owner):
    app, _ = owner
    unbounded = [
        (rule.rule, name)
        for _, rule in routes(app)
        for name, converter in rule._converters.items()
        if isinstance(converter, IntegerConverter)
        and not isinstance(converter, IdConverter)
    ]
    # Write ids in paths as <id:name> (app/edge.py), not <int:name>.
    assert unbounded == []


BAD_IDS = [str(MAX_ID + 1), str(2**63), str(2**64), "9" * 5000, "0", "-1", "1e3"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_beyond_the_databases_range_are_404s(owner, bad):
    app, client = owner
    wrong = []
    for method, rule in routes(app):
        if "connection_id" not in rule.arguments:
            continue
        path = path_of(rule, 1).replace("/1", f"/{bad}", 1)
        status = client.open(path, method=method).status_code
        # 405: no route of that method takes this path either (POST /c/x).
        if status not in (404, 405):
            wrong.append((method, path[:60], status))
    assert wrong == []


def _takes_forms(app, rule) -> bool:  # type: ignore[no-untyped-def]
    """Not a route that says it takes JSON (`@accepts_body`, the webhook receiver)."""
    view = app.view_functions[rule.endpoint]
    return "application/json" not in getattr(view, "body_types", ())


@pytest.mark.parametrize("body", [123, [1], {"email": {"a": 1}}, {"email": None}])
def test_json_on_a_form_route_is_a_415_with_what_to_do(owner, body):
    app, client = owner
    token = csrf_token(client.get("/c/1/subscribers"))
    answers = {
        path_of(rule, 1): client.post(
            path_of(rule, 1),
            data=json.dumps(body),
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )
        for method, rule in routes(app)
        if method == "POST" and _takes_forms(app, rule)
    }
    assert len(answers) >= 6
    for path, answer in answers.items():
        assert answer.status_code == 415, (path, answer.status_code)
        assert "form posts only" in answer.text
    assert client.get("/dashboard").status_code == 200  # still signed in


BAD_HOSTS = ["..", "a..b", "a" * 64 + ".example.com", "x:99999", "bad host", "é.com"]


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("header", ["Host", "X-Forwarded-Host"])
def test_a_malformed_host_is_a_400_page_and_no_traceback(
    make_app, caplog, host, header
):
    client = make_app(PROXY_FIX_HOPS="1").test_client()
    with caplog.at_level(logging.INFO):
        for path in ("/", "/login", "/healthz", "/no/such/page"):
            answer = client.get(path, headers={header: host})
            assert answer.status_code == 400, (path, answer.status_code)
            assert "This address is not served here" in answer.text
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "Traceback" not in caplog.text

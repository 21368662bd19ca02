"""Hostile input to every route: never a 500, and nothing changes that should not.

Hypothesis sends arbitrary query strings, form bodies and headers to every
route of the app, as a signed-in user who owns connection 1, with CSRF on (a
forged request has no token). Afterwards the user's data and Kit's are as
they were.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import install, path_of, routes, sign_up, snapshot

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
    sign_up(client, "own@example.com", csrf=True)
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
    # Every write was refused (no CSRF token), and the signed-in pages still work.
    assert all(
        codes <= {400, 404, 405, 429} for (m, _), codes in seen.items() if m == "POST"
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

"""The install's two public URLs with hostile parameters: the Authorization URL
(`/kit/oauth?redirect=&tenant_name=`) and the callback (`?state=&code=&error=`)
answer their normal 4xx page to non-ASCII, NUL, control characters and very
long values, with an attempt pending in the browser's session (so the state
is compared against it), and a real install still completes afterwards.
"""

from __future__ import annotations

import pytest

from tests.support.installing import install, start_install
from tests.support.rows import stored

HOSTILE = [
    "é",
    "%C3%A9",  # sent as is: the test client quotes it again
    "\x00",
    "a\x00b",
    "\r\nSet-Cookie: x=1",
    "\x1b[31m",
    "\u202e",
    "\ufffd",
    "😀" * 50,
    "a" * 10_000,
    "é" * 43,
    " ",
]


@pytest.fixture
def pending(client, kit, user):  # type: ignore[no-untyped-def]
    """A signed-in user with an attempt started in this browser."""
    assert start_install(client).status_code == 302
    return client


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", ["state", "code", "error", "error_description"])
def test_the_callback_answers_4xx_to_hostile_values(pending, kit, name, value):
    params = {"state": "s" * 43, "code": "x"}
    params[name] = value
    answer = pending.get("/kit/oauth/callback", query_string=params)
    assert 400 <= answer.status_code < 500, (name, value, answer.status_code)
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    "query",
    [
        "state=%C3%A9&code=x",
        "state=%00&code=x",
        "state=%ff%fe&code=x",
        "state=%ED%A0%80&code=x",
        "code=x&state=" + "%C3%A9" * 2000,
        "state=a&state=%C3%A9&code=x",
    ],
)
def test_the_callback_answers_400_to_raw_non_ascii_states(pending, query):
    answer = pending.get(f"/kit/oauth/callback?{query}")
    assert answer.status_code == 400, (query, answer.status_code)
    assert "Connect Kit" in answer.text or "Try again" in answer.text


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", ["redirect", "tenant_name"])
def test_the_authorization_url_answers_hostile_values(client, kit, user, name, value):
    answer = start_install(client, **{name: value})
    if answer.status_code == 302:  # taken as given: it went to Kit, quoted
        assert answer.location.startswith(kit.url)
        assert "\r" not in answer.location and "\n" not in answer.location
    else:
        assert 400 <= answer.status_code < 500, (name, value, answer.status_code)


def test_an_install_completes_after_hostile_callbacks(pending, kit, kit_browser, app):
    for query in ("state=%C3%A9&code=x", "state=%00&code=x"):
        assert pending.get(f"/kit/oauth/callback?{query}").status_code == 400
    assert install(pending, kit_browser).status_code == 302
    assert stored(app).status == "active"

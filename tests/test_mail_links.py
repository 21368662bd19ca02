"""Links in mail come from the app's one configured origin (PUBLIC_BASE_URL,
else KIT_REDIRECT_URI's), never from the Host of the request that caused the
mail: a reset link built from `Host: evil.example` hands the token to whoever
serves evil.example. Production refuses to start without that origin."""

from __future__ import annotations

import pytest

from app.config import ConfigError
from tests.support.accounts import PASSWORD, create_user, outbox

ORIGIN = "https://app.example.com"


def _every_mail(client, host: str) -> None:  # type: ignore[no-untyped-def]
    """Each kind of account mail, asked for on `host`."""
    base = f"http://{host}"

    def post(path: str, **data: str) -> None:
        answer = client.post(path, data=data, base_url=base)
        assert answer.status_code in (302, 400, 429), answer.text

    post("/signup", email="new@example.com", password=PASSWORD, confirm=PASSWORD)
    # Again for the pending account, with another password (the same one is a
    # double tap, and sends nothing more): confirm or choose a password.
    other = "another password 123"
    post("/signup", email="new@example.com", password=other, confirm=other)
    post("/signup", email="owner@example.com", password=PASSWORD, confirm=PASSWORD)
    post("/forgot-password", email="owner@example.com")
    post("/login", email="pending@example.com", password=PASSWORD)  # a fresh link


def _links(app) -> list[str]:  # type: ignore[no-untyped-def]
    emails = ("new@example.com", "owner@example.com", "pending@example.com")
    return [link for email in emails for m in outbox(app, email) for link in m["links"]]


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("evil.example", "*"),  # any host is let through (ALLOWED_HOSTS=*)
        ("127.0.0.1:6666", None),  # an allowed host on a port of the sender's choice
    ],
)
def test_links_in_mail_ignore_the_request_host(make_app, host, allowed):
    app = make_app(PUBLIC_BASE_URL=ORIGIN, ALLOWED_HOSTS=allowed)
    create_user(app, "owner@example.com")
    create_user(app, "pending@example.com", verified=False)
    _every_mail(app.test_client(), host)

    links = _links(app)
    for link in links:
        assert link.startswith(ORIGIN + "/"), link
    assert len(links) == 7  # verify, verify+reset, login+reset, reset, verify


def test_without_public_base_url_the_redirect_uri_gives_the_origin(make_app):
    app = make_app(
        PUBLIC_BASE_URL=None,
        KIT_REDIRECT_URI="http://localhost:8000/kit/oauth/callback",
    )
    create_user(app, "owner@example.com")
    create_user(app, "pending@example.com", verified=False)
    _every_mail(app.test_client(), "127.0.0.1:6666")
    for link in _links(app):
        assert link.startswith("http://localhost:8000/"), link


def test_production_refuses_to_start_without_a_public_origin(make_app):
    with pytest.raises(ConfigError) as refused:
        make_app(APP_ENV="production", PUBLIC_BASE_URL=None, KIT_REDIRECT_URI=None)
    message = str(refused.value)
    assert "PUBLIC_BASE_URL" in message
    assert "KIT_REDIRECT_URI" in message
    # Either one is enough.
    make_app(
        APP_ENV="production", PUBLIC_BASE_URL=None, KIT_REDIRECT_URI=ORIGIN + "/cb"
    )
    make_app(APP_ENV="production", PUBLIC_BASE_URL=ORIGIN)

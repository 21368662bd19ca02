"""In production Kit's plugin calls must come over https (Authlib's rule).
One that reaches the app as plain http (a proxy that does not pass
X-Forwarded-Proto) is refused in RFC 6749's shape with what to fix, never a
500; found by `flask kit doctor --review` on an http PUBLIC_BASE_URL."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests.support.plugins import revoke_body, token_body

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "PUBLIC_BASE_URL": "https://app.example.com",
    "KIT_REDIRECT_URI": "https://app.example.com/kit/oauth/callback",
}
HTTP = "http://app.example.com"  # the app's host, without the s


@pytest.mark.parametrize("path", ["token", "refresh", "revoke"])
def test_kits_calls_over_http_in_production_get_an_oauth_error(make_app, path):
    app = make_app(**PRODUCTION)
    client = app.test_client()
    body = revoke_body("t") if path == "revoke" else token_body(app, "a-code")
    if path == "refresh":
        body = dict(body, grant_type="refresh_token", refresh_token="r")
    answer = client.post(f"/plugins/oauth/{path}", data=body, base_url=HTTP)
    assert answer.status_code == 400, answer.text
    assert answer.json["error"] == "invalid_request"
    assert "https" in answer.json["error_description"]


def test_the_authorize_screen_over_http_in_production_is_a_page(make_app):
    app = make_app(**PRODUCTION)
    answer = app.test_client().get(
        "/plugins/oauth/authorize",
        query_string={"client_id": "x", "response_type": "code"},
        base_url=HTTP,
    )
    assert answer.status_code in (302, 400), answer.text  # sign in first, or refused
    assert answer.status_code != 500

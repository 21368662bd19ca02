"""Refresh token rotation, and revoking a token pair (RFC 7009)."""

from __future__ import annotations

import pytest
import requests

from kit_sandbox import SandboxServer
from tests.sandbox.support import (
    SECRET,
    assert_oauth_error,
    connect,
    get_account,
    refresh_fields,
    revoke,
    token_request,
    with_changes,
)

# -- refresh -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["form", "json"])
@pytest.mark.parametrize(
    "secret", ["none", "body", "basic"], ids=["no-secret", "secret", "basic"]
)
def test_refresh_rotates_the_pair(
    fresh_kit: SandboxServer, browser: requests.Session, encoding: str, secret: str
) -> None:
    old = connect(browser, fresh_kit, tenant_name="Site A")
    body = refresh_fields(old["refresh_token"])
    if secret != "none":
        body["client_secret"] = SECRET
    response = token_request(
        fresh_kit, body, encoding=encoding, basic=secret == "basic"
    )
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    new = response.json()
    assert new["expires_in"] == 7200
    assert new["token_type"] == "Bearer"
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] != old["refresh_token"]

    assert get_account(fresh_kit, new["access_token"]).status_code == 200
    stale = get_account(fresh_kit, old["access_token"])
    assert stale.status_code == 401
    assert stale.json() == {"errors": ["The access token was revoked"]}
    reuse = token_request(fresh_kit, refresh_fields(old["refresh_token"]))
    assert_oauth_error(reuse, 400, "invalid_grant")
    # The failed reuse doesn't take the newest pair down with it.
    assert get_account(fresh_kit, new["access_token"]).status_code == 200
    assert (
        fresh_kit.state.find_access_token(new["access_token"]).tenant_name == "Site A"
    )
    assert fresh_kit.state.stats()["refresh_requests"] == 2


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        pytest.param({"refresh_token": None}, 400, "invalid_request", id="missing"),
        pytest.param({"refresh_token": "made-up"}, 400, "invalid_grant", id="unknown"),
        pytest.param(
            {"client_secret": "wrong"}, 401, "invalid_client", id="bad-secret"
        ),
        pytest.param({"client_id": "other"}, 401, "invalid_client", id="other-client"),
    ],
)
def test_refresh_errors(
    fresh_kit: SandboxServer,
    browser: requests.Session,
    fields: dict[str, str | None],
    status: int,
    error: str,
) -> None:
    body = with_changes(
        refresh_fields(connect(browser, fresh_kit)["refresh_token"]), fields
    )
    assert_oauth_error(token_request(fresh_kit, body), status, error)


def test_expired_access_token_still_refreshes(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    tokens = connect(browser, fresh_kit)
    fresh_kit.state.expire_access_tokens()
    response = token_request(fresh_kit, refresh_fields(tokens["refresh_token"]))
    assert response.status_code == 200
    assert get_account(fresh_kit, response.json()["access_token"]).status_code == 200


def test_token_sets_per_tenant_coexist(
    fresh_kit: SandboxServer, browser: requests.Session
) -> None:
    site_a = connect(browser, fresh_kit, tenant_name="Site A")
    site_b = connect(browser, fresh_kit, tenant_name="Site B")
    token_request(fresh_kit, refresh_fields(site_a["refresh_token"]))
    assert get_account(fresh_kit, site_b["access_token"]).status_code == 200
    tenants = {ts.tenant_name for ts in fresh_kit.state.token_sets}
    assert tenants == {"Site A", "Site B"}


# -- revoke --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v4/oauth/revoke", "/oauth/revoke"])
@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_kills_the_pair(
    fresh_kit: SandboxServer, browser: requests.Session, path: str, which: str
) -> None:
    tokens = connect(browser, fresh_kit)
    response = revoke(fresh_kit, tokens[which], path=path, token_type_hint=which)
    assert response.status_code == 200
    assert response.content == b""
    assert get_account(fresh_kit, tokens["access_token"]).status_code == 401
    refresh = token_request(fresh_kit, refresh_fields(tokens["refresh_token"]))
    assert_oauth_error(refresh, 400, "invalid_grant")
    assert fresh_kit.state.revoke_requests[-1]["revoked"] is True


@pytest.mark.parametrize(
    ("token", "extra"),
    [
        pytest.param("made-up", {}, id="unknown-token"),
        pytest.param("", {}, id="empty-token"),
        pytest.param(None, {"client_secret": "wrong"}, id="wrong-secret"),
        pytest.param(None, {"client_id": "other"}, id="other-client"),
    ],
)
def test_revoke_always_answers_200_but_only_revokes_for_the_right_client(
    fresh_kit: SandboxServer,
    browser: requests.Session,
    token: str | None,
    extra: dict[str, str],
) -> None:
    tokens = connect(browser, fresh_kit)
    response = revoke(
        fresh_kit, tokens["access_token"] if token is None else token, **extra
    )
    assert response.status_code == 200
    assert response.content == b""
    assert get_account(fresh_kit, tokens["access_token"]).status_code == 200
    assert fresh_kit.state.revoke_requests[-1]["revoked"] is False

"""Kit's side of plugin access, driven through the test client: the
authorize screen, the token, refresh and revoke calls, and a plugin route
called with a bearer token."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from tests.support.settings import PLUGIN_CLIENT_ID, PLUGIN_CLIENT_SECRET


def kit_redirect_uri(app: Flask) -> str:
    return f"{app.config['KIT_APP_URL']}/apps/install"


def authorize_url(app: Flask, /, **changes: str) -> str:
    params = {
        "client_id": PLUGIN_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": kit_redirect_uri(app),
        "state": "kit-state-1",
    }
    params.update(changes)
    return f"/plugins/oauth/authorize?{urlencode(params)}"


def allow(client: FlaskClient, url: str, button: str = "allow") -> Any:
    """The signed-in creator presses Allow (or Cancel: `button="deny"`)."""
    return client.post(url, data={button: "x"})


def code_for(app: Flask, client: FlaskClient, /, **changes: str) -> str:
    """A fresh authorization code for the signed-in creator."""
    answer = allow(client, authorize_url(app, **changes))
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.location).query)
    return query["code"][0]


def _changed(body: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """`body` with `changes`: a None drops the field."""
    body.update(changes)  # type: ignore[arg-type]
    return {k: v for k, v in body.items() if v is not None}


def token_body(app: Flask, code: str, /, **changes: str | None) -> dict[str, str]:
    body = {
        "client_id": PLUGIN_CLIENT_ID,
        "client_secret": PLUGIN_CLIENT_SECRET,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": kit_redirect_uri(app),
    }
    return _changed(body, changes)


def refresh_body(refresh_token: str, /, **changes: str | None) -> dict[str, str]:
    body = {
        "client_id": PLUGIN_CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    return _changed(body, changes)


def revoke_body(token: str, /, **changes: str | None) -> dict[str, str]:
    body = {
        "client_id": PLUGIN_CLIENT_ID,
        "client_secret": PLUGIN_CLIENT_SECRET,
        "token": token,
    }
    return _changed(body, changes)


def exchange(
    client: FlaskClient, app: Flask, code: str, /, **changes: str | None
) -> Any:
    return client.post("/plugins/oauth/token", data=token_body(app, code, **changes))


def tokens_for(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """A fresh pair for the signed-in creator (authorize, then exchange)."""
    answer = exchange(client, app, code_for(app, client))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.get_json()
    return body


def refresh(client: FlaskClient, refresh_token: str, /, **changes: str | None) -> Any:
    return client.post(
        "/plugins/oauth/refresh", data=refresh_body(refresh_token, **changes)
    )


def revoke(client: FlaskClient, token: str, /, **changes: str | None) -> Any:
    return client.post("/plugins/oauth/revoke", data=revoke_body(token, **changes))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def install_with_plugins(
    app: Flask, client: FlaskClient, kit_browser: Any, account: int | None = None
) -> dict[str, Any]:
    """An install of an app with plugin access, as Kit runs it for the
    signed-in creator: the plugin OAuth first (Kit's side through the test
    client), then the API install in the same browser. Returns the plugin
    token pair Kit holds."""
    from tests.support.installing import install

    tokens = tokens_for(app, client)
    done = install(client, kit_browser, account=account)
    assert done.status_code == 302, done.text
    return tokens

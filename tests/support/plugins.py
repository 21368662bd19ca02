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


def authorize_url(app: Flask, **changes: str) -> str:
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


def code_for(app: Flask, client: FlaskClient, **changes: str) -> str:
    """A fresh authorization code for the signed-in creator."""
    answer = allow(client, authorize_url(app, **changes))
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.location).query)
    return query["code"][0]


def exchange(client: FlaskClient, app: Flask, code: str, **changes: str) -> Any:
    body = {
        "client_id": PLUGIN_CLIENT_ID,
        "client_secret": PLUGIN_CLIENT_SECRET,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": kit_redirect_uri(app),
    }
    body.update(changes)
    return client.post("/plugins/oauth/token", data=body)


def tokens_for(app: Flask, client: FlaskClient) -> dict[str, Any]:
    answer = exchange(client, app, code_for(app, client))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.get_json()
    return body


def refresh(client: FlaskClient, refresh_token: str, **changes: str) -> Any:
    body = {
        "client_id": PLUGIN_CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    body.update(changes)
    return client.post("/plugins/oauth/refresh", data=body)


def revoke(client: FlaskClient, token: str, **changes: str) -> Any:
    body = {
        "client_id": PLUGIN_CLIENT_ID,
        "client_secret": PLUGIN_CLIENT_SECRET,
        "token": token,
    }
    body.update(changes)
    return client.post("/plugins/oauth/revoke", data=body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

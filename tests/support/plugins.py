"""Kit's side of plugin access, driven through the test client: the
authorize screen, the token, refresh and revoke calls, and a plugin route
called with a bearer token."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD
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


def give_kit_plugin_access(kit: Any, origin: str) -> None:
    """Register the app served at `origin` at the sandbox as Kit's developer
    settings would: its Authorization and redirect URIs, and plugin access
    with the app's four plugin URLs and the client pair it issued. The `kit`
    fixture restores the config after the test."""
    kit.config.redirect_uris = [f"{origin}/kit/oauth/callback"]
    kit.config.authorization_url = f"{origin}/kit/oauth"
    kit.config.plugin_authorize_url = f"{origin}/plugins/oauth/authorize"
    kit.config.plugin_token_url = f"{origin}/plugins/oauth/token"
    kit.config.plugin_refresh_url = f"{origin}/plugins/oauth/refresh"
    kit.config.plugin_revoke_url = f"{origin}/plugins/oauth/revoke"
    kit.config.plugin_client_id = PLUGIN_CLIENT_ID
    kit.config.plugin_client_secret = PLUGIN_CLIENT_SECRET


def install_from_the_app_store(
    kit: Any, origin: str, browser: Any, email: str, account: int
) -> list[str]:
    """The whole install over HTTP in one browser (`browser.http`, cookies for
    both origins): sign in to the app as `email`, press Install on the App
    Store page, Allow on the app's plugin screen, pick `account` and Allow on
    Kit's consent. Returns every URL the browser went through."""
    from kit_sandbox.testing import form_with_button

    http = browser.http
    signed = http.post(
        f"{origin}/login",
        data={"email": email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert signed.status_code == 302, signed.text
    trail: list[str] = []
    screen = http.get(f"{kit.url}/apps/{kit.config.app_id}/install", timeout=10)
    trail += [r.url for r in screen.history] + [screen.url]
    assert screen.status_code == 200 and "Let Kit use" in screen.text, screen.text
    consent = http.post(screen.url, data={"allow": "Allow"}, timeout=10)
    trail += [r.url for r in consent.history] + [consent.url]
    assert consent.status_code == 200, consent.text
    form, button = form_with_button(consent.text, consent.url, "allow")
    data = dict(form.fields) | {button: "allow", "account_id": str(account)}
    done = http.post(form.action, data=data, timeout=10)
    trail += [r.url for r in done.history] + [done.url]
    assert done.status_code == 200 and "is installed" in done.text, done.text
    return trail

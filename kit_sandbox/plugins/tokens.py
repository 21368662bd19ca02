"""Kit's side of plugin OAuth: the token pair the app issued per sandbox
account, exchanged, refreshed when expired, revoked on uninstall.

Kit-side choices the docs leave open, named here: the sandbox sends the token
calls as a JSON body under a form content type (as Kit's samples do), the
refresh without the client secret, the revoke with the refresh token, and it
refreshes 30 seconds before the access token expires.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import requests

from ..registration import SandboxConfig
from ..state import SandboxState

MODES = ("valid", "wrong", "expired", "foreign")
REFRESH_MARGIN = 30.0
TIMEOUT = 10.0


@dataclass
class PluginPair:
    access_token: str
    refresh_token: str
    expires_at: float


class PluginOAuthError(RuntimeError):
    """The app refused a token call, or did not answer one."""


def _post(url: str | None, body: dict[str, Any]) -> requests.Response:
    if not url:
        raise PluginOAuthError("no URL configured for this plugin call")
    try:
        return requests.post(
            url,
            data=json.dumps(body),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=TIMEOUT,
        )
    except requests.RequestException as error:
        raise PluginOAuthError(
            f"the app did not answer: {type(error).__name__}"
        ) from None


def _pair(answer: requests.Response) -> PluginPair:
    if answer.status_code != 200:
        raise PluginOAuthError(f"the app answered {answer.status_code}")
    body = answer.json()
    return PluginPair(
        body["access_token"],
        body["refresh_token"],
        time.time() + float(body["expires_in"]),
    )


def exchange(config: SandboxConfig, code: str, redirect_uri: str) -> PluginPair:
    return _pair(
        _post(
            config.plugin_token_url,
            {
                "client_id": config.plugin_client_id,
                "client_secret": config.plugin_client_secret,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
            },
        )
    )


def refresh(config: SandboxConfig, pair: PluginPair) -> PluginPair:
    return _pair(
        _post(
            config.plugin_refresh_url or config.plugin_token_url,
            {
                "client_id": config.plugin_client_id,
                "grant_type": "refresh_token",
                "refresh_token": pair.refresh_token,
            },
        )
    )


def revoke(config: SandboxConfig, pair: PluginPair) -> int:
    """Kit's uninstall notice; returns the app's status code."""
    answer = _post(
        config.plugin_revoke_url,
        {
            "client_id": config.plugin_client_id,
            "client_secret": config.plugin_client_secret,
            "token": pair.refresh_token,
        },
    )
    return answer.status_code


def valid_bearer(state: SandboxState, account_id: int) -> str | None:
    """The account's access token, refreshed first if it has expired."""
    with state.lock:
        pair: PluginPair | None = state.plugin_pairs.get(account_id)
        if pair is None:
            return None
        if time.time() >= pair.expires_at - REFRESH_MARGIN:
            pair = state.plugin_pairs[account_id] = refresh(state.config, pair)
        return pair.access_token


def bearer_for(state: SandboxState, account_id: int) -> str | None:
    """What Kit sends as `Authorization: Bearer` on a plugin call for this
    account, as `config.plugin_token_mode` says: None when the app is not
    installed with plugin access for it."""
    with state.lock:
        pair: PluginPair | None = state.plugin_pairs.get(account_id)
        others = [a for a in state.plugin_pairs if a != account_id]
    if pair is None:
        return None
    mode = state.config.plugin_token_mode
    if mode == "wrong":
        return secrets.token_urlsafe(32)
    if mode == "expired":
        return pair.access_token  # as it is: never refreshed
    if mode == "foreign":
        return valid_bearer(state, others[0]) if others else secrets.token_urlsafe(32)
    return valid_bearer(state, account_id)


def uninstall(state: SandboxState, account_id: int) -> int | None:
    """The creator uninstalls the app: Kit POSTs the plugin revoke URL (the
    app's status code, or None without plugin access) and ends the API
    grants of the account."""
    with state.lock:
        pair: PluginPair | None = state.plugin_pairs.pop(account_id, None)
    status = None
    if pair is not None and state.config.has_plugins:
        try:
            status = revoke(state.config, pair)
        except PluginOAuthError:
            status = 0
    state.revoke_all_for_account(account_id)
    return status

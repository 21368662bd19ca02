"""Calls to Kit's API v4 with a bearer token, errors mapped to typed exceptions."""

from __future__ import annotations

from typing import Any

import requests

from app.kit.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    KitAPIError,
    KitUnavailable,
)
from app.kit.settings import KitSettings

# One pooled session per process: keep-alive to Kit across requests.
_http = requests.Session()


def get(settings: KitSettings, access_token: str, path: str, **params: Any) -> Any:
    """GET `{api_url}/v4/{path}` and return the decoded JSON body."""
    url = f"{settings.api_url}/v4/{path.lstrip('/')}"
    headers = {
        "Authorization": f"Bearer {access_token}",
        "Accept": "application/json",
        "User-Agent": settings.user_agent,
    }
    try:
        response = _http.get(
            url, headers=headers, params=params, timeout=settings.timeout
        )
    except requests.RequestException as exc:
        raise KitUnavailable(f"Kit API unreachable: {type(exc).__name__}") from None
    return _decode(response)


def _decode(response: requests.Response) -> Any:
    if response.status_code >= 500:
        raise KitUnavailable(f"Kit API answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.ok:
        if body is None:
            raise KitUnavailable("Kit API answered with a body that is not JSON")
        return body
    messages = _messages(body) or [response.text[:200] or response.reason]
    if response.status_code == 401:
        if any("expired" in m.lower() for m in messages):
            raise AccessTokenExpired(401, messages)
        raise AccessTokenInvalid(401, messages)
    raise KitAPIError(response.status_code, messages)


def _messages(body: Any) -> list[str]:
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [str(m) for m in body["errors"]]
    return []

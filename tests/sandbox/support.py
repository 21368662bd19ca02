"""Plain helpers and constants for the sandbox's tests: a creator's browser
on the consent screen, calls to the token and revoke endpoints, and API v4
calls with a bearer token, all over real HTTP.

Fixtures live in conftest.py; tests import these by name from
tests.sandbox.support.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from kit_sandbox import SandboxConfig, SandboxServer

# The sandbox's app, as registered by default: its credentials are written
# once, in SandboxConfig.
DEFAULTS = SandboxConfig()
assert DEFAULTS.client_secret is not None  # the default app is confidential
CLIENT_ID: str = DEFAULTS.client_id
SECRET: str = DEFAULTS.client_secret
REDIRECT_URI = DEFAULTS.redirect_uris[0]

ADA, BEN, CHLOE = 1001, 1002, 1003
BANNER = "Kit sandbox — a local stand-in for Kit, no real accounts"

#: ``start_sandbox(**overrides)``: a running sandbox with a config of its own.
StartSandbox = Callable[..., SandboxServer]


# -- the consent screen --------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def location_query(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of the consent form, as a browser would send them."""
    pattern = r'<input type="hidden" name="([^"]+)" value="([^"]*)">'
    return {name: html.unescape(value) for name, value in re.findall(pattern, page)}


def open_consent(
    browser: requests.Session,
    kit: SandboxServer,
    path: str = "/v4/oauth/authorize",
    **params: str | None,
) -> requests.Response:
    """GET the consent page; ``None`` in ``params`` drops a default parameter."""
    query: dict[str, str | None] = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "state": "state-123",
    }
    query.update(params)
    sent = {key: value for key, value in query.items() if value is not None}
    return browser.get(kit.url + path, params=sent, allow_redirects=False)


def submit_consent(
    browser: requests.Session,
    kit: SandboxServer,
    page: requests.Response,
    decision: str = "allow",
    account_id: int = ADA,
    **overrides: str,
) -> requests.Response:
    assert page.status_code == 200, page.text
    fields = form_fields(page.text) | {"decision": decision}
    fields["account_id"] = str(account_id)
    fields.update(overrides)
    path = urlsplit(page.url).path
    return browser.post(kit.url + path, data=fields, allow_redirects=False)


def get_code(browser: requests.Session, kit: SandboxServer, **params: str) -> str:
    """Run the consent screen and return the code from the redirect."""
    account_id = int(params.pop("account_id", ADA))
    page = open_consent(browser, kit, **params)
    query = location_query(submit_consent(browser, kit, page, account_id=account_id))
    assert query.get("state") == params.get("state", "state-123")
    return query["code"]


# -- the token and revoke endpoints --------------------------------------------


def token_request(
    kit: SandboxServer,
    fields: dict[str, str],
    *,
    encoding: str = "form",
    basic: bool = False,
    path: str = "/v4/oauth/token",
    timeout: float = 5,
) -> requests.Response:
    """POST to the token endpoint; ``basic`` moves client credentials to Basic."""
    body = dict(fields)
    auth = None
    if basic:
        auth = (body.pop("client_id"), body.pop("client_secret", ""))
    if encoding == "json":
        return requests.post(kit.url + path, json=body, auth=auth, timeout=timeout)
    return requests.post(kit.url + path, data=body, auth=auth, timeout=timeout)


def exchange_fields(code: str, **extra: str) -> dict[str, str]:
    fields = {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }
    fields.update(extra)
    return fields


def refresh_fields(refresh_token: str, **extra: str) -> dict[str, str]:
    fields = {
        "client_id": CLIENT_ID,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    fields.update(extra)
    return fields


def with_changes(
    fields: dict[str, str], changes: Mapping[str, str | None]
) -> dict[str, str]:
    """A copy of ``fields`` with ``changes`` made; ``None`` removes a field."""
    changed = dict(fields)
    for key, value in changes.items():
        if value is None:
            changed.pop(key)
        else:
            changed[key] = value
    return changed


def connect(
    browser: requests.Session, kit: SandboxServer, **params: str
) -> dict[str, Any]:
    """The whole code flow for a confidential client: consent, then exchange."""
    response = token_request(kit, exchange_fields(get_code(browser, kit, **params)))
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def revoke(
    kit: SandboxServer,
    token: str,
    path: str = "/v4/oauth/revoke",
    timeout: float = 5,
    **extra: str,
) -> requests.Response:
    fields = {"token": token, "client_id": CLIENT_ID, "client_secret": SECRET}
    fields.update(extra)
    return requests.post(kit.url + path, data=fields, timeout=timeout)


def assert_oauth_error(response: requests.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"]


# -- API v4 --------------------------------------------------------------------

STATES = ("active", "inactive", "bounced", "complained", "cancelled")
SUBSCRIBER_KEYS = ["id", "first_name", "email_address", "state", "created_at"]
#: Each list endpoint: the root key of its body, and the keys of its items.
LISTS: dict[str, tuple[str, list[str]]] = {
    "/v4/subscribers": ("subscribers", [*SUBSCRIBER_KEYS, "fields"]),
    "/v4/tags": ("tags", ["id", "name", "created_at"]),
    "/v4/forms": (
        "forms",
        ["id", "name", "created_at", "type", "format"]
        + ["embed_js", "embed_url", "archived", "uid"],
    ),
    "/v4/sequences": ("sequences", ["id", "name", "hold", "repeat", "created_at"]),
    "/v4/broadcasts": (
        "broadcasts",
        ["id", "publication_id", "created_at", "subject", "preview_text"]
        + ["description", "content", "public", "published_at", "send_at"]
        + ["thumbnail_alt", "thumbnail_url", "public_url", "email_address"]
        + ["email_template"]
        + ["subscriber_filter", "status"],
    ),
    "/v4/custom_fields": ("custom_fields", ["id", "name", "key", "label"]),
}
KIT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def get_account(
    kit: SandboxServer, access_token: str | None, timeout: float = 5
) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return requests.get(kit.url + "/v4/account", headers=headers, timeout=timeout)


class Api:
    """Calls to one sandbox with a bearer token for one account.

    The token comes straight from ``state.issue_tokens``: the OAuth flow has
    tests of its own.
    """

    def __init__(self, kit: SandboxServer, account_id: int) -> None:
        self.kit = kit
        self.token = kit.state.issue_tokens(
            client_id=kit.config.client_id,
            account_id=account_id,
            tenant_name=None,
            scope="public",
            expires_in=3600,
            grant_code=f"test-{account_id}",
        ).access_token

    def get(self, path: str, **params: Any) -> requests.Response:
        return requests.get(
            self.kit.url + path,
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5,
        )

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(
            self.kit.url + path,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=5,
            **kwargs,
        )

    def ok(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def walk(self, path: str, direction: str = "after", **params: Any) -> list[dict]:
        """Every page from where ``params`` start, following end cursors
        (``after``) or start cursors (``before``) until there is no more."""
        more = "has_next_page" if direction == "after" else "has_previous_page"
        cursor = "end_cursor" if direction == "after" else "start_cursor"
        pages = [self.ok(path, **params)]
        while pages[-1]["pagination"][more]:
            params[direction] = pages[-1]["pagination"][cursor]
            pages.append(self.ok(path, **params))
        return pages


def item_ids(pages: list[dict[str, Any]], root: str = "subscribers") -> list[int]:
    return [item["id"] for page in pages for item in page[root]]


def utc_today() -> date:
    return datetime.now(UTC).date()

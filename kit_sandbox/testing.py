"""Drivers that tests and benchmarks share: a creator's browser on the sandbox's
consent page, a real grant without a browser, and HTML forms read the way a
browser would submit them.

Plain HTTP through `requests`: they work against any running sandbox (or any
server that renders the same forms), in this process or another.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests

from .oauth.grants import pkce_s256
from .server import SandboxServer


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    radios: dict[str, list[str]] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "radio":
                self.forms[-1].radios.setdefault(a["name"], []).append(
                    a.get("value", "")
                )
                if "checked" in a:
                    self.forms[-1].fields[a["name"]] = a.get("value", "")
            elif kind == "submit":
                self.forms[-1].buttons.append((a["name"], a.get("value", "")))
            else:
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


def forms(html: str, base_url: str = "") -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        form.action = urljoin(base_url, form.action)
    return parser.forms


def form_with_button(html: str, base_url: str, button_value: str) -> tuple[Form, str]:
    """The form that has a submit button with this value, and that button's name."""
    for form in forms(html, base_url):
        for name, value in form.buttons:
            if value == button_value:
                return form, name
    raise AssertionError(f"no form with a {button_value!r} button in the page")


class KitBrowser:
    """The creator's browser on Kit's side (the sandbox's consent page), over HTTP."""

    def __init__(self) -> None:
        self.http = requests.Session()

    def consent(
        self, authorize_url: str, decision: str = "allow", account: str | None = None
    ) -> str:
        """Open Kit's consent page, pick a creator, allow or deny; return where
        Kit sends the browser back to (the app's callback URL)."""
        page = self.http.get(authorize_url, timeout=5)
        assert page.status_code == 200, page.text
        form, button = form_with_button(page.text, page.url, decision)
        data = dict(form.fields)
        for name, values in form.radios.items():
            if account is not None:
                assert account in values, f"no demo creator {account} on the page"
                data[name] = account
            else:
                data.setdefault(name, values[0])
        data[button] = decision
        answer = self.http.post(
            form.action, data=data, allow_redirects=False, timeout=5
        )
        assert answer.status_code in (302, 303), answer.text
        return answer.headers["Location"]

    def close(self) -> None:
        self.http.close()


def real_grant(kit: SandboxServer, account_id: int | None = None) -> dict[str, Any]:
    """A token response from a real code exchange at the sandbox's token
    endpoint, for a demo creator (the first by default), the consent page
    skipped. Returns Kit's JSON body; `received_at` is when it was asked for."""
    config = kit.config
    # With PKCE, as the app does (a verifier for a code without a challenge
    # is refused: RFC 9700's downgrade check).
    verifier = secrets.token_urlsafe(48)
    code = kit.state.issue_code(
        client_id=config.client_id,
        redirect_uri=config.redirect_uris[0],
        account_id=account_id if account_id is not None else min(kit.state.accounts),
        tenant_name=None,
        scope="public",
        code_challenge=pkce_s256(verifier),
    )
    form = {
        "grant_type": "authorization_code",
        "client_id": config.client_id,
        "code": code.code,
        "redirect_uri": config.redirect_uris[0],
        "code_verifier": verifier,
    }
    if config.client_secret:
        form["client_secret"] = config.client_secret
    sent_at = time.time()
    answer = requests.post(f"{kit.url}/v4/oauth/token", data=form, timeout=10)
    answer.raise_for_status()
    return {**answer.json(), "received_at": sent_at}

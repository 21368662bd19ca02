"""Drivers that tests and benchmarks share: a creator's browser on the sandbox's
consent page, a real grant without a browser, HTML forms read the way a
browser would submit them, and a webhook receiver that records deliveries.

Plain HTTP through `requests`: they work against any running sandbox (or any
server that renders the same forms), in this process or another.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any
from urllib.parse import urljoin

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

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


@dataclass
class ReceivedDelivery:
    """One POST a ``WebhookReceiver`` got: its headers and raw body."""

    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A tiny HTTP server on a free loopback port standing in for an app's
    webhook endpoint: it keeps every POST it gets, raw, and answers with the
    statuses planned by ``answer()`` (then 200).

    It checks nothing: tests verify what it received against KIT_PLATFORM.md.
    Usable as a context manager: ``with WebhookReceiver() as hook: ...``.
    """

    def __init__(self) -> None:
        self.received: list[ReceivedDelivery] = []
        self._plan: list[tuple[int, dict[str, str]]] = []
        self._changed = threading.Condition()
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="webhook-receiver",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/webhooks/kit"

    def answer(
        self, status: int, times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next ``times`` POSTs with ``status`` (and ``headers``)."""
        with self._changed:
            self._plan += [(status, dict(headers or {}))] * times

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedDelivery]:
        """What was received once there are ``count`` POSTs (or the timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return list(self.received)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["Content-Type"] = environ.get("CONTENT_TYPE", "")
        with self._changed:
            status, extra = self._plan.pop(0) if self._plan else (200, {})
            self.received.append(ReceivedDelivery(headers, body, time.time()))
            self._changed.notify_all()
        start_response(f"{status} {HTTPStatus(status).phrase}", list(extra.items()))
        return [b""]

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

"""The OAuth paths Kit's reviewers try (KIT_PLATFORM.md §5c), for
`flask kit doctor --review`: a brand-new sign-up, signed in, signed out, and
a Kit account with data, each from the Install button of Kit's App Store to
Kit's "installed" page and the app's dashboard.

They run against the Kit sandbox and a copy of this app on a throwaway
database, served over loopback HTTP and driven by a browser-like HTTP
session (cookies, forms with their CSRF tokens, redirects): never against
the real database or Kit. The sandbox comes through `app.cli.dev`, the one
module of `app/` that may import it.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import requests
from flask import Flask
from markupsafe import escape
from werkzeug.serving import WSGIRequestHandler, make_server

from app.cli import dev
from app.cli.checks import Check
from app.extensions import db

TIMEOUT = 15  # seconds per request: the sandbox and the app are on this machine
EMPTY_ACCOUNT, DATA_ACCOUNT = "1003", "1001"  # the sandbox's seeded creators


class JourneyFailed(Exception):
    """A step of a journey went wrong: the message says which."""


def oauth_paths(app: Flask, sandbox_flag: bool) -> list[Check]:
    name = "OAuth paths"
    if not (app.config["KIT_SANDBOX"] or sandbox_flag):
        return [
            Check(
                name,
                "SKIP",
                "not in sandbox mode: add --sandbox to try them against the Kit "
                "sandbox (a throwaway copy of this app; nothing here is touched)",
            )
        ]
    if dev.kit_sandbox is None:
        return [Check(name, "FAIL", "kit_sandbox/ is not there", "restore it")]
    with served_copy(app) as (kit, origin):
        journey = Journeys(kit, origin, dev.sandbox_testing)
        steps: list[tuple[str, Callable[[], str]]] = [
            ("brand-new sign-up", journey.new_sign_up),
            ("signed in", journey.signed_in),
            ("signed out", journey.signed_out),
            ("account with data", journey.account_with_data),
        ]
        results = []
        for label, run in steps:
            try:
                results.append(Check(f"OAuth path ({label})", "PASS", run()))
            except (JourneyFailed, requests.RequestException) as failed:
                results.append(
                    Check(
                        f"OAuth path ({label})",
                        "FAIL",
                        str(failed)[:300],
                        "run `make run` and try this path in a browser; "
                        "docs/troubleshooting.md",
                    )
                )
    return results


@contextmanager
def served_copy(app: Flask) -> Iterator[tuple[Any, str]]:
    """The Kit sandbox, and this app's code on a throwaway SQLite database,
    both on free loopback ports."""
    from app import create_app

    kit = dev.kit_sandbox.SandboxServer(dev.kit_sandbox.SandboxConfig()).start()
    with tempfile.TemporaryDirectory(prefix="kit-review-") as folder:
        copy = create_app(
            {
                "APP_ENV": "development",
                "APP_NAME": app.config["APP_NAME"],
                "SECRET_KEY": secrets.token_urlsafe(32),
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'review.db'}",
                "KIT_PENDING_PAIRS_DIR": str(Path(folder) / "pending_pairs"),
                "KIT_CLIENT_ID": kit.config.client_id,
                "KIT_CLIENT_SECRET": kit.config.client_secret,
                "KIT_APP_URL": kit.url,
                "KIT_API_URL": kit.url,
                "KIT_APP_ID": str(kit.config.app_id),
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": kit.smtp_port,
                "KIT_CACHE_SECONDS": 0,
                "LOG_LEVEL": "WARNING",
            }
        )
        logging.disable(logging.INFO)  # alembic's lines, one per migration
        try:
            with copy.app_context():
                flask_migrate.upgrade()
        finally:
            logging.disable(logging.NOTSET)
        server = make_server(
            "127.0.0.1", 0, copy, threaded=True, request_handler=_Quiet
        )
        origin = f"http://127.0.0.1:{server.server_port}"
        copy.config["KIT_REDIRECT_URI"] = f"{origin}/kit/oauth/callback"
        copy.config["PUBLIC_BASE_URL"] = origin
        kit.config.redirect_uris = [copy.config["KIT_REDIRECT_URI"]]
        kit.config.authorization_url = f"{origin}/kit/oauth"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield kit, origin
        finally:
            server.shutdown()
            thread.join()
            kit.stop()
            with copy.app_context():
                db.engine.dispose()


class Journeys:
    """One creator's browser (signed in after the first journey) and a
    second one, signed out, for the same account."""

    def __init__(self, kit: Any, origin: str, testing: Any) -> None:
        self.kit, self.origin, self.testing = kit, origin, testing
        self.browser = testing.KitBrowser()
        self.email = f"review-{secrets.token_hex(4)}@example.com"
        self.password = secrets.token_urlsafe(16)
        self.install = f"{kit.url}/apps/{kit.config.app_id}/install"

    def new_sign_up(self) -> str:
        page = self._get(self.install, "Kit's Install", "/signup")
        page = self._submit(
            page,
            {"email": self.email, "password": self.password, "confirm": self.password},
            "sign-up",
            "/signup/check-inbox",
        )
        link = self._mailed_link("/verify-email")
        page = self._get(link, "the confirmation link", "/verify-email")
        # Signed up under the notice of what the app keeps, and confirmed in
        # this browser: agreed (app/creator_data/agreement.py), on to Kit.
        page = self._submit(page, {}, "Confirm", "/v4/oauth/authorize")
        return self._consent(page, EMPTY_ACCOUNT, "a new account, an empty Kit account")

    def signed_in(self) -> str:
        page = self._get(self.install, "Kit's Install", "/v4/oauth/authorize")
        return self._consent(page, EMPTY_ACCOUNT, "reinstalled, straight to consent")

    def signed_out(self) -> str:
        other = self.testing.KitBrowser()
        self.browser, signed_in = other, self.browser
        try:
            page = self._get(self.install, "Kit's Install", "/signup")
            next_url = page.url.split("next=", 1)[1] if "next=" in page.url else ""
            page = self._get(
                f"{self.origin}/login?next={next_url}", "Sign in", "/login"
            )
            page = self._submit(
                page,
                {"email": self.email, "password": self.password},
                "sign-in",
                "/v4/oauth/authorize",
            )
            return self._consent(page, EMPTY_ACCOUNT, "signed in on the way, consent")
        finally:
            self.browser = signed_in
            other.close()

    def account_with_data(self) -> str:
        page = self._get(self.install, "Kit's Install", "/v4/oauth/authorize")
        self._consent(page, DATA_ACCOUNT, "")
        accounts = self._get(f"{self.origin}/accounts", "Kit accounts", "/accounts")
        name = str(escape(self.kit.state.accounts[int(DATA_ACCOUNT)].name))
        if name not in accounts.text:
            raise JourneyFailed(f"the Kit accounts page does not list {name}")
        overview = self._get(f"{self.origin}/dashboard", "the dashboard", "/dashboard")
        if name not in overview.text or "Kit is unavailable" in overview.text:
            raise JourneyFailed("the dashboard does not show the account's data")
        shown = self.kit.state.accounts[int(DATA_ACCOUNT)].name
        return f"{shown} installed; its dashboard shows its data"

    # --- steps ---------------------------------------------------------------

    def _get(self, url: str, step: str, expect: str) -> requests.Response:
        page = self.browser.http.get(url, timeout=TIMEOUT)
        return self._landed(page, step, expect)

    def _submit(
        self,
        page: requests.Response,
        values: dict[str, str],
        step: str,
        expect: str,
    ) -> requests.Response:
        wanted = set(values) or {"token"}
        form = next(
            (
                f
                for f in self.testing.forms(page.text, page.url)
                if f.method == "post" and wanted <= set(f.fields)
            ),
            None,
        )
        if form is None:
            raise JourneyFailed(f"{step}: no form on {_path(page.url)}")
        answer = self.browser.http.post(
            form.action, data={**form.fields, **values}, timeout=TIMEOUT
        )
        return self._landed(answer, step, expect)

    def _consent(self, page: requests.Response, account: str, done: str) -> str:
        before = self.kit.state.install_completions
        back = self.browser.consent(page.url, "allow", account)
        landed = self._get(back, "Kit's Allow", f"/apps/{self.kit.config.app_id}")
        if self.kit.state.install_completions != before + 1:
            raise JourneyFailed(f"ended on {_path(landed.url)}, not back on Kit")
        return f"Install → … → Kit's installed page ({done})"

    def _mailed_link(self, path: str) -> str:
        for mail in reversed(self.kit.outbox.messages(to=self.email)):
            for link in mail.links:
                if path in link:
                    return str(link)
        raise JourneyFailed(f"no mail to {self.email} with a link to {path}")

    def _landed(
        self, page: requests.Response, step: str, expect: str
    ) -> requests.Response:
        if page.status_code >= 400 or expect not in page.url:
            got = f"{page.status_code} on {_path(page.url)}"
            raise JourneyFailed(f"{step}: expected {expect}, got {got}")
        return page


def _path(url: str) -> str:
    """A URL without its query (which may hold a code or a state)."""
    return url.split("?", 1)[0]


class _Quiet(WSGIRequestHandler):
    """No access log: the journeys print one line each."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

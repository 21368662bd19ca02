"""Plain helpers and constants for the tests: settings, servers on loopback
ports, signing up, installing, reading and bending the stored rows, and the
app's routes.

Fixtures live in conftest.py; tests import these by name from tests.support.
kit_sandbox is imported for type hints only, so a fork without it can still
import this module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, make_url, select, update
from werkzeug.routing import Rule

from app.extensions import db
from app.install.flow import save_connection
from app.kit import api, oauth
from app.kit.resources import Account
from app.models import (
    ConnectionEvent,
    GrowthDay,
    KitConnection,
    OAuthAttempt,
    RetiredGrant,
    User,
    WebhookEndpoint,
    WebhookEvent,
)
from tests import servers
from tests.servers import free_port, wait_until_up  # noqa: F401 (for the tests)

if TYPE_CHECKING:
    from kit_sandbox import SandboxServer
    from kit_sandbox.testing import KitBrowser

APP_ORIGIN = "http://localhost"  # the Flask test client's host
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()
PASSWORD = "correct horse battery"


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist, the database of this worker on the same server:
    TEST_DATABASE_URL's name + "_gw0", "_gw1", ... (conftest's
    template_database creates it); the URL itself in a serial run."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parts = make_url(url)
    name = f"{parts.database}_{worker}"
    return parts.set(database=name).render_as_string(hide_password=False)


PG_SERVER_URL = os.environ.get("TEST_DATABASE_URL")
PG_URL = _worker_database(PG_SERVER_URL)


def app_settings(kit: SandboxServer, database_url: str, **extra: object) -> dict:
    settings = {
        "TESTING": True,
        "APP_ENV": "development",
        "SECRET_KEY": "test-secret-key",
        "TOKEN_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "DATABASE_URL": database_url,
        "KIT_CLIENT_ID": kit.config.client_id,
        "KIT_CLIENT_SECRET": kit.config.client_secret,
        "KIT_APP_URL": kit.url,
        "KIT_API_URL": kit.url,
        "KIT_HTTP_TIMEOUT": 2,
        # Kit's webhook deliveries go nowhere (the discard port) unless a test
        # serves the app (`served_app`) and points this at it.
        "PUBLIC_BASE_URL": "http://127.0.0.1:9",
        # The app's mail goes over SMTP to the sandbox's outbox (outbox_link).
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": kit.smtp_port,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,  # test_security.py turns them on
    }
    settings.update(extra)
    # Kept token pairs beside this database (never in the checkout's instance/):
    # a pair one test kept must not be written into another test's database.
    if "KIT_PENDING_PAIRS_DIR" not in settings:
        beside = database_url.removeprefix("sqlite:///")
        folder = Path(beside).parent if beside != database_url else _SPARE_FOLDER
        settings["KIT_PENDING_PAIRS_DIR"] = str(folder / "pending_pairs")
    return settings


_SPARE_FOLDER = Path(tempfile.mkdtemp(prefix="kit-tests-"))


@contextmanager
def redis_server(seconds: float = 30) -> Iterator[str]:
    """`tests.servers.redis_server`; skips the test where redis-server is not
    installed."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server (apt-get install redis-server)")
    with servers.redis_server(seconds) as url:
        yield url


# --- the app's own accounts ----------------------------------------------------------


def csrf_token(page) -> str:  # type: ignore[no-untyped-def]
    """The CSRF token in a page's form."""
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def sign_up(
    client: FlaskClient,
    email: str = "creator@example.com",
    csrf: bool = False,
    next_url: str | None = None,
) -> str:
    """Sign up through the form, then follow the link mailed to `email` (read
    from the sandbox's outbox) and confirm: signed in. With `csrf`, as a
    browser does when CSRF is on. Returns where the confirmation leads."""
    data = {"email": email, "password": PASSWORD, "confirm": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    if csrf:
        data["csrf_token"] = csrf_token(client.get("/signup"))
    response = client.post("/signup", data=data)
    assert response.status_code == 302, response.text
    assert response.location == "/signup/check-inbox", response.location
    return confirm_email(client, email, csrf)


def confirm_email(client: FlaskClient, email: str, csrf: bool = False) -> str:
    """Open the newest confirmation link mailed to `email` and press Confirm;
    returns where that leads (signed in)."""
    link = outbox_link(client.application, email, "/verify-email")
    page = client.get(link)
    assert page.status_code == 200, page.text
    data = {"token": parse_qs(urlsplit(link).query)["token"][0]}
    if csrf:
        data["csrf_token"] = csrf_token(page)
    confirmed = client.post("/verify-email", data=data)
    assert confirmed.status_code == 302, confirmed.text
    return confirmed.location


def outbox(app: Flask, to: str) -> list[dict[str, Any]]:
    """The mail the app sent to `to`, oldest first, as the sandbox's outbox
    received it over SMTP (read over HTTP, like a developer's browser)."""
    answer = requests.get(
        f"{app.config['KIT_API_URL']}/_sandbox/outbox.json",
        params={"to": to},
        timeout=5,
    )
    answer.raise_for_status()
    return list(answer.json()["messages"])


def outbox_link(app: Flask, to: str, path: str) -> str:
    """The path and query of the link to `path` in the newest mail to `to`
    that has one (as the test client opens it)."""
    for mail in reversed(outbox(app, to)):
        for link in mail["links"]:
            parts = urlsplit(link)
            if parts.path == path:
                return f"{parts.path}?{parts.query}"
    raise AssertionError(f"no mail to {to} with a link to {path}")


def create_user(
    app: Flask,
    email: str = "creator@example.com",
    password: str = PASSWORD,
    verified: bool = True,
) -> int:
    """A user stored directly (for tests that are not about signing up)."""
    with app.app_context():
        user = User(
            email=User.normalize_email(email),
            email_verified_at=datetime.now(UTC) if verified else None,
        )
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user.id


def sign_in(client: FlaskClient, email: str = "creator@example.com"):  # type: ignore[no-untyped-def]
    """Sign in through the form with PASSWORD; returns the answer."""
    return client.post("/login", data={"email": email, "password": PASSWORD})


# --- installing from Kit -------------------------------------------------------------


def kit_redirect(kit: SandboxServer, app_id: int = 4242) -> str:
    """Where Kit sends the creator once the install is done (its `redirect`)."""
    return f"{kit.url}/apps/{app_id}?success=true"


def first_account(kit: SandboxServer):  # type: ignore[no-untyped-def]
    """The demo creator the consent page selects by default."""
    return min(kit.state.accounts.values(), key=lambda a: a.id)


def start_install(client: FlaskClient, **params: str):  # type: ignore[no-untyped-def]
    """GET our Authorization URL as Kit's Install button does."""
    query = f"?{urlencode(params)}" if params else ""
    return client.get(f"/kit/oauth{query}")


def install(
    client: FlaskClient,
    kit_browser: KitBrowser,
    decision: str = "allow",
    account: int | None = None,
    **params: str,
):  # type: ignore[no-untyped-def]
    """The whole round trip for a signed-in user, as the demo creator `account`
    (default: the first); returns the callback's response."""
    to_kit = start_install(client, **params)
    assert to_kit.status_code == 302, to_kit.text
    chosen = None if account is None else str(account)
    return client.get(kit_browser.consent(to_kit.location, decision, chosen))


def connect(
    app: Flask,
    kit: SandboxServer,
    email: str = "creator@example.com",
    account: int | None = None,
    tenant_name: str = "",
) -> int:
    """Connect the user `email` to the demo creator `account` (default: the
    first) without the consent round trip, for tests that are not about
    installing: a real grant from the sandbox's token endpoint (the code issued
    directly, exchanged with PKCE), the account read with its token, and the
    pair saved as the install callback saves it (a `connected` event; a second
    call replaces and retires the pair, like a reinstall). The install's jobs
    do not run: no growth days backfilled (the overview fetches them), no
    webhook endpoint registered. Returns the connection's id."""
    from kit_sandbox.testing import real_grant

    body = real_grant(kit, account)
    tokens = oauth.token_set_from_response(body, received_at=body["received_at"])
    with app.app_context():
        settings = app.extensions["kit_settings"]
        kit_account = Account.from_kit(
            api.get(settings, tokens.access_token, "account")
        )
        user = db.session.scalar(
            select(User).where(User.email == User.normalize_email(email))
        )
        assert user is not None, f"no user {email}: sign up or create_user first"
        return save_connection(user, tenant_name, tokens, kit_account).id


def age_attempts(app: Flask, age: timedelta, attempt_id: int | None = None) -> None:
    """Make the OAuth attempt `attempt_id` (all by default) `age` old."""
    _update(app, OAuthAttempt, attempt_id, created_at=datetime.now(UTC) - age)


# --- the stored connections ----------------------------------------------------------


def stored(app: Flask, connection_id: int = 1) -> KitConnection:
    """The connection row as stored, tokens decrypted while the context is open."""
    with app.app_context():
        row = db.session.get(KitConnection, connection_id)
        assert row is not None
        _ = (row.access_token, row.refresh_token)
        return row


def connections(app: Flask) -> list[KitConnection]:
    """Every stored connection, tokens decrypted while the context is open."""
    with app.app_context():
        rows = db.session.scalars(select(KitConnection)).all()
        for row in rows:
            _ = (row.access_token, row.refresh_token)
        return list(rows)


def event_kinds(app: Flask, connection_id: int = 1) -> list[str]:
    """The connection's audit trail, oldest first."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(ConnectionEvent.kind)
                .where(ConnectionEvent.connection_id == connection_id)
                .order_by(ConnectionEvent.id)
            )
        )


def set_stored(app: Flask, connection_id: int | None = None, **values: object) -> None:
    """Write `values` straight into the stored connection `connection_id` (all of
    them by default), behind the app's back; Kit's copy is untouched."""
    _update(app, KitConnection, connection_id, **values)


def _update(app: Flask, model: type, row_id: int | None, **values: object) -> None:
    statement = update(model).values(**values)
    if row_id is not None:
        statement = statement.where(model.id == row_id)  # type: ignore[attr-defined]
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


def expire_stored_token(app: Flask, connection_id: int | None = None) -> None:
    """Make our stored copy of the token (of `connection_id`, all by default)
    look expired; Kit's copy is untouched."""
    set_stored(app, connection_id, expires_at=datetime.now(UTC) - timedelta(minutes=1))


def set_expiry(
    app: Flask,
    connection_id: int | None,
    minutes: int,
    status: str = KitConnection.ACTIVE,
) -> None:
    """Give connection `connection_id` (None: every one) a two-hour-old token
    that expires in `minutes`, and `status`."""
    now = datetime.now(UTC)
    set_stored(
        app,
        connection_id,
        expires_at=now + timedelta(minutes=minutes),
        token_issued_at=now - timedelta(hours=2),
        status=status,
    )


def snapshot(app: Flask, kit: SandboxServer, connection_id: int = 1) -> tuple:
    """What a request must not change unasked: how many users and connections
    are stored; the connection's owner, status, tokens and audit trail; and its
    Kit account's subscribers, tags and taggings."""
    row = stored(app, connection_id)
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
        rows = db.session.scalar(select(func.count()).select_from(KitConnection))
    audience = kit.state.account_data(row.kit_account_id)
    return (
        users,
        rows,
        (row.user_id, row.status, row.access_token, row.refresh_token),
        row.expires_at,
        event_kinds(app, connection_id),
        len(audience.subscribers),
        sorted(t.name for t in audience.tags.values()),
        sum(len(t) for t in audience.taggings.values()),
    )


# --- grants at Kit, and the retired ones ---------------------------------------------


def live_grants(kit: SandboxServer, account_id: int) -> list[dict[str, Any]]:
    """The account's token pairs that Kit has not revoked (its control API)."""
    answer = requests.get(f"{kit.url}/_sandbox/grants", timeout=5)
    answer.raise_for_status()
    return list(answer.json()["accounts"].get(str(account_id), []))


def reads_account(kit: SandboxServer, access_token: str) -> int:
    """The status Kit answers `GET /v4/account` with this access token."""
    return requests.get(
        f"{kit.url}/v4/account",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    ).status_code


def refresh_at_kit(kit: SandboxServer, refresh_token: str) -> requests.Response:
    """Spend `refresh_token` at Kit's token endpoint, as the app would."""
    form = {
        "grant_type": "refresh_token",
        "client_id": kit.config.client_id,
        "refresh_token": refresh_token,
    }
    return requests.post(f"{kit.url}/v4/oauth/token", data=form, timeout=5)


def retired_grants(app: Flask) -> list[RetiredGrant]:
    """The pairs waiting to be revoked, oldest first, tokens decrypted."""
    with app.app_context():
        rows = db.session.scalars(select(RetiredGrant).order_by(RetiredGrant.id))
        return [row for row in rows if (row.access_token, row.refresh_token)]


def set_retired(app: Flask, retired_id: int | None = None, **values: object) -> None:
    """Write `values` into the retired pair `retired_id` (all by default), e.g.
    `next_attempt_at` in the past to make it due now."""
    _update(app, RetiredGrant, retired_id, **values)


# --- the app's routes ----------------------------------------------------------------


def routes(app: Flask) -> list[tuple[str, Rule]]:
    """Every (method, rule) the app answers, but static files, HEAD and OPTIONS."""
    return [
        (method, rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def path_of(rule: Rule, connection_id: int = 1) -> str:
    """The rule's path with `connection_id` (and 1 for any other argument)."""
    values = {name: 1 for name in rule.arguments} | {"connection_id": connection_id}
    built = rule.build(values, append_unknown=False)
    assert built is not None, rule
    return built[1]


def spent_refresh_tokens(kit: SandboxServer) -> list[str]:
    """The refresh tokens sent to the sandbox's token endpoint, in order."""
    return [
        entry["params"]["refresh_token"]
        for entry in kit.state.token_requests
        if entry["grant_type"] == "refresh_token"
    ]


# --- the stored growth figures -------------------------------------------------------


def growth_days(app: Flask, connection_id: int = 1) -> dict[date, tuple[int, ...]]:
    """The connection's stored days: day -> (subscribers, new subscribers,
    cancellations, net new subscribers)."""
    with app.app_context():
        rows = db.session.scalars(
            select(GrowthDay).where(GrowthDay.connection_id == connection_id)
        ).all()
        return {
            row.day: (
                row.subscribers,
                row.new_subscribers,
                row.cancellations,
                row.net_new_subscribers,
            )
            for row in rows
        }


def delete_growth_days(
    app: Flask, connection_id: int = 1, days: list[date] | None = None
) -> None:
    """Delete stored days of the connection (all by default), behind the app's
    back: a gap, as if the backfill had not run for them."""
    statement = delete(GrowthDay).where(GrowthDay.connection_id == connection_id)
    if days is not None:
        statement = statement.where(GrowthDay.day.in_(list(days)))
    with app.app_context():
        db.session.execute(statement)
        db.session.commit()


# --- stored webhook events -----------------------------------------------------------


def add_events(
    app: Flask, events: list[dict[str, Any]], connection_id: int = 1
) -> list[int]:
    """Store events for the connection as the receiver would (each a dict of
    WebhookEvent fields; `event_id`, `occurred_at` and `type` default to a
    fresh id, now and subscriber.created). Returns their row ids, in order."""
    now = datetime.now(UTC)
    with app.app_context():
        rows = [
            WebhookEvent(
                connection_id=connection_id,
                event_id=event.get("event_id", os.urandom(8).hex()),
                occurred_at=event.get("occurred_at", now),
                type=event.get("type", "subscriber.created"),
                **{
                    k: v
                    for k, v in event.items()
                    if k not in ("event_id", "occurred_at", "type")
                },
            )
            for event in events
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def set_endpoint(app: Flask, connection_id: int = 1, status: str = "active") -> None:
    """Give the connection a webhook endpoint row in `status` (made if missing)."""
    with app.app_context():
        endpoint = db.session.scalar(
            select(WebhookEndpoint).where(
                WebhookEndpoint.connection_id == connection_id
            )
        )
        if endpoint is None:
            endpoint = WebhookEndpoint(
                connection_id=connection_id, key=os.urandom(16).hex()
            )
            db.session.add(endpoint)
        endpoint.status = status
        db.session.commit()


# --- webhook deliveries (independent of app.webhooks.signature: what Kit sends) ---


def kit_signature(body: bytes, secrets: list[str], timestamp: int | None = None) -> str:
    """`X-Kit-Signature` as Kit computes it: HMAC-SHA256 of `t.body` per secret."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + body
    parts = [
        "v1=" + hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()
        for s in secrets
    ]
    return ",".join([f"t={t}", *parts])


def kit_event(
    event_type: str = "subscriber.created",
    email: str = "new@example.com",
    event_id: str | None = None,
    **related: dict[str, Any],
) -> dict[str, Any]:
    """One event of a Webhooks 2.0 delivery, e.g. `kit_event("subscriber.tag_added",
    tag={"id": 7, "name": "VIP"})`."""
    return {
        "id": event_id or os.urandom(16).hex(),
        "type": event_type,
        "created": datetime.now(UTC).isoformat(),
        "data": {"subscriber": {"id": 1, "email_address": email}, **related},
    }


def delivery_body(events: list[dict[str, Any]], delivery_id: int = 1) -> bytes:
    return json.dumps({"delivery_id": delivery_id, "events": events}).encode()


def add_connection(
    app: Flask, email: str = "creator@example.com", **values: Any
) -> int:
    """A connection stored directly (for tests that need no grant at Kit)."""
    user_id = create_user(app, email)
    with app.app_context():
        row = KitConnection(
            user_id=user_id,
            kit_account_id=str(values.pop("kit_account_id", user_id)),
            access_token="not-a-real-token",
            refresh_token="not-a-real-refresh-token",
            expires_at=datetime.now(UTC) + timedelta(hours=2),
            **values,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def add_endpoint(
    app: Flask, connection_id: int = 1, secret: str = "whsec-test", **values: Any
) -> str:
    """An active webhook endpoint row for the connection; returns its key."""
    key = values.pop("key", os.urandom(12).hex())
    with app.app_context():
        db.session.add(
            WebhookEndpoint(
                connection_id=connection_id,
                key=key,
                kit_endpoint_id=values.pop("kit_endpoint_id", "1"),
                secret=secret,
                status=values.pop("status", WebhookEndpoint.ACTIVE),
                **values,
            )
        )
        db.session.commit()
    return key


def endpoint_of(app: Flask, connection_id: int = 1) -> WebhookEndpoint | None:
    """The connection's endpoint row, secrets decrypted while the context is open."""
    with app.app_context():
        row = db.session.scalar(
            select(WebhookEndpoint).where(
                WebhookEndpoint.connection_id == connection_id
            )
        )
        if row is not None:
            _ = (row.secret, row.previous_secret)
        return row


def stored_events(app: Flask, connection_id: int | None = None) -> list[WebhookEvent]:
    """The stored webhook events (of `connection_id`, else all), oldest row first."""
    query = select(WebhookEvent).order_by(WebhookEvent.id)
    if connection_id is not None:
        query = query.where(WebhookEvent.connection_id == connection_id)
    with app.app_context():
        return list(db.session.scalars(query))


def connected(
    make_app: Callable[..., Flask], kit_browser: Any, **settings: Any
) -> tuple[Flask, Any]:
    """An app (Kit's answers never cached), and the signed-in client of the
    user who installed connection 1 through Kit's consent page."""
    app = make_app(KIT_CACHE_SECONDS=0, **settings)
    client = app.test_client()
    sign_up(client)
    install(client, kit_browser)
    return app, client


def granted(
    make_app: Callable[..., Flask], kit: Any, **settings: Any
) -> tuple[Flask, Any]:
    """`connected`, with connection 1 made from a real grant without the consent
    round trip (no backfill, no webhook endpoint): for the tests that never
    open the overview."""
    app = make_app(KIT_CACHE_SECONDS=0, **settings)
    client = app.test_client()
    sign_up(client)
    connect(app, kit)
    return app, client

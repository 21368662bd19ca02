"""Installing from Kit: the whole consent round trip (`install`, for the
tests about installing), or a connection made from a real grant without the
consent pages (`connect`, `granted`, for the rest)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.install.flow import save_connection
from app.install.follow_up import queue_backfill
from app.kit import api, oauth
from app.kit.resources import Account
from app.models import OAuthAttempt, User
from tests.support.accounts import create_user, sign_in
from tests.support.rows import update_rows

if TYPE_CHECKING:
    from kit_sandbox import SandboxServer
    from kit_sandbox.testing import KitBrowser


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


BEFORE_KIT = "Before you connect Kit"


def past_agreement(client: FlaskClient, answer):  # type: ignore[no-untyped-def]
    """`answer` (to our Authorization URL), or, when it is "Before you connect
    Kit" (asked once per account: app/creator_data/agreement.py), the answer
    after the creator's click on "Continue to Kit"."""
    if answer.status_code != 200 or BEFORE_KIT not in answer.text:
        return answer
    fields = dict(
        re.findall(
            r'name="(next|csrf_token)" type="hidden" value="([^"]*)"', answer.text
        )
    )
    agreed = client.post(
        "/kit/oauth/agree", data={k: html.unescape(v) for k, v in fields.items()}
    )
    assert agreed.status_code == 302, agreed.text
    return client.get(agreed.location)


def install(
    client: FlaskClient,
    kit_browser: KitBrowser,
    decision: str = "allow",
    account: int | None = None,
    **params: str,
):  # type: ignore[no-untyped-def]
    """The whole round trip for a signed-in user, as the demo creator `account`
    (default: the first), past "Before you connect Kit" if it asks; returns
    the callback's response."""
    to_kit = past_agreement(client, start_install(client, **params))
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
    do not run: no growth days backfilled (the overview fetches them;
    `connect_with_days` runs the backfill), no webhook endpoint registered.
    Returns the connection's id."""
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


def connect_with_days(
    app: Flask, kit: SandboxServer, account: int | None = None, tenant_name: str = ""
) -> int:
    """`connect`, then the install's backfill of the stored days (run here, as
    without REDIS_URL): an install's state without the consent round trip and
    the webhook endpoint, for the tests about the overview and its figures.
    Returns the connection's id."""
    connection_id = connect(app, kit, account=account, tenant_name=tenant_name)
    with app.app_context():
        queue_backfill(connection_id)
    return connection_id


def connected(
    make_app: Callable[..., Flask], kit: Any, **settings: Any
) -> tuple[Flask, Any]:
    """An app (Kit's answers never cached), and the signed-in client of the
    user whose connection 1 is in the state an install leaves it
    (`connect_with_days`: a real grant and the stored days, no consent round
    trip): for the tests that open the overview and are not about installing."""
    app = make_app(KIT_CACHE_SECONDS=0, **settings)
    client = app.test_client()
    create_user(app)
    assert sign_in(client).status_code == 302
    connect_with_days(app, kit)
    return app, client


def granted(
    make_app: Callable[..., Flask], kit: Any, **settings: Any
) -> tuple[Flask, Any]:
    """`connected` without the stored days (no backfill, no webhook endpoint):
    for the tests that never open the overview."""
    app = make_app(KIT_CACHE_SECONDS=0, **settings)
    client = app.test_client()
    create_user(app)
    assert sign_in(client).status_code == 302
    connect(app, kit)
    return app, client


def age_attempts(app: Flask, age: timedelta, attempt_id: int | None = None) -> None:
    """Make the OAuth attempt `attempt_id` (all by default) `age` old."""
    update_rows(app, OAuthAttempt, attempt_id, created_at=datetime.now(UTC) - age)

"""Content blocks in tests: a plugin token linked to a connection, and the
sandbox's email editor set up as a developer leaves Kit (the blocks pasted,
the app installed with plugin access for an account)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy import select

from app.cli.plugins import plugin_settings
from app.extensions import db
from app.models import KitConnection, PluginGrant
from app.plugins.links import link
from tests.support.accounts import create_user, sign_in
from tests.support.installing import connect
from tests.support.plugins import tokens_for

if TYPE_CHECKING:
    from kit_sandbox import SandboxServer


def plugin_token(
    app: Flask,
    kit: SandboxServer,
    email: str = "creator@example.com",
    account: int = 1001,
) -> dict[str, str]:
    """A plugin token pair of `email`, linked to their connection to
    `account`, as an install with plugin access leaves them."""
    client = app.test_client()
    create_user(app, email)
    assert sign_in(client, email).status_code == 302
    connection_id = connect(app, kit, email, account=account)
    pair = tokens_for(app, client)
    with app.app_context():
        grant = db.session.scalars(
            select(PluginGrant).order_by(PluginGrant.id.desc())
        ).first()
        link(grant, db.session.get(KitConnection, connection_id))
    return pair


def editor_ready(
    app: Flask,
    kit: SandboxServer,
    email: str = "creator@example.com",
    account: int = 1001,
) -> None:
    """The sandbox's editor offers `app`'s blocks (as `flask kit plugins
    --json` prints them, on the app's PUBLIC_BASE_URL) to `account`, for whom
    Kit holds the app's plugin token pair."""
    from kit_sandbox.plugins.tokens import PluginPair

    pair = plugin_token(app, kit, email, account)
    with app.app_context():
        kit.config.plugin_blocks = plugin_settings()["blocks"]
    with kit.state.lock:
        kit.state.plugin_pairs[account] = PluginPair(
            pair["access_token"],
            pair["refresh_token"],
            time.time() + float(pair["expires_in"]),
        )

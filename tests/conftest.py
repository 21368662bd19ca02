"""Fixtures: the app on a fresh database, and the Kit sandbox over loopback HTTP.

The database schema comes from the real migrations (built once per run, then
copied per test on SQLite, truncated per test on PostgreSQL). Set
TEST_DATABASE_URL=postgresql+psycopg://... to run the suite on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import flask_migrate
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text, update

from app import create_app
from app.extensions import db
from app.models import KitConnection
from kit_sandbox import SandboxConfig, SandboxServer
from kit_sandbox.testing import KitBrowser

APP_ORIGIN = "http://localhost"  # the Flask test client's host
TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()
PASSWORD = "correct horse battery"
PG_URL = os.environ.get("TEST_DATABASE_URL")


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
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,  # test_security.py turns them on
    }
    settings.update(extra)
    return settings


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(
        SandboxConfig(
            redirect_uris=[f"{APP_ORIGIN}/kit/oauth/callback"],
            authorization_url=f"{APP_ORIGIN}/kit/oauth",
        )
    ).start()
    yield server
    server.stop()


@pytest.fixture
def kit(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The sandbox, freshly seeded; config changes made by a test are undone."""
    saved = dataclasses.asdict(sandbox.config)
    sandbox.state.reset()
    yield sandbox
    for name, value in saved.items():
        setattr(sandbox.config, name, value)
    sandbox.state.clear_faults()


@pytest.fixture(scope="session")
def template_database(
    tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxServer
) -> str:
    """A database migrated with `flask db upgrade`'s code: a file, or PostgreSQL."""
    url = PG_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'template.db'}"
    app = create_app(app_settings(sandbox, url))
    with app.app_context():
        if PG_URL:
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> str:
    """A fresh, migrated database for this test."""
    if PG_URL:
        engine = create_engine(PG_URL)
        with engine.begin() as connection:
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return PG_URL
    path = tmp_path / "app.db"
    shutil.copy(template_database.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def make_app(kit: SandboxServer, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Build apps on this test's database (settings by name, as in the
    environment); their connections are closed when the test ends."""
    apps: list[Flask] = []

    def make(**extra: object) -> Flask:
        apps.append(create_app(app_settings(kit, database_url, **extra)))
        return apps[-1]

    yield make
    for built in apps:
        with built.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


def sign_up(client: FlaskClient, email: str = "creator@example.com") -> None:
    response = client.post(
        "/signup", data={"email": email, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 302, response.text


@pytest.fixture
def user(client: FlaskClient) -> str:
    """A signed-in user of the app; returns the email."""
    sign_up(client)
    return "creator@example.com"


@pytest.fixture
def kit_browser() -> Iterator[KitBrowser]:
    browser = KitBrowser()
    yield browser
    browser.close()


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


def expire_stored_token(app: Flask, **where: object) -> None:
    """Make our stored copy of the token (of the connections matching `where`,
    all by default) look expired; Kit's copy is untouched."""
    with app.app_context():
        db.session.execute(
            update(KitConnection)
            .filter_by(**where)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        db.session.commit()


def stored(app: Flask, connection_id: int = 1) -> KitConnection:
    """The connection row as stored, tokens decrypted while the context is open."""
    with app.app_context():
        row = db.session.get(KitConnection, connection_id)
        assert row is not None
        _ = (row.access_token, row.refresh_token)
        return row

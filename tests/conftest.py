"""Fixtures: the app on a fresh database, and the Kit sandbox over loopback HTTP.

The database schema comes from the real migrations (built once per run, then
copied per test on SQLite, truncated per test on PostgreSQL). Set
TEST_DATABASE_URL=postgresql+psycopg://... to run the suite on PostgreSQL.

Plain helpers are in tests/support/, one module per subject. In a fork
without kit_sandbox/, the tests that need Kit (the `sandbox` fixture) are
skipped and the rest run.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import flask_migrate
import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.pool import Pool

from app import create_app, kit_cache
from app.extensions import db, limiter
from tests.servers import serving
from tests.support.accounts import create_user, sign_in
from tests.support.settings import (
    APP_ORIGIN,
    PG_SERVER_URL,
    PG_URL,
    app_settings,
    redis_server,
)

if TYPE_CHECKING:
    from kit_sandbox import SandboxServer
    from kit_sandbox.testing import KitBrowser

GONE = "needs the Kit sandbox, and kit_sandbox/ was deleted"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    kit_sandbox = pytest.importorskip("kit_sandbox", reason=GONE)
    server = kit_sandbox.SandboxServer(
        kit_sandbox.SandboxConfig(
            redirect_uris=[f"{APP_ORIGIN}/kit/oauth/callback"],
            authorization_url=f"{APP_ORIGIN}/kit/oauth",
        )
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server for the whole run (skips where none is installed);
    tests that need it empty flush it themselves."""
    with redis_server() as url:
        yield url


@pytest.fixture
def kit(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The sandbox, freshly seeded, its outbox empty; config changes made by a
    test are undone, and so is its `timeout_seconds` (which reset() keeps):
    under xdist a test may follow any other on its worker."""
    saved = dataclasses.asdict(sandbox.config)
    timeout_seconds = sandbox.state.timeout_seconds
    sandbox.state.reset()
    sandbox.outbox.clear()
    yield sandbox
    for name, value in saved.items():
        setattr(sandbox.config, name, value)
    sandbox.state.timeout_seconds = timeout_seconds
    sandbox.state.clear_faults()


@pytest.fixture(scope="session")
def template_database(
    tmp_path_factory: pytest.TempPathFactory, sandbox: SandboxServer
) -> str:
    """A database migrated with `flask db upgrade`'s code: a file, or PostgreSQL
    (under pytest-xdist, a database of this worker's own on the same server)."""
    url = PG_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'template.db'}"
    if PG_URL and PG_URL != PG_SERVER_URL:
        _create_worker_database(PG_SERVER_URL, PG_URL)
    app = create_app(app_settings(sandbox, url))
    with app.app_context():
        if PG_URL:
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


def _create_worker_database(server_url: str, url: str) -> None:
    """CREATE DATABASE `url`'s name on the server, replacing a leftover one."""
    name = make_url(url).database
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


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


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept for every test app of this process.
    Each app has its own Jinja environment, so without this every test
    compiled each template it rendered again (a sixth of a page test's CPU).
    Jinja checks each template's source against its checksum, so an edited
    template is compiled afresh."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = _CompiledTemplates()


@pytest.fixture
def make_app(
    kit: SandboxServer, database_url: str, tmp_path: Path
) -> Iterator[Callable[..., Flask]]:
    """Build apps on this test's database (settings by name, as in the
    environment); their connections are closed when the test ends. Token pairs
    kept for the database go to this test's folder, never to another test's."""
    apps: list[Flask] = []

    def make(**extra: object) -> Flask:
        extra.setdefault("KIT_PENDING_PAIRS_DIR", str(tmp_path / "pending_pairs"))
        # The limiter is one object per process: a test that stopped its Redis
        # leaves it on the in-memory fallback until its next backend check.
        # A new app starts with its store presumed alive, as a new process does.
        limiter._storage_dead = False
        built = create_app(app_settings(kit, database_url, **extra))
        built.jinja_env.bytecode_cache = COMPILED_TEMPLATES
        apps.append(built)
        return built

    yield make
    # A block's Kit call may outlive its request (`app.plugins.kept`).
    assert kit_cache.wait_for_background(timeout=60), "a Kit call still runs"
    for built in apps:
        with built.app_context():
            db.session.remove()
            _close_on_checkin(db.engine.pool)
            db.engine.dispose()


def _close_on_checkin(pool: Pool) -> None:
    """Close each connection given back to `pool` from now on. `dispose` only
    closes the connections the pool holds: one a thread of the test's still
    held (a served request the client gave up on) would come back to a pool
    no one uses, and be dropped unclosed by the garbage collector, failing
    whichever test of this process runs then with a ResourceWarning."""

    def close(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.close()

    event.listen(pool, "checkin", close)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def user(app: Flask, client: FlaskClient) -> str:
    """A signed-in user of the app; returns the email. Stored directly, then
    signed in through the form: the tests about signing up (test_accounts.py,
    test_auth.py, ...) go through the form and the mailed link themselves."""
    create_user(app)
    signed_in = sign_in(client)
    assert signed_in.status_code == 302, signed_in.text
    return "creator@example.com"


@pytest.fixture
def kit_browser() -> Iterator[KitBrowser]:
    testing = pytest.importorskip("kit_sandbox.testing", reason=GONE)
    browser = testing.KitBrowser()
    yield browser
    browser.close()


@pytest.fixture
def served_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """An app served over HTTP on a free loopback port (werkzeug, threaded), so
    the sandbox can deliver webhooks to it: its PUBLIC_BASE_URL is that origin.
    Drive it with its test client (installs go through the sandbox as usual)."""
    app = make_app()
    with serving(app) as origin:
        app.config["PUBLIC_BASE_URL"] = origin
        yield app

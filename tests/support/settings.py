"""The test apps' settings (the sandbox as Kit, SMTP to its outbox, this
test's database and folder), the PostgreSQL database of this xdist worker, and
a redis-server that skips the test where none is installed."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import make_url

from tests import servers

if TYPE_CHECKING:
    from kit_sandbox import SandboxServer


APP_ORIGIN = "http://localhost"  # the Flask test client's host

# The pair the test apps issue to Kit for plugin access (tests that install
# with plugin access give the sandbox the same: tests/support/plugins.py).
PLUGIN_CLIENT_ID = "kit-plugins-test"
PLUGIN_CLIENT_SECRET = "plugin-test-secret"  # noqa: S105 (not a real secret)


TEST_ENCRYPTION_KEY = Fernet.generate_key().decode()


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
        "KIT_PLUGIN_CLIENT_ID": PLUGIN_CLIENT_ID,
        "KIT_PLUGIN_CLIENT_SECRET": PLUGIN_CLIENT_SECRET,
        "KIT_API_URL": kit.url,
        "KIT_HTTP_TIMEOUT": 2,
        # A block waits on Kit longer than any Kit call may take here: a busy
        # machine does not turn a test's answer into the kept copy (the tests
        # of a slow Kit lower it).
        "PLUGIN_BLOCK_BUDGET": 10,
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

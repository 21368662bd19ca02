"""Fixtures for the sandbox's tests: sandboxes of their own, each started for
one test with the config it asks for (unlike tests/conftest.py's ``kit``, the
session's shared sandbox registered for the test app).

Helpers and constants are in support.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from kit_sandbox import SandboxConfig, SandboxServer
from kit_sandbox.testing import WebhookReceiver
from tests.sandbox.support import ADA, Api, StartSandbox
from tests.sandbox.webhooks import FAST_RETRIES


@pytest.fixture
def start_sandbox() -> Iterator[StartSandbox]:
    """Start sandboxes with config overrides; all are stopped after the test."""
    servers: list[SandboxServer] = []

    def start(**overrides: Any) -> SandboxServer:
        server = SandboxServer(SandboxConfig(**overrides)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def fresh_kit(start_sandbox: StartSandbox) -> SandboxServer:
    """A sandbox of this test's own, with the default config: its app is a
    confidential (secret-holding) client."""
    return start_sandbox()


@pytest.fixture
def public_kit(start_sandbox: StartSandbox) -> SandboxServer:
    """A sandbox whose app is a public client: PKCE, no secret."""
    return start_sandbox(client_secret=None)


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    """A creator's browser: keeps the sandbox's session cookie."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def ada(fresh_kit: SandboxServer) -> Api:
    """API v4 calls as Ada's Kitchen, the demo account with the most data."""
    return Api(fresh_kit, ADA)


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    """A webhook receiver run by the test, on a free loopback port."""
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def fast_kit(start_sandbox: StartSandbox) -> SandboxServer:
    """Webhook batches cut only by a flush (or at 100 events), retries at once."""
    return start_sandbox(webhook_batch_seconds=60, webhook_retry_seconds=FAST_RETRIES)


@pytest.fixture
def api(fast_kit: SandboxServer) -> Api:
    """API v4 calls as Ada's Kitchen on ``fast_kit``."""
    return Api(fast_kit, ADA)

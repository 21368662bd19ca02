"""What the benchmarks share: an app wired to the sandbox, a real grant, and
starting servers on free loopback ports."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from app.kit import oauth  # noqa: E402
from app.kit.settings import KitSettings  # noqa: E402
from kit_sandbox import SandboxServer, testing  # noqa: E402


def bench_app(kit: SandboxServer, database_url: str, **extra: Any) -> Flask:
    """The app as a client of this sandbox, on `database_url` (not migrated)."""
    return create_app(
        {
            "SECRET_KEY": "bench",
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": database_url,
            "APP_ENV": "development",
            "KIT_CLIENT_ID": kit.config.client_id,
            "KIT_CLIENT_SECRET": kit.config.client_secret,
            "KIT_APP_URL": kit.url,
            "KIT_API_URL": kit.url,
            "LOG_LEVEL": "WARNING",
            **extra,
        }
    )


def real_grant(kit: SandboxServer, settings: KitSettings) -> oauth.TokenSet:
    """A token pair from a real code exchange at the sandbox, as the app stores it."""
    body = testing.real_grant(kit)
    return oauth.token_set_from_response(body, received_at=body["received_at"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")

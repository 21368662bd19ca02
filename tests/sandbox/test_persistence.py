"""The sandbox's state file: grants, data and webhook endpoints survive a
restart; the reset (control API or deleting the file) starts over."""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kit_sandbox import SandboxServer
from kit_sandbox.cli import sandbox as sandbox_command
from kit_sandbox.persistence import SNAPSHOT_VERSION, save
from kit_sandbox.testing import real_grant
from tests.sandbox.support import (
    ADA,
    assert_oauth_error,
    get_account,
    refresh_fields,
    token_request,
)


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "instance" / "kit-sandbox-state.pickle"


@pytest.fixture
def restart(state_file: Path) -> Iterator[object]:
    """Start sandboxes on the same state file, one after the other; the
    previous one is stopped (and so writes its state) before the next."""
    servers: list[SandboxServer] = []

    def start() -> SandboxServer:
        if servers:
            servers[-1].stop()
        server = SandboxServer(state_file=state_file).start()
        servers.append(server)
        return server

    yield start
    servers[-1].stop()


def test_grants_survive_a_restart(restart, state_file):
    first = restart()
    assert not first.restored
    grant = real_grant(first, ADA)
    assert get_account(first, grant["access_token"]).status_code == 200

    second = restart()
    assert second.restored
    account = get_account(second, grant["access_token"])
    assert account.status_code == 200
    assert account.json()["account"]["id"] == ADA
    refreshed = token_request(second, refresh_fields(grant["refresh_token"]))
    assert refreshed.status_code == 200, refreshed.text
    assert get_account(second, refreshed.json()["access_token"]).status_code == 200

    # The rotation itself is kept: after another restart the spent refresh
    # token is still spent, and the new one still works.
    third = restart()
    spent = token_request(third, refresh_fields(grant["refresh_token"]))
    assert_oauth_error(spent, 400, "invalid_grant")


def test_writes_and_revocations_survive_a_restart(restart):
    first = restart()
    grant = real_grant(first, ADA)
    headers = {"Authorization": f"Bearer {grant['access_token']}"}
    created = requests.post(
        f"{first.url}/v4/tags", json={"name": "Kept"}, headers=headers, timeout=5
    )
    assert created.status_code in (200, 201), created.text
    other = real_grant(first, ADA)
    revoked = requests.post(
        f"{first.url}/_sandbox/revoke-account", json={"account_id": ADA}, timeout=5
    )
    assert revoked.status_code == 200

    second = restart()
    assert get_account(second, other["access_token"]).status_code == 401
    fresh = real_grant(second, ADA)
    tags = requests.get(
        f"{second.url}/v4/tags",
        params={"per_page": 1000},
        headers={"Authorization": f"Bearer {fresh['access_token']}"},
        timeout=5,
    )
    assert "Kept" in [tag["name"] for tag in tags.json()["tags"]]


def test_a_change_is_written_without_waiting_for_the_stop(restart, state_file):
    kit = restart()
    grant = real_grant(kit, ADA)
    deadline = time.monotonic() + 10
    while not state_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # the keeper's thread writes soon after the change
    saved = pickle.loads(state_file.read_bytes())  # noqa: S301 (ours)
    assert saved["version"] == SNAPSHOT_VERSION
    assert grant["access_token"] in [t.access_token for t in saved["tokens"]]


def test_the_control_reset_is_kept_too(restart):
    first = restart()
    grant = real_grant(first, ADA)
    assert requests.post(f"{first.url}/_sandbox/reset", timeout=5).status_code == 200
    second = restart()
    assert get_account(second, grant["access_token"]).status_code == 401


@pytest.mark.parametrize(
    "content", [b"", b"not a pickle", pickle.dumps({"version": -1})]
)
def test_an_unreadable_file_starts_fresh(state_file, content):
    state_file.parent.mkdir(parents=True)
    state_file.write_bytes(content)
    kit = SandboxServer(state_file=state_file)
    assert not kit.restored
    assert ADA in kit.state.accounts


def test_without_a_state_file_nothing_is_written(tmp_path):
    with SandboxServer().start() as kit:
        real_grant(kit, ADA)
    assert kit.keeper is None
    assert list(tmp_path.iterdir()) == []


def test_the_cli_reset_deletes_the_state_file(state_file, monkeypatch):
    kit = SandboxServer()
    save(kit.state, state_file)
    # Stop before serving: the reset is done by then.
    monkeypatch.setattr(SandboxServer, "serve_forever", lambda self: None)
    result = sandbox_command.main(
        ["--port", "0", "--state-file", str(state_file), "--reset"],
        standalone_mode=False,
    )
    assert result is None
    assert not state_file.exists()


def test_legacy_webhook_rules_survive_a_restart(restart):
    first = restart()
    grant = real_grant(first, ADA)
    headers = {"Authorization": f"Bearer {grant['access_token']}"}
    made = requests.post(
        f"{first.url}/v4/webhooks",
        json={
            "target_url": "https://example.com/in",
            "event": {"name": "purchase.purchase_create"},
        },
        headers=headers,
        timeout=5,
    )
    assert made.status_code == 201, made.text

    second = restart()
    listed = requests.get(f"{second.url}/v4/webhooks", headers=headers, timeout=5)
    assert [w["id"] for w in listed.json()["webhooks"]] == [
        made.json()["webhook"]["id"]
    ]

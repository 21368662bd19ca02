"""`flask kit ...` commands: the help, `kit connections`, and `kit refresh-due`
(its outcomes are tested in test_refresh_due.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from celery import signals

from app.cli.connections import relative
from app.extensions import db
from app.models import KitConnection
from tests.support.installing import connect
from tests.support.rows import set_stored


def _stored_secrets(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Every token the database holds, decrypted, and their ciphertexts."""
    with app.app_context():
        rows = db.session.scalars(db.select(KitConnection)).all()
        plain = [t for r in rows for t in (r.access_token, r.refresh_token) if t]
        cipher = db.session.execute(
            db.text("SELECT access_token, refresh_token FROM kit_connections")
        ).all()
    return plain + [c for row in cipher for c in row if c]


@pytest.fixture
def three(app, kit, user):  # type: ignore[no-untyped-def]
    """Three connections of the signed-in user (real grants, made without the
    consent round trip): active, needs reconnect, and active with a tenant
    label and an expired access token."""
    accounts = sorted(kit.state.accounts)
    for account in accounts[:2]:
        connect(app, kit, account=account)
    connect(app, kit, account=accounts[0], tenant_name="Shop")
    set_stored(app, 2, status=KitConnection.NEEDS_RECONNECT)
    set_stored(app, 3, expires_at=datetime.now(UTC) - timedelta(minutes=5))
    return accounts


def test_help_lists_every_command_with_one_line(runner):
    result = runner.invoke(args=["kit", "--help"])
    assert result.exit_code == 0
    for name in ("sandbox", "connections", "refresh-due", "rotate-keys", "dev"):
        [line] = [li for li in result.output.splitlines() if li.split()[:1] == [name]]
        assert len(line.split()) > 3, line  # a description, not just the name
        assert not line.endswith("..."), line  # not cut short


def test_connections_lists_each_connection_s_fields(app, runner, three):
    result = runner.invoke(args=["kit", "connections"])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert header.split()[:3] == ["ID", "USER", "KIT"]
    assert len(lines) == 3
    with app.app_context():
        rows = db.session.scalars(
            db.select(KitConnection).order_by(KitConnection.id)
        ).all()
        for line, row in zip(lines, rows, strict=True):
            assert line.startswith(f"{row.id} ")
            assert "creator@example.com" in line
            assert f"{row.kit_account_id} {row.account_name}" in line
            assert row.status in line
            expires = row.expires_at
            assert f"{expires.day} {expires:%b %Y, %H:%M}" in line  # the pages' format
    assert "Shop" in lines[2]
    assert "needs_reconnect" in lines[1]
    assert "(in 47 h)" in lines[0]  # the sandbox's 48 h token, just issued
    assert "(expired 5 min ago)" in lines[2]
    assert all(line.rstrip().endswith("never") for line in lines)


def test_connections_shows_when_a_token_was_last_refreshed(app, runner, three):
    set_stored(
        app, 1, last_refreshed_at=datetime.now(UTC) - timedelta(hours=3, minutes=1)
    )
    first = runner.invoke(args=["kit", "connections"]).output.splitlines()[1]
    assert first.endswith("(3 h ago)")


@pytest.mark.parametrize(
    ("status", "ids"),
    [("active", [1, 3]), ("needs_reconnect", [2]), ("revoked", [])],
)
def test_connections_filters_by_status(runner, three, status, ids):
    table = runner.invoke(args=["kit", "connections", "--status", status])
    assert table.exit_code == 0, table.output
    if ids:
        lines = table.output.splitlines()[1:]
        assert [int(line.split()[0]) for line in lines] == ids
    else:
        assert table.output.strip() == "No connections with status revoked."
    listed = runner.invoke(args=["kit", "connections", "--status", status, "--json"])
    assert [row["id"] for row in json.loads(listed.output)] == ids


def test_connections_rejects_an_unknown_status(runner):
    result = runner.invoke(args=["kit", "connections", "--status", "paused"])
    assert result.exit_code == 2
    assert "paused" in result.output


def test_connections_json(app, runner, three):
    result = runner.invoke(args=["kit", "connections", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["id"] for row in rows] == [1, 2, 3]
    assert set(rows[0]) == {
        "id",
        "user_email",
        "kit_account_id",
        "account_name",
        "tenant_name",
        "status",
        "expires_at",
        "expires_in_seconds",
        "last_refreshed_at",
        "refresh_outcome_unknown",
    }
    assert rows[0]["user_email"] == "creator@example.com"
    assert rows[0]["kit_account_id"] == str(three[0])
    assert rows[2]["tenant_name"] == "Shop"
    assert rows[1]["status"] == "needs_reconnect"
    assert datetime.fromisoformat(rows[0]["expires_at"]).utcoffset() == timedelta(0)
    assert rows[0]["expires_in_seconds"] > 47 * 3600
    assert -330 < rows[2]["expires_in_seconds"] <= -300
    assert rows[0]["last_refreshed_at"] is None


def test_connections_never_prints_a_token(app, runner, three):
    secrets = _stored_secrets(app)
    assert len(secrets) == 12  # 3 connections x 2 tokens, plain and encrypted
    for args in ([], ["--json"], ["--status", "active"]):
        output = runner.invoke(args=["kit", "connections", *args]).output
        for secret in secrets:
            assert secret not in output


def test_connections_with_none(runner):
    result = runner.invoke(args=["kit", "connections"])
    assert result.exit_code == 0
    assert result.output.strip() == "No connections."
    assert json.loads(runner.invoke(args=["kit", "connections", "--json"]).output) == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (30, "in 30 s"),
        (59 * 60, "in 59 min"),
        (3 * 3600 + 59, "in 3 h"),
        (3 * 86400, "in 3 d"),
        (0, "expired 0 s ago"),
        (-2 * 3600, "expired 2 h ago"),
    ],
)
def test_relative_times(seconds, text):
    assert relative(seconds) == text


def test_refresh_due_runs_one_refresh_task_per_due_connection(runner, kit, three):
    ran: list[tuple[str, tuple]] = []

    def started(task, args, **_) -> None:  # type: ignore[no-untyped-def]
        ran.append((task.name, tuple(args)))

    signals.task_prerun.connect(started)
    try:
        result = runner.invoke(args=["kit", "refresh-due", "--within", "10m"])
    finally:
        signals.task_prerun.disconnect(started)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "due 1: refreshed 1, already fresh 0, needs reconnect 0, failed 0"
    )
    # Connection 3 is due; 1 is fresh, 2 needs reconnecting.
    assert ran == [("app.jobs.tokens.refresh_connection", (3, 600))]
    assert kit.state.stats()["refresh_requests"] == 1

"""`flask kit refresh-due`: the proactive refresh of the connections due
within a window, its summary and exit status."""

from __future__ import annotations

import pytest

from tests.support.installing import connect
from tests.support.rows import set_expiry, stored


def test_refresh_due_refreshes_exactly_the_due_connections(app, runner, kit, user):
    accounts = sorted(kit.state.accounts)
    for account in accounts:
        connect(app, kit, account=account)
    connect(app, kit, account=accounts[0], tenant_name="Shop")
    set_expiry(app, 1, minutes=10)  # due
    set_expiry(app, 2, minutes=120)  # not due
    set_expiry(app, 3, minutes=5, status="needs_reconnect")  # due, but no grant
    set_expiry(app, 4, minutes=-5)  # already expired: due
    before = {i: stored(app, i).refresh_token for i in (1, 2, 3, 4)}

    result = runner.invoke(
        args=["kit", "refresh-due", "--within", "30m", "--batch-size", "1"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "due 2: refreshed 2, already fresh 0, needs reconnect 0, failed 0"
        in result.output
    )
    after = {i: stored(app, i).refresh_token for i in (1, 2, 3, 4)}
    assert [i for i in before if before[i] != after[i]] == [1, 4]
    assert kit.state.stats()["refresh_requests"] == 2

    again = runner.invoke(args=["kit", "refresh-due", "--within", "30m"])
    assert "due 0:" in again.output


def test_refresh_due_exits_non_zero_when_kit_fails_but_not_for_invalid_grant(
    app, runner, kit, user
):
    accounts = sorted(kit.state.accounts)
    connect(app, kit, account=accounts[0])
    connect(app, kit, account=accounts[1])
    set_expiry(app, 1, minutes=1)
    set_expiry(app, 2, minutes=1)

    kit.state.add_fault("token", "invalid_grant")
    dead_grant = runner.invoke(args=["kit", "refresh-due", "--within", "30m"])
    assert dead_grant.exit_code == 0
    assert (
        "refreshed 1, already fresh 0, needs reconnect 1, failed 0" in dead_grant.output
    )

    set_expiry(app, 2, minutes=1)
    kit.state.add_fault("token", "500")
    outage = runner.invoke(args=["kit", "refresh-due", "--within", "30m"])
    assert outage.exit_code == 1
    assert "failed 1" in outage.output


@pytest.mark.parametrize("bad", ["soon", "", "5x"])
def test_refresh_due_rejects_a_bad_duration(runner, bad):
    result = runner.invoke(args=["kit", "refresh-due", "--within", bad])
    assert result.exit_code == 2
    assert "use a number with s, m, h or d" in result.output


def test_refresh_due_window_is_not_capped_at_half_the_lifetime(app, runner, kit, user):
    """The request path never refreshes a token with more than half its life
    left; an operator asking refresh-due for a wider window gets that window."""
    connect(app, kit)  # a 48 h token, just issued
    result = runner.invoke(args=["kit", "refresh-due", "--within", "3d"])
    assert "due 1: refreshed 1" in result.output
    assert kit.state.stats()["refresh_requests"] == 1

"""Plugin grants and Kit's uninstall notice (issue 23, items 2, 3 and 7): the
grant made by the plugin OAuth belongs to the connection the API install
stores right after in the same browser; a plugin call reads only that
connection; reinstalling replaces the grant; Kit's revoke call ends the
connection as disconnect does, marked "Uninstalled at Kit"."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import GrowthDay, PluginGrant, PluginToken, WebhookEndpoint
from tests.support.accounts import signed_in
from tests.support.plugins import (
    bearer,
    code_for,
    exchange,
    install_with_plugins,
    refresh,
    revoke,
    tokens_for,
)
from tests.support.rows import connections, event_kinds, stored, update_rows
from tests.support.settings import PLUGIN_CLIENT_SECRET

ADA, BEN = 1001, 1002


def _account(client, token):  # type: ignore[no-untyped-def]
    return client.get("/plugins/account", headers=bearer(token))


def _refused(answer) -> bool:  # type: ignore[no-untyped-def]
    return answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith(
        'Bearer realm="kit-plugins"'
    )


def test_a_plugin_call_reads_only_the_connection_of_its_install(
    make_app, kit, kit_browser
):
    app = make_app()
    owner, stranger = app.test_client(), app.test_client()
    signed_in(owner, "owner@example.com")
    ada = install_with_plugins(app, owner, kit_browser, account=ADA)
    signed_in(stranger, "stranger@example.com")
    ben = install_with_plugins(app, stranger, kit_browser, account=BEN)

    assert _account(owner, ada["access_token"]).get_json()["kit_account_id"] == str(ADA)
    assert _account(owner, ben["access_token"]).get_json()["kit_account_id"] == str(BEN)
    with app.app_context():
        grants = db.session.scalars(select(PluginGrant).order_by(PluginGrant.id)).all()
        assert [(g.user_id, g.connection_id) for g in grants] == [(1, 1), (2, 2)]


def test_a_grant_without_its_api_install_reaches_nothing(app, client, user):
    tokens = tokens_for(app, client)  # the creator stopped before the API OAuth
    assert _refused(_account(client, tokens["access_token"]))


def test_reinstall_replaces_the_grant_never_duplicates(app, client, user, kit_browser):
    first = install_with_plugins(app, client, kit_browser, account=ADA)
    second = install_with_plugins(app, client, kit_browser, account=ADA)
    assert len(connections(app)) == 1
    with app.app_context():
        grants = db.session.scalars(select(PluginGrant).order_by(PluginGrant.id)).all()
        assert [g.revoked_reason for g in grants] == [PluginGrant.REPLACED, None]
        assert [g.connection_id for g in grants] == [1, 1]
    assert _refused(_account(client, first["access_token"]))
    assert refresh(client, first["refresh_token"]).status_code == 400
    assert _account(client, second["access_token"]).status_code == 200
    # Kit revoking the replaced grant's token leaves the reinstall alone.
    assert revoke(client, first["refresh_token"]).status_code == 200
    assert stored(app).status == "active" and stored(app).uninstalled_at is None


def test_uninstall_at_kit_ends_the_connection_as_disconnect_does(
    app, client, user, kit, kit_browser
):
    tokens = install_with_plugins(app, client, kit_browser, account=ADA)
    with app.app_context():
        assert db.session.scalar(select(func.count(GrowthDay.id))) > 0  # backfilled
        endpoint = db.session.scalar(select(WebhookEndpoint))
        assert endpoint is not None and endpoint.secret
    api_pairs = [t for t in kit.state.token_sets if not t.revoked]
    assert len(api_pairs) == 1

    answer = revoke(client, tokens["refresh_token"])

    assert (answer.status_code, answer.get_json()) == (200, {})
    row = stored(app)
    assert row.status == "revoked" and row.uninstalled_at is not None
    assert row.access_token is None and row.refresh_token is None
    assert event_kinds(app) == ["connected", "uninstalled", "disconnected"]
    assert api_pairs[0].revoked  # the API grant revoked at Kit
    with app.app_context():
        assert db.session.scalar(select(func.count(GrowthDay.id))) == 0
        assert db.session.scalar(select(WebhookEndpoint)).secret is None
        assert db.session.scalar(select(PluginGrant)).revoked_reason == "uninstalled"
        assert (
            db.session.scalar(
                select(func.count(PluginToken.id)).where(
                    PluginToken.revoked_at.is_(None)
                )
            )
            == 0
        )
    assert _refused(_account(client, tokens["access_token"]))
    assert refresh(client, tokens["refresh_token"]).status_code == 400

    page = client.get("/connections/1")
    assert "Uninstalled at Kit" in page.text and "Install again" in page.text
    listing = client.get("/accounts")
    assert "Uninstalled at Kit" in listing.text and "Install again" in listing.text
    overview = client.get("/c/1")
    assert "Uninstalled at Kit" in overview.text and "Install again" in overview.text

    # Kit sends it again (a retry): 200, and nothing changes.
    events, revokes = event_kinds(app), len(kit.state.revoke_requests)
    assert revoke(client, tokens["access_token"]).status_code == 200
    assert event_kinds(app) == events and len(kit.state.revoke_requests) == revokes


def test_reinstall_after_uninstall_clears_the_mark(app, client, user, kit_browser):
    tokens = install_with_plugins(app, client, kit_browser, account=ADA)
    assert revoke(client, tokens["refresh_token"]).status_code == 200
    again = install_with_plugins(app, client, kit_browser, account=ADA)
    row = stored(app)
    assert row.status == "active" and row.uninstalled_at is None
    assert _account(client, again["access_token"]).status_code == 200


def test_uninstall_after_a_disconnect_in_the_app_only_marks_it(
    app, client, user, kit_browser
):
    tokens = install_with_plugins(app, client, kit_browser, account=ADA)
    assert client.post("/connections/1/disconnect").status_code == 302
    assert _refused(_account(client, tokens["access_token"]))  # disconnected
    assert revoke(client, tokens["refresh_token"]).status_code == 200
    assert stored(app).uninstalled_at is not None
    assert event_kinds(app).count("disconnected") == 1


def test_uninstall_when_kit_fails_the_api_revoke_ends_it_all_the_same(
    app, client, user, kit, kit_browser
):
    """Kit gets its 200, the connection ends (Uninstalled at Kit, tokens
    forgotten, data dropped), and the API grant waits, retired, for the
    sweep that revokes it once Kit answers again."""
    from app.jobs.grant_revocation import revoke_due_grants
    from app.models import RetiredGrant

    tokens = install_with_plugins(app, client, kit_browser, account=ADA)
    kit.state.add_fault("revoke", "500", times=20)
    assert revoke(client, tokens["refresh_token"]).status_code == 200
    row = stored(app)
    assert (row.status, row.access_token, row.refresh_token) == ("revoked", None, None)
    assert row.uninstalled_at is not None
    assert _refused(_account(client, tokens["access_token"]))
    with app.app_context():
        assert db.session.scalar(select(func.count(GrowthDay.id))) == 0
        retired = db.session.scalar(select(RetiredGrant))
        assert retired is not None and retired.reason == RetiredGrant.ORPHANED
    kit.state.clear_faults()
    with app.app_context():
        revoke_due_grants()
    assert all(t.revoked for t in kit.state.token_sets)


@pytest.mark.parametrize(
    "make_bad",
    ["missing", "not-bearer", "wrong", "expired", "revoked", "empty"],
)
def test_every_bad_token_is_401_with_www_authenticate(
    app, client, user, kit_browser, make_bad
):
    tokens = install_with_plugins(app, client, kit_browser, account=ADA)
    headers = bearer(tokens["access_token"])
    if make_bad == "missing":
        headers = {}
    elif make_bad == "not-bearer":
        headers = {"Authorization": f"Basic {tokens['access_token']}"}
    elif make_bad == "wrong":
        headers = bearer("x" * 42)
    elif make_bad == "empty":
        headers = {"Authorization": "Bearer "}
    elif make_bad == "expired":
        update_rows(app, PluginToken, None, expires_at=datetime.now(UTC) - timedelta(1))
    elif make_bad == "revoked":
        assert refresh(client, tokens["refresh_token"]).status_code == 200
    for method in ("GET", "POST"):
        answer = client.open("/plugins/account", method=method, headers=headers)
        assert _refused(answer), (make_bad, answer.status_code, answer.headers)
        assert answer.get_json()["error"] in ("invalid_token", "missing_token")
        assert tokens["access_token"] not in answer.text
    if make_bad in ("wrong", "expired", "revoked"):
        assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_rate_limit_is_per_token(make_app, kit, kit_browser):
    app = make_app(RATELIMIT_ENABLED=True)
    owner, other = app.test_client(), app.test_client()
    signed_in(owner, "owner@example.com")
    ada = install_with_plugins(app, owner, kit_browser, account=ADA)
    signed_in(other, "other@example.com")
    ben = install_with_plugins(app, other, kit_browser, account=BEN)
    answers = [_account(owner, ada["access_token"]).status_code for _ in range(121)]
    assert answers[:120] == [200] * 120 and answers[120] == 429
    assert _account(owner, ben["access_token"]).status_code == 200  # its own count


def test_no_plugin_secret_reaches_any_log_record(make_app, kit, kit_browser):
    """The whole plugin life at DEBUG (Authlib logs the token it issues and
    the client it issued it to): no code, token or client secret in a line."""
    from tests.support.installing import install
    from tests.test_security import Collect

    collect = Collect()
    root = logging.getLogger()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        app = make_app(LOG_LEVEL="DEBUG")
        client = app.test_client()
        signed_in(client)
        code = code_for(app, client)
        first = exchange(client, app, code).get_json()
        install(client, kit_browser, account=ADA)
        second = refresh(client, first["refresh_token"]).get_json()
        _account(client, second["access_token"])
        _account(client, first["access_token"])  # refused
        exchange(client, app, code)  # replayed
        revoke(client, second["refresh_token"])
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
    logged = "\n".join(collect.lines)
    assert "Issue token" in logged  # Authlib's DEBUG records were caught
    secrets = {PLUGIN_CLIENT_SECRET, code, *first.values(), *second.values()}
    leaked = [s for s in secrets if isinstance(s, str) and len(s) > 8 and s in logged]
    assert leaked == []

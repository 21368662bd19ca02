"""Nobody reaches another user's Kit connection, by any route.

The routes come from the app's url_map: every rule that takes a connection id,
for every method it accepts; and every plugin route (Kit's bearer token says
whose data it serves), with another creator's token. A route added later
without the ownership check fails here the day it is added, with no list to
update.
"""

from __future__ import annotations

from markupsafe import escape

from tests.support.accounts import signed_in
from tests.support.installing import install
from tests.support.plugins import bearer, install_with_plugins
from tests.support.routes import path_of, routes
from tests.support.rows import snapshot, stored

ADA, BEN = 1001, 1002  # the owner's Kit account, and the stranger's


def test_a_connection_answers_only_its_owner_on_every_route(make_app, kit, kit_browser):
    app = make_app()
    owner, stranger = app.test_client(), app.test_client()
    signed_in(owner, "owner@example.com")
    install(owner, kit_browser, account=ADA)  # connection 1
    signed_in(stranger, "stranger@example.com")
    install(stranger, kit_browser, account=BEN)  # connection 2, the stranger's own
    ada = kit.state.account_data(ADA)
    tag = next(iter(ada.tags.values()))
    reader = next(s for s in ada.subscribers.values() if s.state == "active")
    # A body each of the write forms would accept, were the connection theirs.
    form = {
        "email_address": "x@example.com",
        "first_name": "Mallory",
        "create-name": "Mine now",
        "tag-tag_id": str(tag.id),
        "tag-email_address": reader.email_address,
    }
    row = stored(app, 1)
    account = kit.state.accounts[ADA]
    secrets = {
        "owner@example.com",
        row.access_token,
        row.refresh_token,
        account.name,
        str(escape(account.name)),
        account.email,
    }
    found = [(m, rule) for m, rule in routes(app) if "connection_id" in rule.arguments]
    assert len(found) >= 8, found  # the url_map was read, not empty
    assert {"GET", "POST"} <= {m for m, _ in found}  # reads and writes

    before, kit_before = snapshot(app, kit), kit.state.stats()
    wrong = []
    for method, rule in found:
        for connection_id in (1, 999):  # the owner's, and one that does not exist
            path = path_of(rule, connection_id)
            answer = stranger.open(
                path, method=method, data=None if method == "GET" else form
            )
            if answer.status_code != 404:
                wrong.append((method, path, answer.status_code))
            leaked = [s for s in secrets if s in answer.get_data(as_text=True)]
            if leaked:
                wrong.append((method, path, "shows", leaked))
            if (snapshot(app, kit), kit.state.stats()) != (before, kit_before):
                wrong.append((method, path, "changed the owner's data or called Kit"))
                before, kit_before = snapshot(app, kit), kit.state.stats()
    assert not wrong, "\n".join(map(str, wrong))
    assert stored(app, 1).status == "active"
    assert ada.subscriber_by_email("x@example.com") is None
    assert "Mine now" not in {t.name for t in ada.tags.values()}

    # The same pages open for the stranger on their own connection: the 404s
    # above came from the ownership check, not from a wrong path.
    for method, rule in found:
        if method == "GET" and rule.arguments == {"connection_id"}:
            assert stranger.get(path_of(rule, 2)).status_code == 200, rule
        elif method == "GET":  # a record's page: #1 is not in the stranger's Kit
            page = stranger.get(path_of(rule, 2))
            assert page.status_code == 404, rule
            assert "#1 in this Kit account" in page.get_data(as_text=True), rule


def test_plugin_routes_serve_only_the_tokens_own_connection(make_app, kit, kit_browser):
    """Every plugin route (marked by `plugin_route`, read from the url_map):
    without a token, or with one the app never issued, 401 with
    WWW-Authenticate; with another creator's token, that creator's data
    only, and the owner's data untouched."""
    app = make_app()
    owner, stranger = app.test_client(), app.test_client()
    signed_in(owner, "owner@example.com")
    ada = install_with_plugins(app, owner, kit_browser, account=ADA)  # connection 1
    signed_in(stranger, "stranger@example.com")
    ben = install_with_plugins(app, stranger, kit_browser, account=BEN)
    row = stored(app, 1)
    account = kit.state.accounts[ADA]
    secrets = {
        "owner@example.com",
        row.access_token,
        row.refresh_token,
        ada["access_token"],
        ada["refresh_token"],
        account.name,
        str(escape(account.name)),
        account.email,
    }
    found = [
        (method, rule)
        for method, rule in routes(app)
        if getattr(app.view_functions[rule.endpoint], "plugin_route", False)
    ]
    assert ("GET", "/plugins/account") in {(m, r.rule) for m, r in found}
    body = {"settings": {"account_id": ADA, "connection_id": 1}, "styles": {}}

    before, kit_before = snapshot(app, kit), kit.state.stats()
    wrong = []
    for method, rule in found:
        path = path_of(rule, 1)
        for token in (None, "never-issued", ben["access_token"]):
            answer = stranger.open(
                path,
                method=method,
                headers=bearer(token) if token else {},
                json=None if method == "GET" else body,
            )
            text = answer.get_data(as_text=True)
            if token != ben["access_token"] and (
                answer.status_code != 401 or "WWW-Authenticate" not in answer.headers
            ):
                wrong.append((method, path, token, answer.status_code))
            if answer.status_code >= 500:
                wrong.append((method, path, "5xx", answer.status_code))
            if leaked := [s for s in secrets if s in text]:
                wrong.append((method, path, "shows", leaked))
            if (snapshot(app, kit), kit.state.stats()) != (before, kit_before):
                wrong.append((method, path, "changed the owner's data or called Kit"))
                before, kit_before = snapshot(app, kit), kit.state.stats()
    assert not wrong, "\n".join(map(str, wrong))
    mine = stranger.get("/plugins/account", headers=bearer(ben["access_token"]))
    assert mine.get_json()["kit_account_id"] == str(BEN)  # the token's own, served

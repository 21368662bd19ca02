"""The install journey: Kit App Store → /kit/oauth → Kit consent → callback → Kit."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape
from sqlalchemy import func, select, update

from app.extensions import db
from app.kit.oauth import token_set_from_response
from app.models import KitConnection, OAuthAttempt
from tests.conftest import PASSWORD, install, sign_up, start_install


def kit_redirect(kit, app_id: int = 4242) -> str:  # type: ignore[no-untyped-def]
    return f"{kit.url}/apps/{app_id}?success=true"


def first_account(kit):  # type: ignore[no-untyped-def]
    """The demo creator the consent page selects by default."""
    return min(kit.state.accounts.values(), key=lambda a: a.id)


def connections(app) -> list[KitConnection]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(select(KitConnection)).all()
        for row in rows:  # load the encrypted columns while the context is open
            _ = (row.access_token, row.refresh_token)
        return list(rows)


# --- the journey -------------------------------------------------------------


def test_new_creator_from_kit_signs_up_connects_and_ends_on_kit(
    app, client, kit, kit_browser
):
    back_to_kit = kit_redirect(kit)

    # Kit's Install button opens our Authorization URL; a stranger must sign up first.
    first = start_install(client, redirect=back_to_kit)
    assert first.status_code == 302
    assert urlsplit(first.location).path == "/signup"
    next_url = parse_qs(urlsplit(first.location).query)["next"][0]
    signup = client.post(
        "/signup",
        data={
            "email": "New@Example.com ",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "next": next_url,
        },
    )
    # ... and is sent on with the same redirect, then to Kit's authorize endpoint.
    assert signup.status_code == 302
    assert signup.location == next_url
    to_kit = client.get(next_url)
    assert to_kit.location.startswith(f"{kit.url}/v4/oauth/authorize?")

    done = client.get(kit_browser.consent(to_kit.location))
    assert done.status_code == 302
    assert done.location == back_to_kit  # the install ends on Kit

    [connection] = connections(app)
    assert connection.account_name == first_account(kit).name
    assert connection.status == "active"
    assert connection.expires_at > datetime.now(UTC) + timedelta(hours=47)
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200
    assert escape(first_account(kit).name) in dashboard.text


def test_returning_creator_goes_straight_to_kit_and_updates_the_same_row(
    app, client, kit, kit_browser
):
    sign_up(client)
    assert install(client, kit_browser, redirect=kit_redirect(kit)).status_code == 302
    [first] = connections(app)

    client.post("/logout")
    login = client.post(
        "/login",
        data={
            "email": "creator@example.com",
            "password": PASSWORD,
            "next": f"/kit/oauth?redirect={kit_redirect(kit)}",
        },
    )
    assert login.status_code == 302
    assert install(
        client, kit_browser, redirect=kit_redirect(kit)
    ).location == kit_redirect(kit)
    [again] = connections(app)
    assert again.id == first.id
    assert again.access_token != first.access_token


def test_connect_from_our_site_ends_on_the_dashboard(
    app, client, kit, kit_browser, user
):
    done = install(client, kit_browser)
    assert done.status_code == 302
    assert urlsplit(done.location).path == "/dashboard"
    follow = client.get("/dashboard")
    assert "Connected" in follow.text
    assert first_account(kit).email in follow.text


def test_authorize_request_carries_state_pkce_and_tenant(client, kit, user):
    to_kit = start_install(client, redirect=kit_redirect(kit), tenant_name="Blog")
    query = parse_qs(urlsplit(to_kit.location).query)
    assert query["client_id"] == [kit.config.client_id]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://localhost/kit/oauth/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32
    assert query["tenant_name"] == ["Blog"]
    # the Kit redirect is kept server-side, not sent to Kit
    assert "redirect" not in query


def test_tenant_name_gives_a_second_connection_to_the_same_account(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser)
    install(client, kit_browser, tenant_name="Podcast site")
    rows = connections(app)
    assert sorted(r.tenant_name for r in rows) == ["", "Podcast site"]
    assert len({r.kit_account_id for r in rows}) == 1


def test_token_exchange_request_follows_kit_platform(client, kit, kit_browser, user):
    install(client, kit_browser)
    [exchange] = [
        r for r in kit.state.token_requests if r["grant_type"] == "authorization_code"
    ]
    params = exchange["params"]
    assert exchange["path"] == "/v4/oauth/token"
    assert params["client_id"] == kit.config.client_id
    assert params["client_secret"] == kit.config.client_secret
    assert params["redirect_uri"] == "http://localhost/kit/oauth/callback"
    assert 43 <= len(params["code_verifier"]) <= 128
    assert params["code"]


def test_public_client_sends_no_secret_and_relies_on_pkce(make_app, kit, kit_browser):
    kit.config.client_secret = None
    public_app = make_app()
    public = public_app.test_client()
    sign_up(public)
    assert install(public, kit_browser).status_code == 302
    [exchange] = [
        r for r in kit.state.token_requests if r["grant_type"] == "authorization_code"
    ]
    assert "client_secret" not in exchange["params"]
    assert exchange["params"]["code_verifier"]
    assert len(connections(public_app)) == 1


def test_tokens_are_not_readable_in_the_database_files_or_a_dump(
    app, client, kit, kit_browser, user, database_url
):
    if not database_url.startswith("sqlite"):
        pytest.skip("reads the SQLite files")
    install(client, kit_browser)
    [connection] = connections(app)
    path = Path(database_url.removeprefix("sqlite:///"))
    # The database file and its write-ahead log, where recent writes live.
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with sqlite3.connect(path) as dump_source:
        dump = "\n".join(dump_source.iterdump()).encode()
    for content in (raw, dump):
        assert connection.account_email.encode() in content  # the data is there...
        assert connection.access_token.encode() not in content  # ...the tokens not
        assert connection.refresh_token.encode() not in content


# --- the callback refuses what it must --------------------------------------


def _callback_from_kit(client, kit_browser, **params):  # type: ignore[no-untyped-def]
    """Where Kit would send us back, as a dict of query parameters."""
    to_kit = start_install(client, **params)
    back = kit_browser.consent(to_kit.location)
    return {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}


def _expire_attempts(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.execute(
            update(OAuthAttempt).values(
                created_at=datetime.now(UTC) - timedelta(hours=1)
            )
        )
        db.session.commit()


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no state", "incomplete"),
        ("wrong state", "not started here"),
        ("replayed state", "already completed"),
        ("expired attempt", "expired"),
        ("missing code", "without an authorization code"),
        ("access denied", "did not allow access"),
        ("other error", "could not connect"),
        ("code already used", "did not accept"),
        ("signed out", "session ended"),
        ("other browser", "another browser"),
    ],
)
def test_callback_failures_store_nothing(
    app, client, kit, kit_browser, user, case, expected
):
    params = _callback_from_kit(client, kit_browser)
    if case == "no state":
        params.pop("state")
    elif case == "wrong state":
        params["state"] = "x" * 43
    elif case == "replayed state":
        assert client.get("/kit/oauth/callback", query_string=params).status_code == 302
        db_before = [(c.id, c.access_token) for c in connections(app)]
    elif case == "expired attempt":
        _expire_attempts(app)
    elif case == "missing code":
        params.pop("code")
    elif case == "access denied":
        params = {"error": "access_denied", "state": params["state"]}
    elif case == "other error":
        params = {"error": "server_error", "state": params["state"]}
    elif case == "code already used":
        # A code Kit already exchanged, arriving with a new attempt's state.
        to_kit = start_install(client)
        replay = dict(
            params, state=parse_qs(urlsplit(to_kit.location).query)["state"][0]
        )
        assert client.get("/kit/oauth/callback", query_string=params).status_code == 302
        db_before = [(c.id, c.access_token) for c in connections(app)]
        params = replay
    elif case == "signed out":
        client.post("/logout")
    elif case == "other browser":
        # Same user, another browser: its session never held this state.
        client = app.test_client()
        client.post("/login", data={"email": user, "password": PASSWORD})

    response = client.get("/kit/oauth/callback", query_string=params)
    assert response.status_code == 400
    assert expected in response.text
    assert "Traceback" not in response.text
    if case in ("replayed state", "code already used"):
        assert [(c.id, c.access_token) for c in connections(app)] == db_before
    else:
        assert connections(app) == []


def test_kit_down_at_exchange_stores_nothing_and_says_so(
    app, client, kit, kit_browser, user
):
    params = _callback_from_kit(client, kit_browser)
    kit.state.add_fault("token", "500")
    response = client.get("/kit/oauth/callback", query_string=params)
    assert response.status_code == 503
    assert "Kit is unavailable" in response.text
    assert connections(app) == []


# --- the redirect parameter ---------------------------------------------------


def hostile_redirects(kit_url: str) -> list[str]:
    host = urlsplit(kit_url).netloc
    return [
        "https://evil.com/apps",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        f"http://{host}.evil.com/apps",
        f"http://{host}@evil.com/apps",
        f"http://user:pw@{host}/apps",
        f"https://{host}/apps",  # scheme change
        f"http://{host.split(':')[0]}:1/apps",  # another port
        f"ftp://{host}/apps",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.domain)",
        "data:text/html,<script>alert(1)</script>",
        f"http://{host}\\@evil.com/",
        f"http://{host}%2f@evil.com/",
        f"http:/{host}/apps",
        f"http:{host}/apps",
        f" http://{host}/apps",
        f"http://{host}/apps\n",
        f"http://evil.com#{host}",
        f"http://evil.com?{host}",
        "/apps",
        "",
        f"http://{host.split(':')[0]}:80/apps",  # default port is not the sandbox's
        f"http:///{host}/apps",
        f"http://evil.com\\.{host}/",
        f"http://{host}\t.evil.com/",
        f"//{host}/apps",  # scheme-relative
        "vbscript:msgbox(1)",
        "http://0x7f.0x0.0x0.0x1/apps",
        "http://[::1]/apps",
        f"http://{host}%00.evil.com/",
        f"https://evil.com/http://{host}/apps",
        "http://" + host.replace("1", "\uff11") + "/apps",  # fullwidth digits
        "x" * 3000,
    ]


def test_every_hostile_redirect_is_refused_before_anything_happens(
    app, client, kit, user
):
    for value in hostile_redirects(kit.url):
        response = start_install(client, redirect=value)
        assert response.status_code == 400, value
        assert "does not come from Kit" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OAuthAttempt)) == 0


def test_hostile_redirect_is_refused_for_signed_out_visitors_too(client, kit):
    response = start_install(client, redirect="https://evil.com/")
    assert response.status_code == 400
    assert "evil.com" not in response.text


def test_kit_redirect_with_any_path_and_query_is_kept(
    app, client, kit, kit_browser, user
):
    target = f"{kit.url}/apps/4242?success=true&k_app_id=k_4242"
    assert install(client, kit_browser, redirect=target).location == target


# --- the token response ---------------------------------------------------------


def test_expiry_is_the_earlier_of_kit_created_at_and_our_clock():
    now = datetime.now(UTC).timestamp()
    body = {"access_token": "a", "refresh_token": "r", "expires_in": 7200}
    late_kit_clock = token_set_from_response({**body, "created_at": now + 600}, now)
    early_kit_clock = token_set_from_response({**body, "created_at": now - 600}, now)
    assert late_kit_clock.expires_at.timestamp() == pytest.approx(now + 7200)
    assert early_kit_clock.expires_at.timestamp() == pytest.approx(now + 6600)


@pytest.mark.parametrize(
    "body",
    [
        {"refresh_token": "r", "expires_in": 7200},
        {"access_token": "a", "expires_in": 7200},
        {"access_token": "a", "refresh_token": "r"},
        {"access_token": "a", "refresh_token": "r", "expires_in": "soon"},
        {"access_token": "a", "refresh_token": "r", "expires_in": 0},
    ],
)
def test_incomplete_token_response_is_a_failure(body):
    from app.kit.errors import KitUnavailable

    with pytest.raises(KitUnavailable):
        token_set_from_response(body, datetime.now(UTC).timestamp())


def test_kit_legacy_endpoints_work_through_configuration(make_app, kit, kit_browser):
    """Kit's own code still uses /oauth/authorize and /oauth/token."""
    legacy = make_app(
        KIT_AUTHORIZE_URL=f"{kit.url}/oauth/authorize",
        KIT_TOKEN_URL=f"{kit.url}/oauth/token",
    )
    client = legacy.test_client()
    sign_up(client)
    to_kit = start_install(client)
    assert to_kit.location.startswith(f"{kit.url}/oauth/authorize?")
    done = client.get(kit_browser.consent(to_kit.location))
    assert urlsplit(done.location).path == "/dashboard"
    assert [r["path"] for r in kit.state.token_requests] == ["/oauth/token"]
    assert len(connections(legacy)) == 1


def test_a_users_stale_attempts_are_dropped_when_a_new_one_starts(
    app, client, kit, user
):
    start_install(client)
    start_install(client)
    with app.app_context():
        db.session.execute(
            update(OAuthAttempt)
            .where(OAuthAttempt.id == 1)
            .values(created_at=datetime.now(UTC) - timedelta(days=2))
        )
        db.session.commit()
    start_install(client)
    with app.app_context():
        kept = db.session.scalars(
            select(OAuthAttempt.id).order_by(OAuthAttempt.id)
        ).all()
    assert kept == [2, 3]

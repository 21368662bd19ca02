"""The app's own accounts: sign up (confirmed by mail), sign in, sign out, and
sessions that end on the server."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.support.accounts import (
    PASSWORD,
    confirm_email,
    csrf_token,
    outbox,
    outbox_link,
    sign_in,
    sign_up,
)
from tests.support.installing import install
from tests.support.rows import stored

NEW_PASSWORD = "a brand new passphrase"


def _copy_of_session(app, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie (a
    captured cookie)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_sign_up_normalizes_the_email_and_hashes_the_password(app, client):
    response = client.post(
        "/signup",
        data={"email": "  Ada@Example.COM ", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/signup/check-inbox"
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert user.email == "ada@example.com"
        assert PASSWORD not in user.password_hash
        assert user.check_password(PASSWORD)
        assert user.email_verified_at is None  # until the link is followed
    page = client.get(response.location)
    assert "Check your inbox" in page.text
    assert "ada@example.com" in page.text
    # Not signed in yet: the dashboard asks to sign in.
    assert client.get("/dashboard").status_code == 302


def test_the_link_in_the_mail_confirms_and_signs_in(app, client):
    client.post(
        "/signup",
        data={"email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    [mail] = outbox(app, "ada@example.com")
    assert mail["subject"].startswith("Confirm your address")
    assert confirm_email(client, "ada@example.com") == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(User)).one().email_verified_at is not None


def test_sign_up_answers_the_same_whether_or_not_the_email_has_an_account(
    app, make_app
):
    sign_up(app.test_client(), "ada@example.com")

    def attempt(email: str) -> tuple[int, str, str]:
        client = app.test_client()
        answer = client.post(
            "/signup",
            data={"email": email, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        page = client.get(answer.location).text.replace(email.lower(), "EMAIL")
        return answer.status_code, answer.location, page

    taken, new = attempt("ADA@example.com"), attempt("bob@example.com")
    assert taken == new
    assert taken[0] == 302

    # The owner is told by mail, with the ways back in; nothing else changed.
    exists = outbox(app, "ada@example.com")[-1]
    assert exists["subject"].startswith("You already have")
    paths = {link.split("/", 3)[3].split("?")[0] for link in exists["links"]}
    assert paths == {"login", "reset-password"}
    assert sign_in(app.test_client(), "ada@example.com").location == "/dashboard"
    assert outbox(app, "bob@example.com")[-1]["subject"].startswith("Confirm")
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"email": "not-an-email", "password": PASSWORD, "confirm": PASSWORD},
            "Enter an email address",
        ),
        (
            {"email": "a@example.com", "password": "short", "confirm": "short"},
            "at least 10 characters",
        ),
        (
            {"email": "a@example.com", "password": PASSWORD, "confirm": PASSWORD + "x"},
            "passwords differ",
        ),
        ({"email": "", "password": "", "confirm": ""}, "This field is required"),
    ],
)
def test_sign_up_errors_are_shown_next_to_the_field(app, client, data, message):
    response = client.post("/signup", data=data)
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert outbox(app, data["email"] or "a@example.com") == []


def test_sign_in_and_out(client):
    sign_up(client)
    out = client.post("/logout")
    # The browser's kept copy of the overview goes with the session.
    assert out.headers["Clear-Site-Data"] == '"cache"'
    assert client.get("/dashboard").status_code == 302
    wrong = client.post(
        "/login", data={"email": "creator@example.com", "password": "nope"}
    )
    assert wrong.status_code == 400
    assert "do not match" in wrong.text
    right = client.post(
        "/login", data={"email": "Creator@Example.com", "password": PASSWORD}
    )
    assert right.status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_an_unconfirmed_account_gets_a_fresh_link_instead_of_the_dashboard(app, client):
    client.post(
        "/signup",
        data={"email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    first = outbox_link(app, "ada@example.com", "/verify-email")

    answer = sign_in(client, "ada@example.com")
    assert answer.status_code == 302
    assert answer.location == "/signup/check-inbox"
    assert client.get("/dashboard").status_code == 302
    assert len(outbox(app, "ada@example.com")) == 2
    # A wrong password sends nothing.
    client.post("/login", data={"email": "ada@example.com", "password": "wrong one"})
    assert len(outbox(app, "ada@example.com")) == 2

    # Either link confirms, once: using one spends the other.
    assert confirm_email(client, "ada@example.com") == "/dashboard"
    client.post("/logout")
    assert client.get(first).status_code == 400


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client):
    sign_up(client)
    client.post("/logout")
    unknown = client.post(
        "/login", data={"email": "nobody@example.com", "password": "nope"}
    )
    wrong = client.post(
        "/login", data={"email": "creator@example.com", "password": "nope"}
    )
    assert unknown.status_code == wrong.status_code == 400
    assert "do not match" in unknown.text and "do not match" in wrong.text


def test_logout_is_post_only(client):
    sign_up(client)
    assert client.get("/logout").status_code == 405
    assert client.get("/dashboard").status_code == 200


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/kit/oauth?redirect=x", "/kit/oauth?redirect=x"),
        ("https://evil.com/", "/dashboard"),
        ("//evil.com/", "/dashboard"),
        ("/\\evil.com", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
    ],
)
def test_next_after_sign_in_stays_on_this_site(client, next_url, lands_on):
    sign_up(client)
    client.post("/logout")
    response = client.post(
        "/login",
        data={"email": "creator@example.com", "password": PASSWORD, "next": next_url},
    )
    assert response.status_code == 302
    assert response.location == lands_on


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/kit/oauth?redirect=x&tenant_name=t", "/kit/oauth?redirect=x&tenant_name=t"),
        ("https://evil.com/", "/dashboard"),
        ("//evil.com/", "/dashboard"),
    ],
)
def test_next_survives_the_mailed_link_and_stays_on_this_site(
    client, next_url, lands_on
):
    assert sign_up(client, next_url=next_url) == lands_on


def test_csrf_is_enforced_when_enabled(make_app):
    """The other tests switch CSRF off for brevity; here it stays on."""
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    refused = client.post(
        "/signup",
        data={"email": "a@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert refused.status_code == 400
    assert "form has expired" in refused.text
    assert outbox(app, "a@example.com") == []

    sign_up(client, "a@example.com", csrf=True)  # the confirmation too
    assert client.get("/dashboard").status_code == 200
    # Logout needs the token too: a cross-site form cannot sign the user out.
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200
    page = client.get("/account")
    changed = client.post(
        "/account",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 400  # no token: nothing changed
    assert "form has expired" in changed.text
    changed = client.post(
        "/account",
        data={
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": csrf_token(page),
        },
    )
    assert changed.status_code == 302


# --- sessions end on the server ------------------------------------------------------


@pytest.fixture
def installed(app, client, kit, kit_browser) -> FlaskClient:
    """A signed-in creator with one Kit connection (id 1)."""
    sign_up(client)
    assert install(client, kit_browser).status_code == 302
    return client


def _locked_out(thief: FlaskClient, app) -> None:
    """The captured cookie opens nothing and disconnects nothing."""
    dashboard = thief.get("/dashboard")
    assert dashboard.status_code == 302
    assert dashboard.location.startswith("/login")
    disconnect = thief.post("/connections/1/disconnect")
    assert disconnect.status_code == 302
    assert disconnect.location.startswith("/login")
    assert stored(app).status == "active"


def test_a_captured_cookie_works_until_sign_out(app, installed):
    thief = _copy_of_session(app, installed)
    assert thief.get("/dashboard").status_code == 200  # the threat is real

    installed.post("/logout")
    _locked_out(thief, app)


def test_sign_out_ends_every_session_of_the_user(app, installed):
    other_device = app.test_client()
    assert sign_in(other_device).location == "/dashboard"
    installed.post("/logout")
    assert other_device.get("/dashboard").status_code == 302


def test_a_password_change_ends_every_other_session(app, installed):
    thief = _copy_of_session(app, installed)
    page = installed.get("/account")
    assert page.status_code == 200
    assert 'href="/account"' in page.text  # linked from the header

    wrong = installed.post(
        "/account",
        data={
            "current": "not it at all",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 400
    assert "not your current password" in wrong.text
    assert thief.get("/dashboard").status_code == 200

    changed = installed.post(
        "/account",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert "every other session" in installed.get(changed.location).text
    assert installed.get("/dashboard").status_code == 200  # this one goes on
    _locked_out(thief, app)
    assert sign_in(app.test_client()).status_code == 400  # the old password
    assert (
        app.test_client()
        .post("/login", data={"email": "creator@example.com", "password": NEW_PASSWORD})
        .location
        == "/dashboard"
    )


def test_a_password_reset_ends_every_session(app, installed):
    thief = _copy_of_session(app, installed)
    owner = app.test_client()
    owner.post("/forgot-password", data={"email": "creator@example.com"})
    link = outbox_link(app, "creator@example.com", "/reset-password")
    token = link.split("token=")[1]
    reset = owner.post(
        "/reset-password",
        data={"token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert reset.status_code == 302
    assert owner.get("/dashboard").status_code == 200
    _locked_out(thief, app)
    assert installed.get("/dashboard").status_code == 302


def test_a_session_from_before_session_tokens_is_refused(app, client):
    """Cookies that carry only the user id (made before the upgrade) end."""
    sign_up(client)
    with client.session_transaction() as session:
        session["_user_id"] = "1"
    assert client.get("/dashboard").status_code == 302

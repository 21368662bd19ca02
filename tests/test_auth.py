"""The app's own accounts: sign up, sign in, sign out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.support import PASSWORD, csrf_token, sign_up


def test_sign_up_normalizes_the_email_and_hashes_the_password(app, client):
    response = client.post(
        "/signup",
        data={"email": "  Ada@Example.COM ", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert user.email == "ada@example.com"
        assert PASSWORD not in user.password_hash
        assert user.check_password(PASSWORD)


def test_the_same_email_in_another_case_cannot_sign_up_twice(client):
    sign_up(client, "ada@example.com")
    client.post("/logout")
    response = client.post(
        "/signup",
        data={"email": "ADA@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 400
    assert "exists already" in response.text


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
def test_sign_up_errors_are_shown_next_to_the_field(client, data, message):
    response = client.post("/signup", data=data)
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-invalid="true"' in response.text


def test_sign_in_and_out(client):
    sign_up(client)
    client.post("/logout")
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

    accepted = client.post(
        "/signup",
        data={
            "email": "a@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token(client.get("/signup")),
        },
    )
    assert accepted.status_code == 302
    # Logout needs the token too: a cross-site form cannot sign the user out.
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200

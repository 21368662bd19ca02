"""Accounts a creator can recover: the password reset by mail, the links in
account mail (single use, expiring, unforgeable), and no secret in the logs.
Mail that cannot go and the rate limits on mail: test_account_mail_delivery.py."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import flask_migrate
import pytest
from sqlalchemy import select, text

from app.auth import links
from app.extensions import db
from app.models import User
from tests.support.accounts import (
    PASSWORD,
    create_user,
    outbox,
    outbox_link,
    sign_in,
    sign_up,
)

NEW_PASSWORD = "a brand new passphrase"


def _ask_for_reset(client, email: str = "creator@example.com"):  # type: ignore[no-untyped-def]
    return client.post("/forgot-password", data={"email": email})


def _reset(client, link: str, password: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/reset-password",
        data={
            "token": link.split("token=")[1],
            "password": password,
            "confirm": password,
        },
    )


def _move_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    monkeypatch.setattr(links, "clock", lambda: time.time() + seconds)


# --- forgot password -----------------------------------------------------------------


def test_sign_in_offers_a_way_back_in(client):
    page = client.get("/login")
    assert 'href="/forgot-password"' in page.text
    assert client.get("/forgot-password").status_code == 200


def test_forgot_password_answers_the_same_and_mails_only_an_owner(app):
    create_user(app)
    answers = []
    for email in ("Creator@Example.com", "nobody@example.com"):
        client = app.test_client()
        answer = _ask_for_reset(client, email)
        page = client.get(answer.location).text.replace(email.lower(), "EMAIL")
        answers.append((answer.status_code, answer.location, page))
    assert answers[0] == answers[1]
    assert "If an account exists for" in answers[0][2]

    [mail] = outbox(app, "creator@example.com")
    assert mail["subject"].startswith("Reset your")
    assert outbox(app, "nobody@example.com") == []


def test_the_reset_link_sets_a_new_password_and_signs_in(app, client):
    create_user(app)
    _ask_for_reset(client)
    link = outbox_link(app, "creator@example.com", "/reset-password")

    form = client.get(link)
    assert form.status_code == 200
    assert "Choose a new password" in form.text
    short = _reset(client, link, "short")
    assert short.status_code == 400
    assert "at least 10 characters" in short.text

    done = _reset(client, link)
    assert done.status_code == 302
    assert done.location == "/dashboard"
    assert "every other session" in client.get(done.location).text
    assert sign_in(app.test_client()).status_code == 400  # the old password
    assert (
        app.test_client()
        .post("/login", data={"email": "creator@example.com", "password": NEW_PASSWORD})
        .location
        == "/dashboard"
    )


def test_a_reset_link_works_once(app, client):
    create_user(app)
    _ask_for_reset(client)
    link = outbox_link(app, "creator@example.com", "/reset-password")
    assert _reset(client, link).status_code == 302

    for again in (app.test_client().get(link), _reset(app.test_client(), link)):
        assert again.status_code == 400
        assert "does not work any more" in again.text
        assert 'href="/forgot-password"' in again.text  # the way on
    assert (
        app.test_client()
        .post("/login", data={"email": "creator@example.com", "password": NEW_PASSWORD})
        .status_code
        == 302
    )


def test_a_reset_link_expires_after_an_hour(app, client, monkeypatch):
    create_user(app)
    _ask_for_reset(client)
    link = outbox_link(app, "creator@example.com", "/reset-password")

    _move_clock(monkeypatch, 59 * 60)
    assert client.get(link).status_code == 200
    _move_clock(monkeypatch, 61 * 60)
    expired = client.get(link)
    assert expired.status_code == 400
    assert "This link has expired" in expired.text
    assert "Ask for a new link" in expired.text
    assert _reset(client, link).status_code == 400
    assert sign_in(app.test_client()).status_code == 302  # password unchanged


def _tampered(token: str) -> str:
    payload, rest = token.split(".", 1)
    return payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest


@pytest.mark.parametrize(
    "make_link",
    [
        lambda good, verify: "/reset-password",
        lambda good, verify: "/reset-password?token=",
        lambda good, verify: "/reset-password?token=nonsense",
        lambda good, verify: "/reset-password?token=" + _tampered(good),
        lambda good, verify: "/reset-password?token=" + good[:-3],
        # A confirmation link's token is no reset token (another salt).
        lambda good, verify: "/reset-password?token=" + verify,
        lambda good, verify: "/reset-password?token=" + "x" * 5000,
    ],
    ids=["none", "empty", "garbage", "tampered", "cut", "other-purpose", "huge"],
)
def test_a_forged_reset_link_is_refused(app, client, make_link):
    client.post(
        "/signup",
        data={"email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    verify = outbox_link(app, "ada@example.com", "/verify-email").split("token=")[1]
    _ask_for_reset(client, "ada@example.com")
    good = outbox_link(app, "ada@example.com", "/reset-password").split("token=")[1]

    link = make_link(good, verify)
    opened = client.get(link)
    assert opened.status_code == 400
    assert "Ask for a new link" in opened.text
    token = link.partition("token=")[2]
    sent = _reset(client, f"?token={token}")
    assert sent.status_code == 400


def test_a_reset_confirms_an_unconfirmed_address(app, client):
    """Following the link proves the address: the account can sign in."""
    create_user(app, verified=False)
    _ask_for_reset(client)
    assert _reset(client, outbox_link(app, "creator@example.com", "/reset-password"))
    assert client.get("/dashboard").status_code == 200


# --- the confirmation link -----------------------------------------------------------


def test_a_confirmation_link_expires_and_is_single_use(app, client, monkeypatch):
    client.post(
        "/signup",
        data={"email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    link = outbox_link(app, "ada@example.com", "/verify-email")
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm and continue" in page.text
    # Opening the page (as a mail scanner would) confirms nothing.
    assert sign_in(app.test_client(), "ada@example.com").location.endswith("inbox")

    _move_clock(monkeypatch, 25 * 3600)
    expired = client.get(link)
    assert expired.status_code == 400
    assert "expired" in expired.text
    assert "Sign in" in expired.text
    monkeypatch.undo()

    token = link.split("token=")[1]
    assert client.post("/verify-email", data={"token": token}).status_code == 302
    client.post("/logout")
    used = client.post("/verify-email", data={"token": token})
    assert used.status_code == 400
    assert client.get("/dashboard").status_code == 302
    forged = client.get("/verify-email?token=" + _tampered(token))
    assert forged.status_code == 400


# --- no secrets in the logs ----------------------------------------------------------


def test_no_password_token_or_link_is_logged(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    sign_up(client)
    client.post("/logout")
    _ask_for_reset(client)
    reset = outbox_link(app, "creator@example.com", "/reset-password")
    _reset(client, reset)
    client.post(
        "/account",
        data={"current": NEW_PASSWORD, "password": PASSWORD, "confirm": PASSWORD},
    )
    client.post("/logout")
    client.post(
        "/signup",
        data={
            "email": "creator@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )

    with app.app_context():
        user = db.session.scalars(select(User)).one()
        secrets = [PASSWORD, NEW_PASSWORD, user.session_token, user.password_hash]
    tokens = [
        link.split("token=")[1]
        for mail in outbox(app, "creator@example.com")
        for link in mail["links"]
        if "token=" in link
    ]
    assert len(tokens) == 3  # confirm, reset, and the reset in "already have one"
    assert "Sent the reset_password mail" in caplog.text  # there are logs
    for secret in secrets + tokens:
        assert secret not in caplog.text


# --- the upgrade ---------------------------------------------------------------------


def test_accounts_made_before_the_upgrade_can_still_sign_in(app):
    """Migration 0006 marks existing addresses confirmed and gives each
    account its own session token."""
    with app.app_context():
        flask_migrate.downgrade(revision="0005")
        with db.engine.begin() as connection:
            for email in ("old@example.com", "older@example.com"):
                connection.execute(
                    text(
                        "INSERT INTO users (email, password_hash, created_at) "
                        "VALUES (:email, :hash, :now)"
                    ),
                    {
                        "email": email,
                        "hash": _hash(),
                        "now": datetime.now(UTC).replace(tzinfo=None),
                    },
                )
        flask_migrate.upgrade()
        users = db.session.scalars(select(User)).all()
        assert all(u.email_verified_at is not None for u in users)
        assert len({u.session_token for u in users}) == 2
    assert sign_in(app.test_client(), "old@example.com").location == "/dashboard"


def _hash() -> str:
    user = User(email="")
    user.set_password(PASSWORD)
    return user.password_hash


# --- someone signed up with your address first ----------------------------------


def test_a_link_opened_in_another_browser_asks_for_the_password(app, client):
    """The squatter signs up with the owner's address; the owner, who never
    signed up, opens the link they did not ask for: without the squatter's
    password it confirms nothing."""
    squatter, owner = client, app.test_client()
    squatter.post(
        "/signup",
        data={"email": "owner@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    link = outbox_link(app, "owner@example.com", "/verify-email")
    page = owner.get(link)
    assert page.status_code == 200
    assert 'name="password"' in page.text
    token = parse_qs(urlsplit(link).query)["token"][0]
    refused = owner.post("/verify-email", data={"token": token, "password": "guess"})
    assert refused.status_code == 400
    assert "not the password chosen at sign-up" in refused.text
    assert owner.get("/dashboard").status_code == 302  # not signed in
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        assert user.email_verified_at is None
    # The browser that signed up confirms with one click, no password asked.
    assert 'name="password"' not in squatter.get(link).text


# Signing up again with an address that is waiting for its confirmation: see
# tests/test_account_takeover.py.

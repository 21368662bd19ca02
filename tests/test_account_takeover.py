"""Account pre-hijacking (Sudhodanan & Paverd, USENIX Security 2022): someone
signs up with another person's address before or after them. Whatever the
order, the address's owner ends up with the account, and the other person's
password opens nothing: a sign-up never changes a pending account's password,
and a confirmation proves that whoever confirms chose the stored password."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import User
from tests.support.accounts import PASSWORD, confirm_email, outbox, outbox_link

VICTIM = "victim@example.com"
ATTACKER_PASSWORD = "the attacker's own password"
NEW_PASSWORD = "a brand new passphrase"


def _sign_up(client: FlaskClient, password: str, email: str = VICTIM):  # type: ignore[no-untyped-def]
    answer = client.post(
        "/signup", data={"email": email, "password": password, "confirm": password}
    )
    assert answer.status_code == 302, answer.text
    assert answer.location == "/signup/check-inbox"
    return answer


def _sign_in(client: FlaskClient, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"email": VICTIM, "password": password})


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def _stored(app) -> User:  # type: ignore[no-untyped-def]
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        db.session.expunge(user)
        return user


def test_a_second_sign_up_keeps_the_pending_password_and_mails_the_owner(app):
    victim, attacker = app.test_client(), app.test_client()
    _sign_up(victim, PASSWORD)
    first_link = outbox_link(app, VICTIM, "/verify-email")
    before = _stored(app)

    _sign_up(attacker, ATTACKER_PASSWORD)  # the same page as any sign-up
    after = _stored(app)
    assert after.password_hash == before.password_hash
    assert after.session_token == before.session_token
    assert after.email_verified_at is None

    # The owner is told, with a way to confirm and a way to choose a password.
    mail = outbox(app, VICTIM)[-1]
    paths = {urlsplit(link).path for link in mail["links"]}
    assert paths == {"/verify-email", "/reset-password"}
    assert "nothing was changed" in mail["text"]

    # The attacker's browser holds no proof of the stored password: even with
    # the link in hand, confirming asks for it, and theirs is refused.
    link = outbox_link(app, VICTIM, "/verify-email")
    assert 'name="password"' in attacker.get(link).text
    refused = attacker.post(
        "/verify-email", data={"token": _token(link), "password": ATTACKER_PASSWORD}
    )
    assert refused.status_code == 400
    assert _stored(app).email_verified_at is None

    # The victim's first link still works, in their browser, with no password.
    assert 'name="password"' not in victim.get(first_link).text
    assert victim.post("/verify-email", data={"token": _token(first_link)}).location
    assert victim.get("/dashboard").status_code == 200

    # The attacker's password opens nothing; the victim's does.
    attempt = _sign_in(attacker, ATTACKER_PASSWORD)
    assert attempt.status_code == 400
    assert attacker.get("/dashboard").status_code == 302
    assert _sign_in(app.test_client(), PASSWORD).location == "/dashboard"


def test_the_victim_confirming_the_newest_link_gives_the_attacker_nothing(app):
    """The issue's order: the victim confirms with the link in the second mail,
    in their own browser, and connects; the attacker then tries their password."""
    victim, attacker = app.test_client(), app.test_client()
    _sign_up(victim, PASSWORD)
    _sign_up(attacker, ATTACKER_PASSWORD)

    assert confirm_email(victim, VICTIM) == "/dashboard"
    assert victim.get("/dashboard").status_code == 200

    for client in (attacker, app.test_client()):
        assert _sign_in(client, ATTACKER_PASSWORD).status_code == 400
        assert client.get("/dashboard").status_code == 302


def test_an_attacker_who_signed_up_first_loses_the_account_to_the_owner(app):
    attacker, victim = app.test_client(), app.test_client()
    _sign_up(attacker, ATTACKER_PASSWORD)
    _sign_up(victim, PASSWORD)
    assert _stored(app).check_password(ATTACKER_PASSWORD)  # nothing changed yet

    # The confirmation link alone is not enough for the victim: the stored
    # password is not theirs, so their browser is asked for it and refused.
    link = outbox_link(app, VICTIM, "/verify-email")
    assert 'name="password"' in victim.get(link).text
    refused = victim.post(
        "/verify-email", data={"token": _token(link), "password": PASSWORD}
    )
    assert refused.status_code == 400
    assert "choose a new password" in refused.text  # the way on
    assert 'href="/forgot-password?email=' in refused.text

    # The reset link in the same mail makes the account theirs.
    reset = outbox_link(app, VICTIM, "/reset-password")
    done = victim.post(
        "/reset-password",
        data={
            "token": _token(reset),
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert done.status_code == 302
    assert victim.get("/dashboard").status_code == 200
    assert _stored(app).email_verified_at is not None

    # The attacker's password and browser open nothing, now or with the link.
    assert _sign_in(attacker, ATTACKER_PASSWORD).status_code == 400
    assert attacker.get("/dashboard").status_code == 302
    assert attacker.get(link).status_code == 400
    assert _sign_in(app.test_client(), NEW_PASSWORD).location == "/dashboard"


def test_a_password_change_voids_the_sign_up_marker(app):
    """The marker is bound to the password it was set for: after a reset
    (here before confirming, from the forgot-password page), the browser that
    signed up is asked for the password like any other."""
    signed_up = app.test_client()
    _sign_up(signed_up, PASSWORD)
    with app.app_context():
        user = db.session.scalars(select(User)).one()
        user.set_password(NEW_PASSWORD)  # as a reset would, short of confirming
        db.session.commit()
    link = outbox_link(app, VICTIM, "/verify-email")
    assert 'name="password"' in signed_up.get(link).text
    assert (
        signed_up.post("/verify-email", data={"token": _token(link)}).status_code == 400
    )

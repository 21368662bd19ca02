"""Nobody learns which addresses have an account, and nobody guesses a password
by spreading the attempts over many client addresses (ASVS V2.2.1).

Rate limits are on here (the other tests switch them off); each request comes
from its own client address unless said otherwise, so that only the limits
per address (the mailbox, the account) are in play.
"""

from __future__ import annotations

import itertools

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD, create_user, outbox, outbox_link

OWNER = "owner@example.com"
_addresses = (f"10.{n // 250}.{n % 250}.1" for n in itertools.count(1))


@pytest.fixture
def limited(make_app) -> Flask:  # type: ignore[no-untyped-def]
    return make_app(RATELIMIT_ENABLED=True)


def _from_elsewhere(app: Flask) -> FlaskClient:
    """A browser on a client address no other request of this test used."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = next(_addresses)
    return client


# --- forgot password -----------------------------------------------------------------


def _ask_for_reset(app: Flask, email: str) -> tuple[int, str | None, str]:
    """The answer to "forgot password" for `email`, and the page it leads to,
    with the address itself blanked out."""
    client = _from_elsewhere(app)
    answer = client.post("/forgot-password", data={"email": email})
    page = client.get(answer.location).text if answer.location else answer.text
    return answer.status_code, answer.location, page.replace(email, "EMAIL")


def test_forgot_password_answers_the_same_for_any_address_and_any_mail_cap(limited):
    create_user(limited, OWNER)
    create_user(limited, "spent@example.com")
    for _ in range(3):  # MAIL_PER_ADDRESS_LIMIT: 3 per 15 minutes
        _ask_for_reset(limited, "spent@example.com")
    assert len(outbox(limited, "spent@example.com")) == 3

    answers = [
        _ask_for_reset(limited, email)
        for email in (
            "spent@example.com",  # an account whose mail cap is spent
            OWNER,  # an account, cap not spent
            "nobody@example.com",  # no account
            "spent@example.com",
        )
    ]
    assert answers[0][0] == 302
    assert answers.count(answers[0]) == len(answers)
    # The cap holds silently: no mail beyond it, and none to an unknown address.
    assert len(outbox(limited, "spent@example.com")) == 3
    assert len(outbox(limited, OWNER)) == 1
    assert outbox(limited, "nobody@example.com") == []


# --- guessing one account's password from many addresses -----------------------------


def _sign_in(app: Flask, email: str, password: str):  # type: ignore[no-untyped-def]
    return _from_elsewhere(app).post(
        "/login", data={"email": email, "password": password}
    )


def test_guesses_spread_over_many_addresses_are_stopped_per_account(limited):
    create_user(limited, OWNER)
    create_user(limited, "other@example.com")
    answers = [_sign_in(limited, OWNER, f"guess number {n}") for n in range(30)]

    assert [a.status_code for a in answers[:10]] == [400] * 10
    refused = answers[10:]
    assert {a.status_code for a in refused} == {429}
    for answer in refused:
        assert "That email and password do not match an account." in answer.text
        assert "wait 15 minutes" in answer.text
        assert 'href="/forgot-password?email=' in answer.text
    # During the window even the right password is refused (never checked).
    right = _from_elsewhere(limited)
    assert (
        right.post("/login", data={"email": OWNER, "password": PASSWORD}).status_code
        == 429
    )
    assert right.get("/dashboard").status_code == 302

    # The owner hears of it once, however many attempts follow.
    notices = [m for m in outbox(limited, OWNER) if "sign in" in m["subject"]]
    assert len(notices) == 1
    assert "10 times" in notices[0]["text"]
    assert all(PASSWORD not in m["text"] for m in notices)

    # Another account is untouched, from one of the same client addresses too.
    other = limited.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.5.1"
    answer = other.post(
        "/login", data={"email": "other@example.com", "password": PASSWORD}
    )
    assert answer.location == "/dashboard"


def test_an_unknown_address_is_throttled_the_same_and_nobody_is_mailed(limited):
    create_user(limited, OWNER)
    known = [_sign_in(limited, OWNER, "wrong").status_code for _ in range(12)]
    unknown = [
        _sign_in(limited, "nobody@example.com", "wrong").status_code for _ in range(12)
    ]
    assert known == unknown == [400] * 10 + [429] * 2
    assert outbox(limited, "nobody@example.com") == []


def test_a_reset_lets_the_owner_back_in_during_the_window(limited):
    create_user(limited, OWNER)
    for _ in range(11):
        _sign_in(limited, OWNER, "wrong")
    _ask_for_reset(limited, OWNER)
    link = outbox_link(limited, OWNER, "/reset-password")
    new = "the owner's new passphrase"
    done = _from_elsewhere(limited).post(
        "/reset-password",
        data={"token": link.split("token=")[1], "password": new, "confirm": new},
    )
    assert done.status_code == 302
    assert _sign_in(limited, OWNER, new).location == "/dashboard"

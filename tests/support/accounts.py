"""The app's own accounts: signing up through the form and the confirmation
mail (read from the sandbox's outbox), signing in, or a user stored directly
for the tests that are not about signing up."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import User

PASSWORD = "correct horse battery"


def csrf_token(page) -> str:  # type: ignore[no-untyped-def]
    """The CSRF token in a page's form."""
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def sign_up(
    client: FlaskClient,
    email: str = "creator@example.com",
    csrf: bool = False,
    next_url: str | None = None,
) -> str:
    """Sign up through the form, then follow the link mailed to `email` (read
    from the sandbox's outbox) and confirm: signed in. With `csrf`, as a
    browser does when CSRF is on. Returns where the confirmation leads."""
    data = {"email": email, "password": PASSWORD, "confirm": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    if csrf:
        data["csrf_token"] = csrf_token(client.get("/signup"))
    response = client.post("/signup", data=data)
    assert response.status_code == 302, response.text
    assert response.location == "/signup/check-inbox", response.location
    return confirm_email(client, email, csrf)


def confirm_email(client: FlaskClient, email: str, csrf: bool = False) -> str:
    """Open the newest confirmation link mailed to `email` and press Confirm;
    returns where that leads (signed in)."""
    link = outbox_link(client.application, email, "/verify-email")
    page = client.get(link)
    assert page.status_code == 200, page.text
    data = {"token": parse_qs(urlsplit(link).query)["token"][0]}
    if csrf:
        data["csrf_token"] = csrf_token(page)
    confirmed = client.post("/verify-email", data=data)
    assert confirmed.status_code == 302, confirmed.text
    return confirmed.location


def outbox(app: Flask, to: str) -> list[dict[str, Any]]:
    """The mail the app sent to `to`, oldest first, as the sandbox's outbox
    received it over SMTP (read over HTTP, like a developer's browser)."""
    answer = requests.get(
        f"{app.config['KIT_API_URL']}/_sandbox/outbox.json",
        params={"to": to},
        timeout=5,
    )
    answer.raise_for_status()
    return list(answer.json()["messages"])


def outbox_link(app: Flask, to: str, path: str) -> str:
    """The path and query of the link to `path` in the newest mail to `to`
    that has one (as the test client opens it)."""
    for mail in reversed(outbox(app, to)):
        for link in mail["links"]:
            parts = urlsplit(link)
            if parts.path == path:
                return f"{parts.path}?{parts.query}"
    raise AssertionError(f"no mail to {to} with a link to {path}")


def create_user(
    app: Flask,
    email: str = "creator@example.com",
    password: str = PASSWORD,
    verified: bool = True,
    agreed: bool = True,
) -> int:
    """A user stored directly (for tests that are not about signing up), its
    password hashed cheaply (`password_hash`); `agreed`: to what the app keeps
    (app/creator_data/agreement.py), so an install goes straight on to Kit."""
    now = datetime.now(UTC)
    with app.app_context():
        user = User(
            email=User.normalize_email(email),
            email_verified_at=now if verified else None,
            data_agreed_at=now if agreed else None,
            password_hash=password_hash(password),
        )
        db.session.add(user)
        db.session.commit()
        return user.id


@cache
def password_hash(password: str) -> str:
    """`password` hashed with werkzeug's scrypt as the app hashes it, but at a
    low cost (N=2**10, not werkzeug's 2**15). The cost is written in the hash,
    and signing in checks with it, so a stored user signs in through the real
    form and check in a millisecond instead of ~0.1 s of CPU: slow on purpose
    in production, it was a quarter of the suite's time. Signing up (the tests
    about accounts) still hashes at the app's own cost."""
    return generate_password_hash(password, method="scrypt:1024:8:1")


def sign_in(  # type: ignore[no-untyped-def]
    client: FlaskClient, email: str = "creator@example.com", csrf: bool = False
):
    """Sign in through the form with PASSWORD (with `csrf`, as a browser does
    when CSRF is on); returns the answer."""
    data = {"email": email, "password": PASSWORD}
    if csrf:
        data["csrf_token"] = csrf_token(client.get("/login"))
    return client.post("/login", data=data)


def signed_in(
    client: FlaskClient, email: str = "creator@example.com", csrf: bool = False
) -> None:
    """Someone signed in, for the tests that are not about signing up: a user
    stored directly (`create_user`), then signed in through the form."""
    create_user(client.application, email)
    answer = sign_in(client, email, csrf)
    assert answer.status_code == 302, answer.text

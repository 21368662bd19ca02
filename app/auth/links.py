"""The signed links in account mail: confirm an address, reset a password.

A link carries the user's id and a seal: a short digest of something the use
of the link changes (the session token for a confirmation, the password hash
for a reset), so each link works once. It expires too (itsdangerous' max_age,
read on `clock`, which tests move). The payload is signed, not encrypted:
it never holds a secret, only digests of them.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from flask import current_app, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from app.extensions import db
from app.mail import send_mail
from app.models import User
from app.redirects import safe_next

VERIFY = "verify-email"
RESET = "reset-password"

clock = time.time


class LinkError(Exception):
    """A link that cannot be used: `expired` or not (forged, used, mangled)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


class _Signer(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.secret_key,  # type: ignore[arg-type]
        salt=f"auth.{purpose}",
        signer=_Signer,
    )


def _seal(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _read(purpose: str, token: str | None, max_age: int) -> dict[str, Any]:
    if not token or len(token) > 4096:
        raise LinkError
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError(expired=True) from None
    except BadSignature:
        raise LinkError from None
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        raise LinkError
    return data


def _hours(setting: str) -> int:
    return max(1, int(current_app.config[setting]) // 3600)


# --- confirming an address -----------------------------------------------------------


def verification_token(user: User, next_url: str | None) -> str:
    return _serializer(VERIFY).dumps(
        {
            "user": user.id,
            "seal": _seal(user.session_token),
            "next": safe_next(next_url) or "",
        }
    )


def read_verification(token: str | None) -> tuple[User, str | None]:
    """The unconfirmed user a confirmation link is for, and where to go next.

    Confirming replaces the session token, which breaks the seal: a link used
    once (or one of an address already confirmed) raises LinkError."""
    data = _read(VERIFY, token, current_app.config["EMAIL_VERIFY_SECONDS"])
    user = db.session.get(User, data["user"])
    if user is None or data.get("seal") != _seal(user.session_token):
        raise LinkError
    return user, safe_next(str(data.get("next") or ""))


def send_verification(user: User, next_url: str | None) -> bool:
    link = url_for(
        "auth.verify_email",
        token=verification_token(user, next_url),
        _external=True,
    )
    return send_mail(
        user.email,
        f"Confirm your address for {current_app.config['APP_NAME']}",
        "verify_email",
        link=link,
        hours=_hours("EMAIL_VERIFY_SECONDS"),
    )


def send_account_exists(user: User) -> bool:
    """To the owner of an address someone tried to sign up with again."""
    return send_mail(
        user.email,
        f"You already have a {current_app.config['APP_NAME']} account",
        "account_exists",
        sign_in_link=url_for("auth.login", _external=True),
        reset_link=_reset_link(user),
        hours=_hours("PASSWORD_RESET_SECONDS"),
    )


# --- resetting a password ------------------------------------------------------------


def reset_token(user: User) -> str:
    return _serializer(RESET).dumps(
        {"user": user.id, "seal": _seal(user.password_hash)}
    )


def read_reset(token: str | None) -> User:
    """The user a reset link is for. A new password changes the hash, which
    breaks the seal: a link used once raises LinkError."""
    data = _read(RESET, token, current_app.config["PASSWORD_RESET_SECONDS"])
    user = db.session.get(User, data["user"])
    if user is None or data.get("seal") != _seal(user.password_hash):
        raise LinkError
    return user


def _reset_link(user: User) -> str:
    return url_for("auth.reset_password", token=reset_token(user), _external=True)


def send_reset(user: User) -> bool:
    return send_mail(
        user.email,
        f"Reset your {current_app.config['APP_NAME']} password",
        "reset_password",
        link=_reset_link(user),
        hours=_hours("PASSWORD_RESET_SECONDS"),
    )

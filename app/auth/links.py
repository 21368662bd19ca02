"""The signed links in account mail: confirm an address, reset a password;
and the mail that carries them.

Every link is built on the app's one configured public origin
(`public_base_url`: PUBLIC_BASE_URL, else KIT_REDIRECT_URI's origin), never on
the Host of the request that asked for the mail: anyone can send a request
with `Host: evil.example`, and a reset link on that host hands its token over.

A link carries the user's id and a seal: a short digest of something the use
of the link changes (the session token for a confirmation, the password hash
for a reset), so each link works once. It expires too (itsdangerous' max_age,
read on `clock`, which tests move). The payload is signed, not encrypted:
it never holds a secret, only digests of them.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from app.config import public_base_url
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


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of `endpoint` on the configured public origin, inside
    a request or not (a job sends the mail)."""
    base = public_base_url(current_app.config)
    if base is None:  # production refuses to start without one (app/config/)
        raise RuntimeError("Set PUBLIC_BASE_URL: mail links need the app's origin.")
    origin = urlsplit(base)
    adapter = current_app.url_map.bind(
        origin.netloc,
        script_name=current_app.config["APPLICATION_ROOT"],
        url_scheme=origin.scheme,
    )
    return adapter.build(endpoint, values, force_external=True)


# --- the browser that chose the password ---------------------------------------------


def password_marker(user: User) -> str:
    """Kept in the session of the browser that chose (or just typed) the
    user's password: there, the confirmation link needs no password.

    Bound to the user, the password hash and the session token, so that it
    proves "this browser knows the stored password" and nothing more: a
    password change or a reset voids it. A keyed digest, since the session
    cookie is signed, not encrypted."""
    key = str(current_app.secret_key).encode()
    message = f"signed-up:{user.id}:{user.password_hash}:{user.session_token}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def holds_marker(marker: object, user: User) -> bool:
    return isinstance(marker, str) and hmac.compare_digest(
        marker.encode(), password_marker(user).encode()
    )


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


def _verification_link(user: User, next_url: str | None) -> str:
    return public_url("auth.verify_email", token=verification_token(user, next_url))


def send_verification(user: User, next_url: str | None) -> bool:
    return send_mail(
        user.email,
        f"Confirm your address for {current_app.config['APP_NAME']}",
        "verify_email",
        link=_verification_link(user, next_url),
        hours=_hours("EMAIL_VERIFY_SECONDS"),
    )


def send_signup_again(user: User) -> bool:
    """To the owner of an address someone signed up with again. Nothing was
    changed: an account still waiting for its confirmation keeps the
    password chosen first, and its owner may confirm (with that password) or
    choose a new one with the reset link, which confirms too."""
    if user.email_verified_at is not None:
        return send_account_exists(user)
    return send_mail(
        user.email,
        f"Confirm your {current_app.config['APP_NAME']} account, or choose a password",
        "signup_pending",
        confirm_link=_verification_link(user, None),
        reset_link=_reset_link(user),
        confirm_hours=_hours("EMAIL_VERIFY_SECONDS"),
        hours=_hours("PASSWORD_RESET_SECONDS"),
    )


def send_account_exists(user: User) -> bool:
    """To the owner of an address someone tried to sign up with again."""
    return send_mail(
        user.email,
        f"You already have a {current_app.config['APP_NAME']} account",
        "account_exists",
        sign_in_link=public_url("auth.login"),
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
    return public_url("auth.reset_password", token=reset_token(user))


def send_reset(user: User) -> bool:
    return send_mail(
        user.email,
        f"Reset your {current_app.config['APP_NAME']} password",
        "reset_password",
        link=_reset_link(user),
        hours=_hours("PASSWORD_RESET_SECONDS"),
    )


def send_sign_in_notice(user: User, attempts: int, window: str) -> bool:
    """To the owner of an address whose failed sign-ins were used up."""
    return send_mail(
        user.email,
        f"Someone tried to sign in to your {current_app.config['APP_NAME']} account",
        "sign_in_attempts",
        attempts=attempts,
        window=window,
        reset_link=_reset_link(user),
        hours=_hours("PASSWORD_RESET_SECONDS"),
    )

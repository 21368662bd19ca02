"""The creator's account in this app, as plain functions: no request."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import User, utcnow
from app.security import clear_failed_sign_ins

# Checked against when the email is unknown, so that a wrong email takes as
# long as a wrong password and timing does not tell which accounts exist.
_NO_SUCH_USER = User(email="", password_hash=generate_password_hash("no such user"))


def find_user(email: str) -> User | None:
    return db.session.scalar(
        select(User).where(User.email == User.normalize_email(email))
    )


def register(email: str, password: str) -> tuple[User, bool]:
    """(the new, unconfirmed user, True), or (the user who has this email
    already, False). The password is hashed either way, so that both answers
    take as long; the unique constraint decides between two racing sign-ups.

    An account that exists is never changed here, confirmed or not. Signing
    up again for an address still waiting for its confirmation keeps the
    password chosen first: replacing it would let whoever signs up second
    (with the owner's address and their own password) take over the account
    the owner then confirms (account pre-hijacking). Its owner is mailed a way
    to confirm and a way to choose a new password instead (the reset link,
    which confirms the address and ends every other password)."""
    user = User(email=User.normalize_email(email))
    user.set_password(password)
    existing = find_user(user.email)
    if existing is not None:
        return existing, False
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalars(
            select(User).where(User.email == user.email)
        ).one(), False
    return user, True


# How long a second sign-up with the same address and password counts as the
# first one again (a double tap, a reload of the POST): its mail is on the way.
REPEAT_WINDOW = timedelta(minutes=1)


def is_repeat_sign_up(user: User, password: str) -> bool:
    """The same sign-up again: an account still unconfirmed, made minutes ago,
    with this very password. Whoever sends it chose that password, so the
    confirmation mail already sent serves them; a sign-up with another
    password still mails the owner (`SIGNUP_AGAIN`). The password is checked
    in every case, so that the answer takes as long either way."""
    recent = (
        user.email_verified_at is None and user.created_at > utcnow() - REPEAT_WINDOW
    )
    same = (user if recent else _NO_SUCH_USER).check_password(password)
    return recent and same


def authenticate(email: str, password: str) -> User | None:
    """The user with this email and password, or None, in the same time either way."""
    user = find_user(email)
    password_ok = (user or _NO_SUCH_USER).check_password(password)
    return user if user is not None and password_ok else None


def confirm_email(user: User) -> None:
    """The owner followed the link: the account may sign in from now on."""
    user.email_verified_at = utcnow()
    user.end_sessions()  # and the link dies (it is sealed with the old token)
    db.session.commit()


def change_password(user: User, password: str) -> None:
    """A new password, and every session made with the old one ends.

    Also for a reset: following the link proved the address, so an account
    that was never confirmed is confirmed now."""
    user.set_password(password)
    user.end_sessions()
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    db.session.commit()


def choose_new_password(user: User, password: str) -> None:
    """The reset link was followed: a new password, the address confirmed,
    every session ended, and the address's failed sign-ins forgotten (the
    owner proved the mailbox, so the pause they may be under ends)."""
    change_password(user, password)
    clear_failed_sign_ins(user.email)


def end_sessions(user: User) -> None:
    """Sign out everywhere: every session of this user, on every device."""
    user.end_sessions()
    db.session.commit()

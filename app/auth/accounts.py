"""The creator's account in this app, as plain functions: no request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import User

# Checked against when the email is unknown, so that a wrong email takes as
# long as a wrong password and timing does not tell which accounts exist.
_NO_SUCH_USER = User(email="", password_hash=generate_password_hash("no such user"))


def create_account(email: str, password: str) -> User | None:
    """The new user, or None when an account with this email exists already
    (the unique constraint decides, so two sign-ups racing make one)."""
    user = User(email=User.normalize_email(email))
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user with this email and password, or None, in the same time either way."""
    email = User.normalize_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    password_ok = (user or _NO_SUCH_USER).check_password(password)
    return user if user is not None and password_ok else None

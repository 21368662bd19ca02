"""Who a session belongs to: Flask-Login's settings and user loader.

A session carries "user id:session token" (`User.get_id`); a new session
token (sign-out, password change, reset) ends every session made before it.
"""

from __future__ import annotations

import hmac

from app.extensions import db, login_manager
from app.models import User

login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session, if it is still theirs: `User.get_id()` is
    "id:session token", and a new session token ends the older sessions."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None  # also a session from before session tokens: sign in again
    user = db.session.get(User, int(user_id))
    if user is None or user.email_verified_at is None:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user

"""The creator's agreement to what the app keeps, before Kit's consent.

Kit's best practices forbid keeping subscriber data outside Kit "without
explicit consent mechanisms", and the events Kit delivers carry subscribers'
email addresses. So no install goes on to Kit's consent screen until the
creator has pressed a button under the notice of what is kept
(templates/settings/_before_consent.html), once per account:

- "Create account", then "Confirm" in the same browser: the sign-up page shows
  the notice, and the confirmation proves the address is theirs (a sign-up
  with someone else's address, confirmed by its owner elsewhere, is not their
  agreement: the owner is asked);
- "Sign in" on the way to Kit (the form shows the notice);
- "Allow" on the plugin consent page, which the API install follows;
- otherwise "Before you connect Kit": `/kit/oauth` asks instead of going on,
  and `agree` records it (accounts made before this existed, a confirmation
  in another browser).

The time is kept on the user (`users.data_agreed_at`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField

from app.extensions import db
from app.models import User
from app.redirects import safe_next

INSTALL_PATH = "/kit/oauth"
# In the session of the browser that signed up (its page showed the notice):
# the user id, agreed once that browser confirms the address.
SIGNED_UP_AGREEING = "agreed_at_sign_up"


class AgreeForm(FlaskForm):
    next = HiddenField()
    submit = SubmitField("Continue to Kit")


def has_agreed(user: User) -> bool:
    return user.data_agreed_at is not None


def agree(user: User) -> None:
    """Record the agreement (committed); the first time is the one kept."""
    if user.data_agreed_at is None:
        user.data_agreed_at = datetime.now(UTC)
        db.session.commit()


def agreed_at_sign_up(session: Any, user: User) -> bool:
    """This browser signed up as `user`, under the notice."""
    return bool(session.get(SIGNED_UP_AGREEING) == user.id)


def on_the_way_to_kit(target: str | None) -> str | None:
    """`target` when it is this app's Authorization URL (where the notice is
    shown on the way), else None."""
    path = safe_next(target)
    if path is None:
        return None
    if path == INSTALL_PATH or path.startswith(INSTALL_PATH + "?"):
        return path
    return None

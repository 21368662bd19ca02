"""The creator's agreement to what the app keeps, before Kit's consent.

Kit's best practices forbid keeping subscriber data outside Kit "without
explicit consent mechanisms", and the events Kit delivers carry subscribers'
email addresses. So no install goes on to Kit's consent screen until the
creator has continued from a page that shows the notice
(templates/settings/_before_consent.html) with a button that says so:

- signing in on the way to Kit (the sign-in form shows the notice);
- the plugin consent page, whose Allow leads straight to the API install;
- otherwise "Before you connect" (`/kit/oauth` asks once, `agree` records it).

Signing up does not count: the account is not yet proven to be theirs (a
sign-up with someone else's address is answered by mail to its owner), so the
owner is asked once signed in. The time is kept on the user
(`users.data_agreed_at`) and shown on the settings page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField

from app.extensions import db
from app.models import User
from app.redirects import safe_next

INSTALL_PATH = "/kit/oauth"


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


def on_the_way_to_kit(target: str | None) -> str | None:
    """`target` when it is this app's Authorization URL (where the notice is
    shown on the way), else None."""
    path = safe_next(target)
    if path is None:
        return None
    if path == INSTALL_PATH or path.startswith(INSTALL_PATH + "?"):
        return path
    return None

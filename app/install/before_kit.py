""" "Before you connect Kit": the Authorization URL asks a creator who has not
agreed to what the app keeps (app/creator_data/agreement.py) once, and
"Continue to Kit" records it and goes on with the same install."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app.creator_data.agreement import AgreeForm, agree, on_the_way_to_kit
from app.errors import problem
from app.extensions import limiter
from app.install import bp
from app.install.install_link import keeping_clicked_from
from app.security import OAUTH_LIMIT


def ask_first() -> str:
    """The page, its form carrying this request's Authorization URL (with the
    page clicked on, for an install that goes through Kit's install link)."""
    here = request.full_path
    if "redirect" not in request.args and current_app.config["KIT_APP_ID"]:
        here = keeping_clicked_from(here)
    return render_template("install/before_kit.html", form=AgreeForm(next=here))


@bp.post("/kit/oauth/agree")
@limiter.limit(OAUTH_LIMIT)
@login_required
def agree_and_continue() -> Response | tuple[Any, int]:
    """ "Continue to Kit" on the notice of what the app keeps: recorded, then
    the install goes on where it was (the Authorization URL it came from)."""
    form = AgreeForm()
    if not form.validate_on_submit():
        return problem(
            400,
            "This page has expired",
            "Nothing was recorded. Start connecting again: the app asks once more.",
            [("Connect a Kit account", url_for("install.start"))],
        )
    agree(current_user)
    return redirect(on_the_way_to_kit(form.next.data) or url_for("install.start"))

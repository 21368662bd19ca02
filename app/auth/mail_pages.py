"""The pages the account mail links to: confirming an address, asking for a
reset link, choosing a new password. A bad or spent link is a 400 that says
how to get a new one.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.accounts import choose_new_password, confirm_email
from app.auth.forms import ConfirmEmailForm, ForgotPasswordForm, ResetPasswordForm
from app.auth.links import LinkError, holds_marker, read_reset, read_verification
from app.auth.tasks import RESET, queue_account_mail
from app.auth.views import (
    SIGNED_UP,
    after_sign_in,
    form_page,
    sign_in_anew,
    to_check_inbox,
)
from app.creator_data.agreement import agree, agreed_at_sign_up
from app.errors import problem
from app.extensions import limiter
from app.models import User
from app.security import MAIL_LIMIT


def _bad_link(error: LinkError, again: str) -> tuple[Any, int]:
    """A 400 page that says what to do: ask for a new link."""
    if error.expired:
        title = "This link has expired"
    else:
        title = "This link does not work any more"
    message = (
        "Links we send by mail work once, for a limited time, and only exactly "
        f"as sent. {again}"
    )
    return problem(
        400,
        title,
        message,
        [
            ("Ask for a new link", url_for("auth.forgot_password")),
            ("Sign in", url_for("auth.login")),
        ],
    )


VERIFY_AGAIN = (
    "Sign in with your email and password to get a new one; if your address is "
    "confirmed already, that signs you in."
)
RESET_AGAIN = "Ask for a new link below."


@bp.route("/verify-email", methods=["GET", "POST"])
def verify_email() -> str | Response | tuple[Any, int]:
    """The confirmation link: a page with one button, so that mail scanners
    that open links do not spend it; the button confirms and signs in.

    Unless this browser holds the marker of the stored password (it chose or
    typed it: links.password_marker), it also asks for that password:
    otherwise someone could sign up with your address, wait for you to click
    the link you did not ask for, and share the account you then use (a
    pre-registered account). Whoever does not know it resets it instead."""
    form = ConfirmEmailForm(token=request.args.get("token", ""))
    try:
        user, next_url = read_verification(form.token.data)
    except LinkError as error:
        return _bad_link(error, VERIFY_AGAIN)
    ask_password = not holds_marker(session.get(SIGNED_UP), user)
    if form.validate_on_submit():
        if not ask_password or user.check_password(form.password.data or ""):
            # The browser that signed up under the notice of what is kept,
            # now proven to own the address (sign_in_anew clears the session).
            agreed = not ask_password and agreed_at_sign_up(session, user)
            confirm_email(user)
            if agreed:
                agree(user)
            sign_in_anew(user)
            flash("Your address is confirmed. Welcome!", "success")
            return after_sign_in(next_url)
        form.password.errors.append(
            "That is not the password chosen at sign-up. If you do not know it, "
            "or someone else signed up with your address, choose a new password "
            "instead: that confirms the address and makes the account yours."
        )
    page = render_template(
        "auth/verify_email.html", form=form, email=user.email, ask_password=ask_password
    )
    return page, (400 if form.errors else 200)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(MAIL_LIMIT, methods=["POST"])
def forgot_password() -> str | Response | tuple[str, int]:
    """The same answer and the same work for any address: the job looks the
    account up and mails it (app/auth/tasks.py)."""
    form = ForgotPasswordForm(email=request.args.get("email", ""))
    if form.validate_on_submit():
        email = User.normalize_email(form.email.data or "")
        queue_account_mail(RESET, email)
        return to_check_inbox(email, "reset")
    return form_page("auth/forgot_password.html", form)


@bp.route("/reset-password", methods=["GET", "POST"])
def reset_password() -> str | Response | tuple[Any, int]:
    form = ResetPasswordForm(token=request.args.get("token", ""))
    try:
        user = read_reset(form.token.data)
    except LinkError as error:
        return _bad_link(error, RESET_AGAIN)
    if form.validate_on_submit():
        choose_new_password(user, form.password.data or "")
        sign_in_anew(user)
        flash(
            "Your password is changed, and every other session of your account "
            "is signed out.",
            "success",
        )
        return redirect(url_for("dashboard.index"))
    return form_page("auth/reset_password.html", form, email=user.email)

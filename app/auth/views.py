"""Sign up, sign in, sign out, and the account page: the creator's account in
*this* app (the pages the mailed links open are `mail_pages`).

Sign-up and "forgot password" answer the same whether or not the address has
an account; what differs is the mail its owner gets.
"""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.auth import bp, sessions  # noqa: F401  (who a session belongs to)
from app.auth.accounts import (
    authenticate,
    change_password,
    end_sessions,
    is_repeat_sign_up,
    register,
)
from app.auth.forms import (
    ChangePasswordForm,
    LoginForm,
    LogoutForm,
    SignupForm,
)
from app.auth.links import (
    password_marker,
)
from app.auth.tasks import (
    SIGN_IN_NOTICE,
    SIGNUP_AGAIN,
    VERIFY,
    queue_account_mail,
)
from app.creator_data.agreement import SIGNED_UP_AGREEING, agree, on_the_way_to_kit
from app.extensions import limiter
from app.models import User
from app.redirects import safe_next
from app.security import (
    SIGN_IN_FAILURES_WINDOW,
    SIGN_IN_LIMIT,
    SIGN_UP_LIMIT,
    count_failed_sign_in,
    sign_in_blocked,
)


def sign_in_anew(user: User) -> None:
    # A new session at sign-in: nothing set before (by anyone who could plant
    # a cookie) survives into the signed-in session.
    session.clear()
    login_user(user)


def after_sign_in(form_next: str | None) -> Response:
    return redirect(safe_next(form_next) or url_for("dashboard.index"))


def form_page(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """The form again: 400 once it has errors, so scripts see the refusal."""
    return render_template(template, form=form, **context), (
        400 if form.errors else 200
    )


def to_check_inbox(email: str, why: str) -> Response:
    session["inbox"] = {"email": email, "why": why}
    return redirect(url_for("auth.check_inbox"))


# Proof that this browser chose (or typed) the stored password of an
# unconfirmed account (links.password_marker): its confirmation link needs no
# password here, and everywhere else it does.
SIGNED_UP = "signed_up"
NO_MATCH = "That email and password do not match an account."


# --- sign up, sign in, sign out ------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(SIGN_UP_LIMIT, methods=["POST"])
def signup() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return after_sign_in(request.args.get("next"))
    form = SignupForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user, created = register(form.email.data or "", form.password.data or "")
        if created:
            session[SIGNED_UP] = password_marker(user)
            session[SIGNED_UP_AGREEING] = user.id  # the form showed the notice
            queue_account_mail(VERIFY, user.email, form.next.data)
        elif is_repeat_sign_up(user, form.password.data or ""):
            # A double tap on "Create account": the first tap's mail is on its
            # way, and this browser typed the stored password as it did.
            session[SIGNED_UP] = password_marker(user)
            session[SIGNED_UP_AGREEING] = user.id
        else:
            # Nothing changes, and this browser proves nothing: the owner is
            # mailed a way to confirm (with the stored password) or to choose
            # a new one. The same page as for a new account.
            queue_account_mail(SIGNUP_AGAIN, user.email)
        return to_check_inbox(user.email, "signup")
    return form_page("auth/signup.html", form)


@bp.get("/signup/check-inbox")
def check_inbox() -> str | Response:
    sent = session.get("inbox")
    if not isinstance(sent, dict):
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/check_inbox.html", email=sent.get("email"), why=sent.get("why")
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(SIGN_IN_LIMIT, methods=["POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return after_sign_in(request.args.get("next"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        email = form.email.data or ""
        wait = sign_in_blocked(email)
        if wait:
            return _paused(form, wait)
        user = authenticate(email, form.password.data or "")
        if user is None:
            if count_failed_sign_in(email):
                queue_account_mail(SIGN_IN_NOTICE, email)
            form.password.errors.append(NO_MATCH)
        elif user.email_verified_at is None:
            session[SIGNED_UP] = password_marker(user)
            if on_the_way_to_kit(form.next.data):
                session[SIGNED_UP_AGREEING] = user.id  # agreed once confirmed
            queue_account_mail(VERIFY, user.email, form.next.data)
            return to_check_inbox(user.email, "verify")
        else:
            sign_in_anew(user)
            if on_the_way_to_kit(form.next.data):
                agree(user)  # the form showed what the app keeps; Kit is next
            return after_sign_in(form.next.data)
    return form_page("auth/login.html", form, to_kit=on_the_way_to_kit(form.next.data))


def _paused(form: LoginForm, wait: int) -> Response:
    """The address's failed sign-ins are used up: refused without checking
    the password, in the words of a wrong one (an unknown address is paused
    the same way, so this says nothing about which ones have an account)."""
    form.password.errors.append(
        f"{NO_MATCH} After too many attempts with this address, signing in is "
        f"paused: wait {SIGN_IN_FAILURES_WINDOW} or choose a new password."
    )
    to_kit = on_the_way_to_kit(form.next.data)
    page = make_response(
        render_template("auth/login.html", form=form, paused=True, to_kit=to_kit)
    )
    page.status_code = 429
    page.headers["Retry-After"] = str(wait)
    return page


@bp.post("/logout")
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        if current_user.is_authenticated:
            end_sessions(current_user)  # a copy of the cookie dies with this one
        logout_user()
        flash("You are signed out.", "info")
    response = redirect(url_for("dashboard.home"))
    # The overview is kept by the browser (`private, no-cache`, for its 304):
    # signing out drops that copy, so Back cannot show it.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


# --- the signed-in user's account ----------------------------------------------------


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> str | Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if current_user.check_password(form.current.data or ""):
            change_password(current_user, form.password.data or "")
            login_user(current_user)  # this session goes on, with the new token
            flash(
                "Your password is changed, and every other session of your "
                "account is signed out.",
                "success",
            )
            return redirect(url_for("auth.account"))
        form.current.errors.append("That is not your current password.")
    return form_page("auth/account.html", form)

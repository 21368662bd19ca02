"""Sign up, sign in, sign out, and the links sent by mail: the creator's
account in *this* app.

Sign-up and "forgot password" answer the same whether or not the address has
an account; what differs is the mail its owner gets.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.accounts import (
    authenticate,
    change_password,
    confirm_email,
    end_sessions,
    find_user,
    register,
)
from app.auth.forms import (
    ChangePasswordForm,
    ConfirmEmailForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    ResetPasswordForm,
    SignupForm,
)
from app.auth.links import (
    LinkError,
    read_reset,
    read_verification,
    send_account_exists,
    send_reset,
    send_verification,
)
from app.errors import problem
from app.extensions import db, limiter, login_manager
from app.models import User
from app.redirects import safe_next
from app.security import (
    MAIL_LIMIT,
    MAIL_PER_ADDRESS_LIMIT,
    SIGN_IN_LIMIT,
    SIGN_UP_LIMIT,
    mail_recipient,
    may_resend,
    sent_mail,
)

login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"

# One count per recipient across every route that mails.
per_recipient = limiter.shared_limit(
    MAIL_PER_ADDRESS_LIMIT,
    scope="mail-to",
    key_func=mail_recipient,
    methods=["POST"],
    deduct_when=sent_mail,
)


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


def _sign_in(user: User) -> None:
    # A new session at sign-in: nothing set before (by anyone who could plant
    # a cookie) survives into the signed-in session.
    session.clear()
    login_user(user)


def _after_sign_in(form_next: str | None) -> Response:
    return redirect(safe_next(form_next) or url_for("dashboard.index"))


def _form_page(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """The form again: 400 once it has errors, so scripts see the refusal."""
    return render_template(template, form=form, **context), (
        400 if form.errors else 200
    )


def _check_inbox(email: str, why: str) -> Response:
    session["inbox"] = {"email": email, "why": why}
    return redirect(url_for("auth.check_inbox"))


# The account this browser signed up for (or proved the password of): its
# confirmation link needs no password here, and elsewhere it does.
SIGNED_UP = "signed_up"


# --- sign up, sign in, sign out ------------------------------------------------------


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(SIGN_UP_LIMIT, methods=["POST"])
@per_recipient
def signup() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return _after_sign_in(request.args.get("next"))
    form = SignupForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user, created = register(form.email.data or "", form.password.data or "")
        if created:
            session[SIGNED_UP] = user.id
            send_verification(user, form.next.data)
        else:
            send_account_exists(user)
        return _check_inbox(user.email, "signup")
    return _form_page("auth/signup.html", form)


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
        return _after_sign_in(request.args.get("next"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None and user.email_verified_at is None:
            if not may_resend(user.email):
                abort(429)
            session[SIGNED_UP] = user.id
            send_verification(user, form.next.data)
            return _check_inbox(user.email, "verify")
        if user is not None:
            _sign_in(user)
            return _after_sign_in(form.next.data)
        form.password.errors.append("That email and password do not match an account.")
    return _form_page("auth/login.html", form)


@bp.post("/logout")
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        if current_user.is_authenticated:
            end_sessions(current_user)  # a copy of the cookie dies with this one
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("dashboard.home"))


# --- the links in the mail -----------------------------------------------------------


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

    Opened in another browser than the one that signed up, it also asks for
    the password: otherwise someone could sign up with your address, wait for
    you to click the link you did not ask for, and share the account you then
    use (a pre-registered account)."""
    form = ConfirmEmailForm(token=request.args.get("token", ""))
    try:
        user, next_url = read_verification(form.token.data)
    except LinkError as error:
        return _bad_link(error, VERIFY_AGAIN)
    ask_password = session.get(SIGNED_UP) != user.id
    if form.validate_on_submit():
        if not ask_password or user.check_password(form.password.data or ""):
            confirm_email(user)
            _sign_in(user)
            flash("Your address is confirmed. Welcome!", "success")
            return _after_sign_in(next_url)
        form.password.errors.append(
            "That is not the password chosen at sign-up. If you did not sign up, "
            "ignore the mail: the account stays unconfirmed and unusable."
        )
    page = render_template(
        "auth/verify_email.html", form=form, email=user.email, ask_password=ask_password
    )
    return page, (400 if form.errors else 200)


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(MAIL_LIMIT, methods=["POST"])
@per_recipient
def forgot_password() -> str | Response | tuple[str, int]:
    form = ForgotPasswordForm(email=request.args.get("email", ""))
    if form.validate_on_submit():
        user = find_user(form.email.data or "")
        if user is not None:
            send_reset(user)
        return _check_inbox(User.normalize_email(form.email.data or ""), "reset")
    return _form_page("auth/forgot_password.html", form)


@bp.route("/reset-password", methods=["GET", "POST"])
def reset_password() -> str | Response | tuple[Any, int]:
    form = ResetPasswordForm(token=request.args.get("token", ""))
    try:
        user = read_reset(form.token.data)
    except LinkError as error:
        return _bad_link(error, RESET_AGAIN)
    if form.validate_on_submit():
        change_password(user, form.password.data or "")
        _sign_in(user)
        flash(
            "Your password is changed, and every other session of your account "
            "is signed out.",
            "success",
        )
        return redirect(url_for("dashboard.index"))
    return _form_page("auth/reset_password.html", form, email=user.email)


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
    return _form_page("auth/account.html", form)

"""Sign up, sign in, sign out, and the links sent by mail: the creator's
account in *this* app.

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
    choose_new_password,
    confirm_email,
    end_sessions,
    is_repeat_sign_up,
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
    holds_marker,
    password_marker,
    read_reset,
    read_verification,
)
from app.auth.tasks import (
    RESET,
    SIGN_IN_NOTICE,
    SIGNUP_AGAIN,
    VERIFY,
    queue_account_mail,
)
from app.errors import problem
from app.extensions import limiter
from app.models import User
from app.redirects import safe_next
from app.security import (
    MAIL_LIMIT,
    SIGN_IN_FAILURES_WINDOW,
    SIGN_IN_LIMIT,
    SIGN_UP_LIMIT,
    count_failed_sign_in,
    sign_in_blocked,
)


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
        return _after_sign_in(request.args.get("next"))
    form = SignupForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user, created = register(form.email.data or "", form.password.data or "")
        if created:
            session[SIGNED_UP] = password_marker(user)
            queue_account_mail(VERIFY, user.email, form.next.data)
        elif is_repeat_sign_up(user, form.password.data or ""):
            # A double tap on "Create account": the first tap's mail is on its
            # way, and this browser typed the stored password as it did.
            session[SIGNED_UP] = password_marker(user)
        else:
            # Nothing changes, and this browser proves nothing: the owner is
            # mailed a way to confirm (with the stored password) or to choose
            # a new one. The same page as for a new account.
            queue_account_mail(SIGNUP_AGAIN, user.email)
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
            queue_account_mail(VERIFY, user.email, form.next.data)
            return _check_inbox(user.email, "verify")
        else:
            _sign_in(user)
            return _after_sign_in(form.next.data)
    return _form_page("auth/login.html", form)


def _paused(form: LoginForm, wait: int) -> Response:
    """The address's failed sign-ins are used up: refused without checking
    the password, in the words of a wrong one (an unknown address is paused
    the same way, so this says nothing about which ones have an account)."""
    form.password.errors.append(
        f"{NO_MATCH} After too many attempts with this address, signing in is "
        f"paused: wait {SIGN_IN_FAILURES_WINDOW} or choose a new password."
    )
    page = make_response(render_template("auth/login.html", form=form, paused=True))
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
            confirm_email(user)
            _sign_in(user)
            flash("Your address is confirmed. Welcome!", "success")
            return _after_sign_in(next_url)
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
        return _check_inbox(email, "reset")
    return _form_page("auth/forgot_password.html", form)


@bp.route("/reset-password", methods=["GET", "POST"])
def reset_password() -> str | Response | tuple[Any, int]:
    form = ResetPasswordForm(token=request.args.get("token", ""))
    try:
        user = read_reset(form.token.data)
    except LinkError as error:
        return _bad_link(error, RESET_AGAIN)
    if form.validate_on_submit():
        choose_new_password(user, form.password.data or "")
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

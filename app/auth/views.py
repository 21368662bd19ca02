"""Sign up, sign in, sign out: the creator's account in *this* app."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.accounts import authenticate, create_account
from app.auth.forms import LoginForm, LogoutForm, SignupForm
from app.extensions import db, limiter, login_manager
from app.models import User
from app.redirects import safe_next
from app.security import SIGN_IN_LIMIT, SIGN_UP_LIMIT

login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def _sign_in(user: User) -> None:
    # A new session at sign-in: nothing set before (by anyone who could plant
    # a cookie) survives into the signed-in session.
    session.clear()
    login_user(user)


def _after_sign_in(form_next: str | None) -> Response:
    return redirect(safe_next(form_next) or url_for("dashboard.index"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(SIGN_UP_LIMIT, methods=["POST"])
def signup() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return _after_sign_in(request.args.get("next"))
    form = SignupForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = create_account(form.email.data or "", form.password.data or "")
        if user is not None:
            _sign_in(user)
            flash("Your account is ready.", "success")
            return _after_sign_in(form.next.data)
        form.email.errors.append(
            "An account with this email exists already. Sign in instead."
        )
    return _form_page("auth/signup.html", form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(SIGN_IN_LIMIT, methods=["POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return _after_sign_in(request.args.get("next"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            _sign_in(user)
            return _after_sign_in(form.next.data)
        form.password.errors.append("That email and password do not match an account.")
    return _form_page("auth/login.html", form)


def _form_page(template: str, form: FlaskForm) -> tuple[str, int]:
    """The form again: 400 once it has errors, so scripts see the refusal."""
    return render_template(template, form=form), (400 if form.errors else 200)


@bp.post("/logout")
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("dashboard.home"))

"""Kit App Store entry: the Authorization URL and the redirect URI (callback)."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.errors import problem
from app.extensions import limiter
from app.install import bp
from app.install.flow import (
    AttemptRejected,
    begin_attempt,
    consume_attempt,
    save_connection,
)
from app.kit import api, oauth
from app.kit.errors import KitError, OAuthGrantError
from app.kit.settings import KitSettings
from app.redirects import is_kit_url
from app.security import OAUTH_LIMIT

SESSION_STATES = "kit_oauth_states"
MAX_PENDING = 5  # attempts one browser may have open at once (several tabs)


def _settings() -> KitSettings:
    return current_app.extensions["kit_settings"]


def _redirect_uri() -> str:
    return current_app.config["KIT_REDIRECT_URI"] or url_for(
        "install.callback", _external=True
    )


@bp.get("/kit/oauth")
@limiter.limit(OAUTH_LIMIT)
def start() -> Response | tuple[str, int]:
    """The Authorization URL registered at Kit: `?redirect=<kit url>[&tenant_name=]`."""
    return_to = request.args.get("redirect")
    if "redirect" in request.args and not is_kit_url(
        return_to, current_app.config["KIT_APP_URL"]
    ):
        return problem(
            400,
            "This install link does not come from Kit",
            "The link that opened this page asks us to send you somewhere outside "
            "Kit afterwards, so we stopped here. Start the install again from the "
            "app's page in Kit's App Store.",
            [("Open Kit", current_app.config["KIT_APP_URL"])],
        )
    tenant_name = (request.args.get("tenant_name") or "").strip()
    if len(tenant_name) > 255 or not tenant_name.isprintable():
        return problem(
            400,
            "That account label cannot be used",
            "Use a short label (up to 255 printable characters), or leave it empty.",
        )
    if other_host := _canonical_host_redirect():
        return redirect(other_host)
    if not current_user.is_authenticated:
        flash("Create an account, or sign in, to connect your Kit account.", "info")
        return redirect(url_for("auth.signup", next=request.full_path))

    state, verifier = begin_attempt(current_user, return_to, tenant_name)
    session[SESSION_STATES] = [
        *session.get(SESSION_STATES, [])[-(MAX_PENDING - 1) :],
        state,
    ]
    return redirect(
        oauth.authorize_url(
            _settings(),
            redirect_uri=_redirect_uri(),
            state=state,
            code_verifier=verifier,
            tenant_name=tenant_name,
        )
    )


def _canonical_host_redirect() -> str | None:
    """In development, move to the redirect URI's host before starting.

    Cookies are per host: a flow started on localhost:5000 that comes back to
    127.0.0.1:5000 finds no session and fails its state check.
    """
    configured = current_app.config["KIT_REDIRECT_URI"]
    if not configured or current_app.config["APP_ENV"] != "development":
        return None
    target = urlsplit(configured)
    if target.netloc == request.host:
        return None
    return f"{target.scheme}://{target.netloc}{request.full_path}"


def _take_state_from_session(state: str) -> bool:
    """Whether this browser started the attempt; forgets the state either way."""
    pending = session.get(SESSION_STATES, [])
    found = any(hmac.compare_digest(state, candidate) for candidate in pending)
    session[SESSION_STATES] = [s for s in pending if s != state]
    return found


@bp.get("/kit/oauth/callback")
@limiter.limit(OAUTH_LIMIT)
def callback() -> Response | tuple[str, int]:
    """The redirect URI registered at Kit: `?code=...&state=...` or `?error=...`."""
    state = request.args.get("state", "")
    restart = "Start the install again from Kit's App Store, or use Connect Kit here."
    if not state:
        return problem(400, "This link to finish connecting Kit is incomplete", restart)
    if not current_user.is_authenticated:
        return problem(
            400,
            "Your session ended before Kit sent you back",
            "Sign in, then " + restart,
        )
    try:
        attempt = consume_attempt(
            state,
            current_user,
            current_app.config["OAUTH_ATTEMPT_TTL"],
            started_in_this_browser=_take_state_from_session(state),
        )
    except AttemptRejected as exc:
        return problem(400, exc.reason, restart)

    back_to_kit = [("Back to Kit", attempt.return_to)] if attempt.return_to else []
    if error := request.args.get("error"):
        if error == "access_denied":
            title = "You did not allow access to your Kit account"
            message = "Nothing was connected. To connect later, install the app again."
        else:
            title = "Kit could not connect your account"
            message = f"Kit answered “{error[:80]}”. Nothing was connected. " + restart
        return problem(400, title, message, back_to_kit)
    code = request.args.get("code", "")
    if not code:
        return problem(400, "Kit sent you back without an authorization code", restart)

    settings = _settings()
    try:
        tokens = oauth.exchange_code(
            settings,
            code=code,
            code_verifier=attempt.code_verifier,
            redirect_uri=_redirect_uri(),
        )
        account = api.get(settings, tokens.access_token, "account")
        connection = save_connection(current_user, attempt.tenant_name, tokens, account)
    except OAuthGrantError:
        return problem(
            400,
            "Kit did not accept this sign-in",
            "The authorization was already used or has expired. " + restart,
            back_to_kit,
        )
    except KitError as exc:
        current_app.logger.warning("Install failed at Kit: %s", type(exc).__name__)
        return problem(
            503,
            "Kit is unavailable right now",
            "We could not finish connecting your Kit account. Nothing was stored. "
            "Wait a moment, then " + restart[0].lower() + restart[1:],
            back_to_kit,
        )
    flash(f"Connected {connection.label}.", "success")
    return redirect(attempt.return_to or url_for("dashboard.index"))

"""Kit's web origin: the App Store page, the install hop and the consent screen.

The consent form is protected by a CSRF token kept in the sandbox's own session
cookie (``kit_sandbox_session``; see ``factory.py`` for why the name matters).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit, urlunsplit

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from . import oauth
from .config import SandboxConfig
from .state import current_state

bp = Blueprint("web", __name__)

PERMISSION = "Access your Kit account"


@bp.get("/")
def index() -> Response:
    return redirect(url_for("web.app_store", app_id=current_state().config.app_id))


@bp.get("/apps/<int:app_id>")
def app_store(app_id: int) -> Response | tuple[str, int] | str:
    state = current_state()
    config = state.config
    if app_id != config.app_id:
        return _unknown_app(app_id)
    if request.args.get("success") == "true":
        # Kit registers an install only when the flow comes back here.
        with state.lock:
            state.install_completions += 1
        return render_template(
            "sandbox/installed.html",
            config=config,
            dashboard_url=app_dashboard_url(config),
        )
    return render_template(
        "sandbox/app_store.html", config=config, permission=PERMISSION
    )


@bp.get("/apps/<int:app_id>/install")
def install(app_id: int) -> Response | tuple[str, int]:
    """Send the browser to the app's Authorization URL, as Kit's Install does."""
    config = current_state().config
    if app_id != config.app_id:
        return _unknown_app(app_id)
    back_to_kit = url_for(
        "web.app_store", app_id=app_id, success="true", _external=True
    )
    return redirect(
        oauth.with_query(config.authorization_url, {"redirect": back_to_kit})
    )


@bp.route("/v4/oauth/authorize", methods=["GET", "POST"])
@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Response | tuple[str, int] | str:
    state = current_state()
    params = request.args if request.method == "GET" else request.form
    try:
        grant = oauth.validate_authorize(state.config, params)
    except oauth.AuthorizeError as error:
        return _error_page(error.title, error.detail, 400)
    except oauth.AuthorizeRedirect as error:
        return redirect(error.url)

    if request.method == "GET":
        return _consent_page(grant)

    if not _csrf_ok(request.form.get("csrf_token", "")):
        return _error_page(
            "This form has expired",
            "The sandbox couldn't match this form to your browser session (its "
            "cookie may have been cleared, or the page was open for too long). "
            "Go back to your app and start connecting again.",
            400,
        )
    if request.form.get("decision") != "allow":
        return redirect(
            oauth.with_query(
                grant.redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The creator denied access to the app.",
                    "state": grant.state,
                },
            )
        )
    account_id = request.form.get("account_id", type=int)
    if account_id is None or account_id not in state.accounts:
        return _consent_page(grant, error="Choose the account to sign in as."), 400
    code = state.issue_code(
        client_id=grant.client_id,
        redirect_uri=grant.redirect_uri,
        account_id=account_id,
        tenant_name=grant.tenant_name,
        scope=grant.scope,
        code_challenge=grant.code_challenge,
    )
    return redirect(
        oauth.with_query(grant.redirect_uri, {"code": code.code, "state": grant.state})
    )


def app_dashboard_url(config: SandboxConfig) -> str:
    """The app's ``/dashboard``, on the origin of its Authorization URL."""
    parts = urlsplit(config.authorization_url)
    return urlunsplit((parts.scheme, parts.netloc, "/dashboard", "", ""))


def _consent_page(grant: oauth.AuthorizeRequest, error: str | None = None) -> str:
    state = current_state()
    return render_template(
        "sandbox/consent.html",
        config=state.config,
        grant=grant,
        accounts=list(state.accounts.values()),
        permission=PERMISSION,
        redirect_host=urlsplit(grant.redirect_uri).netloc,
        csrf_token=_csrf_token(),
        error=error,
    )


def _csrf_token() -> str:
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    token: str = session["csrf_token"]
    return token


def _csrf_ok(sent: str) -> bool:
    expected = session.get("csrf_token")
    return bool(expected and sent) and hmac.compare_digest(
        sent.encode(), str(expected).encode()
    )


def _unknown_app(app_id: int) -> tuple[str, int]:
    config = current_state().config
    return _error_page(
        "App not found",
        f"This sandbox only has one app, {config.app_name} (id {config.app_id}), "
        f"not {app_id}.",
        404,
    )


def _error_page(title: str, detail: str, status: int) -> tuple[str, int]:
    return render_template("sandbox/error.html", title=title, detail=detail), status
